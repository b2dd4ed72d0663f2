"""Parity and int8 tables for the seed CNN (samples/cifar10_cnn), offline.

CIFAR-10 cannot be downloaded here, so this writes a folder in the real
`cifar-10-batches-py` pickle layout holding Studio's generated 32×32 shapes
images (circle, square, triangle, cross stored as CIFAR labels 0..3), trains
the seed CNN on it through `studio train`, exports it in every format through
`studio export` (each export is checked on the 1,000 validation images), and
quantizes the ONNX export to int8. With --blocks the seed CNN's layers are first
grouped into blocks (two convolution stages nested in a "Features" block, and the
dense head), so every export goes through the block classes and nested modules.

    python bench/export_parity.py [--train 5000] [--test 1000] [--epochs 4] [--out /tmp/seed_cnn] [--blocks]
"""
from __future__ import annotations

import argparse
import json
import pickle
import sys
from pathlib import Path

from studio.cli.main import main as studio
from studio.data.synthetic import shape_images
from studio.graph.blocks import group
from studio.project.file import load, save

CIFAR_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def write_cifar_layout(root: Path, n_train: int, n_test: int) -> Path:
    base = root / "cifar-10-batches-py"
    base.mkdir(parents=True, exist_ok=True)
    x, y = shape_images(n_train + n_test, seed=1)
    flat = x.reshape(len(x), -1)
    per = n_train // 5
    for i in range(5):
        part = slice(i * per, (i + 1) * per)
        (base / f"data_batch_{i + 1}").write_bytes(
            pickle.dumps({b"data": flat[part], b"labels": [int(v) for v in y[part]]}))
    (base / "test_batch").write_bytes(
        pickle.dumps({b"data": flat[n_train:], b"labels": [int(v) for v in y[n_train:]]}))
    (base / "batches.meta").write_bytes(pickle.dumps({b"label_names": [c.encode() for c in CIFAR_NAMES]}))
    return root


def with_blocks(sample: str, out: Path) -> str:
    """The seed CNN with its convolution stages in blocks inside a block, and its head in one."""
    project = load(sample)
    m = project.model
    stages = [group(m, [f"conv2d{i}", f"relu{i}", f"maxpool2d{i}"], "ConvStage").block for i in (1, 2)]
    group(m, stages, "Features")
    group(m, ["linear1", "relu4"], "Head")
    return str(save(project, out / "seed_cnn_blocks.studio.json"))


def run(argv: list[str]) -> None:
    print("$ studio " + " ".join(argv), flush=True)
    code = studio(argv)
    if code != 0:
        sys.exit(f"studio exited with {code}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--train", type=int, default=5000)
    ap.add_argument("--test", type=int, default=1000)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--out", default="/tmp/seed_cnn")
    ap.add_argument("--blocks", action="store_true", help="group the seed CNN's layers into blocks first")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = write_cifar_layout(out / "data", args.train, args.test)
    runs = out / "run"
    sample = "samples/cifar10_cnn.studio.json"
    run(["train", with_blocks(sample, out) if args.blocks else sample, "--data-dir", str(data), "--epochs", str(args.epochs),
         "--out", str(runs)])
    project, weights = str(runs / "project.studio.json"), str(runs / "best.safetensors")
    for fmt in ("onnx", "pt2", "torchscript", "python", "safetensors"):
        run(["export", project, "--weights", weights, "--format", fmt, "-o", str(out / "exports" / f"seed_cnn.{fmt}"),
             "--data-dir", str(data)])
    run(["export", project, "--weights", weights, "--format", "onnx", "--input", "uint8", "-o",
         str(out / "exports" / "seed_cnn_uint8.onnx"), "--data-dir", str(data)])
    run(["export", project, "--weights", weights, "--format", "onnx", "--quantize", "int8", "--no-parity",
         "-o", str(out / "int8" / "seed_cnn.onnx"), "--data-dir", str(data)])
    doc = json.loads((runs / "exports" / "parity.json").read_text())
    print("\n| file | input | examples | top-1 agreement | max abs diff | app acc | export acc |")
    print("|---|---|---|---|---|---|---|")
    for path, e in doc["files"].items():
        print(f"| {Path(path).name} | {e['input']} | {e['examples']} | {e['top1_agreement'] * 100:.2f}% | "
              f"{e['max_abs_diff']:.2g} | {e['app_accuracy'] * 100:.2f}% | {e['export_accuracy'] * 100:.2f}% |")


if __name__ == "__main__":
    main()
