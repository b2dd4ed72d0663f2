"""A pickle reader for dataset files that can only build plain data.

CIFAR's python files are pickled dicts: bytes keys, a numpy uint8 array under
b"data" and lists of ints, bytes and str. Python's own unpickler, even with an
allow-list, hands numpy the array's state (dtype flags, strides, buffers), and
a forged state makes object arrays out of raw bytes (a segfault) or 200,000
images out of 300 bytes. This reader is its own small pickle machine instead:

* only the opcodes plain data needs are known; any other (objects, extensions,
  persistent ids, out-of-band buffers) is refused;
* the only globals are the few numpy and codecs names real files use, and they
  never reach numpy: they build descriptions that pickle_numpy checks;
* an array comes out only as np.frombuffer over bytes that are in the file,
  with an integer or bool dtype built from its kind and size, and a shape
  whose size times the item size equals those bytes exactly. Object dtypes,
  strides, offsets and arrays without bytes cannot be expressed;
* nesting, values, memo entries and bytes made beyond the input are capped, so
  neither a deep tuple (whose hash would recurse in C) nor bytes referenced
  many times can crash the process or multiply its memory.

Out come dicts, lists, tuples, str, bytes, bytearray, int, float, bool, None
and such arrays. Every failure is a DataError that says what is wrong.
"""
from __future__ import annotations

import struct

import numpy as np

from studio.data import pickle_numpy
from studio.data.dataset import DataError

MAX_DEPTH = 64
MAX_LONG_BYTES = 32   # LONG1/LONG4 opcodes: bigger ints are not data
MAX_ITEMS = 1 << 24   # values pushed; a CIFAR-100 train file pushes about 200,000
MAX_MEMO = 1 << 20


class _Machine:
    def __init__(self, raw: bytes):
        self.raw, self.pos = memoryview(raw), 0
        self.stack: list = []
        self.marks: list[int] = []
        self.memo: dict[int, object] = {}
        # Bytes made beyond the input (text encoded to bytes, arrays copied out): the same
        # memoized bytes referenced a thousand times must not become a thousand copies.
        self.budget, self.pushes = 2 * len(raw) + (1 << 20), 0
        self.done: dict[int, object] = {}
        self.busy: set[int] = set()
        # Nesting depth of each tuple made, by id; the tuples are kept alive so ids stay
        # unique. Hashing a deeply nested tuple (a dict key) recurses in C and would crash.
        self.tuple_depth: dict[int, int] = {}
        self.tuples: list[tuple] = []

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.raw):
            raise DataError("it is truncated")
        out = self.raw[self.pos:self.pos + n].tobytes()
        self.pos += n
        return out

    def unpack(self, fmt: str):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def line(self) -> str:
        end = bytes(self.raw[self.pos:self.pos + 256]).find(b"\n")
        if end < 0:
            raise DataError("it has a text field without an end")
        return self.take(end + 1)[:-1].decode("latin1")

    def pop_mark(self) -> list:
        if not self.marks:
            raise DataError("it closes a group it never opened")
        start = self.marks.pop()
        items, self.stack[start:] = self.stack[start:], []
        return items

    def top(self):
        if len(self.stack) <= (self.marks[-1] if self.marks else 0):
            raise DataError("it reads past the start of its stack")
        return self.stack[-1]

    def spend(self, made):
        self.budget -= len(made) if not isinstance(made, np.ndarray) else made.nbytes
        if self.budget < 0:
            raise DataError("it makes more data than the file holds (the same bytes used over and over)")
        return made

    def tuple(self, items) -> tuple:
        t = tuple(items)
        depth = 1 + max((self.tuple_depth.get(id(x), 1) for x in t if type(x) is tuple), default=0)
        if depth > MAX_DEPTH:
            raise DataError("it nests too deep")
        self.tuple_depth[id(t)] = depth
        self.tuples.append(t)
        return t

    def pop(self):
        self.top()
        return self.stack.pop()

    def put(self, key: int) -> None:
        if key < 0 or len(self.memo) > MAX_MEMO:
            raise DataError("it has an impossible memo")
        self.memo[key] = self.top()

    def get(self, key: int) -> None:
        if key not in self.memo:
            raise DataError("it refers to a value it never stored")
        self.stack.append(self.memo[key])

    def run(self):
        push, ops = self.stack.append, _OPS
        while True:
            code = self.take(1)
            op = ops.get(code)
            if op is None:
                raise DataError(f"it uses pickle opcode {code!r}, which plain data never needs; refused")
            if op is _STOP:
                if len(self.stack) != 1 or self.marks:
                    raise DataError("it ends with an unbalanced stack")
                return self.stack[0]
            value = op(self)
            if value is not _NOTHING:
                self.pushes += 1
                if self.pushes > MAX_ITEMS:
                    raise DataError(f"it holds more than {MAX_ITEMS:,} values, more than any dataset file")
                push(value)


