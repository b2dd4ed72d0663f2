"""The lesson samples show what their descriptions promise, through the real
trainer: vanishing gradients and their cure, overfitting and its cure.
Measured over two seeds each, with wide margins (see the comments), so that
another CPU's float kernels cannot flip the result."""
from __future__ import annotations

import statistics
from pathlib import Path

import pytest

from studio.data.load import load_dataset
from studio.project.file import load
from studio.train.trainer import Trainer

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
SEEDS = (0, 1)


class _LastNorms:
    def __init__(self):
        self.norms = None

    def on_batch_end(self, e) -> None:
        if e.grad_norms:
            self.norms = e.grad_norms


def _train(name: str, seed: int):
    p = load(SAMPLES / f"{name}.studio.json")
    p.train.seed = seed
    norms = _LastNorms()
    t = Trainer(p, load_dataset(p.data), callbacks=[norms])
    result = t.run()
    assert result.status == "finished"
    return t, result, norms.norms


def _first_over_last(norms: dict) -> float:
    linears = [k for k in norms if k.startswith("linear")]  # execution order
    return norms[linears[0]] / max(norms[linears[-2]], 1e-30)


@pytest.mark.parametrize("seed", SEEDS)
def test_deep_sigmoid_gradients_vanish_and_relu_batchnorm_cures_them(seed):
    _, sig, sig_norms = _train("lesson_vanishing_sigmoid", seed)
    _, relu, relu_norms = _train("lesson_vanishing_relu_bn", seed)
    # Measured: first/last gradient ratio ~1e-9 with sigmoids, 2-4 with ReLU + BatchNorm.
    assert _first_over_last(sig_norms) < 1e-4
    assert _first_over_last(relu_norms) > 0.05
    # Measured: sigmoid 0.49-0.51 (chance), ReLU + BN 0.99.
    assert sig.val_metric < 0.65
    assert relu.val_metric > 0.85


def test_overfitting_shows_and_the_cures_close_the_gap():
    gaps, cured_gaps, climbs = [], [], []
    for seed in SEEDS:
        t, _, _ = _train("lesson_overfitting", seed)
        last, best = t.history[-1], min(e.val_loss for e in t.history)
        gaps.append(last.val_loss - last.train_loss)
        climbs.append(last.val_loss / best)
        assert last.train_metric > 0.95  # memorised
        c, _, _ = _train("lesson_overfitting_cured", seed)
        cured_gaps.append(c.history[-1].val_loss - c.history[-1].train_loss)
    # Measured: gap ~3.4 and validation loss ~2.3x its best without cures; gap ~0.3 with them.
    assert statistics.median(climbs) > 1.5, climbs
    assert statistics.median(gaps) > 2 * max(statistics.median(cured_gaps), 0.05), (gaps, cured_gaps)
