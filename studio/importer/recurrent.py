"""LSTM, GRU and RNN modules return tuples; Studio's recurrent layers return
one tensor: every step, or the last step. This recognises the usual ways code
takes one of them (`out`, `out[:, -1]`, `h[-1]`) and maps the whole pattern
to one layer."""
from __future__ import annotations

import operator

from torch import fx, nn

from studio.importer.mapping import RECURRENT, Mapped, NoLayer, _tensor_args

LAST = (slice(None, None, None), -1)


def _getitem(node: fx.Node, index) -> bool:
    return (node.op == "call_function" and node.target is operator.getitem
            and len(node.args) == 2 and node.args[1] == index)


def map_recurrent(node: fx.Node, m: nn.Module) -> tuple[Mapped, list[fx.Node], set[fx.Node]]:
    """The layer, the fx nodes whose value it gives, and the plumbing nodes it replaces."""
    kind = RECURRENT[type(m)]
    if not m.batch_first:
        raise NoLayer(f"{kind} without batch_first=True")
    if not m.bias or getattr(m, "proj_size", 0) or getattr(m, "nonlinearity", "tanh") != "tanh":
        raise NoLayer(f"{kind} without bias, with a projection or a ReLU")
    if node.kwargs or len(node.args) != 1:
        raise NoLayer(f"{kind} called with an initial state")
    uni = not m.bidirectional
    finals: list[tuple[fx.Node, str]] = []
    plumbing: set[fx.Node] = set()
    for u in node.users:
        if _getitem(u, 0):  # the outputs of every step
            plumbing.add(u)
            if uni and u.users and all(_getitem(v, LAST) for v in u.users):
                finals += [(v, "last step") for v in u.users]
            else:
                finals.append((u, "all steps"))
        elif _getitem(u, 1):  # final states: h, or (h, c) for an LSTM
            plumbing.add(u)
            hs = list(u.users) if kind == "LSTM" else [u]
            for h in hs:
                if kind == "LSTM":
                    if not _getitem(h, 0):
                        raise NoLayer("LSTM whose cell state is used")
                    plumbing.add(h)
                for v in h.users:
                    if not (uni and _getitem(v, -1)):
                        raise NoLayer(f"{kind} final state used other than as h[-1]")
                    finals.append((v, "last step"))
        else:
            raise NoLayer(f"{kind} output used other than as (out, h)")
    choices = {c for _, c in finals}
    if len(choices) > 1:
        raise NoLayer(f"{kind} used both for every step and for the last step")
    params = dict(hidden_size=m.hidden_size, num_layers=m.num_layers, bidirectional=m.bidirectional,
                  output=choices.pop() if choices else "all steps", dropout=float(m.dropout))
    plumbing -= {f for f, _ in finals}
    return Mapped(kind, params, _tensor_args(node, node.args), m), [f for f, _ in finals], plumbing
