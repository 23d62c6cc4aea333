"""Deterministic answers of the simulated language and moderation models.

Everything here is a pure function of the prediction input (and, for a canned answer with
several ``outputs``, of how many predictions of that prompt came before), so recorded cassettes,
example evals and benchmarks give the same answers on every run and on every machine.
The answers are canned but plausible enough for realistic assertions (``contains:
Paris``, ``is-json``, moderation categories).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from .catalogue import ModelSpec
from .embeddings import embedding_output
from .grader import grade, word_set

# --- text models ----------------------------------------------------------------------

_SYSTEM_BLOCKS = (
    re.compile(r"<<SYS>>(.*?)<</SYS>>", re.S),
    re.compile(r"<\|start_header_id\|>\s*system\s*<\|end_header_id\|>(.*?)(?:<\|eot_id\|>|$)", re.S),
)
_MARKERS = re.compile(
    r"<\|start_header_id\|>\s*\w+\s*<\|end_header_id\|>|<\|[a-z_]+\|>|\[/?INST\]|<</?SYS>>"
    r"|<start_of_turn>(?:user|model)?|<end_of_turn>|</?s>|<bos>|<eos>",
    re.I,
)

_STOPWORDS = word_set(
    "a an the of to in on for and or is are was were be been what which who whom how why "
    "when where do does did can could would should will please me my i you your tell explain "
    "describe give write about with as at by from this that these those it its into answer "
    "question respond reply briefly short using use json format return following text one "
    "sentence word words only just object"
)


def split_prompt(prompt: str) -> tuple[str, str]:
    """(system text, user text) of a prompt, with chat-template markers removed."""
    system: list[str] = []
    for block in _SYSTEM_BLOCKS:
        system += [part.strip() for part in block.findall(prompt)]
        prompt = block.sub(" ", prompt)
    return " ".join(system), " ".join(_MARKERS.sub(" ", prompt).split())


def topic_of(text: str) -> str:
    """Up to three content words of ``text``: a cheap 'what is this about'."""
    words = re.findall(r"[a-z0-9][a-z0-9'-]*", text.lower())
    content = [w for w in words if w not in _STOPWORDS]
    return " ".join(content[:3]) or "your question"


def _stable_index(text: str, n: int) -> int:
    """A deterministic choice in range(n); hash() is salted per process, sha256 is not."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") % n


_CAPITALS = {
    "france": "Paris", "japan": "Tokyo", "italy": "Rome", "germany": "Berlin",
    "spain": "Madrid", "canada": "Ottawa", "australia": "Canberra", "egypt": "Cairo",
    "brazil": "Brasilia", "india": "New Delhi", "china": "Beijing", "portugal": "Lisbon",
    "united kingdom": "London", "united states": "Washington, D.C.", "kenya": "Nairobi",
    "mexico": "Mexico City", "netherlands": "Amsterdam", "russia": "Moscow",
}

_TRANSLATIONS = {
    "french": {"hello": "Bonjour", "good morning": "Bonjour", "good night": "Bonne nuit",
               "thank you": "Merci", "thanks": "Merci", "goodbye": "Au revoir",
               "please": "S'il vous plaît", "yes": "Oui", "no": "Non", "cat": "Chat",
               "dog": "Chien", "water": "Eau", "cheese": "Fromage"},
    "spanish": {"hello": "Hola", "good morning": "Buenos días", "good night": "Buenas noches",
                "thank you": "Gracias", "thanks": "Gracias", "goodbye": "Adiós",
                "please": "Por favor", "yes": "Sí", "no": "No", "cat": "Gato",
                "dog": "Perro", "water": "Agua", "cheese": "Queso"},
    "german": {"hello": "Hallo", "good morning": "Guten Morgen", "good night": "Gute Nacht",
               "thank you": "Danke", "thanks": "Danke", "goodbye": "Auf Wiedersehen",
               "please": "Bitte", "yes": "Ja", "no": "Nein", "cat": "Katze",
               "dog": "Hund", "water": "Wasser", "cheese": "Käse"},
}
_UNTRANSLATABLE = {"french": "Je ne sais pas traduire cela.",
                   "spanish": "No sé cómo traducir eso.",
                   "german": "Das kann ich nicht übersetzen."}

