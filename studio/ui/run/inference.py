"""Predicting one user image: preprocessing like the trainer's batcher, top-k
probabilities and a gradient saliency map. torch and numpy only, no Qt, so it
can move to the core (studio/train) if the CLI's `predict` wants it."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class Prediction:
    image: np.ndarray                 # uint8 H×W×3 or H×W, the network's input size
    top: list[tuple[str, float]]      # (class name, probability), best first
    saliency: np.ndarray | None       # float32 H×W in 0..1


def load_image(path: str, channels: int, height: int, width: int) -> np.ndarray:
    """The file as uint8 C×H×W at the network's input size."""
    from PIL import Image

    from studio.data.images import open_image, to_mode
    with open_image(path) as im:   # a regular file, bounded; 16-bit images scaled, not clipped
        im = to_mode(im, "L" if channels == 1 else "RGB").resize((width, height), Image.BILINEAR)
        a = np.asarray(im, dtype=np.uint8)
    return a[None] if a.ndim == 2 else np.ascontiguousarray(a.transpose(2, 0, 1))


def to_input(chw: np.ndarray, mean, std, normalize: bool = True) -> torch.Tensor:
    """uint8 C×H×W → float 1×C×H×W, scaled and normalised as in training."""
    x = torch.from_numpy(chw.astype(np.float32) / 255.0)[None]
    if normalize and mean is not None and std is not None:
        m = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
        s = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
        x = (x - m) / s
    return x


def predict_image(model: torch.nn.Module, chw: np.ndarray, classes: list[str], mean=None, std=None,
                  normalize: bool = True, k: int = 5) -> Prediction:
    """Top-k softmax probabilities, and |d score / d input| (max over channels)
    for the top class: which pixels would change the decision most."""
    model = model.eval()
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    x = to_input(chw, mean, std, normalize).to(device).requires_grad_(True)
    with torch.enable_grad():
        scores = model(x)
        if scores.dim() != 2:
            scores = scores.reshape(scores.shape[0], -1)
        probs = torch.softmax(scores.detach().float(), dim=1)[0]
        best = int(probs.argmax())
        scores[0, best].backward()
    saliency = None
    if x.grad is not None:
        s = x.grad.detach().abs().amax(dim=1)[0].float()
        s = s / s.max().clamp_min(1e-12)
        saliency = s.cpu().numpy()
    values, idx = probs.topk(min(k, probs.numel()))
    names = [classes[i] if i < len(classes) else str(i) for i in idx.tolist()]
    img = chw[0] if chw.shape[0] == 1 else np.ascontiguousarray(chw[:3].transpose(1, 2, 0))
    return Prediction(image=img, top=list(zip(names, values.tolist())), saliency=saliency)


def overlay(image: np.ndarray, saliency: np.ndarray, alpha: float = 0.6) -> np.ndarray:
    """The saliency as a red-yellow heat overlay on the (greyed) image, uint8 H×W×3."""
    rgb = np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image
    grey = rgb.astype(np.float32).mean(axis=2, keepdims=True) * 0.6 + 40
    s = saliency[..., None].astype(np.float32)
    heat = np.concatenate([np.full_like(s, 255.0), 255.0 * s, np.zeros_like(s)], axis=2)
    a = alpha * s
    out = grey * (1 - a) + heat * a
    return np.clip(out, 0, 255).astype(np.uint8)
