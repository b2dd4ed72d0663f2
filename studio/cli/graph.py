"""`studio validate` and `studio summary`: read a project, print shapes and costs."""
from __future__ import annotations

import argparse

import networkx as nx

from studio.project.file import Project, load
from studio.graph.validate import problems_by_node, validate


def add_commands(sub) -> None:
    p = sub.add_parser("validate", help="check a project and print every layer's output shape")
    _common(p)
    p.set_defaults(func=cmd_validate)
    p = sub.add_parser("summary", help="a table of layers, shapes, parameters and multiply-adds")
    _common(p)
    p.set_defaults(func=cmd_summary)


def _common(p) -> None:
    p.add_argument("project")
    # Also accepted after the subcommand; SUPPRESS keeps a top-level --debug from being reset.
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors")


def ordered(project: Project) -> list[str]:
    g = project.model.g
    try:
        return list(nx.lexicographical_topological_sort(g, key=lambda n: (project.model.pos(n)[0], n)))
    except nx.NetworkXUnfeasible:
        return sorted(g, key=lambda n: (project.model.pos(n)[0], n))


def cmd_validate(args) -> int:
    project = load(args.project)
    m = project.model
    problems = validate(m)
    per_node = problems_by_node(problems)
    width = max([len(n) for n in m.nodes()] + [4])
    for nid in ordered(project):
        shape = m.shapes.out(nid)
        mark = "✗" if nid in per_node else "✓"
        label = shape.full() if shape is not None else "?"
        print(f"{mark} {nid:<{width}}  {m.type_of(nid):<18} {label}")
        for p in per_node.get(nid, []):
            print(f"    error: {p.message}" + (f"  [fix: {p.fix.label}]" if p.fix else ""))
    for p in per_node.get(None, []):
        print(f"error: {p.message}")
    if problems:
        print(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} found")
        return 1
    print("The network is valid.")
    return 0


def human(n: int) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.2f}{unit}"
    return str(n)


def summary_rows(project: Project) -> list[tuple[str, str, str, int, int]]:
    m = project.model
    rows = []
    for nid in ordered(project):
        info = m.shapes.info.get(nid)
        shape = info.out.full() if info and info.out is not None else "?"
        rows.append((nid, m.type_of(nid), shape, info.weights if info else 0, info.macs if info else 0))
    return rows


def cmd_summary(args) -> int:
    project = load(args.project)
    rows = summary_rows(project)
    head = ("Layer (type)", "Output shape", "Param #", "Mult-adds")
    cells = [(f"{n} ({t})", s, f"{w:,}", f"{mac:,}") for n, t, s, w, mac in rows]
    widths = [max([len(head[i])] + [len(c[i]) for c in cells]) for i in range(4)]
    line = "─" * (sum(widths) + 6)
    print(line)
    print(f"{head[0]:<{widths[0]}}  {head[1]:<{widths[1]}}  {head[2]:>{widths[2]}}  {head[3]:>{widths[3]}}")
    print(line.replace("─", "═"))
    for c in cells:
        print(f"{c[0]:<{widths[0]}}  {c[1]:<{widths[1]}}  {c[2]:>{widths[2]}}  {c[3]:>{widths[3]}}")
    print(line)
    total_w = sum(r[3] for r in rows)
    total_m = sum(r[4] for r in rows)
    print(f"Total params: {total_w:,} ({human(total_w)}, {total_w * 4 / 1e6:.2f} MB as float32)")
    print(f"Total mult-adds per example: {total_m:,} ({human(total_m)})")
    print(line)
    return 1 if validate(project.model) else 0
