"""CIFAR pickles: plain data and integer arrays backed by the file's bytes, nothing else.

Each hostile file is built here as an attacker would: numpy's own pickle
opcodes with forged states (object dtypes with flags 0, zero strides, arrays
without state), code-running globals, and opcodes plain data never uses.
"""
import pickle

import numpy as np
import pytest

from studio.data import safe_pickle
from studio.data.cifar import read_batch, read_classes
from studio.data.dataset import DataError
from tests.security import data_hostile as H

PROTOCOLS = (2, 3, 4, 5)


def _batch_file(tmp_path, value, protocol=2, name="data_batch_1"):
    path = tmp_path / name
    path.write_bytes(pickle.dumps(value, protocol=protocol) if not isinstance(value, bytes) else value)
    return path


def test_forged_object_dtype_is_refused_through_the_cli(tmp_path):
    """Before: a 6.5 kB batch with object-dtype labels killed `studio train` with SIGSEGV (exit 139)."""
    labels = H.Reduce(H.CORE.multiarray._reconstruct, (np.ndarray, (0,), b"b"),
                      (1, (2,), H.forged_dtype("O8", flags=0), False, b"A" * 16))
    raw = pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": labels}, protocol=2)
    folder = H.write_cifar(tmp_path / "cifar-10-batches-py", replace={"data_batch_1": raw})
    result = H.studio_train(tmp_path, {"dataset": "cifar10", "root": str(folder)})
    H.assert_refused(result, "data_batch_1", "object")


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("where", ["data", "labels", "label_names"])
def test_object_and_structured_dtypes_are_refused_everywhere(tmp_path, protocol, where):
    for spec in ("O8", "O", "V8", "S4", "U1", "c16", "u1,u1", "(2,)u1", "f8"):
        forged = H.Reduce(H.CORE.multiarray._reconstruct, (np.ndarray, (0,), b"b"),
                          (1, (2, 8), H.forged_dtype(spec, flags=0), False, b"A" * 2 * 8 * 16))
        value = {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 1], b"label_names": H.NAMES}
        value[where.encode()] = forged
        path = _batch_file(tmp_path, value, protocol)
        with pytest.raises(DataError, match="data_batch_1"):
            read_classes(path) if where == "label_names" else read_batch(path)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_zero_stride_array_is_refused(tmp_path, protocol):
    """Before: a 3.4 kB file became 20,000 (or 200,000) identical images; `studio train` exit 0."""
    value = {b"data": H.zero_stride_array(200_000, 3072), b"labels": H.zero_stride_array(200_000, 0, "<i8")}
    path = _batch_file(tmp_path, value, protocol)
    assert path.stat().st_size < 4000
    with pytest.raises(DataError, match="data_batch_1.*(strides|buffer)"):
        read_batch(path)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_stateless_array_is_refused(tmp_path, protocol):
    """Before: a 277-byte file became 20,000 images of uninitialised memory."""
    value = {b"data": H.stateless_array((200_000, 3072)), b"labels": [0] * 3}
    path = _batch_file(tmp_path, value, protocol)
    with pytest.raises(DataError, match="without data"):
        read_batch(path)


@pytest.mark.parametrize("shape", [(3, 3072), (1, 3072), (0, 3072), (2, 3072, 2)])
def test_array_size_must_equal_the_bytes_in_the_file(tmp_path, shape):
    raw = b"\x07" * (2 * 3072)   # bytes for 2 images, whatever the shape claims
    forged = H.Reduce(H.CORE.multiarray._reconstruct, (np.ndarray, (0,), b"b"),
                      (1, shape, H.forged_dtype("u1", flags=0), False, raw))
    path = _batch_file(tmp_path, {b"data": forged, b"labels": [0] * shape[0]})
    with pytest.raises(DataError, match="needs .* bytes, but the file holds 6144"):
        read_batch(path)


def test_ndarray_with_custom_strides_or_offsets_is_refused():
    for strides, offset in (((0, 1), 0), ((3072, 1), 8), ((-3072, 1), 0)):
        arr = H.Reduce(np.ndarray, ((2, 3072), np.dtype("u1"), b"\0" * 6144 * 2, offset, strides))
        with pytest.raises(DataError, match="strides"):
            safe_pickle.loads(pickle.dumps({b"data": arr}, protocol=2))


@pytest.mark.parametrize("labels", [[0.5, 1.9], [True, False], [1, "2"], [1, None], [1, 2 ** 80]])
def test_labels_that_are_not_whole_numbers_are_refused_not_truncated(tmp_path, labels):
    path = _batch_file(tmp_path, {b"data": np.zeros((2, 3072), np.uint8), b"labels": labels})
    with pytest.raises(DataError, match="data_batch_1.*whole numbers"):
        read_batch(path)


def test_float_label_arrays_are_refused(tmp_path):
    for arr in (np.array([0.5, 1.9]), np.array([1.0, 2.0], np.float32)):
        path = _batch_file(tmp_path, {b"data": np.zeros((2, 3072), np.uint8), b"labels": arr}, 4)
        with pytest.raises(DataError, match="float"):
            read_batch(path)


