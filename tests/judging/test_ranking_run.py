"""Several candidates, panels of judges, round robins and label judges end to end, against scripted
models and judges on the local fake server (real sockets, the real openai client)."""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from rich.console import Console

from harness.api import RunOptions, RunOutcome, run_suite
from harness.cli import cli, invoke
from harness.testing import FakeOpenAIServer, Reply

CASES = 12
BASE_QUALITY = 1
# Answer quality per question (1-12) against the baseline's constant 1: c1 is better everywhere,
# c2 better on 8, equal on 2, worse on 2, c3 better on 2, equal on 2, worse on 8.
QUALITY = {
    "c1": [2] * 12,
    "c2": [2] * 8 + [1, 1] + [0, 0],
    "c3": [2, 2, 1, 1] + [0] * 8,
    "base": [BASE_QUALITY] * 12,
}
# win rates vs the baseline with ties as half: (wins + ties / 2) / 12
EXPECTED = {"openai:c1": 12 / 12, "openai:c2": 9 / 12, "openai:c3": 3 / 12}
LABEL_OF_QUALITY = {2: "polite", 1: "neutral", 0: "rude"}

SUITE = "name: league\ncases:\n" + "".join(
    f"  - {{id: q{i}, input: 'Question {i}', reference: {'polite' if i % 3 else 'rude'}}}\n" for i in range(1, CASES + 1)
)


def quality(answer: str) -> int:
    found = re.search(r"quality (\d)", answer)
    assert found is not None, answer
    return int(found.group(1))


def judge_prompt(body: dict[str, Any]) -> str:
    return next(m["content"] for m in body["messages"] if m["role"] == "user")


def pair_answers(body: dict[str, Any]) -> tuple[str, str]:
    found = re.search(r"Answer A:\n<<<\n(.*?)\n>>>\n\nAnswer B:\n<<<\n(.*?)\n>>>", judge_prompt(body), re.DOTALL)
    assert found is not None
    return found.group(1), found.group(2)


def fair(body: dict[str, Any]) -> str:
    """Prefers the better answer; ties equal ones. Labels answers by quality."""
    prompt = judge_prompt(body)
    if "Answer A:" not in prompt:
        answer = re.search(r"The answer to classify:\n<<<\n(.*?)\n>>>", prompt, re.DOTALL)
        assert answer is not None
        return orjson.dumps({"reason": "tone", "label": LABEL_OF_QUALITY[quality(answer.group(1))]}).decode()
    a, b = (quality(text) for text in pair_answers(body))
    return "[[A]]" if a > b else ("[[B]]" if b > a else "[[C]]")


def always_first(body: dict[str, Any]) -> str:
    return "The first one. [[A]]"


class League:
    """Models answer by their quality table; judges by name (j1, j2: fair; first: always A)."""

    def __init__(self) -> None:
        self.judges: dict[str, Any] = {"j1": fair, "j2": fair, "j3": fair, "first": always_first}

    def __call__(self, body: dict[str, Any]) -> str | Reply:
        model = body["model"]
        if model in QUALITY:
            number = int(re.findall(r"Question (\d+)", body["messages"][-1]["content"])[0])
            return f"{model} on {number}: quality {QUALITY[model][number - 1]}"
        judged: str | Reply = self.judges[model](body)
        return judged


