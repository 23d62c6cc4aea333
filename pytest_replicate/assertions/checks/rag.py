"""Retrieval (RAG) checks after promptfoo's RAGAS-style matchers: answer-relevance,
context-recall, context-relevance and context-faithfulness.

The context comes from the ``context`` var (text or a list of texts), else, for
context-recall only, the prompt; ``contextTransform`` (an expression over ``output`` and
``context``, like any transform) replaces it. Thresholds default to 0.5; ``not-`` flips
the verdict and scores ``1 - score``, except when the grader's answer was unusable.
"""

from __future__ import annotations

import re
from typing import Any

from ...errors import ConfigError
from ..base import AssertionContext, Verdict, output_text
from ..declare import assertion
from ..grading import ask, ask_text_grader, grader_failure, grading_prompt, rubric_prompt_of
from ..spec import AssertionSpec
from .similarity import EPSILON, cosine, embedder

DEFAULT_THRESHOLD = 0.5


def _threshold(spec: AssertionSpec) -> float:
    return spec.threshold if spec.threshold is not None else DEFAULT_THRESHOLD


def resolve_context(output: Any, spec: AssertionSpec, ctx: AssertionContext, fallback: str | None) -> str | list[str]:
    """The ``context`` var, else ``fallback``; ``contextTransform`` wins. Empty context is an error."""
    raw = ctx.vars.get("context")
    context: Any = None
    if isinstance(raw, str) and raw:
        context = raw
    elif isinstance(raw, list):
        if not all(isinstance(item, str) for item in raw):
            raise ConfigError("the context var must be text or a list of texts")
        context = raw
    elif fallback:
        context = fallback
    if spec.context_transform is not None:
        context = spec.context_transform(output, ctx.as_user_context())
        if not (isinstance(context, str) or (isinstance(context, list) and all(isinstance(c, str) for c in context))):
            raise ConfigError(f"contextTransform must return text or a list of texts, got {type(context).__name__}")
    if not context or (isinstance(context, list) and not all(context)):
        raise ConfigError(f"{spec.display_type} needs a context: give the test a 'context' var (text or a list "
                          "of texts) or the assertion a contextTransform")
    return context


def _joined(context: str | list[str]) -> str:
    return "\n\n".join(context) if isinstance(context, list) else context


def _query(ctx: AssertionContext, spec: AssertionSpec) -> str:
    query = ctx.vars.get("query")
    if not isinstance(query, str):
        raise ConfigError(f"{spec.display_type} needs a 'query' var with the user's question")
    return query


def _lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.strip()]


def _sentences(text: str) -> list[str]:
    """promptfoo's units: one per line when there are several lines, else split at . ! ?"""
    lines = _lines(text)
    parts = lines if len(lines) > 1 else re.split(r"(?<=[.!?])\s+", text)
    return [part.strip() for part in parts if part.strip() and not re.fullmatch(r"\d+[.)]", part.strip())]


def _negated(verdict: Verdict, spec: AssertionSpec) -> Verdict:
    """promptfoo's applyRagInverse: flip and score 1 - score, unless the grader failed."""
    if not spec.negate or verdict.final:
        return Verdict(verdict.passed, verdict.reason, verdict.score, final=True)
    return Verdict(not verdict.passed, verdict.reason, 1 - (verdict.score or 0.0), final=True)


# --- answer-relevance ------------------------------------------------------------------------

QUESTIONS = 3  # promptfoo asks the grader for three candidate questions


@assertion("answer-relevance", needs_value=False, render_value=False,
           grader_calls={"text": QUESTIONS, "embedding": QUESTIONS + 1})
