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


# For ASCII text, the same words as `words` at C speed: bytes that are not word characters become
# spaces (apostrophes vanish), then split.
_NON_WORD_BYTES = bytes(
    c if chr(c).isascii() and (chr(c).isalnum() or chr(c) == "_") else ord(" ") for c in range(256)
)


def word_bytes(text: str) -> list[bytes]:
    """`words(text)`, UTF-8 encoded; fast for ASCII text."""
    if text.isascii():
        return text.encode("ascii").lower().translate(_NON_WORD_BYTES, b"'").split()
    return [w.encode("utf-8") for w in words(text)]


def normalize(text: str) -> str:
    """Texts equal after this (case, Unicode form, punctuation, whitespace folded) are duplicates."""
    return " ".join(words(text))


def digest(text: str | bytes) -> int:
    """A stable 64-bit fingerprint (the same in every process, unlike `hash`)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little", signed=True)


def shingles(tokens: list[str], size: int) -> set[str]:
    """Overlapping runs of `size` words; a text shorter than that is one shingle."""
    if len(tokens) <= size:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}
