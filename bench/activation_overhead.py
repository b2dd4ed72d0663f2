"""What live activations cost a run: the shapes CNN trained with and without the
per-epoch ActivationProbe (every node's output for 4 validation examples),
interleaved ABBA in one process; prints the median wall time of each and their
ratio. Target: at most 3% slower with the probe.

    python bench/activation_overhead.py            # 2000 examples, 3 epochs, 4 rounds
    python bench/activation_overhead.py --rounds 8 --samples 4000
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from studio.data.load import load_dataset  # noqa: E402
from studio.project.file import load  # noqa: E402
from studio.train.activations import ActivationProbe  # noqa: E402
from studio.train.trainer import Trainer  # noqa: E402


def one_run(with_probe: bool, samples: int, epochs: int, dataset) -> float:
    p = load(ROOT / "samples" / "shapes_cnn.studio.json")
    p.data.samples, p.train.epochs, p.train.device = samples, epochs, "cpu"
    probe = ActivationProbe()
    t = Trainer(p, dataset, callbacks=[probe] if with_probe else [])
    probe.trainer = t
    start = time.perf_counter()
    t.run()
    if with_probe:
        assert probe.latest is not None and probe.latest[0] == epochs
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=4)
    args = ap.parse_args()
    p = load(ROOT / "samples" / "shapes_cnn.studio.json")
    p.data.samples = args.samples
    dataset = load_dataset(p.data)
    times = {False: [], True: []}
    for r in range(args.rounds):
        for with_probe in ((False, True) if r % 2 == 0 else (True, False)):
            times[with_probe].append(one_run(with_probe, args.samples, args.epochs, dataset))
    plain, probed = statistics.median(times[False]), statistics.median(times[True])
    ratios = [b / a for a, b in zip(times[False], times[True])]
    print(f"load average {os.getloadavg()[0]:.1f}, torch threads {torch.get_num_threads()}")
    print(f"without probe: median {plain:.2f} s   with probe: median {probed:.2f} s")
    print(f"slowdown: {probed / plain - 1:+.1%} (median of per-round ratios {statistics.median(ratios) - 1:+.1%}; "
          "target at most +3%)")


if __name__ == "__main__":
    main()
