"""What a run writes into its folder besides the checkpoint: a copy of the
project, best/last weights, metrics.csv, and meta.json (class names and the
input normalization, so `studio predict` prepares images exactly as training did)."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from pathlib import Path

import torch

from studio.project.file import dumps

from studio.train.checkpoint import save_weights, write_atomic
from studio.train.events import EpochEvent

META_NAME = "meta.json"
PROJECT_NAME = "project.studio.json"


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
    """meta.json beside a weights file, if there is one."""
    path = Path(weights_path).parent / META_NAME
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None
