"""pytester's in-process runs drop the modules they imported when they end; numpy and other C
extensions cannot be imported twice in one process, so what a run loads is imported up front."""

from __future__ import annotations

import scipy.optimize  # harness.stats.bounds imports these lazily
import scipy.special  # noqa: F401

import harness.api
import harness.models.openai_adapter
import harness.models.predictions
import harness.report.finalize
import harness.report.history  # noqa: F401