_NOTHING, _STOP = object(), object()


def _long(data: bytes) -> int:
    if len(data) > MAX_LONG_BYTES:
        raise DataError("it holds an integer too large for data")
    return int.from_bytes(data, "little", signed=True)


def _text_int(m: _Machine):
    text = m.line()
    if text in ("00", "01"):      # protocol 0 writes booleans this way
        return text == "01"
    try:
        return int(text.rstrip("L"))
    except ValueError:
        raise DataError("it holds a malformed number") from None


def _text_float(m: _Machine):
    try:
        return float(m.line())
    except ValueError:
        raise DataError("it holds a malformed number") from None


def _setitems(m: _Machine, items: list) -> object:
    target = m.top()
    if not isinstance(target, dict) or len(items) % 2:
        raise DataError("it sets items on something that is not a dict")
    for k in range(0, len(items), 2):
        try:
            target[items[k]] = items[k + 1]
        except TypeError:
            raise DataError("it uses a dict key that cannot be a key") from None
    return _NOTHING


def _appends(m: _Machine, items: list) -> object:
    target = m.top()
    if not isinstance(target, list):
        raise DataError("it appends to something that is not a list")
    target.extend(items)
    return _NOTHING


def _reduce(m: _Machine):
    args = m.pop()
    return pickle_numpy.call(m, m.pop(), args)


def _do_build(m: _Machine):
    state = m.pop()
    pickle_numpy.build(m.top(), state)
    return _NOTHING


def _pop_any(m: _Machine):
    if m.marks and m.marks[-1] == len(m.stack):   # POP right after MARK drops the mark
        m.marks.pop()
    else:
        m.pop()
    return _NOTHING


def _mark(m: _Machine):
    m.marks.append(len(m.stack))
    return _NOTHING


def _proto(m: _Machine):
    if m.take(1)[0] > 5:
        raise DataError("it uses an unknown pickle protocol")
    return _NOTHING


def _utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        raise DataError("it holds text that is not UTF-8") from None


def _pair(m: _Machine):
    b = m.pop()
    return m.pop(), b


def _three(m: _Machine):
    c, b = m.pop(), m.pop()
    return m.pop(), b, c


