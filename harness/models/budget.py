"""The error budget: when failing requests stop a run (exit 3) instead of ending it looking complete.

By default (`--max-errors` not given) a model's requests stop the run when

- its last `IN_A_ROW` finished requests all failed (all of them, when it has fewer): a dead,
  hung or misconfigured endpoint, found after one round of requests; or
- more than `MAX_FAILED_SHARE` of its finished requests failed, counted once `SHARE_AFTER` of
  them have finished: an endpoint failing too often for the figures to mean anything.

`--max-errors N|FRACTION|PCT` replaces the share rule with a limit on failed requests in the
whole run (the in-a-row rule stays: no budget is meant to keep calling a dead endpoint);
`--max-errors none` never stops for failed requests. Judges follow the same rules, counted
over their own requests. Only requests actually sent count: cached answers prove nothing
about an endpoint, and neither do requests a Batch API batch did not carry (a request too big
for a batch file, a batch that expired or that the user cancelled: their message says what to
do, and the run's errors line reports them).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from harness.models.base import ErrorInfo

IN_A_ROW = 10
MAX_FAILED_SHARE = 0.10
SHARE_AFTER = 50
NEVER = ("none", "never", "off")
NOT_ENDPOINT_FAILURES = frozenset({"batch_failed", "batch_expired", "batch_cancelled"})

DEFAULT_RULE = (
    f"default error budget: {IN_A_ROW} failed requests in a row, or more than {MAX_FAILED_SHARE:.0%} "
    f"of a model's requests once {SHARE_AFTER} have finished"
)


@dataclass
class ErrorTally:
    """A model's (or judge's) finished live requests, for the budget and for the messages."""

    done: int = 0
    errors: int = 0
    in_a_row: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    sample: dict[str, str] = field(default_factory=dict)  # first server message per error kind

    def add(self, error: ErrorInfo | None) -> None:
        if error is not None and error.kind in NOT_ENDPOINT_FAILURES:
            return
        self.done += 1
        if error is None:
            self.in_a_row = 0
            return
        self.errors += 1
        self.in_a_row += 1
        self.by_kind[error.kind] += 1
        self.sample.setdefault(error.kind, error.message)

    def kinds(self) -> str:
        """`server_error 9, timeout 1`, most frequent first."""
        return ", ".join(f"{kind} {count}" for kind, count in self.by_kind.most_common())

    def quote(self) -> str:
        """The server's own words for the most frequent kind of error."""
        if not self.by_kind:
            return ""
        kind = self.by_kind.most_common(1)[0][0]
        message = " ".join(self.sample[kind].split())
        return f'{kind}: "{message[:300]}"'

    @property
    def all_connection(self) -> bool:
        return bool(self.by_kind) and set(self.by_kind) == {"connection"}


@dataclass
class ErrorBudget:
    """`--max-errors`, parsed: `default`, a `limit` on failed requests of the run, or `never`."""

    mode: Literal["default", "limit", "never"] = "default"
    limit: int | None = None
    errors: int = 0  # failed requests of the run so far (all models), for the `limit` mode

    @staticmethod
    def parse(text: str | None, total: int) -> ErrorBudget:
        if text is None or text.strip().lower() in ("", "default", "auto"):
            return ErrorBudget()
        value = text.strip().lower()
        if value in NEVER:
            return ErrorBudget("never")
        try:
            if value.endswith("%"):
                percent = float(value[:-1])
                if not 0 <= percent <= 100:
                    raise ValueError
                return ErrorBudget("limit", int(total * percent / 100))
            if "." in value:
                fraction = float(value)
                if not 0 <= fraction <= 1:
                    raise ValueError
                return ErrorBudget("limit", int(total * fraction))
            count = int(value)
            if count < 0:
                raise ValueError
            return ErrorBudget("limit", count)
        except ValueError:
            raise ValueError(
                f"--max-errors takes a count (10), a fraction (0.05), a percentage (5%) or none, not '{text}'"
            ) from None

    def describe(self) -> str:
        if self.mode == "never":
            return "--max-errors none: never stops for failed requests"
        if self.mode == "limit":
            return f"--max-errors allows {self.limit} failed requests"
        return DEFAULT_RULE

    def verdict(self, who: str, tally: ErrorTally, planned: int) -> str | None:
        """Why the run must stop after this tally, or None. `planned` is how many live requests
        `who` has to make (the in-a-row rule needs no more than that)."""
        if self.mode == "never" or tally.errors == 0:
            return None
        row = min(IN_A_ROW, max(planned, 1))
        if tally.in_a_row >= row:
            if tally.all_connection and tally.errors == tally.done:
                return (
                    f"{who}: the endpoint is unreachable (its first {tally.errors} requests all failed: "
                    f"{tally.quote()}); is the server running, and are OPENAI_BASE_URL / base_url right?"
                )
            first = "all" if tally.errors == tally.done else "the last"
            return (
                f"{who}: {first} {tally.in_a_row} requests failed in a row ({tally.kinds()}); {tally.quote()}; "
                f"stopped early ({self._how()})"
            )
        if self.mode == "limit":
            assert self.limit is not None
            if self.errors > self.limit:
                return (
                    f"aborted: {self.errors} requests failed, more than --max-errors allows ({self.limit}); "
                    f"{who}: {tally.kinds()}; {tally.quote()}"
                )
            return None
        if tally.done >= SHARE_AFTER and tally.errors > MAX_FAILED_SHARE * tally.done:
            return (
                f"{who}: {tally.errors} of its {tally.done} requests failed ({tally.errors / tally.done:.0%}: "
                f"{tally.kinds()}); {tally.quote()}; stopped early ({self._how()})"
            )
        return None

    def _how(self) -> str:
        if self.mode == "limit":
            return f"{IN_A_ROW} failures in a row stop a run whatever --max-errors allows"
        return f"{DEFAULT_RULE}; --max-errors sets another, --max-errors none never stops"
