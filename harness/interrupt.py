"""Running the async parts of a run so that SIGTERM stops them as cleanly as Ctrl-C.

The CLI turns SIGTERM into `Terminated`, raised by a Python signal handler. Raised while an
event loop runs, that exception would land in whichever task happened to be running (an HTTP
write, say), which asyncio then reports as "Task exception was never retrieved". asyncio
avoids this for Ctrl-C by cancelling the main task from a loop signal handler and raising
KeyboardInterrupt once the loop is done; `run_async` does the same for SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from harness.errors import Terminated

T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(coroutine)`; a SIGTERM meanwhile cancels it and raises `Terminated` here."""
    terminated = False

    async def main() -> T:
        nonlocal terminated
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        previous = signal.getsignal(signal.SIGTERM)
        # Only where SIGTERM already means `Terminated` (the CLI's handler says so); a library
        # user's process keeps its own SIGTERM behaviour.
        handled = threading.current_thread() is threading.main_thread() and getattr(previous, "raises_terminated", False)

        def on_sigterm() -> None:
            nonlocal terminated
            terminated = True
            if task is not None:
                task.cancel()

        if handled:
            loop.add_signal_handler(signal.SIGTERM, on_sigterm)
        try:
            return await coroutine
        finally:
            if handled:
                loop.remove_signal_handler(signal.SIGTERM)
                # As the CLI's handler does after a first SIGTERM: a second one kills at once.
                signal.signal(signal.SIGTERM, signal.SIG_DFL if terminated else previous)

    try:
        return asyncio.run(main())
    except asyncio.CancelledError:
        if terminated:
            raise Terminated() from None
        raise
