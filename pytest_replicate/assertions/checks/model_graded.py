"""Model-graded checks that ask a language model for a verdict: llm-rubric, g-eval,
model-graded-closedqa and factuality.

Each follows promptfoo 0.123.1's matcher for its prompt variables, how the answer is
read, scores, default thresholds and how ``not-`` applies (factuality and closedqa
ignore it in promptfoo, so they do here). Answers are read tolerantly: JSON may come
inside prose or a code fence. An answer that still cannot be read fails the assertion
with the grader's raw answer in the reason, whether negated or not.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ..base import AssertionContext, Verdict, output_text
from ..declare import assertion
from ..grading import (
    ask,
    ask_text_grader,
    ask_text_grader_with_prompt,
    grader_failure,
    grading_prompt,
    rubric_prompt_of,
    verdict_object,
)
from ..spec import AssertionSpec


def _text_value(value: Any) -> str | None:
    return None if isinstance(value, str) else "value must be text"


# --- llm-rubric ------------------------------------------------------------------------------

def _rubric_value(value: Any) -> str | None:
    return None if isinstance(value, (str, dict, list)) else "value must be the rubric: text (or an object)"


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return bool(re.fullmatch(r"(?i)true|yes|pass|y", str(value).strip()))


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@assertion("llm-rubric", validate_value=_rubric_value, grader_calls={"text": 1})
def check_llm_rubric(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    """The grader answers {reason, pass, score}; with ``threshold``, the score must reach it too."""
    grader = ctx.grader("text", spec.provider)
    prompt = grading_prompt("llm-rubric", rubric_prompt_of(spec.rubric_prompt, ctx),
                            {**ctx.vars, "output": output_text(output), "rubric": value}, ctx)
    answer = ask(grader, prompt, ctx)
    verdict = verdict_object(answer, prompt)
    if isinstance(verdict, Verdict):
        return verdict
    if verdict is None:
        return grader_failure(f"could not read a JSON verdict from {grader.id}'s llm-rubric answer", answer)
    # JavaScript's rules, as promptfoo reads the verdict: a null or missing pass passes;
    # a score that is not a number is Number(score) (null and "" are 0), else the pass as 0/1.
    passed = _truthy(True if verdict.get("pass") is None else verdict["pass"])
    raw = verdict.get("score", float(passed))
    score = 0.0 if raw is None or (isinstance(raw, str) and not raw.strip()) else _number(raw)
    if score is None:
        score = float(passed)
    reason = str(verdict.get("reason") or "")
    if spec.threshold is not None and passed and score < spec.threshold:
        passed = False
        reason = f"{reason} (score {score:g} is below the threshold {spec.threshold:g})".lstrip()
    reason = reason or ("Grading passed" if passed else "Grading failed")
    if spec.negate:  # promptfoo's invertScore: 1 - score, kept within 0..1
        return Verdict(not passed, reason, min(1.0, max(0.0, 1 - score)), final=True)
    return Verdict(passed, reason, score)


# --- g-eval ----------------------------------------------------------------------------------

G_EVAL_MAX_SCORE = 10


def _criteria_value(value: Any) -> str | None:
    if isinstance(value, str) or (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
        return None
    return "value must be the criteria: text, or a non-empty list of texts (scored separately and averaged)"


def _g_eval_prompts(ctx: AssertionContext, spec: AssertionSpec) -> tuple[Any, Any]:
    """promptfoo's g-eval takes ``rubricPrompt: {steps: ..., evaluate: ...}``; other forms are ignored."""
    custom = rubric_prompt_of(spec.rubric_prompt, ctx)
    if isinstance(custom, dict):
        return custom.get("steps"), custom.get("evaluate")
    return None, None


def _g_eval_one(criteria: str, output: Any, spec: AssertionSpec, ctx: AssertionContext) -> tuple[float, str] | Verdict:
    """(score 0..1, reason) for one criterion, or a failed verdict saying what went wrong."""
    grader = ctx.grader("text", spec.provider)
    steps_prompt, evaluate_prompt = _g_eval_prompts(ctx, spec)
    prompt = grading_prompt("g-eval-steps", steps_prompt, {"criteria": criteria}, ctx)
    answer = ask(grader, prompt, ctx)
    data = verdict_object(answer, prompt)
    if isinstance(data, Verdict):
        return data
    steps = data.get("steps") if data is not None else None
    if not isinstance(steps, list) or not steps or not all(isinstance(s, str) and s.strip() for s in steps):
        return grader_failure("G-Eval: the grader proposed no usable evaluation steps (a JSON {\"steps\": [...]})",
                              answer)
    variables = {"criteria": criteria, "steps": "\n- ".join(steps), "maxScore": str(G_EVAL_MAX_SCORE),
                 "input": ctx.prompt, "output": output_text(output)}
    prompt = grading_prompt("g-eval-evaluate", evaluate_prompt, variables, ctx)
    answer = ask(grader, prompt, ctx)
    result = verdict_object(answer, prompt)
    if isinstance(result, Verdict):
        return result
    if result is None:
        return grader_failure("G-Eval: the evaluation is not in JSON format", answer)
    raw = _number(result.get("score")) if not isinstance(result.get("score"), bool) else None
    if raw is None:
        return grader_failure(f"G-Eval: the evaluation has an invalid or missing score: {result.get('score')!r}",
                              answer)
    if not 0 <= raw <= G_EVAL_MAX_SCORE:
        return grader_failure(f"G-Eval: the score {raw:g} is outside the expected 0-{G_EVAL_MAX_SCORE} range",
                              answer)
    reason = result.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        return grader_failure("G-Eval: the evaluation has an invalid or missing reason", answer)
    return raw / G_EVAL_MAX_SCORE, reason


