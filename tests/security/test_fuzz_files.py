"""The mutation fuzz in CI: at least 1,000 mutated files of each kind Studio reads back
(safetensors and .pt weights, checkpoints, run JSON and CSV, meta.json), every case
under a watchdog, in a subprocess so that a crash or a hang fails the test; 0 findings,
0 code execution (a pickle seed would create a marker file). bench/fuzz_files.py runs
the same engine longer."""
from __future__ import annotations

import json
import os
import subprocess
import sys

CASES = 1000
KINDS = {"safetensors", "pt", "checkpoint", "run_json", "run_csv", "meta"}


def _fuzz(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "tests.security.fuzzkit", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONPATH": os.getcwd(), "OMP_NUM_THREADS": "1"})


def test_a_thousand_mutations_of_each_file_kind():
    proc = _fuzz("--cases", str(CASES), "--seed", "0")
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-3000:])  # non-zero: crash, hang or finding
    stats = json.loads(proc.stdout.splitlines()[-1])
    assert set(stats["cases"]) == KINDS and min(stats["cases"].values()) >= CASES
    assert stats["findings"] == [] and stats["code_ran"] is False


def test_the_watchdog_turns_a_hang_into_a_failure():
    proc = _fuzz("--kinds", "_hang", "--cases", "1", "--case-timeout", "1", timeout=120)
    assert proc.returncode != 0 and "Timeout" in proc.stderr
