"""Reports rendered from a run directory."""
