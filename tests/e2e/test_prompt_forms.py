"""Every prompt form promptfoo 0.123.1 reads, run through the echo provider (whose output is the prompt)."""

from __future__ import annotations

import json

from helpers import assert_no_traceback, write


def _prompts(pytester) -> dict[str, str]:
    """Each case's prompt label -> the prompt it sent, from the JSON report."""
    report = json.loads((pytester.path / "r.json").read_text())
    return {case["prompt_label"]: case["prompt"] for case in report["files"][0]["cases"]}


def test_prompt_files_by_extension(pytester, write_eval):
    write(pytester, "p.txt", "Text {{ x }}\n")
    write(pytester, "notes.md", "# Title\n\nMarkdown {{ x }}\n---\nkept whole\n")
    write(pytester, "t.j2", "Jinja {{ x }}")
    write(pytester, "chat.json", '[{"role": "user", "content": "Json {{ x }}"}]')
    write(pytester, "chat.yaml", "- role: user\n  content: Yaml {{ x }}\n")
    write(pytester, "lines.jsonl", '"first {{ x }}"\n"second {{ x }}"\n')
    write_eval(
        """
        prompts:
          - id: file://p.txt
            label: from-id
          - file://notes.md
          - t.j2
          - file://chat.json
          - file://chat.yaml
          - file://lines.jsonl
        providers: [echo]
        tests:
          - vars: {x: X}
        """
    )
    result = pytester.runpytest("--replicate-json=r.json")
    result.assert_outcomes(passed=7)
    sent = _prompts(pytester)
    assert sent["from-id"] == "Text X"
    assert sent["notes.md"] == "# Title\n\nMarkdown X\n---\nkept whole\n"
    assert sent["t.j2"] == "Jinja X"
    assert json.loads(sent["chat.json"]) == [{"role": "user", "content": "Json X"}]
    assert sent["chat.json"].startswith('[\n  {\n    "role"')  # re-serialised with two spaces, as promptfoo sends it
    assert json.loads(sent["chat.yaml"]) == [{"role": "user", "content": "Yaml X"}]
    assert sent["lines.jsonl#1"] == '"first X"' and sent["lines.jsonl#2"] == '"second X"'


def test_bare_paths_globs_and_label_maps(pytester, write_eval):
    write(pytester, "prompts/a.txt", "A {{ x }}")
    write(pytester, "prompts/b.txt", "B {{ x }}")
    write_eval(
        """
        prompts:
          prompts/*.txt: many
          "Is this true/false? {{ x }}": literal
        providers: [echo]
        tests:
          - vars: {x: X}
        """
    )
    result = pytester.runpytest("--replicate-json=r.json")
    result.assert_outcomes(passed=3)
    sent = _prompts(pytester)
    # a path-looking string that names no file stays the prompt's text
    assert sent == {"prompts/a.txt": "A X", "prompts/b.txt": "B X", "literal": "Is this true/false? X"}


def test_prompt_functions_get_vars_and_provider_and_may_return_config(pytester, write_eval):
    write(
        pytester,
        "prompts.py",
        """
        def text(context):
            return f"For {context['vars']['x']} via {context['provider']['id']} {{{{ x }}}}"

        def chat(context):
            return [{"role": "user", "content": "chat {{ x }}"}]

        def configured(context):
            return {"prompt": "cfg " + str(context["config"].get("tone")), "config": {"max_tokens": 5}}

        def broken(context):
            raise RuntimeError("no prompt today")
        """,
    )
    write_eval(
        """
        prompts:
          - file://prompts.py:text
          - file://prompts.py:chat
          - {raw: "file://prompts.py:configured", label: cfg, config: {tone: dry}}
          - file://prompts.py:broken
        providers: [echo]
        tests:
          - vars: {x: X}
        """
    )
    result = pytester.runpytest("--replicate-json=r.json", "-rA")
    result.assert_outcomes(passed=3, failed=1)
    sent = _prompts(pytester)
    assert sent["prompts.py:text"] == "For X via echo X"
    assert json.loads(sent["prompts.py:chat"]) == [{"role": "user", "content": "chat X"}]
    assert sent["cfg"] == "cfg dry"
    result.stdout.fnmatch_lines(["*prompt function 'prompts.py:broken' raised RuntimeError: no prompt today*"])
    assert_no_traceback(result)


def test_a_missing_prompt_file_is_a_file_error(pytester, write_eval):
    write_eval(
        """
        prompts: [file://missing.txt]
        providers: [echo]
        """
    )
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["*suite.eval.yaml:2: prompts[[]0[]]: file not found: 'file://missing.txt'*"])
    assert_no_traceback(result)
