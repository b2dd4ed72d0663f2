"""What a sweep adds to each trial: optuna's sampling and SQLite storage, the
pruner's per-epoch reports, the project copy, against the same training as a
plain run (the Trainer into a run folder, as `studio train` does).

Both sides train the identical configuration (a one-value search space), in one
process, interleaved, on an already loaded dataset; the first of each is a
warm-up and is dropped. Prints the medians and the overhead per trial.
Target: overhead <= 5% of a short trial.

    OMP_NUM_THREADS=1 python bench/sweep_overhead.py [--trials 8] [--epochs 5] [--samples 2000]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import optuna  # noqa: E402
import torch  # noqa: E402

from studio.data.load import load_dataset  # noqa: E402
from studio.project import file as project_io  # noqa: E402
from studio.sweep.runner import SweepConfig, SweepRunner  # noqa: E402
from studio.train.trainer import Trainer  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "spiral_mlp.studio.json"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--pruner", default="median", choices=("none", "median"),
                    help="median: one storage write per epoch, and pruner asks (capped at ~5%% of training)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # as `studio sweep` does, no line per trial

    doc = json.loads(project_io.dumps(project_io.load(SAMPLE)))
    doc["data"]["samples"] = args.samples
    doc["training"].update(epochs=args.epochs, device="cpu")
    # One value: every trial trains exactly what the plain run trains.
    doc["sweep"] = {"strategy": "tpe", "trials": 0, "pruner": args.pruner, "dimensions": [
        {"target": "training", "param": "lr", "kind": "choice", "choices": [doc["training"]["lr"]]}]}
    project = project_io.loads(json.dumps(doc))
    dataset = load_dataset(project.data)
    root = Path(tempfile.mkdtemp(prefix="sweep-bench-"))
    runner = SweepRunner(project, project.sweep, SweepConfig(root / "runs", share=1))
    runner.open()
    runner.cache.get(project.data)  # the sweep loads its dataset once per process, as here

    plain, trial, inside = [], [], []
    for i in range(args.trials + 1):
        copy = project_io.loads(project_io.dumps(project))
        t0 = time.perf_counter()
        Trainer(copy, dataset, out_dir=root / f"plain-{i}").run()
        plain.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ran = runner.run()
        trial.append(time.perf_counter() - t0)
        inside.append(ran[-1].seconds)
    plain, trial, inside = plain[1:], trial[1:], inside[1:]
    p, t = statistics.median(plain), statistics.median(trial)
    over = t - p
    print(f"short trial: spiral MLP, {args.samples} samples, {args.epochs} epochs, pruner {args.pruner}, "
          f"{args.trials} interleaved pairs")
    print(f"plain run (Trainer + run folder): median {p * 1000:.0f} ms  (min {min(plain) * 1000:.0f})")
    diffs = sorted(b - a for a, b in zip(plain, trial))
    print(f"sweep trial (optuna + storage):   median {t * 1000:.0f} ms  (min {min(trial) * 1000:.0f})")
    print(f"  of which Trainer.run:           median {statistics.median(inside) * 1000:.0f} ms")
    print(f"overhead per trial: {over * 1000:+.0f} ms = {over / p * 100:+.1f}% of the plain run "
          f"(min vs min {(min(trial) - min(plain)) / min(plain) * 100:+.1f}%, median of paired differences "
          f"{statistics.median(diffs) * 1000:+.0f} ms; target <= 5%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
