"""The stages of a run, in the order data flows: prepare, generate, score, judge, report."""

from harness.run.stages.generate import GenerateStage
from harness.run.stages.judge import JudgeStage
from harness.run.stages.prepare import PrepareStage
from harness.run.stages.report import ReportStage
from harness.run.stages.score import ScoreStage

__all__ = ["GenerateStage", "JudgeStage", "PrepareStage", "ReportStage", "ScoreStage"]
