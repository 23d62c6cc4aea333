"""The terminal summary per eval file, as a pytest run prints it: the matrix of figures per
(prompt, provider), ``-v`` rows per case, ``-q``, colours, narrow terminals, pytest-xdist; and a
failure printed once under ``-n``."""

from __future__ import annotations

import re

import pytest

# Two prompts x two providers; the terse prompt fails every case.
SUITE = """\
prompts:
  - {id: polite, raw: "Hello {{ name }}, nice to meet you"}
  - {id: terse, raw: "Hi {{ name }}"}
providers:
  - echo
  - {id: echo, label: mirror}
tests:
  - description: greets
    vars: {name: [Ada, Grace]}
    assert:
      - {type: icontains, value: hello, metric: greeting}
      - {type: icontains, value: "{{ name }}", metric: naming}
  - description: is warm
    vars: {name: Linus}
    assert:
      - {type: contains, value: meet, metric: warmth}
"""

MATRIX = [
    "------------------------------- replicate evals --------------------------------",
    "suite.eval.yaml: 6 of 12 passed (50%)",
    "  prompt     polite    polite    terse   terse",
    "  provider   echo      mirror    echo    mirror",
    "  pass rate  100% 3/3  100% 3/3  0% 0/3  0% 0/3",
    "  greeting   1.00      1.00      0.00    0.00",
    "  naming     1.00      1.00      1.00    1.00",
    "  warmth     1.00      1.00      0.00    0.00",
]

VERBOSE_MATRIX = [
    "suite.eval.yaml: 6 of 12 passed (50%)",
    "  prompt                polite     polite     terse      terse",
    "  provider              echo       mirror     echo       mirror",
    "  greets (name=Ada)     PASS 1.00  PASS 1.00  FAIL 0.50  FAIL 0.50",
    "  greets (name=Grace)   PASS 1.00  PASS 1.00  FAIL 0.50  FAIL 0.50",
    "  is warm (name=Linus)  PASS 1.00  PASS 1.00  FAIL 0.00  FAIL 0.00",
    "  pass rate             100% 3/3   100% 3/3   0% 0/3     0% 0/3",
]

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def suite(pytester: pytest.Pytester, write_eval, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("COLUMNS", "80")  # the width of the terminal pytest runs in, whatever it is here
    write_eval(SUITE)
    return pytester


def ours(result: pytest.RunResult) -> list[str]:
    """The plugin's summary lines, from its first section title to pytest's next ``===`` line."""
    lines = result.stdout.lines
    start = next(index for index, line in enumerate(lines) if re.match(r"^-+ replicate ", ANSI.sub("", line)))
    end = next(index for index in range(start, len(lines)) if ANSI.sub("", lines[index]).startswith("="))
    return lines[start:end]


def test_the_summary_shows_a_matrix_of_figures_per_prompt_and_provider(suite):
    result = suite.runpytest()
    result.assert_outcomes(passed=6, failed=6)
    assert ours(result) == MATRIX


def test_verbose_adds_a_row_per_test_case(suite):
    result = suite.runpytest("-v")
    result.stdout.fnmatch_lines(VERBOSE_MATRIX, consecutive=True)


def test_quiet_shows_a_line_per_file_and_very_quiet_nothing(suite):
    quiet = suite.runpytest("-q")
    assert ours(quiet)[1:] == ["suite.eval.yaml: 6 of 12 passed (50%), mean greeting 0.50, naming 1.00,",
                               "      warmth 0.50"]
    very_quiet = suite.runpytest("-qq")
    assert not re.search(r"^-+ replicate ", very_quiet.stdout.str(), re.M)


def test_colour_follows_the_color_option(suite):
    coloured = ours(suite.runpytest("--color=yes"))
    assert any(ANSI.search(line) for line in coloured)
    assert [ANSI.sub("", line) for line in coloured] == MATRIX
    assert "\x1b[32m100% 3/3\x1b[0m" in coloured[4] and "\x1b[31m0% 0/3\x1b[0m" in coloured[4]
    plain = ours(suite.runpytest("--color=no"))
    assert plain == MATRIX


def test_a_narrow_terminal_lists_the_columns_one_per_line(suite, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    result = suite.runpytest_subprocess("-v", "-p", "no:cacheprovider")
    lines = ours(result)
    assert all(len(line) <= 60 for line in lines), "\n".join(lines)
    assert lines[1:] == [
        "suite.eval.yaml: 6 of 12 passed (50%)",
        "  [1] polite | echo: pass rate 100% 3/3, greeting 1.00,",
        "      naming 1.00, warmth 1.00",
        "  [2] polite | mirror: pass rate 100% 3/3, greeting 1.00,",
        "      naming 1.00, warmth 1.00",
        "  [3] terse | echo: pass rate 0% 0/3, greeting 0.00,",
        "      naming 1.00, warmth 0.00",
        "  [4] terse | mirror: pass rate 0% 0/3, greeting 0.00,",
        "      naming 1.00, warmth 0.00",
        "  greets (name=Ada): [1] PASS 1.00 [2] PASS 1.00",
        "      [3] FAIL 0.50 [4] FAIL 0.50",
        "  greets (name=Grace): [1] PASS 1.00 [2] PASS 1.00",
        "      [3] FAIL 0.50 [4] FAIL 0.50",
        "  is warm (name=Linus): [1] PASS 1.00 [2] PASS 1.00",
        "      [3] FAIL 0.00 [4] FAIL 0.00",
    ]


def test_the_summary_is_identical_under_xdist(suite):
    pytest.importorskip("xdist")
    plain = suite.runpytest("-v", "-p", "xdist", "-n", "0")
    distributed = suite.runpytest("-v", "-p", "xdist", "-n", "2")
    assert ours(plain) == ours(distributed)
    distributed.stdout.fnmatch_lines(VERBOSE_MATRIX, consecutive=True)


def test_a_failure_is_printed_once_under_xdist_on_ci(suite, monkeypatch):
    """On CI pytest's short summary shows a failure's whole message: under xdist it was the
    whole failure view, since the view reached the controller as plain text."""
    pytest.importorskip("xdist")
    monkeypatch.setenv("CI", "true")
    result = suite.runpytest("-p", "xdist", "-n", "2", "-k", "Ada and terse and echo")
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    assert text.count("provider: echo") == 1, text
    result.stdout.fnmatch_lines([
        "FAILED suite.eval.yaml::greets (name=Ada)[terse-echo] - output does not contain 'hello' (ignoring case)",
    ])
