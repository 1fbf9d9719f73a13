"""The run history: every run's headline figures in an embedded SQLite file beside the run directories.

`reports/history.sqlite` holds one row per run (suite, when, status, gates) and one per run x
model x figure (point value and bounds). A run is indexed when it finishes or is re-reported,
and `harness history` also indexes any run directory it finds that is not in the file yet
(runs copied from CI artifacts, runs made before the file existed).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from harness.errors import UsageError, file_problem
from harness.gates.figures import FIGURES, RunFigures
from harness.run.store import RUN_FILE, RunData, load_run, utc_now

HISTORY_FILE = "history.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    suite TEXT NOT NULL,
    suite_sha256 TEXT,
    path TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    status TEXT,
    cases INTEGER,
    models TEXT NOT NULL,
    baseline TEXT,
    gates_total INTEGER NOT NULL DEFAULT 0,
    gates_failed INTEGER NOT NULL DEFAULT 0,
    indexed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS figures (
    run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    figure TEXT NOT NULL,
    value REAL NOT NULL,
    lower REAL,
    upper REAL,
    PRIMARY KEY (run_id, model, figure)
);
CREATE INDEX IF NOT EXISTS runs_by_suite ON runs (suite, started_at);
"""


@dataclass(frozen=True)
class HistoryRun:
    run_id: str
    suite: str
    path: str
    started_at: str | None
    status: str | None
    cases: int | None
    models: list[str]
    baseline: str | None
    gates_total: int
    gates_failed: int
    figures: dict[tuple[str, str], float]  # (model, figure) -> value
    bounds: dict[tuple[str, str], tuple[float | None, float | None]] = field(default_factory=dict)  # lower, upper


@contextlib.contextmanager
def connect(directory: Path) -> Iterator[sqlite3.Connection]:
    """The history database of `directory`. A file-system or SQLite failure (read-only, disk or
    database full) is a UsageError naming the file; a run after sending turns it into exit 3."""
    path = directory / HISTORY_FILE
    try:
        directory.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, timeout=30)
    except (OSError, sqlite3.Error) as exc:
        raise UsageError(file_problem(exc, path, "open")) from None
    try:
        connection.execute("PRAGMA foreign_keys = ON")
        connection.executescript(_SCHEMA)
        with connection:
            yield connection
    except (OSError, sqlite3.Error) as exc:
        raise UsageError(file_problem(exc, path, "write")) from None
    finally:
        connection.close()


def headline_figures(data: RunData) -> list[tuple[str, str, float, float | None, float | None]]:
    """(model, figure, value, lower, upper) for every headline figure and reference metric the run has."""
    ctx = RunFigures(data.summary or {}, data.run)
    rows = []
    names = [name for name, figure in FIGURES.items() if figure.headline] + ctx.metric_names()
    for name in names:
        figure = ctx.figure(name)
        if figure is None:
            continue
        for model in ctx.model_names:
            reading = ctx.read(figure, model)
            if reading.point is not None:
                rows.append((model, name, reading.point, reading.lower, reading.upper))
    return rows


def record_run(directory: Path, data: RunData) -> None:
    """Insert or replace the run's entry in `directory`/history.sqlite."""
    run = data.run
    suite = run.get("suite") or {}
    gates = (data.summary or {}).get("gates") or []
    ctx = RunFigures(data.summary or {}, run)
    with connect(directory) as db:
        run_id = str(run.get("run_id") or data.path.name)
        db.execute("DELETE FROM figures WHERE run_id = ?", (run_id,))
        db.execute(
            "INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run_id, str(suite.get("name") or data.path.name), suite.get("sha256"), str(data.path.resolve()),
                run.get("started_at"), run.get("finished_at"), run.get("status"), suite.get("cases"),
                orjson.dumps(ctx.model_names).decode(), ctx.baseline, len(gates),
                sum(1 for g in gates if not g.get("passed")), utc_now(),
            ),
        )
        db.executemany(
            "INSERT OR REPLACE INTO figures VALUES (?, ?, ?, ?, ?, ?)",
            [(run_id, *row) for row in headline_figures(data)],
        )


