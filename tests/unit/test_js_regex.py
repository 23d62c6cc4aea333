"""JavaScript regular expressions run with the regex package (pytest_replicate.jscompat.regex).

The expected verdicts are JavaScript's: each (pattern, text, verdict) row was checked with
``new RegExp(pattern).test(text)`` on Node 22, the runtime of promptfoo 0.123.1. Beyond these
rows, 12,000 random patterns over the same syntax agreed with Node except where Python's re
could not run a valid JavaScript lookbehind of varying width (the regex package can).
"""

from __future__ import annotations

import time

import pytest

from pytest_replicate import grade_output
from pytest_replicate.jscompat import regex as js_regex
from pytest_replicate.jscompat.regex import JsRegexError, compile_js

# new RegExp(pattern).test(text) in Node 22.
JS_VERDICTS = [
    ('\\d{3}-\\d{4}', 'call 555-1234', True),
    ('^abc$', 'abc\n', False),
    ('(?<=a+)b', 'aab', True),
    ('(?<!x+)b', 'xxb', False),
    ('^abc$', 'abc', True),
    ('(?<y>\\d+)-\\k<y>', '12-12', True),
    ('(?<y>\\d+)-\\k<y>', '12-13', False),
    ('[^]', '\n', True),
    ('a[]', 'a', False),
    ('\\w+', 'é', False),
    ('\\bé', 'é', False),
    ('a{,3}', 'a{,3}', True),
    ('a{,3}', 'aa', False),
    ('\\y', 'y', True),
    ('x.y', 'x\ny', False),
    ('x.y', 'x\ry', False),
    ('x.y', 'x\u2028y', False),
    ('\\s', '\xa0', True),
    ('\\s', '\x1c', False),
    ('\\s', '\ufeff', True),
    ('[\\S]', '\xa0', False),
    ('[^\\S]', '\xa0', True),
    ('[\\d-z]', '-', True),
    ('(a)\\1', 'aa', True),
    ('\\7', '\x07', True),
    ('a*?b', 'aab', True),
    ('/abc/i', 'x /abc/i y', True),
    ('/abc/i', 'ABC', False),
    ('\\u0041', 'A', True),
    ('\\x41', 'A', True),
    ('\\cJ', '\n', True),
    ('[\\b]', '\x08', True),
    ('\\Bb', 'ab', True),
    ('(?<=a)b', 'ab', True),
    ('[[]', '[', True),
    ('\\d', '٣', False),
    ('[^\\d]', '٣', True),
    ('[\\D]', '٣', True),
    ('\\W', 'é', True),
    ('^\\w+$', 'naïve', False),
    ('\\k', 'k', True),
    ('a{2}', 'aa', True),
    ('a{2,}', 'aaa', True),
    ('a{1,2}b', 'ab', True),
    ('{', '{', True),
    ('}', '}', True),
    (']', ']', True),
    ('a{', 'a{', True),
    ('x{1}{', 'x{', True),
    ('\\0', '\x00', True),
    ('\\08', '\x008', True),
    ('\\12', '\n', True),
    ('(a)\\2', 'a\x02', True),
    ('\\8', '8', True),
    ('[\\1]', '\x01', True),
    ('\\p{L}', 'p{L}', True),
    ('\\u{41}', 'u{41}', False),
    ('\\u{2}', 'uu', True),
    ('$', 'abc\n', True),
    ('c$', 'abc\n', False),
    ('c\\n$', 'abc\n', True),
    ('^$', '', True),
    ('[a-]', '-', True),
    ('[-a]', '-', True),
    ('[\\w-]', '-', True),
    ('[a\\-z]', '-', True),
    ('(?:ab)+', 'abab', True),
    ('(?=a)a', 'a', True),
    ('(?!b)a', 'a', True),
    ('(?<!b)a', 'ba', False),
    ('\\t', '\t', True),
    ('\\v', '\x0b', True),
    ('\\f', '\x0c', True),
    ('\\/', '/', True),
    ('\\.', '.', True),
    ('\\$', '$', True),
    ('a|b', 'b', True),
    ('(a|)', 'x', True),
    ('[\\s\\S]+', '😀', True),
    ('^.$', '😀', False),
    ('^..$', '😀', True),
    ('\\bword\\b', 'a word.', True),
    ('\\bword\\b', 'awordb', False),
    ('[\\w]', '_', True),
    ('[\\W]', '_', False),
    ('\\S+@\\S+', 'a@b', True),
    ('^\\S+$', 'a\xa0b', False),
    ('é', 'é', True),
    ('[éa]', 'é', True),
    ('[^a]', '\n', True),
    ('\\c1', '\\c1', True),
    ('\\c', '\\c', True),
    ('[\\c]', '\\', True),
    ('\\q', 'q', True),
    ('\\e', 'e', True),
    # a group that has not matched (or not yet) matches the empty string in JavaScript
    ('(?:(a)|b)\\1c', 'bc', True),
    ('\\1(a)', 'a', True),
    ('(a\\1)', 'a', True),
    ('(?<x>a)?b\\k<x>', 'b', True),
    ('(?=a)*a', 'a', True),
]


