"""Text normalization shared by duplicate detection, splitting and contamination checks."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_WORD = re.compile(r"\w+")
_APOSTROPHES = str.maketrans("", "", "'’")


def words(text: str) -> list[str]:
    """The text's words after folding case and Unicode form; punctuation and spacing drop out
    (apostrophes without splitting the word: `month's` is `months`)."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return _WORD.findall(text.casefold().translate(_APOSTROPHES))


def normalize(text: str) -> str:
    """Texts equal after this (case, Unicode form, punctuation, whitespace folded) are duplicates."""
    return " ".join(words(text))


def digest(text: str) -> int:
    """A stable 64-bit fingerprint (the same in every process, unlike `hash`)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little", signed=True)


def shingles(tokens: list[str], size: int) -> set[str]:
    """Overlapping runs of `size` words; a text shorter than that is one shingle."""
    if len(tokens) <= size:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}
