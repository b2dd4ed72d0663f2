"""Training throughput with 1 process and with 2 (`studio train --nproc 2`, gloo on CPU).

Runs the real CLI in subprocesses and reads `images_per_second` from the JSON
summary: training examples per second of the whole job (startup, data loading
and validation excluded). Every process gets --threads torch threads (default
1): with threads = all cores, a single process oversubscribed these shared
2-core machines and ran up to 25x slower, which would flatter
DDP. Rounds interleave 1 and 2 processes and keep the best; shared machines are noisy.

    python bench/ddp_scaling.py [--project samples/spiral_mlp.studio.json ...] [--epochs 2]
                                [--limit 1200] [--threads N] [--rounds 1]

A project is copied with `data.limit` set, so a run stays short.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PROJECTS = ["samples/spiral_mlp.studio.json", "samples/shapes_cnn.studio.json"]


def train(project: Path, nproc: int, epochs: int, out: Path, threads: int) -> dict:
    cmd = [sys.executable, "-m", "studio", "train", str(project), "--epochs", str(epochs), "--device", "cpu",
           "--out", str(out)]
    if nproc > 1:
        cmd += ["--nproc", str(nproc)]
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(threads)  # per process (torch's intra-op threads)
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def limited_copy(project: str, limit: int, folder: Path) -> Path:
    doc = json.loads((ROOT / project).read_text(encoding="utf-8"))
    if limit:
        doc["data"]["limit"] = limit
    path = folder / Path(project).name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--project", action="append", help="project file (repeatable)")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--limit", type=int, default=1200, help="training examples used (0 = all)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per process")
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    threads = {n: args.threads for n in (1, 2)}
    print(f"machine: {cores} CPU cores; gloo over loopback; global batch = the project's batch size; "
          f"threads per process: {threads[1]} (1 process), {threads[2]} (2 processes)")
    if cores <= 2:
        print(f"NOTE: this machine has only {cores} cores (shared with other work), so this figure shows "
              "DDP's overhead (a gradient all-reduce per step, lock-step waits), not a speed-up: there are "
              "no spare cores for a second process to gain from. Scaling needs more cores, machines or GPUs.")
    print(f"{'project':<28}{'1 process ex/s':>16}{'2 processes ex/s':>18}{'ratio 2/1':>11}")
    with tempfile.TemporaryDirectory(prefix="ddp-bench-") as tmp:
        tmp = Path(tmp)
        for project in args.project or DEFAULT_PROJECTS:
            path = limited_copy(project, args.limit, tmp)
            best = {1: 0.0, 2: 0.0}
            for r in range(args.rounds):
                for n in (1, 2):
                    doc = train(path, n, args.epochs, tmp / f"{path.stem}-{n}-{r}", threads[n])
                    best[n] = max(best[n], doc["images_per_second"])
            a, b = best[1], best[2]
            print(f"{Path(project).name.removesuffix('.studio.json'):<28}{a:>16,.0f}{b:>18,.0f}"
                  f"{b / a if a else float('nan'):>10.2f}x", flush=True)


if __name__ == "__main__":
    main()
