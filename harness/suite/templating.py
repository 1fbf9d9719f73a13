"""Jinja2 rendering of case inputs. Sandboxed, strict about undefined variables."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment


class TemplateProblem(ValueError):
    pass


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False
    )


@lru_cache(maxsize=4096)
def _template(text: str) -> jinja2.Template:
    return _environment().from_string(text)


def render(text: str, variables: dict[str, Any]) -> str:
    """Render `text` with `variables`; text without template syntax is returned as is."""
    if "{{" not in text and "{%" not in text and "{#" not in text:
        return text
    try:
        return _template(text).render(**variables)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(f"template syntax error on line {exc.lineno} of the text: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise TemplateProblem(f"template uses an undefined variable: {exc.message} (add it to `vars`)") from None
    except jinja2.TemplateError as exc:
        raise TemplateProblem(f"template error: {exc}") from None
