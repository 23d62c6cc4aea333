"""The assertion-type registry: every type by name, and the promptfoo types we lack.

Importing ``checks`` declares every type (see ``declare``); this module only reads the result.
"""

from __future__ import annotations

import difflib

from . import checks  # noqa: F401 (importing the check modules declares their types)
from .declare import DECLARED, AssertionType

ASSERTION_TYPES: dict[str, AssertionType] = DECLARED
# promptfoo assertion types we do not implement (yet): named as such instead of "unknown".
PROMPTFOO_ONLY_TYPES = frozenset({
    "javascript",
    "perplexity", "perplexity-score", "meteor",
    "classifier",
    "trace-span-count",
    "pi", "guardrails", "ruby", "human",
})
# Why some of them cannot be offered at all: said at collection instead of "not supported yet".
WHY_UNSUPPORTED = {
    "perplexity": "it needs the log-probabilities of the output tokens, which neither Replicate "
                  "predictions nor the echo provider return",
    "meteor": "promptfoo 0.123.1's own meteor fails on every input (its 'natural' import finds no "
              "PorterStemmer), and its WordNet synonyms need data no PyPI package ships; use bleu, "
              "gleu or rouge-n",
}
WHY_UNSUPPORTED["perplexity-score"] = WHY_UNSUPPORTED["perplexity"]


def suggest_type(name: str) -> str | None:
    """The valid type closest to a misspelled ``name`` (``not-`` forms included)."""
    known = list(ASSERTION_TYPES) + ["assert-set"] + [f"not-{n}" for n in ASSERTION_TYPES]
    matches = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    return matches[0] if matches else None
