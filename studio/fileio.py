"""Writing and reading Studio's own files safely; the one place that does it.

Every writer goes through `write_atomic` (or `staged` for files made by other
libraries): a temporary file in the target's folder, fsync, rename over the
target, fsync of the folder. A crash or a failure leaves the previous file
intact and no temporary behind; a temporary orphaned by a kill is removed by
`clean_orphans` at the next save or run. New files get the usual mode for the
umask (0644 under 022), a replaced file keeps its own mode. Only regular files
are ever replaced: a symlink, device, FIFO or folder at the target is refused.

`read_json` reads a small JSON file Studio wrote (run files, meta.json): only a
regular file, at most `max_bytes`, no NaN/Infinity/1e999, bounded nesting.
"""
from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import re
import shutil
import stat
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator

# ".<target name>.<pid>-<random>.tmp": the pid tells a live writer's file from an orphan.
_TMP_RE = re.compile(r"^\.(?P<target>.+)\.(?P<pid>\d+)-[a-z0-9_]{8}\.tmp$")
ORPHAN_AGE_S = 3600.0  # a temp file this old is an orphan even if its pid was reused
MAX_JSON_DEPTH = 64


class WriteError(OSError):
    """A file could not be written. The message names the target, never a temp file.
    exit_code 2: the target itself is wrong (a folder, a link, a device); 1: the disk failed."""

    def __init__(self, path: Path, reason: str, exit_code: int = 1):
        super().__init__(f"cannot write {path}: {reason}")
        self.path, self.reason, self.exit_code = Path(path), reason, exit_code

    def __str__(self) -> str:
        return self.args[0]


class FileFormatError(ValueError):
    """A file that Studio reads is not what it should be; the message names the file."""
    exit_code = 2


def _reason(e: OSError) -> str:
    return e.strerror or type(e).__name__


def check_target(path: Path) -> None:
    """Raise WriteError (exit 2) unless `path` is absent or a regular file in an existing folder."""
    path = Path(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as e:  # ENOTDIR (a file where a folder should be), ENAMETOOLONG, EACCES...
        raise WriteError(path, _reason(e), 1 if e.errno in (errno.EACCES, errno.EPERM, errno.EIO) else 2) from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        what = ("a symbolic link" if stat.S_ISLNK(st.st_mode) else "a folder" if stat.S_ISDIR(st.st_mode)
                else "not a regular file (a device, FIFO or socket)")
        raise WriteError(path, f"it is {what}; Studio only replaces regular files", 2)
    parent = path.parent
    if not parent.is_dir():
        raise WriteError(path, f"the folder {parent} does not exist" if not parent.exists()
                         else f"{parent} is not a folder", 2)


def _prefix(path: Path) -> str:
    return f".{path.name}.{os.getpid()}-"


def umask() -> int:
    """The process umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def _set_mode(fd: int, target: Path) -> None:
    """mkstemp makes files 0600: a replaced file keeps its mode, a new one gets the umask's (0644 under 022)."""
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        mode = 0o666 & ~umask()
    os.fchmod(fd, mode)


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (best effort: some file systems cannot)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: str | os.PathLike, data: bytes | Callable, *, durable: bool = True,
                 make_parents: bool = True) -> Path:
    """Replace `path` with `data` (bytes, or a callable writing to a binary file) all at once,
    making its missing folders first unless `make_parents` is False.
    Raises WriteError naming `path`; leaves no temporary file behind on failure."""
    path = Path(path)
    if make_parents and not path.parent.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise WriteError(path, f"cannot make its folder ({_reason(e)})", 2) from None
    check_target(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=_prefix(path), suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise WriteError(path, _reason(e)) from None
    try:
        _set_mode(fd, path)
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        check_target(path)  # it may have become a link while we wrote
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError) and not isinstance(e, WriteError):
            raise WriteError(path, _reason(e)) from None
        raise
    if durable:
        fsync_dir(path.parent)
    return path


