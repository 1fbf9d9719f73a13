from __future__ import annotations

from pathlib import Path

import pytest
import tiktoken

from harness.data.tokens import (
    ApproximateCounter,
    TiktokenCounter,
    approximate_tokens,
    conversation_tokens,
    encoding_name,
    local_encoding,
    token_counter,
)
from harness.errors import UsageError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("Hello world", 2),                 # two short words
        ("internationalization", 4),        # 20 letters: 4 blocks of 5
        ("passwords", 2),                   # 9 letters: 2 blocks
        ("12345678", 3),                    # digits in threes: 123 456 78
        ("How do I reset my password?", 8),  # how do i reset my passw ord ?
        ("café", 2),                        # caf + é
        ("你好世界", 4),                     # one per CJK character
        ("a_b", 3),                         # a _ b
        ("line\n\nnext", 3),                # line, one newline run, next
    ],
)
def test_approximation_by_hand(text: str, expected: int) -> None:
    assert approximate_tokens(text) == expected


def test_conversation_overhead_follows_the_chat_format() -> None:
    counter = ApproximateCounter()
    turns = [("user", "Hello world"), ("assistant", "12345678")]
    # 4 per message (role, separators) + content, + 3 to prime the reply.
    assert conversation_tokens(turns, counter) == (4 + 2) + (4 + 3) + 3
    assert conversation_tokens([], counter) == 0


def test_no_download_when_the_encoding_is_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "empty-cache"))
    import tiktoken.registry

    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})
    calls: list[str] = []

    def network(blobpath: str) -> bytes:  # what tiktoken would call to download
        calls.append(blobpath)
        raise AssertionError("tiktoken tried to download")

    import tiktoken.load

    monkeypatch.setattr(tiktoken.load, "read_file", network)
    assert local_encoding("o200k_base") is None
    assert calls == []
    counter = token_counter("gpt-4o-mini")
    assert counter.method == "approximate" and not counter.exact
    with pytest.raises(UsageError, match="not available on this machine"):
        token_counter("gpt-4o-mini", "tiktoken")
    # The guard restores tiktoken's own function afterwards.
    assert tiktoken.load.read_file is network


def test_tiktoken_counter_counts_with_the_encoding() -> None:
    # A byte-level encoding built locally: one token per byte, so counts are checkable by hand.
    encoding = tiktoken.Encoding(
        name="bytes", pat_str=r"\S+|\s+", mergeable_ranks={bytes([i]): i for i in range(256)}, special_tokens={}
    )
    counter = TiktokenCounter(encoding, "bytes")
    assert counter.count("héllo") == 6
    assert counter.exact and counter.method == "tiktoken bytes"


def test_encoding_names_follow_the_model() -> None:
    assert encoding_name("gpt-4o-mini-2024-07-18") == "o200k_base"
    assert encoding_name("ft:gpt-3.5-turbo-0125:acme:support:abc") == "cl100k_base"
    assert encoding_name("openai:some-local-model") == "o200k_base"


def test_approx_choice_never_touches_tiktoken() -> None:
    assert token_counter("gpt-4o", "approx").method == "approximate"

