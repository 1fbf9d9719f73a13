"""Managing the response cache: what it holds, pruning, and moving it between machines.

The cache (harness.models.cache) is one SQLite file with a table of answers (`responses`) and one
of judgments (`judgments`), each row (key, fingerprint, created, payload). Everything here
works while a run uses the cache: SQLite's WAL mode lets readers and one writer proceed side
by side, exports are taken with SQLite's backup API (one consistent snapshot, never a file
copy that could catch a half-written page) and imports write in short transactions.

An export is an SQLite file of its own (portable across machines and platforms) holding
the two tables plus a `harness_export` table that marks it as an export and names its format.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness import __version__
from harness.errors import RunError, UsageError
from harness.models.cache import ResponseCache, default_cache_dir

CACHE_FILE = "cache.sqlite"  # the file run_suite opens in the cache folder
# Cache tables and the kind of entry each holds, as `cache info` shows them. Tables other
# modules add to the cache database (state, not answers) are neither exported nor pruned.
TABLES: dict[str, str] = {"responses": "answers", "judgments": "judgments"}
EXPORT_TABLE = "harness_export"
EXPORT_FORMAT = 1
_SQLITE_MAGIC = b"SQLite format 3\x00"
_IMPORT_CHUNK = 5000  # rows per import transaction: a concurrent run's writer never waits long
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def cache_file(cache_dir: Path | None = None) -> Path:
    """The cache database: `cache_dir`, else $HARNESS_CACHE_DIR, else ~/.cache/harness."""
    return (cache_dir or default_cache_dir()) / CACHE_FILE


def parse_duration(text: str) -> float:
    """Seconds in `30d`, `12h`, `90m`, `2w`, `45s`."""
    match = _DURATION.match(text)
    if match is None:
        raise UsageError(f"--older-than takes a duration such as 30d, 12h, 90m or 2w, not '{text}'")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def file_bytes(path: Path) -> int:
    """The database's size on disk, its write-ahead log included."""
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.is_file())


@contextlib.contextmanager
def _errors(doing: str) -> Iterator[None]:
    """SQLite and file-system failures as one line saying what failed on which files (a full disk,
    a read-only folder, a lock held too long: exit 3)."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        raise RunError(f"{doing} failed: {exc}") from None
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise RunError(f"{doing} failed: {where}{exc.strerror or exc}") from None


def _tables(db: sqlite3.Connection, schema: str = "main") -> set[str]:
    return {row[0] for row in db.execute(f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table'")}


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)


# -- info ---------------------------------------------------------------------------------


@dataclass
class CacheGroup:
    """Entries of one kind under one model fingerprint."""

    kind: str
    fingerprint: str
    entries: int
    payload_bytes: int
    oldest: float
    newest: float


@dataclass
class CacheInfo:
    path: Path
    size_bytes: int
    groups: list[CacheGroup] = field(default_factory=list)

    def entries(self, kind: str) -> int:
        return sum(group.entries for group in self.groups if group.kind == kind)


def cache_info(path: Path) -> CacheInfo:
    """Size, and entries per kind and fingerprint with their age range."""
    if not path.is_file():
        return CacheInfo(path, 0)
    info = CacheInfo(path, file_bytes(path))
    with _errors(f"reading the cache {path}"), contextlib.closing(_read_only(path)) as db:
        present = _tables(db)
        for table, kind in TABLES.items():
            if table not in present:
                continue
            rows = db.execute(
                f"SELECT fingerprint, COUNT(*), SUM(LENGTH(payload) + LENGTH(key)), MIN(created), MAX(created) "
                f"FROM {table} GROUP BY fingerprint ORDER BY fingerprint"
            )
            info.groups.extend(CacheGroup(kind, fp, int(n), int(size or 0), float(lo), float(hi)) for fp, n, size, lo, hi in rows)
    return info


# -- prune --------------------------------------------------------------------------------


def glob_escape(text: str) -> str:
    """`text` as a literal inside an SQLite GLOB pattern."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def model_patterns(spec_text: str) -> list[str]:
    """GLOB patterns of the fingerprints a model spec's cached entries carry.

    An endpoint model (`openai:NAME`, plain names, `ft:` ids) matches its name on every endpoint,
    since pruning means "forget this model" and its fingerprint embeds the endpoint URL. An
    `hf:` model has one exact fingerprint (its weight hashes): it is computed as a run would.
    """
    from harness.models.base import GenerationParams
    from harness.models.resolve import resolve_model

    model = resolve_model(spec_text, {}, GenerationParams(), Path.cwd())
    kind = model.spec.kind
    if kind == "openai":
        return [f"openai:{glob_escape(model.spec.target)}@*"]
    if kind == "hf":
        from harness.models.registry import AdapterSettings, build_adapters

        adapter = build_adapters([model], AdapterSettings())[model.name]
        return [glob_escape(adapter.fingerprint)]
    raise UsageError(f"--model {spec_text}: {kind}: answers are read from files and never cached; nothing to prune")


