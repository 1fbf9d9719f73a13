"""Statistics as pure functions over numpy arrays: no I/O, no global state, seeded randomness."""
