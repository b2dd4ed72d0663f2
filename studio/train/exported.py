"""Open an exported file the way its user would, and read the Studio metadata in it.

`open_onnx` and `open_pt2` are what `studio predict` uses on a file someone
handed over, so neither may run code from the file: ONNX is a protobuf; a .pt2
archive holding pickled custom objects is refused, and its tensors are read
with torch.load forced to weights_only.
"""
from __future__ import annotations

import contextlib
import os
import warnings
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from studio.train.export_wrap import EXTRA_FILE, ExportInfo, ExportSpecError, read_metadata, read_metadata_json

Runner = Callable[[torch.Tensor], torch.Tensor]


class ExportedFileError(Exception):
    exit_code = 2


def open_onnx(path, threads: int = 0) -> tuple[Runner, ExportInfo]:
    try:
        import onnxruntime as ort
    except ImportError:
        raise ExportedFileError("Running ONNX files needs onnxruntime: pip install 'studio[onnx]'") from None
    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    try:
        session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 - onnxruntime raises its own error types
        raise ExportedFileError(f"{Path(path).name} is not an ONNX model onnxruntime can run "
                                f"({str(e).splitlines()[0][:200]})") from None
    info = read_metadata(dict(session.get_modelmeta().custom_metadata_map))
    name = session.get_inputs()[0].name

    def run(x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(np.asarray(session.run(None, {name: x.numpy()})[0]))
    return run, info


@contextlib.contextmanager
def _weights_only_loads():
    """torch.load inside torch.export.load passes weights_only=False for some
    entries; this environment switch makes torch refuse anything but tensors."""
    old = os.environ.get("TORCH_FORCE_WEIGHTS_ONLY_LOAD")
    os.environ["TORCH_FORCE_WEIGHTS_ONLY_LOAD"] = "1"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TORCH_FORCE_WEIGHTS_ONLY_LOAD", None)
        else:
            os.environ["TORCH_FORCE_WEIGHTS_ONLY_LOAD"] = old


def open_pt2(path) -> tuple[Runner, ExportInfo]:
    from torch.export.pt2_archive.constants import CUSTOM_OBJ_FILENAME_PREFIX, OPAQUE_OBJ_FILENAME_PREFIX
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
    except (OSError, zipfile.BadZipFile) as e:
        raise ExportedFileError(f"{Path(path).name} is not a .pt2 archive ({e})") from None
    bad = [n for n in names if Path(n).name.startswith((CUSTOM_OBJ_FILENAME_PREFIX, OPAQUE_OBJ_FILENAME_PREFIX))]
    if bad:
        raise ExportedFileError(f"{Path(path).name} holds pickled Python objects ({bad[0]}); "
                                "Studio only opens .pt2 files made of tensors and a graph")
    extra = {EXTRA_FILE: ""}
    try:
        with _weights_only_loads(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = torch.export.load(str(path), extra_files=extra).module()
    except Exception as e:  # noqa: BLE001 - damaged archive, refused pickle, unknown op...
        raise ExportedFileError(f"{Path(path).name} could not be loaded as a torch.export program "
                                f"({str(e).splitlines()[0][:200]})") from None
    info = read_metadata_json(extra[EXTRA_FILE] or "{}")
    return _torch_runner(module), info


def open_torchscript(path) -> tuple[Runner, ExportInfo]:
    extra = {EXTRA_FILE: ""}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    return _torch_runner(module), read_metadata_json(extra[EXTRA_FILE] or "{}")


def _torch_runner(module) -> Runner:
    def run(x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return module(x)
    return run


OPENERS = {".onnx": open_onnx, ".pt2": open_pt2}


def open_exported(path) -> tuple[Runner, ExportInfo]:
    """An .onnx or .pt2 file written by `studio export`, ready to run, and its metadata."""
    p = Path(path)
    if not p.exists():
        raise ExportedFileError(f"No exported model at {p}")
    opener = OPENERS.get(p.suffix.lower())
    if opener is None:
        raise ExportedFileError(f"{p.name}: expected an exported .onnx or .pt2 file")
    try:
        return opener(p)
    except ExportSpecError as e:
        raise ExportedFileError(f"{p.name}: {e}") from None
