"""Fuzz: mutated real-format CIFAR pickles and MNIST IDX files (plain and gzip).

Every case runs in a child process (tests/security/data_fuzz.py), in batches,
so a segfault or a hang fails this test with the case that caused it instead
of killing the suite. Each case has its own SIGALRM timeout and the child's
memory is capped. Pass: every case is loaded or refused with a one-line
DataError, the child exits 0 with nothing on stderr (no warnings, no
"Exception ignored"), and no marker file exists (spliced GLOBAL/REDUCE, INST,
OBJ and NEWOBJ payloads would create one). STUDIO_FUZZ_DATA_CASES sets the
cases per kind (CI: 1,200); bench/fuzz_data.py runs many more.
"""
import os
import subprocess
import sys
from collections import Counter

import pytest

from tests.security.data_hostile import REPO

CASES = int(os.environ.get("STUDIO_FUZZ_DATA_CASES", "1200"))
BATCHES = 2


def run_batch(kind: str, seed: int, count: int, work) -> tuple[Counter, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    try:
        r = subprocess.run([sys.executable, "-m", "tests.security.data_fuzz", kind, str(seed), str(count), str(work)],
                           capture_output=True, text=True, timeout=60 + count, cwd=REPO, env=env)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        last = [line for line in out.splitlines() if line.startswith("start")][-1:]
        pytest.fail(f"{kind} seed {seed}: the child hung at {last}")
    lines = r.stdout.splitlines()
    verdicts = Counter(line.split()[0] for line in lines if not line.startswith("start"))
    problems = [line for line in lines if line.split()[0] not in ("start", "ok", "refused")]
    started = sum(1 for line in lines if line.startswith("start"))
    assert r.returncode == 0, \
        f"{kind} seed {seed}: exit {r.returncode} at case {started - 1} (segfault?)\n{r.stderr[-2000:]}"
    assert not r.stderr.strip(), f"{kind} seed {seed}: stderr not empty:\n{r.stderr[-2000:]}"
    assert not problems, f"{kind} seed {seed}: {problems[:5]}"
    assert sum(verdicts.values()) == count
    return verdicts, r.stderr


@pytest.mark.parametrize("kind", ["pickle", "idx"])
def test_fuzzed_data_files_never_crash_hang_or_run_code(tmp_path, kind):
    total = Counter()
    per_batch = -(-CASES // BATCHES)
    for seed in range(BATCHES):
        work = tmp_path / f"batch{seed}"
        verdicts, _ = run_batch(kind, 1000 * seed + 7, per_batch, work)
        total += verdicts
        markers = list((work / "markers").iterdir())
        assert not markers, f"code ran: {markers}"
    assert total["ok"] + total["refused"] >= CASES
    assert total["ok"] > 0 and total["refused"] > CASES // 2   # both paths exercised
