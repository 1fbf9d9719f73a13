"""Reference metrics: exact match, token F1, ROUGE, BLEU/chrF, classification, and a bridge to `evaluate`.

Scores equal those of the reference implementations (SQuAD's evaluation script, rouge-score,
sacrebleu, scikit-learn); the hot paths are re-implemented for speed and tested against them.
Importing this package is cheap: the libraries load when a run scores.

- `options`: the suite-side configuration of each metric (validated when the suite loads).
- `squad`, `rouge`, `sacre`, `classification`, `evaluate_bridge`: the metrics themselves.
- `plan`: which metrics a suite computes, with their options.
- `engine`: per-case scores (in worker processes for large runs).
- `aggregate`: run-level values with bootstrap confidence intervals.
- `stage`: the scoring stage `run_suite` calls after generation.
"""
