"""Training and evaluation data checks: validate, deduplicate, find PII, count tokens, clean, split,
and find evaluation cases that leak into training data.

Every command streams its input, so memory grows with the number of examples (a few hundred
bytes each for duplicate detection), never with the size of the text.
"""

from __future__ import annotations
