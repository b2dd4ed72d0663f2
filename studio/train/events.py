"""What the trainer reports. Plain data, so the CLI prints it and the Qt worker
forwards it through signals unchanged."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class BatchEvent:
    epoch: int            # 1-based
    batch: int            # 1-based within the epoch
    batches: int          # batches per epoch
    step: int             # global step, 1-based
    loss: float
    metric: float | None  # batch accuracy (classification) or MAE (regression)
    lr: float
    images_per_second: float
    grad_norms: dict[str, float] | None = None  # per trainable layer (node id), on logged steps


@dataclass
class EpochEvent:
    epoch: int
    epochs: int
    train_loss: float
    train_metric: float
    val_loss: float | None
    val_metric: float | None
    metric_name: str      # "accuracy" | "mae"
    lr: float
    seconds: float
    is_best: bool
    terms: dict[str, float] = field(default_factory=dict)  # loss terms besides the main one, e.g. "kl"


@dataclass
class RunResult:
    status: str           # "finished" | "stopped" | "early_stopped" | "failed"
    epochs: int
    best_epoch: int
    train_loss: float | None
    val_loss: float | None
    val_metric: float | None
    metric_name: str
    seconds: float
    images_per_second: float
    paths: dict[str, str] = field(default_factory=dict)
    message: str = ""


@dataclass
class TrainError:
    kind: str             # "nan" | "shape" | "oom" | "data" | "device" | "cost" | "checkpoint" | "other"
    message: str          # one clear sentence for the user
    epoch: int | None = None
    batch: int | None = None
    detail: str = ""      # traceback, for the log file
