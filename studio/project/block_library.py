"""The user's block library: blocks saved as small versioned JSON files in one folder.

A file holds one block: its parameters (name, repeat, ...) and its inside as a graph
document (studio.graph.blocks.to_doc). Loading checks everything with the project
file's own checks (build_graph); nothing in a file is ever executed. Listing the
folder never fails because of one bad file: it is skipped and reported with why.
No Qt here: the app passes its data folder, tests point STUDIO_BLOCKS_DIR elsewhere.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from studio import fileio
from studio.graph.blocks import to_doc, walk
from studio.graph.layers import LAYERS
from studio.graph.model import BODY_ONLY, GraphModel
from studio.project.file import ProjectError, build_graph

FORMAT = "studio.block"
VERSION = 1
SUFFIX = ".block.json"
ENV = "STUDIO_BLOCKS_DIR"
MAX_BYTES = 8 << 20


class LibraryError(ValueError):
    """A library file cannot be read or written; the message names the file and why."""


@dataclass
class LibraryBlock:
    """One saved block, checked: `body` is a fresh body GraphModel, not placed anywhere."""
    path: Path
    params: dict
    body: GraphModel

    @property
    def name(self) -> str:
        return self.params["name"]

    @property
    def layers(self) -> int:
        """Layers inside, nested blocks' layers included (a block card and the ends are not layers)."""
        return sum(1 for g, n, _ in walk(self.body) if g.type_of(n) not in BODY_ONLY + ("Block",))


@dataclass
class Skipped:
    path: Path
    reason: str


def folder(default: str | os.PathLike) -> Path:
    """The library folder: $STUDIO_BLOCKS_DIR when set, else `default` (the app's data folder)."""
    return Path(os.environ.get(ENV) or default)


def document(params: dict, body: GraphModel) -> dict:
    return {"format": FORMAT, "version": VERSION,
            "params": {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()},
            "body": to_doc(body)}


def parse(doc: object, where: str) -> tuple[dict, GraphModel]:
    """A block document's checked parameters and a freshly built body; LibraryError otherwise."""
    def need(cond: bool, msg: str) -> None:
        if not cond:
            raise LibraryError(f"{where}: {msg}")
    need(isinstance(doc, dict), "not a block (the top level must be a JSON object)")
    need(doc.get("format") == FORMAT, f'"format" must be "{FORMAT}"; is this a saved block?')
    version = doc.get("version")
    need(isinstance(version, int) and not isinstance(version, bool) and version >= 1,
         '"version" must be a whole number from 1')
    need(version <= VERSION, f"block format version {version} is newer than this Studio reads "
                             f"(up to {VERSION}); please update Studio")
    raw = doc.get("params", {})
    need(isinstance(raw, dict), '"params" must be an object')
    spec, params = LAYERS["Block"], LAYERS["Block"].defaults()
    for k, v in raw.items():
        try:
            params[k] = spec.param(k).check(v)
        except KeyError:
            raise LibraryError(f'{where}: a block has no parameter "{k}"') from None
        except ValueError as e:
            raise LibraryError(f"{where}: {e}") from None
    need("body" in doc, 'missing "body"')
    try:
        body = build_graph(doc["body"], where, body=True, depth=1)
    except ProjectError as e:
        raise LibraryError(str(e)) from None
    except RecursionError:
        raise LibraryError(f"{where}: nested too deeply") from None
    return params, body


class BlockLibrary:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def load(self, path: str | os.PathLike) -> LibraryBlock:
        path = Path(path)
        try:
            doc = fileio.read_json(path, MAX_BYTES)
        except fileio.FileFormatError as e:
            raise LibraryError(str(e)) from None
        params, body = parse(doc, path.name)
        return LibraryBlock(path, params, body)

    def entries(self) -> tuple[list[LibraryBlock], list[Skipped]]:
        """Every readable block, by name, and the files that were skipped (with why)."""
        if not self.root.is_dir():
            return [], []
        good, bad = [], []
        for path in sorted(self.root.glob(f"*{SUFFIX}")):
            try:
                good.append(self.load(path))
            except LibraryError as e:
                bad.append(Skipped(path, str(e)))
        good.sort(key=lambda b: (b.name.casefold(), b.path.name))
        return good, bad

    def find(self, name: str) -> Path | None:
        """The file of the saved block called `name`, if any."""
        return next((b.path for b in self.entries()[0] if b.name == name), None)

    def save(self, params: dict, body: GraphModel, replace: Path | None = None) -> Path:
        """Write the block atomically: over `replace`, or into a new file named after it."""
        path = Path(replace) if replace is not None else self._free_path(params["name"])
        doc = document(params, body)
        try:
            data = json.dumps(doc, indent=1, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate in some text: \u escapes keep it valid UTF-8
            data = json.dumps(doc, indent=1).encode("utf-8")
        fileio.clean_orphans(self.root)  # temp files of saves that were killed half-way
        try:
            fileio.write_atomic(path, data + b"\n")
        except fileio.WriteError as e:
            raise LibraryError(f"Cannot save the block: {e}") from None
        return path

    def rename(self, path: str | os.PathLike, name: str) -> Path:
        block = self.load(path)
        params = dict(block.params)
        try:
            params["name"] = LAYERS["Block"].param("name").check(name)
        except ValueError as e:
            raise LibraryError(str(e)) from None
        return self.save(params, block.body, replace=block.path)

    def delete(self, path: str | os.PathLike) -> None:
        path = Path(path)
        if path.parent.resolve() != self.root.resolve() or not path.name.endswith(SUFFIX):
            raise LibraryError(f"{path} is not a file of the block library")
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as e:
            raise LibraryError(f"Cannot delete {path.name}: {e.strerror or e}") from None

    def _free_path(self, name: str) -> Path:
        stem = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:60] or "block"
        path, i = self.root / f"{stem}{SUFFIX}", 2
        while path.exists():
            path, i = self.root / f"{stem}-{i}{SUFFIX}", i + 1
        return path
