"""Config input that used to exhaust memory, crash, lose tests silently or mislead.

Each must end in one collection error naming the file, the line and the fix.
"""

from __future__ import annotations

import pytest
from helpers import write


def collection_error(pytester: pytest.Pytester, *lines: str, args: tuple[str, ...] = ()) -> pytest.RunResult:
    """Run pytest; expect exactly one collection error showing ``lines``, and no traceback."""
    result = pytester.runpytest("--continue-on-collection-errors", *args)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*_ ERROR collecting *", *[line.replace("[", "[[]") for line in lines]])
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output and "pytest_replicate/" not in output and "INTERNALERROR" not in output
    return result


HEAD = "prompts: ['{{ q }}']\nproviders: [echo]\n"


# -- YAML -----------------------------------------------------------------------------------


def test_duplicate_tests_block_is_an_error_not_a_silent_loss(pytester):
    write(
        pytester,
        "suite.eval.yaml",
        """
        prompts: ['{{ q }}']
        tests:
          - vars: {q: first}
            assert: [{type: equals, value: nope}]
        providers: [echo]
        tests:
          - vars: {q: second}
        """,
    )
    collection_error(
        pytester,
        "suite.eval.yaml:6: duplicate key 'tests': first on line 2, again on line 6",
        "  hint: a key may appear once per mapping*",
    )


def test_alias_bomb_is_refused_quickly(pytester):
    bomb = ['lol: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        bomb.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    write(pytester, "suite.eval.yaml", HEAD + "tests:\n  - vars:\n" + "".join(f"      {line}\n" for line in bomb))
    collection_error(
        pytester,
        "suite.eval.yaml:12: aliases would expand this document from 39 to *,*,* nodes*&h on line 12, aliased 9 times",
        "  hint: this looks like a YAML alias bomb*",
    )


def test_self_referencing_alias_is_refused(pytester):
    write(pytester, "suite.eval.yaml", HEAD + "tests:\n  - vars: &v\n      q: hi\n      again: *v\n")
    collection_error(pytester, "suite.eval.yaml:6: recursive alias: *v on line 6 refers to the node &v that contains it")


def test_nul_byte_has_a_line(pytester):
    write(pytester, "suite.eval.yaml", (HEAD + "tests:\n  - vars: {q: a\0b}\n").encode())
    collection_error(pytester, "suite.eval.yaml:4: invalid YAML, column 16: a NUL byte is not allowed in YAML")


def test_date_var_is_text_and_a_failure_report_shows_it(pytester):
    write(
        pytester,
        "suite.eval.yaml",
        """
        prompts: ['due {{ due }}']
        providers: [echo]
        tests:
          - vars: {due: 2024-01-02}
            assert: [{type: equals, value: nope}]
        """,
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*vars:", "*due: 2024-01-02", "*prompt:", "*due 2024-01-02"])
    assert "TypeError" not in result.stdout.str()


def test_file_reference_to_a_directory_says_so(pytester):
    (pytester.path / "prompts").mkdir()
    write(pytester, "suite.eval.yaml", "prompts: [file://prompts]\nproviders: [echo]\n")
    collection_error(
        pytester,
        "suite.eval.yaml:1: prompts[0]: 'file://prompts' is a directory, not a file",
        "  hint: name a file inside it, or a glob such as file://prompts/*.txt",
    )


# -- expansion ------------------------------------------------------------------------------


def test_sixty_four_million_cases_are_refused_naming_the_vars(pytester):
    values = "[" + ", ".join(f"v{n}" for n in range(20)) + "]"
    write(
        pytester,
        "suite.eval.yaml",
        HEAD + "tests:\n  - vars: {q: hi}\n  - description: grid\n    vars:\n"
        + "".join(f"      {name}: {values}\n" for name in "abcdef"),
    )
    collection_error(
        pytester,
        "suite.eval.yaml:5: tests[1]: this test expands to 64,000,000 cases: a (20 values) x b (20 values) x c (20 values)"
        " x d (20 values) x e (20 values) x f (20 values); the file would have 64,000,001 cases, more than the limit of 10,000",
        "  hint: shorten the lists or split them across tests; to run this many, raise the limit with the ini option"
        " replicate_max_cases (e.g. -o replicate_max_cases=65000000)",
    )


def test_many_small_tests_over_the_limit_name_the_file(pytester):
    write(pytester, "suite.eval.yaml", "prompts: ['{{ q }}', 'again {{ q }}']\nproviders: [echo]\ntests:\n"
          + "".join(f"  - vars: {{q: '{n}'}}\n" for n in range(5001)))
    collection_error(
        pytester,
        "suite.eval.yaml: the file would have 10,002 cases, more than the limit of 10,000",
    )


# -- CSV ------------------------------------------------------------------------------------

CSV_SUITE = "prompts: ['{{ q }}']\nproviders: [echo]\ntests: file://tests.csv\n"


@pytest.mark.parametrize(
    "csv_text, lines",
    [
        ("q,__expected\nParis, France,contains: Paris\n",
         ["tests.csv:2: this row has 3 cells but the header names 2 columns; the extra cells ('contains: Paris') belong to no column",
          '  hint: quote a cell that holds a comma: "a, b"; or add a header for the extra column']),
        ('q,__expected\na,contains: a\n"b,contains: b\nc,contains: c\n',
         ["tests.csv:3: a quoted cell that starts on line 3 is never closed; the rest of the file would be read into it"]),
        ("q,__expected,q\na,contains: a,b\n",
         ["tests.csv:1: columns 1 and 3 are both named 'q'; the second would hide the first"]),
        ("", ["tests.csv: the CSV file is empty"]),
        ("q,__expected\n", ["tests.csv:1: the CSV file has a header but no rows: it defines no tests"]),
    ],
    ids=["extra cells", "unclosed quote", "duplicate header", "empty", "header only"],
)
def test_csv_problems_are_errors_naming_file_line_and_column(pytester, csv_text, lines):
    write(pytester, "tests.csv", csv_text)
    write(pytester, "suite.eval.yaml", CSV_SUITE)
    collection_error(pytester, *lines)


def test_a_bad_assertion_in_a_csv_row_fails_that_row(pytester):
    write(pytester, "tests.csv", "q,__expected\na,regex: (\nb,contains: b\n")
    write(pytester, "suite.eval.yaml", CSV_SUITE)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["tests.csv:2: row 1, column '__expected': invalid regular expression*"])


# -- misleading messages --------------------------------------------------------------------


def test_a_var_named_self_renders(pytester):
    write(
        pytester,
        "suite.eval.yaml",
        """
        prompts: ['I am {{ self }}']
        providers: [echo]
        tests:
          - vars: {self: Ada}
            assert: [{type: equals, value: I am Ada}]
        """,
    )
    pytester.runpytest().assert_outcomes(passed=1)
