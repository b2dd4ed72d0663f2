"""What a run writes into its folder besides the checkpoint: a copy of the
project, best/last weights, metrics.csv, and meta.json (class names and the
input normalization, so `studio predict` prepares images exactly as training did)."""
from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import asdict
from pathlib import Path

import torch

from studio.fileio import FileFormatError, clean_orphans, read_json
from studio.project.file import dumps

from studio.train.checkpoint import save_weights, write_atomic
from studio.train.events import EpochEvent

META_NAME = "meta.json"
PROJECT_NAME = "project.studio.json"
META_MAX_BYTES = 4 << 20
MAX_CLASSES = 100_000


class RunFolderError(Exception):
    """--out names something that is not a run folder Studio may write into."""
    exit_code = 2


def check_run_folder(folder: Path) -> None:
    """A run writes only into a new or empty folder, or into a Studio run folder (meta.json
    of format studio.run): never over a user's own files that happen to share a name."""
    folder = Path(folder)
    if not folder.exists() and not folder.is_symlink():
        return
    if not folder.is_dir():
        raise RunFolderError(f"{folder} is not a folder: give --out a new or empty folder")
    clean_orphans(folder)
    try:
        names = [n for n in os.listdir(folder)]
    except OSError as e:
        raise RunFolderError(f"{folder}: cannot list the folder ({e.strerror or e})") from None
    if not names:
        return
    try:
        doc = read_json(folder / META_NAME, META_MAX_BYTES)
    except FileFormatError:
        doc = None
    if not (doc and doc.get("format") == "studio.run"):
        raise RunFolderError(f"{folder} holds other files and is not a Studio run folder; Studio will not "
                             f"write over them: give --out a new or empty folder")


def meta_for(project, dataset) -> dict:
    return {
        "format": "studio.run", "version": 1, "project": project.name, "dataset": dataset.name,
        "kind": dataset.kind, "task": dataset.task, "classes": list(dataset.classes),
        "input": dataset.input_params(),
        "normalize": bool(project.data.normalize),
        "mean": list(dataset.mean) if dataset.mean else None,
        "std": list(dataset.std) if dataset.std else None,
    }


def write_start(folder: Path, project, dataset) -> dict[str, str]:
    """Project copy (with the Input already matched to the data) and meta.json."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    clean_orphans(folder)  # temp files of a run that was killed mid-write
    write_atomic(folder / PROJECT_NAME, dumps(project).encode("utf-8"))
    write_atomic(folder / META_NAME, json.dumps(meta_for(project, dataset), indent=2).encode("utf-8"))
    return {"project": str(folder / PROJECT_NAME), "meta": str(folder / META_NAME)}


def write_weights(folder: Path, name: str, state: dict[str, torch.Tensor]) -> str:
    path = Path(folder) / f"{name}.safetensors"
    save_weights(path, state, {"format": "studio.weights"})
    return str(path)


COLUMNS = ("epoch", "train_loss", "train_metric", "val_loss", "val_metric", "metric_name", "lr",
           "seconds", "is_best", "kl")  # kl: a VAE's KL term on the validation set, else empty


def write_metrics(folder: Path, history: list[EpochEvent]) -> str:
    """One row per epoch; rewritten whole each epoch (small) so it is never half a row."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for e in history:
        row = asdict(e)
        row.update(row.pop("terms", None) or {})
        w.writerow({k: ("" if v is None else v) for k, v in row.items()})
    path = Path(folder) / "metrics.csv"
    write_atomic(path, buf.getvalue().encode("utf-8"))
    return str(path)


def read_meta(weights_path: Path) -> dict | None:
    """meta.json beside a weights file: None if there is none; FileFormatError if it is damaged
    (too big, not JSON, NaN/1e999, deep nesting, fields of the wrong type, a zero std)."""
    path = Path(weights_path).parent / META_NAME
    if not path.exists() and not path.is_symlink():
        return None
    doc = read_json(path, META_MAX_BYTES)
    return check_meta(doc, path)


def check_meta(doc: dict, where) -> dict:
    def need(ok: bool, what: str) -> None:
        if not ok:
            raise FileFormatError(f"{where}: {what}; fix or remove it")

    classes = doc.get("classes")
    if classes is not None:
        need(isinstance(classes, list) and len(classes) <= MAX_CLASSES
             and all(isinstance(c, str) and len(c) <= 1000 for c in classes), '"classes" must be a list of names')
    need(doc.get("input") is None or isinstance(doc["input"], dict), '"input" must be an object')
    need(isinstance(doc.get("normalize", True), bool), '"normalize" must be true or false')
    for key in ("mean", "std"):
        v = doc.get(key)
        if v is None:
            continue
        need(isinstance(v, list) and 0 < len(v) <= 64 and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in v),
            f'"{key}" must be a list of numbers')
    if doc.get("std") is not None:
        need(all(x > 0 for x in doc["std"]), '"std" must be positive (a zero std would divide by zero)')
    if doc.get("mean") is not None and doc.get("std") is not None:
        need(len(doc["mean"]) == len(doc["std"]), '"mean" and "std" must have one value per channel')
    return doc
