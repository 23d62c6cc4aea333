"""promptfoo's metric assertions: reference-text scores (rouge-n, bleu, gleu), latency, cost and
the finish reason.

The formulas live in ``text_metrics``; here are promptfoo's rules around them: default
thresholds, which values are accepted, and where latency and cost come from. Verdict
reasons state the score against the threshold so they read right when negated too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ...errors import ConfigError
from ...providers.base import ProviderResponse
from ..base import AssertionContext, Verdict, output_text
from ..declare import assertion
from ..spec import AssertionSpec
from . import text_metrics


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
        references = [value] if isinstance(value, str) else value  # checked at load; rendering keeps the shape
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


# --- latency and cost ----------------------------------------------------------------------

_FRACTION = re.compile(r"(\.\d{6})\d+")  # Python parses at most microseconds


def _timestamp(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(_FRACTION.sub(r"\1", text))
    except ValueError:
        return None


def recorded_latency_ms(response: ProviderResponse) -> tuple[int, str]:
    """(milliseconds, where they come from) for a provider response.

    A Replicate prediction carries its own ``created_at`` and ``completed_at``; their
    difference is what Replicate took to answer (queueing and cold boots included), and
    it is stored in the cassette, so a replayed run gets the figure of the recorded one.
    Other providers report their own ``latency_ms`` (echo: 0). Whole milliseconds,
    as promptfoo measures them.
    """
    raw = response.raw if isinstance(response.raw, dict) else {}
    created, completed = _timestamp(raw.get("created_at")), _timestamp(raw.get("completed_at"))
    if created is not None and completed is not None:
        return round((completed - created).total_seconds() * 1000), "prediction created_at to completed_at"
    return round(response.latency_ms), "as the provider reported it"


def _response(ctx: AssertionContext, name: str) -> ProviderResponse:
    if ctx.response is None:
        raise ConfigError(f"{name} needs a provider response, and this check has none")
    return ctx.response


def _required_threshold(spec: AssertionSpec) -> float:
    if spec.threshold is None:  # the parser requires one; a programmatic spec may lack it
        raise ConfigError(f"{spec.display_type} needs a threshold")
    return spec.threshold


@assertion("latency", needs_value=False, render_value=False, threshold_unit="milliseconds")
def check_latency(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    threshold = _required_threshold(spec)
    latency, source = recorded_latency_ms(_response(ctx, "latency"))
    passed = latency <= threshold
    return Verdict(passed, f"latency {latency} ms is {'at most' if passed else 'above'} the threshold of "
                           f"{threshold:g} ms ({source})")


@assertion("cost", needs_value=False, render_value=False, threshold_unit="dollars")
def check_cost(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    threshold = _required_threshold(spec)
    response = _response(ctx, "cost")
    basis = response.metadata.get("cost_basis", "")
    if response.cost is None:
        # An error, not a failed verdict: not-cost must not pass on a missing price.
        raise ConfigError(f"cost cannot be checked: {basis or 'the provider does not report a cost'}")
    passed = response.cost <= threshold
    how = f" ({basis})" if basis else ""
    return Verdict(passed, f"cost ${response.cost:.4g} is {'at most' if passed else 'above'} the threshold of "
                           f"${threshold:g}{how}")


def _finish_reason_problem(value: Any) -> str | None:
    return None if isinstance(value, str) else "value must be a finish reason such as stop or length"


@assertion("finish-reason", validate_value=_finish_reason_problem)
def check_finish_reason(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    """Compared without case with the reason the provider gave (Replicate's is inferred: see the README)."""
    reason = ctx.response.finish_reason if ctx.response is not None else None
    if reason is None:
        return Verdict(False, "Provider did not supply stop/finish reason")
    same = value.lower() == reason.lower()
    return Verdict(same, f"Finish reason {'is' if same else 'is not'} {value!r}: the model stopped with {reason!r}")
