"""`options:` of an `hf:` model in a suite, validated strictly."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.errors import UsageError

DEFAULT_PLAIN_TEMPLATE = (
    "{% for m in messages %}"
    "{% if m.role == 'system' %}{{ m.content }}\n\n"
    "{% elif m.role == 'user' %}User: {{ m.content }}\n"
    "{% else %}Assistant: {{ m.content }}\n"
    "{% endif %}"
    "{% endfor %}"
    "Assistant:"
)
# Where the plain format's next turn starts: generation stops there, as at a stop sequence.
PLAIN_TURN_STOP = "\nUser:"

_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


class HFOptions(BaseModel):
    """How a local Hugging Face model is loaded and prompted."""

    model_config = ConfigDict(extra="forbid")

    device: str = Field(default="auto", description="auto (cuda, then mps, then cpu), cpu, mps, cuda or cuda:N.")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        default="auto", description="Weights dtype; auto is bfloat16 on GPUs that support it, else float32."
    )
    batch_size: int = Field(default=8, gt=0, le=1024, description="Prompts generated together in one forward pass.")
    max_new_tokens: int = Field(
        default=256, gt=0, description="Tokens generated when the suite's generation.max_tokens is not set."
    )
    prompt_format: Literal["auto", "chat", "plain"] = Field(
        default="auto",
        description="chat: the tokenizer's chat template; plain: `plain_template`; auto: chat when the tokenizer has a template.",
    )
    chat_template: str | None = Field(default=None, description="A Jinja chat template replacing the tokenizer's.")
    plain_template: str = Field(
        default=DEFAULT_PLAIN_TEMPLATE, description="Jinja template over `messages` for the plain prompt format."
    )
    threads: int | None = Field(
        default=None,
        gt=0,
        description="CPU threads torch uses while this model generates (default: one per core). "
        "Small models run fastest on one thread, and so does any model on a busy machine.",
    )
    revision: str | None = Field(default=None, description="Hub revision (branch, tag or commit) of a hub model id.")
    trust_remote_code: bool = Field(default=False, description="Allow model code from the model's repository to run.")
    check_base_name: bool = Field(
        default=True,
        description="Refuse an adapter whose recorded base model name differs from the base given (shapes are always checked).",
    )

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str) -> str:
        if not _DEVICE.match(value):
            raise ValueError("use auto, cpu, mps, cuda or cuda:N")
        return value

    def base_key(self) -> tuple[str, str, str | None, bool]:
        """Options that shape the loaded weights: models agreeing on these can share one base load."""
        return (self.device, self.dtype, self.revision, self.trust_remote_code)


def parse_options(model_name: str, options: dict[str, Any]) -> HFOptions:
    try:
        return HFOptions.model_validate(options)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"]))
        raise UsageError(f"model '{model_name}': options.{where}: {first['msg']}") from None
