"""``select-best`` and ``max-score``: the best of one test's outputs across prompts and providers.

select-best asks a grader to pick the best output; max-score picks the output whose other
assertions scored best (``scoring`` grades it after them and hands their results in).

promptfoo grades it once the whole eval has run, with one grader call for the row, and
passes the chosen output's cell. Here each item is graded on its own: the session hands
every sibling item the same outputs in the same (column) order, each item asks the grader
the same question through its own cassette, and passes when the chosen index is its own.
As in promptfoo, ``not-`` does not apply and the verdict's score is 1 or 0.
"""

from __future__ import annotations

import re
from typing import Any

from ...errors import ConfigError
from ...jscompat.values import is_js_number, js_string
from ..base import AssertionContext, Verdict, output_text
from ..declare import assertion
from ..grading import ask_text_grader, grader_failure
from ..spec import AssertionSpec


def _criteria(value: Any) -> str | None:
    return None if isinstance(value, str) else "value must be the criteria (text)"


@assertion("select-best", validate_value=_criteria, grader_calls={"text": 1})
def check_select_best(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    if ctx.compared is None:
        raise ConfigError("select-best compares the outputs of one test across prompts and providers, "
                          "so it runs only in eval files")
    siblings, index = ctx.compared
    outputs = [sibling.output for sibling in siblings]
    if len(outputs) < 2:
        raise ConfigError("select-best needs at least two outputs to compare: give the eval file several "
                          "prompts or providers")
    answer = ask_text_grader("select-best", spec, ctx,
                             {**ctx.vars, "criteria": value, "outputs": [output_text(o) for o in outputs]})
    number = re.search(r"\d+", answer.strip())
    chosen = int(number.group()) if number else -1
    if not 0 <= chosen < len(outputs):
        return grader_failure(f"Invalid select-best verdict: {chosen if number else 'no index'}", answer)
    if chosen == index:
        return Verdict(True, f"Output selected as the best: {value}", final=True)
    return Verdict(False, f"Output not selected (the grader chose output {chosen + 1} of {len(outputs)}): {value}",
                   final=True)


def _max_score_options(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        return "value must be a mapping: {method: average or sum, weights: {type: number}, threshold: number}"
    if value.get("method", "average") not in ("average", "sum"):
        return "method must be average or sum"
    weights = value.get("weights", {})
    if not isinstance(weights, dict) or not all(is_js_number(w) for w in weights.values()):
        return "weights must map assertion types to numbers, such as {contains: 2}"
    if "threshold" in value and not is_js_number(value["threshold"]):
        return "threshold must be a number"
    return None


@assertion("max-score", needs_value=False, validate_value=_max_score_options)
def check_max_score(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    """Passes for the output whose other assertions have the best aggregate score, as in promptfoo:
    the weighted mean (``method: sum``: the weighted sum) of their scores, the first output on a
    tie, and none when the best is below ``threshold``. select-best and max-score are left out."""
    if ctx.compared is None or ctx.compared_results is None:
        raise ConfigError("max-score compares the outputs of one test across prompts and providers, "
                          "so it runs only in eval files")
    if len(ctx.compared_results) < 2:
        raise ConfigError("max-score needs at least two outputs to compare: give the eval file several "
                          "prompts or providers")
    options = value or {}
    weights = options.get("weights", {})
    scores = []
    for results in ctx.compared_results:
        counted = [r for r in results if r.assertion is not None and r.assertion.type not in ("max-score", "select-best")]
        if not counted:
            raise ConfigError("max-score requires at least one other assertion (besides max-score or select-best) "
                              "to aggregate scores from")
        pairs = [(r.score, float(weights.get(r.assertion.display_type, 1))) for r in counted if r.assertion]
        total, weight = sum(score * w for score, w in pairs), sum(w for _, w in pairs)
        scores.append(total if options.get("method") == "sum" else (total / weight if weight > 0 else 0.0))
    best = max(scores)
    winner = scores.index(best)
    threshold = options.get("threshold")
    mine = scores[ctx.compared[1]]
    if ctx.compared[1] == winner and (threshold is None or best >= threshold):
        return Verdict(True, f"Selected as highest scoring output (score: {mine:.3f})", final=True)
    if mine == best and threshold is not None and best < threshold:
        return Verdict(False, f"Not selected - score {mine:.3f} below threshold {js_string(threshold)}", final=True)
    return Verdict(False, f"Not selected (score: {mine:.3f}, max: {best:.3f})", final=True)
