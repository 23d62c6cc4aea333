"""Which kind of provider serves which grading purpose: one table for every reader.

A model-graded assertion asks for a grader by purpose (``text``, ``embedding``,
``moderation``); a provider id's kind says what it can do (``replicate:embedding:...``
embeds). The assertion parser, the session's grader resolution and their error hints
all read this table, so a new kind of grader is one line here.
"""

from __future__ import annotations

# Purpose -> how the id of a provider serving it starts (None: any other id, a language model).
GRADER_KINDS: dict[str, str | None] = {
    "text": None,
    "embedding": "replicate:embedding:",
    "moderation": "replicate:moderation:",
}


def grader_purpose(provider_id: str) -> str:
    """What a provider id can grade: its kind decides."""
    for purpose, prefix in GRADER_KINDS.items():
        if prefix is not None and provider_id.startswith(prefix):
            return purpose
    return "text"


def grader_id_form(purpose: str) -> str | None:
    """The id form a grader for ``purpose`` takes, for hints: ``replicate:embedding:OWNER/MODEL[:VERSION]``."""
    prefix = GRADER_KINDS.get(purpose)
    return None if prefix is None else f"{prefix}OWNER/MODEL[:VERSION]"
