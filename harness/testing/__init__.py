"""Test helpers shipped with the package: a scriptable OpenAI-compatible server for offline tests and CI."""

from harness.testing.batch_api import BatchAPI, BatchClock, BatchScript
from harness.testing.fake_server import FakeOpenAIServer, Fault, Reply

__all__ = ["BatchAPI", "BatchClock", "BatchScript", "FakeOpenAIServer", "Fault", "Reply"]
