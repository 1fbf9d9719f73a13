"""Reference-metric scoring speed: harness vs plain rouge-score + sacrebleu on the same cases.

    .venv/bin/python bench/metrics_speed.py                 # 10,000 cases (the issue's target: < 10 s)
    .venv/bin/python bench/metrics_speed.py --cases 2000 --reference-cases 500

Generates a seeded corpus of ~60-word answers (half of them several lines, a fifth with two
references, some accented words), scores every text metric (exact_match, token_f1, rouge1/2/L/
Lsum, bleu, chrf) with per-case values and run-level figures, and prints cases/s for:
- harness: `ScoringStage.score` (per-case scores, all usable cores) and `add_to_summary`
  (corpus BLEU/chrF and 95 % bootstrap intervals of every metric);
- reference: rouge-score's RougeScorer (score_multi), sacrebleu's sentence BLEU/chrF and corpus
  BLEU/chrF, and the SQuAD script's EM/F1, one case after another as a user would call them.
It then checks that every per-case value and both corpus scores are identical (to 1e-9).
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import re
import string
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.metrics.engine import usable_cores
from harness.metrics.options import OPTION_MODELS, TEXT_METRICS
from harness.metrics.plan import MetricPlan
from harness.metrics.stage import ScoringStage

WORDS = (
    "the", "a", "an", "of", "to", "and", "in", "is", "it", "you", "that", "he", "was", "for",
    "on", "are", "with", "as", "his", "they", "be", "at", "one", "have", "this", "from", "or", "had",
    "by", "hot", "word", "but", "what", "some", "we", "can", "out", "other", "were", "all", "there", "when",
    "up", "use", "your", "how", "said", "each", "she", "which", "do", "their", "time", "if", "will", "way",
    "about", "many", "then", "them", "write", "would", "like", "so", "these", "her", "long", "make", "thing", "see",
    "him", "two", "has", "look", "more", "day", "could", "go", "come", "did", "number", "sound", "no", "most",
    "people", "my", "over", "know", "water", "than", "call", "first", "who", "may", "down", "side", "been", "now",
    "find", "any", "new", "work", "part", "take", "get", "place", "made", "live", "where", "after", "back", "little",
    "only", "round", "man", "year", "came", "show", "every", "good", "me", "give", "our", "under", "name", "very",
    "through", "just", "form", "sentence", "great", "think", "say", "help", "low", "line", "differ", "turn", "cause", "much",
    "mean", "before", "move", "right", "boy", "old", "too", "same", "tell", "does", "set", "three", "want", "air",
    "well", "also", "play", "small", "end", "put", "home", "read", "hand", "port", "large", "spell", "add", "even",
    "land", "here", "must", "big", "high", "such", "follow", "act", "why", "ask", "men", "change", "went", "light",
    "kind", "off", "need", "house", "picture", "try", "us", "again", "animal", "point", "mother", "world", "near", "build",
    "self", "earth", "father", "model", "answer", "reset", "password", "account", "billing", "invoice", "settings", "security", "download", "café",
    "naïve", "über", "résumé",
)
SUFFIXES = ["", "", "", "", "s", "ing", "ed", "ly", "ness", "ation"]


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) + rng.choice(SUFFIXES) for _ in range(rng.randint(6, 18))]
    if rng.random() < 0.2:
        words.insert(rng.randrange(len(words)), str(rng.randint(1, 2000)))
    if rng.random() < 0.2:
        words[rng.randrange(len(words))] += ","
    words[0] = words[0].capitalize()
    return " ".join(words) + rng.choice([".", ".", ".", "!", "?"])


def _text(rng: random.Random, words: int = 60) -> str:
    sentences: list[str] = []
    while sum(len(s.split()) for s in sentences) < words:
        sentences.append(_sentence(rng))
    return ("\n" if rng.random() < 0.5 else " ").join(sentences)


def _perturb(rng: random.Random, text: str) -> str:
    out = []
    for word in text.split(" "):
        roll = rng.random()
        if roll < 0.08:
            continue
        if roll < 0.18:
            out.append(rng.choice(WORDS))
        elif roll < 0.22 and out:
            out.insert(len(out) - 1, word)
        else:
            out.append(word)
    return " ".join(out)


def make_cases(n: int, seed: int = 7) -> list[tuple[str, list[str]]]:
    rng = random.Random(seed)
    cases = []
    for _ in range(n):
        references = [_text(rng)]
        if rng.random() < 0.2:
            references.append(_perturb(rng, references[0]))
        cases.append((_perturb(rng, references[0]), references))
    return cases


# -- the plain reference: what a user would write with the reference libraries --------------------
def _squad_normalize(s: str) -> str:
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def _squad_f1(gold: str, pred: str) -> float:
    gold_toks, pred_toks = _squad_normalize(gold).split(), _squad_normalize(pred).split()
    if not gold_toks or not pred_toks:
        return float(gold_toks == pred_toks)
    same = sum((collections.Counter(gold_toks) & collections.Counter(pred_toks)).values())
    if same == 0:
        return 0.0
    p, r = same / len(pred_toks), same / len(gold_toks)
    return 2 * p * r / (p + r)


def reference_scores(cases: list[tuple[str, list[str]]]) -> tuple[list[dict[str, float]], dict[str, float]]:
    import sacrebleu
    from rouge_score import rouge_scorer

    types = ["rouge1", "rouge2", "rougeL", "rougeLsum"]
    rouge = rouge_scorer.RougeScorer(types, use_stemmer=True)
    bleu, chrf = sacrebleu.BLEU(effective_order=True), sacrebleu.CHRF()
    per_case = []
    for prediction, references in cases:
        scores = rouge.score_multi(references, prediction)
        values = {
            "exact_match": float(max(_squad_normalize(r) == _squad_normalize(prediction) for r in references)),
            "token_f1": max(_squad_f1(r, prediction) for r in references),
            **{t: scores[t].fmeasure for t in types},
            "bleu": bleu.sentence_score(prediction, references).score,
            "chrf": chrf.sentence_score(prediction, references).score,
        }
        per_case.append(values)
    width = max(len(refs) for _, refs in cases)
    streams = [[refs[i] if i < len(refs) else None for _, refs in cases] for i in range(width)]
    predictions = [p for p, _ in cases]
    corpus = {
        "bleu": sacrebleu.corpus_bleu(predictions, streams).score,  # type: ignore[arg-type]
        "chrf": sacrebleu.corpus_chrf(predictions, streams).score,  # type: ignore[arg-type]
    }
    return per_case, corpus


def harness_scores(cases: list[tuple[str, list[str]]], workers: int | None) -> tuple[list[dict], dict, float, float]:
    plan = MetricPlan(text=tuple((name, OPTION_MODELS[name]()) for name in TEXT_METRICS))
    stage = ScoringStage(plan)
    records = [
        {"case_id": f"case-{i}", "model": "model", "output": p, "references": r, "tags": [], "error": None, "checks": []}
        for i, (p, r) in enumerate(cases)
    ]
    start = time.perf_counter()
    stage.score(records, workers=workers)
    scored = time.perf_counter()
    summary: dict = {"models": {"model": {"by_tag": {}}}}
    stage.add_to_summary(summary, records)
    aggregated = time.perf_counter()
    return records, summary["models"]["model"]["metrics"], scored - start, aggregated - scored


def _cpu_seconds() -> float:
    """User + system time of this process and of its finished children (the scoring workers)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--reference-cases", type=int, default=None,
                        help="time the reference on the first N cases only (default: all); identity is checked on those")
    parser.add_argument("--workers", type=int, default=None, help="scoring processes (default: automatic)")
    args = parser.parse_args()

    cases = make_cases(args.cases)
    words = sum(len(p.split()) for p, _ in cases) / len(cases)
    print(f"{len(cases)} cases, {words:.0f} words per answer on average, {usable_cores()} usable cores")

    print(f"load average before: {os.getloadavg()[0]:.2f} (the machine may be shared; CPU seconds show the work itself)")
    start, cpu_start = time.perf_counter(), _cpu_seconds()
    records, figures, score_s, aggregate_s = harness_scores(cases, args.workers)
    total_s, cpu_s = time.perf_counter() - start, _cpu_seconds() - cpu_start
    print(f"harness:   {total_s:6.2f} s  ({len(cases) / total_s:8.0f} cases/s)  "
          f"= per-case scores {score_s:.2f} s + run-level figures with bootstrap CIs {aggregate_s:.2f} s; "
          f"{cpu_s:.2f} CPU s in all processes")

    sample = cases[: args.reference_cases] if args.reference_cases else cases
    start, cpu_start = time.perf_counter(), _cpu_seconds()
    expected, corpus = reference_scores(sample)
    reference_s, reference_cpu = time.perf_counter() - start, _cpu_seconds() - cpu_start
    rate = len(sample) / reference_s
    print(f"reference: {reference_s:6.2f} s  ({rate:8.0f} cases/s) on {len(sample)} cases "
          f"(rouge-score + sacrebleu + SQuAD EM/F1, no confidence intervals); {reference_cpu:.2f} CPU s")
    print(f"speed-up:  {len(cases) / total_s / rate:.1f}x in cases/s (harness with CIs over the plain reference), "
          f"{(reference_cpu / len(sample)) / (cpu_s / len(cases)):.1f}x in CPU per case")
    print(f"load average after: {os.getloadavg()[0]:.2f}")

    worst = 0.0
    for record, values in zip(records, expected, strict=False):
        for name, value in values.items():
            worst = max(worst, abs(record["metrics"][name] - value))
    if len(sample) == len(cases):
        for name, value in corpus.items():
            worst = max(worst, abs(figures[name]["value"] - value))
        compared = f"{len(sample)} cases x {len(TEXT_METRICS)} metrics + corpus BLEU/chrF"
    else:
        compared = f"{len(sample)} cases x {len(TEXT_METRICS)} metrics (corpus scores need --reference-cases = --cases)"
    verdict = "identical" if worst <= 1e-9 else "DIFFERENT"
    print(f"check:     {verdict} over {compared}: largest difference {worst:.3g}")
    if worst > 1e-9:
        sys.exit(1)


if __name__ == "__main__":
    main()
