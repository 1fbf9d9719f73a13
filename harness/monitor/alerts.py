"""Alerts: one line per broken rule, and a JSON POST to the webhook the suite names.

The webhook gets only what the user pointed it at: the URL as written (redirects are not
followed), a bounded number of attempts with exponential backoff, and a failure that is logged
and never raised, so an unreachable receiver cannot stop the monitor. Webhook URLs often carry
a token in the path, so log lines show only the scheme and host.
"""

from __future__ import annotations

import os
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from harness.errors import UsageError
from harness.monitor.evaluate import RuleResult
from harness.suite.schema import ENV_REFERENCE

Log = Callable[[str], None]


def alert_line(suite: str, result: RuleResult, run_id: str | None) -> str:
    """`ALERT demo [tuned] pass_rate >= median(10) - 5%: pass_rate 50.0%, not >= 78.3% (...) run ... RETRAIN`."""
    model = f" [{result.model}]" if result.model else ""
    named = f"{result.rule} ({result.text})" if result.rule != result.text else result.text
    line = f"ALERT {suite}{model} {named}: {result.message}"
    if run_id:
        line += f"; run {run_id}"
    if result.retrain:
        line += "; retraining trigger"
    return line


def alert_payload(suite: str, run_id: str | None, run_dir: str | None, broken: Sequence[RuleResult],
                  lines: Sequence[str]) -> dict[str, Any]:
    """The JSON body POSTed for one run's broken rules. `text` makes it readable by chat webhooks as is."""
    return {
        "source": "harness",
        "status": "firing",
        "suite": suite,
        "run_id": run_id,
        "run_dir": run_dir,
        "retrain": any(result.retrain for result in broken),
        "alerts": [result.as_dict() for result in broken],
        "text": "\n".join(lines),
    }


def resolve_webhook(value: str | None) -> str | None:
    """The webhook URL, with a `${NAME}` reference read from the environment (UsageError when unset or not http(s))."""
    if value is None:
        return None
    reference = ENV_REFERENCE.fullmatch(value.strip())
    if reference is None:
        return value
    name = reference.group(1)
    url = os.environ.get(name, "").strip()
    if not url:
        raise UsageError(f"monitor webhook: environment variable {name} is not set")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"monitor webhook: ${{{name}}} is not an http(s) URL")
    return url


def shown_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…" if parts.path not in ("", "/") or parts.query else f"{parts.scheme}://{parts.netloc}"


@dataclass
class Webhook:
    url: str
    retries: int = 3
    timeout: float = 10.0
    backoff: float = 1.0  # seconds before the first retry, doubled each time

    def post(self, payload: dict[str, Any], log: Log) -> bool:
        """POST `payload`; True when the receiver answered 2xx. Never raises."""
        # The standard library's client is enough for one JSON POST; its opener is built without
        # redirect handling, so the body can only ever reach the URL the user wrote.
        import urllib.error

        import orjson

        opener = urllib.request.build_opener(_NoRedirect)
        body = orjson.dumps(payload)
        attempts = self.retries + 1
        problem = ""
        for attempt in range(1, attempts + 1):
            request = urllib.request.Request(
                self.url, data=body, method="POST",
                headers={"Content-Type": "application/json", "User-Agent": "harness-monitor"},
            )
            try:
                with opener.open(request, timeout=self.timeout) as response:
                    response.read()
                    return True
            except urllib.error.HTTPError as exc:
                problem = f"HTTP {exc.code}"
            except (urllib.error.URLError, OSError, ValueError) as exc:
                reason = getattr(exc, "reason", exc)
                problem = f"{type(reason).__name__}: {reason}" if not isinstance(reason, str) else reason
            if attempt < attempts:
                log(f"webhook {shown_url(self.url)}: attempt {attempt}/{attempts} failed ({problem}); retrying")
                time.sleep(self.backoff * 2 ** (attempt - 1))
        log(f"webhook {shown_url(self.url)}: not delivered after {attempts} attempts ({problem}); the monitor carries on")
        return False


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx is reported as an HTTPError: not delivered
