"""`python -m harness.testing serve --script FILE`: the stand-in endpoint, for trying harness without a key.

It plays every model and the judge a script names (see `harness.testing.script`) on one
OpenAI-compatible URL on this machine, until Ctrl-C. Point a suite at it with
`OPENAI_BASE_URL=http://127.0.0.1:8765/v1` and `openai:NAME` specs, or a per-model `base_url`.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from harness.errors import EXIT_RUN_FAILED, EXIT_USAGE, HarnessError

DEFAULT_PORT = 8765


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m harness.testing serve",
        description="Serve the models and the judge of a stand-in script on an OpenAI-compatible URL.",
    )
    parser.add_argument("--script", required=True, type=Path, help="YAML script: models, their replies, the judge")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    return parser


def main(argv: list[str] | None = None) -> int:
    from harness.testing.fake_server import FakeOpenAIServer
    from harness.testing.policy import ScriptedEndpoint
    from harness.testing.script import load_script

    args = _parser().parse_args(argv)
    try:
        script = load_script(args.script)
    except HarnessError as exc:
        for line in exc.lines():
            print(f"error: {line}", file=sys.stderr)
        return EXIT_USAGE
    endpoint = ScriptedEndpoint(script)
    server = FakeOpenAIServer(responder=endpoint, faults=endpoint.faults, latency=script.latency, host=args.host,
                              port=args.port, record=False)
    try:
        server.start()
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}; pick another --port",
              file=sys.stderr)
        return EXIT_RUN_FAILED
    served = ", ".join(script.models) or "no models"
    judge = f"; judge '{script.judge.model}'" if script.judge is not None else ""
    print(f"stand-in endpoint listening on {server.base_url}", flush=True)
    print(f"serving {served}{judge} from {args.script}", flush=True)
    print(f"use it: export OPENAI_BASE_URL={server.base_url}   (Ctrl-C stops the server)", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
