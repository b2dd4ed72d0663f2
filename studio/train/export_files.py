"""Source text written with an export: the preprocessing block of the generated
Python module, and `predict_onnx.py` beside an ONNX file.

Every value from the run (class names, mean/std, file names) enters the source
as a Python literal through repr(), never as pasted text.
"""
from __future__ import annotations

import ast
import sys
import types
import uuid
from dataclasses import replace
from pathlib import Path

from studio.graph.codegen import check_source

from studio.train.export_wrap import ExportInfo

NET_CLASS = "StudioNetwork"   # the bare network, when the module adds preprocessing on top
MODEL_CLASS = "StudioModel"   # what users instantiate


def python_constants(info: ExportInfo) -> list[str]:
    return [
        "# What the network takes and predicts, recorded from the run that trained it.",
        f"CLASSES = {list(info.classes)!r}",
        f"INPUT = {info.spec()!r}",
        f"MEAN = {tuple(info.mean) if info.mean else None!r}",
        f"STD = {tuple(info.std) if info.std else None!r}",
        f"STUDIO_VERSION = {info.version!r}",
    ]


# Names python_block assigns after the network class; check_source allows only literals there.
TAIL_CONSTANTS = ("CLASSES", "INPUT", "MEAN", "STD", "STUDIO_VERSION")


def trusted_wrappers(info: ExportInfo) -> list[str]:
    """The classes python_block may add, made from an info without any text from a file,
    so a class in a written module is trusted only if it is exactly one of these."""
    plain = replace(info, classes=[], mean=None, std=None, version="")
    return [ast.unparse(n) for n in ast.parse(python_block(plain)).body if isinstance(n, ast.ClassDef)]


def import_export(path, graph_model, info: ExportInfo) -> types.ModuleType:
    """A generated module, imported as its user would, but only after check_source has proven
    from the bytes on disk that it is the generated shape (every text from a file a literal).
    The module stays in sys.modules under its (random) name; the caller removes it."""
    written = Path(path).read_bytes()
    check_source(written.decode("utf-8"), graph_model, NET_CLASS if info.wrapped else MODEL_CLASS,
                 tail_constants=TAIL_CONSTANTS, trusted_classes=trusted_wrappers(info))
    code = compile(written, str(path), "exec", dont_inherit=True)
    module = types.ModuleType(f"studio_export_{uuid.uuid4().hex}")
    module.__file__ = str(path)
    sys.modules[module.__name__] = module
    try:
        exec(code, module.__dict__)  # noqa: S102 - structure proven by check_source above
    except BaseException:
        sys.modules.pop(module.__name__, None)
        raise
    return module


def python_block(info: ExportInfo) -> str:
    """Appended to the generated module: constants, and for images a StudioModel
    subclass that normalizes inside forward (same state_dict as the bare network)."""
    lines = ["", ""] + python_constants(info)
    if info.wrapped:
        to_unit = 255.0 if info.input == "uint8" else 1.0
        what = ("uint8 RGB NCHW images in 0..255" if info.input == "uint8"
                else "float32 RGB NCHW images in [0, 1] (torchvision's ToTensor)")
        lines += [
            "",
            "",
            f"class {MODEL_CLASS}({NET_CLASS}):",
            f'    """{NET_CLASS} that takes {what} and applies',
            '    the training normalization itself. Loads the same state_dict."""',
            "",
            "    def __init__(self):",
            "        super().__init__()",
            "        c = INPUT['shape'][1]",
            "        mean = torch.tensor(MEAN if MEAN else (0.0,) * c, dtype=torch.float32)",
            "        std = torch.tensor(STD if STD else (1.0,) * c, dtype=torch.float32)",
            f"        scale = 1.0 / ({to_unit!r} * std)",
            "        self.register_buffer('scale', scale.view(1, -1, 1, 1), persistent=False)",
            "        self.register_buffer('shift', (mean / std).view(1, -1, 1, 1), persistent=False)",
            "",
            "    def forward(self, x):",
            "        return super().forward(x.to(torch.float32) * self.scale - self.shift)",
        ]
    return "\n".join(lines) + "\n"


PREDICT_ONNX = '''"""Classify images with a Studio ONNX export; prints the top 5 with their labels.

Needs only onnxruntime, numpy and Pillow:
    python predict_onnx.py IMAGE [IMAGE ...] [--model MODEL.onnx]
The input size, value range, normalization and class names are read from the
model's own metadata (written by Studio), so nothing here needs editing.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

DEFAULT_MODEL = __MODEL__


def load_image(path, spec, mean, std):
    c, h, w = spec["shape"][1:]
    with Image.open(path) as im:
        im = im.convert("RGB" if c == 3 else "L").resize((w, h), Image.BILINEAR)
        x = np.asarray(im, dtype=np.uint8)
    x = x[None] if x.ndim == 2 else x.transpose(2, 0, 1)
    if spec["mode"] == "uint8":
        return x
    x = x.astype(np.float32) / 255.0
    if spec["mode"] == "raw" and mean:  # a --raw-model export: normalize here
        x = (x - np.float32(mean).reshape(-1, 1, 1)) / np.float32(std).reshape(-1, 1, 1)
    return x.astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description="Top-5 classes of images, with a Studio ONNX export.")
    ap.add_argument("images", nargs="+")
    ap.add_argument("--model", default=str(Path(__file__).with_name(DEFAULT_MODEL)))
    ap.add_argument("-k", type=int, default=5, help="how many classes to print")
    args = ap.parse_args()
    session = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    if "studio.input" not in meta:
        sys.exit(f"{args.model} carries no Studio metadata")
    spec = json.loads(meta["studio.input"])
    if spec["kind"] != "image":
        sys.exit(f"{args.model} does not take images (its input is {spec['kind']})")
    classes = json.loads(meta.get("studio.classes", "[]"))
    mean = json.loads(meta.get("studio.mean", "null"))
    std = json.loads(meta.get("studio.std", "null"))
    batch = np.stack([load_image(p, spec, mean, std) for p in args.images])
    scores = session.run(None, {session.get_inputs()[0].name: batch})[0].astype(np.float64)
    probs = np.exp(scores - scores.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    for path, p in zip(args.images, probs):
        top = np.argsort(-p)[: args.k]
        names = [classes[i] if i < len(classes) else f"class {i}" for i in top]
        print(f"{path}: " + ", ".join(f"{n} {p[i] * 100:.1f}%" for n, i in zip(names, top)))


if __name__ == "__main__":
    main()
'''


def predict_onnx_source(model_file_name: str) -> str:
    return PREDICT_ONNX.replace("__MODEL__", repr(model_file_name), 1)
