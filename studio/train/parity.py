"""Parity, proven on the validation set: the exported file, opened and fed the
way a user would (its own input convention), against the in-app model fed the
way the trainer validates (the batcher's normalization).

Reports top-1 agreement and the largest output difference, and stores them in
the run folder's `exports/parity.json`, one entry per exported file.
"""
from __future__ import annotations

import copy
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from studio.fileio import read_json
from studio.data.batches import Batcher
from studio.data.dataset import DataError
from studio.data.load import load_dataset
from studio.graph.compile import compile_graph

from studio.train.checkpoint import write_atomic
from studio.train.export_files import MODEL_CLASS, import_export
from studio.train.export_wrap import ExportInfo, from_user_images
from studio.train.exported import open_onnx, open_pt2, open_torchscript
from studio.train.weights import load_weights

FP32_TOLERANCE = 1e-3   # outputs of an fp32 export may differ by float rounding only
BATCH = 256


@dataclass
class Parity:
    file: str
    format: str
    input: str                      # the file's input convention (float | uint8 | raw)
    examples: int
    top1_agreement: float | None    # fraction of validation examples with the same top-1 class
    max_abs_diff: float
    app_accuracy: float | None      # against the labels, in-app model
    export_accuracy: float | None   # against the labels, exported file
    seconds: float
    ok: bool

    def line(self) -> str:
        if self.examples == 0:
            return f"parity not checked ({self.format}): the dataset has no validation examples"
        agree = "" if self.top1_agreement is None else f"top-1 agreement {self.top1_agreement * 100:.2f}%, "
        acc = ("" if self.app_accuracy is None else
               f", accuracy app {self.app_accuracy * 100:.2f}% / export {self.export_accuracy * 100:.2f}%")
        verdict = "parity OK" if self.ok else "PARITY FAILED"
        return (f"{verdict} on {self.examples} validation examples ({self.format}, {self.input} input): "
                f"{agree}max difference {self.max_abs_diff:.2g}{acc}")


class _NoDownload(DataError):
    pass


def validation_data(settings):
    """The dataset for a parity check, from disk only: checking an export never
    starts a download (DataError says what is missing instead)."""
    def refuse_downloads(fraction, message):
        if str(message).startswith("Downloading"):
            raise _NoDownload(f"the {settings.dataset} data is not on disk, and parity checks do not download")
    return load_dataset(settings, refuse_downloads)


def runner_for(fmt: str, path: str, project, info: ExportInfo):
    """The exported file loaded as its user would load it: a function batch -> outputs."""
    if fmt == "onnx":
        return open_onnx(path)[0]
    if fmt == "pt2":
        return open_pt2(path)[0]
    if fmt == "torchscript":
        return open_torchscript(path)[0]
    if fmt == "python":
        module = import_export(path, project.model, info)
        sys.modules.pop(module.__name__, None)
        net = getattr(module, MODEL_CLASS)()
        from safetensors.torch import load_file
        net.load_state_dict(load_file(str(Path(path).with_suffix(".safetensors"))))
        net.eval()
    else:  # weights: the project's network with the file loaded into it
        net = compile_graph(project.model)
        load_weights(net, path)
        net.eval()

    def run(x):
        with torch.no_grad():
            return net(x)
    return run


def check_parity(fmt: str, path: str, project, model: torch.nn.Module, dataset, info: ExportInfo,
                 runner=None) -> Parity:
    """Compare the exported file at `path` with `model` (the bare in-app network) on
    `dataset`'s validation split. `runner` overrides how the file is run (quantized files)."""
    t0 = time.perf_counter()
    run = runner or runner_for(fmt, path, project, info)
    # A CPU float copy: the caller's model (maybe on a GPU, maybe training) is left alone.
    model = copy.deepcopy(model).to("cpu", memory_format=torch.contiguous_format).float().eval()
    ref = Batcher(dataset.x_val, dataset.y_val, BATCH, mean=dataset.mean, std=dataset.std,
                  normalize=project.data.normalize)
    app_out, exp_out = [], []
    with torch.no_grad():
        for idx, x, _y in ref.batches():
            app_out.append(model(x).float())
            raw = dataset.x_val.index_select(0, idx)
            user = from_user_images(raw, info) if info.image else raw
            exp_out.append(torch.as_tensor(run(user)).float())
    y = dataset.y_val
    if not app_out:  # nothing to compare on: not a failure of the export
        return Parity(str(path), fmt, info.input, 0, None, 0.0, None, None, time.perf_counter() - t0, True)
    a, e = torch.cat(app_out), torch.cat(exp_out)
    if a.shape != e.shape:
        raise ValueError(f"the exported file gives outputs of shape {tuple(e.shape)[1:]}, "
                         f"the app {tuple(a.shape)[1:]}")
    diff = float((a - e).abs().max())
    agree = app_acc = exp_acc = None
    classify = dataset.task == "classification" and a.dim() == 2 and a.shape[1] > 1
    if classify:
        pa, pe = a.argmax(1), e.argmax(1)
        agree = float((pa == pe).float().mean())
        app_acc, exp_acc = float((pa == y).float().mean()), float((pe == y).float().mean())
    scale = max(1.0, float(a.abs().max()))  # regression outputs may be large: relative to them
    ok = diff <= FP32_TOLERANCE * scale and (agree is None or agree == 1.0)
    return Parity(str(path), fmt, info.input, int(a.shape[0]), agree, diff, app_acc, exp_acc,
                  round(time.perf_counter() - t0, 3), ok)


def store(run_folder, entry: dict, name: str = "parity.json") -> Path:
    """Add or replace one file's entry in `<run>/exports/<name>`."""
    path = Path(run_folder) / "exports" / name
    doc = {"format": "studio.export_checks", "version": 1, "files": {}}
    if path.exists():
        try:
            old = read_json(path, 16 << 20)  # a run folder's file: bounded, regular, no deep nesting
            if isinstance(old, dict) and isinstance(old.get("files"), dict):
                doc["files"] = old["files"]
        except (OSError, ValueError):
            pass  # a damaged file is replaced
    doc["files"][str(entry.get("file", "?"))] = entry
    write_atomic(path, json.dumps(doc, indent=1).encode("utf-8"))
    return path


def store_parity(run_folder, parity: Parity) -> Path:
    return store(run_folder, asdict(parity))
