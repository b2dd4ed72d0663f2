"""What numpy's array pickles may say in a dataset file, checked and built without numpy's unpickling code.

The globals a pickle names become _Global markers; calls and BUILD states
become _DType and Array descriptions; array() turns a description into an
ndarray only from bytes in the file, with an integer or bool dtype made here
from its kind and size. safe_pickle's machine is the only caller.
"""
from __future__ import annotations

import math
import re

import numpy as np

from studio.data.dataset import DataError

MAX_DIMS = 8


class _Global:
    """A refused-by-default name; only the ones in _GLOBALS can be called."""

    def __init__(self, name: str):
        self.name = name


def _names(kind: str, modules: tuple[str, ...], attr: str) -> dict:
    return {(m, attr): _Global(kind) for m in modules}


_CORE = ("numpy.core.multiarray", "numpy._core.multiarray")
_GLOBALS = {**_names("reconstruct", _CORE, "_reconstruct"), **_names("scalar", _CORE, "scalar"),
            **_names("frombuffer", ("numpy.core.numeric", "numpy._core.numeric"), "_frombuffer"),
            ("numpy", "ndarray"): _Global("ndarray"), ("numpy", "dtype"): _Global("dtype"),
            ("_codecs", "encode"): _Global("encode")}


class _DType:
    """numpy.dtype(spec) as named in the file; becomes a real dtype only in _dtype()."""

    def __init__(self, spec):
        self.spec, self.endian, self.built = _text(spec, "dtype"), "", False


class Array:
    """An array as described in the file; becomes one only in array()."""

    def __init__(self, shape=None, dtype=None, fortran=False, raw=None):
        self.shape, self.dtype, self.fortran, self.raw = shape, dtype, fortran, raw


def _text(value, what: str) -> str:
    if isinstance(value, bytes):
        value = value.decode("latin1")
    if not isinstance(value, str):
        raise DataError(f"its {what} is {type(value).__name__}, not text")
    return value


_DTYPE_SPEC = re.compile(r"([<>|=]?)(u1|u2|u4|u8|i1|i2|i4|i8|b1)")


def _dtype(d) -> np.dtype:
    """An integer or bool dtype from the kind and size named in the file; flags,
    fields and sub-arrays in the file's state are never used."""
    if not isinstance(d, _DType):
        raise DataError(f"an array's dtype is {type(d).__name__}, not a dtype")
    m = _DTYPE_SPEC.fullmatch(d.spec)
    if m is None:
        kind = {"O": "Python object", "f": "float", "c": "complex", "V": "raw record", "S": "text",
                "U": "text", "M": "date", "m": "time"}.get(d.spec.lstrip("<>|=")[:1], repr(d.spec))
        raise DataError(f"it holds a {kind} array; a dataset file may hold only integer arrays")
    endian = d.endian or m.group(1) or "="
    return np.dtype(("|" if m.group(2)[1] == "1" else endian) + m.group(2))


def _shape(shape) -> tuple[int, ...]:
    if not isinstance(shape, tuple) or len(shape) > MAX_DIMS or \
            not all(type(n) is int and 0 <= n < 1 << 48 for n in shape) or \
            math.prod(n for n in shape if n) >= 1 << 48:   # even when another size is 0
        raise DataError(f"an array has an impossible shape {str(shape)[:80]}")
    return shape


def array(a: Array) -> np.ndarray:
    if a.raw is None:
        raise DataError("it holds an array without data (forged or truncated)")
    dtype, shape = _dtype(a.dtype), _shape(a.shape)
    raw = a.raw.encode("latin1") if isinstance(a.raw, str) else a.raw   # py2 pickles hold str
    if not isinstance(raw, (bytes, bytearray)):
        raise DataError("it holds an array of Python objects; a dataset file may hold only integer arrays")
    need = math.prod(shape) * dtype.itemsize
    if need != len(raw):
        raise DataError(f"an array of shape {shape} needs {need} bytes, but the file holds {len(raw)} for it")
    flat = np.frombuffer(raw, dtype).astype(dtype.newbyteorder("="))   # a copy: writable, native order
    return np.ascontiguousarray(flat.reshape(shape, order="F" if a.fortran else "C"))


def call(m, func, args):
    """REDUCE: the only calls a dataset pickle makes, checked, nothing from numpy run."""
    if not isinstance(func, _Global) or not isinstance(args, tuple):
        raise DataError("it calls something that is not a known function")
    kind = func.name
    if kind == "encode" and len(args) in (1, 2) and isinstance(args[0], str):
        encoding = args[1] if len(args) == 2 else "utf-8"
        if encoding not in ("latin1", "latin-1", "utf-8", "utf8"):
            raise DataError(f"it asks for text encoding {str(encoding)[:40]!r}")
        return m.spend(args[0].encode(encoding, "surrogatepass"))
    if kind == "dtype" and len(args) == 3:
        return _DType(args[0])
    if kind == "reconstruct" and len(args) == 3 and isinstance(args[0], _Global) and args[0].name == "ndarray":
        return Array()   # state (shape, dtype, bytes) must follow in BUILD
    if kind == "frombuffer" and len(args) == 4 and isinstance(args[0], (bytes, bytearray)):
        if args[3] not in ("C", "F"):
            raise DataError("an array has an unknown memory order")
        return Array(args[2], args[1], args[3] == "F", args[0])
    if kind == "scalar" and len(args) == 2 and isinstance(args[1], (bytes, str)):
        value = array(Array((), args[0], False, args[1]))
        return value.item()
    if kind == "ndarray":
        raise DataError("it builds a numpy array over a buffer with its own shape and strides, "
                        "which no dataset file does")
    raise DataError(f"it calls {kind} in a way no dataset file does")


def build(obj, state) -> None:
    """BUILD: the state of a dtype or an array, nothing else."""
    if isinstance(obj, _DType) and not obj.built and isinstance(state, tuple) and len(state) in (8, 9):
        if any(v is not None for v in state[2:5]):
            raise DataError("it holds a structured dtype; a dataset file may hold only integer arrays")
        obj.endian, obj.built = _text(state[1], "byte order"), True
        if obj.endian not in "<>|=" or len(obj.endian) != 1:
            raise DataError("a dtype has an unknown byte order")
        return
    if isinstance(obj, Array) and obj.raw is None and isinstance(state, tuple) and len(state) in (4, 5):
        obj.shape, obj.dtype, fortran, obj.raw = state[-4:]
        if type(fortran) not in (bool, int):
            raise DataError("an array has an unknown memory order")
        obj.fortran = bool(fortran)
        if obj.raw is None:
            raise DataError("it holds an array without data")
        return
    raise DataError(f"it sets the state of {type(obj).__name__.strip('_')}, which no dataset file does")


def find_global(module, name):
    if not isinstance(module, str) or not isinstance(name, str):
        raise DataError("it names a global that is not text")
    g = _GLOBALS.get((module, name))
    if g is None:
        raise DataError(f"refused to load {module[:60]}.{name[:60]}: a data file may hold only arrays, "
                        "numbers and text, so this file is not a genuine dataset")
    return g
