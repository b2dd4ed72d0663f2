"""Hostile dataset files, built the way an attacker would: real-format CIFAR
pickles, forged numpy states, IDX headers and gzip bombs. Shared by the
security tests and bench/fuzz_data.py."""
from __future__ import annotations

import gzip
import io
import os
import pickle
import struct
from pathlib import Path

import numpy as np

CORE = getattr(np, "_core", None) or np.core
NAMES = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]
BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


class Reduce:
    """Pickles as `func(*args)` with optional BUILD `state`: any opcode stream
    numpy's own pickles use, with values numpy would never write."""

    def __init__(self, func, args, state=None):
        self.func, self.args, self.state = func, args, state

    def __reduce__(self):
        return (self.func, self.args) if self.state is None else (self.func, self.args, self.state)


def forged_dtype(spec: str = "O8", flags: int = 0) -> Reduce:
    """numpy.dtype(spec) whose state claims `flags`: flags 0 on an object dtype
    hides that its items are pointers."""
    return Reduce(np.dtype, (spec, False, True), (3, "|", None, None, None, -1, -1, flags))


def object_dtype_array(n: int = 2) -> Reduce:
    """_reconstruct + BUILD of an object array from raw bytes: the bytes become
    PyObject pointers (a segfault on first use in numpy that trusts the state)."""
    raw = struct.pack("<Q", 0x4141414141414141) * (n * 3072)
    return Reduce(CORE.multiarray._reconstruct, (np.ndarray, (0,), b"b"),
                  (1, (n, 3072), forged_dtype(), False, raw))


def zero_stride_array(n: int, row: int, dtype="u1") -> Reduce:
    """ndarray(shape, dtype, buffer, 0, strides=0): n rows out of one row of bytes."""
    dt = np.dtype(dtype)
    shape, strides = ((n, row), (0, dt.itemsize)) if row else ((n,), (0,))
    return Reduce(np.ndarray, (shape, dt, b"\0" * max(row, 1) * dt.itemsize, 0, strides))


def stateless_array(shape, code: bytes = b"B") -> Reduce:
    """_reconstruct(ndarray, shape, dtype) with no BUILD: memory numpy allocates, no bytes behind it."""
    return Reduce(CORE.multiarray._reconstruct, (np.ndarray, tuple(shape), code))


def batch(n: int = 6, seed: int = 1, **override) -> dict:
    rng = np.random.default_rng(seed)
    out = {b"batch_label": b"training batch", b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
           b"labels": [int(v) for v in rng.integers(0, 10, n)], b"filenames": [b"x.png"] * n}
    out.update(override)
    return out


def write_cifar(folder: Path, per_batch: int = 6, protocol: int = 2, replace: dict | None = None) -> Path:
    """A tiny cifar-10-batches-py folder in the real format; `replace` maps file
    names to the bytes to write instead."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(BATCHES):
        (folder / name).write_bytes(pickle.dumps(batch(per_batch, seed=i), protocol=protocol))
    (folder / "batches.meta").write_bytes(pickle.dumps(
        {b"label_names": NAMES, b"num_cases_per_batch": per_batch, b"num_vis": 3072}, protocol=protocol))
    for name, raw in (replace or {}).items():
        (folder / name).write_bytes(raw)
    return folder


def marker_payload(marker: Path) -> list:
    """Pickle-able objects that create `marker` if any of them is ever called."""
    return [Reduce(os.system, (f"touch {marker}",)),
            Reduce(exec, (f"open({str(marker)!r}, 'w').write('x')",)),
            Reduce(eval, (f"open({str(marker)!r}, 'w')",)),
            Reduce(open, (str(marker), "w"))]


def idx(values: np.ndarray, type_byte: int = 0x08, dims=None) -> bytes:
    """An IDX file: header (type, ndim, big-endian int32 sizes) then the values."""
    dims = list(values.shape) if dims is None else list(dims)
    header = bytes([0, 0, type_byte, len(dims)]) + b"".join(struct.pack(">i", d) for d in dims)
    return header + values.astype(values.dtype.newbyteorder(">")).tobytes()


def write_mnist(folder: Path, n: int = 20, gz: bool = True, replace: dict | None = None) -> Path:
    """A tiny MNIST raw folder (train and t10k); `replace` maps file names to other bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix in ("train", "t10k"):
        data = {f"{prefix}-images-idx3-ubyte": idx(rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)),
                f"{prefix}-labels-idx1-ubyte": idx(rng.integers(0, 10, n).astype(np.uint8))}
        for stem, raw in data.items():
            if gz:
                (folder / f"{stem}.gz").write_bytes(gzip.compress(raw, 1))
            else:
                (folder / stem).write_bytes(raw)
    for name, raw in (replace or {}).items():
        (folder / name).write_bytes(raw)
    return folder


