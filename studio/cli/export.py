"""`studio export` (weights to a verified file) and `studio predict` (top-3 classes of images).

Both read meta.json beside the weights when there is one (a run folder has it),
so the network gets the Input shape, class names and normalization it was
trained with, even if the project file says otherwise.
"""
from __future__ import annotations

from pathlib import Path

from studio.cli.main import RunFailed, UsageError


def add_commands(sub) -> None:
    from studio.train.formats import FORMATS, TARGET_RULES
    p = sub.add_parser("export", help="export trained weights; each export is reloaded and checked",
                       description="Export trained weights; each export is reloaded and checked. " + TARGET_RULES)
    p.add_argument("project")
    p.add_argument("--weights", required=True, help="weights file (.safetensors or .pt), e.g. runs/x/best.safetensors")
    p.add_argument("--format", required=True, choices=list(FORMATS),
                   help="torchscript is legacy (deprecated in torch 2.14); pt2 is torch.export")
    p.add_argument("-o", "--output", required=True,
                   help="file to write; its suffix must fit --format (added when missing), see above")
    from studio.cli.export_checks import add_export_arguments
    add_export_arguments(p)  # --input, --raw-model, --quantize, --no-parity: see export_checks.py
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("predict", help="classify images with trained weights or an exported .onnx/.pt2; "
                                       "prints the top 3")
    p.add_argument("project", help="project file, or an exported .onnx/.pt2 model (then no --weights)")
    p.add_argument("--weights")
    p.add_argument("images", nargs="+")
    p.set_defaults(func=cmd_predict)


def load_for_weights(project_path: str, weights: str):
    """The project, with its Input set as recorded in meta.json beside the weights; and that meta."""
    from studio.project.file import load
    from studio.train.run_files import read_meta
    project = load(project_path)
    if not Path(weights).exists():
        raise UsageError(f"No weights file at {weights}")
    meta = read_meta(Path(weights)) or {}
    m = project.model
    inputs = m.inputs()
    if isinstance(meta.get("input"), dict) and len(inputs) == 1:
        for key, value in meta["input"].items():
            try:
                if m.params(inputs[0]).get(key) != value:
                    m.set_param(inputs[0], key, value)
            except Exception:  # noqa: BLE001 - a meta.json from elsewhere: keep the project's Input
                break
    return project, meta


def cmd_export(args) -> int:
    from studio.cli.export_checks import after_export, input_mode
    from studio.train.export import export_model
    mode = input_mode(args)
    project, meta = load_for_weights(args.project, args.weights)
    result = export_model(project, args.weights, args.format, args.output, meta=meta or None, input_mode=mode)
    print(result.message)
    for extra in result.extra_paths:
        print(f"also wrote {extra}")
    if not result.verified:
        raise RunFailed(f"the {args.format} export could not be verified")
    after_export(args, project, result)
    return 0


def cmd_predict(args) -> int:
    import torch

    from studio.graph.compile import compile_graph
    from studio.train.weights import load_weights

    from studio.cli.export_checks import is_exported_file, predict_exported
    if is_exported_file(args.project):
        return predict_exported(args.project, args.images)
    if not args.weights:
        raise UsageError("predict needs --weights with a project file (or give an exported .onnx/.pt2 instead)")
    project, meta = load_for_weights(args.project, args.weights)
    m = project.model
    inp = m.inputs()[0]
    params = m.params(inp)
    if params["kind"] != "image":
        raise UsageError("predict classifies images; this network's Input is not an image")
    model = compile_graph(m)
    load_weights(model, args.weights)
    model.eval()
    classes = meta.get("classes") or []
    batch = torch.stack([load_image(p, params, meta) for p in args.images])
    with torch.no_grad():
        probs = model(batch).float().softmax(1)
    k = min(3, probs.shape[1])
    top = probs.topk(k, dim=1)
    for path, values, ids in zip(args.images, top.values.tolist(), top.indices.tolist()):
        names = [classes[i] if i < len(classes) else f"class {i}" for i in ids]
        print(f"{path}: " + ", ".join(f"{n} {v * 100:.1f}%" for n, v in zip(names, values)))
    return 0


def load_image(path: str, params: dict, meta: dict):
    """An image as the network saw its training data: resized, scaled to 0..1, normalized."""
    import numpy as np
    import torch
    from PIL import Image, UnidentifiedImageError

    from studio.data.dataset import DataError
    from studio.data.images import open_image, to_mode
    if not Path(path).exists() and not Path(path).is_symlink():
        raise UsageError(f"No image at {path}")
    try:   # a regular file, bounded; 16-bit images scaled to 8 bits, not clipped to white
        with open_image(path) as im:
            im = to_mode(im, "RGB" if params["channels"] == 3 else "L")
            im = im.resize((params["width"], params["height"]), Image.BILINEAR)
            arr = np.asarray(im, dtype=np.uint8)
    except DataError as e:
        raise UsageError(str(e)) from None
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as e:
        raise UsageError(f"{path} is not an image Pillow can read ({e})") from None
    if params["channels"] not in (1, 3):
        raise UsageError(f"predict reads RGB or grey images; this network wants {params['channels']} channels")
    x = torch.from_numpy(arr.copy()).float().div_(255)
    x = x.unsqueeze(0) if x.dim() == 2 else x.permute(2, 0, 1)
    if meta.get("normalize", True) and meta.get("mean") and meta.get("std"):
        mean = torch.tensor(meta["mean"], dtype=torch.float32).view(-1, 1, 1)
        std = torch.tensor(meta["std"], dtype=torch.float32).view(-1, 1, 1)
        x = (x - mean) / std
    return x
