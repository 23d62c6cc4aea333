"""User code in eval files (transforms, python assertions) fails only its own item, whatever it does."""

from __future__ import annotations

from helpers import assert_no_traceback


def test_sys_exit_in_a_python_assertion_fails_only_that_item(pytester, write_eval):
    write_eval(
        "prompts: ['{{ x }}']\nproviders: [echo]\ntests:\n"
        "  - vars: {x: a}\n    assert: [{type: python, value: 'import sys; sys.exit(3)'}]\n"
        "  - vars: {x: b}\n    assert: [{type: equals, value: b}]\n"
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*python assertion 'import sys; sys.exit(3)' raised SystemExit: 3*"])
    assert_no_traceback(result)


def test_sys_exit_when_a_transform_module_is_imported_is_a_collection_error(pytester, write_eval):
    (pytester.path / "shape.py").write_text("import sys\nsys.exit('bye')\n\ndef get_transform(output, context):\n"
                                            "    return output\n")
    write_eval("prompts: ['hi']\nproviders: [{id: echo, transform: 'file://shape.py'}]\ntests: [{}]\n")
    write_eval("prompts: ['hi']\nproviders: [echo]\ntests: [{}]\n", "other.eval.yaml")
    result = pytester.runpytest("--continue-on-collection-errors")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*importing shape.py raised SystemExit: bye*"])
    assert_no_traceback(result)
