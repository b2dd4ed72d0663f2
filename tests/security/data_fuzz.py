"""Mutation fuzz of dataset files in their real formats, run in a child process.

    python -m tests.security.data_fuzz KIND SEED COUNT WORKDIR

KIND is "pickle" (CIFAR batches and batches.meta: protocols 2-5 and the
Python 2 layout of the real files) or "idx" (MNIST, plain and gzip). Each case
mutates a real file (bit flips, byte runs, cut, splice, length fields set to
huge values, and pickles with code-running opcodes spliced in), loads it with
the real loader under a SIGALRM timeout, and prints one line per case:
`ok`, `refused` (DataError), `CRASH <error>` or `HANG`. A segfault kills the
child, so the parent sees the last case it started. Code execution is caught
by marker files: every spliced payload would create WORKDIR/markers/*.
"""
from __future__ import annotations

import gzip
import math
import os
import pickle
import random
import signal
import struct
import sys
from pathlib import Path

import numpy as np

from tests.security import data_hostile as H

CASE_TIMEOUT_S = 5


def pickle_seeds() -> list[bytes]:
    rng = np.random.default_rng(0)
    seeds = []
    for n in (0, 1, 2):
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, n)]
        seeds.append(H.py2_batch(data, labels))
        for protocol in (2, 3, 4, 5):
            seeds.append(pickle.dumps({b"batch_label": b"b", b"data": data, b"labels": labels,
                                       b"filenames": [b"a.png"] * n}, protocol=protocol))
    seeds.append(pickle.dumps({b"data": np.zeros((1, 3072), np.uint8), b"labels": np.array([3], np.int64)}, 2))
    for protocol in (2, 4):
        seeds.append(pickle.dumps({b"label_names": H.NAMES, b"num_cases_per_batch": 2, b"num_vis": 3072},
                                  protocol=protocol))
    return seeds


def idx_seeds() -> list[bytes]:
    rng = np.random.default_rng(0)
    return [H.idx(rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)) for n in (0, 1, 2)] + \
           [H.idx(rng.integers(0, 10, 3).astype(np.uint8)), H.idx(np.arange(3, dtype=">i4"), 0x0C),
            H.idx(np.zeros((1, 2, 2), ">f4"), 0x0D)]


def mutate(raw: bytes, rng: random.Random, snippets: list[bytes]) -> bytes:
    b = bytearray(raw)
    for _ in range(rng.choice((1, 1, 2, 3, 8))):
        # Most structure sits in the first 300 and last 100 bytes; bias mutations there.
        region = rng.random()
        n = len(b)
        if n == 0:
            b += bytes([rng.randrange(256)])
            continue
        pos = rng.randrange(min(n, 300)) if region < 0.5 else (
            rng.randrange(max(0, n - 100), n) if region < 0.7 else rng.randrange(n))
        op = rng.randrange(9)
        if op == 0:
            b[pos] ^= 1 << rng.randrange(8)
        elif op == 1:
            b[pos] = rng.choice((0, 1, 0x7F, 0x80, 0xFF, rng.randrange(256)))
        elif op == 2:
            del b[pos:pos + rng.randrange(1, 16)]
        elif op == 3:
            b[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 8)))
        elif op == 4:
            b[pos:pos + 4] = struct.pack("<I", rng.choice((0xFFFFFFFF, 0x7FFFFFFF, 1 << 30, 3072 * 200000)))
        elif op == 5:
            b[pos:pos + 4] = struct.pack(">i", rng.choice((-1, -(1 << 31), (1 << 31) - 1, 1 << 20, 0)))
        elif op == 6:
            del b[pos:]
        elif op == 7:
            src = rng.randrange(n)
            b[pos:pos] = b[src:src + rng.randrange(1, 64)]
        else:
            b[pos:pos] = rng.choice(snippets) if snippets else b"\0"
    return bytes(b)


