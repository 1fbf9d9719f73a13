"""`harness view`: the report's file URL always, a browser only where one can start."""

from __future__ import annotations

import json
import webbrowser
from pathlib import Path

import pytest

from tests.report.helpers import cli


def fake_run(root: Path, name: str, started: str, report: bool = True) -> Path:
    run = root / name
    run.mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"run_id": name, "started_at": started}), encoding="utf-8")
    if report:
        (run / "report.html").write_text("<html></html>", encoding="utf-8")
    return run


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: calls.append(url) or True)
    for name in ("BROWSER", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    return calls


def test_opens_the_latest_run_where_a_display_exists(tmp_path: Path, opened: list[str], monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    fake_run(tmp_path, "s-20250102-000000", "2025-01-02T00:00:00+00:00")
    newest = fake_run(tmp_path, "s-20250101-000000", "2025-01-03T00:00:00+00:00")  # started last
    fake_run(tmp_path, "not-a-run-json", "x", report=True).joinpath("run.json").write_text("{broken")
    monkeypatch.setenv("DISPLAY", ":0")
    code, out, err = cli(["view", "--dir", str(tmp_path)], capsys)
    url = (newest / "report.html").resolve().as_uri()
    assert (code, out.strip(), err) == (0, url, "") and opened == [url]


def test_prints_the_url_only_without_a_display_or_with_print(tmp_path: Path, opened: list[str],
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    run = fake_run(tmp_path, "r", "2025-01-01T00:00:00+00:00")
    code, out, err = cli(["view", str(run)], capsys)
    assert code == 0 and out.strip() == (run / "report.html").resolve().as_uri()
    assert err.strip() == "no browser can open here (no display): open the URL above on a machine with one"
    monkeypatch.setenv("DISPLAY", ":0")
    code, out, err = cli(["view", str(run / "report.html"), "--print"], capsys)
    assert code == 0 and out.strip() == (run / "report.html").resolve().as_uri() and err == ""
    assert opened == []


@pytest.mark.parametrize(("make", "message"), [
    (lambda root: fake_run(root, "r", "2025", report=False), "has no report.html yet: write it with `harness report"),
    (lambda root: root / "missing", "does not exist: give a run directory or an .html report"),
    (lambda root: (root / "empty").mkdir() or root / "empty", "is not a run directory (no run.json)"),
])
def test_what_cannot_be_viewed_is_one_line_and_exit_2(tmp_path: Path, opened: list[str], make: object, message: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    target = make(tmp_path)  # type: ignore[operator]
    code, out, err = cli(["view", str(target)], capsys)
    assert code == 2 and out == "" and message in err and len(err.strip().splitlines()) == 1
    code, _, err = cli(["view", "--dir", str(tmp_path / "nowhere")], capsys)
    assert code == 2 and "no run directory under" in err
