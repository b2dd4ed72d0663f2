"""Long fuzz of dataset files: mutated real-format CIFAR pickles and MNIST IDX files.

Runs tests/security/data_fuzz.py children in parallel batches (a segfault
kills only its batch and is reported with the case it was on) and prints the
verdicts per kind, crashes, hangs, code executions (marker files) and cases/s.

    python bench/fuzz_data.py [--cases 20000] [--jobs 2] [--batch 2000]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def batch(kind: str, seed: int, count: int, work: Path) -> tuple[Counter, list[str]]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    try:
        r = subprocess.run([sys.executable, "-m", "tests.security.data_fuzz", kind, str(seed), str(count), str(work)],
                           capture_output=True, text=True, timeout=120 + 2 * count, cwd=REPO, env=env)
    except subprocess.TimeoutExpired:
        return Counter({"HANG(batch)": 1}), [f"{kind} seed {seed}: batch timed out"]
    lines = r.stdout.splitlines()
    verdicts = Counter(line.split()[0] for line in lines if not line.startswith("start"))
    problems = [f"{kind} seed {seed}: {line}" for line in lines if line.split()[0] not in ("start", "ok", "refused")]
    if r.returncode != 0:
        last = [line for line in lines if line.startswith("start")][-1:]
        problems.append(f"{kind} seed {seed}: child exit {r.returncode} at {last}")
        verdicts["CRASH(exit)"] += 1
    if r.stderr.strip():
        problems.append(f"{kind} seed {seed}: stderr: {r.stderr.strip().splitlines()[-1][:200]}")
    if (work / "markers").exists() and any((work / "markers").iterdir()):
        problems.append(f"{kind} seed {seed}: CODE RAN: {list((work / 'markers').iterdir())}")
        verdicts["CODE"] += 1
    return verdicts, problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=20000, help="cases per kind")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--kinds", default="pickle,idx")
    args = ap.parse_args()
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.kinds.split(","):
            start = time.perf_counter()
            seeds = range(-(-args.cases // args.batch))
            with ThreadPoolExecutor(args.jobs) as pool:
                results = list(pool.map(lambda s: batch(kind, 100 + s, args.batch, Path(tmp, f"{kind}{s}")), seeds))
            total, problems = Counter(), []
            for verdicts, found in results:
                total += verdicts
                problems += found
            secs = time.perf_counter() - start
            n = total["ok"] + total["refused"]
            print(f"{kind}: {n} cases in {secs:.1f} s ({n / secs:.0f}/s): ok {total['ok']}, "
                  f"refused {total['refused']}, problems {len(problems)}")
            for p in problems[:20]:
                print("   ", p)
            bad += len(problems)
    print("fuzz_data: PASS" if not bad else f"fuzz_data: {bad} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