_OPS = {
    b"\x80": _proto, b"\x95": lambda m: (m.unpack("<Q"), _NOTHING)[1], b".": _STOP,
    b"(": _mark, b"0": _pop_any, b"1": lambda m: (m.pop_mark(), _NOTHING)[1],
    b"2": lambda m: m.top(),
    b"N": lambda m: None, b"\x88": lambda m: True, b"\x89": lambda m: False,
    b"J": lambda m: m.unpack("<i"), b"K": lambda m: m.take(1)[0], b"M": lambda m: m.unpack("<H"),
    b"\x8a": lambda m: _long(m.take(m.take(1)[0])), b"\x8b": lambda m: _long(m.take(m.unpack("<i"))),
    b"I": _text_int, b"L": _text_int, b"G": lambda m: m.unpack(">d"), b"F": _text_float,
    b"T": lambda m: m.take(m.unpack("<i")), b"U": lambda m: m.take(m.take(1)[0]),
    b"B": lambda m: m.take(m.unpack("<I")), b"C": lambda m: m.take(m.take(1)[0]),
    b"\x8e": lambda m: m.take(m.unpack("<Q")), b"\x96": lambda m: bytearray(m.take(m.unpack("<Q"))),
    b"X": lambda m: _utf8(m.take(m.unpack("<I"))), b"\x8c": lambda m: _utf8(m.take(m.take(1)[0])),
    b"\x8d": lambda m: _utf8(m.take(m.unpack("<Q"))),
    b")": lambda m: (), b"t": lambda m: m.tuple(m.pop_mark()), b"\x85": lambda m: m.tuple((m.pop(),)),
    b"\x86": lambda m: m.tuple(_pair(m)), b"\x87": lambda m: m.tuple(_three(m)),
    b"]": lambda m: [], b"l": lambda m: m.pop_mark(), b"a": lambda m: _appends(m, [m.pop()]),
    b"e": lambda m: _appends(m, m.pop_mark()),
    b"}": lambda m: {}, b"d": lambda m: _dict_from(m.pop_mark()),
    b"s": lambda m: _setitems(m, list(_pair(m))), b"u": lambda m: _setitems(m, m.pop_mark()),
    b"c": lambda m: pickle_numpy.find_global(m.line(), m.line()),
    b"\x93": lambda m: pickle_numpy.find_global(*_pair(m)),
    b"R": _reduce, b"b": _do_build,
    b"p": lambda m: (m.put(_memo_key(m.line())), _NOTHING)[1], b"q": lambda m: (m.put(m.take(1)[0]), _NOTHING)[1],
    b"r": lambda m: (m.put(m.unpack("<I")), _NOTHING)[1], b"\x94": lambda m: (m.put(len(m.memo)), _NOTHING)[1],
    b"g": lambda m: (m.get(_memo_key(m.line())), _NOTHING)[1], b"h": lambda m: (m.get(m.take(1)[0]), _NOTHING)[1],
    b"j": lambda m: (m.get(m.unpack("<I")), _NOTHING)[1],
}


def _memo_key(text: str) -> int:
    if not text.isdigit() or len(text) > 12:
        raise DataError("it has a malformed memo key")
    return int(text)


def _dict_from(items: list) -> dict:
    if len(items) % 2:
        raise DataError("it builds a dict from an odd number of items")
    try:
        return {items[k]: items[k + 1] for k in range(0, len(items), 2)}
    except TypeError:
        raise DataError("it uses a dict key that cannot be a key") from None


def _plain(value, m: _Machine, depth: int):
    """The loaded value with every array description made a checked ndarray."""
    if value is None or isinstance(value, (bool, int, float, str, bytes, bytearray)):
        return value
    key = id(value)
    if key in m.done:
        return m.done[key]
    if key in m.busy or depth > MAX_DEPTH:
        raise DataError("it nests too deep or contains itself")
    m.busy.add(key)
    if isinstance(value, pickle_numpy.Array):
        out = m.spend(pickle_numpy.array(value))
    elif isinstance(value, list):
        out = [_plain(v, m, depth + 1) for v in value]
    elif isinstance(value, tuple):
        out = tuple(_plain(v, m, depth + 1) for v in value)
    elif isinstance(value, dict):
        out = {}
        for k, v in value.items():
            k = _plain(k, m, depth + 1)
            if isinstance(k, np.ndarray):
                raise DataError("it uses an array as a dict key")
            out[k] = _plain(v, m, depth + 1)
    else:
        raise DataError(f"it holds a {type(value).__name__.strip('_')} on its own, which is not data")
    m.busy.discard(key)
    m.done[key] = out
    return out


def loads(raw: bytes):
    """Decode a dataset pickle; DataError (without the file name) if it is anything but plain data."""
    try:
        machine = _Machine(raw)
        return _plain(machine.run(), machine, 0)
    except DataError:
        raise
    except (struct.error, IndexError, ValueError, TypeError, OverflowError, RecursionError) as e:
        raise DataError(f"it is malformed ({type(e).__name__})") from None
