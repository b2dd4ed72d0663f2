"""Long runs of the file fuzz (tests/security/fuzzkit.py): mutated safetensors and .pt
weights, checkpoints, run JSON/CSV and meta.json, many more cases than CI, in several
processes with different seeds. Prints cases per kind, findings, hangs/crashes (a
worker that exits non-zero) and the wall time.

    python bench/fuzz_files.py                 # 4 workers x 25,000 cases per kind
    python bench/fuzz_files.py --cases 100000 --workers 8 --seed 7
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=25_000, help="mutated files per kind and worker")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--kinds", help="comma-separated subset (default: all)")
    args = p.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    procs = []
    for w in range(args.workers):
        cmd = [sys.executable, "-m", "tests.security.fuzzkit", "--cases", str(args.cases), "--seed", str(args.seed + w)]
        if args.kinds:
            cmd += ["--kinds", args.kinds]
        procs.append(subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    totals: dict[str, int] = {}
    findings, failed, code_ran = [], [], False
    for w, proc in enumerate(procs):
        out, err = proc.communicate()
        lines = out.strip().splitlines()
        if not lines:
            failed.append(f"worker {w} (seed {args.seed + w}) exited {proc.returncode} (crash or hang): {err[-800:]}")
            continue
        stats = json.loads(lines[-1])
        for kind, n in stats["cases"].items():
            totals[kind] = totals.get(kind, 0) + n
        findings += stats["findings"]
        code_ran |= stats["code_ran"]
    wall = time.perf_counter() - start
    print(f"cases per kind: {json.dumps(totals)}  total {sum(totals.values()):,} in {wall:.0f} s "
          f"({sum(totals.values()) / wall:,.0f} cases/s)")
    print(f"findings: {len(findings)}  crashed or hung workers: {len(failed)}  code ran: {code_ran}")
    for f in findings[:20]:
        print("  finding:", json.dumps(f))
    for f in failed:
        print("  ", f)
    return 1 if findings or failed or code_ran else 0


if __name__ == "__main__":
    sys.exit(main())
