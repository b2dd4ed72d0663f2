"""The cost check before a run: parameters, multiply-adds, the memory the
weights (with gradients and optimizer state) and the batch's activations need,
and whether that fits the device's free memory. The app shows it; `studio
train` and the trainer refuse a run that cannot fit before allocating anything."""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from studio.data.digits import DIGITS_COUNT
from studio.data.synthetic import GENERATORS


# float32 weights, their gradients and up to two optimizer moments (Adam): 16 bytes a parameter.
BYTES_PER_PARAM = 4 * 4


class CostError(Exception):
    """The run cannot fit in the device's memory; raised before anything is allocated."""
    exit_code = 2


@dataclass
class Precheck:
    params: int
    macs: int
    activation_bytes: int
    device: str
    free_bytes: int | None
    batch: int = 0  # examples in the largest batch: the batch size, capped by the training set
    frozen: int = 0  # parameters of frozen layers (fine-tuning), part of `params`

    @property
    def param_bytes(self) -> int:
        return self.params * BYTES_PER_PARAM

    @property
    def needed_bytes(self) -> int:
        return self.param_bytes + self.activation_bytes

    @property
    def fits(self) -> bool:
        return self.free_bytes is None or self.needed_bytes <= self.free_bytes

    def text(self) -> str:
        free = f"{human_bytes(self.free_bytes)} free on {self.device}" if self.free_bytes is not None \
            else f"free memory on {self.device} unknown"
        kept = f" ({self.params - self.frozen:,} trainable, {self.frozen:,} frozen)" if self.frozen else ""
        return (f"{self.params:,} parameters{kept} · {human_count(self.macs)} multiply-adds per example · "
                f"~{human_bytes(self.activation_bytes)} activations per batch of {self.batch:,} ({free})")

    def warning(self) -> str:
        if self.fits:
            return ""
        if self.param_bytes > self.activation_bytes:
            return (f"The {self.params:,} parameters need ~{human_bytes(self.param_bytes)} with their gradients "
                    f"and optimizer state, which may not fit in the {human_bytes(self.free_bytes)} free on "
                    f"{self.device}: make the layers smaller.")
        return (f"The activations (~{human_bytes(self.activation_bytes)}) may not fit in the "
                f"{human_bytes(self.free_bytes)} free on {self.device}: lower the batch size "
                "or make the layers smaller.")


def refuse_if_too_big(project, device: str | None = None, train_examples: int | None = None) -> Precheck:
    """The app's pre-run check, as a refusal: CostError when the run cannot fit in memory."""
    check = precheck(project, train_examples, device)
    if not check.fits:
        raise CostError(check.warning().replace("may not fit", "does not fit"))
    return check


def human_bytes(n: int | None) -> str:
    if n is None:
        return "?"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def human_count(n: int) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return str(n)


def activation_bytes(model, batch_size: int) -> int:
    """Every layer's output kept for the backward pass (×4 bytes for float32),
    doubled for the gradients flowing back through them. An estimate: fused
    ops and in-place ReLUs use less, optimizer state is not counted."""
    total = 0
    for nid in model.nodes():
        shape = model.shapes.out(nid)
        if shape is not None:
            total += shape.numel
    return int(total * batch_size * 4 * 2)


def resolve_device(choice: str) -> str:
    if choice == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    return choice


def free_memory(device: str) -> int | None:
    """Free bytes on the device: the CUDA driver's count, else available RAM
    (MPS shares system memory)."""
    if device.startswith("cuda") and torch.cuda.is_available():
        try:
            free, _total = torch.cuda.mem_get_info(torch.device(device))
            return int(free)
        except (RuntimeError, AssertionError):
            return None
    return available_ram()


def available_ram() -> int | None:
    """MemAvailable from /proc/meminfo (counts reclaimable cache), else free pages."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


# Training examples of the downloadable datasets (their own train split).
BUILTIN_TRAIN_EXAMPLES = {"cifar10": 50_000, "mnist": 60_000, "fashion_mnist": 60_000}


def expected_train_examples(data) -> int | None:
    """How many training examples the settings give, when that is known without
    loading: generated datasets and the built-in ones; None for the user's files."""
    if data.dataset in BUILTIN_TRAIN_EXAMPLES:
        n = BUILTIN_TRAIN_EXAMPLES[data.dataset]
        split = not data.use_test_split
    elif data.dataset in GENERATORS:
        n, split = data.samples, True
    elif data.dataset == "digits":  # no test split of its own
        n, split = DIGITS_COUNT, True
    else:
        return None
    if data.limit:
        n = min(n, data.limit)
    return max(1, n - int(round(n * data.val_split))) if split else n


def precheck(project, train_examples: int | None = None, device: str | None = None) -> Precheck:
    """No batch is larger than the training set (the loaded one, when given)."""
    params, macs = project.model.shapes.totals()
    device = device or resolve_device(project.train.device)
    n = train_examples or expected_train_examples(project.data)
    batch = min(project.train.batch_size, n) if n else project.train.batch_size
    m = project.model
    frozen = sum(m.shapes.info[nid].weights for nid in m.nodes()
                 if m.params(nid).get("frozen") and nid in m.shapes.info)
    return Precheck(params=params, macs=macs, activation_bytes=activation_bytes(project.model, batch),
                    device=device, free_bytes=free_memory(device), batch=batch, frozen=frozen)


def device_choices() -> list[tuple[str, str, bool]]:
    """(settings value, label, selectable) for what this machine has. The project
    stores "cuda" (the first GPU); further GPUs are listed so users see them."""
    out = [("auto", "Auto (best available)", True), ("cpu", f"CPU ({os.cpu_count() or 1} cores)", True)]
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            name = torch.cuda.get_device_name(i)
            out.append(("cuda" if i == 0 else f"cuda:{i}", f"cuda:{i} — {name}", i == 0))
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        out.append(("mps", "MPS (Apple GPU)", True))
    return out