@contextlib.contextmanager
def staged(target: str | os.PathLike) -> Iterator[Path]:
    """A private temporary folder beside `target` for files that other libraries write
    (ONNX, a module and its weights); `commit` moves them into place. Removed on exit.
    Errors name `target`, never the folder."""
    target = Path(target)
    try:
        stage = Path(tempfile.mkdtemp(prefix=_prefix(target.parent / "export"), suffix=".tmp", dir=target.parent))
    except OSError as e:
        raise WriteError(target, _reason(e)) from None
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def commit(staged_file: Path, target: Path) -> Path:
    """Move a finished file from a stage folder over `target` (same folder, so a rename)."""
    target = Path(target)
    check_target(target)
    try:
        with open(staged_file, "rb+") as f:
            _set_mode(f.fileno(), target)
            os.fsync(f.fileno())
        os.replace(staged_file, target)
    except OSError as e:
        raise WriteError(target, _reason(e)) from None
    fsync_dir(target.parent)
    return target


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, someone else's
        return True
    return True


def clean_orphans(folder: str | os.PathLike, target: str | None = None) -> list[str]:
    """Remove temp files and stage folders that a killed writer left in `folder`
    (only ours, by name; only if their writer is gone or they are over an hour old).
    `target`: only those for that file name. Returns the names removed."""
    removed: list[str] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        m = _TMP_RE.match(entry.name)
        if not m or (target is not None and m["target"] not in (target, "export")):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if _pid_alive(int(m["pid"])) and now - st.st_mtime < ORPHAN_AGE_S:
                continue
            if stat.S_ISDIR(st.st_mode):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed.append(entry.name)
        except OSError:
            continue
    return removed


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is out of range")
    return value


def _reject_constant(name: str):
    raise ValueError(f"{name} is not allowed")


def _depth_ok(obj, limit: int) -> bool:
    stack = [(obj, 1)]
    while stack:
        o, d = stack.pop()
        if d > limit:
            return False
        if isinstance(o, dict):
            stack.extend((v, d + 1) for v in o.values())
        elif isinstance(o, list):
            stack.extend((v, d + 1) for v in o)
    return True


def read_regular(path: str | os.PathLike, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most `max_bytes` (never a FIFO, device or link loop)."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise FileFormatError(f"{path}: cannot read the file ({_reason(e)})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            what = ("a folder" if stat.S_ISDIR(st.st_mode) else "a FIFO" if stat.S_ISFIFO(st.st_mode)
                    else "a device or socket")
            raise FileFormatError(f"{path}: cannot read the file (it is {what}, not a regular file)")
        if st.st_size > max_bytes:
            raise FileFormatError(f"{path}: {st.st_size:,} bytes, more than the {max_bytes:,} allowed")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > max_bytes:
                raise FileFormatError(f"{path}: more than the {max_bytes:,} bytes allowed")
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as e:
        raise FileFormatError(f"{path}: cannot read the file ({_reason(e)})") from None
    finally:
        os.close(fd)


def read_json(path: str | os.PathLike, max_bytes: int = 16 << 20, want: type = dict):
    """A JSON document of type `want` from a regular file; FileFormatError for anything else."""
    raw = read_regular(path, max_bytes)
    try:
        doc = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant, parse_float=_finite_float)
    except UnicodeDecodeError:
        raise FileFormatError(f"{Path(path).name}: not UTF-8 text") from None
    except RecursionError:
        raise FileFormatError(f"{Path(path).name}: nested too deeply") from None
    except ValueError as e:
        raise FileFormatError(f"{Path(path).name}: not valid JSON ({str(e)[:120]})") from None
    if not _depth_ok(doc, MAX_JSON_DEPTH):
        raise FileFormatError(f"{Path(path).name}: nested too deeply")
    if not isinstance(doc, want):
        raise FileFormatError(f"{Path(path).name}: expected a JSON {'object' if want is dict else want.__name__}")
    return doc
