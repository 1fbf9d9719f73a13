"""Exact and near-duplicate detection over a stream of texts, in memory that does not grow with their length.

Exact duplicates share a fingerprint of their normalized text. Near duplicates are found
with MinHash signatures (datasketch) over word shingles and locality-sensitive hashing:
two texts whose signatures agree on a whole band are candidates, kept when their
estimated Jaccard similarity reaches the threshold. Near-duplicate relations are closed
transitively (connected components), so a chain of near copies forms one group.

The banding is done here rather than with datasketch's MinHashLSH because its in-memory
index costs about 3 KB per text; here each text keeps 8 bytes per band plus its
fingerprint in memory, and its signature in a temporary file read back for verification
of the candidate pairs only.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from harness.data.text import word_bytes

DEFAULT_THRESHOLD = 0.8
NUM_PERM = 128
SHINGLE_WORDS = 3
_FLUSH_EVERY = 4096
SEGMENT_CHARS = 1 << 20  # a long text is read this many characters at a time
_MINHASH_SLICE = 8192  # shingle hashes per MinHash update: 8 MiB of datasketch's temporaries
_VERIFY_CHUNK = 4096  # pairs verified together: at most 8192 signature rows (4 MiB) in memory
# Odd 64-bit multipliers combining three word hashes into one shingle hash.
_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F))
_LOW32 = np.uint64(0xFFFFFFFF)


def shingle_hashes(tokens: list[bytes]) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """32-bit hashes of the text's word trigrams (one for a text under three words), without repeats.

    Hashing each word once and combining neighbours arithmetically is several times faster
    than hashing every trigram string, and as good for MinHash, which mixes its input again.
    """
    if not tokens:
        return np.zeros(0, dtype=np.uint64)
    word_hashes = np.fromiter(map(zlib.crc32, tokens), dtype=np.uint64, count=len(tokens))
    if len(tokens) < SHINGLE_WORDS:
        combined = np.array([zlib.crc32(b" ".join(tokens))], dtype=np.uint64)
    else:
        combined = (word_hashes[:-2] * _MIX[0] + word_hashes[1:-1] * _MIX[1] + word_hashes[2:]) >> np.uint64(16)
    return np.unique(combined & _LOW32)


@dataclass
class DuplicateGroups:
    """What a finder found, by position of the text in the order it was added."""

    count: int
    exact_of: dict[int, int] = field(default_factory=dict)  # duplicate -> its first occurrence
    near_of: dict[int, tuple[int, float]] = field(default_factory=dict)  # near copy -> (group's first, similarity)
    labels: np.ndarray[Any, np.dtype[np.int64]] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def group_of(self, index: int) -> int:
        """The first member of the group (exact or near) that `index` belongs to."""
        return int(self.labels[index])

    @property
    def removable(self) -> int:
        """Texts that are copies of an earlier one: what deduplication drops."""
        return len(self.exact_of) + len(self.near_of)


def _segments(text: str, size: int = SEGMENT_CHARS) -> Iterator[str]:
    """`text` in pieces of about `size` characters, each cut just after a whitespace character."""
    start, end_of_text = 0, len(text)
    while start < end_of_text:
        end = start + size
        if end >= end_of_text:
            yield text[start:]
            return
        cut = max(text.rfind(" ", start, end), text.rfind("\n", start, end))
        if cut < 0:  # a run of `size` characters without a space: cut at the next one
            after = [i for i in (text.find(" ", end), text.find("\n", end)) if i >= 0]
            cut = min(after) if after else end_of_text
        yield text[start : cut + 1]
        start = cut + 1


def _band_params(threshold: float, num_perm: int) -> tuple[int, int]:
    # datasketch computes the band count and width minimising weighted false positives and
    # negatives for a threshold; an index object is the public way to ask for them. Misses
    # weigh more: every candidate is verified, so a false candidate costs only a comparison.
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=(0.05, 0.95))
    return int(lsh.b), int(lsh.r)


class DuplicateFinder:
    """Add texts one by one (`add`), then call `groups()`. Use as a context manager (it owns a temp file)."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, near: bool = True, num_perm: int = NUM_PERM) -> None:
        if not 0 < threshold <= 1:
            raise ValueError(f"near-duplicate threshold must be in (0, 1], got {threshold}")
        self.threshold = threshold
        self.near = near
        self.num_perm = num_perm
        self._fingerprints = array("q")
        self._count = 0
        if near:
            from datasketch import MinHash

            self._bands, self._rows = _band_params(threshold, num_perm)
            self._minhash = MinHash(num_perm=num_perm, seed=1, hashfunc=int)
            rng = np.random.default_rng(20240607)
            self._band_mult = rng.integers(1, 2**63, size=(1, 1, self._rows), dtype=np.uint64) | np.uint64(1)
            self._band_keys = array("Q")
            self._has_signature = array("b")
            self._pending: list[np.ndarray[Any, Any]] = []
            self._tmpdir = tempfile.TemporaryDirectory(prefix="harness-minhash-")
            self._sig_path = Path(self._tmpdir.name) / "signatures.u32"
            self._sig_file = self._sig_path.open("wb")

    def __enter__(self) -> DuplicateFinder:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self.near:
            self._sig_file.close()
            self._tmpdir.cleanup()

    def __len__(self) -> int:
        return self._count

    def add(self, text: str) -> int:
        """Add a text; returns its index.

        The text is read a segment at a time (cut at whitespace, which no word spans), so memory
        stays flat whatever its length: the words of one segment, its shingle hashes, and MinHash
        updates in slices (datasketch's `update_batch` holds num_perm x len(batch) integers at
        once, 1.7 GB for the 1.7 M shingles of a 10 MB text). The fingerprint and the signature
        are exactly those of the whole text at once: the fingerprint hashes the same bytes,
        shingles that cross a cut are formed from the words carried over, and a MinHash minimum
        does not depend on how its input is sliced."""
        fingerprint = hashlib.blake2b(digest_size=8)
        minhash = self._minhash if self.near else None
        if minhash is not None:
            minhash.clear()
        carry: list[bytes] = []  # the last words seen: shingles continue across segments
        seen_words = 0
        has_shingles = False
        for segment in _segments(text):
            tokens = word_bytes(segment)
            if not tokens:
                continue
            fingerprint.update((b" " if seen_words else b"") + b" ".join(tokens))
            seen_words += len(tokens)
            if minhash is not None:
                window = carry + tokens
                if len(window) >= SHINGLE_WORDS:
                    hashes = shingle_hashes(window)
                    has_shingles = True
                    for start in range(0, len(hashes), _MINHASH_SLICE):
                        minhash.update_batch(hashes[start : start + _MINHASH_SLICE].tolist())
                carry = window[-(SHINGLE_WORDS - 1) :]
        if minhash is not None and 0 < seen_words < SHINGLE_WORDS:
            minhash.update_batch(shingle_hashes(carry).tolist())  # a short text is one shingle
            has_shingles = True
        self._fingerprints.append(int.from_bytes(fingerprint.digest(), "little", signed=True))
        if minhash is not None:
            self._has_signature.append(1 if has_shingles else 0)
            self._pending.append(minhash.hashvalues.astype(np.uint32))
            if len(self._pending) >= _FLUSH_EVERY:
                self._flush()
        self._count += 1
        return self._count - 1

    def _flush(self) -> None:
        """Write pending signatures to the temp file and keep their band keys (a batch at a time: fewer numpy calls)."""
        if self._pending:
            signatures = np.stack(self._pending)
            self._pending = []
            self._sig_file.write(signatures.tobytes())
            bands = signatures[:, : self._bands * self._rows].reshape(len(signatures), self._bands, self._rows)
            keys = (bands.astype(np.uint64) * self._band_mult).sum(axis=2, dtype=np.uint64)
            self._band_keys.frombytes(keys.tobytes())

    def groups(self) -> DuplicateGroups:
        """Exact duplicates, near duplicates and the group of every text."""
        n = self._count
        result = DuplicateGroups(n)
        fingerprints = np.frombuffer(self._fingerprints, dtype=np.int64) if n else np.zeros(0, dtype=np.int64)
        exact_first = _first_of_equal(fingerprints)
        for index in np.nonzero(exact_first != np.arange(n))[0].tolist():
            result.exact_of[index] = int(exact_first[index])
        edges_a, edges_b = [exact_first], [np.arange(n)]
        if self.near and n:
            self._flush()
            self._sig_file.flush()
            pairs = self._similar_pairs(n, exact_first)
            edges_a.append(pairs[:, 0])
            edges_b.append(pairs[:, 1])
            labels = _components(n, np.concatenate(edges_a), np.concatenate(edges_b))
            is_first_copy = exact_first == np.arange(n)
            near = np.nonzero((labels != exact_first) & is_first_copy)[0]
            if len(near):
                near_pairs = np.stack([labels[near], near], axis=1).astype(np.int64)
                sims = self._similarities(near_pairs)
                for (first, index), sim in zip(near_pairs.tolist(), sims.tolist(), strict=True):
                    result.near_of[index] = (first, round(sim, 3))
            result.labels = labels
        else:
            result.labels = exact_first.astype(np.int64)
        return result

    def _similarities(self, pairs: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """Estimated Jaccard similarity of each pair: the share of signature positions that agree.

        Rows are read from the signature file with `pread`, a chunk of pairs at a time. A memory
        map would be simpler, but the kernel maps pages around each one touched and counts them
        all as the process's memory: random rows of a large file would map most of it.
        """
        row_bytes = self.num_perm * 4
        out = np.empty(len(pairs), dtype=np.float64)
        fd = os.open(self._sig_path, os.O_RDONLY)
        try:
            for start in range(0, len(pairs), _VERIFY_CHUNK):
                chunk = pairs[start : start + _VERIFY_CHUNK]
                rows, inverse = np.unique(chunk.ravel(), return_inverse=True)
                data = b"".join(os.pread(fd, row_bytes, row * row_bytes) for row in rows.tolist())
                block = np.frombuffer(data, dtype=np.uint32).reshape(len(rows), self.num_perm)
                local = inverse.reshape(chunk.shape)
                out[start : start + len(chunk)] = (block[local[:, 0]] == block[local[:, 1]]).mean(axis=1)
        finally:
            os.close(fd)
        return out

    def _similar_pairs(self, n: int, exact_first: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """Pairs (first, other) that collide in a band and reach the threshold.

        Each band's candidates are verified before the next band is looked at, so memory holds
        at most one band's candidates (one per text) rather than every band's at once.
        """
        keys = np.frombuffer(self._band_keys, dtype=np.uint64).reshape(n, self._bands)
        usable = np.frombuffer(self._has_signature, dtype=np.int8).astype(bool)
        # Only the first of each exact group needs comparing: its copies follow it.
        usable &= exact_first == np.arange(n)
        candidates = np.nonzero(usable)[0]
        found = []
        for band in range(self._bands):
            column = keys[candidates, band]
            order = np.argsort(column, kind="stable")
            sorted_keys = column[order]
            same_as_previous = np.concatenate(([False], sorted_keys[1:] == sorted_keys[:-1]))
            run_start = np.maximum.accumulate(np.where(same_as_previous, 0, np.arange(len(order))))
            members = np.nonzero(same_as_previous)[0]
            if len(members):
                pairs = np.stack([candidates[order[run_start[members]]], candidates[order[members]]], axis=1)
                found.append(pairs[self._similarities(pairs) >= self.threshold])
        if not found:
            return np.zeros((0, 2), dtype=np.int64)
        return np.unique(np.concatenate(found).astype(np.int64), axis=0)


def _first_of_equal(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """For each position, the first position holding the same value."""
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    same_as_previous = np.concatenate(([False], sorted_values[1:] == sorted_values[:-1]))
    run_start = np.maximum.accumulate(np.where(same_as_previous, 0, np.arange(n)))
    first = np.empty(n, dtype=np.int64)
    first[order] = order[run_start]
    return first


def _components(n: int, a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Label every node with the smallest index of its connected component."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    smallest = np.full(labels.max() + 1 if n else 0, n, dtype=np.int64)
    np.minimum.at(smallest, labels, np.arange(n))
    result: np.ndarray[Any, Any] = smallest[labels]
    return result