@dataclass
class PruneResult:
    removed: dict[str, int]  # kind -> entries removed (or that would be, on a dry run)
    size_before: int
    size_after: int
    compacted: bool = False


def prune(
    path: Path,
    older_than: float | None = None,
    patterns: Sequence[str] = (),
    kinds: Sequence[str] = (),
    dry_run: bool = False,
    compact: bool = False,
    now: float | None = None,
) -> PruneResult:
    """Remove entries older than `older_than` seconds and/or whose fingerprint matches one of `patterns`
    (SQLite GLOBs), of the given kinds (default both). Criteria combine: an entry must meet all given."""
    unknown = sorted(set(kinds) - set(TABLES.values()))
    if unknown:
        raise UsageError(f"unknown cache kind '{unknown[0]}': use {' or '.join(TABLES.values())}")
    removed = {kind: 0 for kind in TABLES.values() if not kinds or kind in kinds}
    before = file_bytes(path)
    if not path.is_file():
        return PruneResult(removed, 0, 0)
    where: list[str] = []
    values: list[object] = []
    if older_than is not None:
        where.append("created < ?")
        values.append((now if now is not None else time.time()) - older_than)
    if patterns:
        where.append("(" + " OR ".join("fingerprint GLOB ?" for _ in patterns) + ")")
        values.extend(patterns)
    condition = " AND ".join(where) or "1"
    compacted = False
    with _errors(f"pruning the cache {path}"), \
            contextlib.closing(sqlite3.connect(path, timeout=30, isolation_level=None)) as db:
        present = _tables(db)
        for table, kind in TABLES.items():
            if kind not in removed or table not in present:
                continue
            if dry_run:
                removed[kind] = int(db.execute(f"SELECT COUNT(*) FROM {table} WHERE {condition}", values).fetchone()[0])
            else:
                removed[kind] = db.execute(f"DELETE FROM {table} WHERE {condition}", values).rowcount
        if compact and not dry_run:
            # VACUUM rewrites the file under an exclusive lock: a run writing meanwhile waits.
            db.execute("VACUUM")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            compacted = True
    return PruneResult(removed, before, file_bytes(path), compacted)


# -- export / import ----------------------------------------------------------------------


@dataclass
class TransferResult:
    path: Path
    entries: dict[str, int]  # kind -> entries exported, or added by an import
    kept: dict[str, int] = field(default_factory=dict)  # import: kind -> entries the cache already had
    size_bytes: int = 0


