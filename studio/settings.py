"""Dataset and training settings stored in a project file.

Plain dataclasses with typed fields; `from_dict` checks every key and type so a
hand-edited project gives one clear message instead of a failure mid-run.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

DATASETS = ("cifar10", "mnist", "fashion_mnist", "image_folder", "csv",
            "shapes", "waves", "spiral", "moons", "circles", "sine")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULES = ("constant", "step", "cosine", "onecycle")
DEVICES = ("auto", "cpu", "cuda", "mps")
AMP = ("off", "bf16", "fp16")


class SettingsError(ValueError):
    pass


@dataclass
class DataSettings:
    dataset: str = "cifar10"
    root: str = ""              # folder holding cifar-10-batches-py/ etc.; "" = ~/.studio/data
    path: str = ""              # ImageFolder folder or CSV file
    target: str = ""            # CSV target column ("" = last column)
    task: str = "auto"          # CSV: auto | classification | regression
    image_size: int = 32        # ImageFolder images are resized to this square size
    samples: int = 2000         # size of generated offline datasets
    val_split: float = 0.1      # used when the dataset has no test split
    use_test_split: bool = True
    augment_crop: int = 0       # random-crop padding in pixels (0 = off)
    augment_flip: bool = False  # random horizontal flips
    normalize: bool = True
    limit: int = 0              # use only the first N training examples (0 = all)

    _choices = {"dataset": DATASETS, "task": ("auto", "classification", "regression")}


@dataclass
class TrainSettings:
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 0.0   # L2
    l1: float = 0.0
    schedule: str = "constant"
    step_size: int = 10         # epochs between step-schedule decays
    gamma: float = 0.1
    batch_size: int = 32
    epochs: int = 10
    seed: int = 0
    grad_clip: float = 0.0      # max gradient norm (0 = off)
    early_stopping: int = 0     # patience in epochs (0 = off)
    label_smoothing: float = 0.0
    device: str = "auto"
    amp: str = "off"
    channels_last: bool = True
    init_weights: str = ""      # weights to start from (e.g. an import's), relative to the project file

    _choices = {"optimizer": OPTIMIZERS, "schedule": SCHEDULES, "device": DEVICES, "amp": AMP}


_RANGES = {"lr": (0.0, 1e9), "batch_size": (1, 1 << 20), "epochs": (0, 100000), "samples": (10, 10**8),
           "image_size": (4, 4096), "val_split": (0.0, 0.9), "augment_crop": (0, 64),
           "weight_decay": (0.0, 10.0), "l1": (0.0, 10.0), "momentum": (0.0, 1.0),
           "label_smoothing": (0.0, 0.99), "step_size": (1, 100000), "gamma": (0.0, 10.0),
           "grad_clip": (0.0, 1e9), "early_stopping": (0, 100000), "limit": (0, 10**9),
           "seed": (0, 2**31 - 1)}


def from_dict(cls, data: Any, where: str):
    if not isinstance(data, dict):
        raise SettingsError(f"{where} must be an object")
    known = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key, value in data.items():
        if key not in known:
            raise SettingsError(f"{where}.{key} is not a known setting")
        values[key] = check(cls, key, value, where)
    return cls(**values)


def check(cls, key: str, value: Any, where: str = "settings") -> Any:
    f = {f.name: f for f in dataclasses.fields(cls)}[key]
    default = f.default
    # A command-line flag names itself ("--epochs"); a file place gets the key ("training.lr").
    name = where if where.startswith("--") else f"{where}.{key}"
    kind = type(default)
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        try:
            value = float(value) if ok else value
        except OverflowError:  # an int past 1e308
            ok = False
        ok = ok and value == value and abs(value) != float("inf")
    else:
        ok = isinstance(value, str)
    if not ok:
        raise SettingsError(f"{name} must be a {kind.__name__}, got {value!r}")
    choices = cls._choices.get(key)
    if choices and value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    if key in _RANGES and kind in (int, float):
        lo, hi = _RANGES[key]
        if not lo <= value <= hi:
            raise SettingsError(f"{name} must be between {lo:g} and {hi:g}, got {value}")
    return value


def to_dict(obj) -> dict:
    return dataclasses.asdict(obj)


__all__ = ["DataSettings", "TrainSettings", "SettingsError", "from_dict", "to_dict", "check", "field"]
