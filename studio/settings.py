"""Dataset and training settings stored in a project file.

Plain dataclasses with typed fields; `from_dict` checks every key and type so a
hand-edited project gives one clear message instead of a failure mid-run.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DatasetKind:
    """One choice of `DataSettings.dataset`. `loader` is "module:function" in
    studio.data; `offline` datasets need no download, `needs_path` ones are the
    user's own files (`DataSettings.path`)."""
    key: str
    title: str
    text: str
    loader: str
    needs_path: bool = False
    offline: bool = True

    @property
    def generated(self) -> bool:
        """Made on the spot, in the number `DataSettings.samples` asks for."""
        return self.loader.startswith("synthetic:")


# The one table of datasets, in menu order: settings, loading and the form read it.
DATASET_KINDS = (
    DatasetKind("cifar10", "CIFAR-10", "60,000 32×32 colour photos in 10 classes (downloads 163 MB once)",
                "cifar:load_cifar10", offline=False),
    DatasetKind("mnist", "MNIST", "70,000 28×28 greyscale handwritten digits (downloads 11 MB once)",
                "mnist:load_mnist", offline=False),
    DatasetKind("fashion_mnist", "Fashion-MNIST", "70,000 28×28 greyscale clothing photos in 10 classes "
                "(downloads 30 MB once)", "mnist:load_mnist", offline=False),
    DatasetKind("image_folder", "Image folder", "Your own images: one subfolder per class",
                "folder:load_image_folder", needs_path=True),
    DatasetKind("csv", "CSV table", "Your own table: numeric feature columns and a target column",
                "csv:load_csv", needs_path=True),
    DatasetKind("shapes", "Shapes", "Generated 32×32 images of circles, squares, triangles and crosses",
                "synthetic:shapes"),
    DatasetKind("digits", "Digits", "1,797 8×8 greyscale handwritten digits that come with scikit-learn "
                "(no download)", "digits:load_digits"),
    DatasetKind("waves", "Waves", "Generated sequences: sine, square, sawtooth or noise (for RNN/LSTM/GRU "
                "or attention)", "synthetic:waves"),
    DatasetKind("spiral", "Spiral", "Generated 2-D points on two interleaved spiral arms", "synthetic:points"),
    DatasetKind("moons", "Moons", "Generated 2-D points on two interleaving half circles", "synthetic:points"),
    DatasetKind("circles", "Circles", "Generated 2-D points: a disc inside a ring", "synthetic:points"),
    DatasetKind("sine", "Sine", "Generated regression: predict y = sin(x) from x", "synthetic:sine"),
)
DATASET_KIND = {k.key: k for k in DATASET_KINDS}  # key -> DatasetKind
DATASETS = tuple(DATASET_KIND)
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULES = ("constant", "step", "cosine", "onecycle")
DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("fp32", "bf16", "fp16")
AMP = ("off", "bf16", "fp16")  # the older key for precision; "off" is fp32


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
    precision: str = "fp32"     # bf16: autocast on CUDA and on CPUs with bf16 instructions; fp16: CUDA
    channels_last: bool = True  # allow channels_last (CUDA: always; CPU: where calibration finds it faster)
    compile: bool = False       # try torch.compile in the CPU calibration; used only where it is faster
    init_weights: str = ""      # weights to start from (e.g. an import's), relative to the project file
    tensorboard: bool = False   # TensorBoard event files in <run folder>/tensorboard

    _choices = {"optimizer": OPTIMIZERS, "schedule": SCHEDULES, "device": DEVICES, "precision": PRECISIONS}
    # Keys of older project files: old key -> (new key, value map).
    _legacy = {"amp": ("precision", {"off": "fp32"})}

    @property
    def amp(self) -> str:
        """The older name of `precision` ("off" for fp32), kept for callers of the old key."""
        return "off" if self.precision == "fp32" else self.precision

    @amp.setter
    def amp(self, value: str) -> None:
        self.precision = "fp32" if value == "off" else value


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
    for old, (new, mapping) in getattr(cls, "_legacy", {}).items():
        if old in data:
            data = dict(data)
            value = data.pop(old)
            if new not in data:  # the new key wins when a file has both
                data[new] = mapping.get(value, value) if isinstance(value, str) else value
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


__all__ = ["DATASET_KIND", "DATASET_KINDS", "DATASETS", "DatasetKind", "DataSettings", "TrainSettings",
           "SettingsError", "from_dict", "to_dict", "check", "field"]