@pytest.fixture
def league(fake_openai: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[League]:
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    script = League()
    fake_openai.responder = script
    yield script


def judge_calls(server: FakeOpenAIServer) -> Counter[str]:
    """Requests per judge, by the model name the endpoint saw (openai:j1 is sent as j1)."""
    return Counter(body["model"] for body in server.requests if body["model"] not in QUALITY)


def harness(*args: str) -> int:
    return invoke(lambda: cli.main(args=list(args), prog_name="harness", standalone_mode=False))


def write_suite(directory: Path, text: str = SUITE) -> Path:
    path = directory / "suite.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def only_run(root: Path) -> Path:
    runs = sorted(p for p in (root / "reports").iterdir() if p.is_dir())
    return runs[-1]


CANDIDATES = ["--model", "openai:c1", "--model", "openai:c2", "--model", "openai:c3", "--baseline", "openai:base"]


def test_three_candidates_a_baseline_and_two_judges_through_the_cli(
    tmp_path: Path, league: League, fake_openai: FakeOpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = write_suite(tmp_path)
    code = harness("run", str(suite), *CANDIDATES, "--judge", "openai:j1", "--judge", "openai:j2", "-q",
                   "-o", str(tmp_path / "reports"), "--gate", "rank[openai:c1] <= 1", "--gate", "bt_win_rate[openai:c1] >= 0.8")
    captured = capsys.readouterr()
    assert code == 0, captured.err
    # every judge judged both orders of every item of every pair
    assert judge_calls(fake_openai) == {"j1": 72, "j2": 72}
    assert "judging plan" in captured.err and "144 judge calls" in captured.err

    directory = only_run(tmp_path)
    summary = orjson.loads((directory / "summary.json").read_bytes())
    ranking = summary["ranking"]
    assert list(ranking["models"]) == ["openai:c1", "openai:c2", "openai:base", "openai:c3"]
    assert [entry["rank"] for entry in ranking["models"].values()] == [1, 2, 3, 4]
    assert ranking["anchor"] == "openai:base" and ranking["prompts"] == CASES and ranking["battles"] == 36
    for candidate, rate in EXPECTED.items():
        # a star design: the predicted win rate is the candidate's own win rate
        assert summary["pairwise"][candidate]["win_rate"] == pytest.approx(rate)
        assert ranking["models"][candidate]["win_rate"] == pytest.approx(rate, abs=1e-4)
        assert {j: e["win_rate"] for j, e in summary["pairwise"][candidate]["judges"].items()} == {
            "openai:j1": pytest.approx(rate), "openai:j2": pytest.approx(rate),
        }
    c1 = ranking["models"]["openai:c1"]
    assert c1["rank_range"] == [1, 1] and c1["rank_upper"] == 1 and c1["wins"] == 12
    assert ranking["models"]["openai:c2"]["ci"]["low"] < 0.75 < ranking["models"]["openai:c2"]["ci"]["high"]
    panel = summary["panel"]
    assert panel["judges"] == ["openai:j1", "openai:j2"] and panel["quorum"] == 2
    assert panel["pairwise"]["fleiss_kappa"]["kappa"] == pytest.approx(1.0)
    assert panel["pairwise"]["most_disagreeing"] is None

    # the console table, summary.md and report.html show the leaderboard
    assert re.search(r"│\s+1 │ openai:c1\s+│", captured.out) and "judge panel (majority, quorum 2 of 2)" in captured.out
    markdown = (directory / "summary.md").read_text()
    assert "### Ranking" in markdown and "| 1 | openai:c1 | 1 |" in markdown and "| 4 | openai:c3 |" in markdown
    html = (directory / "report.html").read_text()
    table = html[html.index('<table id="leaderboard">') : html.index("</table>", html.index('<table id="leaderboard">'))]
    assert table.count('class="whisker"') == 4 and table.count("<circle") == 4
    c3 = ranking["models"]["openai:c3"]
    assert f'x1="{300 * c3["ci"]["low"]:.1f}" x2="{300 * c3["ci"]["high"]:.1f}"' in table
    assert "http://" not in html.replace("http://www.w3.org", "")  # offline: nothing to fetch

    run = orjson.loads((directory / "run.json").read_bytes())
    assert run["judge"]["plan"]["calls"] == 144
    assert run["judge"]["activity"] == {
        "openai:j1": {"requests_sent": 72, "judgments_cached": 0},
        "openai:j2": {"requests_sent": 72, "judgments_cached": 0},
    }
    assert [j["name"] for j in run["judge"]["panel"]["judges"]] == ["openai:j1", "openai:j2"]

    # a gate on a finished run: c3 is not first
    assert harness("gate", str(directory), "--gate", "rank[openai:c3] <= 1") == 1

    # each judge's answers are cached under that judge: j1's are reused, only j3 is asked
    fake_openai.reset()
    assert harness("run", str(suite), *CANDIDATES, "--judge", "openai:j1", "--judge", "openai:j3", "-q",
                   "-o", str(tmp_path / "reports")) == 0
    assert judge_calls(fake_openai) == {"j3": 72}


def run_api(suite: Path, console: Console | None = None, **options: Any) -> RunOutcome:
    settings: dict[str, Any] = {
        "models": ["openai:c1", "openai:c2", "openai:c3"], "baseline": "openai:base",
        "output_dir": suite.parent / "reports", "progress": False,
    }
    settings.update(options)
    return run_suite(suite, RunOptions(**settings), console or Console(file=io.StringIO()))


def test_a_judge_that_always_answers_a_is_outvoted_and_named(tmp_path: Path, league: League) -> None:
    outcome = run_api(write_suite(tmp_path), judges=["openai:j1", "openai:j2", "openai:first"])
    summary = outcome.summary
    for candidate, rate in EXPECTED.items():
        assert summary["pairwise"][candidate]["win_rate"] == pytest.approx(rate)  # 2 of 3 fair judges decide
        first = summary["pairwise"][candidate]["judges"]["openai:first"]
        assert first["win_rate"] == 0.5  # its two orders always disagree: a tie on every item
    judges = summary["panel"]["pairwise"]["judges"]
    assert judges["openai:first"]["position_bias"] == {"first_slot_rate": 1.0, "decisive_verdicts": 72, "consistency": 0.0}
    assert judges["openai:j1"]["position_bias"]["consistency"] == 1.0
    assert summary["panel"]["pairwise"]["most_disagreeing"] == "openai:first"


def test_two_judges_one_always_a_majority_makes_ties(tmp_path: Path, league: League) -> None:
    outcome = run_api(write_suite(tmp_path), judges=["openai:j1", "openai:first"])
    summary = outcome.summary
    for candidate in EXPECTED:
        block = summary["pairwise"][candidate]
        # no majority of two unless both agree, and "first" never decides: every item is a tie
        assert (block["wins"], block["losses"], block["ties"]) == (0, 0, 12)
    # two judges agree symmetrically; the one whose own orders disagree is named
    assert summary["panel"]["pairwise"]["most_disagreeing"] == "openai:first"


def test_mean_of_soft_preferences_through_a_run(tmp_path: Path, league: League) -> None:
    def sure_of_a(body: dict[str, Any]) -> Reply:
        return Reply("[[A]]", logprobs={"[[A": -0.2231435513142097, "[[B": -1.6094379124341003})  # 0.8 / 0.2

    league.judges["soft"] = sure_of_a
    suite = write_suite(tmp_path, SUITE + "judge: {models: [openai:j1, openai:soft], aggregate: mean}\n")
    outcome = run_api(suite, models=["openai:c1"])
    block = outcome.summary["pairwise"]["openai:c1"]
    # j1's replies carry no verdict-token logprobs, so it contributes its discrete win (1.0); "soft"
    # prefers the first answer with 0.8 in both orders: 0.8 for c1 in order 1, 0.2 in order 2, so 0.5.
    # The panel's mean is 0.75 on every item: a win scored 0.75.
    assert block["win_rate"] == pytest.approx(0.75)
    assert block["wins"] == 12


def test_round_robin_judges_every_pair_and_reuses_the_baseline_battles(
    tmp_path: Path, league: League, fake_openai: FakeOpenAIServer
) -> None:
    suite = write_suite(tmp_path)
    run_api(suite, models=["openai:c1", "openai:c2"], judge="openai:j1")
    assert judge_calls(fake_openai) == {"j1": 2 * 2 * CASES}
    fake_openai.reset()
    suite.write_text(SUITE + "ranking: round_robin\n", encoding="utf-8")
    outcome = run_api(suite, models=["openai:c1", "openai:c2"], judge="openai:j1")
    # c1 vs base and c2 vs base come from the judge cache; only c1 vs c2 is new
    assert judge_calls(fake_openai) == {"j1": 2 * CASES}
    lines = orjson.loads(b"[" + b",".join((outcome.run_dir / "judgments.jsonl").read_bytes().splitlines()) + b"]")
    pairs = Counter((line["candidate"], line["baseline"], line["versus_baseline"]) for line in lines)
    assert pairs == {("openai:c1", "openai:c2", False): CASES, ("openai:c1", "openai:base", True): CASES,
                     ("openai:c2", "openai:base", True): CASES}
    summary = outcome.summary
    assert set(summary["pairwise"]) == {"openai:c1", "openai:c2"}  # vs the baseline only
    ranking = summary["ranking"]
    assert ranking["design"] == "round_robin" and ranking["battles"] == 3 * CASES
    assert list(ranking["models"]) == ["openai:c1", "openai:c2", "openai:base"]
    c1 = ranking["models"]["openai:c1"]
    # vs base: 12 wins; vs c2 (equal on 1-8, worse on 9-12): 4 wins and 8 ties
    assert (c1["wins"], c1["ties"], c1["losses"]) == (16, 8, 0)


def test_the_plan_is_printed_before_any_judge_call(tmp_path: Path, league: League, fake_openai: FakeOpenAIServer) -> None:
    seen: dict[str, int] = {}

    class Watch(io.StringIO):
        def write(self, text: str) -> int:
            if "judging plan" in text and "at" not in seen:
                seen["at"] = fake_openai.request_count
            return super().write(text)

    run_api(write_suite(tmp_path), console=Console(file=Watch(), width=200), judge="openai:j1")
    assert seen == {"at": 0}  # nothing at all was sent when the plan was shown


@pytest.mark.parametrize(
    ("extra", "suite_tail", "expected"),
    [
        (["--model", "openai:c1", "--ranking", "round_robin", "--judge", "openai:j1"], "",
         "error: --ranking round_robin: a ranking needs at least two models, this run has 1 (add models with --model SPEC)"),
        (["--model", "openai:c1", "--judge", "openai:j1"], "ranking: round_robin\n",
         "suite.yaml:15:10: a ranking needs at least two models, this run has 1"),
        ([*CANDIDATES, "--judge", "openai:j1", "--judge", "openai:j1"], "",
         "error: --judge openai:j1 given twice: a panel names each judge once"),
        ([*CANDIDATES, "--judge", "openai:j1", "--judge", "openai:j2", "--max-judge-calls", "100"], "",
         "error: the judging plan takes 144 judge calls (72 per judge × 2 judges), above --max-judge-calls 100"),
        ([*CANDIDATES, "--judge", "openai:j1"], "judge: {label: {labels: [polite, rude], passing: [kind]}}\n",
         "suite.yaml:15:50: passing label(s) 'kind' not among the labels (polite, rude)"),
        ([*CANDIDATES], "judge: {models: [openai:j1, openai:j2, openai:j1]}\n",
         "suite.yaml:15:17: the panel names judge(s) openai:j1 twice"),
    ],
)
def test_bad_input_is_one_line_exit_2_before_anything_is_sent(
    tmp_path: Path, league: League, fake_openai: FakeOpenAIServer, capsys: pytest.CaptureFixture[str],
    extra: list[str], suite_tail: str, expected: str,
) -> None:
    suite = write_suite(tmp_path, SUITE + suite_tail)
    code = harness("run", str(suite), *extra, "-q", "-o", str(tmp_path / "reports"))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and expected in err[0], err
    assert fake_openai.request_count == 0
    assert not (tmp_path / "reports").exists()


LABEL_SUITE = SUITE + "judge:\n  model: openai:j1\n  label: {labels: [polite, neutral, rude], passing: [polite, neutral]}\n"


def test_label_judge_pass_fail_distribution_and_classification(
    tmp_path: Path, league: League, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = write_suite(tmp_path, LABEL_SUITE)
    code = harness("run", str(suite), "--model", "openai:c2", "--model", "openai:c3", "-q", "-o", str(tmp_path / "reports"),
                   "--gate", "label_pass_rate[openai:c2] >= 0.5", "--gate", "label_pass_rate[openai:c3] >= 0.5")
    out = capsys.readouterr().out
    assert code == 1  # c3's gate fails
    summary = orjson.loads((only_run(tmp_path) / "summary.json").read_bytes())
    c2, c3 = summary["label"]["openai:c2"], summary["label"]["openai:c3"]
    assert c2["distribution"] == {"polite": 8, "neutral": 2, "rude": 2} and c2["pass_rate"] == pytest.approx(10 / 12)
    assert c3["distribution"] == {"polite": 2, "neutral": 2, "rude": 8} and c3["pass_rate"] == pytest.approx(4 / 12)
    # references: polite unless the case number is a multiple of 3 (rude). c2's labels: polite on 1-8,
    # neutral on 9-10, rude on 11-12: correct on 1, 2, 4, 5, 7, 8 (polite) and 12 (rude) = 7 of 12
    assert c2["classification"]["figures"]["accuracy"] == pytest.approx(7 / 12)
    gates = {g["gate"]: g["passed"] for g in summary["gates"]}
    assert gates == {"label_pass_rate[openai:c2] >= 0.5": True, "label_pass_rate[openai:c3] >= 0.5": False}
    assert "label judge" in out and "polite 8 · neutral 2 · rude 2" in out
    lines = [orjson.loads(raw) for raw in (only_run(tmp_path) / "judgments.jsonl").read_bytes().splitlines()]
    first = next(line for line in lines if line["model"] == "openai:c3" and line["case_id"] == "q5")
    assert (first["kind"], first["label"], first["passed"], first["outcome"]) == ("label", "rude", False, "graded")


def test_a_judge_only_rerun_keeps_the_panel_and_the_round_robin(
    tmp_path: Path, league: League, fake_openai: FakeOpenAIServer
) -> None:
    suite = write_suite(tmp_path)
    original = run_api(suite, models=["openai:c1", "openai:c2"], judges=["openai:j1", "openai:first"],
                       ranking="round_robin").run_dir
    fake_openai.reset()
    assert harness("judge", "rerun", str(original), "-q") == 0
    assert judge_calls(fake_openai) == {}  # the same panel and pairs: every judgment is in the cache
    rerun = max((p for p in original.parent.iterdir() if p.is_dir() and p != original), key=lambda p: p.stat().st_mtime_ns)
    summary = orjson.loads((rerun / "summary.json").read_bytes())
    assert summary["ranking"]["design"] == "round_robin"
    assert summary["panel"]["judges"] == ["openai:j1", "openai:first"]
