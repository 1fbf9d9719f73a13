"""The OpenAI Batch API as a generation engine and a judge transport: half the price, its own
rate-limit pool, answers within 24 hours; batches recorded in the cache database so a killed run
re-attaches to them (harness/run/batch_store.py)."""
