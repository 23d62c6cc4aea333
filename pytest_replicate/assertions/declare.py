"""How a check module declares an assertion type: the ``assertion`` decorator.

Check modules import this, never ``registry``: the registry imports the check modules, so
declaring here keeps the import graph one-way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .base import AssertionContext, Verdict
from .spec import AssertionSpec

Check = Callable[[Any, Any, AssertionSpec, AssertionContext], Verdict]


@dataclass(frozen=True)
class AssertionType:
    name: str
    check: Check
    needs_value: bool
    validate_value: Callable[[Any], str | None] | None = None  # returns an error message
    render_value: bool = True  # whether vars are rendered into the value first
    grader: str | None = None  # the grading purpose an assertion-level ``provider`` serves (providers/purposes.py)
    list_value: bool = False  # the value is a list; promptfoo's CSV syntax gives it comma-separated
    # A threshold is required (promptfoo throws without one); this names its unit for the message.
    threshold_unit: str | None = None
    # The score is a measure (BLEU, ROUGE...): negated, promptfoo scores it 1 - score, not 0/1.
    inverse_score: bool = False
    # Model calls one check makes at least, per grading purpose ({"text": 2}): what --replicate-plan counts.
    grader_calls: Mapping[str, int] = field(default_factory=dict)


# Every declared type by name; ``registry`` imports the check modules that fill it.
DECLARED: dict[str, AssertionType] = {}


def assertion(
    name: str,
    *,
    needs_value: bool = True,
    validate_value: Callable[[Any], str | None] | None = None,
    render_value: bool = True,
    grader: str | None = None,
    list_value: bool = False,
    threshold_unit: str | None = None,
    inverse_score: bool = False,
    grader_calls: Mapping[str, int] | None = None,
) -> Callable[[Check], Check]:
    """Register a check under a promptfoo assertion type name."""

    def register(check: Check) -> Check:
        DECLARED[name] = AssertionType(name, check, needs_value, validate_value, render_value, grader,
                                              list_value, threshold_unit, inverse_score, dict(grader_calls or {}))
        return check

    return register
