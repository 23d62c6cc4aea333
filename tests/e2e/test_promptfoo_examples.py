"""Configs shaped like promptfoo's own ``examples/`` folder run and reach promptfoo 0.123.1's verdicts."""

from __future__ import annotations

from helpers import assert_no_traceback


def test_a_python_assertion_file_reads_its_own_config_from_the_context(pytester, write_eval):
    """examples/python-assert: ``context["config"]`` is the assertion's ``config`` (and the context
    has the test and provider, as a javascript assertion's has)."""
    (pytester.path / "assert_with_config.py").write_text(
        "def get_assert(output, context):\n"
        "    fruits = context.get('config', {}).get('fruitList', [])\n"
        "    assert context['test']['vars'] == context['vars'] and context['provider']['id'] == 'echo'\n"
        "    return any(fruit in output.lower() for fruit in fruits)\n")
    write_eval(
        "prompts: ['Tell me about {{topic}} in three words']\nproviders: [echo]\ntests:\n"
        "  - vars: {topic: 'fruits such as passion fruit and banana'}\n"
        "    assert:\n"
        "      - {type: python, value: 'file://assert_with_config.py', config: {fruitList: [guava, banana]}}\n"
        "  - vars: {topic: apples}\n"
        "    assert:\n"
        "      - {type: python, value: 'file://assert_with_config.py', config: {fruitList: [guava]}}\n"
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    assert_no_traceback(result)
