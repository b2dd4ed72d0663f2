"""How long the app takes to open an imported network and draw it.

    QT_QPA_PLATFORM=offscreen python bench/import_open.py [resnet18,resnet50,...]

Imports each model (random weights), then times MainWindow.open_path plus the
first full repaint of the window, median of 3. When the import is flat (no
blocks), a second line times the same network with its submodules made blocks
(layerX_Y, then layerX, grouped here by id prefix), as issue 13 wants it opened:
collapsed, fitted to the window; and the time to enter one block and draw it.
"""
from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
from pathlib import Path


def blockify(model) -> int:
    """Group `layer1_0_*`-style ids (plus merge nodes wholly between them) into blocks,
    then each `layer1` stage; returns the number of blocks made."""
    from studio.graph import blocks
    from studio.graph.model import GraphError
    from studio.ui.editor.canvas.layout import auto_layout
    made = 0
    for depth in (2, 1):
        prefixes = []
        for n in model.nodes():
            m = re.match(r"^([a-z]+\d+)" + (r"_(\d+)" if depth == 2 else "") + r"(_|$)", n)
            if m and (depth == 2 or model.type_of(n) == "Block"):  # stages: of the blocks just made
                p = "_".join(x for x in m.groups()[:depth])
                if p not in prefixes:
                    prefixes.append(p)
        for p in prefixes:
            ids = {n for n in model.nodes() if n == p or n.startswith(p + "_")}
            grew = True
            while grew:  # an Add between two members (the residual sum) belongs inside
                grew = False
                for n in model.nodes():
                    if n not in ids and model.type_of(n) == "Add" and \
                            set(model.g.predecessors(n)) & ids and set(model.g.successors(n)) <= ids:
                        ids.add(n)
                        grew = True
            try:
                blocks.group(model, sorted(ids), name=p, nid=p if p not in model.g else None)
                made += 1
            except GraphError:
                continue
    for graph, _nid, _path in blocks.walk(model):
        for n, pos in auto_layout(graph).items():
            graph.move(n, pos)
    return made


def main() -> None:
    from PySide6.QtWidgets import QApplication

    from studio.importer import import_model, write
    from studio.project.file import load, save
    from studio.ui.shell.main_window import MainWindow
    app = QApplication.instance() or QApplication([])
    names = (sys.argv[1] if len(sys.argv) > 1 else "resnet18,resnet50,efficientnet_b0,densenet121").split(",")
    tmp = Path(tempfile.mkdtemp())
    w = MainWindow()
    w.resize(1400, 900)
    w.show()
    app.processEvents()

    def timed(path: Path, label: str) -> None:
        times = []
        for _ in range(3):
            t = time.perf_counter()
            w.open_path(path, confirm=False)
            app.processEvents()
            w.grab()  # forces a full paint
            times.append(time.perf_counter() - t)
        m = w.project.model
        print(f"{label}: {len(m)} nodes at the top, {len(m.of_type('Block'))} blocks, "
              f"open + fit + draw {statistics.median(times) * 1000:.0f} ms")

    for name in names:
        path = tmp / f"{name}.studio.json"
        write(import_model(f"torchvision:{name}", meta=True), path)
        timed(path, name)
        project = load(path)
        if not project.model.of_type("Block") and blockify(project.model):
            path = tmp / f"{name}_blocks.studio.json"
            save(project, path)
            timed(path, f"{name} with blocks")
        block = next(iter(w.project.model.of_type("Block")), None)
        if block is not None:
            t = time.perf_counter()
            w.canvas.open_block(block)
            app.processEvents()
            w.grab()
            print(f"  enter {block} ({len(w.canvas.model())} nodes inside) + draw "
                  f"{(time.perf_counter() - t) * 1000:.0f} ms")
    w.close()


if __name__ == "__main__":
    main()
