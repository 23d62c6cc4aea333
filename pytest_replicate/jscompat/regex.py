"""JavaScript regular expressions, run with the ``regex`` package (``re``'s dialect, plus a timeout).

promptfoo builds ``new RegExp(value)`` from a ``regex`` assertion's value (no flags, no
``/.../flags`` literal), and Ajv builds ``new RegExp(pattern, "u")`` from a JSON Schema
``pattern``. Users copy those patterns from promptfoo configs, so we read them as
JavaScript and translate the places where the two dialects disagree:

=====================  ==================================  ===============================
JavaScript             meaning in JavaScript               what Python's ``re`` would do
=====================  ==================================  ===============================
``\\d \\w \\b``        ASCII digits / word characters      Unicode digits and letters
``\\s``                JS whitespace (incl. U+FEFF)        Python's (incl. U+001C..U+001F)
``.``                  any char but \\n \\r U+2028 U+2029  any char but \\n
``$`` (no ``m`` flag)  the very end of the input           also before a final \\n
``(?<y>...)``          named group                         (Python spells it ``(?P<y>...)``)
``\\k<y>``             backreference to ``y``              error
``[^]`` / ``[]``       any character / nothing             error
``a{,3}``              the literal text ``a{,3}``          ``a`` repeated 0 to 3 times
``\\y`` (``\\A``...)   identity escape: a literal ``y``    error (or an anchor for A, Z)
=====================  ==================================  ===============================

Patterns run with the ``regex`` package in its ``re``-compatible mode: it also runs JavaScript's
lookbehinds of varying width, and a search that backtracks catastrophically gives up after
:data:`MATCH_TIMEOUT` seconds (:class:`JsRegexTimeout`) instead of hanging the run.

Python-only syntax (``(?P<..>)``, ``(?i)``, ``(?#..)``, ``(?>..)``, possessive quantifiers,
``\\A``, ``\\Z``...) is rejected with a message saying the pattern is JavaScript: JavaScript
either rejects it too or silently reads it as something else (``\\Z`` is a literal ``Z``).
"""

from __future__ import annotations

import re
from functools import lru_cache

from .values import JS_WHITESPACE

__all__ = ["MATCH_TIMEOUT", "JsRegex", "JsRegexError", "JsRegexTimeout", "compile_js", "translate", "utf16_units"]

# Seconds one search may take; a pattern like ^(a|aa)+$ can otherwise backtrack for hours.
MATCH_TIMEOUT = 5.0

_DIGIT = "0-9"
_WORD = "A-Za-z0-9_"
_LINE_END = "\\n\\r\\u2028\\u2029"
_WORD_BOUNDARY = "(?:(?<=[A-Za-z0-9_])(?![A-Za-z0-9_])|(?<![A-Za-z0-9_])(?=[A-Za-z0-9_]))"
_NOT_WORD_BOUNDARY = "(?:(?<=[A-Za-z0-9_])(?=[A-Za-z0-9_])|(?<![A-Za-z0-9_])(?![A-Za-z0-9_]))"
# Escapes that mean something in Python or PCRE but are plain letters in JavaScript.
_FOREIGN_ESCAPES = {
    "A": "\\A (start of input) is not JavaScript; use ^",
    "Z": "\\Z (end of input) is not JavaScript; use $ (it never matches before a final newline)",
    "z": "\\z (end of input) is not JavaScript; use $",
    "G": "\\G is not JavaScript",
    "Q": "\\Q...\\E quoting is not JavaScript; escape each character instead",
    "E": "\\Q...\\E quoting is not JavaScript; escape each character instead",
    "K": "\\K is not JavaScript",
    "R": "\\R is not JavaScript; use (?:\\r\\n|\\n|\\r)",
    "X": "\\X is not JavaScript",
    "h": "\\h is not JavaScript; use [ \\t]",
    "H": "\\H is not JavaScript",
    "N": "\\N is not JavaScript",
}
_CONTROL_ESCAPES = {"t": "\\t", "n": "\\n", "v": "\\x0b", "f": "\\x0c", "r": "\\r"}
_QUANTIFIER = re.compile(r"\{(\d+)(,(\d*))?\}")
_GROUP_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_HEX2 = re.compile(r"[0-9A-Fa-f]{2}")
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
_BRACED_HEX = re.compile(r"\{([0-9A-Fa-f]{1,6})\}")
_JS_HINT = "regex values are JavaScript regular expressions, as in promptfoo"


