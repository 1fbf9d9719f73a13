"""One huge example costs memory proportional to a segment of it, not to its length, and is
checked exactly as if it had been read at once. (RSS for a 50 MB line: bench/large_text.py.)"""

from __future__ import annotations

import hashlib
import random
import tracemalloc

import numpy as np
import pytest
from datasketch import MinHash

import harness.data.duplicates as duplicates
from harness.data.duplicates import NUM_PERM, DuplicateFinder, shingle_hashes
from harness.data.text import word_bytes
from harness.data.tokens import _TOKEN, approximate_tokens


def _whole_text(text: str) -> tuple[int, np.ndarray | None]:
    """Fingerprint and signature computed from all the words at once (the definition)."""
    tokens = word_bytes(text)
    fingerprint = int.from_bytes(hashlib.blake2b(b" ".join(tokens), digest_size=8).digest(), "little", signed=True)
    hashes = shingle_hashes(tokens)
    if not len(hashes):
        return fingerprint, None
    minhash = MinHash(num_perm=NUM_PERM, seed=1, hashfunc=int)
    minhash.update_batch(hashes.tolist())
    return fingerprint, minhash.hashvalues.astype(np.uint32)


def _text(rng: random.Random, words: int) -> str:
    vocabulary = ["alpha", "beta", "Gamma's", "délta", "eps-ilon", "zeta\n", "eta,", "theta", "iota\t", "kappa"]
    return " ".join(rng.choice(vocabulary) for _ in range(words))


@pytest.mark.parametrize("segment", [7, 64, 1000])
def test_a_long_text_read_in_segments_has_the_fingerprint_and_signature_of_the_whole(
    segment: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(duplicates, "SEGMENT_CHARS", segment)
    monkeypatch.setattr(duplicates, "_MINHASH_SLICE", 5)
    rng = random.Random(segment)
    texts = [_text(rng, n) for n in (0, 1, 2, 3, 5, 40, 3000)] + ["x" * 5000 + " tail words here", "  a  b  ", "one two"]
    with DuplicateFinder() as finder:
        for text in texts:
            finder.add(text)
        finder._flush()
        finder._sig_file.flush()
        signatures = np.fromfile(finder._sig_path, dtype=np.uint32).reshape(len(texts), NUM_PERM)
        for index, text in enumerate(texts):
            fingerprint, signature = _whole_text(text)
            assert finder._fingerprints[index] == fingerprint, index
            assert bool(finder._has_signature[index]) == (signature is not None), index
            if signature is not None:
                assert np.array_equal(signatures[index], signature), index


def _many_words(rng: random.Random, words: int) -> str:
    vocabulary = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 8))) for _ in range(5000)]
    return " ".join(rng.choice(vocabulary) for _ in range(words))


@pytest.mark.slow
def test_adding_a_long_text_holds_a_segment_not_the_text() -> None:
    text = _many_words(random.Random(0), 400_000)  # ~2.2 MB, ~400 k distinct shingles
    with DuplicateFinder() as finder:
        tracemalloc.start()
        try:
            finder.add(text)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    # Everything at once held every word and datasketch's 128 x shingles matrix: ~450 MB here.
    assert peak < 60 * 2**20, f"{peak / 2**20:.0f} MiB"


@pytest.mark.slow
def test_approximate_counts_of_long_texts_match_and_hold_one_piece() -> None:
    text = _many_words(random.Random(3), 600_000) + "\n\n 12345 ,.é"  # ~3.3 MB, ~750 k estimated tokens
    tracemalloc.start()
    try:
        counted = approximate_tokens(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert counted == len(_TOKEN.findall(text))
    assert peak < 30 * 2**20, f"{peak / 2**20:.0f} MiB"  # every token's string at once: ~45 MiB
