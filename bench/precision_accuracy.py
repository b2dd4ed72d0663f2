"""Validation accuracy of the offline samples: plain fp32, calibrated fp32 (the
default) and bf16, same epochs, several seeds; prints each run, the means and
the differences in points.

    python bench/precision_accuracy.py                    # 3 seeds
    python bench/precision_accuracy.py --seeds 5 --samples shapes_cnn
    python bench/precision_accuracy.py --full --samples shapes_cnn   # the sample's own data and epochs

Short runs have not converged: the same seed can differ by 2-4 points between
fp32 and a different memory format (channels_last rounds differently), so judge
bf16 by the median of the per-seed differences over several seeds, and prefer
--full (the sample's own settings: more data, more epochs, a larger validation set).
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from studio.data.load import load_dataset  # noqa: E402
from studio.project.file import load  # noqa: E402
from studio.train.calibrate import cpu_bf16_support  # noqa: E402
from studio.train.trainer import Trainer  # noqa: E402

# sample: data overrides, training overrides (short runs, as in tests/test_samples.py but longer)
RUNS = {
    "shapes_cnn": (dict(samples=1500), dict(epochs=5, batch_size=16, lr=2e-3)),
    "spiral_mlp": (dict(samples=1000), dict(epochs=20, lr=2e-2)),
    "waves_lstm": (dict(samples=1000), dict(epochs=20, batch_size=16, lr=5e-3)),
}
MODES = ("fp32 plain", "fp32 calibrated", "bf16")  # bf16: as asked; the run may fall back to fp32
# "bf16 forced": calibration off, so bf16 autocast is used whatever it measures (its accuracy alone)


def run(name: str, mode: str, seed: int, full: bool = False) -> tuple[float, float, str]:
    data, train = ({}, {}) if full else RUNS[name]
    project = load(ROOT / "samples" / f"{name}.studio.json")
    for k, v in data.items():
        setattr(project.data, k, v)
    for k, v in train.items():
        setattr(project.train, k, v)
    project.train.seed, project.train.device = seed, "cpu"
    project.train.precision = "bf16" if mode.startswith("bf16") else "fp32"
    Trainer.CALIBRATE = mode not in ("fp32 plain", "bf16 forced")
    try:
        trainer = Trainer(project, load_dataset(project.data), device="cpu")
        result = trainer.run()
    finally:
        Trainer.CALIBRATE = True
    if result.status != "finished":
        raise SystemExit(f"{name} {mode}: {result.message}")
    return result.val_metric, result.images_per_second, trainer.precision


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--samples", nargs="*", default=list(RUNS), choices=list(RUNS))
    ap.add_argument("--force-bf16", action="store_true", help="also train with bf16 whatever calibration says")
    ap.add_argument("--full", action="store_true", help="the samples' own data size and training settings")
    ap.add_argument("--first-seed", type=int, default=0)
    args = ap.parse_args(argv)
    ok, why = cpu_bf16_support()
    modes = (MODES + (("bf16 forced",) if args.force_bf16 else ())) if ok else MODES[:2]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads" + ("" if ok else f"; bf16 skipped: {why}"))
    for name in args.samples:
        acc: dict[str, list[float]] = {m: [] for m in modes}
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for mode in modes:
                a, ips, used = run(name, mode, seed, args.full)
                acc[mode].append(a)
                print(f"{name} seed {seed} {mode:16s} val accuracy {a:.4f}  ({ips:,.0f} img/s, trained in {used})",
                      flush=True)
        mean = {m: statistics.mean(v) for m, v in acc.items()}
        print(f"{name}: mean " + ", ".join(f"{m} {v:.4f}" for m, v in mean.items()))
        for ref in modes[:2]:
            for m in [m for m in modes[1:] if m != ref]:
                diffs = [100 * (a - b) for a, b in zip(acc[m], acc[ref])]
                print(f"{name}: {m} - {ref}: per seed " + " ".join(f"{d:+.2f}" for d in diffs)
                      + f"; median {statistics.median(diffs):+.2f}, mean {statistics.mean(diffs):+.2f} points")
    return 0


if __name__ == "__main__":
    sys.exit(main())
