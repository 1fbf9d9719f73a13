"""`harness cache info|prune|export|import|path` on caches whose contents the tests wrote themselves."""

from __future__ import annotations

import fnmatch
import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cli import cli, invoke
from harness.models.base import GenerationResponse
from harness.models.cache import ResponseCache
from harness.run.cache_admin import (
    EXPORT_FORMAT,
    cache_file,
    export_cache,
    import_cache,
    model_patterns,
    prune,
)
from harness.testing import FakeOpenAIServer
from tests.judging.conftest import Scripted, write_suite

DAY = 86400.0
NOW = time.time()


def harness(*args: str) -> int:
    return invoke(lambda: cli.main(args=list(args), prog_name="harness", standalone_mode=False))


def fill(path: Path, table: str, fingerprint: str, ages_days: list[float], prefix: str) -> None:
    """Entries of one fingerprint cached `ages_days` ago (relative to NOW), with 10-byte outputs."""
    cache = ResponseCache(path, table)
    cache.put_many((f"{prefix}{i}", fingerprint, GenerationResponse("x" * 10)) for i in range(len(ages_days)))
    cache.close()
    with sqlite3.connect(path) as db:
        for i, age in enumerate(ages_days):
            db.execute(f"UPDATE {table} SET created = ? WHERE key = ?", (NOW - age * DAY, f"{prefix}{i}"))


A = "openai:model-a@http://127.0.0.1:1/v1"
A_ELSEWHERE = "openai:model-a@https://api.example.com/v1"
AB = "openai:model-ab@http://127.0.0.1:1/v1"  # shares a prefix with model-a: must never be pruned with it
JUDGE = "openai:judge@http://127.0.0.1:1/v1"


@pytest.fixture
def cache_path(isolated_environment: Path) -> Path:
    path = cache_file(isolated_environment)
    fill(path, "responses", A, [10, 3, 1], "a")
    fill(path, "responses", A_ELSEWHERE, [2], "e")
    fill(path, "responses", AB, [40, 20], "b")
    fill(path, "judgments", JUDGE, [35, 0.5, 0.25, 0.1], "j")
    return path


def keys(path: Path, table: str) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute(f"SELECT key FROM {table}")}


