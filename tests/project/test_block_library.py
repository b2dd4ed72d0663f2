"""The user's block library on disk: versioned files, checked on load, bad files skipped."""
from __future__ import annotations

import json

import pytest

from studio.graph.blocks import group
from studio.graph.builder import sequential
from studio.project.block_library import (ENV, FORMAT, SUFFIX, BlockLibrary, LibraryError, folder)

CONV = ("Conv2d", {"out_channels": 8, "padding": 1})


def a_block():
    m, ids = sequential([CONV, "ReLU", CONV, "Flatten", ("Linear", {"out_features": 4})],
                        input_params={"height": 8, "width": 8})
    rec = group(m, ids[1:4], "Stem")
    return m, rec.block


def test_save_then_load_gives_the_same_inside(tmp_path):
    m, blk = a_block()
    lib = BlockLibrary(tmp_path / "blocks")  # made on first save
    path = lib.save(m.params(blk), m.body(blk))
    assert path.name == f"Stem{SUFFIX}" and path.parent == tmp_path / "blocks"
    doc = json.loads(path.read_text())
    assert doc["format"] == FORMAT and doc["version"] == 1 and doc["params"]["name"] == "Stem"
    (got,), skipped = lib.entries()
    assert skipped == []
    assert got.name == "Stem" and got.layers == 3
    assert got.body.snapshot() == m.body(blk).snapshot()
    assert got.body.is_body and got.body.parent is None
    # a second save of the same name never overwrites silently
    assert lib.save(m.params(blk), m.body(blk)).name == f"Stem-2{SUFFIX}"
    assert lib.find("Stem") in {path, tmp_path / "blocks" / f"Stem-2{SUFFIX}"}


def test_rename_and_delete(tmp_path):
    m, blk = a_block()
    lib = BlockLibrary(tmp_path)
    path = lib.save(m.params(blk), m.body(blk))
    lib.rename(path, "Feature stem")
    (got,), _ = lib.entries()
    assert got.name == "Feature stem" and got.path == path
    with pytest.raises(LibraryError, match="not a file of the block library"):
        lib.delete(tmp_path.parent / "elsewhere.block.json")
    lib.delete(path)
    assert lib.entries() == ([], [])


@pytest.mark.parametrize("content, why", [
    (b"{not json", "not valid JSON"),
    (b"[]", "expected a JSON object"),
    (json.dumps({"format": "studio.project", "version": 1}).encode(), "is this a saved block"),
    (json.dumps({"format": FORMAT, "version": 99, "body": {}}).encode(), "newer than this Studio"),
    (json.dumps({"format": FORMAT, "version": 1, "params": {"repeat": 0},
                 "body": {"nodes": [], "edges": []}}).encode(), "repeat"),
    (json.dumps({"format": FORMAT, "version": 1, "params": {"evil": "__import__('os')"},
                 "body": {"nodes": [], "edges": []}}).encode(), 'no parameter "evil"'),
    (json.dumps({"format": FORMAT, "version": 1, "params": {},
                 "body": {"nodes": [{"id": "x", "type": "Input"}], "edges": []}}).encode(),
     "not inside a block"),
    (json.dumps({"format": FORMAT, "version": 1, "params": {},
                 "body": {"nodes": [{"id": "x", "type": "Unheard"}], "edges": []}}).encode(),
     "unknown layer type"),
    (b"\xff\xfe", "not UTF-8"),
])
def test_a_bad_file_is_skipped_with_the_reason(tmp_path, content, why):
    m, blk = a_block()
    lib = BlockLibrary(tmp_path)
    lib.save(m.params(blk), m.body(blk))
    (tmp_path / f"bad{SUFFIX}").write_bytes(content)
    good, skipped = lib.entries()
    assert [b.name for b in good] == ["Stem"]
    assert len(skipped) == 1 and skipped[0].path.name == f"bad{SUFFIX}"
    assert why in skipped[0].reason and f"bad{SUFFIX}" in skipped[0].reason
    with pytest.raises(LibraryError):
        lib.load(tmp_path / f"bad{SUFFIX}")


def test_a_folder_or_link_named_like_a_block_is_skipped(tmp_path):
    (tmp_path / f"dir{SUFFIX}").mkdir()
    good, skipped = BlockLibrary(tmp_path).entries()
    assert good == [] and "folder" in skipped[0].reason


def test_missing_folder_lists_nothing_and_env_overrides(tmp_path, monkeypatch):
    assert BlockLibrary(tmp_path / "nope").entries() == ([], [])
    monkeypatch.setenv(ENV, str(tmp_path / "mine"))
    assert folder("/default") == tmp_path / "mine"
    monkeypatch.delenv(ENV)
    assert str(folder("/default")) == "/default"