_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                 "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_NUMBER = r"(\d{1,2}|" + "|".join(_NUMBER_WORDS) + r")"
_LIST_ITEMS = {
    "fruit": ["Apple", "Banana", "Cherry", "Mango", "Orange", "Pear", "Grape", "Kiwi",
              "Lemon", "Plum"],
    "color": ["Red", "Blue", "Green", "Yellow", "Purple", "Orange", "Black", "White",
              "Pink", "Brown"],
    "animal": ["Dog", "Cat", "Elephant", "Lion", "Dolphin", "Eagle", "Horse", "Tiger",
               "Rabbit", "Owl"],
    "planet": ["Mercury", "Venus", "Earth", "Mars", "Jupiter", "Saturn", "Uranus",
               "Neptune"],
    "country": ["France", "Japan", "Italy", "Germany", "Spain", "Canada", "Brazil",
                "India", "Kenya", "Mexico"],
    "language": ["Python", "JavaScript", "Go", "Rust", "Java", "C", "Ruby", "Kotlin",
                 "Swift", "Haskell"],
}
_LIST_ITEMS["colour"] = _LIST_ITEMS["color"]

_HAIKUS = (
    ("{T} at first light", "quiet thoughts drift on the wind", "the day listens close"),
    ("Soft {t} whispers", "a river carries its name", "evening settles in"),
    ("Under the old moon", "{t} waits beside the door", "silence keeps the time"),
)


def _arithmetic(text: str) -> str | None:
    if not re.search(r"\b(what is|what's|calculate|compute)\b", text):
        return None
    match = re.search(r"(-?\d+(?:\.\d+)?)\s*([-+*/x×])\s*(-?\d+(?:\.\d+)?)", text)
    if not match:
        return None
    a, op, b = float(match[1]), match[2], float(match[3])
    if op == "/" and b == 0:
        return "Division by zero is undefined."
    value = {"+": a + b, "-": a - b, "/": a / b if b else 0.0}.get(op, a * b)
    shown = int(value) if value == int(value) else round(value, 6)
    return f"{match[1]} {op} {match[3]} = {shown}"


def _capital(text: str) -> str | None:
    if "capital" not in text:
        return None
    found = sorted((m.start(), country) for country in _CAPITALS
                   if (m := re.search(rf"\b{country}\b", text)))
    if not found:
        return None
    return " ".join(f"The capital of {country.title()} is {_CAPITALS[country]}."
                    for _, country in found)


def _translation(text: str) -> str | None:
    language = next((lang for lang in _TRANSLATIONS if lang in text), None)
    if language is None or not ("translate" in text or f"in {language}" in text):
        return None
    words = _TRANSLATIONS[language]
    hits = sorted((m.start(), -len(phrase), phrase) for phrase in words
                  if (m := re.search(rf"\b{phrase}\b", text)))
    return words[hits[0][2]] if hits else _UNTRANSLATABLE[language]


def _summary(question: str, text: str) -> str | None:
    if "summar" not in text:
        return None
    _, colon, after = question.partition(":")
    content = after if colon else re.sub(r"(?i)^.*?\bsummar\w*\b", "", question, count=1)
    sentence = re.split(r"(?<=[.!?])\s+", content.strip())[0]
    words = sentence.split()[:25]
    if not words:
        return f"Summary: a short text about {topic_of(question)}."
    return "Summary: " + " ".join(words).rstrip(".!?,;:") + "."


def _poem(text: str) -> str | None:
    if "haiku" not in text and "poem" not in text:
        return None
    about = text.split(" about ", 1)[1] if " about " in text else text
    subject = topic_of(re.sub(r"\b(haiku|poem|short)s?\b", " ", about)).split()
    t = subject[0] if subject else "autumn"
    lines = _HAIKUS[_stable_index(text, len(_HAIKUS))]
    return "\n".join(line.format(t=t, T=t.capitalize()) for line in lines)


def _number(word: str) -> int:
    return _NUMBER_WORDS.get(word) or int(word)


def _listing(text: str) -> str | None:
    count = re.search(rf"\bcount (?:from \w+ )?(?:up )?to {_NUMBER}\b", text)
    if count:
        n = min(_number(count[1]), 50)
        return ", ".join(str(i) for i in range(1, n + 1))
    match = re.search(rf"\b(?:list|name|give(?: me)?|suggest|enumerate)\s+(?:me\s+)?(?:the\s+)?"
                      rf"(?:top\s+)?{_NUMBER}\s+([a-z]+)", text)
    if not match:
        return None
    n = max(1, min(_number(match[1]), 20))
    noun = re.sub(r"ies$", "y", match[2])
    noun = noun[:-1] if noun.endswith("s") else noun
    items = _LIST_ITEMS.get(noun) or [f"{noun.capitalize()} {i}" for i in range(1, n + 1)]
    return "\n".join(f"{i}. {item}" for i, item in enumerate(items[:n], start=1))


