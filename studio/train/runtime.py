"""Devices, and turning exceptions from a run into a TrainError for the user."""
from __future__ import annotations

import traceback

import torch

from studio.data.dataset import DataError

from studio.train.checkpoint import CheckpointError
from studio.train.events import TrainError
from studio.train.model_setup import SetupError


def available_devices() -> list[str]:
    out = ["cpu"]
    if torch.cuda.is_available():
        out.insert(0, "cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        out.insert(0 if out[0] == "cpu" else 1, "mps")
    return out


def pick_device(name: str | torch.device | None) -> torch.device:
    """auto: CUDA, then MPS, then CPU. A requested device that is missing is an error."""
    name = str(name or "auto")
    if name == "auto":
        return torch.device(available_devices()[0])
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise SetupError("CUDA was requested but no CUDA GPU is available here: choose auto or cpu", "device")
    if dev.type == "mps" and "mps" not in available_devices():
        raise SetupError("MPS was requested but is not available here: choose auto or cpu", "device")
    return dev


class NonFiniteLoss(Exception):
    def __init__(self, epoch: int, batch: int, value: float, lr: float):
        self.epoch, self.batch, self.value, self.lr = epoch, batch, value, lr
        what = "NaN" if value != value else "infinite"
        super().__init__(
            f"The loss became {what} at epoch {epoch}, batch {batch}. The learning rate ({lr:g}) is "
            f"probably too high: try a lower one, e.g. {lr / 10:g}, or turn on gradient clipping.")


def _is_oom(e: BaseException) -> bool:
    if isinstance(e, getattr(torch, "OutOfMemoryError", ())) or isinstance(e, MemoryError):
        return True
    text = str(e).lower()
    return isinstance(e, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)


def _is_shape(e: BaseException) -> bool:
    text = str(e)
    low = text.lower()
    return isinstance(e, RuntimeError) and (any(s in text for s in (
        "shapes cannot be multiplied", "size of tensor", "Expected input batch_size",
        "Given groups", "must match the size", "Target", "out of bounds")) or "size mismatch" in low
        or "mat1 and mat2" in low)


# TrainError kinds that mean bad input (the project, data, device or checkpoint), not a failed run:
# the CLI exits 2 for them when they happen before the first epoch.
INPUT_KINDS = ("shape", "data", "device", "cost", "checkpoint")


def classify(e: BaseException, epoch: int | None = None, batch: int | None = None, device: str = "",
             batch_size: int | None = None) -> TrainError:
    """Any exception from a run (loading, setup, training), as a TrainError a user
    can act on: the trainer passes where it was; the app's worker thread, for what
    escapes before the trainer runs, does not."""
    from studio.graph.compile import CompileError
    detail = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    where = f" at epoch {epoch}, batch {batch}" if epoch and batch else ""
    if isinstance(e, NonFiniteLoss):
        return TrainError("nan", str(e), e.epoch, e.batch, detail)
    if _is_oom(e):
        on = f" on {device}" if device else ""
        now = f" (now {batch_size}, e.g. {max(1, batch_size // 2)})" if batch_size else ""
        return TrainError("oom", f"Out of memory{on}{where}: try a smaller batch size{now} or a smaller network.",
                          epoch, batch, detail)
    if isinstance(e, SetupError):
        return TrainError(e.kind, str(e), epoch, batch, detail)
    if isinstance(e, DataError):
        return TrainError("data", str(e), epoch, batch, detail)
    if isinstance(e, CompileError):
        return TrainError("shape", str(e), epoch, batch, detail)
    if isinstance(e, CheckpointError):
        return TrainError("checkpoint", str(e), epoch, batch, detail)
    if _is_shape(e):
        return TrainError("shape", f"The network and the data do not fit{where}: {str(e).splitlines()[0]}",
                          epoch, batch, detail)
    text = str(e).splitlines()[0] if str(e).strip() else type(e).__name__
    return TrainError("other", f"Training failed{where}: {text}", epoch, batch, detail)
