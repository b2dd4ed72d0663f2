"""Do clusters emerge without labels? k-means on the digits autoencoder's code.

    python bench/cluster_emergence.py [--seeds 3] [--threads 1]

For each seed, trains samples/digits_autoencoder.studio.json and
digits_vae.studio.json as they are, with the real trainer (reconstruction only:
no label is used), takes the 4-number code over the validation digits and runs
the embedding view's k-means (studio.train.insight.cluster, k = 10) against the
true classes. Prints the adjusted Rand index and NMI, min / median / max over
seeds, beside the honest baselines: k-means on the pixels themselves, on the
same network's code before training (its random initialization, seeded as the
trainer seeds it), and on a classifier's code (the same encoder trained with the
labels, a 10-way head after the code): what label supervision adds.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from studio.data.load import load_dataset  # noqa: E402
from studio.project.file import load  # noqa: E402
from studio.train import insight  # noqa: E402
from studio.train.model_setup import build_model  # noqa: E402
from studio.train.trainer import Trainer  # noqa: E402

SAMPLES = ROOT / "samples"
CODE = {"digits_autoencoder": "linear2", "digits_vae": "gaussianlatent1"}  # the bottleneck


def sample(name: str, seed: int):
    p = load(SAMPLES / f"{name}.studio.json")
    p.train.seed = seed
    return p


def classifier(seed: int):
    """The autoencoder's encoder with a 10-way head instead of the decoder."""
    p = sample("digits_autoencoder", seed)
    m = p.model
    for node in ("linear3", "relu2", "linear4", "sigmoid1", "reshape1", "output1"):
        m.remove_node(node)
    head = m.add_node("Linear", {"out_features": 10}, (0.0, 340.0))
    out = m.add_node("Output", {"loss": "cross_entropy"}, (250.0, 340.0))
    m.connect(CODE["digits_autoencoder"], "out", head, "in")
    m.connect(head, "out", out, "in")
    return p


def scores(model, node: str, ds, normalize: bool = True) -> tuple[float, float]:
    """(ARI, NMI) of k-means (k = classes) on `node`'s output over the validation set."""
    x, y = insight.probe_inputs(ds, normalize, len(ds.x_val))
    c = insight.cluster(insight.node_outputs(model, node, x), len(ds.classes), y.numpy())
    return c.ari, c.nmi


def pixel_scores(ds, normalize: bool = True) -> tuple[float, float]:
    x, y = insight.probe_inputs(ds, normalize, len(ds.x_val))
    c = insight.cluster(x.reshape(len(x), -1), len(ds.classes), y.numpy())
    return c.ari, c.nmi


def untrained(name: str, seed: int, ds) -> tuple[float, float]:
    """The sample's code at its starting point: seeded as the trainer seeds it."""
    p = sample(name, seed)
    torch.manual_seed(seed)
    return scores(build_model(p, ds), CODE[name], ds)


def trained(name: str, seed: int, ds) -> tuple[float, float]:
    p = sample(name, seed)
    t = Trainer(p, ds)
    r = t.run()
    assert r.status == "finished", r.message
    return scores(t.model, CODE[name], ds)


def measure(seeds: int) -> dict[str, list[tuple[float, float]]]:
    ds = load_dataset(sample("digits_autoencoder", 0).data)
    rows: dict[str, list[tuple[float, float]]] = {"pixels (64 numbers)": [pixel_scores(ds)] * seeds}
    for name in CODE:
        rows[f"{name}, random init"] = [untrained(name, s, ds) for s in range(seeds)]
        rows[f"{name}, trained"] = [trained(name, s, ds) for s in range(seeds)]
    rows["classifier (labels used)"] = []
    for seed in range(seeds):
        t = Trainer(classifier(seed), ds)
        t.run()
        rows["classifier (labels used)"].append(scores(t.model, CODE["digits_autoencoder"], ds))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    rows = measure(a.seeds)
    codes = ", ".join(f"{k}: {v}" for k, v in CODE.items())
    print(f"Digits validation set; k-means (k=10) on the standardized code ({codes}); "
          f"{a.seeds} seeds, {a.threads} thread(s), torch {torch.__version__}")
    print(f"{'features':34s} {'ARI min/median/max':>24s} {'NMI median':>11s}")
    for name, vals in rows.items():
        aris, nmis = [v[0] for v in vals], [v[1] for v in vals]
        print(f"{name:34s} {min(aris):7.3f} {statistics.median(aris):7.3f} {max(aris):7.3f}"
              f" {statistics.median(nmis):11.3f}")
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
