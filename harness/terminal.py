"""Rich consoles that print user text literally.

Model names, case ids, tags, paths and server messages are user text: `openai:llama` must not
become an emoji (rich reads `:name:` as an emoji code) and `[bold]` must not become markup.
Every console the harness prints to comes from here with emoji codes off; our own styling is
markup in our own strings, and user text inside it goes through `literal` (rich's escape).
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape


def make_console(stderr: bool = False, width: int | None = None, quiet: bool = False) -> Console:
    """A console with emoji codes off (and no highlighting, which would restyle user text)."""
    return Console(stderr=stderr, emoji=False, highlight=False, width=width, quiet=quiet)


def output_console(width: int = 160) -> Console:
    """stdout: the terminal's width, or `width` columns when piped (CI logs keep whole rows)."""
    console = make_console()
    return console if console.is_terminal else make_console(width=width)


def literal(text: object) -> str:
    """User text made safe to embed in markup: brackets escaped, printed as written."""
    return escape(str(text))
