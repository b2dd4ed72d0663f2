"""Optimizers and learning-rate schedules from TrainSettings.

Schedules are pure functions of the global step, set on the optimizer before
each batch. That makes a resumed run continue on exactly the same curve from
the step number alone (no scheduler state to save), and lets a resumed run
ask for more epochs: the curve is simply recomputed for the new length.
"""
from __future__ import annotations

import math

import torch

from studio.settings import TrainSettings


def make_optimizer(params, s: TrainSettings) -> torch.optim.Optimizer:
    params = list(params)
    if s.optimizer == "sgd":
        return _fused(torch.optim.SGD, params, lr=s.lr, momentum=s.momentum, weight_decay=s.weight_decay,
                      nesterov=s.nesterov and s.momentum > 0)
    if s.optimizer == "adam":
        return _fused(torch.optim.Adam, params, lr=s.lr, weight_decay=s.weight_decay)
    if s.optimizer == "adamw":
        return _fused(torch.optim.AdamW, params, lr=s.lr, weight_decay=s.weight_decay)
    if s.optimizer == "rmsprop":  # has no fused kernel
        return torch.optim.RMSprop(params, lr=s.lr, momentum=s.momentum, weight_decay=s.weight_decay)
    raise ValueError(f"unknown optimizer {s.optimizer}")


def _fused(cls, params, **kw) -> torch.optim.Optimizer:
    """The fused kernel when the parameters' device supports it: on CPU, Adam's step
    took 0.34 ms fused against 1.9 ms for the default per-tensor loop (seed CNN)."""
    try:
        return cls(params, fused=True, **kw)
    except (RuntimeError, ValueError, TypeError):
        return cls(params, **kw)


class Schedule:
    """lr(step) for a run of `total` steps with `per_epoch` steps per epoch (step is 0-based)."""

    # One-cycle constants as in torch.optim.lr_scheduler.OneCycleLR's defaults.
    PCT_START, DIV, FINAL_DIV = 0.3, 25.0, 1e4

    def __init__(self, s: TrainSettings, per_epoch: int, total: int):
        self.kind, self.base = s.schedule, s.lr
        self.step_size, self.gamma = s.step_size, s.gamma
        self.per_epoch, self.total = max(1, per_epoch), max(1, total)

    def lr(self, step: int) -> float:
        k, base = self.kind, self.base
        if k == "constant":
            return base
        if k == "step":
            return base * self.gamma ** ((step // self.per_epoch) // self.step_size)
        t = min(step, self.total - 1) / max(1, self.total - 1)
        if k == "cosine":
            return base * 0.5 * (1.0 + math.cos(math.pi * t))
        if k == "onecycle":
            start, end = base / self.DIV, base / (self.DIV * self.FINAL_DIV)
            if t < self.PCT_START:
                return _cos(start, base, t / self.PCT_START)
            return _cos(base, end, (t - self.PCT_START) / (1.0 - self.PCT_START))
        raise ValueError(f"unknown schedule {k}")

    def apply(self, optimizer: torch.optim.Optimizer, step: int) -> float:
        lr = self.lr(step)
        for group in optimizer.param_groups:  # fine-tuning groups scale it (studio.train.finetune)
            group["lr"] = lr * group.get("lr_mult", 1.0)
        return lr


def _cos(a: float, b: float, frac: float) -> float:
    return b + (a - b) * 0.5 * (1.0 + math.cos(math.pi * frac))


def l1_penalty(params: list[torch.Tensor]) -> torch.Tensor:
    return torch.stack([p.abs().sum() for p in params]).sum()
