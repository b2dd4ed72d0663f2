"""Command line: `studio` opens the app; subcommands work headless.

Exit codes: 0 success, 1 a failed validation or run, 2 bad usage or bad input.
Errors print one line; --debug prints the traceback too.
"""
from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from typing import Callable

# Modules that add subcommands: each defines add_commands(subparsers).
COMMAND_MODULES = ["studio.cli.graph", "studio.cli.train", "studio.cli.export", "studio.cli.sweep",
                   "studio.cli.importer"]


class UsageError(Exception):
    """Bad usage or bad input: exit 2."""


class RunFailed(Exception):
    """A validation or run that failed: exit 1."""


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line; argparse would print the whole usage block first.
    Subcommand parsers inherit this class."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="studio", description="Draw, train and export neural networks.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    gui = sub.add_parser("gui", help="open the desktop app (the default)")
    gui.add_argument("project", nargs="?", help="project file to open")
    gui.set_defaults(func=None, gui=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_commands(sub)
    for command in sub.choices.values():  # --debug after any subcommand too, not only some
        try:
            command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                                 help="show tracebacks on errors")
        except argparse.ArgumentError:  # the command declares it itself
            pass
        command.add_argument("--trust-code", action="append", default=[], metavar="FILE",
                             help="allow imported modules from this Python file to be rebuilt")
    return parser


def main(argv: list[str] | None = None, gui: Callable[[str | None], int] | None = None) -> int:
    """Run one command. `gui` opens the desktop app; `studio.__main__` passes it,
    so that this package never imports the Qt side."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if not argv or (argv[0].endswith(".studio.json") and len(argv) == 1):
        argv = ["gui", *argv]
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse already printed the usage line
        return 0 if e.code in (0, None) else 2
    if getattr(args, "gui", False) and gui is not None:
        return int(gui(args.project) or 0)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    if getattr(args, "trust_code", None):  # explicit consent to run a project's referenced code
        from studio.graph.opaque import trust
        for f in args.trust_code:
            trust(f)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("studio: interrupted", file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001 - the one place errors become exit codes
        if args.debug:
            traceback.print_exc()
        code = exit_code(e)
        print(f"studio: error: {one_line(e)}", file=sys.stderr)
        return code


def exit_code(e: BaseException) -> int:
    from studio.project.file import ProjectError
    from studio.settings import SettingsError
    if isinstance(e, RunFailed):
        return 1
    if isinstance(e, (UsageError, ProjectError, SettingsError, FileNotFoundError)):
        return 2
    for cls in type(e).__mro__:  # data and export errors declare themselves bad input
        if getattr(cls, "exit_code", None) is not None:
            return cls.exit_code
    return 1


def one_line(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text if "\n" not in text else text.replace("\n", " ")


if __name__ == "__main__":
    sys.exit(main())
