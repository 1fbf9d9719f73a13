"""Model adapters: one async interface over OpenAI-compatible endpoints, local models and saved predictions."""
