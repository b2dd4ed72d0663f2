"""Random edit sequences through the real canvas commands and a QUndoStack.

A hypothesis RuleBasedStateMachine adds, removes, connects, disconnects, sets
parameters, moves, pastes, inserts on wires, quick-adds, makes and ungroups
blocks, undoes and redoes, as
the canvas would (same command classes, same preconditions the UI checks
before pushing). After every step the graph must be consistent and its
incremental shapes equal a from-scratch inference; at the end, undoing
everything restores the initial graph exactly (including the input order of
merge layers) and redoing back to where it ended restores the final one.

Commands + model only, no scene: each example costs a few ms. CI runs 2,000
examples; STUDIO_FUZZ_EXAMPLES raises that (bench/fuzz_long.sh runs 10,000+).
"""
from __future__ import annotations

import os
from pathlib import Path

import networkx as nx
import shiboken6

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QApplication

from studio.project import file as projects
from studio.graph.layers import LAYERS
from studio.graph.model import GraphModel
from studio.graph.shapes import infer_fresh
from studio.ui.editor.canvas.block_commands import MakeBlock, Ungroup
from studio.ui.editor.canvas.clipboard import subgraph
from studio.ui.editor.canvas.commands import (AddNode, Connect, Disconnect, MoveNodes, RemoveNodes, SetParam,
                                       add_and_connect, fresh_ids, insert_on_edge, paste)

EXAMPLES = int(os.environ.get("STUDIO_FUZZ_EXAMPLES", "2000"))
SAMPLES = Path(__file__).resolve().parents[2] / "samples"
START = {"empty": None, **{name: (SAMPLES / f"{name}.studio.json").read_text()
                           for name in ("spiral_mlp", "shapes_cnn", "waves_lstm")}}
TYPES = sorted(t for t in LAYERS if t not in ("BlockInput", "BlockOutput"))  # inside blocks only
THROUGH = [t for t in TYPES if LAYERS[t].inputs and LAYERS[t].outputs]  # can sit on a wire
APP = QApplication.instance() or QApplication([])


SEED = st.integers(0, 2**32 - 1)