_SPECS = ("u1", "|u1", "<i8", ">i4", "b1", "O", "O8", "|O8", "V8", "f8", "S4", "U1", "c16", "M8[s]",
          "u1,u1", "(2,)u1")


def forged_array(rng: random.Random) -> object:
    """A numpy array pickle with a random, mostly forged, state: the shapes of
    attack that a byte-level mutation rarely finds (object dtypes with flags 0,
    zero or huge strides, shapes not backed by bytes, arrays without state)."""
    n = rng.choice((0, 1, 2, 3))
    dt = H.Reduce(np.dtype, (rng.choice(_SPECS), False, True),
                  (3, rng.choice("|<>=!"), None, None, None, -1, -1, rng.choice((0, 1, 16, 63, -1))))
    shape = rng.choice(((n, 3072), (n * 1000, 3072), (n,), (3072, n), (), (n, 3072, 1), (1 << 40, 3072),
                        (-1, 3072), (n, 3072.0)))
    raw = b"\x41" * rng.choice((n * 3072, n * 3072 * 8, 0, 1, 3072, 8 * n, n))
    form = rng.randrange(5)
    if form == 0:
        return H.Reduce(H.CORE.multiarray._reconstruct, (np.ndarray, (0,), b"b"),
                        (1, shape, dt, rng.random() < 0.2, raw if rng.random() < 0.9 else [0] * n))
    if form == 1:
        return H.stateless_array(shape if rng.random() < 0.5 else (n * 100000, 3072))
    if form == 2:
        strides = rng.choice(((0, 1), (0,), (-3072, 1), (1 << 40, 1), (3072, 1)))
        return H.Reduce(np.ndarray, (shape, np.dtype("u1"), raw, rng.choice((0, 8, -8)), strides))
    if form == 3:
        return H.Reduce(H.CORE.numeric._frombuffer, (bytearray(raw), dt, shape, rng.choice("CFX")))
    return H.Reduce(H.CORE.multiarray.scalar, (dt, raw[:8]))


def nested_pickle(rng: random.Random) -> bytes:
    """Containers nested deep, as dict keys and values, sometimes cyclic through the memo."""
    n = rng.choice((10, 63, 64, 65, 1000, 100_000))
    opener, closer = rng.choice(((b")", b"\x85"), (b"]", b"\x85"), (b"](", b"t"), (b"}", b"\x85")))
    body = opener + closer * n if closer != b"t" else b"(" * n + b")" + b"t" * n
    return b"\x80\x02}q\x00" + body + rng.choice((b"K\x01s.", b"h\x00s.", b"\x85K\x01s."))


