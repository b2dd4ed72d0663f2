"""A look inside a trained network, Qt-free: any node's outputs over the
validation set, their 2-D projection and k-means clusters (scikit-learn), and
Grad-CAM and integrated gradients for one image (captum).

The compiled module names its submodules after the node ids, so "the output of
node X" is a forward hook on `model.get_submodule(X)`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from studio.data.batches import Batcher
from studio.data.dataset import Dataset
from studio.train import activations

PROJECTIONS = ("pca", "tsne")


class InsightError(ValueError):
    """The view cannot be computed for this node or model; the message says why."""


def probe_inputs(dataset: Dataset, normalize: bool = True, limit: int = 1000,
                 device: str | torch.device = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """The first `limit` validation examples prepared exactly as the trainer
    prepares them (scaled and normalized, no augmentation), with their labels."""
    n = min(limit, int(dataset.x_val.shape[0]))
    if n == 0:
        raise InsightError(f"{dataset.name} has no validation examples to look at")
    b = Batcher(dataset.x_val[:n], dataset.y_val[:n], n, device=device,
                mean=dataset.mean, std=dataset.std, normalize=normalize)
    return b.prepare(b.x, augment=False), b.y


def _module(model: nn.Module, node: str) -> nn.Module:
    try:
        return model.get_submodule(node)
    except AttributeError:
        raise InsightError(f"{node} has no module of its own in the compiled network "
                           "(Input, Output and merge nodes are views of others)") from None


@torch.no_grad()
def node_outputs(model: nn.Module, node: str, x: torch.Tensor, batch: int = 256) -> torch.Tensor:
    """`node`'s output for every row of `x`, flattened to N×D float32."""
    module, grabbed = _module(model, node), []

    def hook(_m, _i, out):
        out = out[0] if isinstance(out, tuple) else out
        grabbed.append(out.detach().float().reshape(out.shape[0], -1).cpu())

    handle = module.register_forward_hook(hook)
    was_training = model.training
    model.eval()
    try:
        for i in range(0, x.shape[0], batch):
            model(x[i:i + batch])
    finally:
        handle.remove()
        model.train(was_training)
    return torch.cat(grabbed)


def project_2d(features: torch.Tensor | np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """N×D → N×2 by PCA or t-SNE."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE
    f = np.asarray(features, dtype=np.float32)
    if f.ndim != 2 or f.shape[0] < 3:
        raise InsightError("a projection needs at least 3 examples")
    if method not in PROJECTIONS:
        raise InsightError(f"unknown projection {method!r}; choose one of {', '.join(PROJECTIONS)}")
    if f.shape[1] == 1:
        return np.concatenate([f, np.zeros_like(f)], axis=1)
    if method == "pca":
        return PCA(n_components=2, random_state=seed).fit_transform(f).astype(np.float32)
    # t-SNE on a PCA-50 reduction, as its authors recommend for wide features.
    if f.shape[1] > 50:
        f = PCA(n_components=min(50, f.shape[0]), random_state=seed).fit_transform(f)
    perplexity = float(min(30, max(2, (f.shape[0] - 1) // 3)))
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(
        f).astype(np.float32)


@dataclass
class Clusters:
    assignment: np.ndarray   # cluster id per example
    k: int
    ari: float | None        # adjusted Rand index against the labels (None without labels)
    nmi: float | None        # normalized mutual information


def cluster(features: torch.Tensor | np.ndarray, k: int, labels=None, seed: int = 0) -> Clusters:
    """k-means on standardized features, and its agreement with the labels."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
    from sklearn.preprocessing import StandardScaler
    f = np.asarray(features, dtype=np.float32)
    if not 2 <= k <= f.shape[0]:
        raise InsightError(f"k-means needs 2 ≤ k ≤ {f.shape[0]} (the number of examples), got {k}")
    f = StandardScaler().fit_transform(f)
    assign = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(f)
    if labels is None:
        return Clusters(assign, k, None, None)
    y = np.asarray(labels).reshape(-1)
    return Clusters(assign, k, float(adjusted_rand_score(y, assign)),
                    float(normalized_mutual_info_score(y, assign)))


def _scores(model: nn.Module):
    def forward(x):
        out = model(x)
        return out.reshape(out.shape[0], -1)
    return forward


def _unit(a: torch.Tensor) -> np.ndarray:
    a = a.detach().float()
    a = a - a.min()
    return (a / a.max().clamp_min(1e-12)).cpu().numpy()


def grad_cam(model: nn.Module, node: str, x: torch.Tensor, target: int) -> np.ndarray:
    """Grad-CAM of class `target` at an image-shaped node (C×H×W output), upsampled
    to the input's H×W and scaled to 0..1. `x` is one prepared example, 1×C×H×W."""
    from captum.attr import LayerAttribution, LayerGradCam
    module = _module(model, node)
    model.eval()
    shape = tuple(activations.capture(model, x[:1])[node].shape)
    if len(shape) != 4:
        raise InsightError(f"Grad-CAM needs a convolutional node whose output is C×H×W; "
                           f"{node} gives {'×'.join(map(str, shape[1:]))}")
    cam = LayerGradCam(_scores(model), module).attribute(x[:1], target=int(target), relu_attributions=True)
    cam = LayerAttribution.interpolate(cam, tuple(x.shape[-2:]), interpolate_mode="bilinear")
    return _unit(cam[0, 0].clamp_min(0))


def integrated_gradients(model: nn.Module, x: torch.Tensor, target: int, steps: int = 32) -> np.ndarray:
    """Integrated gradients from an all-zero (the dataset's mean, after
    normalization) baseline: |attribution| summed over channels, 0..1, H×W."""
    from captum.attr import IntegratedGradients
    model.eval()
    attr = IntegratedGradients(_scores(model)).attribute(
        x[:1], baselines=torch.zeros_like(x[:1]), target=int(target), n_steps=steps)
    return _unit(attr[0].abs().sum(dim=0))