@pytest.mark.parametrize(("pattern", "text", "expected"), JS_VERDICTS)
def test_matches_as_javascript_does(pattern: str, text: str, expected: bool) -> None:
    assert compile_js(pattern).test(text) is expected


@pytest.mark.parametrize(("pattern", "message"), [
    ("(?P<year>\\d+)", "(?P<name>...) and (?P=name) are Python syntax; JavaScript writes (?<name>...)"),
    ("(?P=year)", "are Python syntax"),
    ("a*+", "possessive quantifiers"),
    ("a{2}+", "possessive quantifiers"),
    ("end\\Z", "\\Z (end of input) is not JavaScript; use $"),
    ("\\Astart", "\\A (start of input) is not JavaScript; use ^"),
    ("(?i)hello", "inline flags such as (?i) are not JavaScript"),
    ("(?#note)a", "comments are not JavaScript"),
    ("(?>a)", "atomic groups"),
    ("[abc", "unterminated character class"),
    ("a\\", "lone backslash"),
    ("a)", "unbalanced parenthesis"),
    ("\\b*", "nothing to repeat"),
    ("(?<=a)*b", "nothing to repeat"),
])
def test_rejects_what_is_not_javascript(pattern: str, message: str) -> None:
    with pytest.raises(JsRegexError) as error:
        compile_js(pattern)
    assert message in str(error.value)
    assert "JavaScript regular expressions, as in promptfoo" in str(error.value)


def test_unicode_flag_matches_code_points_and_is_strict() -> None:
    # JSON Schema patterns are compiled by Ajv with the "u" flag.
    assert compile_js("^.$", "u").test("\U0001F600")
    assert compile_js("^\\u{1F600}$", "u").test("\U0001F600")
    with pytest.raises(JsRegexError, match=r"lone '\{'"):
        compile_js("a{", "u")
    with pytest.raises(JsRegexError, match="property escapes"):
        compile_js("\\p{L}", "u")


def test_multiline_and_dot_all_flags() -> None:
    assert compile_js("^b$", "m").test("a\nb\nc")
    assert not compile_js("^b$").test("a\nb\nc")
    assert compile_js("a.b", "s").test("a\nb")
    assert compile_js("HELLO", "i").test("hello")


def test_a_pattern_that_backtracks_catastrophically_in_re_finishes() -> None:
    started = time.monotonic()
    result = grade_output("a" * 34 + "!", {"type": "regex", "value": "^(a+)+$"})
    assert not result.passed and time.monotonic() - started < 1.0


@pytest.mark.parametrize("kind", ["regex", "not-regex"])
def test_a_search_that_runs_too_long_fails_its_assertion(monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    monkeypatch.setattr(js_regex, "MATCH_TIMEOUT", 0.2)
    started = time.monotonic()
    result = grade_output("a" * 60 + "!", {"type": kind, "value": "^(a|aa)+$"})
    assert time.monotonic() - started < 2.0
    assert not result.passed
    assert result.reason == ("the regex /^(a|aa)+$/ took longer than 0.2 s on this output: it may backtrack "
                             "catastrophically")


@pytest.mark.parametrize("kind", ["is-json", "not-is-json", "contains-json"])
def test_a_schema_pattern_that_runs_too_long_fails_its_assertion(monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    monkeypatch.setattr(js_regex, "MATCH_TIMEOUT", 0.2)
    schema = {"type": "object", "properties": {"x": {"type": "string", "pattern": "^(a|aa)+$"}}}
    result = grade_output('{"x": "' + "a" * 60 + '!"}', {"type": kind, "value": schema})
    assert not result.passed
    assert result.reason == "a pattern in the schema took longer than 0.2 s on this output: it may backtrack catastrophically"
