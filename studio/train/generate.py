"""What a trained autoencoder makes, Qt-free: reconstructions of validation
inputs, and for a variational one, images decoded from random codes and a walk
between two inputs' codes. Outputs are float images in 0..1, N×C×H×W."""
from __future__ import annotations

import torch
from torch import nn

from studio.train.model_setup import latent_terms


class GenerateError(ValueError):
    """The model cannot do this (e.g. sampling without a Gaussian latent)."""


def _latent(model: nn.Module) -> nn.Module:
    found = latent_terms(model)
    if not found:
        raise GenerateError("Sampling needs a Gaussian latent layer (a variational autoencoder)")
    return found[0]


@torch.no_grad()
def reconstruct(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    was = model.training
    model.eval()
    try:
        return model(x).float().clamp(0, 1)
    finally:
        model.train(was)


@torch.no_grad()
def _decode(model: nn.Module, codes: torch.Tensor, example: torch.Tensor) -> torch.Tensor:
    """Run the network with the latent's output replaced by `codes`; the encoder
    still runs on `example` (repeated), whose result is discarded."""
    latent = _latent(model)
    handle = latent.register_forward_hook(lambda _m, _i, _o: codes)
    was = model.training
    model.eval()
    try:
        x = example[:1].expand(codes.shape[0], *example.shape[1:])
        return model(x).float().clamp(0, 1)
    finally:
        handle.remove()
        model.train(was)


@torch.no_grad()
def codes_of(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The latent means μ of `x` (the Gaussian latent outputs μ in eval mode)."""
    latent, grabbed = _latent(model), []
    handle = latent.register_forward_hook(lambda _m, _i, out: grabbed.append(out.detach()))
    was = model.training
    model.eval()
    try:
        model(x)
    finally:
        handle.remove()
        model.train(was)
    return grabbed[0]


def sample_prior(model: nn.Module, example: torch.Tensor, n: int = 16, seed: int = 0) -> torch.Tensor:
    """`n` images decoded from codes drawn from N(0, 1)."""
    features = codes_of(model, example[:1]).shape[1]
    g = torch.Generator().manual_seed(seed)
    codes = torch.randn(n, features, generator=g).to(example.device)
    return _decode(model, codes, example)


def interpolate(model: nn.Module, a: torch.Tensor, b: torch.Tensor, steps: int = 8) -> torch.Tensor:
    """Images decoded along the straight line between the codes of inputs a and b."""
    ca, cb = codes_of(model, a[:1]), codes_of(model, b[:1])
    t = torch.linspace(0, 1, steps, device=ca.device).view(-1, 1)
    return _decode(model, ca * (1 - t) + cb * t, a)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """0..1 float N×C×H×W → uint8, for display and files."""
    return (images.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).cpu()


class ReconstructionProbe:
    """A trainer callback: after each epoch, the reconstructions of a fixed
    handful of validation images, so a view can show them improving.
    `frames` holds (epoch, reconstructions as uint8 N×C×H×W)."""

    def __init__(self, count: int = 8):
        self.count = count
        self.trainer = None
        self.inputs: torch.Tensor | None = None  # uint8 N×C×H×W, the images as the dataset has them
        self.frames: list[tuple[int, torch.Tensor]] = []

    def on_epoch_end(self, event) -> None:
        t = self.trainer
        if t is None or not getattr(t.objective, "reconstructs", False) or t.val_batches.n == 0:
            return
        vb = t.val_batches
        raw = vb.x[: self.count]
        if raw.dim() != 4:
            return  # images only
        self.inputs = raw.detach().cpu()
        self.frames.append((event.epoch, to_uint8(reconstruct(t.model, vb.prepare(raw, augment=False)))))
