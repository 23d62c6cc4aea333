"""conversation-relevance: whether each reply in a conversation stays relevant, after promptfoo's
port of DeepEval's conversation relevancy metric.

The conversation is the ``_conversation`` var (a list of ``{input, output}`` turns), else the one
exchange of this case (its prompt and output). The grader judges the last reply of each sliding
window of ``config.windowSize`` turns (default 5); the share of relevant replies is the score,
which must reach ``threshold`` (default 0.5). When some replies were judged irrelevant, one more
grader call summarises why, as promptfoo does. A grader answer without a ``yes``/``no`` verdict
fails the assertion, negated or not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...errors import ConfigError
from ...jscompat.values import js_dump, js_number
from ..base import AssertionContext, Verdict, output_text
from ..declare import assertion
from ..grading import ask, first_json_object, grader_failure, grading_prompt, rubric_prompt_of, verdict_object
from ..spec import AssertionSpec
from .similarity import EPSILON

DEFAULT_WINDOW_SIZE = 5
DEFAULT_THRESHOLD = 0.5
# promptfoo leaves this default reason out of the irrelevancies it asks the grader to summarise.
_NOT_RELEVANT = "Response is not relevant to the conversation context"


def _turns(output: Any, ctx: AssertionContext) -> list[Mapping[str, Any]]:
    conversation = ctx.vars.get("_conversation")
    if isinstance(conversation, list) and conversation:
        if not all(isinstance(turn, Mapping) for turn in conversation):
            raise ConfigError("the _conversation var must be a list of {input, output} turns")
        return conversation
    return [{"input": ctx.prompt, "output": output_text(output)}]


def _window_size(spec: AssertionSpec) -> int:
    size = spec.config.get("windowSize") or DEFAULT_WINDOW_SIZE  # promptfoo: `windowSize || 5`
    if isinstance(size, bool) or not isinstance(size, (int, float)) or size < 1:
        raise ConfigError(f"conversation-relevance config.windowSize must be a positive number, got {size!r}")
    return int(size)


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else js_dump(value)


def _judge(window: list[Mapping[str, Any]], spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    """One window: relevant (score 1) or not (score 0), or a grader failure (``final``)."""
    exchanges = []
    for turn in window:
        exchanges += [{"role": "user", "content": _as_text(turn.get("input"))},
                      {"role": "assistant", "content": _as_text(turn.get("output"))}]
    grader = ctx.grader("text", spec.provider)
    prompt = grading_prompt("conversation-relevance", rubric_prompt_of(spec.rubric_prompt, ctx),
                            {**ctx.vars, "messages": list(window), "exchanges": js_dump(exchanges, 2)}, ctx)
    answer = ask(grader, prompt, ctx)
    found = verdict_object(answer, prompt)
    if isinstance(found, Verdict):
        return found
    if found is None:
        return grader_failure("Error parsing output: No JSON object found in response", answer)
    if found.get("verdict") not in ("yes", "no"):
        return grader_failure("Error parsing output: Conversation relevance grader returned an invalid verdict",
                              answer)
    relevant = found["verdict"] == "yes"
    reason = found.get("reason") or f"Response {'is' if relevant else 'is not'} relevant to the conversation context"
    return Verdict(relevant, str(reason), 1.0 if relevant else 0.0)


def _summary(score: float, irrelevancies: list[str], relevant: int, windows: int, spec: AssertionSpec,
             ctx: AssertionContext) -> str:
    counted = f"{relevant} out of {windows} conversation windows were relevant"
    if not irrelevancies or score >= 1:
        return counted
    answer = ask(ctx.grader("text", spec.provider),
                 grading_prompt("conversation-relevance-reason", None,
                                {"score": js_number(score), "irrelevancies": js_dump(irrelevancies, 2)}, ctx), ctx)
    found = first_json_object(answer)
    return str(found.get("reason") or counted) if found else counted


@assertion("conversation-relevance", needs_value=False, render_value=False, grader_calls={"text": 1})
def check_conversation_relevance(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    """The share of windows whose last reply the grader finds relevant, against the threshold."""
    turns = _turns(output, ctx)
    size = _window_size(spec)
    relevant, irrelevancies = 0, []
    for end in range(1, len(turns) + 1):
        judged = _judge(list(turns[max(0, end - size):end]), spec, ctx)
        if judged.final:
            return judged
        if judged.passed:
            relevant += 1
        elif judged.reason != _NOT_RELEVANT:
            irrelevancies.append(judged.reason)
    score = relevant / len(turns)
    threshold = spec.threshold if spec.threshold is not None else DEFAULT_THRESHOLD
    passed = (score >= threshold - EPSILON) != spec.negate
    reason = _summary(score, irrelevancies, relevant, len(turns), spec, ctx)
    return Verdict(passed, reason, 1 - score if spec.negate else score, final=True)
