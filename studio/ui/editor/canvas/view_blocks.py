"""Block edits for CanvasView: make a block of the selection, ungroup one, repeat
it, save it to the user's library and add one from there. Each is one undo step;
a refusal is said in the status bar, never raised."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMessageBox

from studio.graph.blocks import can_repeat
from studio.graph.model import MAX_DEPTH
from studio.project.block_library import LibraryError

from studio.ui.editor import user_blocks
from studio.ui.editor.canvas.block_commands import MakeBlock, Ungroup
from studio.ui.editor.canvas.commands import (AddNode, Compound, Connect, Disconnect, SetParam, fresh_edge_ids,
                                              fresh_ids, nesting)
from studio.ui.editor.canvas.node_item import HEADER, WIDTH
from studio.ui.editor.canvas.theme import snap


class BlockEditMixin:
    """Mixed into CanvasView."""

    # -- what applies to the selection ----------------------------------------------------
    def selected_block(self) -> str | None:
        """The block, when the selection is exactly one block."""
        ids = self.selected_nodes()
        if self._model is not None and len(ids) == 1 and self._model.type_of(ids[0]) == "Block":
            return ids[0]
        return None

    def can_make_block(self) -> bool:
        return self._model is not None and not self._locked and bool(self.selected_nodes())

    def can_ungroup(self) -> bool:
        return not self._locked and self.selected_block() is not None

    def repeat_problem(self, nid: str) -> str | None:
        """Why block `nid` cannot run several times in a row; None when it can."""
        m = self._model
        if can_repeat(m, nid) or m.params(nid)["repeat"] > 1:
            return None
        info = m.shapes.info.get(nid)
        if info is not None and info.error:
            return f"Fix the block first: {info.error}"
        if info is None or info.out is None or len(info.inputs) != 1:
            return "Wire the block's input first: Repeat needs to know the shape it takes"
        x, y = info.inputs[0], info.out
        return (f"Repeat feeds the block its own output, so it must give the shape it takes: "
                f"it takes {x.full()} but gives {y.full()}")

    # -- edits -------------------------------------------------------------------------------
    def make_block(self) -> str | None:
        """The selected layers become one block (selected afterwards); its id, or None."""
        ids = self.selected_nodes()
        if not self._editable() or not ids:
            return None
        cmd = MakeBlock(self._model, ids)
        self.push(cmd)
        if cmd.error:
            self.status_message.emit(f"Cannot make a block: {cmd.error}")
            return None
        self.select_nodes([cmd.block])
        self.status_message.emit(f"Made {cmd.name} of {len(ids)} layer{'s' * (len(ids) != 1)}; "
                                 "rename it in the inspector")
        return cmd.block

    def ungroup_block(self, nid: str | None = None) -> list[str]:
        """Put a block's layers in its place (selected afterwards); their ids."""
        nid = nid or self.selected_block()
        if not self._editable() or nid is None:
            return []
        cmd = Ungroup(self._model, nid)
        self.push(cmd)
        if cmd.error:
            self.status_message.emit(f"Cannot ungroup: {cmd.error}")
            return []
        self.select_nodes(cmd.layers)
        return cmd.layers

    def repeat_block(self, nid: str | None = None, times: int | None = None) -> bool:
        nid = nid or self.selected_block()
        if not self._editable() or nid is None:
            return False
        why = self.repeat_problem(nid)
        if why:
            self.status_message.emit(why)
            return False
        if times is None:
            times = self.ask_repeat_count(self._model.params(nid)["name"], self._model.params(nid)["repeat"])
            if times is None:
                return False
        if times != self._model.params(nid)["repeat"]:
            self.push(SetParam(self._model, nid, "repeat", times))
        return True

    def save_block_to_library(self, nid: str | None = None, name: str | None = None) -> Path | None:
        """Write the block (its parameters and inside) to the user's library, under a name asked
        for; a block of the same name there is replaced only when the user says so."""
        nid = nid or self.selected_block()
        if self._model is None or nid is None:
            return None
        params = dict(self._model.params(nid))
        name = name if name is not None else self.ask_block_name(params["name"])
        if not name or not name.strip():
            return None
        params["name"] = name.strip()
        lib = user_blocks.library()
        try:
            old = lib.find(params["name"])
            if old is not None:
                answer = self.ask_replace_saved(params["name"])
                if answer is None:
                    return None
                old = old if answer else None
            path = lib.save(params, self._model.body(nid), replace=old)
        except LibraryError as e:
            self.status_message.emit(str(e))
            return None
        user_blocks.notifier().saved.emit(str(path))
        self.status_message.emit(f"Saved {params['name']} to My blocks ({path})")
        return path

    def add_library_block(self, path: str, scene_pos: QPointF | None = None,
                          on_wire: str | None = None) -> str | None:
        """A Block with a saved block's parameters and inside, centred on scene_pos, splitting
        wire `on_wire` when given (as a layer dropped on a wire does); one undo step."""
        if not self._editable():
            return None
        try:
            saved = user_blocks.library().load(path)
        except LibraryError as e:
            self.status_message.emit(f"Cannot add the block: {e}")
            return None
        if self._model.depth() + 1 + nesting(saved.body) > MAX_DEPTH:
            self.status_message.emit(f"Cannot add {saved.name} here: blocks may be nested at most "
                                     f"{MAX_DEPTH} deep")
            return None
        if scene_pos is None:
            scene_pos = self.mapToScene(self.viewport().rect().center())
        pos = (snap(scene_pos.x() - WIDTH / 2), snap(scene_pos.y() - HEADER))
        (nid,) = fresh_ids(self._model, ["Block"])
        cmd = Compound(f"Add {saved.name}")
        cmd.add(AddNode(self._model, "Block", saved.params, pos, nid=nid, body=saved.body))
        if on_wire is not None and self._model.has_edge(on_wire):
            e = self._model.edge(on_wire)
            a, b = fresh_edge_ids(self._model, 2)
            cmd.add(Disconnect(self._model, [on_wire]))
            cmd.add(Connect(self._model, e.src, e.src_port, nid, "in", eid=a))
            cmd.add(Connect(self._model, nid, "out", e.dst, e.dst_port, eid=b))
        self.push(cmd)
        self.select_nodes([nid])
        return nid

    # -- questions (tests replace these) -------------------------------------------------------
    def ask_repeat_count(self, name: str, current: int) -> int | None:
        dlg = QInputDialog(self)
        dlg.setWindowTitle("Repeat block")
        dlg.setLabelText(f"Run {name} this many times in a row (each copy with its own weights):")
        dlg.setInputMode(QInputDialog.InputMode.IntInput)
        dlg.setIntRange(1, 64)
        dlg.setIntValue(max(2, current))  # asked for Repeat: more than once, most likely
        return dlg.intValue() if dlg.exec() else None

    def ask_block_name(self, current: str) -> str | None:
        dlg = QInputDialog(self)
        dlg.setWindowTitle("Save block to library")
        dlg.setLabelText("Name in My blocks:")
        dlg.setTextEchoMode(QLineEdit.EchoMode.Normal)
        dlg.setTextValue(current)
        return dlg.textValue() if dlg.exec() else None

    def ask_replace_saved(self, name: str) -> bool | None:
        """True: replace the saved block of that name; False: keep both; None: cancel."""
        B = QMessageBox.StandardButton
        answer = QMessageBox.question(self, "Save block to library",
                                      f"My blocks already has a block named {name}. Replace it?\n"
                                      "(No keeps both.)", B.Yes | B.No | B.Cancel, B.No)
        return {B.Yes: True, B.No: False}.get(answer)