class Choices:
    """Successive small choices taken from one drawn integer (0 when it runs out)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def below(self, n: int) -> int:
        self.seed, x = divmod(self.seed, n)
        return x

    def one(self, items):
        return items[self.below(len(items))]

    def some(self, items: list, most: int, at_least: int = 1) -> list:
        """Distinct items, between at_least and most of them."""
        if not items:
            return []
        want = at_least + self.below(most - at_least + 1)
        out = []
        for _ in range(want):
            item = self.one(items)
            if item not in out:
                out.append(item)
        return out


def param_value(p, c: Choices):
    """A valid value for `p`; small, so shapes stay plausible."""
    if p.kind == "bool":
        return bool(c.below(2))
    if p.kind == "choice":
        return c.one(p.choices)
    lo = p.minimum if p.minimum is not None else 0
    hi = min(p.maximum if p.maximum is not None else lo + 8, lo + 8)
    if p.kind == "int":
        return int(lo) + c.below(int(hi) - int(lo) + 1)
    if p.kind == "size2":  # a square int, or a (height, width) pair half the time
        h, w = (int(lo) + c.below(int(hi) - int(lo) + 1) for _ in range(2))
        return h if c.below(2) else p.check((h, w))
    if p.kind == "float":
        return float(lo) + (float(hi) - float(lo)) * c.below(1001) / 1000
    if p.kind == "ints":
        top = p.maximum if p.maximum is not None else 6
        return [c.one(tuple(v for v in (-1, 1, 2, 3, 4, 6) if lo <= v <= top)) for _ in range(1 + c.below(3))]
    if p.kind == "text":  # an opaque node's reference: the default refers to nothing, safely
        return p.default
    raise AssertionError(p.kind)


def input_order(m: GraphModel) -> dict[str, list[str]]:
    return {n: [e.id for e in m.in_edges(n)] for n in m.nodes()}


class UndoMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.stack = QUndoStack()
        self.m = GraphModel()

    @initialize(start=st.sampled_from(sorted(START)))
    def start(self, start) -> None:
        if START[start] is not None:
            self.m = projects.loads(START[start]).model
        self.initial = (self.m.snapshot(), input_order(self.m))

    def push(self, cmd) -> None:
        self.stack.push(cmd)  # PySide re-raises an exception from redo(): the test fails

    # -- edits ---------------------------------------------------------------------------
    # Each rule draws one integer and derives its choices from it (Choices), and does
    # nothing when it does not apply (no preconditions, which hypothesis satisfies by
    # redrawing): most of an example's time was spent in draws, not in the model.
    @rule(r=SEED)
    def add(self, r) -> None:
        c = Choices(r)
        type_ = c.one(TYPES)
        params = {p.name: param_value(p, c) for p in LAYERS[type_].params if c.below(3) == 0}
        (nid,) = fresh_ids(self.m, [type_])
        self.push(AddNode(self.m, type_, params, (c.below(1000) - 500, c.below(1000) - 500), nid=nid))

    @rule(r=SEED)
    def remove(self, r) -> None:
        c = Choices(r)
        if not len(self.m):
            return
        ids = c.some(self.m.nodes(), 3)
        edges = [e.id for e in self.m.edges() if e.src not in ids and e.dst not in ids]
        self.push(RemoveNodes(self.m, ids, c.some(edges, 2, at_least=0)))

    @rule(r=SEED)
    def connect(self, r) -> None:
        c, m = Choices(r), self.m
        outs = [(n, p) for n in m.nodes() for p in LAYERS[m.type_of(n)].port_names("out")]
        ins = [(n, p) for n in m.nodes() for p in LAYERS[m.type_of(n)].inputs]
        if not outs or not ins:
            return
        (src, sp), (dst, port) = c.one(outs), c.one(ins)
        if src == dst or any(e.src == src and e.src_port == sp for e in m.in_edges(dst, port.name)):
            return  # the canvas never offers these ports
        if c.below(4) and dst in nx.ancestors(m.g, src):
            return  # the canvas refuses loops; files may still hold them, so sometimes allow
        replace = [] if port.multi else [e.id for e in m.in_edges(dst, port.name)]
        self.push(Connect(m, src, sp, dst, port.name, replace=replace))

    @rule(r=SEED)
    def disconnect(self, r) -> None:
        if self.m.edges():
            self.push(Disconnect(self.m, Choices(r).some([e.id for e in self.m.edges()], 2)))

    @rule(r=SEED)
    def set_param(self, r) -> None:
        c = Choices(r)
        nodes = [n for n in self.m.nodes() if LAYERS[self.m.type_of(n)].params]
        if nodes:
            nid = c.one(nodes)
            p = c.one(LAYERS[self.m.type_of(nid)].params)
            self.push(SetParam(self.m, nid, p.name, param_value(p, c)))

    @rule(r=SEED)
    def move(self, r) -> None:
        c = Choices(r)
        if not len(self.m):
            return
        dx, dy = c.below(600) - 300, c.below(600) - 300
        moves = {n: (self.m.pos(n), (self.m.pos(n)[0] + dx, self.m.pos(n)[1] + dy))
                 for n in c.some(self.m.nodes(), 3)}
        self.push(MoveNodes(self.m, moves))

    @rule(r=SEED)
    def paste_copy(self, r) -> None:
        if not len(self.m):
            return
        cmd, _new = paste(self.m, subgraph(self.m, Choices(r).some(self.m.nodes(), 4)), (40.0, 40.0))
        self.push(cmd)

    @rule(r=SEED)
    def insert_on_wire(self, r) -> None:
        c = Choices(r)
        if not self.m.edges():
            return
        eid = c.one(self.m.edges()).id
        cmd, _nid = insert_on_edge(self.m, eid, layer=c.one(THROUGH), make_room=bool(c.below(2)))
        self.push(cmd)

    @rule(r=SEED)
    def quick_add(self, r) -> None:
        c, m = Choices(r), self.m
        ports = ([(n, p, "out") for n in m.nodes() for p in LAYERS[m.type_of(n)].port_names("out")]
                 + [(n, p, "in") for n in m.nodes() for p in LAYERS[m.type_of(n)].port_names("in")])
        if not ports:
            return
        cmd, _nid = add_and_connect(m, c.one(TYPES), (0.0, 0.0), c.one(ports))
        self.push(cmd)

    @rule(r=SEED)
    def make_block(self, r) -> None:
        if len(self.m):  # most random selections are refused: the command is dropped, no step
            self.push(MakeBlock(self.m, Choices(r).some(self.m.nodes(), 4)))

    @rule(r=SEED)
    def ungroup(self, r) -> None:
        blocks = self.m.of_type("Block")
        if blocks:
            self.push(Ungroup(self.m, Choices(r).one(blocks)))

    @rule()
    def undo(self) -> None:
        self.stack.undo()

    @rule()
    def redo(self) -> None:
        self.stack.redo()

    # -- invariants ------------------------------------------------------------------------
    @invariant()
    def consistent(self) -> None:
        m = self.m
        index = {(e.src, e.dst, e.id, e.src_port, e.dst_port) for e in m.edges()}
        nx_edges = {(u, v, k, d["src_port"], d["dst_port"]) for u, v, k, d in m.g.edges(keys=True, data=True)}
        assert index == nx_edges, "networkx graph and edge index disagree"
        assert len(index) == len(m.edges())
        for e in m.edges():
            assert e.src in m.g and e.dst in m.g
            assert e.src_port in LAYERS[m.type_of(e.src)].port_names("out")
            assert e.dst_port in LAYERS[m.type_of(e.dst)].port_names("in")
        for n in m.nodes():
            spec = LAYERS[m.type_of(n)]
            for port in spec.inputs:
                if not port.multi:
                    assert len(m.in_edges(n, port.name)) <= 1, f"{n}.{port.name} has several wires"

    @invariant()
    def shapes_match_fresh_inference(self) -> None:
        assert set(self.m.shapes.info) == set(self.m.nodes())
        assert self.m.shapes.info == infer_fresh(self.m)

    def teardown(self) -> None:
        if not hasattr(self, "initial"):
            return
        final, at = (self.m.snapshot(), input_order(self.m)), self.stack.index()
        while self.stack.canUndo():
            self.stack.undo()
        assert (self.m.snapshot(), input_order(self.m)) == self.initial, "undo-all differs from the start"
        assert self.m.shapes.info == infer_fresh(self.m)
        while self.stack.index() < at:
            self.stack.redo()
        assert (self.m.snapshot(), input_order(self.m)) == final, "redo back differs from the end"
        assert self.m.shapes.info == infer_fresh(self.m)
        # Delete the stack and its commands now: left to the garbage collector, some
        # were destroyed at interpreter exit after the QApplication (a segfault once in ~5 runs).
        self.stack.clear()
        shiboken6.delete(self.stack)


UndoMachine.TestCase.settings = settings(max_examples=EXAMPLES, stateful_step_count=12, deadline=None,
                                         suppress_health_check=list(HealthCheck))
TestUndoMachine = UndoMachine.TestCase
