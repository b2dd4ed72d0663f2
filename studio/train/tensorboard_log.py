"""TensorBoard event files for a run, through torch.utils.tensorboard.

A trainer callback: batch loss/metric and learning rate on logged steps,
per-layer gradient norms when the trainer measured them, epoch scalars
(train and validation), the network's graph once, and the validation
confusion matrix as an image each epoch. Needs the `tensorboard` package
(`pip install 'studio[tensorboard]'`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

SUBFOLDER = "tensorboard"   # inside the run folder when the setting is on


class TensorBoardError(Exception):
    exit_code = 2


def log_dir_for(trainer) -> Path | None:
    """Where a trainer's event files go: its explicit folder, else <run>/tensorboard
    when the project's `tensorboard` setting is on; None: no logging."""
    explicit = getattr(trainer, "tensorboard_dir", None)
    if explicit:
        return Path(explicit)
    if getattr(trainer.settings, "tensorboard", False) and trainer.out_dir is not None:
        return trainer.out_dir / SUBFOLDER
    return None


def attach(trainer) -> "TensorBoardLogger | None":
    folder = log_dir_for(trainer)
    if folder is None:
        return None
    logger = TensorBoardLogger(folder, trainer)
    trainer.callbacks.append(logger)
    return logger


class TensorBoardLogger:
    def __init__(self, folder, trainer):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise TensorBoardError("TensorBoard logging needs the tensorboard package: "
                                   "pip install 'studio[tensorboard]'") from None
        self.folder = Path(folder)
        self.trainer = trainer
        self.writer = SummaryWriter(str(self.folder))
        self._graph_done = False

    def on_batch_end(self, e) -> None:
        w = self.writer
        w.add_scalar("batch/loss", e.loss, e.step)
        if e.metric is not None:
            w.add_scalar(f"batch/{self._metric()}", e.metric, e.step)
        w.add_scalar("lr", e.lr, e.step)
        for layer, norm in (e.grad_norms or {}).items():
            w.add_scalar(f"grad_norm/{layer}", norm, e.step)
        if not self._graph_done:
            self._graph_done = True
            self._add_graph()

    def on_epoch_end(self, e) -> None:
        w, step = self.writer, e.epoch
        w.add_scalar("loss/train", e.train_loss, step)
        w.add_scalar(f"{e.metric_name}/train", e.train_metric, step)
        if e.val_loss is not None:
            w.add_scalar("loss/val", e.val_loss, step)
        if e.val_metric is not None:
            w.add_scalar(f"{e.metric_name}/val", e.val_metric, step)
        w.add_scalar("epoch/lr", e.lr, step)
        for name, value in (getattr(e, "terms", None) or {}).items():  # e.g. a VAE's KL
            w.add_scalar(f"{name}/val", value, step)
        confusion = getattr(self.trainer, "confusion", None)
        if confusion is not None:
            w.add_image("confusion_matrix", confusion_image(confusion), step, dataformats="HWC")
        w.flush()

    def on_run_end(self, result) -> None:
        self.writer.close()

    def on_error(self, error) -> None:
        self.writer.close()

    def _metric(self) -> str:
        objective = getattr(self.trainer, "objective", None)
        return getattr(objective, "metric_name", "metric")

    def _add_graph(self) -> None:
        """The graph, traced on one validation example on the CPU (a copy: the
        trainer's model stays where it is)."""
        import copy
        import warnings
        t = self.trainer
        try:
            x = t.val_batches.x[:1] if t.val_batches.n else t.train_batches.x[:1]
            x = t.val_batches.prepare(x.to(t.val_batches.device), augment=False).float().cpu()
            model = copy.deepcopy(t.model).float().cpu().eval()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.writer.add_graph(model, x.contiguous())
        except Exception as e:  # noqa: BLE001 - a graph TensorBoard cannot trace: say so in the log
            self.writer.add_text("graph", f"The graph could not be traced for TensorBoard: {e}")


def confusion_image(confusion: torch.Tensor, cell: int = 24) -> np.ndarray:
    """A uint8 H×W×3 heat map, rows = true class, columns = predicted; each row
    scaled by its total so small classes show as clearly as large ones."""
    c = confusion.double()
    rows = c / c.sum(1, keepdim=True).clamp_min(1)
    k = rows.shape[0]
    heat = (rows.numpy() * 255).astype(np.uint8)
    img = np.empty((k, k, 3), np.uint8)
    img[..., 0] = 255 - heat            # white (0) to dark blue (1)
    img[..., 1] = 255 - heat
    img[..., 2] = 255 - heat // 3
    img = img.repeat(cell, 0).repeat(cell, 1)
    img[::cell, :, :] = 200             # grid lines
    img[:, ::cell, :] = 200
    return img
