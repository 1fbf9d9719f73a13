"""Running a suite: planning, the async runner, the response cache and the run directory."""