def _default(question: str) -> str:
    topic = topic_of(question)
    quoted = " ".join(question.split()[:30])
    return (f"Here is a helpful answer about {topic}: you asked \"{quoted}\". "
            f"In short, it depends on the details, but the key facts about {topic} "
            f"are well documented and easy to check.")


def _answer(question: str) -> str:
    text = question.lower()
    answer = (_arithmetic(text) or _capital(text) or _translation(text)
              or _summary(question, text) or _poem(text) or _listing(text)
              or _default(question))
    if "json" in text:
        answer = json.dumps({"answer": answer, "topic": topic_of(question)}, ensure_ascii=False)
    return answer


def tokenize(text: str) -> list[str]:
    """Words with their trailing whitespace, so ``"".join(tokenize(t)) == t``."""
    return re.findall(r"\S+\s*|\s+", text)


def _word_limit(inp: dict[str, Any]) -> int | None:
    limits = [inp[key] for key in ("max_tokens", "max_new_tokens", "max_length")
              if isinstance(inp.get(key), int) and inp[key] > 0]
    return min(limits) if limits else None


def generate_text(inp: dict[str, Any]) -> str:
    """The deterministic answer of a simulated language model to a validated input.

    temperature, top_p and seed are accepted but ignored: determinism matters more here.
    """
    system, question = split_prompt(str(inp.get("prompt", "")))
    text = _answer(question)
    if "pirate" in f"{inp.get('system_prompt', '')} {system}".lower():
        text = "Arr! " + text
    for stop in filter(None, (inp.get("stop_sequences") or "").split(",")):
        text = text.split(stop, 1)[0]
    limit = _word_limit(inp)
    if limit is not None:
        text = "".join(tokenize(text)[:limit]).rstrip()
    return text


# --- Llama Guard stand-in ---------------------------------------------------------------

_CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("S1", (r"\bkill", r"\bmurder", r"\battack")),
    ("S2", (r"\bsteal", r"\bfraud", r"\bhack into\b")),
    ("S9", (r"\bbomb", r"\bexplosive", r"\bnerve agent")),
    ("S10", (r"\bhate\b", r"\bhateful\b", r"\bhates\b", r"\bslurs?\b")),
    ("S11", (r"\bsuicid", r"\bself-harm", r"\bself harm")),
    ("S12", (r"\bexplicit sex", r"\bsexually explicit\b", r"\bporn")),
)


def moderate(inp: dict[str, Any]) -> str:
    """``safe``, or ``unsafe`` and a line of category codes, as Llama Guard answers."""
    text = f"{inp.get('prompt', '')}\n\n{inp.get('assistant') or ''}".lower()
    codes = [code for code, patterns in _CATEGORIES
             if any(re.search(pattern, text) for pattern in patterns)]
    return "unsafe\n" + ",".join(codes) if codes else "safe"




# --- dispatch by model kind ----------------------------------------------------------------

def prompt_text(inp: dict[str, Any]) -> str:
    """The text a canned answer is matched against: the prompt (an embedding model's text)."""
    return str(inp.get("prompt", inp.get("text", "")))


def model_output(spec: ModelSpec, inp: dict[str, Any], turn: int = 0) -> Any:
    """The final output of a model for its effective input (images are rendered by the server).

    A catalogue's canned answer wins (``turn``: the predictions of this prompt before this
    one); a grader model answers grading prompts as a grader.
    """
    canned = spec.canned(prompt_text(inp), turn)
    if canned is not None:
        return tokenize(canned) if spec.kind in ("text", "grader") and isinstance(canned, str) else canned
    if spec.kind == "moderation":
        return moderate(inp)
    if spec.kind == "embedding":
        return embedding_output(inp)
    if spec.kind == "image":
        return None
    graded = grade(str(inp.get("prompt", "")), str(inp.get("system_prompt", ""))) if spec.kind == "grader" else None
    text = graded if graded is not None else generate_text(inp)
    if "image" in spec.inputs and inp.get("image"):
        text = "The image shows a smooth colour gradient. " + text
    return tokenize(text)
