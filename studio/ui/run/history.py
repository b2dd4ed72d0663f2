"""The runs of one project: live series in numpy arrays, persisted beside the
project file as `<project>.runs/run-NNN.json` (settings, epochs, result, gradient
norms) plus `run-NNN.csv` (one row per batch). Plain JSON and CSV, never pickle.

No Qt here: the plots and the run list read these records; the panel feeds them.
"""
from __future__ import annotations

import csv
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# Distinct, colour-blind friendly run colours (Okabe-Ito, then Tableau).
RUN_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9",
               "#8C564B", "#7F7F7F", "#BCBD22", "#17BECF")
BATCH_COLUMNS = ("step", "x", "loss", "metric", "lr", "loss_smooth", "metric_smooth")
SMOOTHING = 0.9  # EMA weight of the past, debiased like TensorBoard's
MAX_RUNS_LOADED = 50


class Series:
    """A growable float64 column set: appends are amortised O(1) and the plots
    get views of the filled part, so no list → array copy happens per redraw."""

    def __init__(self, columns: tuple[str, ...], capacity: int = 1024):
        self.columns = columns
        self._data = np.full((len(columns), capacity), np.nan)
        self.n = 0

    def append(self, *values: float) -> None:
        if self.n == self._data.shape[1]:
            grown = np.full((len(self.columns), self.n * 2), np.nan)
            grown[:, :self.n] = self._data
            self._data = grown
        self._data[:, self.n] = values
        self.n += 1

    def col(self, name: str) -> np.ndarray:
        return self._data[self.columns.index(name), :self.n]

    def rows(self):
        return self._data[:, :self.n].T


def _num(v) -> float:
    return float("nan") if v is None else float(v)


@dataclass
class RunRecord:
    number: int
    colour: str
    started: float = field(default_factory=time.time)
    data: dict = field(default_factory=dict)      # DataSettings as a dict, at start
    train: dict = field(default_factory=dict)     # TrainSettings as a dict, at start
    status: str = "running"
    metric_name: str = "accuracy"
    result: dict = field(default_factory=dict)    # RunResult fields
    message: str = ""
    visible: bool = True
    batches: Series = field(default_factory=lambda: Series(BATCH_COLUMNS))
    epochs: list[dict] = field(default_factory=list)
    grads: dict[str, Series] = field(default_factory=dict)  # layer id -> (x, norm)
    _ema_n: int = 0
    _ema_loss: float = 0.0
    _ema_metric: float = 0.0

    @property
    def name(self) -> str:
        return f"Run {self.number}"

    def label(self) -> str:
        """Short, for the run list: name, final validation metric, unusual ending."""
        bits = [self.name]
        vm = self.result.get("val_metric")
        if self.status != "running" and vm is not None and math.isfinite(vm):
            bits.append(_metric_text(self.metric_name, vm))
        if self.status not in ("running", "finished"):
            bits.append(self.status.replace("_", " "))
        return " · ".join(bits)

    def tooltip(self) -> str:
        t, d = self.train, self.data
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.started))
        lines = [f"{self.name}, {when}: {self.status.replace('_', ' ')}",
                 f"{d.get('dataset', '?')} · {t.get('optimizer', '?')} lr {t.get('lr', 0):g} · "
                 f"batch {t.get('batch_size', '?')} · {t.get('epochs', '?')} epochs"]
        if self.message:
            lines.append(self.message)
        return "\n".join(lines)

    # -- feeding -------------------------------------------------------------
    def add_batch(self, ev) -> None:
        """x is in epochs (2.5 = half way through epoch 3), so runs with different
        batch sizes line up; smoothing happens here, once, not on every redraw."""
        x = ev.epoch - 1 + ev.batch / max(1, ev.batches)
        metric = _num(ev.metric)
        self._ema_n += 1
        debias = 1.0 - SMOOTHING ** self._ema_n
        if math.isfinite(ev.loss):
            self._ema_loss = SMOOTHING * self._ema_loss + (1 - SMOOTHING) * ev.loss
        if math.isfinite(metric):
            self._ema_metric = SMOOTHING * self._ema_metric + (1 - SMOOTHING) * metric
        self.batches.append(ev.step, x, ev.loss, metric, ev.lr, self._ema_loss / debias,
                            self._ema_metric / debias)
        for layer, norm in (ev.grad_norms or {}).items():
            s = self.grads.get(layer)
            if s is None:
                s = self.grads[layer] = Series(("x", "norm"), 64)
            s.append(x, norm)

    def add_epoch(self, ev) -> None:
        self.metric_name = ev.metric_name
        self.epochs.append({"epoch": ev.epoch, "train_loss": ev.train_loss,
                            "train_metric": ev.train_metric, "val_loss": ev.val_loss,
                            "val_metric": ev.val_metric, "lr": ev.lr, "seconds": ev.seconds,
                            **(getattr(ev, "terms", None) or {})})  # e.g. a VAE's "kl"

    def epoch_column(self, key: str) -> np.ndarray:
        return np.array([_num(e.get(key)) for e in self.epochs], dtype=float)


