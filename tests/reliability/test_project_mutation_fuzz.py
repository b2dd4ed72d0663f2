"""Corrupted project files: every variant loads or raises ProjectError, never anything else.

A seeded generator (not hypothesis: fast and the same every run) corrupts each
sample in samples/: truncation, bit flips, random bytes, deleted keys, type swaps,
huge and non-finite numbers, 100k-deep nesting, duplicate and dangling ids,
wrong encodings. A variant that loads must also validate and survive a save
and reload, since that is what the app does next with it.
"""
from __future__ import annotations

import copy
import json
import random
from pathlib import Path


from studio.project import file as projects
from studio.project.file import ProjectError
from studio.graph.validate import validate

SAMPLES = sorted((Path(__file__).resolve().parents[2] / "samples").glob("*.studio.json"))
PER_SAMPLE = {"truncate": 25, "flip": 35, "bytes": 10, "structure": 90}
DEEP = 100_000
ODD_VALUES = [None, True, False, 0, -1, 1.5, -0.0, 2**63, -(2**63), 10**300, 10**400, 1e308, -1e308, 5e-324,
              "", "x" * 5000, "\ud800", "Input", "out", [], {}, [1, 2], [[]], {"id": "x"}, [None]]
HOLE = "\u0000HOLE\u0000"  # replaced by raw text json.dumps cannot write (deep nesting, 1e999, NaN)
RAW = ["[" * DEEP + "]" * DEEP, "{\"a\":" * DEEP + "1" + "}" * DEEP, "1e999", "-1e999", "NaN", "Infinity",
       "1" * 5000, "[" * 500 + "]" * 500]


def _paths(doc, path=()):
    """Every (container, key) in the document, for picking a place to damage."""
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for k, v in items:
        yield path + (k,)
        yield from _paths(v, path + (k,))


def _at(doc, path):
    for k in path:
        doc = doc[k]
    return doc


def _structural(doc: dict, rng: random.Random) -> tuple[str, bytes]:
    d = copy.deepcopy(doc)
    path = rng.choice(list(_paths(d)))
    parent, key = _at(d, path[:-1]), path[-1]
    op = rng.choice(["delete", "swap", "swap", "raw", "duplicate", "rename", "retarget"])
    where = "/".join(map(str, path))
    if op == "delete":
        del parent[key]
    elif op == "swap":
        parent[key] = rng.choice(ODD_VALUES)
    elif op == "raw":
        parent[key] = HOLE
        return f"raw {where}", json.dumps(d).replace(json.dumps(HOLE), rng.choice(RAW)).encode()
    elif op == "duplicate" and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[key]))      # duplicate node/edge ids, repeated wires
    elif op == "rename" and isinstance(parent, dict):
        parent[str(key) + rng.choice(["_", "X", ""])] = parent.pop(key)
    else:  # point an id-like string at another node, or at nothing
        ids = [n.get("id") for n in d["graph"]["nodes"] if isinstance(n, dict)]
        parent[key] = rng.choice(ids + ["ghost", "input1", "out", "in"])
    return f"{op} {where}", json.dumps(d, ensure_ascii=False).encode("utf-8", "surrogatepass")


def variants(raw: bytes, seed: int):
    rng = random.Random(seed)
    doc = json.loads(raw)
    for _ in range(PER_SAMPLE["truncate"]):
        cut = rng.randrange(len(raw))
        yield f"truncate at {cut}", raw[:cut]
    for _ in range(PER_SAMPLE["flip"]):
        b = bytearray(raw)
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        yield "bit flips", bytes(b)
    for _ in range(PER_SAMPLE["bytes"]):
        b = bytearray(raw)
        at = rng.randrange(len(b))
        b[at:at + 8] = rng.randbytes(8)
        yield f"random bytes at {at}", bytes(b)
    for _ in range(PER_SAMPLE["structure"]):
        yield _structural(doc, rng)
    nodes = doc["graph"]["nodes"]
    fixed = {
        "empty": b"", "null": b"null", "list": b"[]", "BOM": b"\xef\xbb\xbf" + raw,
        "UTF-16": raw.decode().encode("utf-16"), "deep top level": b"[" * DEEP + b"]" * DEEP,
        "version 99": raw.replace(b'"version": 1', b'"version": 99'),
        "duplicate node": json.dumps({**doc, "graph": {**doc["graph"], "nodes": nodes + nodes[:1]}}).encode(),
        "duplicate JSON key": raw.replace(b'"version": 1', b'"version": 1, "version": "one"'),
        "wire to itself": json.dumps({**doc, "graph": {"nodes": nodes, "edges": [
            {"src": nodes[0]["id"], "dst": nodes[0]["id"]}]}}).encode(),
    }
    yield from fixed.items()


def _check(name: str, data: bytes) -> str:
    try:
        project = projects.loads(data, name)
    except ProjectError as e:
        assert str(e).startswith(name), f"the message should name the file: {e}"
        return "rejected"
    validate(project.model)  # what the window does next
    projects.loads(projects.dumps(project).encode("utf-8"), name)
    return "loaded"


def test_every_corrupted_sample_loads_or_raises_project_error():
    assert SAMPLES, "no samples to corrupt"
    outcomes = {"loaded": 0, "rejected": 0}
    crashes = []
    for i, path in enumerate(SAMPLES):
        for what, data in variants(path.read_bytes(), seed=1000 + i):
            try:
                outcomes[_check(path.name, data)] += 1
            except Exception as e:  # noqa: BLE001 - collected, so one run lists every crash
                crashes.append(f"{path.name}: {what}: {type(e).__name__}: {str(e)[:200]}")
    total = sum(outcomes.values()) + len(crashes)
    print(f"{total} variants: {outcomes}, {len(crashes)} crashes")
    assert total >= 1000 and total == len(SAMPLES) * (sum(PER_SAMPLE.values()) + 10)
    assert not crashes, "\n".join(crashes[:30])
    assert outcomes["rejected"] > 500 and outcomes["loaded"] > 50  # both paths are exercised


def test_a_lone_surrogate_loads_saves_and_comes_back(tmp_path):
    """JSON allows lone surrogates in strings and UTF-8 cannot hold them: saving writes
    them as \\u escapes, so the file is valid UTF-8 and the text comes back unchanged."""
    text = '{"format": "studio.project", "version": 1, "graph": {"nodes": [], "edges": []}, "name": "\\ud800"}'
    project = projects.loads(text)
    path = projects.save(project, tmp_path / "out.studio.json")
    path.read_bytes().decode("utf-8")
    assert projects.load(path).name == "\ud800"
