"""A stand-in grader: answers promptfoo's model-graded prompts the way instruct models do.

Recognises the grading prompts of promptfoo 0.123 by their fixed wording (llm-rubric,
model-graded-closedqa, factuality, select-best, answer-relevance, context-recall,
context-relevance, context-faithfulness, g-eval, conversation-relevance) and answers in the format each asks for.
Verdicts are deterministic and keyword-based: a rubric passes when the output mentions
most of the rubric's content words (a leading "not"/"does not" inverts it).

Real instruct models wrap JSON in different ways, and graders must cope, so the wrapping
is picked per prompt (stable hash) among plain JSON, JSON inside prose and a fenced
```json block. Markers anywhere in the prompt force a behaviour:
``[[json]]``, ``[[prose]]``, ``[[fenced]]`` pick the wrapping; ``[[malformed]]`` gives a
broken answer (truncated JSON, no verdict letter); ``[[refuse]]`` a refusal;
``[[score=0.4]]`` in an llm-rubric rubric sets the score it answers (the verdict stays), so
tests can stage a passing verdict below a threshold.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

REFUSAL = "I'm sorry, but I can't help with evaluating this content."
_MARKER = re.compile(r"\[\[(json|prose|fenced|malformed|refuse)\]\]")
_SCORE_MARKER = re.compile(r"\[\[score=(\d+(?:\.\d+)?)\]\]")


def word_set(text: str) -> frozenset[str]:
    """The space-separated words of ``text``: long word lists stay readable as prose."""
    return frozenset(text.split())


_STOPWORDS = word_set(
    "a an the of to in on for and or is are was were be been being what which who whom how why when "
    "where do does did can could would should will shall may might must it its this that these those "
    "as at by from with about into than then there their they them he she his her you your we our i "
    "me my not no any all some each every more most very just only also so such own same other like "
    "if has have had"
)
# Words a rubric uses to talk about the output rather than about its content.
_RUBRIC_WORDS = word_set(
    "output response answer text reply content contains contain containing include includes including "
    "mention mentions mentioning mentioned say says said state states statement use uses using "
    "provide provides provided give gives given talk talks speak speaks written writes write "
    "respond responds correct correctly accurate accurately appropriate appropriately clearly clear "
    "something word words least explicitly properly name names named list lists listed"
)
_SYNONYMS = {
    "greeting": ("hello", "hi", "hey", "greetings", "bonjour", "hola", "hallo", "welcome", "morning"),
    "apology": ("sorry", "apologize", "apologise", "apologies"),
    "polite": ("please", "thank", "thanks", "kindly"),
    "pirate": ("arr", "avast", "matey", "ahoy"),
    "refusal": ("sorry", "cannot", "can't", "unable"),
    "number": tuple("0123456789"),
    "list": ("1.", "2.", "-"),
}


# --- text helpers -------------------------------------------------------------------------

def unwrap(prompt: str, system_prompt: str = "") -> str:
    """The plain text of a grading request: chat-message JSON joined, template markers removed."""
    parts = [system_prompt] if system_prompt else []
    try:
        messages = json.loads(prompt)
    except ValueError:
        messages = None
    if isinstance(messages, list) and all(isinstance(m, dict) and "content" in m for m in messages):
        parts += [str(m["content"]) for m in messages]
    else:
        parts.append(prompt)
    text = "\n".join(parts)
    text = re.sub(r"<\|start_header_id\|>\s*\w+\s*<\|end_header_id\|>|<\|[a-z_]+\|>|\[/?INST\]|<</?SYS>>",
                  "\n", text)
    return text


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9][a-z0-9'.-]*[a-z0-9]|[a-z0-9]", text.lower())


def _content_words(text: str, extra_stop: frozenset[str] = frozenset()) -> list[str]:
    seen: dict[str, None] = {}
    for word in _words(text):
        if word not in _STOPWORDS and word not in extra_stop and len(word) > 1:
            seen.setdefault(word, None)
    return list(seen)


def _mentions(text: str, keyword: str) -> bool:
    """Whether ``text`` mentions ``keyword``, allowing simple inflections and a few synonyms."""
    words = set(_words(text))
    if keyword in words:
        return True
    if len(keyword) >= 5 and any(w[:5] == keyword[:5] and abs(len(w) - len(keyword)) <= 4 for w in words):
        return True
    lowered = text.lower()
    return any(s in words or (not s.isalnum() and s in lowered) for s in _SYNONYMS.get(keyword, ()))


def coverage(text: str, keywords: list[str]) -> tuple[float, list[str], list[str]]:
    """(share of ``keywords`` that ``text`` mentions, the ones found, the ones missing)."""
    if not keywords:
        return 1.0, [], []
    found = [k for k in keywords if _mentions(text, k)]
    missing = [k for k in keywords if k not in found]
    return len(found) / len(keywords), found, missing


def _between(text: str, start: str, end: str | None) -> str | None:
    """The text after the LAST ``start`` (prompts show examples first), up to ``end``."""
    index = text.rfind(start)
    if index < 0:
        return None
    rest = text[index + len(start):]
    if end is not None:
        stop = rest.find(end)
        rest = rest if stop < 0 else rest[:stop]
    return rest.strip()


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def _quote(words: list[str]) -> str:
    return ", ".join(f"'{w}'" for w in words[:5])


# --- answer wrapping ----------------------------------------------------------------------

def _wrap_json(payload: dict[str, Any], style: str, minified: bool = False) -> str:
    text = json.dumps(payload, separators=(",", ":")) if minified else json.dumps(payload)
    if style == "malformed":
        return text[: max(len(text) - 9, 1)].replace('":', '"', 1)
    if style == "prose":
        return f"Here is my evaluation of the output.\n\n{text}\n\nI hope this assessment helps."
    if style == "fenced":
        return f"```json\n{json.dumps(payload, indent=2)}\n```"
    return text


def _style(text: str, markers: set[str]) -> str:
    for style in ("malformed", "json", "prose", "fenced"):
        if style in markers:
            return style
    return ("json", "prose", "fenced")[hashlib.sha256(text.encode()).digest()[0] % 3]


# --- the graders --------------------------------------------------------------------------

def _rubric(text: str, style: str) -> str | None:
    output = _between(text, "<Output>", "</Output>")
    rubric = _between(text, "<Rubric>", "</Rubric>")
    if output is None or rubric is None:
        return None
    forced = _SCORE_MARKER.search(rubric)
    rubric = _SCORE_MARKER.sub("", rubric)
    negated = bool(re.match(r"\s*(does not|doesn't|do not|don't|is not|isn't|not|no|never|avoids?)\b",
                            rubric, re.I))
    keywords = _content_words(re.sub(r"(?i)^\s*(does not|doesn't|do not|don't|is not|isn't|never|avoids?)\b",
                                     "", rubric), _RUBRIC_WORDS)
    share, found, missing = coverage(output, keywords)
    mentioned = share >= 0.5
    passed = not mentioned if negated else mentioned
    score = float(forced[1]) if forced else round(1.0 - share if negated else share, 2)
    if negated:
        reason = (f"The output avoids {_quote(keywords)} as the rubric requires." if passed
                  else f"The output mentions {_quote(found)}, which the rubric rules out.")
    else:
        reason = (f"The output mentions {_quote(found)}, which satisfies the rubric." if passed
                  else f"The output does not mention {_quote(missing)} from the rubric.")
    return _wrap_json({"reason": reason, "pass": passed, "score": score}, style)


def _closed_qa(text: str, style: str) -> str | None:
    submission = _between(text, "[Submission]:", "***")
    criterion = _between(text, "[Criterion]:", "***")
    if submission is None or criterion is None:
        return None
    keywords = _content_words(criterion, _RUBRIC_WORDS)
    share, found, missing = coverage(submission, keywords)
    verdict = "Y" if share >= 0.5 else "N"
    steps = [f"1. The criterion asks about: {_quote(keywords) or 'the task'}.",
             f"2. The submission mentions: {_quote(found) or 'none of them'}."]
    if missing:
        steps.append(f"3. It does not mention: {_quote(missing)}.")
    steps.append(f"{len(steps) + 1}. So the submission {'meets' if verdict == 'Y' else 'does not meet'} the criterion.")
    reasoning = "\n".join(steps)
    return reasoning if style == "malformed" else f"{reasoning}\n\n{verdict}\n{verdict}"


def _factuality(text: str, style: str) -> str | None:
    expert = _between(text, "<expert_answer>", "</expert_answer>")
    submitted = _between(text, "<submitted_answer>", "</submitted_answer>")
    if expert is None or submitted is None:
        return None
    expert_words, submitted_words = set(_content_words(expert)), set(_content_words(submitted))
    expert_numbers = set(re.findall(r"\d+(?:\.\d+)?", expert))
    submitted_numbers = set(re.findall(r"\d+(?:\.\d+)?", submitted))
    numbers_differ = bool(expert_numbers and submitted_numbers and not expert_numbers & submitted_numbers)
    if numbers_differ or not expert_words & submitted_words:
        category, reason = "D", "The submitted answer disagrees with the expert answer on key facts."
    elif expert_words == submitted_words:
        category, reason = "C", "The submitted answer contains the same details as the expert answer."
    elif expert_words < submitted_words:
        category, reason = "B", "The submitted answer includes every expert fact and adds consistent details."
    elif submitted_words < expert_words:
        category, reason = "A", "The submitted answer is a consistent subset of the expert answer."
    else:
        category, reason = "E", "The answers differ only in ways that do not matter for factuality."
    return _wrap_json({"category": category, "reason": reason}, style)


def _select_best(text: str, style: str) -> str | None:
    texts = re.findall(r'<Text index="(\d+)">\s*(.*?)\s*</Text>', text, re.S)
    if not texts:
        return None
    criteria = _between(text, "best fits the following criteria:", "Here are the pieces of text") or ""
    keywords = _content_words(criteria, _RUBRIC_WORDS)
    scores = [(coverage(body, keywords)[0], -int(index)) for index, body in texts]
    best = -max(scores)[1]
    return f"The text at index {best} fits best." if style == "malformed" else str(best)


def _answer_relevance(text: str, style: str) -> str | None:
    if "Generate question for the given answer" not in text:
        return None
    answer = (_between(text, "Answer:", "Question:") or "").strip()
    first = _sentences(answer)[0].rstrip(".!?") if answer else ""
    match = re.match(r"(?i)(.+?)\s+(is|are|was|were)\s+(.+)", first)
    if match:
        question = f"What {match[2].lower()} {match[1][0].lower()}{match[1][1:]}?"
    else:
        question = f"Can you tell me about {' '.join(_content_words(first)[:6]) or 'this'}?"
    return question.rstrip("?") if style == "malformed" else question


def _supported(statement: str, context: str) -> bool:
    return coverage(context, _content_words(statement))[0] >= 0.6


def _context_recall(text: str, style: str) -> str | None:
    if "classify if the sentence can be attributed to the given context" not in text:
        return None
    context = _between(text, "context:", "answer:") or ""
    answer = _between(text, "answer:", "classification:") or ""
    lines = []
    for number, sentence in enumerate(_sentences(answer), start=1):
        attributed = _supported(sentence, context)
        label = "[Attributed]" if attributed else "[Not Attributed]"
        why = "It is supported by the context." if attributed else "The context does not support it."
        lines.append(f"{number}. {sentence} {why} So {'' if style == 'malformed' else label}".rstrip())
    return "\n".join(lines) or "No sentences to classify."


def _context_relevance(text: str, style: str) -> str | None:
    if "extract relevant sentences from the provided context" not in text:
        return None
    query = _between(text, "query:", "context:") or ""
    context = _between(text, "context:", "candidate sentences:") or ""
    keywords = _content_words(query)
    relevant = [s for s in _sentences(context) if coverage(s, keywords)[0] > 0]
    if style == "malformed":
        return "Relevant: " + "; ".join(relevant)
    return "\n".join(relevant) or "Insufficient Information"


def _faithfulness_statements(text: str, style: str) -> str | None:
    if "create one or more statements from each sentence in the given answer" not in text:
        return None
    answer = _between(text, "answer:", "statements:") or ""
    return "\n".join(_sentences(answer))


def _faithfulness_verdicts(text: str, style: str) -> str | None:
    if "Natural language inference" not in text:
        return None
    context = _between(text, "context:", "statements:") or ""
    statements = [re.sub(r"^\d+\.\s*", "", line).strip()
                  for line in (_between(text, "statements:", "Answer:") or "").splitlines() if line.strip()]
    verdicts = ["Yes" if _supported(s, context) else "No" for s in statements]
    lines = []
    for number, (statement, verdict) in enumerate(zip(statements, verdicts, strict=True), start=1):
        why = "The context supports this." if verdict == "Yes" else "The context does not mention this."
        lines += [f"{number}. {statement}", f"Explanation: {why} Verdict: {verdict}."]
    if style != "malformed":
        lines.append("Final verdict for each statement in order: " + " ".join(f"{v}." for v in verdicts))
    return "\n".join(lines)


def _geval_steps(text: str, style: str) -> str | None:
    if "generate 3-4 concise evaluation steps" not in text:
        return None
    criteria = _between(text, "**EVALUATION CRITERIA**", "**OUTPUT FORMAT**") or "the criteria"
    keywords = _content_words(criteria, _RUBRIC_WORDS)[:4] or ["the criteria"]
    steps = [f"Check whether the text addresses {k}." for k in keywords]
    steps += ["Check that the text is clear and coherent.", "Decide how fully the criteria are met."]
    return _wrap_json({"steps": steps[:4]}, style, minified=True)


def _geval_score(text: str, style: str) -> str | None:
    if "You will be given one Reply for a Prompt below" not in text:
        return None
    criteria = _between(text, "**Evaluation Criteria**", "**Evaluation Steps**") or ""
    reply = _between(text, "**Reply**", "**OUTPUT FORMAT**") or ""
    top = re.search(r"integer from 0 to (\d+)", text)
    max_score = int(top[1]) if top else 10
    share, found, missing = coverage(reply, _content_words(criteria, _RUBRIC_WORDS))
    reason = (f"The reply covers {_quote(found)}." if found else "The reply does not address the criteria.")
    if missing:
        reason += f" It misses {_quote(missing)}."
    return _wrap_json({"score": round(share * max_score), "reason": reason}, style, minified=True)


def _conversation_relevance(text: str, style: str) -> str | None:
    """Relevant when the last reply mentions a content word of the user's last message (vague
    messages such as greetings, with none, accept any reply), else of the earlier ones."""
    if "whether the LAST `assistant` message is relevant" not in text:
        return None
    try:
        messages = json.loads(_between(text, "Messages:", "JSON:") or "")
    except ValueError:
        return None
    users = [str(m.get("content", "")) for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    reply = next((str(m.get("content", "")) for m in reversed(messages)
                  if isinstance(m, dict) and m.get("role") == "assistant"), "")
    greetings = frozenset(_SYNONYMS["greeting"])
    keywords = next((words for words in (_content_words(u, greetings) for u in reversed(users)) if words), [])
    if not keywords or coverage(reply, keywords)[0] > 0:
        return _wrap_json({"verdict": "yes"}, style)
    return _wrap_json({"verdict": "no", "reason": f"The reply does not address {_quote(keywords)} from the "
                                                  "user's message."}, style)


def _conversation_reason(text: str, style: str) -> str | None:
    if "summarise the irrelevancies CONCISELY" not in text:
        return None
    score = (_between(text, "Relevancy score:", "Irrelevancies:") or "").strip()
    try:
        irrelevancies = json.loads(_between(text, "Irrelevancies:", "JSON:") or "[]")
    except ValueError:
        irrelevancies = []
    return _wrap_json({"reason": f"The score is {score} because {' '.join(map(str, irrelevancies))}"}, style)


_GRADERS: tuple[Callable[[str, str], str | None], ...] = (
    _geval_steps, _geval_score, _rubric, _closed_qa, _factuality, _select_best, _answer_relevance,
    _context_recall, _context_relevance, _faithfulness_statements, _faithfulness_verdicts,
    _conversation_relevance, _conversation_reason,
)


def grade(prompt: str, system_prompt: str = "") -> str | None:
    """The grader's answer if ``prompt`` (with ``system_prompt``) is a grading prompt, else None."""
    text = unwrap(prompt, system_prompt)
    markers = set(_MARKER.findall(text))
    text = _MARKER.sub("", text)
    for grader in _GRADERS:
        answer = grader(text, _style(text, markers))
        if answer is not None:
            return REFUSAL if "refuse" in markers else answer
    return None
