"""Spread of the offline samples' short-run accuracy over seeds and thread counts.

    python bench/sample_spread.py [--seeds 5] [--threads 1 2] [--only waves_lstm]

Runs exactly the short runs of tests/test_samples.py (LEARNING) sequentially, one
per (sample, seed, threads), and prints min / median / max per sample and thread count.
Float kernels differ between CPUs and thread counts; this shows how much margin
the test's threshold keeps.
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
from studio.train.trainer import Trainer  # noqa: E402
from tests.test_samples import LEARNING  # noqa: E402


def one(name, data, train, seed):
    project = load(ROOT / "samples" / f"{name}.studio.json")
    for k, v in {**data}.items():
        setattr(project.data, k, v)
    for k, v in {**train, "seed": seed}.items():
        setattr(project.train, k, v)
    return Trainer(project, load_dataset(project.data)).run().val_metric


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    print(f"torch {torch.__version__}, {a.seeds} seeds, threads {a.threads}")
    for name, data, train, threshold in LEARNING:
        if a.only and name != a.only:
            continue
        for threads in a.threads:
            torch.set_num_threads(threads)
            t0 = time.perf_counter()
            accs = [one(name, data, train, seed) for seed in range(a.seeds)]
            print(f"{name:12s} threads={threads} threshold={threshold:.2f} "
                  f"min={min(accs):.3f} median={statistics.median(accs):.3f} max={max(accs):.3f} "
                  f"all={' '.join(f'{x:.3f}' for x in accs)} ({time.perf_counter() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
