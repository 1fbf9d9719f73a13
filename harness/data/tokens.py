"""Token counts for chat examples: tiktoken when its encoding is on this machine, else an approximation.

tiktoken downloads an encoding the first time it is asked for one and caches it (in
$TIKTOKEN_CACHE_DIR, or `data-gym-cache` in the temp folder). We never let it download:
the encoding is loaded only from that cache, and without it counts come from
`approximate_tokens`, which errs high so cost estimates do too. Put the encoding file in
$TIKTOKEN_CACHE_DIR (any machine that has run tiktoken once has it) for exact counts.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from harness.data.validate import Turn
from harness.errors import UsageError

TokenizerChoice = Literal["auto", "tiktoken", "approx"]
DEFAULT_ENCODING = "o200k_base"

# OpenAI's chat format costs a few tokens per message (role and separators) and 3 to prime the reply.
TOKENS_PER_MESSAGE = 4
TOKENS_PER_CONVERSATION = 3

# Each match is one estimated token: up to 5 ASCII letters of a word, up to 3 digits, one other
# letter (accented, Cyrillic, CJK...), a run of newlines, or one punctuation mark.
_COUNT_PIECE = 1 << 20  # characters counted at a time
_TOKEN = re.compile(r"[A-Za-z]{1,5}|\d{1,3}|[^\W\d_A-Za-z]|\n+|[^\w\s]|_")


def approximate_tokens(text: str) -> int:
    """A tokenizer-free estimate for GPT-style BPE encodings (cl100k_base, o200k_base).

    English letters: one token per 5 letters of a word, rounded up (common words are one
    token; 100 words come to ~125); digits: one per 3 (the encodings split numbers that way);
    other letters (accents, Cyrillic, CJK): one per character; each punctuation mark and each
    run of newlines: one. Errs high, most for non-Latin scripts.
    """
    if len(text) <= _COUNT_PIECE:
        return len(_TOKEN.findall(text))
    # A long text is counted a piece at a time, cut at spaces (no match contains one), so the
    # matches of one piece are in memory at a time instead of one string per token of the text.
    count, start, length = 0, 0, len(text)
    while start < length:
        stop = start + _COUNT_PIECE
        if stop >= length:
            stop = length
        else:
            cut = text.rfind(" ", start, stop)
            stop = cut + 1 if cut >= start else _next_space(text, stop)
        count += len(_TOKEN.findall(text, start, stop))
        start = stop
    return count


def _next_space(text: str, position: int) -> int:
    found = text.find(" ", position)
    return len(text) if found < 0 else found + 1


class TokenCounter(Protocol):
    """Counts the tokens of a text."""

    @property
    def method(self) -> str:
        """How counts are made, shown in reports: `tiktoken o200k_base` or `approximate`."""
        ...

    @property
    def exact(self) -> bool: ...

    def count(self, text: str) -> int: ...


@dataclass(frozen=True)
class ApproximateCounter:
    method: str = "approximate"
    exact: bool = False

    def count(self, text: str) -> int:
        return approximate_tokens(text)


class TiktokenCounter:
    def __init__(self, encoding: Any, name: str) -> None:
        self._encoding = encoding
        self.method = f"tiktoken {name}"
        self.exact = True

    def count(self, text: str) -> int:
        # The tokens as one numpy buffer (4 bytes each), not a list of Python ints (~36 bytes
        # each): a 50 MB text is ~10 M tokens. With no special token allowed or disallowed this
        # is `encode_ordinary`.
        return len(self._encoding.encode_to_numpy(text, disallowed_special=()))


def conversation_tokens(turns: list[Turn], counter: TokenCounter) -> int:
    """Tokens of a chat example as the fine-tuning API counts them (content plus per-message overhead)."""
    if not turns:
        return 0
    return sum(TOKENS_PER_MESSAGE + counter.count(text) for _, text in turns) + TOKENS_PER_CONVERSATION


class _NotCached(Exception):
    pass


_patch_lock = threading.Lock()


@contextmanager
def _cache_only() -> Iterator[None]:
    """Make tiktoken read encodings from its cache only: its fetch function raises instead of downloading."""
    import tiktoken.load

    original = tiktoken.load.read_file

    def refuse_remote(blobpath: str) -> bytes:
        if "://" in blobpath:
            raise _NotCached(blobpath)
        return original(blobpath)

    with _patch_lock:
        tiktoken.load.read_file = refuse_remote
        try:
            yield
        finally:
            tiktoken.load.read_file = original


def encoding_name(model: str) -> str:
    """The tiktoken encoding of an OpenAI model id (ft: ids use their base); o200k_base when unknown."""
    try:
        import tiktoken
    except ImportError:
        return DEFAULT_ENCODING
    base = model.split(":")[1] if model.startswith("ft:") else model.removeprefix("openai:")
    try:
        return tiktoken.encoding_name_for_model(base)
    except KeyError:
        return DEFAULT_ENCODING


def local_encoding(name: str) -> Any | None:
    """The tiktoken encoding `name` if it is available without a download, else None."""
    try:
        import tiktoken
    except ImportError:
        return None
    try:
        with _cache_only():
            return tiktoken.get_encoding(name)
    except (_NotCached, ValueError, OSError):
        return None


def token_counter(model: str, choice: TokenizerChoice = "auto") -> TokenCounter:
    """A counter for `model`'s encoding: tiktoken if cached locally (required for `tiktoken`), else approximate."""
    if choice == "approx":
        return ApproximateCounter()
    name = encoding_name(model)
    encoding = local_encoding(name)
    if encoding is not None:
        return TiktokenCounter(encoding, name)
    if choice == "tiktoken":
        raise UsageError(
            f"tiktoken encoding '{name}' is not available on this machine: put {name}.tiktoken's cached file in "
            "$TIKTOKEN_CACHE_DIR, or use --tokenizer approx"
        )
    return ApproximateCounter()
