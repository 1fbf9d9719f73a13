"""The `harness` command: thin layers that parse arguments, call the API and map errors to exit codes.

Exit codes: 0 ok; 1 a gate failed; 2 usage or suite error; 3 the run could not complete.
Each command lives in its own module and imports heavy modules inside its function, so
`harness --help` stays instant. Register a new command in `COMMANDS`.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from harness import __version__
from harness.cli.errors import report_error
from harness.errors import EXIT_RUN_FAILED, EXIT_USAGE, HarnessError

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
    if "--debug" in args:
        _debug = True
        args = [a for a in args if a != "--debug"]
    sys.exit(invoke(lambda: cli.main(args=args, prog_name="harness", standalone_mode=False)))


def invoke(call: Callable[[], Any]) -> int:
    """Run a click call, turning every error into its documented exit code and one-line message."""
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
        exc.show()
        return EXIT_USAGE
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except HarnessError as exc:
        if _debug:
            raise
        report_error(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("Interrupted; answers received so far are cached and a rerun resumes from them.", err=True)
        return 130
    except Exception as exc:
        if _debug:
            raise
        click.echo(
            f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback, and please report it)",
            err=True,
        )
        return EXIT_RUN_FAILED
    return int(result) if isinstance(result, int) else 0