def index_directory(directory: Path) -> int:
    """Index every run directory under `directory` the history does not hold yet; returns how many."""
    if not directory.is_dir():
        return 0
    with connect(directory) as db:
        known = {row[0] for row in db.execute("SELECT run_id FROM runs")}
    added = 0
    for child in sorted(directory.iterdir()):
        if not (child / RUN_FILE).is_file():
            continue
        try:
            data = load_run(child)
        except Exception:  # a broken run directory is not the history's concern
            continue
        if str(data.run.get("run_id") or child.name) in known or data.summary is None:
            continue
        record_run(directory, data)
        added += 1
    return added


def load_history(
    directory: Path, suite: str | None = None, limit: int | None = None, models: Sequence[str] = ()
) -> list[HistoryRun]:
    """Runs oldest first, optionally of one suite and only those with one of `models`; the last
    `limit` of them counted after these filters."""
    with connect(directory) as db:
        query = "SELECT run_id, suite, path, started_at, status, cases, models, baseline, gates_total, gates_failed FROM runs"
        params: Sequence[Any] = ()
        if suite is not None:
            query += " WHERE suite = ?"
            params = (suite,)
        query += " ORDER BY started_at DESC, run_id DESC"
        if limit is not None and not models:
            query += f" LIMIT {int(limit)}"
        rows = list(db.execute(query, params))
        if models:
            wanted = set(models)
            rows = [row for row in rows if wanted & set(orjson.loads(row[6]))]
            rows = rows[:limit] if limit is not None else rows
        figures: dict[str, dict[tuple[str, str], float]] = {row[0]: {} for row in rows}
        bounds: dict[str, dict[tuple[str, str], tuple[float | None, float | None]]] = {row[0]: {} for row in rows}
        for run_id, model, figure, value, lower, upper in db.execute(
            "SELECT run_id, model, figure, value, lower, upper FROM figures"
        ):
            if run_id in figures:
                figures[run_id][(model, figure)] = value
                bounds[run_id][(model, figure)] = (lower, upper)
    return [
        HistoryRun(row[0], row[1], row[2], row[3], row[4], row[5], list(orjson.loads(row[6])), row[7], row[8], row[9],
                   figures[row[0]], bounds[row[0]])
        for row in reversed(rows)
    ]


def suites(directory: Path) -> list[tuple[str, int]]:
    with connect(directory) as db:
        return [(row[0], row[1]) for row in db.execute("SELECT suite, COUNT(*) FROM runs GROUP BY suite ORDER BY suite")]


SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float]) -> str:
    if not values:
        return ""
    low, high = min(values), max(values)
    if high - low < 1e-12:
        return SPARKS[3] * len(values)
    return "".join(SPARKS[round((v - low) / (high - low) * (len(SPARKS) - 1))] for v in values)


@dataclass(frozen=True)
class Trend:
    model: str
    figure: str
    values: list[float]  # oldest first, runs that have the figure
    higher_is_better: bool

    @property
    def last(self) -> float:
        return self.values[-1]

    @property
    def change(self) -> float | None:
        """Last minus the run before it."""
        return self.values[-1] - self.values[-2] if len(self.values) > 1 else None

    @property
    def worse(self) -> bool:
        change = self.change
        if change is None or abs(change) < 1e-12:
            return False
        return change < 0 if self.higher_is_better else change > 0


def trends(runs: Sequence[HistoryRun]) -> list[Trend]:
    """One series per (model, figure) over the runs, in order of first appearance."""
    series: dict[tuple[str, str], list[float]] = {}
    for run in runs:
        for key, value in run.figures.items():
            series.setdefault(key, []).append(value)
    result = []
    for (model, name), values in series.items():
        figure = FIGURES.get(name)
        result.append(Trend(model, name, values, figure.higher_is_better if figure else True))
    order = {name: i for i, name in enumerate(FIGURES)}
    return sorted(result, key=lambda t: (t.model, order.get(t.figure, len(order)), t.figure))
