"""Catalogue of simulated Replicate models and their deterministic behaviour.

Everything here is a pure function of the prediction input, so recorded cassettes,
example evals and benchmarks give the same answers on every run and on every machine.
The answers are canned but plausible enough for realistic assertions (``contains:
Paris``, ``is-json``, moderation categories, image sizes).
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

Kind = Literal["text", "image", "moderation"]


@dataclass(frozen=True)
class ModelSpec:
    """One simulated model. ``versions[0]`` is the latest version."""

    owner: str
    name: str
    kind: Kind
    versions: tuple[str, ...]
    # False for models that Replicate only runs by version (no /v1/models/.../predictions).
    official: bool = True
    # Default square image size for image models.
    default_size: int = 768

    @property
    def ref(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def latest_version(self) -> str:
        return self.versions[0]


def _model(ref: str, kind: Kind, *versions: str, official: bool = True, size: int = 768) -> ModelSpec:
    owner, name = ref.split("/")
    return ModelSpec(owner, name, kind, tuple(versions), official, size)


# Versions of llama-2, llama70b-v2-chat, gemma, mixtral and sdxl are the public ones
# seen in docs; the others are fixed stand-ins (sha256 of a label), never real hashes.
MODELS: dict[str, ModelSpec] = {
    spec.ref: spec
    for spec in (
        _model("meta/llama-2-7b-chat", "text",
               "13c3cdee13ee059ab779f0291d29054dab00a47dad8261375654de5540165fb0"),
        _model("meta/llama-2-70b-chat", "text",
               "02e509c789964a7ea8736978a43525956ef40397be9033abf9fd2badfe68c9e3"),
        _model("replicate/llama70b-v2-chat", "text",
               "e951f18578850b652510200860fc4ea62b3b16fac280f83ff32282f87bbd2e48"),
        _model("meta/meta-llama-3-8b-instruct", "text",
               "e284466ba0441179f81e59a981c2edde80d5e68db1df7f9a1e1d7e63783612ce"),
        _model("meta/meta-llama-3-70b-instruct", "text",
               "06e18efda52b345bf9001cfc39286179856fb7c3cc3ba4eb8472baf0459932cf"),
        _model("google-deepmind/gemma-7b-it", "text",
               "2790a695e5dcae15506138cc4718d1106d0d475e6dca4b1d43f42414647993d5",
               official=False),
        _model("mistralai/mistral-7b-instruct-v0.2", "text",
               "59c15e7ade132932b5cf4909b0bca0ffad227995e2ddb9af415b0f404f60a98b"),
        _model("mistralai/mixtral-8x7b-instruct-v0.1", "text",
               "7b3212fbaf88310cfef07a061ce94224e82efc8403c26fc67e8f6c065de51f21",
               "2b56576fcfbe32fa0526897d8385dd3fb3d36ba6fd0dbe033c72886b81ade93e"),
        _model("stability-ai/sdxl", "image",
               "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc",
               "39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b"),
        _model("black-forest-labs/flux-schnell", "image",
               "bb0d3f37069358aea997f8728115469c53991745b961dd12c731bfd39bcb536d",
               size=1024),
        _model("meta/llama-guard-3-8b", "moderation",
               "77f38b16022e9f9409cdbf105bd5c030f092c1b6f3f327b070ba3870fdc0b790"),
        _model("meta/llama-guard-4-12b", "moderation",
               "fefef51dbd3e84b0d0bfe190f34e92e1f9dc4f58d573c03717f536c17a69844a"),
    )
}

# Deployment "owner/name" -> the model it runs.
DEPLOYMENTS: dict[str, str] = {"acme/support-bot": "meta/meta-llama-3-8b-instruct"}


def find_version(version: str) -> tuple[ModelSpec, str] | None:
    """Resolve ``<hash>`` or ``owner/name:<hash>`` to (model, hash), or None if unknown."""
    ref, sep, digest = version.rpartition(":")
    if not sep:
        digest = version
    for spec in MODELS.values():
        if digest in spec.versions and (not sep or ref == spec.ref):
            return spec, digest
    return None


# --- input validation ---------------------------------------------------------------

_TEXT_PARAMS = {
    "prompt": "string", "system_prompt": "string", "stop_sequences": "string",
    "temperature": "number", "top_p": "number", "repetition_penalty": "number",
    "max_length": "integer", "max_new_tokens": "integer", "min_new_tokens": "integer",
    "top_k": "integer", "seed": "integer",
}
_IMAGE_PARAMS = {
    "prompt": "string", "negative_prompt": "string", "refine": "string",
    "width": "integer", "height": "integer", "num_inference_steps": "integer",
    "num_outputs": "integer", "seed": "integer", "guidance_scale": "number",
    "apply_watermark": "boolean",
}
_MODERATION_PARAMS = {"prompt": "string", "assistant": "string"}
_PARAMS: dict[str, dict[str, str]] = {
    "text": _TEXT_PARAMS, "image": _IMAGE_PARAMS, "moderation": _MODERATION_PARAMS,
}
_RANGES = {"width": (64, 2048), "height": (64, 2048), "num_inference_steps": (1, 500),
           "num_outputs": (1, 4)}


def json_type(value: Any) -> str:
    """The JSON Schema type name of a decoded JSON value (bool is not a number)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _type_ok(expected: str, actual: str) -> bool:
    return actual == expected or (expected == "number" and actual == "integer")


