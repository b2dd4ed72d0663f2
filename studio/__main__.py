"""`studio` and `python -m studio`: the desktop app when called without a
command (or with a project file), the headless commands otherwise.

This is the one module above both `studio.ui` and `studio.cli`."""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from studio.cli.main import main as cli_main
    return cli_main(argv, gui=_gui)


def _gui(project: str | None) -> int:
    from studio.ui.shell.app import main as gui_main
    return gui_main([project] if project else [])


if __name__ == "__main__":
    sys.exit(main())