def export_cache(path: Path, target: Path) -> TransferResult:
    """Write a consistent snapshot of the cache's answers and judgments to `target` (an SQLite file).

    Safe while a run writes to the cache: the backup API copies one snapshot under a read
    transaction, which WAL mode lets proceed beside the writer. The export is written next to
    `target` and renamed into place, so `target` is never half-written.
    """
    temporary = target.with_name(target.name + ".tmp")
    entries: dict[str, int] = {}
    try:
        with _errors(f"exporting the cache {path} to {target}"):
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary.unlink(missing_ok=True)
            if path.is_file():
                with contextlib.closing(_read_only(path)) as source, contextlib.closing(sqlite3.connect(temporary)) as copy:
                    source.backup(copy)
            for table in TABLES:  # an empty or partial cache still exports every table
                ResponseCache(temporary, table).close()
            with contextlib.closing(sqlite3.connect(temporary, isolation_level=None)) as copy:
                copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
                for table in _tables(copy) - set(TABLES):
                    copy.execute(f'DROP TABLE "{table}"')
                copy.execute(f"CREATE TABLE {EXPORT_TABLE} (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
                meta = {"format": str(EXPORT_FORMAT), "harness_version": __version__, "created": str(time.time())}
                copy.executemany(f"INSERT INTO {EXPORT_TABLE} VALUES (?, ?)", sorted(meta.items()))
                for table, kind in TABLES.items():
                    entries[kind] = int(copy.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
                # Rewriting the copy costs several times the backup itself: only when much of it is free
                # pages (the cache's pruned entries, the tables dropped above).
                free = int(copy.execute("PRAGMA freelist_count").fetchone()[0])
                if free > int(copy.execute("PRAGMA page_count").fetchone()[0]) // 10:
                    copy.execute("VACUUM")
            os.replace(temporary, target)
    finally:
        for leftover in (temporary, *(Path(f"{temporary}-{end}") for end in ("wal", "shm", "journal"))):
            with contextlib.suppress(OSError):
                leftover.unlink(missing_ok=True)
    return TransferResult(target, entries, size_bytes=target.stat().st_size)


def _not_an_export(source: Path, why: str) -> UsageError:
    return UsageError(f"{source}: not a harness cache export ({why}); make one with `harness cache export FILE`")


def _check_export(source: Path) -> None:
    if not source.is_file():
        raise UsageError(f"{source}: no such file; give a file written by `harness cache export`")
    with source.open("rb") as handle:
        if handle.read(len(_SQLITE_MAGIC)) != _SQLITE_MAGIC:
            raise _not_an_export(source, "not an SQLite file")
    try:
        with contextlib.closing(_read_only(source)) as db:
            if EXPORT_TABLE not in _tables(db):
                raise _not_an_export(source, f"no {EXPORT_TABLE} table")
            meta = dict(db.execute(f"SELECT name, value FROM {EXPORT_TABLE}").fetchall())
            missing = [t for t in TABLES if t not in _tables(db)]
    except sqlite3.DatabaseError as exc:
        raise _not_an_export(source, f"unreadable: {exc}") from None
    try:
        version = int(meta.get("format", ""))
    except ValueError:
        raise _not_an_export(source, "no format number") from None
    if version > EXPORT_FORMAT:
        raise UsageError(
            f"{source}: a cache export of format {version}, made by harness {meta.get('harness_version', '?')}; "
            f"this harness reads format {EXPORT_FORMAT}: upgrade harness to import it"
        )
    if missing:
        raise _not_an_export(source, f"no {missing[0]} table")


def _columns(db: sqlite3.Connection, schema: str, table: str) -> list[str]:
    return [row[1] for row in db.execute(f"PRAGMA {schema}.table_info({table})")]


def import_cache(path: Path, source: Path) -> TransferResult:
    """Merge an export into the cache. Entries the cache already has are kept (theirs are skipped);
    imported entries keep their original `created` time, so age limits count from the answer.

    Safe while a run uses the cache: rows go in short transactions of a few thousand.
    """
    _check_export(source)
    with _errors(f"importing {source} into the cache {path}"):
        for table in TABLES:
            ResponseCache(path, table).close()  # the cache's own schema, WAL mode included
    added: dict[str, int] = {}
    kept: dict[str, int] = {}
    with _errors(f"importing {source} into the cache {path}"), \
            contextlib.closing(sqlite3.connect(path.resolve().as_uri(), uri=True, timeout=30, isolation_level=None)) as db:
        db.execute("ATTACH DATABASE ? AS incoming", (f"{source.resolve().as_uri()}?mode=ro",))
        try:
            for table, kind in TABLES.items():
                # Columns both sides have: other versions may have added some (additive schema changes).
                mine = _columns(db, "main", table)
                shared = [c for c in _columns(db, "incoming", table) if c in mine]
                listed = ", ".join(shared)
                last = int(db.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM incoming.{table}").fetchone()[0])
                total = int(db.execute(f"SELECT COUNT(*) FROM incoming.{table}").fetchone()[0])
                added[kind] = 0
                for start in range(0, last + 1, _IMPORT_CHUNK):
                    db.execute("BEGIN IMMEDIATE")
                    try:
                        cursor = db.execute(
                            f"INSERT OR IGNORE INTO main.{table} ({listed}) SELECT {listed} FROM incoming.{table} "
                            "WHERE rowid >= ? AND rowid < ?",
                            (start, start + _IMPORT_CHUNK),
                        )
                        added[kind] += cursor.rowcount
                    except BaseException:
                        db.execute("ROLLBACK")
                        raise
                    db.execute("COMMIT")
                kept[kind] = total - added[kind]
        finally:
            db.execute("DETACH DATABASE incoming")
    return TransferResult(source, added, kept, source.stat().st_size)