def validate_input(spec: ModelSpec, inp: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, description) for each invalid input, like Replicate's 422 ``invalid_fields``.

    Unknown keys are ignored, as Replicate does.
    """
    errors: list[tuple[str, str]] = []
    if "prompt" not in inp:
        errors.append(("input.prompt", "Missing required field"))
    for key, expected in _PARAMS[spec.kind].items():
        if key not in inp:
            continue
        actual = json_type(inp[key])
        if not _type_ok(expected, actual):
            errors.append((f"input.{key}", f"Expected {expected}, got {actual}"))
        elif key in _RANGES:
            low, high = _RANGES[key]
            if not low <= inp[key] <= high:
                errors.append((f"input.{key}", f"Must be between {low} and {high}"))
    return errors


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
_STOPWORDS = frozenset(
    ["a", "an", "the", "of", "to", "in", "on", "for", "and", "or", "is", "are", "was", "were", "be", "been", "what", "which", "who", "whom", "how", "why", "when", "where", "do", "does", "did", "can", "could", "would", "should", "will", "please", "me", "my", "i", "you", "your", "tell", "explain", "describe", "give", "write", "about", "with", "as", "at", "by", "from", "this", "that", "these", "those", "it", "its", "into", "answer", "question", "respond", "reply", "briefly", "short", "using", "use", "json", "format", "return", "following", "text", "one", "sentence", "word", "words", "only", "just", "object"]
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
    limits = [inp[key] for key in ("max_new_tokens", "max_length")
              if isinstance(inp.get(key), int) and inp[key] > 0]
    return min(limits) if limits else None


def generate_text(inp: dict[str, Any]) -> str:
    """The deterministic answer of a simulated language model to a validated input.

    temperature, top_p and seed are accepted but ignored: determinism matters more here.
    """
    system, question = split_prompt(inp["prompt"])
    text = _answer(question)
    if "pirate" in f"{inp.get('system_prompt', '')} {system}".lower():
        text = "Arr! " + text
    for stop in filter(None, inp.get("stop_sequences", "").split(",")):
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
    text = f"{inp['prompt']}\n\n{inp.get('assistant', '')}".lower()
    codes = [code for code, patterns in _CATEGORIES
             if any(re.search(pattern, text) for pattern in patterns)]
    return "unsafe\n" + ",".join(codes) if codes else "safe"


# --- image models -----------------------------------------------------------------------

def image_size(spec: ModelSpec, inp: dict[str, Any]) -> tuple[int, int]:
    """(width, height) of the images a validated input asks for."""
    return inp.get("width", spec.default_size), inp.get("height", spec.default_size)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@lru_cache(maxsize=32)
def render_png(width: int, height: int, key: str) -> bytes:
    """A valid RGB PNG, a vertical gradient between two colours derived from ``key``.

    Each row is one colour, so it compresses to a few kilobytes even at 2048x2048.
    """
    digest = hashlib.sha256(key.encode()).digest()
    top, bottom = digest[0:3], digest[3:6]
    rows = []
    for y in range(height):
        f = y / (height - 1) if height > 1 else 0.0
        colour = bytes(round(a + (b - a) * f) for a, b in zip(top, bottom, strict=False))
        rows.append(b"\x00" + colour * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(b"".join(rows), 6)) + _chunk(b"IEND", b""))


def image_key(inp: dict[str, Any], index: int) -> str:
    """What an image depends on: prompt, seed and its position in the outputs."""
    return f"{inp.get('prompt', '')}\x00{inp.get('seed', '')}\x00{index}"
