"""How long the app takes to open an imported network and draw it.

    QT_QPA_PLATFORM=offscreen python bench/import_open.py [resnet18,resnet50,...] [--flat]

Imports each model (random weights; blocks per submodule unless --flat), then
times MainWindow.open_path plus fitting and the first full repaint of the window,
median of 3; and, with blocks, the time to enter one block and draw it.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    from PySide6.QtWidgets import QApplication

    from studio.importer import import_model, write
    from studio.ui.shell.main_window import MainWindow
    app = QApplication.instance() or QApplication([])
    args = [a for a in sys.argv[1:] if a != "--flat"]
    flat = "--flat" in sys.argv[1:]
    names = (args[0] if args else "resnet18,resnet50,efficientnet_b0,densenet121").split(",")
    tmp = Path(tempfile.mkdtemp())
    w = MainWindow()
    w.resize(1400, 900)
    w.show()
    app.processEvents()
    for name in names:
        path = tmp / f"{name}.studio.json"
        result = import_model(f"torchvision:{name}", meta=True, flat=flat)
        write(result, path)
        times = []
        for _ in range(3):
            t = time.perf_counter()
            w.open_path(path, confirm=False)
            w.canvas.fit()
            app.processEvents()
            w.grab()  # forces a full paint
            times.append(time.perf_counter() - t)
        m = w.project.model
        print(f"{name}{' (flat)' if flat else ''}: {len(m)} nodes at the top, {len(m.of_type('Block'))} blocks, "
              f"{result.layers} layers, open + fit + draw {statistics.median(times) * 1000:.0f} ms")
        block = next(iter(m.of_type("Block")), None)
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
