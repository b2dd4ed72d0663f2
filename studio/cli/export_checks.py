"""What `studio export` does after writing a file: parity on the validation set
(`--no-parity` skips it) and `--quantize int8`; and `studio predict` on an
exported .onnx/.pt2 file, which needs no project: everything is in the file."""
from __future__ import annotations

import sys
from pathlib import Path

from studio.cli.main import RunFailed, UsageError


def add_export_arguments(p) -> None:
    p.add_argument("--input", choices=("float", "uint8"), default="float",
                   help="what the exported network takes: float32 RGB NCHW images in [0,1] (default, "
                        "torchvision's ToTensor) or uint8 0..255; normalization happens inside")
    p.add_argument("--raw-model", action="store_true",
                   help="export the bare network, which takes already normalized inputs (the old behaviour)")
    p.add_argument("--quantize", choices=("int8",),
                   help="ONNX only: also write <name>.int8.onnx and compare size, latency and accuracy")
    p.add_argument("--no-parity", action="store_true",
                   help="skip running the export on the validation set against the in-app model")
    p.add_argument("--data-dir", help="folder holding the dataset, for the parity check")


def input_mode(args) -> str:
    if args.raw_model and args.input != "float":
        raise UsageError("--raw-model takes normalized inputs; it cannot be combined with --input")
    if args.quantize and args.format != "onnx":
        raise UsageError(f"--quantize int8 is for ONNX exports, not {args.format} (this torch has no pt2 "
                         f"quantization without the separate torchao package)")
    return "raw" if args.raw_model else args.input


def run_folder(weights: str) -> Path | None:
    """The run folder holding `weights`, if it is one (it has meta.json)."""
    from studio.train.run_files import META_NAME
    folder = Path(weights).resolve().parent
    return folder if (folder / META_NAME).exists() else None


def after_export(args, project, result) -> None:
    if args.no_parity and not args.quantize:
        return
    from studio.train.export import prepared_model
    from studio.train.parity import check_parity, store, store_parity, validation_data
    if args.data_dir:
        project.data.root = str(Path(args.data_dir).expanduser())
    try:
        dataset = validation_data(project.data)
    except Exception as e:  # noqa: BLE001 - the export itself is fine; say why it was not checked
        if args.quantize:
            raise
        print(f"parity not checked: the validation data could not be loaded ({e}); "
              f"give --data-dir or --no-parity", file=sys.stderr)
        return
    folder = run_folder(args.weights)
    failed = []
    if not args.no_parity:
        parity = check_parity(args.format, result.path, project, prepared_model(project, args.weights),
                              dataset, result.info)
        print(parity.line())
        if folder is not None:
            print(f"parity stored in {store_parity(folder, parity)}")
        if not parity.ok:
            failed.append(f"the {args.format} export does not match the app on the validation set")
    if args.quantize:
        from studio.train.quantize import quantize_onnx
        report = quantize_onnx(result.path, dataset, result.info)
        print(f"int8 model written to {report.int8_file}")
        print(report.table())
        if folder is not None:
            print(f"quantization report stored in {store(folder, report.to_dict(), 'quantize.json')}")
    if failed:
        raise RunFailed("; ".join(failed))


MAX_SIDE = 4096  # the largest image side a dataset can have (DataSettings.image_size)


def is_exported_file(path: str) -> bool:
    return Path(path).suffix.lower() in (".onnx", ".pt2")


def predict_exported(model_path: str, images: list[str], top: int = 3) -> int:
    """Top classes of images with an exported file, reading size, convention and labels from it."""
    import torch

    from studio.train.export_wrap import from_user_images
    from studio.train.exported import open_exported
    run, info = open_exported(model_path)
    if not info.image or len(info.shape) != 3 or info.shape[0] not in (1, 3):
        raise UsageError(f"predict classifies RGB or grey images; {Path(model_path).name} takes "
                         f"{info.kind} inputs of shape {info.shape}")
    if not all(1 <= d <= MAX_SIDE for d in info.shape[1:]):  # metadata is input: no 10⁵-pixel resizes
        raise UsageError(f"{Path(model_path).name} declares {info.shape[1]}×{info.shape[2]} images; "
                         f"predict takes at most {MAX_SIDE}×{MAX_SIDE}")
    x = from_user_images(torch.stack([read_image(p, *info.shape) for p in images]), info)
    scores = torch.as_tensor(run(x)).float()
    if scores.dim() != 2:
        raise UsageError(f"predict prints classes, but {Path(model_path).name} gives outputs of shape "
                         f"{tuple(scores.shape[1:])} per image (not class scores)")
    probs = scores.softmax(1)
    k = min(top, probs.shape[1])
    values, ids = probs.topk(k, dim=1)
    for path, vs, idx in zip(images, values.tolist(), ids.tolist()):
        names = [info.classes[i] if i < len(info.classes) else f"class {i}" for i in idx]
        print(f"{path}: " + ", ".join(f"{n} {v * 100:.1f}%" for n, v in zip(names, vs)))
    return 0


def read_image(path: str, channels: int, height: int, width: int):
    """uint8 C×H×W pixels, resized as training data was (bilinear)."""
    import numpy as np
    import torch
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as im:
            im = im.convert("RGB" if channels == 3 else "L").resize((width, height), Image.BILINEAR)
            arr = np.asarray(im, dtype=np.uint8)
    except FileNotFoundError:
        raise UsageError(f"No image at {path}") from None
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as e:
        raise UsageError(f"{path} is not an image Pillow can read ({e})") from None
    x = torch.from_numpy(arr.copy())
    return x.unsqueeze(0) if x.dim() == 2 else x.permute(2, 0, 1).contiguous()