def gzip_bomb(n_claimed: int = 20, inflated_mb: int = 64) -> bytes:
    """A .gz whose IDX header promises n_claimed images but that inflates to inflated_mb MB."""
    header = bytes([0, 0, 8, 3]) + struct.pack(">iii", n_claimed, 28, 28)
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9) as f:
        f.write(header)
        chunk = b"\0" * (1 << 20)
        for _ in range(inflated_mb):
            f.write(chunk)
    return buf.getvalue()


def py2_batch(data: np.ndarray, labels: list[int], label: bytes = b"training batch 1 of 5") -> bytes:
    """A batch as the real CIFAR-10 files hold it: Python 2 cPickle protocol 2,
    py2 str (SHORT_BINSTRING/BINSTRING) keys and data, numpy.core names."""
    def s(b: bytes) -> bytes:
        return (b"U" + bytes([len(b)]) + b) if len(b) < 256 else (b"T" + struct.pack("<i", len(b)) + b)
    arr = (b"cnumpy.core.multiarray\n_reconstruct\nq\x01cnumpy\nndarray\nq\x02K\x00\x85" + s(b"b") + b"\x87R"
           + b"(K\x01" + b"".join(b"J" + struct.pack("<i", d) for d in data.shape)
           + (b"\x86" if data.ndim == 2 else b"")
           + b"cnumpy\ndtype\n" + s(b"u1") + b"K\x00K\x01\x87R(K\x03" + s(b"|")
           + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89" + s(data.tobytes()) + b"tb")
    items = b"(" + b"".join(b"K" + bytes([v]) for v in labels) + b"e" if labels else b""
    return (b"\x80\x02}q\x00(" + s(b"batch_label") + s(label) + s(b"data") + arr
            + s(b"labels") + b"]" + items + s(b"filenames") + b"]" + b"u.")


def marker_snippets(marker: Path) -> list[bytes]:
    """Pickle opcode fragments that would create `marker` if a GLOBAL/REDUCE (or
    INST/OBJ/NEWOBJ) ever ran: spliced into real files by the fuzz."""
    cmd = f"touch {marker}".encode()
    code = f"open({str(marker)!r}, 'w').close()".encode()
    u = lambda b: b"X" + struct.pack("<I", len(b)) + b  # noqa: E731 - BINUNICODE
    return [b"cos\nsystem\n(" + u(cmd) + b"tR", b"cposix\nsystem\n(" + u(cmd) + b"tR",
            b"cbuiltins\nexec\n(" + u(code) + b"tR", b"cbuiltins\neval\n(" + u(code) + b"tR",
            b"\x8c\x08builtins\x8c\x04exec\x93" + u(code) + b"\x85R",
            b"(" + u(cmd) + b"ios\nsystem\n", b"cos\nsystem\n" + u(cmd) + b"\x85\x81",
            b"csubprocess\ncall\n(" + u(cmd) + b"\x85tR",
            b"cnumpy\ndtype\n)R" + b"cbuiltins\nexec\n(" + u(code) + b"tRb"]


REPO = Path(__file__).resolve().parents[2]


def studio_train(tmp_path: Path, data: dict, timeout: float = 120):
    """`python -m studio train` on a small MLP project whose data settings are
    `data`, in a child process under `timeout` (so a hang fails the test instead
    of hanging it). Returns the CompletedProcess, or None if it timed out."""
    import json
    import subprocess
    import sys
    project = json.loads((REPO / "samples" / "spiral_mlp.studio.json").read_text())
    project["data"].update(data)
    path = tmp_path / "hostile.studio.json"
    path.write_text(json.dumps(project))
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    try:
        return subprocess.run([sys.executable, "-m", "studio", "train", str(path), "--epochs", "1",
                               "--out", str(tmp_path / "run")], capture_output=True, text=True,
                              timeout=timeout, cwd=REPO, env=env)
    except subprocess.TimeoutExpired:
        return None


def assert_refused(result, *needles: str) -> str:
    """The exit-code contract for bad input: exit 2, one `studio: error:` line
    (progress lines `data: …` aside), no traceback, no warning lines."""
    assert result is not None, "studio train hung (killed after its timeout)"
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    other = [line for line in lines if not line.startswith("data: ")]
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert len(other) == 1 and other[0].startswith("studio: error: "), other
    for needle in needles:
        assert needle in other[0], (needle, other[0])
    return other[0]