class JsRegexTimeout(Exception):
    """A search ran longer than :data:`MATCH_TIMEOUT` (catastrophic backtracking, most likely)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the regex took longer than {seconds:g} s: it may backtrack catastrophically")
        self.seconds = seconds


class JsRegexError(ValueError):
    """The pattern is not a JavaScript regular expression we can run."""


def utf16_units(text: str) -> str:
    """``text`` with each character above U+FFFF split into its UTF-16 surrogate pair.

    Without the ``u`` flag JavaScript matches UTF-16 code units, so ``.`` sees half an emoji.
    """
    if text.isascii() or max(text) <= "\uffff":
        return text
    units = []
    for char in text:
        code = ord(char)
        if code > 0xFFFF:
            code -= 0x10000
            units += [chr(0xD800 + (code >> 10)), chr(0xDC00 + (code & 0x3FF))]
        else:
            units.append(char)
    return "".join(units)


def _python_literal(char: str) -> str:
    """``char`` as a literal in Python ``re`` source."""
    if ord(char) > 0xFFFF:
        return f"\\U{ord(char):08x}"
    if char.isalnum() or char == "_" or (not char.isascii() and char.isprintable()):
        return char
    if char.isascii() and char.isprintable():
        return "\\" + char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else (f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")


# What \d, \w and \s match in JavaScript, as Python class contents.
_CLASS_ESCAPES = {"d": _DIGIT, "w": _WORD, "s": "".join(map(_python_literal, JS_WHITESPACE))}


class _Translator:
    def __init__(self, pattern: str, flags: str) -> None:
        self.src = pattern if "u" in flags else utf16_units(pattern)
        self.pos = 0
        self.unicode = "u" in flags
        self.multiline = "m" in flags
        self.dot_all = "s" in flags
        self.groups = 0  # capturing groups, counted up front for \N backreferences
        self.names: set[str] = set()
        self._lazy = False
        self._open: list[tuple[str, str | None]] = []  # ("capture", number or name) / ("lookbehind", None) ...
        self._closed: set[str] = set()  # capturing groups already closed, by number and by name
        self._next_group = 0
        self._count_groups()

    def fail(self, message: str) -> JsRegexError:
        return JsRegexError(f"{message} (at position {self.pos} of /{self.src}/; {_JS_HINT})")

    def _count_groups(self) -> None:
        src, i, in_class = self.src, 0, False
        while i < len(src):
            char = src[i]
            if char == "\\":
                i += 2
                continue
            if in_class:
                in_class = char != "]"
            elif char == "[":
                in_class = True
            elif char == "(":
                if not src.startswith("?", i + 1):
                    self.groups += 1
                elif src.startswith("?<", i + 1) and not src.startswith(("?<=", "?<!"), i + 1):
                    self.groups += 1
                    match = _GROUP_NAME.match(src, i + 3)
                    if match:
                        self.names.add(match.group())
            i += 1

    # -- top level ----------------------------------------------------------------------

    def run(self) -> str:
        out: list[str] = []
        src = self.src
        while self.pos < len(src):
            before = self.pos
            piece = self._one()
            if piece in (_WORD_BOUNDARY, _NOT_WORD_BOUNDARY) and self._quantifier_follows():
                raise self.fail("nothing to repeat: \\b and \\B cannot take a quantifier")
            out.append(piece)
            if self._lazy:
                out.append("?")
                self._lazy = False
            assert self.pos > before
        return "".join(out)

    def group_close(self) -> str:
        if self._open:
            kind, ident = self._open.pop()
            if kind == "capture" and ident:
                self._closed.update(ident.split())
            elif kind == "lookbehind" and self._quantifier_follows():
                raise self.fail("nothing to repeat: a lookbehind cannot take a quantifier")
        return ")"

    def backreference(self, group: str) -> str:
        """JavaScript: a group that has not matched (yet) matches the empty string; Python fails."""
        if group not in self._closed:
            return "(?:)"  # a forward reference, or one from inside the group itself
        reference = f"\\{group}" if group.isdigit() else f"(?P={group})"
        return f"(?({group}){reference})"

    def _quantifier_follows(self) -> bool:
        return self.src[self.pos:self.pos + 1] in ("*", "+", "?") or bool(
            self.src.startswith("{", self.pos) and _QUANTIFIER.match(self.src, self.pos))

    def _one(self) -> str:
        src = self.src
        char = src[self.pos]
        if char == "\\":
            return self.escape(in_class=False)
        if char == "[":
            return self.char_class()
        if char == "(":
            return self.group_open()
        if char == ".":
            self.pos += 1
            return "[\\s\\S]" if self.dot_all else f"[^{_LINE_END}]"
        if char == "$":
            self.pos += 1
            return f"(?=[{_LINE_END}]|\\Z)" if self.multiline else "\\Z"
        if char == "^":
            self.pos += 1
            return f"(?:(?<=[{_LINE_END}])|\\A)" if self.multiline else "\\A"
        if char in "*+?":
            self.pos += 1
            self.check_not_possessive()
            return char
        if char == "{":
            match = _QUANTIFIER.match(src, self.pos)
            if match:
                self.pos = match.end()
                if match.group(3) and int(match.group(3)) < int(match.group(1)):
                    raise self.fail("numbers out of order in {} quantifier")
                self.check_not_possessive()
                return match.group()
            if self.unicode:
                raise self.fail("a lone '{' must be escaped in a JSON Schema pattern")
            self.pos += 1
            return "\\{"
        if char in "}]":
            if self.unicode:
                raise self.fail(f"a lone {char!r} must be escaped in a JSON Schema pattern")
            self.pos += 1
            return "\\" + char
        self.pos += 1
        if char == ")":
            return self.group_close()
        return char if char == "|" else _python_literal(char)

    def check_not_possessive(self) -> None:
        """After a quantifier: a lazy ``?`` is fine; a possessive ``+`` is Python-only."""
        if self.src.startswith("?", self.pos):
            self.pos += 1  # run() emits the lazy "?" after the quantifier
            self._lazy = True
        if self.src.startswith("+", self.pos):
            raise self.fail("possessive quantifiers (*+, ++, ?+, {n}+) are not JavaScript")

    def group_open(self) -> str:
        src, pos = self.src, self.pos
        rest = src[pos + 1:pos + 4]
        if not rest.startswith("?"):
            self.pos += 1
            self._next_group += 1
            self._open.append(("capture", str(self._next_group)))
            return "("
        if rest.startswith(("?:", "?=", "?!")):
            self.pos += 3
            self._open.append(("group", None))
            return "(" + rest[:2]
        if rest.startswith(("?<=", "?<!")):
            self.pos += 4
            self._open.append(("lookbehind", None))
            return "(" + rest[:3]
        if rest.startswith("?<"):
            match = _GROUP_NAME.match(src, pos + 3)
            if not match or not src.startswith(">", match.end()):
                raise self.fail("invalid group name")
            self.pos = match.end() + 1
            name = match.group()
            if "$" in name:
                raise self.fail(f"group name {name!r} contains '$', which the regex package cannot handle")
            self._next_group += 1
            self._open.append(("capture", f"{self._next_group} {name}"))
            return f"(?P<{name}>"
        if rest.startswith("?P"):
            raise self.fail("(?P<name>...) and (?P=name) are Python syntax; JavaScript writes "
                            "(?<name>...) and \\k<name>")
        if rest.startswith("?#"):
            raise self.fail("(?#...) comments are not JavaScript")
        if rest.startswith("?>"):
            raise self.fail("atomic groups (?>...) are not JavaScript")
        if rest.startswith("?("):
            raise self.fail("conditional groups (?(...)...) are not JavaScript")
        raise self.fail("inline flags such as (?i) are not JavaScript (promptfoo passes no flags)")

    # -- escapes -----------------------------------------------------------------------

    def escape(self, *, in_class: bool) -> str:
        src = self.src
        self.pos += 1
        if self.pos >= len(src):
            raise self.fail("the pattern ends with a lone backslash")
        char = src[self.pos]
        self.pos += 1
        if char in _CLASS_ESCAPES:
            return _CLASS_ESCAPES[char] if in_class else f"[{_CLASS_ESCAPES[char]}]"
        if char in "DWS":
            if in_class:  # handled by char_class, which sees the marker
                return "\x00NEG" + char
            return f"[^{_CLASS_ESCAPES[char.lower()]}]"
        if char == "b":
            return "\\x08" if in_class else _WORD_BOUNDARY
        if char == "B":
            if in_class:
                return "B"
            return _NOT_WORD_BOUNDARY
        if char in _CONTROL_ESCAPES:
            return _CONTROL_ESCAPES[char]
        if char == "c":
            if self.pos < len(src) and src[self.pos].isascii() and src[self.pos].isalpha():
                self.pos += 1
                return f"\\x{ord(src[self.pos - 1]) % 32:02x}"
            self.pos -= 1  # JavaScript reads "\c" without a letter as a literal backslash
            return "\\\\"
        if char == "x":
            match = _HEX2.match(src, self.pos)
            if match:
                self.pos = match.end()
                return f"\\x{match.group().lower()}"
            return "x"
        if char == "u":
            match = _HEX4.match(src, self.pos)
            if match:
                self.pos = match.end()
                return f"\\u{match.group().lower()}"
            if self.unicode:
                match = _BRACED_HEX.match(src, self.pos)
                if match:
                    self.pos = match.end()
                    return _python_literal(chr(int(match.group(1), 16)))
            return "u"
        if char == "k":
            if self.names or self.unicode:
                match = _GROUP_NAME.match(src, self.pos + 1) if src.startswith("<", self.pos) else None
                if not match or not src.startswith(">", match.end()) or match.group() not in self.names:
                    raise self.fail("\\k must name a group defined in the pattern, as \\k<name>")
                self.pos = match.end() + 1
                return self.backreference(match.group())
            return "k"
        if char in "pP" and self.unicode:
            raise self.fail("Unicode property escapes (\\p{...}) are not supported")
        if char == "0" and not (self.pos < len(src) and src[self.pos].isdigit()):
            return "\\x00"
        if char.isdigit():
            return self.numeric_escape(char, in_class=in_class)
        if char in _FOREIGN_ESCAPES:
            raise self.fail(_FOREIGN_ESCAPES[char])
        # Any other escaped character stands for itself (an "identity escape").
        return _python_literal(char)

    def numeric_escape(self, first: str, *, in_class: bool) -> str:
        start = self.pos - 1
        digits = first
        while self.pos < len(self.src) and self.src[self.pos].isdigit():
            digits += self.src[self.pos]
            self.pos += 1
        if not in_class and int(digits) <= self.groups and int(digits) > 0:
            return self.backreference(str(int(digits)))
        if self.unicode:
            raise self.fail(f"\\{digits} refers to a group that does not exist")
        # Legacy octal escape (up to three octal digits, at most \377), else a literal digit.
        self.pos = start
        octal = ""
        while self.pos < len(self.src) and self.src[self.pos] in "01234567" and len(octal) < 3:
            if int(octal + self.src[self.pos], 8) > 0o377:
                break
            octal += self.src[self.pos]
            self.pos += 1
        if octal:
            return f"\\x{int(octal, 8):02x}"
        self.pos += 1
        return self.src[self.pos - 1]

    # -- character classes -------------------------------------------------------------

    def char_class(self) -> str:
        src = self.src
        self.pos += 1
        negated = src.startswith("^", self.pos)
        if negated:
            self.pos += 1
        items: list[str] = []
        complements: list[str] = []  # \D \W \S inside the class
        previous_was_set = False
        while True:
            if self.pos >= len(src):
                raise self.fail("unterminated character class")
            char = src[self.pos]
            if char == "]":
                self.pos += 1
                break
            if char == "\\":
                piece = self.escape(in_class=True)
                if piece.startswith("\x00NEG"):
                    complements.append(_CLASS_ESCAPES[piece[-1].lower()])
                    previous_was_set = True
                    continue
                is_set = src[self.pos - 1] in "dws" and src[self.pos - 2] == "\\"
                if previous_was_set and piece == "-":
                    piece = "\\-"
                items.append(piece)
                previous_was_set = is_set
                continue
            self.pos += 1
            if char == "-" and (previous_was_set or (src.startswith("\\", self.pos) and
                                src[self.pos + 1:self.pos + 2] in ("d", "w", "s", "D", "W", "S"))):
                items.append("\\-")  # next to a class escape a hyphen is literal in JavaScript
            elif char == "-":
                items.append("-")
            else:
                items.append(_python_literal(char))
            previous_was_set = False
        body = "".join(items)
        if not complements:
            if not body:
                return "[\\s\\S]" if negated else "(?!)"
            return f"[{'^' if negated else ''}{body}]"
        if not negated:  # a union: the listed characters or the complement of a set
            options = ([f"[{body}]"] if body else []) + [f"[^{c}]" for c in complements]
            return "(?:" + "|".join(options) + ")"
        # [^a\S]: not one of the listed characters and inside every complemented set
        parts = [f"(?![{body}])"] if body else []
        parts += [f"(?=[{c}])" for c in complements[:-1]] + [f"[{complements[-1]}]"]
        return "(?:" + "".join(parts) + ")"


def translate(pattern: str, flags: str = "") -> str:
    """The Python ``re`` source for the JavaScript ``pattern`` with ``flags`` (u, m, s, i, g)."""
    unknown = set(flags) - set("gimsuy")
    if unknown:
        raise JsRegexError(f"unknown regular expression flags {''.join(sorted(unknown))!r}")
    return _Translator(pattern, flags).run()


class JsRegex:
    """A compiled JavaScript regular expression; :meth:`test` is JavaScript's ``RegExp.test``."""

    def __init__(self, pattern: str, flags: str = "") -> None:
        self.pattern = pattern
        self.flags = flags
        self.python_source = translate(pattern, flags)
        import regex  # here, not at the top: most runs compile no pattern, and it costs a megabyte

        try:
            self._compiled = regex.compile(self.python_source, regex.VERSION0 | (regex.IGNORECASE if "i" in flags else 0))
        except regex.error as error:
            message = str(getattr(error, "msg", error))  # without its position, which is in the translated pattern
            raise JsRegexError(f"invalid regular expression /{pattern}/: {message} ({_JS_HINT})") from None

    def test(self, text: str) -> bool:
        """Whether ``text`` matches; :class:`JsRegexTimeout` after :data:`MATCH_TIMEOUT` seconds."""
        subject = text if "u" in self.flags else utf16_units(text)
        try:
            return self._compiled.search(subject, timeout=MATCH_TIMEOUT) is not None
        except TimeoutError:
            raise JsRegexTimeout(MATCH_TIMEOUT) from None

    def __repr__(self) -> str:
        return f"/{self.pattern}/{self.flags}"


@lru_cache(maxsize=1024)
def compile_js(pattern: str, flags: str = "") -> JsRegex:
    """Compile a JavaScript regular expression; raise :class:`JsRegexError` when it is not one."""
    return JsRegex(pattern, flags)
