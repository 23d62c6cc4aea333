"""The assertion-type registry: every type by name, and the promptfoo types we lack.

Importing ``checks`` declares every type (see ``declare``); this module only reads the result.
"""

from __future__ import annotations

import difflib

from . import checks  # noqa: F401 (importing the check modules declares their types)
from .declare import DECLARED, AssertionType

ASSERTION_TYPES: dict[str, AssertionType] = DECLARED
# Why some promptfoo types cannot be offered at all: said at collection instead of "unknown".
_TRACES = ("it needs OpenTelemetry traces of the call, which promptfoo collects from tracing-enabled providers; "
           "Replicate predictions produce none")
WHY_UNSUPPORTED = {
    "perplexity": "it needs the log-probabilities of the output tokens, which neither Replicate "
                  "predictions nor the echo provider return",
    "meteor": "promptfoo 0.123.1's own meteor fails on every input (its 'natural' import finds no "
              "PorterStemmer), and its WordNet synonyms need data no PyPI package ships; use bleu, "
              "gleu or rouge-n",
    "classifier": "it needs a Hugging Face text-classification model, which promptfoo calls through the "
                  "Hugging Face Inference API; use llm-rubric, or a python assertion with your classifier",
    "pi": "it needs Prompt Security's Pi scoring API (withpi.ai); use llm-rubric or g-eval",
    "agent-rubric": "it needs an agentic grading provider (Codex SDK, Claude Agent SDK, OpenInterpreter, "
                    "opencode), which a Replicate model is not; use llm-rubric",
    "search-rubric": "it needs a grader that searches the web (OpenAI, Anthropic, Google or Perplexity web "
                     "search tools); use llm-rubric",
    "skill-used": "it needs an agent provider that reports the skills it used (Claude Agent SDK); Replicate "
                  "predictions report none",
    "ruby": "it runs Ruby code; write the check as a python assertion",
    "human": "it is a grade given by hand in promptfoo's web viewer",
    **dict.fromkeys(("trajectory:goal-success", "trajectory:tool-args-match", "trajectory:step-count",
                     "trajectory:tool-sequence", "trajectory:tool-used", "trace-error-spans", "trace-span-count",
                     "trace-span-duration"), _TRACES),
}
WHY_UNSUPPORTED["perplexity-score"] = WHY_UNSUPPORTED["perplexity"]
# Every promptfoo 0.123.1 assertion type we lack: named as such instead of "unknown".
PROMPTFOO_ONLY_TYPES = frozenset(WHY_UNSUPPORTED) | {"javascript"}


def suggest_type(name: str) -> str | None:
    """The valid type closest to a misspelled ``name`` (``not-`` forms included)."""
    known = list(ASSERTION_TYPES) + ["assert-set"] + [f"not-{n}" for n in ASSERTION_TYPES]
    matches = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    return matches[0] if matches else None
