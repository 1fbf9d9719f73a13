"""How the `hf:` adapter cuts work into batches; torch-free, so a Ray driver can read actors' plans."""

from __future__ import annotations

from dataclasses import dataclass

from harness.models.base import GenerationResponse

# Runner batches hold this many generation batches, so sorting by length has room to work
# while progress and the cache still advance every few batches.
SORT_WINDOW = 4


@dataclass
class BatchPlan:
    """How a runner batch is decoded: generation batches of request indices, in decoding order,
    and the requests answered without decoding (template errors, prompts beyond the context)."""

    batches: list[list[int]]
    answered: dict[int, GenerationResponse]