def test_path_prints_the_database_and_its_folder(isolated_environment: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert harness("cache", "path") == 0
    assert capsys.readouterr().out.strip() == str(isolated_environment / "cache.sqlite")
    assert harness("cache", "path", "--dir", "--cache-dir", "/elsewhere") == 0
    assert capsys.readouterr().out.strip() == "/elsewhere"


def test_info_groups_entries_by_kind_and_fingerprint_with_age_ranges(
    cache_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert harness("cache", "info", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["path"] == str(cache_path) and data["size_bytes"] >= cache_path.stat().st_size
    groups = {(g["kind"], g["fingerprint"]): g for g in data["groups"]}
    assert {k: g["entries"] for k, g in groups.items()} == {
        ("answers", A): 3, ("answers", A_ELSEWHERE): 1, ("answers", AB): 2, ("judgments", JUDGE): 4,
    }
    assert groups[("answers", A)]["oldest"] == NOW - 10 * DAY and groups[("answers", A)]["newest"] == NOW - 1 * DAY
    assert groups[("judgments", JUDGE)]["oldest"] == NOW - 35 * DAY
    # payload size: 2-character keys (a0..a2) plus the encoded response of each entry
    payload = len(sqlite3.connect(cache_path).execute("SELECT payload FROM responses WHERE key = 'a0'").fetchone()[0])
    assert groups[("answers", A)]["payload_bytes"] == 3 * (payload + 2)

    assert harness("cache", "info") == 0
    out = capsys.readouterr().out
    assert A in out and JUDGE in out and "6 answers, 4 judgments" in out


def test_info_on_a_missing_cache_says_it_is_empty_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert harness("cache", "info", "--cache-dir", str(tmp_path / "none")) == 0
    assert "is empty" in capsys.readouterr().out
    assert not (tmp_path / "none").exists()


def test_prune_by_age(cache_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = prune(cache_path, older_than=5 * DAY, now=NOW, dry_run=True)
    assert result.removed == {"answers": 3, "judgments": 1}
    assert len(keys(cache_path, "responses")) == 6  # a dry run removes nothing

    result = prune(cache_path, older_than=5 * DAY, now=NOW)
    assert result.removed == {"answers": 3, "judgments": 1}
    assert keys(cache_path, "responses") == {"a1", "a2", "e0"}
    assert keys(cache_path, "judgments") == {"j1", "j2", "j3"}


def test_prune_by_model_matches_the_name_on_every_endpoint_and_nothing_else(
    cache_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert harness("cache", "prune", "--model", "openai:model-a", "--dry-run") == 0
    assert "Would remove 4 answers and 0 judgments" in capsys.readouterr().out
    assert harness("cache", "prune", "--model", "openai:model-a") == 0
    assert "Removed 4 answers and 0 judgments" in capsys.readouterr().out
    assert keys(cache_path, "responses") == {"b0", "b1"}

    assert harness("cache", "prune", "--fingerprint", "openai:judge@*", "--older-than", "1d", "--kind", "judgments") == 0
    assert "Removed 1 judgments" in capsys.readouterr().out  # j0, 35 days old; j1-j3 are hours old
    assert keys(cache_path, "judgments") == {"j1", "j2", "j3"}


def test_the_model_pattern_matches_what_a_run_stores(monkeypatch: pytest.MonkeyPatch) -> None:
    """`prune --model` follows the adapter's fingerprint: if that format changes, this fails."""
    from harness.models.base import GenerationParams
    from harness.models.openai_adapter import OpenAIAdapter
    from harness.models.registry import AdapterSettings
    from harness.models.resolve import resolve_model

    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    for spec in ("openai:model-a", "gpt-4o-mini", "ft:gpt-4o-mini-2024-07-18:acme:support:abc123"):
        adapter = OpenAIAdapter(resolve_model(spec, {}, GenerationParams(), Path.cwd()), AdapterSettings())
        (pattern,) = model_patterns(spec)
        assert fnmatch.fnmatchcase(adapter.fingerprint, pattern.replace("[*]", "*"))
    assert model_patterns("openai:we*ird")[0] == "openai:we[*]ird@*"


def test_prune_without_criteria_or_with_a_bad_age_is_exit_2(cache_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert harness("cache", "prune") == 2
    assert capsys.readouterr().err.strip().startswith("error: say what to prune")
    assert harness("cache", "prune", "--older-than", "30 days") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --older-than takes a duration such as 30d, 12h, 90m or 2w, not '30 days'"]
    assert harness("cache", "prune", "--model", "predictions:x.jsonl") == 2
    assert "never cached" in capsys.readouterr().err
    assert len(keys(cache_path, "responses")) == 6


def test_prune_compact_shrinks_the_file(isolated_environment: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = cache_file(isolated_environment)
    cache = ResponseCache(path)
    cache.put_many((f"k{i}", A, GenerationResponse("y" * 2000)) for i in range(500))
    cache.close()
    result = prune(path, patterns=[A], compact=True)
    assert result.removed["answers"] == 500 and result.compacted
    assert result.size_after < result.size_before / 10


def test_export_then_import_into_an_empty_cache(cache_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "ci" / "cache-export.sqlite"
    assert harness("cache", "export", str(target)) == 0
    assert f"Exported 6 answers and 4 judgments to {target}" in capsys.readouterr().out
    assert not Path(f"{target}-wal").exists() and not target.with_name(target.name + ".tmp").exists()

    empty = tmp_path / "other-machine"
    assert harness("cache", "import", str(target), "--cache-dir", str(empty)) == 0
    assert "Imported 6 answers and 4 judgments" in capsys.readouterr().out
    with sqlite3.connect(cache_path) as mine, sqlite3.connect(empty / "cache.sqlite") as theirs:
        for table in ("responses", "judgments"):
            query = f"SELECT key, fingerprint, created, payload FROM {table} ORDER BY key"
            assert mine.execute(query).fetchall() == theirs.execute(query).fetchall()  # created kept as cached
    assert sqlite3.connect(empty / "cache.sqlite").execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    # Importing again adds nothing and keeps what is there.
    assert harness("cache", "import", str(target), "--cache-dir", str(empty)) == 0
    assert "Imported 0 answers and 0 judgments" in (out := capsys.readouterr().out) and "(10 were already there)" in out


def test_a_cache_that_does_not_exist_yet_exports_empty(tmp_path: Path) -> None:
    """A CI runner's first job: nothing cached yet, and the export step must still succeed."""
    target = tmp_path / "export.sqlite"
    result = export_cache(tmp_path / "none" / "cache.sqlite", target)
    assert result.entries == {"answers": 0, "judgments": 0}
    assert import_cache(tmp_path / "fresh" / "cache.sqlite", target).entries == {"answers": 0, "judgments": 0}


def test_import_keeps_local_entries_over_imported_ones(cache_path: Path, tmp_path: Path) -> None:
    target = tmp_path / "export.sqlite"
    export_cache(cache_path, target)
    other = tmp_path / "other" / "cache.sqlite"
    local = ResponseCache(other)
    local.put_many([("a0", A, GenerationResponse("local answer"))])
    local.close()
    result = import_cache(other, target)
    assert result.entries == {"answers": 5, "judgments": 4} and result.kept == {"answers": 1, "judgments": 0}
    assert ResponseCache(other).get_many(["a0"])["a0"].output == "local answer"


def test_an_export_holds_only_the_cache_tables_and_import_copies_shared_columns(
    cache_path: Path, tmp_path: Path
) -> None:
    """Other modules may add tables to the cache database, or columns to its tables (additively)."""
    with sqlite3.connect(cache_path) as db:
        db.execute("CREATE TABLE batches (id TEXT)")
        db.execute("INSERT INTO batches VALUES ('batch_1')")
        db.execute("ALTER TABLE responses ADD COLUMN version TEXT")
        db.execute("UPDATE responses SET version = 'v2'")
    target = tmp_path / "export.sqlite"
    export_cache(cache_path, target)
    with sqlite3.connect(target) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"responses", "judgments", "harness_export"}

    older = tmp_path / "older" / "cache.sqlite"  # a cache without the added column
    result = import_cache(older, target)
    assert result.entries["answers"] == 6
    newer = tmp_path / "newer" / "cache.sqlite"
    ResponseCache(newer).close()
    with sqlite3.connect(newer) as db:
        db.execute("ALTER TABLE responses ADD COLUMN version TEXT")
    import_cache(newer, target)
    with sqlite3.connect(newer) as db:
        assert {row[0] for row in db.execute("SELECT version FROM responses")} == {"v2"}


@pytest.mark.parametrize("kind", ["text", "json", "cache", "newer", "missing", "damaged"])
def test_importing_something_that_is_not_an_export_is_one_line_exit_2(
    kind: str, cache_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / f"{kind}.file"
    if kind == "text":
        source.write_text("hello\n")
    elif kind == "json":
        source.write_text('{"responses": []}')
    elif kind == "cache":
        source = cache_path  # the cache itself is not an export
    elif kind == "newer":
        export_cache(cache_path, source)
        with sqlite3.connect(source) as db:
            db.execute("UPDATE harness_export SET value = ? WHERE name = 'format'", (str(EXPORT_FORMAT + 1),))
    elif kind == "damaged":
        export_cache(cache_path, source)
        data = bytearray(source.read_bytes())
        data[100:4096] = b"\xff" * (4096 - 100)
        source.write_bytes(bytes(data))
    before = keys(cache_path, "responses")
    assert harness("cache", "import", str(source), "--cache-dir", str(tmp_path / "target")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(source) in err[0], err
    expected = {
        "text": "not a harness cache export (not an SQLite file)",
        "json": "not a harness cache export (not an SQLite file)",
        "cache": "not a harness cache export (no harness_export table)",
        "newer": f"a cache export of format {EXPORT_FORMAT + 1}",
        "missing": "no such file",
        "damaged": "not a harness cache export (unreadable",
    }[kind]
    assert expected in err[0]
    assert keys(cache_path, "responses") == before
    assert not (tmp_path / "target").exists() or not (tmp_path / "target" / "cache.sqlite").exists()


WRITER = """
import sys, time
from pathlib import Path
from harness.models.base import GenerationResponse
from harness.models.cache import ResponseCache
cache = ResponseCache(Path(sys.argv[1]))
print("ready", flush=True)
for batch in range(int(sys.argv[2])):
    cache.put_many((f"w{batch}-{i}", "openai:writer@x", GenerationResponse("z" * 200)) for i in range(20))
    time.sleep(0.002)
cache.close()
print("done", flush=True)
"""


def start_writer(path: Path, batches: int) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(batches)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process


def test_export_and_import_while_another_process_writes(cache_path: Path, tmp_path: Path) -> None:
    writer = start_writer(cache_path, 1500)  # 30,000 rows in 1,500 transactions, over 3 s or more
    exports = []
    incoming = tmp_path / "incoming.sqlite"
    export_cache(cache_path, incoming)  # a snapshot to import meanwhile
    source = ResponseCache(incoming)
    source.put_many((f"in{i}", "openai:incoming@x", GenerationResponse("q")) for i in range(12_000))
    source.close()
    for round_ in range(4):
        target = tmp_path / f"export-{round_}.sqlite"
        export_cache(cache_path, target)
        exports.append(target)
        if round_ == 1:
            import_cache(cache_path, incoming)
        time.sleep(0.02)
    assert writer.wait(120) == 0, "the writer failed while the cache was exported and imported"
    counts = []
    for target in exports:
        with sqlite3.connect(target) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            written = db.execute("SELECT COUNT(*) FROM responses WHERE fingerprint = 'openai:writer@x'").fetchone()[0]
            assert written % 20 == 0  # a snapshot holds whole transactions only
            counts.append(written)
    assert counts == sorted(counts)
    assert any(0 < count < 30_000 for count in counts), counts  # the exports overlapped the writer
    with sqlite3.connect(cache_path) as db:
        assert db.execute("SELECT COUNT(*) FROM responses WHERE fingerprint = 'openai:writer@x'").fetchone()[0] == 30_000
        assert db.execute("SELECT COUNT(*) FROM responses WHERE fingerprint = 'openai:incoming@x'").fetchone()[0] == 12_000


def test_a_judged_run_after_export_and_import_into_an_empty_cache_makes_no_request(
    tmp_path: Path, fake_openai: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CI path: a runner pays for the answers and judgments once, exports them, and the next
    runner (an empty cache) imports them and pays nothing for the same run."""
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    fake_openai.responder = Scripted()
    suite = write_suite(tmp_path)
    args = ["run", str(suite), "--model", "openai:cand", "--baseline", "openai:base", "--judge", "openai:judge",
            "-q", "-o", str(tmp_path / "reports")]
    first_runner, second_runner = tmp_path / "runner-1", tmp_path / "runner-2"
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(first_runner))
    assert harness(*args) == 0
    assert fake_openai.request_count == 6 + 6 + 12
    assert harness("cache", "export", str(tmp_path / "harness-cache.sqlite")) == 0

    monkeypatch.setenv("HARNESS_CACHE_DIR", str(second_runner))
    assert harness("cache", "import", str(tmp_path / "harness-cache.sqlite")) == 0
    assert "Imported 12 answers and 12 judgments" in capsys.readouterr().out
    fake_openai.reset()
    assert harness(*args) == 0
    assert fake_openai.request_count == 0
    assert "75.0%" in capsys.readouterr().out


def workflow_step(name: str) -> str:
    import yaml

    workflow = yaml.safe_load((Path(__file__).parents[2] / "examples" / "github-actions.yml").read_text())
    (step,) = [s for s in workflow["jobs"]["eval"]["steps"] if s.get("name") == name]
    return str(step["run"])


def test_the_example_workflow_carries_the_cache_from_one_runner_to_the_next(tmp_path: Path) -> None:
    """examples/github-actions.yml's import and export steps, run as written on two fresh "runners"."""
    import os

    workspace = tmp_path / "workspace"
    workspace.mkdir()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}

    def step(name: str, runner: Path) -> None:
        done = subprocess.run(["bash", "-e", "-c", workflow_step(name)], cwd=workspace, capture_output=True, text=True,
                              env={**env, "HARNESS_CACHE_DIR": str(runner)}, timeout=120)
        assert done.returncode == 0, done.stderr

    first, second = tmp_path / "runner-1", tmp_path / "runner-2"
    step("Import the cache", first)  # nothing restored yet: a no-op
    fill(cache_file(first), "responses", A, [1, 2], "a")
    fill(cache_file(first), "responses", AB, [45], "old")  # pruned before the export
    step("Export the cache", first)
    assert (workspace / "harness-cache.sqlite").is_file()
    step("Import the cache", second)
    assert keys(cache_file(second), "responses") == {"a0", "a1"}


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs: the honest way to run out of space (needs root; skipped otherwise)."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_an_export_to_a_full_disk_is_one_line_exit_3_and_leaves_nothing_behind(
    isolated_environment: Path, full_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = ResponseCache(cache_file(isolated_environment))
    cache.put_many((f"k{i}", A, GenerationResponse("z" * 1000)) for i in range(3000))  # about 3 MB
    cache.close()
    target = full_disk / "export.sqlite"
    assert harness("cache", "export", str(target)) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"to {target} failed: database or disk is full" in err[0], err
    assert list(full_disk.iterdir()) == []


def test_import_into_a_read_only_folder_is_one_line_exit_3(cache_path: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    import os

    if os.geteuid() == 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(locked)], capture_output=True)
        if done.returncode != 0:
            pytest.skip("cannot mount a read-only tmpfs here")
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
    try:
        target = tmp_path / "export.sqlite"
        export_cache(cache_path, target)
        assert harness("cache", "import", str(target), "--cache-dir", str(locked / "cache")) == 3
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"error: importing {target} into the cache {locked}"), err
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", str(locked)], check=False)
