"""Reading dataset files: only regular files, and every read bounded.

A FIFO, a device such as /dev/zero or a socket named like a data file would
block or never end; they are refused without reading (opened non-blocking, then
checked with fstat, so a file swapped after a check is still caught). Files in
/proc and /sys report size 0 while producing data, so a size check alone is
not enough: every read stops at a stated limit.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from studio.data.dataset import DataError

MB = 1 << 20
CHUNK = 16 * MB
_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a device"),
          (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))


def kind_of(mode: int) -> str:
    return next((text for test, text in _KINDS if test(mode)), "not a regular file")


def _system_devices() -> frozenset[int]:
    out = set()
    for folder in ("/proc", "/sys"):
        try:
            out.add(os.stat(folder).st_dev)
        except OSError:
            pass
    return frozenset(out)


SYSTEM_DEVICES = _system_devices()


def is_system(st: os.stat_result) -> bool:
    """True for files and folders of /proc and /sys, which are not data."""
    return st.st_dev in SYSTEM_DEVICES


def open_regular(path: Path | str) -> BinaryIO:
    """`path` opened for binary reading if it is a regular file (links followed);
    anything else is a DataError naming it, raised without blocking."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise DataError(f"Could not read {path}: {e.strerror or e}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise DataError(f"{path} is {kind_of(st.st_mode)}, not a regular file; Studio reads data only "
                            "from regular files")
        if is_system(st):
            raise DataError(f"{path} is a system file (/proc or /sys), not a data file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_at_most(f: BinaryIO, limit: int, path: Path | str) -> bytes:
    """Everything left in `f`, refusing (without reading it all) more than `limit` bytes."""
    try:
        if os.fstat(f.fileno()).st_size > limit:   # a huge (or sparse) file: refuse before reading
            data = None
        else:
            data = f.read(limit + 1)
    except OSError as e:   # includes a pseudo-file that would block
        raise DataError(f"Could not read {path}: {e.strerror or e}") from None
    if data is None or len(data) > limit:
        raise DataError(f"{path} is larger than {limit // MB} MB, more than any file of this kind; "
                        "it is not a genuine data file")
    return data


def read_exactly(f: BinaryIO, count: int, path: Path | str, what: str) -> bytes:
    """Exactly `count` bytes from `f`, read in chunks so that a header's promise
    is never allocated before the bytes arrive; a short file is a DataError."""
    chunks, got = [], 0
    try:
        while got < count:
            chunk = f.read(min(count - got, CHUNK))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    except OSError as e:
        raise DataError(f"Could not read {path}: {e.strerror or e}") from None
    if got != count:
        raise DataError(f"{path} is truncated: {what} needs {count} bytes, found {got}; "
                        "delete it to download it again")
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def read_regular(path: Path | str, limit: int) -> bytes:
    """The whole of a regular file of at most `limit` bytes."""
    with open_regular(path) as f:
        return read_at_most(f, limit, path)