@assertion("g-eval", validate_value=_criteria_value, inverse_score=True, grader_calls={"text": 2})
def check_g_eval(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    """G-Eval: the grader writes evaluation steps for the criteria, then scores 0-10 (normalised to 0..1).

    Passes when the score reaches ``threshold`` (default 0.7); a list of criteria is
    scored one by one and averaged.
    """
    threshold = spec.threshold if spec.threshold is not None else 0.7
    criteria = [value] if isinstance(value, str) else list(value)
    scores, reasons = [], []
    for index, criterion in enumerate(criteria):
        result = _g_eval_one(criterion, output, spec, ctx)
        if isinstance(result, Verdict):
            if len(criteria) > 1:
                return Verdict(False, f"G-Eval criterion {index + 1}/{len(criteria)} ({criterion!r}) failed: "
                                      f"{result.reason}", 0.0, final=True)
            return result
        scores.append(result[0])
        reasons.append(result[1])
    score = sum(scores) / len(scores)
    return Verdict(score >= threshold, "\n\n".join(reasons), score)


# --- model-graded-closedqa -------------------------------------------------------------------

@assertion("model-graded-closedqa", validate_value=_text_value, grader_calls={"text": 1})
def check_closed_qa(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    """The grader reasons, then ends with Y or N: the answer's last character decides.

    As in promptfoo, ``not-`` does not invert it.
    """
    answer = ask_text_grader("model-graded-closedqa", spec, ctx,
                             {**ctx.vars, "input": ctx.prompt, "criteria": value, "completion": output_text(output)})
    ending = answer.rstrip()
    if ending.endswith("Y"):
        return Verdict(True, f"The submission meets the criterion:\n{answer}", final=True)
    if ending.endswith("N"):
        return Verdict(False, f"The submission does not meet the criterion:\n{answer}", final=True)
    return grader_failure("the grader's answer ends with neither Y nor N", answer)


# --- factuality ------------------------------------------------------------------------------

CATEGORIES = {
    "A": "The submitted answer is a subset of the expert answer and is fully consistent with it.",
    "B": "The submitted answer is a superset of the expert answer and is fully consistent with it.",
    "C": "The submitted answer contains all the same details as the expert answer.",
    "D": "There is a disagreement between the submitted answer and the expert answer.",
    "E": "The answers differ, but these differences don't matter from the perspective of factuality.",
}
# options.factuality keys and promptfoo's default score per category (0 fails it).
FACTUALITY_OPTIONS = {"A": ("subset", 1.0), "B": ("superset", 1.0), "C": ("agree", 1.0),
                      "D": ("disagree", 0.0), "E": ("differButFactual", 1.0)}


def _category(answer: str, prompt: str) -> tuple[str, str] | Verdict:
    """(letter, reason) from a JSON ``{"category", "reason"}``, else an ``(A)``-style letter."""
    data = verdict_object(answer, prompt)
    if isinstance(data, Verdict):
        return data
    if data is not None and isinstance(data.get("category"), str) and data["category"]:
        letter = data["category"].strip().upper()
        if letter not in CATEGORIES:
            return grader_failure(f"Invalid category value: {letter}", answer)
        reason = data.get("reason")
        return letter, (reason.strip() if isinstance(reason, str) and reason.strip()
                        else f"Category {letter}: {CATEGORIES[letter]}")
    match = re.search(r"\s*\(?([a-eA-E])\)", answer)
    if match is None:
        return grader_failure("the factuality answer names no category (A to E)", answer)
    rest = re.search(r"\)\s*(.*)", answer, re.S)
    return match.group(1).upper(), (rest.group(1).strip() if rest and rest.group(1).strip() else answer)


@assertion("model-graded-factuality", validate_value=_text_value, grader_calls={"text": 1})  # promptfoo's other name
@assertion("factuality", validate_value=_text_value, grader_calls={"text": 1})
def check_factuality(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    """The grader puts the output in a category A-E against the reference answer (``value``).

    A, B, C and E pass and D fails by default; ``options.factuality`` ({subset, superset,
    agree, disagree, differButFactual}) sets each category's score, and 0 fails it. As in
    promptfoo, ``not-`` does not invert it.
    """
    prompt, answer = ask_text_grader_with_prompt(
        "factuality", spec, ctx, {**ctx.vars, "input": ctx.prompt, "ideal": value, "completion": output_text(output)})
    found = _category(answer, prompt)
    if isinstance(found, Verdict):
        return found
    letter, reason = found
    configured = ctx.options.get("factuality") or {}
    key, default = FACTUALITY_OPTIONS[letter]
    score = float(configured.get(key, default))
    return Verdict(score > 0, reason, score, final=True)
