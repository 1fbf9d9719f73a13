"""Deterministic checks: patterns, equality, regular expressions, JSON, length."""

from harness.checks.base import Check, CheckConfigError, CheckResult
from harness.checks.compile import compile_case_checks

__all__ = ["Check", "CheckConfigError", "CheckResult", "compile_case_checks"]
