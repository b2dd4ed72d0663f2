"""Command line: `studio` opens the app; subcommands work headless.

Exit codes: 0 success, 1 a failed validation or run, 2 bad usage or bad input.
Errors print one line (summarized past MAX_ERROR characters); --debug prints the
traceback too. Python warnings (TorchScript, numpy overflow, ...) are not
printed unless --debug: stderr stays the progress and that one line.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
import warnings
from typing import Callable

MAX_ERROR = 400  # characters of an error line; the rest is summarized

# Exceptions that only a bug raises: reported as such, never as if the input were at fault.
BUGS = (TypeError, KeyError, IndexError, AttributeError, NameError, AssertionError, ZeroDivisionError,
        UnboundLocalError, NotImplementedError)

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
        with warnings.catch_warnings():
            if not args.debug:
                warnings.simplefilter("ignore")
            return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("studio: interrupted", file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001 - the one place errors become exit codes
        if args.debug:
            traceback.print_exc()
        code = exit_code(e)
        print(f"studio: error: {one_line(e, None if args.debug else MAX_ERROR)}", file=sys.stderr)
        return code


def exit_code(e: BaseException) -> int:
    from studio.project.file import ProjectError
    from studio.settings import SettingsError
    if isinstance(e, RunFailed):
        return 1
    if isinstance(e, (UsageError, ProjectError, SettingsError, FileNotFoundError, IsADirectoryError,
                      NotADirectoryError)):
        return 2
    code = getattr(e, "exit_code", None)  # data, weights and export errors say what they are
    if isinstance(code, int) and code in (1, 2):
        return code
    return 1


def one_line(e: BaseException, limit: int | None = MAX_ERROR) -> str:
    """The error as one line of at most `limit` characters, whatever raised it."""
    if isinstance(e, BUGS):
        detail = " ".join(str(e).split())
        text = f"unexpected {type(e).__name__}{': ' + detail if detail else ''} (a bug in Studio; --debug shows where)"
    elif isinstance(e, OSError) and type(e).__str__ is OSError.__str__ and e.strerror:
        # "[Errno 2] No such file or directory: 'x'" -> "x: No such file or directory"
        text = f"{os.fsdecode(e.filename)}: {e.strerror}" if e.filename is not None else e.strerror
    else:
        text = " ".join(str(e).split()) or type(e).__name__
    if limit is not None and len(text) > limit:
        text = f"{text[:limit - 80].rstrip()} … ({len(text) - limit + 80:,} more characters; --debug shows all)"
    return text


if __name__ == "__main__":
    sys.exit(main())
