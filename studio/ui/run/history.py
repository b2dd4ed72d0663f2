"""The runs of one project: live series in numpy arrays, persisted beside the
project file as `<project>.runs/run-NNN.json` (settings, epochs, result, gradient
norms) plus `run-NNN.csv` (one row per batch). Plain JSON and CSV, never pickle.

No Qt here: the plots and the run list read these records; the panel feeds them.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from studio.fileio import FileFormatError, clean_orphans, read_json, read_regular, write_atomic

# Distinct, colour-blind friendly run colours (Okabe-Ito, then Tableau).
RUN_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9",
               "#8C564B", "#7F7F7F", "#BCBD22", "#17BECF")
BATCH_COLUMNS = ("step", "x", "loss", "metric", "lr", "loss_smooth", "metric_smooth")
SMOOTHING = 0.9  # EMA weight of the past, debiased like TensorBoard's
MAX_RUNS_LOADED = 50
MAX_RUN_JSON_BYTES = 16 << 20  # far above what a real run writes
MAX_RUN_CSV_BYTES = 256 << 20   # one row per batch
MAX_NOTES, MAX_NOTE_CHARS = 20, 500
_COLOUR_RE = re.compile(r"#[0-9A-Fa-f]{6}")


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
    notes: list[str] = field(default_factory=list)  # the trainer's notices (speed settings, fallbacks)
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
        lines += [f"Note: {n}" for n in self.notes]
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

def record_outcome(run: RunRecord, outcome) -> None:
    """A finished run's status, result figures and message onto its record."""
    run.status = outcome.status
    res = outcome.result
    if res is not None:
        run.result = {k: getattr(res, k) for k in ("status", "epochs", "best_epoch", "train_loss", "val_loss",
                                                   "val_metric", "metric_name", "seconds",
                                                   "images_per_second", "message")}
        run.metric_name = res.metric_name or run.metric_name
    run.message = outcome.error.message if outcome.error else ""


def runs_dir(project_path: str | os.PathLike | None) -> Path | None:
    """`<project>.runs/` beside the project file; None for an unsaved project."""
    if not project_path:
        return None
    p = Path(project_path)
    base = p.name[:-len(".studio.json")] if p.name.endswith(".studio.json") else p.stem
    return p.with_name(base + ".runs")


def save_run(folder: Path, run: RunRecord) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    clean_orphans(folder)  # temp files of a save that was killed
    stem = folder / f"run-{run.number:03d}"
    meta = {"format": "studio.run_history", "version": 1, "number": run.number, "colour": run.colour,
            "started": run.started, "status": run.status, "metric_name": run.metric_name,
            "message": run.message, "notes": run.notes, "visible": run.visible, "data": run.data, "train": run.train,
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
        except (FileFormatError, ValueError) as e:
            problems.append(f"{path.name}: skipped ({_why(e, path)})")
        except Exception as e:  # noqa: BLE001 - any bad run file is skipped with a note, never a crash
            problems.append(f"{path.name}: skipped (not a readable Studio run: {type(e).__name__})")
    return runs, problems


def _why(e: Exception, path: Path) -> str:
    text = str(e)
    for prefix in (f"{path}: ", f"{path.name}: "):
        text = text.removeprefix(prefix)
    return text[:200]


def _scalar(v):
    return v if v is None or isinstance(v, (str, bool, int)) or (isinstance(v, float) and math.isfinite(v)) else None


def _number(v, default=None):
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else default


def _csv_number(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        return math.nan
    return v if math.isfinite(v) else math.nan


def _timestamp(v) -> float:
    """Seconds since 1970 that time.localtime can show (year 1970 to 9999), else 0."""
    t = _number(v, 0.0)
    return t if 0 <= t < 253_402_300_800 else 0.0


def _notes(v) -> list[str]:
    """A run's notes: short lines of text, a few of them (older run files have none)."""
    if not isinstance(v, list) or not all(isinstance(n, str) for n in v):
        raise ValueError('"notes" must be a list of text lines')
    return [n[:MAX_NOTE_CHARS] for n in v[:MAX_NOTES]]


def _flat(d, numeric: bool = False) -> dict:
    """A dict of plain values (what the run list and plots format), from anything."""
    if not isinstance(d, dict):
        raise ValueError("a section is not an object")
    return {str(k): (_number(v) if numeric else _scalar(v)) for k, v in d.items()}


def _load_run(path: Path) -> RunRecord:
    """A run file, with every field checked and coerced to what the UI formats: a hand-edited
    or hostile file fails here (and is skipped), never later in a redraw."""
    meta = read_json(path, MAX_RUN_JSON_BYTES)
    if meta.get("format") != "studio.run_history":
        raise ValueError("not a Studio run file")
    number = meta.get("number")
    if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number < 10**6:
        raise ValueError('"number" must be a run number')
    colour = meta.get("colour")
    epochs = meta.get("epochs", [])
    if not isinstance(epochs, list) or not all(isinstance(e, dict) for e in epochs):
        raise ValueError('"epochs" must be a list of objects')
    train = _flat(meta.get("train", {}))
    if "lr" in train and _number(train["lr"]) is None:
        train.pop("lr")
    run = RunRecord(number=number, colour=colour if isinstance(colour, str) and _COLOUR_RE.fullmatch(colour)
                    else RUN_COLOURS[number % len(RUN_COLOURS)],
                    started=_timestamp(meta.get("started")), data=_flat(meta.get("data", {})),
                    train=train, status=str(meta.get("status", "finished"))[:40],
                    metric_name="mae" if meta.get("metric_name") == "mae" else "accuracy",
                    result=_flat(meta.get("result", {}), numeric=True),
                    message=str(meta.get("message", ""))[:2000], notes=_notes(meta.get("notes", [])),
                    visible=meta.get("visible", True) is not False,
                    epochs=[_flat(e, numeric=True) for e in epochs])
    if run.status == "running":  # the app closed mid-run without saving an ending
        run.status = "stopped"
    grads = meta.get("grads", {})
    if not isinstance(grads, dict):
        raise ValueError('"grads" must be an object')
    for layer, rows in grads.items():
        if not isinstance(rows, list):
            raise ValueError('"grads" rows must be lists')
        s = run.grads[str(layer)] = Series(("x", "norm"), max(8, len(rows)))
        for row in rows:
            x, norm = row  # a row that is not a pair is a damaged file
            s.append(_num(_number(x)), _num(_number(norm)))
    csv_path = path.with_suffix(".csv")
    if csv_path.exists():
        text = read_regular(csv_path, MAX_RUN_CSV_BYTES).decode("utf-8")
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        if header and tuple(header) == BATCH_COLUMNS:
            for row in reader:
                if len(row) == len(BATCH_COLUMNS):
                    run.batches.append(*(_csv_number(v) for v in row))
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
    write_atomic(path, text.encode("utf-8"))
