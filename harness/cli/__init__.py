"""The `harness` command: thin layers that parse arguments, call the API and map errors to exit codes.

Exit codes: 0 ok; 1 a gate failed; 2 usage or suite error; 3 the run could not complete;
130 Ctrl-C; 143 SIGTERM. `--debug` prints tracebacks and changes no exit code.
Each command lives in its own module and imports heavy modules inside its function, so
`harness --help` stays instant. Register a new command in `COMMANDS`.
"""

from __future__ import annotations

import importlib
import os
import signal
import sqlite3
import sys
import threading
import traceback
from collections.abc import Callable
from types import FrameType
from typing import Any

import click

from harness import __version__
from harness.cli.errors import report_error
from harness.errors import (
    EXIT_INTERRUPTED,
    EXIT_RUN_FAILED,
    EXIT_TERMINATED,
    EXIT_USAGE,
    HarnessError,
    Terminated,
)

# module:attribute of each command (a click.Command or click.Group)
COMMANDS = [
    "harness.cli.init:init",
    "harness.cli.run:run",
    "harness.cli.validate:validate",
    "harness.cli.report:report",
    "harness.cli.view:view",
    "harness.cli.gate:gate",
    "harness.cli.diff:diff",
    "harness.cli.history:history",
    "harness.cli.monitor:monitor",
    "harness.cli.judge:judge",
    "harness.cli.data:data",
    "harness.cli.batch:batch",
    "harness.cli.cache:cache",
]

_debug = False
COMPLETE_VAR = "_HARNESS_COMPLETE"
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="harness")
def cli() -> None:
    """Evaluate fine-tuned language models against their base, and gate deploys on the result.

    Add --debug anywhere to see tracebacks.
    """


for _entry in COMMANDS:
    _module, _attr = _entry.split(":")
    cli.add_command(getattr(importlib.import_module(_module), _attr))


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    global _debug
    args = list(sys.argv[1:] if argv is None else argv)
    if os.environ.get(COMPLETE_VAR):  # shell completion (click's protocol, docs/cli.md): exits 0 itself
        cli.main(args=args, prog_name="harness", complete_var=COMPLETE_VAR)
    _debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    previous = _handle_sigterm()
    try:
        code = invoke(lambda: cli.main(args=args, prog_name="harness", standalone_mode=False))
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    sys.exit(code)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # A second SIGTERM while the first is being handled kills at once, as the default would.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise Terminated()


_on_sigterm.raises_terminated = True  # type: ignore[attr-defined]  # event loops cancel instead (harness.interrupt)


def _handle_sigterm() -> Any:
    """Turn SIGTERM into `Terminated` so a cancelled CI job stops like Ctrl-C: files flushed,
    run.json marked, reports written. Returns the handler it replaced."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _on_sigterm)


INTERRUPTED = "interrupted (Ctrl-C)"
TERMINATED = "terminated (SIGTERM)"
KEPT = ": nothing more is sent; answers received so far are saved and a rerun resumes from them"


def _stopped(exc: BaseException) -> int:
    """The documented line (and exit code) of a run or command stopped by Ctrl-C or SIGTERM."""
    terminated = isinstance(exc, Terminated)
    run_dir = getattr(exc, "run_dir", None)
    click.echo((TERMINATED if terminated else INTERRUPTED) + (KEPT if run_dir is not None else ""), err=True)
    if run_dir is not None:
        click.echo(f"Partial results: {run_dir}", err=True)
    return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED


def _traceback() -> None:
    """With --debug, the traceback of the exception being handled (and nothing else changes)."""
    if _debug:
        traceback.print_exc()


def invoke(call: Callable[[], Any]) -> int:
    """Run a click call, turning every error into its documented exit code and one-line message.

    `--debug` prints the traceback first; the message and the exit code are the same without it.
    """
    try:
        result = call()
    except SystemExit:
        # With standalone_mode off, click raises SystemExit only when stdout was closed under
        # it (`harness ... | head`), and with code 1, which would read as "a gate failed".
        # Report it the way a shell reports a process stopped by SIGPIPE instead.
        return EXIT_BROKEN_PIPE
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        _traceback()
        exc.show()
        return EXIT_USAGE
    except click.exceptions.Abort as exc:
        # click turns KeyboardInterrupt (and our Terminated) into Abort, printing "Aborted.".
        _traceback()
        cause = exc.__cause__ or exc.__context__
        return _stopped(cause if isinstance(cause, KeyboardInterrupt) else KeyboardInterrupt())
    except HarnessError as exc:
        _traceback()
        report_error(exc)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        _traceback()
        return _stopped(exc)
    except OSError as exc:
        # File-system errors are the user's to fix: the path and the reason. A run converts
        # those that happen after it sent requests to exit 3 itself; here nothing was sent.
        _traceback()
        where = f"{exc.filename}: " if exc.filename is not None else ""
        click.echo(f"error: {where}{exc.strerror or exc}", err=True)
        return EXIT_USAGE
    except sqlite3.Error as exc:
        _traceback()
        click.echo(f"error: database: {exc}", err=True)
        return EXIT_USAGE
    except Exception as exc:
        _traceback()
        click.echo(
            f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback, and please report it)",
            err=True,
        )
        return EXIT_RUN_FAILED
    return int(result) if isinstance(result, int) else 0
