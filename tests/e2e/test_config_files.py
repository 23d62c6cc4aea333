"""Referenced files (file://), CSV tests and promptfoo's short syntax, other top-level keys."""

from __future__ import annotations

import base64
import json

import pytest
from helpers import assert_no_traceback, png, write

# -- prompts ------------------------------------------------------------------------------


def test_prompt_text_file_is_split_on_dashes(pytester, write_eval):
    write(
        pytester,
        "prompts.txt",
        """
        Translate to French: {{ text }}
        ---
        Translate to German:
        {{ text }}
        ---

        """,
    )
    write(pytester, "single.txt", "Repeat {{ text }}\n")
    write_eval(
        """
        prompts:
          - file://prompts.txt
          - file://single.txt
        providers: [echo]
        tests:
          - vars: {text: cat}
            assert:
              - {type: contains, value: cat}
              - {type: not-contains, value: "---"}
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "suite.eval.yaml::text=cat[[]prompts.txt#1-echo[]] PASSED*",
            "suite.eval.yaml::text=cat[[]prompts.txt#2-echo[]] PASSED*",
            "suite.eval.yaml::text=cat[[]single.txt-echo[]] PASSED*",
        ]
    )


def test_prompt_text_is_rendered_and_sent_whole(pytester, write_eval):
    write(pytester, "p.txt", "Line one {{ x }}\n---\nLine two\n  indented {{ x }}\n")
    write_eval(
        """
        prompts: [file://p.txt]
        providers: [echo]
        tests:
          - vars: {x: X}
            assert:
              - {type: python, value: 'output in ("Line one X", "Line two\\n  indented X")'}
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_chat_json_prompt(pytester, write_eval):
    chat = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Capital of {{ country }}?"},
    ]
    write(pytester, "chat.json", json.dumps(chat, indent=2))
    write_eval(
        """
        prompts: [file://chat.json]
        providers: [echo]
        tests:
          - vars: {country: France}
            assert:
              - {type: is-json, value: {type: array, minItems: 2}}
              - type: python
                value: json.loads(output)[1]["content"] == "Capital of France?"
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["suite.eval.yaml::country=France[[]chat.json-echo[]] PASSED*"])


def test_prompt_glob(pytester, write_eval):
    write(pytester, "prompts/b_formal.txt", "Dear {{ name }}")
    write(pytester, "prompts/a_casual.txt", "Hey {{ name }}")
    write(pytester, "prompts/notes.md", "not a prompt")
    write_eval(
        """
        prompts: ["file://prompts/*.txt"]
        providers: [echo]
        tests:
          - vars: {name: Ada}
            assert: [{type: contains, value: Ada}]
        """,
        "evals/suite.eval.yaml",
    )
    # Paths are relative to the eval file: move the prompts next to it.
    (pytester.path / "prompts").rename(pytester.path / "evals" / "prompts")
    result = pytester.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "evals/suite.eval.yaml::name=Ada[[]prompts/a_casual.txt-echo[]]",
            "evals/suite.eval.yaml::name=Ada[[]prompts/b_formal.txt-echo[]]",
            "2 tests collected*",
        ]
    )
    pytester.runpytest().assert_outcomes(passed=2)


# -- vars ---------------------------------------------------------------------------------


def test_vars_from_files(pytester, write_eval):
    write(pytester, "vars/common.yaml", "name: Ada\nlanguage: [French, German]\n")
    write(pytester, "vars/other.json", json.dumps({"name": "Grace", "language": "Latin"}))
    write(pytester, "article.txt", "A long article\nabout {{ not rendered }}.\n")
    write(pytester, "q1.txt", "first question")
    write(pytester, "q2.txt", "second question")
    write_eval(
        """
        prompts: ["{{ name }} in {{ language }}"]
        providers: [echo]
        tests:
          - vars: file://vars/common.yaml
            assert: [{type: starts-with, value: "Ada in "}]
          - vars: file://vars/other.json
            assert: [{type: equals, value: Grace in Latin}]
          - description: file values
            vars:
              name: file://article.txt
              language: [file://q1.txt, file://q2.txt]
            assert:
              - {type: contains, value: "about {{ '{{' }} not rendered }}."}
              - {type: contains-any, value: [first question, second question]}
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines_random(
        [
            "*::name=Ada, language=French*PASSED*",
            "*::name=Ada, language=German*PASSED*",
            "*::name=Grace, language=Latin*PASSED*",
            "*::file values (language=first question)*PASSED*",
            "*::file values (language=second question)*PASSED*",
        ]
    )


RED_PNG = png()
# Var files, and what promptfoo 0.123.1's echo provider printed for a var naming each
# (promptfoo eval on these files, Node 22): an image's MIME type comes from its first bytes
# when they carry a known signature, else from its extension.
MEDIA_FILES = {
    "cat.png": RED_PNG,
    "mislabeled.jpg": RED_PNG,
    "upper.PNG": RED_PNG,
    "unknown.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    "clip.mp3": b"ID3\x03\x00\x00\x00\x00\x00\x00rest",
    "movie.mp4": b"\x00\x00\x00\x18ftypmp42",
    "Data.YAML": b"a: 1\n",
}
PROMPTFOO_MEDIA_OUTPUTS = {
    "cat.png": "data:image/png;base64,{png}",
    "mislabeled.jpg": "data:image/png;base64,{png}",
    "upper.PNG": "data:image/png;base64,{png}",
    "unknown.svg": "data:image/svg+xml;base64,PHN2ZyB4bWxucz0naHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmcnLz4=",
    "clip.mp3": "SUQzAwAAAAAAAHJlc3Q=",
    "movie.mp4": "AAAAGGZ0eXBtcDQy",
    "Data.YAML": "a: 1",  # the YAML check is case-sensitive: text
}


def test_media_vars_are_read_as_promptfoo_reads_them(pytester, write_eval):
    for name, data in MEDIA_FILES.items():
        write(pytester, name, data)
    png = base64.b64encode(RED_PNG).decode()
    tests = "\n".join(f"  - vars: {{v: file://{name}}}\n    assert: [{{type: equals, value: {json.dumps(output.format(png=png))}}}]"
                      for name, output in PROMPTFOO_MEDIA_OUTPUTS.items())
    write_eval(f'prompts: ["{{{{ v }}}}"]\nproviders: [echo]\ntests:\n{tests}\n')
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=len(MEDIA_FILES))
    result.stdout.fnmatch_lines(["*::v=file://cat.png[[]*PASSED*"])  # named by the file, not its base64


def test_an_image_var_reaches_a_vision_model_as_a_data_uri(pytester, write_eval, replicate_env):
    write(pytester, "cat.png", RED_PNG)
    write_eval("""
        prompts: ["What is in this picture?"]
        providers:
          - id: replicate:yorickvp/llava-13b
            config: {input_vars: [image]}
        tests:
          - vars: {image: file://cat.png}
        """)
    pytester.runpytest().assert_outcomes(passed=1)
    sent = replicate_env.predictions_created()[-1]["input"]
    assert sent["image"] == "data:image/png;base64," + base64.b64encode(RED_PNG).decode()


@pytest.mark.parametrize(("name", "expected"), [
    ("helper.mjs", "*'file://helper.mjs' is JavaScript, which promptfoo would run and pytest-replicate does not*"),
    ("paper.pdf", "*'file://paper.pdf' is a PDF, whose text promptfoo would extract and pytest-replicate does not*"),
])
def test_var_files_we_cannot_read_as_promptfoo_does_are_refused(pytester, write_eval, name, expected):
    write(pytester, name, "export default () => ({output: 'x'})" if name.endswith("js") else "%PDF-1.4")
    write_eval(f'prompts: ["{{{{ v }}}}"]\nproviders: [echo]\ntests:\n  - vars: {{v: file://{name}}}\n')
    result = pytester.runpytest()
    result.stdout.fnmatch_lines([expected])
    assert_no_traceback(result)


def test_promptfoo_switches_read_pdfs_and_media_as_text(pytester, write_eval, monkeypatch):
    monkeypatch.setenv("PROMPTFOO_DISABLE_PDF_AS_TEXT", "true")
    monkeypatch.setenv("PROMPTFOO_DISABLE_MULTIMEDIA_AS_BASE64", "yes")
    write(pytester, "paper.pdf", "%PDF-1.4 text ")
    write(pytester, "unknown.svg", "<svg/>")
    write_eval("""
        prompts: ["{{ v }}"]
        providers: [echo]
        tests:
          - vars: {v: file://paper.pdf}
            assert: [{type: equals, value: "%PDF-1.4 text"}]
          - vars: {v: file://unknown.svg}
            assert: [{type: equals, value: "<svg/>"}]
        """)
    pytester.runpytest().assert_outcomes(passed=2)


# -- tests from files ---------------------------------------------------------------------


def test_tests_from_yaml_list_file(pytester, write_eval):
    write(
        pytester,
        "cases/tests.yaml",
        """
        - description: from the file
          vars: file://vars.yaml
          assert:
            - {type: contains, value: Ada}
        - vars: {name: Bob}
          assert:
            - {type: contains, value: Alice}
        """,
    )
    write(pytester, "cases/vars.yaml", "name: Ada\n")  # relative to tests.yaml
    write(pytester, "cases/more.yaml", "- vars: {name: Cy}\n")
    write_eval(
        """
        prompts: ["Hello {{ name }}"]
        providers: [echo]
        defaultTest:
          assert: [{type: starts-with, value: Hello}]
        tests: file://cases/tests.yaml
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines_random(
        ["*::from the file[[]*PASSED*", "*::name=Bob[[]*FAILED*"]
    )
    # Failures point at the tests file, not at the eval file.
    result.stdout.fnmatch_lines(["*_ name=Bob[[]Hello {{ name }}-echo[]] (tests.yaml:5) _*"])

    # A list may mix inline tests and files.
    write_eval(
        """
        prompts: ["Hello {{ name }}"]
        providers: [echo]
        tests:
          - file://cases/more.yaml
          - vars: {name: Dee}
          - file://cases/tests.yaml
        """
    )
    result = pytester.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(
        ["*::name=Cy[[]*", "*::name=Dee[[]*", "*::from the file[[]*", "*::name=Bob[[]*", "4 tests collected*"]
    )


CSV_TESTS = """\
question,answer,__expected,__expected1,__expected2,__description,__threshold,__metadata:topic,__metadata:level
What is 2+2?,4,contains: 4,not-contains: five,,adds,,math,easy
Capital of France?,Paris,icontains: PARIS,"contains-any: Lyon, Paris",levenshtein(2): Capital of France? Parus,capital,,geo,
Spell it,Parus,Spell it Parus,,,exact,,spelling,
Half right,yes,contains: yes,contains: nope,,half with threshold,0.5,,
Half wrong,yes,contains: yes,contains: nope,,half without threshold,,,
Plain text,x,Plain text y,,,plain equals fails,,,
"""


def test_tests_from_csv(pytester, write_eval):
    (pytester.path / "tests.csv").write_text(CSV_TESTS, encoding="utf-8")
    write_eval(
        """
        prompts: ["{{ question }} {{ answer }}"]
        providers: [echo]
        defaultTest:
          assert:
            - type: python
              value: 'context["vars"]["answer"] != "4" or context["metadata"] == {"topic": "math", "level": "easy"}'
        tests: file://tests.csv
        """
    )
    result = pytester.runpytest("-v")
    result.stdout.fnmatch_lines_random(
        [
            "*::adds[[]*PASSED*",
            "*::capital[[]*PASSED*",
            "*::exact[[]*PASSED*",
            "*::half with threshold[[]*PASSED*",
            "*::half without threshold[[]*FAILED*",
            "*::plain equals fails[[]*FAILED*",
        ]
    )
    result.assert_outcomes(passed=4, failed=2)
    # Text without a known type is an equals check; failures point at the CSV row.
    result.stdout.fnmatch_lines(
        [
            "*_ plain equals fails[[]*] (tests.csv:7) _*",
            "*",
            "  [[]FAIL] equals 'Plain text y' (score 0.00): output 'Plain text x' does not equal 'Plain text y'",
        ]
    )
    assert_no_traceback(result)


def test_csv_short_syntax_builds_the_right_assertions(pytester, write_eval):
    # Every row fails, so the failure view shows how each cell was understood.
    (pytester.path / "tests.csv").write_text(
        "text,__expected,__expected2\n"
        "alpha,contains: beta,not-contains: alpha\n"
        'alpha,levenshtein(2): omega,"contains-any: b, c"\n'
        "alpha,not-icontains: ALPHA,starts-with: x\n"
        "alpha,regex: ^b,is-json\n"
        "alpha,unknown-type: alpha,alpha\n",
        encoding="utf-8",
    )
    write_eval('prompts: ["{{ text }}"]\nproviders: [echo]\ntests: file://tests.csv\n')
    result = pytester.runpytest()
    result.assert_outcomes(failed=5)
    result.stdout.fnmatch_lines(
        [
            "  [[]FAIL] contains 'beta' (score 0.00): output does not contain 'beta'",
            "  [[]FAIL] not-contains 'alpha' (score 0.00): output contains 'alpha'",
            "  [[]FAIL] levenshtein 'omega' (score 0.00): Levenshtein distance 4 (at most 2 allowed)",
            '  [[]FAIL] contains-any [[]"b", "c"] (score 0.00): output contains none of [[]\'b\', \'c\']',
            "  [[]FAIL] not-icontains 'ALPHA' (score 0.00): output contains 'ALPHA' (ignoring case)",
            "  [[]FAIL] starts-with 'x' (score 0.00)*",
            "  [[]FAIL] regex '^b' (score 0.00)*",
            "  [[]FAIL] is-json (score 0.00)*",
            "  [[]FAIL] equals 'unknown-type: alpha' (score 0.00)*",
            "  [[]PASS] equals 'alpha' (score 1.00)*",
        ]
    )


def test_csv_prefix_suffix_and_byte_order_mark(pytester, write_eval):
    (pytester.path / "tests.csv").write_text(
        "\ufeffname,__prefix,__suffix,__expected\nAda,[,],equals: [Hi Ada]\n", encoding="utf-8"
    )
    write_eval('prompts: ["Hi {{ name }}"]\nproviders: [echo]\ntests: file://tests.csv\n')
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*::name=Ada[[]Hi {{ name }}-echo[]] PASSED*"])


# -- providers, options and other top-level keys -------------------------------------------


def test_provider_prompts_filter(pytester, write_eval):
    write(pytester, "extra.txt", "From a file {{ x }}")
    write_eval(
        """
        prompts:
          - {id: short, raw: "Hi {{ x }}"}
          - {id: long, label: Long form, raw: "Hello there {{ x }}"}
          - file://extra.txt
        providers:
          - echo
          - {id: echo, label: only-short, prompts: [short]}
          - {id: echo, label: by-label, prompts: [Long form, extra.txt]}
        tests:
          - vars: {x: y}
        """
    )
    result = pytester.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "suite.eval.yaml::x=y[[]short-echo[]]",
            "suite.eval.yaml::x=y[[]short-only-short[]]",
            "suite.eval.yaml::x=y[[]Long form-echo[]]",
            "suite.eval.yaml::x=y[[]Long form-by-label[]]",
            "suite.eval.yaml::x=y[[]extra.txt-echo[]]",
            "suite.eval.yaml::x=y[[]extra.txt-by-label[]]",
            "6 tests collected*",
        ]
    )


def test_prefix_and_suffix(pytester, write_eval):
    write_eval(
        """
        prompts: ["Hi {{ name }}"]
        providers: [echo]
        defaultTest:
          options: {prefix: "SYSTEM: "}
        tests:
          - description: default prefix
            vars: {name: Ada}
            assert: [{type: equals, value: "SYSTEM: Hi Ada"}]
          - description: own prefix and suffix
            vars: {name: Ada}
            options: {prefix: ">> ", suffix: " <<"}
            assert: [{type: equals, value: ">> Hi Ada <<"}]
          - description: suffix only keeps default prefix
            vars: {name: Ada}
            options: {suffix: "?"}
            assert: [{type: equals, value: "SYSTEM: Hi Ada?"}]
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=3)


def test_env_description_and_ignored_promptfoo_keys_are_accepted(pytester, write_eval):
    write_eval(
        """
        description: Everything promptfoo accepts at the top level
        env:
          SOME_TOKEN: abc
          RETRIES: 3
          VERBOSE: true
        outputPath: [results.json, results.html]
        sharing: false
        evaluateOptions: {maxConcurrency: 4}
        commandLineOptions: {verbose: true}
        tags: {team: search}
        writeLatestResults: false
        prompts: ["Hi {{ name }}"]
        providers:
          - id: echo
            label: echo-labelled
            config: {temperature: 0}
            delay: 10
        tests:
          - description: runs
            vars: {name: Ada}
            metadata: {owner: me}
            assert: [{type: contains, value: Ada}]
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*::runs[[]Hi {{ name }}-echo-labelled[]] PASSED*"])
    assert not (pytester.path / "results.json").exists()


def test_single_string_prompts_and_providers(pytester, write_eval):
    write(pytester, "p.txt", "Hello {{ name }}")
    write_eval(
        """
        prompts: file://p.txt
        providers: echo
        tests:
          - vars: {name: Ada}
            assert: [{type: equals, value: Hello Ada}]
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_promptfoo_assertions_we_lack_are_named_not_compared(pytester, write_eval):
    (pytester.path / "cases.csv").write_text("q,__expected\nhi,ruby: output.size > 1\n")
    write_eval('prompts: ["{{ q }}"]\nproviders: [echo]\ntests: file://cases.csv\n')
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["cases.csv:2: row 1, column '__expected': promptfoo's assertion type 'ruby' is not "
                                 "supported: it runs Ruby code; write the check as a python assertion"])