def test_code_running_pickles_never_run(tmp_path):
    marker = tmp_path / "ran"
    for payload in H.marker_payload(marker):
        for protocol in PROTOCOLS:
            for value in ({b"data": payload}, {b"data": np.zeros((1, 3072), np.uint8), b"labels": [payload]},
                          {payload: 1}, [[[payload]]]):
                with pytest.raises(DataError, match="refused"):
                    read_batch(_batch_file(tmp_path, value, protocol))
    for snippet in H.marker_snippets(marker):
        with pytest.raises(DataError):
            safe_pickle.loads(b"\x80\x02" + snippet + b".")
    assert not marker.exists()


@pytest.mark.parametrize("opcode", [b"\x81", b"\x92", b"o", b"i", b"\x82", b"P", b"Q", b"\x97", b"\x98", b"S"])
def test_object_building_opcodes_are_refused(opcode):
    with pytest.raises(DataError, match="opcode"):
        safe_pickle.loads(b"\x80\x02N" + opcode + b"\0\0\0\0\0\0\0\0.")


def test_malformed_structure_gives_data_errors():
    cyclic = b"\x80\x02]q\x00h\x00a."                # a list that contains itself
    deep = b"\x80\x02" + b"]" * 200 + b"a" * 199 + b"."
    for raw in (b"", b"\x80\x02", b"\x80\x02}(t.", b"\x80\x02)\x8b\xff\xff\xff\x7f.", cyclic, deep,
                b"\x80\x02X\xff\xff\xff\xff.", b"\x80\x02h\x05.", b"\x80\x02}]K\x01s.", b"\x80\x09N."):
        with pytest.raises(DataError):
            safe_pickle.loads(raw)


def test_real_layout_of_the_cifar_files_loads(tmp_path):
    """The real files: Python 2 cPickle protocol 2, str keys and data, numpy.core names."""
    data = np.random.default_rng(0).integers(0, 256, (3, 3072), dtype=np.uint8)
    path = _batch_file(tmp_path, H.py2_batch(data, [3, 0, 9]))
    x, y = read_batch(path)
    assert np.array_equal(x.reshape(3, 3072), data) and y.tolist() == [3, 0, 9]
    assert x.flags.writeable and x.flags.c_contiguous and y.dtype == np.int64


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_genuine_batches_decode_like_pickle(tmp_path, protocol):
    value = H.batch(4, seed=protocol)
    value[b"extra"] = {"nested": (1, 2.5, None, True, "é", b"\xff", np.arange(6, dtype=">i4").reshape(2, 3))}
    path = _batch_file(tmp_path, value, protocol)
    x, y = read_batch(path)
    assert np.array_equal(x.reshape(4, 3072), value[b"data"]) and y.tolist() == value[b"labels"]
    out = safe_pickle.loads(path.read_bytes())
    assert out[b"extra"]["nested"][:6] == value[b"extra"]["nested"][:6]
    assert np.array_equal(out[b"extra"]["nested"][6], value[b"extra"]["nested"][6])
    assert out[b"extra"]["nested"][6].dtype == np.dtype("int32")


def test_deeply_nested_tuple_key_is_refused_in_a_child_process(tmp_path):
    """Hashing a tuple nested a million deep (a dict key) recurses in C: Python's own
    unpickler segfaults on it. Run in a child so a crash fails this test only."""
    import subprocess
    import sys
    raw = b"\x80\x02}" + b")" + b"\x85" * 1_000_000 + b"K\x01s."
    (tmp_path / "data_batch_1").write_bytes(raw)
    code = ("import sys; from studio.data.cifar import read_batch; from studio.data.dataset import DataError\n"
            "try:\n    read_batch(sys.argv[1])\nexcept DataError as e:\n    print(e)")
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "data_batch_1")], capture_output=True,
                       text=True, timeout=120, cwd=H.REPO, env={**__import__("os").environ, "PYTHONPATH": str(H.REPO)})
    assert r.returncode == 0 and "nests too deep" in r.stdout, (r.returncode, r.stderr[-500:])


def test_the_same_bytes_reused_cannot_multiply_memory():
    """A 1 MB buffer stored once and referenced by 300 arrays (or encoded 300 times)
    would be 300 MB from a 1 MB file."""
    raw = b"\x01" * (1 << 20)
    arrays = [H.Reduce(H.CORE.multiarray._reconstruct, (np.ndarray, (0,), b"b"),
                       (1, (len(raw),), H.forged_dtype("u1", 0), False, raw)) for _ in range(300)]
    data = pickle.dumps({b"data": arrays}, protocol=4)
    assert len(data) < 2 * len(raw)
    with pytest.raises(DataError, match="more data than the file holds"):
        safe_pickle.loads(data)
    text = b"X" + len(raw).to_bytes(4, "little") + raw + b"q\x01"
    encodes = b"".join(b"c_codecs\nencode\nh\x01X\x06\x00\x00\x00latin1\x86R" for _ in range(300))
    with pytest.raises(DataError, match="more data than the file holds"):
        safe_pickle.loads(b"\x80\x02(" + text + encodes + b"l.")


def test_values_are_capped(monkeypatch):
    monkeypatch.setattr(safe_pickle, "MAX_ITEMS", 1000)
    with pytest.raises(DataError, match="more than 1,000 values"):
        safe_pickle.loads(b"\x80\x02(" + b"N" * 1001 + b"l.")
