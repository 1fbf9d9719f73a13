"""Errors a user can cause, each mapped to a documented exit code.

The CLI prints `str(error)` as one line (no traceback unless --debug) and exits with
`error.exit_code`. Library users catch `HarnessError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_USAGE = 2
EXIT_RUN_FAILED = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM


class HarnessError(Exception):
    """Base class of every error the harness reports to a user."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def lines(self) -> list[str]:
        """The lines printed for this error, one per problem."""
        return [self.message]


class UsageError(HarnessError):
    """Bad arguments, bad model spec, missing API key, missing file: exit 2."""

    exit_code = EXIT_USAGE


@dataclass(frozen=True)
class Diagnostic:
    """One problem in an input file, located as precisely as the parser allows."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None
    note: bool = False  # worth knowing, not a reason to refuse the suite (e.g. a hub model not downloaded yet)

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {'note: ' if self.note else ''}{self.message}"


class SuiteError(HarnessError):
    """One or more problems in a suite file or its sources: exit 2, one line per problem."""

    exit_code = EXIT_USAGE

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))

    def lines(self) -> list[str]:
        return [str(d) for d in self.diagnostics]


class RunError(HarnessError):
    """The run could not complete (endpoint unreachable, too many errors): exit 3."""

    exit_code = EXIT_RUN_FAILED


class Terminated(KeyboardInterrupt):
    """SIGTERM (what CI runners send on cancel or time-out), raised in the main thread.

    A KeyboardInterrupt, so every place that stops cleanly on Ctrl-C stops the same way on it.
    """


def file_problem(exc: BaseException, path: object, action: str) -> str:
    """One line for a file-system failure, naming the path and the OS reason. Raise it as a
    UsageError (exit 2) when nothing has been sent yet, as a RunError (exit 3) once requests went
    out (the run could not complete)."""
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
    return f"cannot {action} {path}: {reason}"
