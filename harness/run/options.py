"""What a run is told (`RunOptions`, the CLI's defaults) and what it gives back (`RunOutcome`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.gates.evaluate import GateOutcome
from harness.models.resolve import ResolvedModel


@dataclass
class RunOptions:
    """Everything `harness run` can be told, with the CLI's defaults."""

    models: list[str] = field(default_factory=list)
    output_dir: Path = Path("reports")
    concurrency: int = 32
    limit: int | None = None
    filters: list[str] = field(default_factory=list)
    repeat: int = 1
    use_cache: bool = True
    cache_dir: Path | None = None
    max_errors: str | None = None
    timeout: float = 60.0
    max_retries: int = 4
    max_request_time: float | None = None  # seconds one request may take, retries included (None: 3 x timeout)
    progress: bool = True
    gates: list[str] = field(default_factory=list)  # gate expressions added to the suite's `gates:`
    history: bool = True  # index the run in output_dir/history.sqlite
    monthly_requests: int | None = None  # request volume for the cost projection (overrides the suite's)
    baseline: str | None = None  # model name or spec the others are compared with (added to models if absent)
    judge: str | None = None  # judge model spec or suite model name; overrides the suite's judge.model
    judges: list[str] = field(default_factory=list)  # a panel of judges (--judge repeated); overrides the suite's
    ranking: str | None = None  # baseline | round_robin: which pairs are judged (default: the suite's ranking:)
    max_judge_calls: int | None = None  # refuse a judging plan above this many judge calls
    allow_stale: bool = False  # `run:` models: use recorded answers to cases that changed since
    allow_other_suite: bool = False  # `run:` models: accept a recording made from a suite of another name
    batch: bool = False  # every model that sends requests, and the judge, through the OpenAI Batch API
    pipeline: bool = True  # judge an item as soon as its answers exist (False: once all generation has ended)
    ray: str | None = None  # --ray ADDRESS: hf: models generate on Ray actors (local, auto, ray://HEAD:10001, HOST:PORT)

    @property
    def judge_refs(self) -> list[str]:
        """The judges asked for: the panel, or the one judge (empty: the suite's)."""
        return list(self.judges) or ([self.judge] if self.judge else [])


@dataclass
class RunOutcome:
    run_dir: Path
    status: str  # complete | aborted | interrupted
    summary: dict[str, Any]
    records: list[dict[str, Any]]
    models: list[ResolvedModel]
    warnings: list[str] = field(default_factory=list)
    gates: list[GateOutcome] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase of the run
    judgments: list[dict[str, Any]] = field(default_factory=list)  # judgments.jsonl lines

    @property
    def errors_line(self) -> str | None:
        """One line when requests failed but the run finished within its error budget."""
        from harness.run.summary import errors_line

        return errors_line(self.records, self.judgments)

    @property
    def gates_passed(self) -> bool:
        return all(gate.passed for gate in self.gates)