def _metric_text(name: str, value: float) -> str:
    return f"{value * 100:.1f}%" if name == "accuracy" else f"MAE {value:.3g}"


def overfitting_hint(train_losses, val_losses, patience: int = 2) -> str:
    """A hint when validation loss rose for `patience` epochs in a row while the
    training loss kept falling: the classic sign of memorising the training set."""
    t = [x for x in train_losses]
    v = [x for x in val_losses]
    if len(v) < patience + 1 or any(x is None or x != x for x in v[-patience - 1:] + t[-patience - 1:]):
        return ""
    for i in range(len(v) - patience, len(v)):
        if not (v[i] > v[i - 1] and t[i] < t[i - 1]):
            return ""
    return (f"Possible overfitting: validation loss rose for {patience} epochs while training loss fell. "
            "Try more data, augmentation, weight decay or Dropout, or stop at the best epoch.")


# -- persistence ---------------------------------------------------------------

def runs_dir(project_path: str | os.PathLike | None) -> Path | None:
    """`<project>.runs/` beside the project file; None for an unsaved project."""
    if not project_path:
        return None
    p = Path(project_path)
    base = p.name[:-len(".studio.json")] if p.name.endswith(".studio.json") else p.stem
    return p.with_name(base + ".runs")


def save_run(folder: Path, run: RunRecord) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"run-{run.number:03d}"
    meta = {"format": "studio.run_history", "version": 1, "number": run.number, "colour": run.colour,
            "started": run.started, "status": run.status, "metric_name": run.metric_name,
            "message": run.message, "visible": run.visible, "data": run.data, "train": run.train,
            "result": run.result, "epochs": run.epochs,
            "grads": {k: s.rows().tolist() for k, s in run.grads.items()}}
    _write_text(stem.with_suffix(".json"), json.dumps(_finite(meta), indent=1))
    rows = [",".join(BATCH_COLUMNS)]
    rows += [",".join(_cell(v) for v in r) for r in run.batches.rows()]
    _write_text(stem.with_suffix(".csv"), "\n".join(rows) + "\n")
    return stem.with_suffix(".json")


def load_runs(folder: Path | None) -> tuple[list[RunRecord], list[str]]:
    """Every readable run in `folder`, oldest first, and a note per unreadable file."""
    runs: list[RunRecord] = []
    problems: list[str] = []
    if folder is None or not folder.is_dir():
        return runs, problems
    for path in sorted(folder.glob("run-*.json"))[-MAX_RUNS_LOADED:]:
        try:
            runs.append(_load_run(path))
        except (OSError, ValueError, KeyError, TypeError) as e:
            problems.append(f"{path.name}: {e}")
    return runs, problems


def _load_run(path: Path) -> RunRecord:
    meta = json.loads(path.read_text(encoding="utf-8"))
    if meta.get("format") != "studio.run_history":
        raise ValueError("not a Studio run file")
    run = RunRecord(number=int(meta["number"]), colour=str(meta.get("colour", RUN_COLOURS[0])),
                    started=float(meta.get("started", 0)), data=dict(meta.get("data", {})),
                    train=dict(meta.get("train", {})), status=str(meta.get("status", "finished")),
                    metric_name=str(meta.get("metric_name", "accuracy")), result=dict(meta.get("result", {})),
                    message=str(meta.get("message", "")), visible=bool(meta.get("visible", True)),
                    epochs=list(meta.get("epochs", [])))
    if run.status == "running":  # the app closed mid-run without saving an ending
        run.status = "stopped"
    for layer, rows in dict(meta.get("grads", {})).items():
        s = run.grads[str(layer)] = Series(("x", "norm"), max(8, len(rows)))
        for x, norm in rows:
            s.append(_num(x), _num(norm))
    csv_path = path.with_suffix(".csv")
    if csv_path.exists():
        with csv_path.open(newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header and tuple(header) == BATCH_COLUMNS:
                for row in reader:
                    if len(row) == len(BATCH_COLUMNS):
                        run.batches.append(*(_num(v) if v else math.nan for v in row))
    return run


def _cell(v: float) -> str:
    return "" if v != v else f"{v:.7g}"


def _finite(obj):
    """JSON has no NaN or infinity: write them as null."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
