"""Chat messages to prompt text: the tokenizer's chat template, or a plain `User:/Assistant:` format."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from harness.models.base import ChatMessage
from harness.models.hf.options import PLAIN_TURN_STOP, HFOptions


class PromptError(Exception):
    """A conversation the template cannot render (e.g. a system turn the model's template refuses)."""


@dataclass(frozen=True)
class PromptFormat:
    """How one model turns messages into text. `implicit_stops` end a turn in this format."""

    use_chat_template: bool
    chat_template: str | None
    plain_template: Any  # a compiled jinja2 Template
    implicit_stops: tuple[str, ...]

    @property
    def add_special_tokens(self) -> bool:
        # Chat templates write their own BOS and special tokens; plain text gets the tokenizer's.
        return not self.use_chat_template

    def render(self, messages: Sequence[ChatMessage], tokenizer: Any) -> str:
        try:
            if self.use_chat_template:
                text = tokenizer.apply_chat_template(
                    list(messages), tokenize=False, add_generation_prompt=True, chat_template=self.chat_template
                )
                return str(text)
            return str(self.plain_template.render(messages=list(messages)))
        except (TemplateError, ValueError, TypeError) as exc:
            raise PromptError(f"the prompt template failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None


def compile_plain_template(source: str) -> Any:
    """A sandboxed Jinja template; raises ValueError with the syntax problem."""
    try:
        return ImmutableSandboxedEnvironment(keep_trailing_newline=True).from_string(source)
    except TemplateError as exc:
        raise ValueError(str(exc)) from None


def prompt_format(options: HFOptions, tokenizer_has_template: bool) -> PromptFormat:
    """Resolve `prompt_format: auto` against the tokenizer. Raises ValueError for `chat` without a template."""
    has_template = tokenizer_has_template or options.chat_template is not None
    if options.prompt_format == "chat" and not has_template:
        raise ValueError("prompt_format is chat but the tokenizer has no chat template (set options.chat_template)")
    use_chat = options.prompt_format == "chat" or (options.prompt_format == "auto" and has_template)
    plain = compile_plain_template(options.plain_template)
    return PromptFormat(use_chat, options.chat_template, plain, () if use_chat else (PLAIN_TURN_STOP,))
