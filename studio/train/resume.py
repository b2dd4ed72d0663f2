"""Checkpoints of a run: saving a Trainer's whole state and restoring it
bit-identically for `--resume`. Functions of the trainer, kept apart so that
trainer.py holds the training loop."""
from __future__ import annotations

from dataclasses import asdict

import torch

from studio.train import run_files
from studio.train.checkpoint import CheckpointError, save_checkpoint, split, unflatten_optimizer
from studio.train.events import EpochEvent


def save(trainer, status: str) -> None:
    """The checkpoint (weights, optimizer, random state, progress), last weights and metrics."""
    if trainer.out_dir is None:
        return
    rng = {"torch": torch.get_rng_state()}
    if trainer.device.type == "cuda":
        rng["cuda"] = torch.cuda.get_rng_state(trainer.device)
    partial = None
    if trainer._partial:
        partial = {k: v for k, v in trainer._partial.items() if k != "aug"}
        if trainer._partial.get("aug") is not None:
            rng["aug"] = trainer._partial["aug"]
    scalars = {"version": 1, "status": status, "epoch": trainer.epoch, "step": trainer.step,
               "epochs": trainer.settings.epochs, "best_epoch": trainer.best_epoch, "best_score": trainer.best_score,
               "bad_epochs": trainer.bad_epochs, "partial": partial,
               "history": [asdict(e) for e in trainer.history]}
    trainer.paths["checkpoint"] = str(save_checkpoint(trainer.out_dir, trainer.model, trainer.optimizer, scalars, rng))
    trainer.paths["last"] = run_files.write_weights(trainer.out_dir, "last", trainer.model.state_dict())
    trainer.paths["metrics"] = run_files.write_metrics(trainer.out_dir, trainer.history)

def restore(trainer) -> None:
    """Continue exactly where `save` left off; a checkpoint that does not fit says so."""
    tensors, doc = trainer.read_checkpoint()
    try:
        trainer.model.load_state_dict(split(tensors, "model."))
    except RuntimeError as e:
        raise CheckpointError(f"The checkpoint in {trainer.out_dir or 'the run folder'} does not fit this network (was it changed "
                              f"since?): {str(e).splitlines()[-1].strip()}. Train without resuming.") from None
    try:
        _restore_state(trainer, tensors, doc)
    except (KeyError, TypeError, ValueError, IndexError, RuntimeError, AttributeError) as e:
        detail = " ".join(str(e).split())[:200] or type(e).__name__
        raise CheckpointError(f"The checkpoint in {trainer.out_dir} is damaged or does not fit this run "
                              f"({type(e).__name__}: {detail}). Train without resuming.") from None

def _restore_state(trainer, tensors, doc) -> None:
    trainer.optimizer.load_state_dict(unflatten_optimizer(split(tensors, "optim."), doc["optimizer"]))
    for p, state in trainer.optimizer.state.items():  # saved contiguous: give moments the params'
        for k, v in state.items():                 # layout (channels_last), as fused steps expect
            if torch.is_tensor(v) and v.shape == p.shape and v.stride() != p.stride():
                state[k] = torch.empty_like(p, dtype=v.dtype).copy_(v)
    rng = split(tensors, "rng.")
    torch.set_rng_state(rng["torch"])
    if "cuda" in rng and trainer.device.type == "cuda":
        torch.cuda.set_rng_state(rng["cuda"], trainer.device)
    trainer.epoch, trainer.step = doc["epoch"], doc["step"]
    trainer.best_epoch, trainer.best_score, trainer.bad_epochs = doc["best_epoch"], doc["best_score"], doc["bad_epochs"]
    trainer.history = [EpochEvent(**e) for e in doc["history"]]
    for e in trainer.history:
        e.epochs = trainer.settings.epochs
    if doc.get("partial"):
        trainer._partial = dict(doc["partial"], aug=rng.get("aug"))
    best = trainer.out_dir / "best.safetensors" if trainer.out_dir is not None else None
    if best is not None and best.exists():
        trainer.paths["best"] = str(best)
    if trainer.bad_epochs and trainer.settings.early_stopping and doc["status"] == "early_stopped":
        trainer.bad_epochs = 0  # the user asked to go on: give patience a fresh start
