"""Undoable block edits: make a block of selected layers, take one apart.

Both keep object identity across undo/redo: a redo refills the same body
object with the same ids (and ungroup reuses its wire ids), so commands made
inside the block, or on the layers after ungrouping, stay valid.
A refused edit (studio.graph.blocks says why in a GraphError) leaves the graph
untouched; the command keeps the message in `error` and marks itself obsolete,
so pushing it adds no undo step.
"""
from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from studio.graph.blocks import Grouping, Ungrouping, group, undo_group, undo_ungroup, ungroup
from studio.graph.model import GraphError, GraphModel


def free_block_name(model: GraphModel, base: str = "Block") -> str:
    """`base`, or base2, base3... if a block here already has that name."""
    taken = {model.params(n)["name"] for n in model.of_type("Block")}
    name, i = base, 2
    while name in taken:
        name, i = f"{base}{i}", i + 1
    return name


class MakeBlock(QUndoCommand):
    def __init__(self, model: GraphModel, ids: list[str], name: str | None = None):
        n = len(ids)
        super().__init__(f"Make block of {n} layer{'s' * (n != 1)}")
        self.model, self.ids = model, list(ids)
        self.name = name or free_block_name(model)
        self.rec: Grouping | None = None
        self.error: str | None = None

    @property
    def block(self) -> str | None:
        return self.rec.block if self.rec else None

    def redo(self) -> None:
        if self.rec is not None:  # a redo: the same id and the same (emptied) body object
            self.rec = group(self.model, self.ids, self.name, nid=self.rec.block, body=self.rec.body)
            return
        try:
            self.rec = group(self.model, self.ids, self.name)
        except GraphError as e:
            self.error = str(e)
            self.setObsolete(True)

    def undo(self) -> None:
        undo_group(self.model, self.rec)


class Ungroup(QUndoCommand):
    def __init__(self, model: GraphModel, nid: str):
        super().__init__("Ungroup block")
        self.model, self.nid = model, nid
        self.rec: Ungrouping | None = None
        self.edge_ids: list[str] | None = None
        self.error: str | None = None

    @property
    def layers(self) -> list[str]:
        """The block's layers as placed outside (their ids there)."""
        return list(self.rec.renamed.values()) if self.rec else []

    def redo(self) -> None:
        try:
            self.rec = ungroup(self.model, self.nid, self.edge_ids)
        except GraphError as e:
            if self.edge_ids is not None:
                raise  # a redo must replay what once worked
            self.error = str(e)
            self.setObsolete(True)
            return
        self.edge_ids = list(self.rec.added_edges)

    def undo(self) -> None:
        undo_ungroup(self.model, self.rec)