def forged_pickle(rng: random.Random, snippets: list[bytes]) -> bytes:
    """A CIFAR batch or meta file with forged arrays where real files hold arrays or lists."""
    if rng.random() < 0.1:
        return nested_pickle(rng)
    if rng.random() < 0.05:   # one buffer, many arrays over it
        raw = b"\x01" * rng.choice((3072, 1 << 16))
        arrays = [H.Reduce(H.CORE.multiarray._reconstruct, (np.ndarray, (0,), b"b"),
                           (1, (len(raw) // 3072, 3072), H.forged_dtype("u1", 0), False, raw))
                  for _ in range(rng.choice((2, 50, 500)))]
        return pickle.dumps({b"data": arrays[0], b"labels": [0] * (len(raw) // 3072), b"x": arrays}, 4)
    n = rng.choice((1, 2))
    value = {b"data": np.zeros((n, 3072), np.uint8), b"labels": [1] * n}
    for key in rng.sample([b"data", b"labels", b"label_names"], rng.randrange(1, 3)):
        value[key] = forged_array(rng) if rng.random() < 0.8 else [forged_array(rng)] * n
    raw = pickle.dumps(value, protocol=rng.choice((2, 3, 4, 5)))
    return mutate(raw, rng, snippets) if rng.random() < 0.3 else raw


def forged_idx(rng: random.Random) -> bytes:
    """An IDX header with random type, dimensions (negative, overflowing, huge)
    and a body that may be shorter or longer than it promises."""
    ndim = rng.choice((0, 1, 3, 3, 4, 9, 255))
    dims = [rng.choice((-1, 0, 1, 2, 28, 60000, (1 << 31) - 1, 1 << 30, 1 << 16)) for _ in range(ndim)]
    type_byte = rng.choice((0x08, 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x07))
    head = bytes([0, 0, type_byte, ndim]) + b"".join(struct.pack(">i", d) for d in dims)
    size = {0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8}.get(type_byte, 1) * math.prod(dims)
    if 0 <= size <= 4 << 20 and rng.random() < 0.5:   # a body that matches the header exactly
        return head + b"\0" * size
    return head + b"\0" * rng.choice((0, 1, 784, 784 * 2, 1 << 20, 4 << 20))


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def _cap_memory(extra_mb: int) -> None:
    """Address space capped at what is mapped now plus extra_mb, so a case that
    tries to allocate gigabytes fails (a MemoryError: a CRASH) instead of
    swapping the machine."""
    try:
        import resource
        status = Path("/proc/self/status").read_text()
        now_kb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmSize:")))
        limit = (now_kb << 10) + (extra_mb << 20)
        resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    except (OSError, ValueError, StopIteration, ImportError):
        pass   # not Linux: run without a cap


def run(kind: str, seed: int, count: int, work: Path) -> None:
    from studio.data import cifar, mnist
    from studio.data.dataset import DataError
    _cap_memory(int(os.environ.get("STUDIO_FUZZ_MEM_MB", "1536")))
    markers = work / "markers"
    markers.mkdir(parents=True, exist_ok=True)
    snippets = H.marker_snippets(markers / f"ran-{seed}") if kind == "pickle" else []
    seeds = pickle_seeds() if kind == "pickle" else idx_seeds()
    rng = random.Random(seed)
    signal.signal(signal.SIGALRM, _alarm)
    target = work / ("data_batch_1" if kind == "pickle" else "train-images-idx3-ubyte")
    for case in range(count):
        if rng.random() < 0.4:
            raw = forged_pickle(rng, snippets) if kind == "pickle" else forged_idx(rng)
        else:
            raw = mutate(rng.choice(seeds), rng, snippets)
        packed = kind == "idx" and rng.random() < 0.4
        if packed:
            raw = gzip.compress(raw, 1) if rng.random() < 0.7 else mutate(gzip.compress(raw, 1), rng, [])
        (work / "train-images-idx3-ubyte.gz").unlink(missing_ok=True)
        target.unlink(missing_ok=True)
        (target.with_name(target.name + ".gz") if packed else target).write_bytes(raw)
        print(f"start {case}", flush=True)
        signal.alarm(CASE_TIMEOUT_S)
        try:
            if kind == "pickle" and case % 4 == 3:
                names = cifar.read_classes(target)
                assert len(names) == 10 and all(isinstance(n, str) for n in names)
            elif kind == "pickle":
                x, y = cifar.read_batch(target)   # every image must be backed by bytes in the file
                assert x.dtype == np.uint8 and x.nbytes <= len(raw) and len(y) == len(x)
            else:
                x = mnist.read_idx(work, target.name)
                assert isinstance(x, np.ndarray) and x.dtype.kind in "uif" and x.flags.c_contiguous
                assert x.nbytes <= len(raw) * (1 if not packed else 2048) + 64
            verdict = "ok"
        except DataError as e:
            verdict = "refused" if "\n" not in str(e) and str(e) else f"CRASH bad message {str(e)[:200]!r}"
        except _Timeout:
            verdict = "HANG"
        except BaseException as e:  # noqa: BLE001 - anything but a DataError is a defect
            verdict = f"CRASH {type(e).__name__}: {str(e)[:200]}"
        finally:
            signal.alarm(0)
        print(f"{verdict} {case}", flush=True)


if __name__ == "__main__":
    run(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
