"""What every model-graded check shares: grading prompts, grader calls, reading answers.

Built-in prompts are Jinja2 files in ``prompts/`` (our wording of promptfoo's grading
instructions; they keep the tags and answer formats graders are asked for). A source
split by ``{#- role: system -#}`` / ``{#- role: user -#}`` lines becomes chat messages,
sent as a JSON list as promptfoo does; the Replicate provider turns system messages into
``system_prompt``. ``rubricPrompt`` replaces the built-in prompt as promptfoo reads it:
text, a chat-message list, or ``file://``; JSON is rendered string by string.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import ConfigError, ProviderError
from ..jscompat.values import js_dump
from ..providers.base import Provider
from ..templating import render
from ..text import shorten
from .base import AssertionContext, Verdict, VerdictReached, output_text
from .spec import AssertionSpec

_ROLE_LINE = re.compile(r"^\{#- role: (system|user|assistant) -#\}\n?", re.MULTILINE)
FILE_PREFIX = "file://"


@cache
def _builtin_source(name: str) -> str:
    return resources.files(__package__).joinpath(f"prompts/{name}.j2").read_text(encoding="utf-8")


def _template_vars(variables: Mapping[str, Any]) -> dict[str, Any]:
    """Objects reach grading prompts as ``JSON.stringify`` text, as in promptfoo (lists keep their items)."""
    def plain(value: Any) -> Any:
        return js_dump(value) if isinstance(value, (dict, list)) else value

    return {key: ([plain(item) for item in value] if isinstance(value, list) else plain(value))
            for key, value in variables.items()}


def render_builtin(name: str, variables: Mapping[str, Any]) -> str:
    """A built-in prompt: chat-message JSON if it has role lines, else plain text."""
    source = _builtin_source(name)
    parts = _ROLE_LINE.split(source)
    if len(parts) == 1:
        return render(source, variables, what=f"{name} grading prompt")
    messages = [{"role": role, "content": render(text, variables, what=f"{name} grading prompt").strip()}
                for role, text in zip(parts[1::2], parts[2::2], strict=True)]
    return json.dumps(messages, ensure_ascii=False)


def load_rubric_prompt(rubric_prompt: Any, base_dir: Path) -> str:
    """A ``rubricPrompt`` as text: files are read (relative to the eval file), data is JSON."""
    if isinstance(rubric_prompt, str) and rubric_prompt.startswith(FILE_PREFIX):
        path = base_dir / rubric_prompt[len(FILE_PREFIX):]
        try:
            rubric_prompt = path.read_text(encoding="utf-8")
        except OSError as error:
            raise ConfigError(f"rubricPrompt file {path} cannot be read: {error.strerror or error}") from None
    if not isinstance(rubric_prompt, str):
        rubric_prompt = json.dumps(rubric_prompt, ensure_ascii=False)
    return rubric_prompt


def render_custom(source: str, variables: Mapping[str, Any]) -> str:
    """promptfoo's rule: JSON is rendered string by string (and stays JSON), else as one template."""
    try:
        data = json.loads(source)
    except ValueError:
        return render(source, variables, what="rubricPrompt")

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return render(value, variables, what="rubricPrompt")
        if isinstance(value, list):
            return [walk(item) for item in value]
        if isinstance(value, dict):
            return {key: walk(item) for key, item in value.items()}
        return value

    return json.dumps(walk(data), ensure_ascii=False)


def grading_prompt(name: str, rubric_prompt: Any, variables: Mapping[str, Any], ctx: AssertionContext) -> str:
    """The prompt for the grader: ``rubric_prompt`` if given, else the built-in ``name`` prompt."""
    values = _template_vars(variables)
    if rubric_prompt in (None, "", {}, []):
        return render_builtin(name, values)
    return render_custom(load_rubric_prompt(rubric_prompt, ctx.base_dir), values)


def rubric_prompt_of(spec_rubric: Any, ctx: AssertionContext) -> Any:
    """The assertion's ``rubricPrompt`` wins over the test's ``options.rubricPrompt``, as in promptfoo."""
    return spec_rubric if spec_rubric not in (None, "", {}, []) else ctx.options.get("rubricPrompt")


def ask(grader: Provider, prompt: str, ctx: AssertionContext) -> str:
    """The grader's answer to ``prompt``, through the item's cassette.

    A call that fails (HTTP error, failed prediction, cassette miss) raises
    :class:`ProviderError`: the item fails with it and its cassette is not saved.
    """
    if ctx.call_context is None:
        raise ConfigError(f"grading with {grader.id} needs a session")
    response = grader.call(prompt, ctx.call_context)
    if response.error is not None:
        raise ProviderError(f"grader {grader.id} failed: {response.error}")
    answer = output_text(response.output)
    if _mostly_repeats(answer, prompt):  # whatever the check would read from it, it is no verdict
        raise VerdictReached(grader_failure(
            "the grader's answer mostly repeats the grading prompt, it is not a verdict. Is the grader a model "
            "that follows instructions?", answer))
    return answer


