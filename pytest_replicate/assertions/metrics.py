"""promptfoo's metric assertions: reference-text scores (rouge-n, bleu, gleu).

The formulas live in ``text_metrics``; here are promptfoo's rules around them: default
thresholds and which values are accepted. Verdict
reasons state the score against the threshold so they read right when negated too.
"""

from __future__ import annotations

from typing import Any, Callable

from ..errors import ConfigError
from . import text_metrics
from .base import AssertionContext, Verdict, output_text
from .registry import assertion
from .spec import AssertionSpec


def _references_problem(value: Any) -> str | None:
    """bleu and gleu take one reference text or a list of them, as in promptfoo."""
    if isinstance(value, str) or (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
        return None
    return "value must be a reference text or a non-empty list of reference texts"


def _reference_problem(value: Any) -> str | None:
    """rouge-n takes exactly one reference text (promptfoo rejects a list)."""
    return None if isinstance(value, str) else "value must be one reference text (a string)"


def _score_verdict(label: str, score: float, threshold: float, digits: int) -> Verdict:
    """Pass when ``score >= threshold``; promptfoo's wording, with its number of decimals."""
    passed = score >= threshold
    relation = "greater than or equal to" if passed else "less than"
    return Verdict(passed, f"{label} score {score:.{digits}f} is {relation} threshold {threshold:g}", score)


def _register_reference_metric(name: str, label: str, formula: Callable[[str, list[str]], float],
                               default_threshold: float, digits: int) -> None:
    @assertion(name, validate_value=_references_problem, inverse_score=True)
    def check(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
        problem = _references_problem(value)
        if problem:  # only reachable through vars rendered into the value
            raise ConfigError(f"{name}: {problem}, got {value!r}")
        references = [value] if isinstance(value, str) else value
        threshold = spec.threshold if spec.threshold is not None else default_threshold
        return _score_verdict(label, formula(output_text(output), references), threshold, digits)


_register_reference_metric("bleu", "BLEU", text_metrics.bleu, 0.5, 4)
_register_reference_metric("gleu", "GLEU", text_metrics.gleu, 0.5, 4)


@assertion("rouge-n", validate_value=_reference_problem, inverse_score=True)
def check_rouge_n(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    """ROUGE-1 F1 of the lower-cased texts (promptfoo's ``rouge-n`` has no way to choose N)."""
    threshold = spec.threshold if spec.threshold is not None else 0.75
    score = text_metrics.rouge_n(output_text(output).lower(), str(value).lower())
    return _score_verdict("ROUGE-N", score, threshold, 2)
