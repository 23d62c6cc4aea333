"""Assertions: the registry of checks and promptfoo's scoring rules."""

from .base import AssertionContext, GradingResult, Verdict
from .declare import assertion
from .registry import ASSERTION_TYPES, suggest_type
from .scoring import grade

__all__ = ["ASSERTION_TYPES", "AssertionContext", "GradingResult", "Verdict", "assertion", "grade", "suggest_type"]