def ask_text_grader(name: str, spec: AssertionSpec, ctx: AssertionContext, variables: Mapping[str, Any]) -> str:
    """The text grader's answer to the built-in ``name`` prompt, or to the ``rubricPrompt`` replacing it."""
    return ask_text_grader_with_prompt(name, spec, ctx, variables)[1]


def ask_text_grader_with_prompt(name: str, spec: AssertionSpec, ctx: AssertionContext,
                                variables: Mapping[str, Any]) -> tuple[str, str]:
    """(the prompt, the answer) of :func:`ask_text_grader`, for checks that read JSON from the answer."""
    grader = ctx.grader("text", spec.provider)
    prompt = grading_prompt(name, rubric_prompt_of(spec.rubric_prompt, ctx), variables, ctx)
    return prompt, ask(grader, prompt, ctx)


# Characters of an unusable grader answer that a failure reason quotes.
GRADER_ANSWER_LIMIT = 2000


def grader_failure(reason: str, answer: str | None = None) -> Verdict:
    """A grader answer we cannot use: the assertion fails, negated or not (promptfoo's graderError)."""
    if answer is not None:
        reason = f"{reason}; the grader answered:\n{shorten(answer.strip() or '(nothing)', GRADER_ANSWER_LIMIT)}"
    return Verdict(False, reason, 0.0, final=True)


def json_objects(text: str) -> list[Any]:
    """Every JSON value that starts with ``{`` in ``text``: prose and code fences around them are skipped."""
    decoder = json.JSONDecoder()
    found: list[Any] = []
    index = text.find("{")
    while index != -1:
        try:
            value, end = decoder.raw_decode(text, index)
        except ValueError:
            index = text.find("{", index + 1)
            continue
        found.append(value)
        index = text.find("{", end)
    return found


def first_json_object(text: str) -> dict[str, Any] | None:
    return next((value for value in json_objects(text) if isinstance(value, dict)), None)


# An answer holding this share of its prompt's word 4-grams repeats the prompt rather than grading.
ECHO_SHARE, _GRAM = 0.8, 4
_WORD = re.compile(r"\w+")


def verdict_object(answer: str, prompt: str) -> dict[str, Any] | Verdict | None:
    """The JSON object to read the grader's verdict from: the first in ``answer`` (None if none).

    A grader that repeats its prompt is not grading, and its answer's first object would be one
    the prompt holds (an example verdict, a chat message, JSON inside the output being graded):
    that answer fails the assertion (showing the answer) instead of deciding it. (An answer that
    mostly repeats its prompt, JSON or not, never gets here: see :func:`ask`.)
    """
    found = first_json_object(answer)
    if found is not None and found in _objects_in(prompt):
        return grader_failure(f"the grader's answer repeats the grading prompt: its JSON "
                              f"{shorten(json.dumps(found, ensure_ascii=False), 60)} is the prompt's own (an example, "
                              "or part of what it was given), not a verdict. Is the grader a model that follows "
                              "instructions?", answer)
    return found


def _objects_in(prompt: str) -> list[Any]:
    """Every JSON object in ``prompt``, and in the text inside those (a chat prompt's messages hold the examples)."""
    found: list[Any] = []
    pending = [prompt]
    while pending:
        for value in json_objects(pending.pop()):
            found.append(value)
            pending.extend(_strings_in(value))
    return found


def _strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return [text for item in items for text in _strings_in(item)]


def _mostly_repeats(answer: str, prompt: str) -> bool:
    """Whether ``answer`` holds most of ``prompt`` as sent, or of the text of its messages.

    Compared by runs of words (lower-cased, punctuation and JSON escapes aside), which stays
    linear in the texts' length: a grader's reason that quotes the graded output, a small part
    of its prompt, is no repeat.
    """
    texts = [prompt]
    try:
        messages = json.loads(prompt)
    except ValueError:
        messages = None
    if isinstance(messages, list):
        texts.append("\n".join(_strings_in(messages)))
    said = _WORD.findall(answer.lower())
    said_grams = _grams(said)
    for text in texts:
        sent = _WORD.findall(text.lower())
        if sent and said == sent:
            return True
        grams = _grams(sent)
        if len(grams) >= _GRAM and len(grams & said_grams) >= ECHO_SHARE * len(grams):
            return True
    return False


def _grams(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[index:index + _GRAM]) for index in range(len(words) - _GRAM + 1)}
