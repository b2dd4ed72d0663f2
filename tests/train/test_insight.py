"""The look inside (studio.train.insight) on a real trained network: clusters
that emerge in the penultimate layer, and the attribution maps."""
from __future__ import annotations

import statistics
from pathlib import Path

import numpy as np
import pytest
import torch

from studio.data.load import load_dataset
from studio.project.file import load
from studio.train import insight
from studio.train.model_setup import build_model
from studio.train.trainer import Trainer

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _trained(seed: int):
    p = load(SAMPLES / "shapes_cnn.studio.json")
    p.data.samples, p.train.epochs, p.train.seed = 2000, 6, seed
    ds = load_dataset(p.data)
    t = Trainer(p, ds)
    t.run()
    return t, ds, p


@pytest.fixture(scope="module")
def runs():
    return [_trained(seed) for seed in (0, 1, 2)]


def test_kmeans_on_the_penultimate_layer_agrees_with_the_classes(runs):
    aris = []
    for t, ds, p in runs:
        x, y = insight.probe_inputs(ds, p.data.normalize, 400)
        feats = insight.node_outputs(t.model, "relu3", x)
        assert feats.shape == (400, 64)
        c = insight.cluster(feats, len(ds.classes), y.numpy())
        assert c.assignment.shape == (400,) and set(c.assignment) <= set(range(4))
        aris.append(c.ari)
    # Measured 0.81-0.88 over seeds 0-2; the median keeps one odd CPU from failing it.
    assert statistics.median(aris) >= 0.5, aris


def test_untrained_features_cluster_worse_than_trained(runs):
    t, ds, p = runs[0]
    x, y = insight.probe_inputs(ds, p.data.normalize, 400)
    trained = insight.cluster(insight.node_outputs(t.model, "relu3", x), 4, y.numpy()).ari
    torch.manual_seed(0)
    fresh = build_model(load(SAMPLES / "shapes_cnn.studio.json"), ds)
    untrained = insight.cluster(insight.node_outputs(fresh, "relu3", x), 4, y.numpy()).ari
    assert trained > untrained + 0.2, (trained, untrained)


def test_projections_are_two_dimensional(runs):
    t, ds, p = runs[0]
    x, _ = insight.probe_inputs(ds, p.data.normalize, 120)
    feats = insight.node_outputs(t.model, "relu3", x)
    for method in insight.PROJECTIONS:
        e = insight.project_2d(feats, method)
        assert e.shape == (120, 2) and np.isfinite(e).all()
    with pytest.raises(insight.InsightError):
        insight.project_2d(feats, "umap-please")


def test_grad_cam_and_integrated_gradients_are_input_sized_maps(runs):
    t, ds, p = runs[0]
    x, y = insight.probe_inputs(ds, p.data.normalize, 8)
    cam = insight.grad_cam(t.model, "relu2", x[:1], int(y[0]))
    ig = insight.integrated_gradients(t.model, x[:1], int(y[0]))
    for m in (cam, ig):
        assert m.shape == (32, 32) and m.min() >= 0 and m.max() == pytest.approx(1.0)
    # The gradients flow back: a map of a trained net is not flat.
    assert cam.std() > 0.01 and ig.std() > 0.01


def test_grad_cam_refuses_a_vector_node_with_a_sentence(runs):
    t, ds, p = runs[0]
    x, y = insight.probe_inputs(ds, p.data.normalize, 2)
    with pytest.raises(insight.InsightError, match="C×H×W"):
        insight.grad_cam(t.model, "linear1", x[:1], 0)
    with pytest.raises(insight.InsightError, match="no module"):
        insight.node_outputs(t.model, "input1", x)


def test_k_out_of_range_is_refused():
    with pytest.raises(insight.InsightError):
        insight.cluster(torch.randn(5, 3), 9)
