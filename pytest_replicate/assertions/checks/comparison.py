"""``select-best``: the grader picks the best of one test's outputs across prompts and providers.

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
    outputs, index = ctx.compared
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