def check_answer_relevance(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    """The grader guesses the question the output answers (three times); the mean cosine
    similarity of those questions to the real one (the ``query`` var, else the prompt) is the score."""
    query = ctx.vars.get("query")
    question = query if isinstance(query, str) else ctx.prompt
    text_grader = ctx.grader("text", spec.provider)
    model, call_context = embedder(ctx, spec.provider)
    prompt = grading_prompt("answer-relevance", rubric_prompt_of(spec.rubric_prompt, ctx),
                            {"answer": output_text(output)}, ctx)
    candidates = [ask(text_grader, prompt, ctx) for _ in range(QUESTIONS)]
    if not all(c.strip() for c in candidates):
        return _negated(grader_failure(f"{text_grader.id} generated no question"), spec)
    asked = model.embed(question, call_context)
    similarity = sum(cosine(asked, model.embed(c, call_context)) for c in candidates) / len(candidates)
    threshold = _threshold(spec)
    passed = similarity >= threshold - EPSILON
    relation = "greater than" if passed else "less than"
    return _negated(Verdict(passed, f"Relevance {similarity:.2f} is {relation} threshold {threshold:g}", similarity),
                    spec)


# --- context-recall --------------------------------------------------------------------------

def _text_value(value: Any) -> str | None:
    return None if isinstance(value, str) else "value must be the expected answer or fact (text)"


@assertion("context-recall", validate_value=_text_value, grader_calls={"text": 1})
def check_context_recall(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    """The share of the expected answer's sentences the grader attributes to the context."""
    context = resolve_context(output, spec, ctx, fallback=ctx.prompt)
    answer = ask_text_grader("context-recall", spec, ctx,
                             {**ctx.vars, "context": _joined(context), "groundTruth": value})
    labelled = [line.lower() for line in _lines(answer) if "[attributed]" in line.lower()
                or "[not attributed]" in line.lower()]
    if not labelled:
        return _negated(grader_failure("Grader returned no [Attributed]/[Not Attributed] classifications", answer),
                        spec)
    attributed = sum(1 for line in labelled if "[not attributed]" not in line)
    score = attributed / len(labelled)
    threshold = _threshold(spec)
    passed = score >= threshold - EPSILON
    return _negated(Verdict(passed, f"Recall {score:.2f} is {'>=' if passed else '<'} {threshold:g}", score), spec)


# --- context-relevance -----------------------------------------------------------------------

INSUFFICIENT = "Insufficient Information"


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


@assertion("context-relevance", needs_value=False, render_value=False, grader_calls={"text": 1})
def check_context_relevance(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    """The share of the context's sentences (or chunks) the grader finds needed for the ``query``."""
    query = _query(ctx, spec)
    context = resolve_context(output, spec, ctx, fallback=None)
    answer = ask_text_grader("context-relevance", spec, ctx,
                             {"context": _joined(context), "query": query})
    segmented = isinstance(context, list) or len(_lines(context)) > 1
    units = [c for c in context if c.strip()] if isinstance(context, list) else _sentences(context)
    insufficient = INSUFFICIENT in answer
    extracted = [] if insufficient else list(dict.fromkeys(_lines(answer) if segmented else _sentences(answer)))
    whole = _normal(_joined(context))
    if extracted and not any(_normal(re.sub(r"^\s*(?:\d+[.)]|[-*])\s*", "", s)) in whole for s in extracted):
        return _negated(grader_failure("Grader output does not quote the provided context", answer), spec)
    score = min(len(extracted), len(units)) / len(units) if units else 0.0
    threshold = _threshold(spec)
    passed = score >= threshold - EPSILON
    return _negated(Verdict(passed, f"Context relevance {score:.2f} is {'>=' if passed else '<'} {threshold:g}",
                            score), spec)


# --- context-faithfulness --------------------------------------------------------------------

FINAL_VERDICTS = "final verdict for each statement in order:"


def _faithfulness_prompts(ctx: AssertionContext, spec: AssertionSpec) -> tuple[Any, Any]:
    """promptfoo takes ``rubricPrompt`` as a list: [statements prompt, verdicts prompt] (text or messages)."""
    custom = rubric_prompt_of(spec.rubric_prompt, ctx)
    if custom in (None, "", [], {}):
        return None, None
    if not isinstance(custom, list):
        raise ConfigError("context-faithfulness takes rubricPrompt as a list: [statements prompt, verdicts prompt]")

    def content(index: int) -> Any:
        item = custom[index] if index < len(custom) else None
        return item.get("content") if isinstance(item, dict) else item

    return content(0), content(1)


def _faithfulness_score(answer: str, statements: int) -> float | None:
    verdicts = answer.lower().strip()
    if FINAL_VERDICTS in verdicts:
        parts = [p for p in verdicts[verdicts.index(FINAL_VERDICTS) + len(FINAL_VERDICTS):].split(".") if p.strip()]
        if parts and all(re.search(r"\b(?:yes|no)\b", p) for p in parts):
            unsupported = sum(1 for p in parts if "yes" not in p) + max(0, statements - len(parts))
            return min(1.0, max(0.0, 1 - unsupported / statements))
        return None
    no, yes = verdicts.count("verdict: no"), verdicts.count("verdict: yes")
    if no + yes == 0:
        return None
    return min(1.0, max(0.0, 1 - (no + max(0, statements - no - yes)) / statements))


@assertion("context-faithfulness", needs_value=False, render_value=False, grader_calls={"text": 2})
def check_context_faithfulness(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
    """The grader splits the output into statements, then says which the context supports; the share is the score."""
    query = _query(ctx, spec)
    context = resolve_context(output, spec, ctx, fallback=None)
    grader = ctx.grader("text", spec.provider)
    statements_prompt, verdicts_prompt = _faithfulness_prompts(ctx, spec)
    answer = ask(grader, grading_prompt("context-faithfulness-statements", statements_prompt,
                                        {**ctx.vars, "question": query, "answer": output_text(output)}, ctx), ctx)
    statements = _lines(answer)
    if not statements:
        return _negated(grader_failure("Could not extract context-faithfulness statements", answer), spec)
    answer = ask(grader, grading_prompt("context-faithfulness-verdicts", verdicts_prompt,
                                        {**ctx.vars, "context": _joined(context), "statements": statements}, ctx), ctx)
    score = _faithfulness_score(answer, len(statements))
    if score is None:
        return _negated(grader_failure("Could not parse context-faithfulness verdicts", answer), spec)
    threshold = _threshold(spec)
    passed = score >= threshold - EPSILON
    return _negated(Verdict(passed, f"Faithfulness {score:.2f} is {'>=' if passed else '<'} {threshold:g}", score),
                    spec)
