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


def test_a_scoring_function_is_not_called_for_a_test_without_assertions(pytester, write_eval):
    """examples/assertion-scoring-override: promptfoo passes a test with no assertions ("No
    assertions") without calling its ``assertScoringFunction``; one with assertions gets it."""
    (pytester.path / "override.py").write_text(
        "def calculate_score(named_scores, context=None):\n"
        "    accuracy = named_scores.get('accuracy')\n"
        "    return {'pass': accuracy >= context['threshold'], 'score': accuracy, 'reason': 'accuracy only'}\n")
    write_eval(
        "prompts: ['Translate to {{language}}: {{text}}']\nproviders: [echo]\n"
        "defaultTest: {assertScoringFunction: 'file://./override.py:calculate_score', threshold: 0.5}\ntests:\n"
        "  - description: no assertions\n    vars: {language: French, text: Hello}\n"
        "  - description: graded\n    vars: {language: German, text: Hello}\n"
        "    assert: [{type: contains, value: Hello, metric: accuracy}]\n"
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=2)
    assert_no_traceback(result)


def test_a_python_prompt_function_may_be_a_static_method_of_a_class(pytester, write_eval):
    """examples/custom-prompt-function: ``file://prompt_python.py:Prompt.prompt`` names a static
    method, as promptfoo's Python wrapper resolves it."""
    (pytester.path / "prompt_python.py").write_text(
        "class Prompt:\n"
        "    @staticmethod\n"
        "    def prompt(context):\n"
        "        return f\"Tell me about {context['vars']['topic']}\"\n")
    write_eval(
        "prompts:\n  - {id: 'file://prompt_python.py:Prompt.prompt', label: prompt_python_class}\n"
        "providers: [echo]\ntests:\n  - vars: {topic: bananas}\n    assert: [{type: equals, value: Tell me about bananas}]\n"
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert_no_traceback(result)


def test_a_missing_method_of_a_python_class_names_it(pytester, write_eval):
    (pytester.path / "prompt_python.py").write_text("class Prompt:\n    pass\n")
    write_eval("prompts: ['file://prompt_python.py:Prompt.missing']\nproviders: [echo]\ntests: [{}]\n")
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*prompt_python.py has no function 'Prompt.missing'*"])
    assert_no_traceback(result)


def test_csv_tests_with_config_metric_and_list_metadata_columns(pytester, write_eval):
    """examples/csv-metadata: ``__config:__expectedN:threshold`` sets the threshold of the row's
    Nth assertion (empty cells not counted), ``__metric`` names every assertion's metric and
    ``__metadata:KEY[]`` is a list; promptfoo 0.123.1 reads all three."""
    (pytester.path / "tests.csv").write_text(
        "topic,__expected1,__expected2,__metric,__metadata:tags[],__config:__expected:threshold,"
        "__config:__expected2:threshold\n"
        "the cat sat,rouge-n: the cat sat on the mat,,overlap,\"ai,data\\,science\",0.4,0.9\n"
        "the cat sat,rouge-n: the cat sat on the mat,,overlap,,0.9,0.1\n")
    write_eval("prompts: ['{{topic}}']\nproviders: [echo]\ntests: file://tests.csv\n")
    result = pytester.runpytest("--replicate-json=out.json")
    result.assert_outcomes(passed=1, failed=1)
    report = (pytester.path / "out.json").read_text()
    assert '"overlap"' in report
    assert_no_traceback(result)


def test_a_csv_config_column_for_another_setting_is_refused(pytester, write_eval):
    (pytester.path / "tests.csv").write_text("topic,__expected,__config:__expected:weight\nx,contains: x,2\n")
    write_eval("prompts: ['{{topic}}']\nproviders: [echo]\ntests: file://tests.csv\n")
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["*__config:__expected:weight*a __config column sets one assertion's threshold*"])
    assert result.ret != 0
    assert_no_traceback(result)


def test_keys_promptfoo_ignores_in_its_own_examples_are_accepted(pytester, write_eval):
    """examples/cerebras (top-level ``outputs``), examples/anthropic/web-tools (an assertion's
    ``reason``) and examples/google-adk-example (``options.delay``): promptfoo runs them, ignoring
    those keys, and so do we."""
    write_eval(
        "prompts: ['Explain {{topic}}']\nproviders: [echo]\n"
        "defaultTest: {options: {delay: 1000}}\n"
        "tests:\n  - vars: {topic: tides}\n"
        "    assert: [{type: contains, value: tides, reason: the answer names the topic}]\n"
        "outputs:\n  - {type: csv, path: results.csv}\n"
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert_no_traceback(result)


def test_a_test_in_a_tests_file_reads_its_vars_from_a_bare_path_glob(pytester, write_eval):
    """examples/separate-test-configs: ``vars: ../vars/vars_*.yaml`` in tests/tests2.yaml is a glob
    of vars files, relative to the tests file, merged (promptfoo's readTestFiles)."""
    (pytester.path / "vars").mkdir()
    (pytester.path / "vars" / "vars_extra.yaml").write_text("topic: bananas\n")
    (pytester.path / "vars" / "vars_more.yaml").write_text("content_type: musings\n")
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "tests2.yaml").write_text(
        "- vars: ../vars/vars_*.yaml\n  assert: [{type: equals, value: musings about bananas}]\n")
    write_eval("prompts: ['{{content_type}} about {{topic}}']\nproviders: [echo]\ntests: file://tests/tests2.yaml\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert_no_traceback(result)


def test_the_conversation_var_holds_the_earlier_turns_of_a_thread(pytester, write_eval):
    """examples/multiple-turn-conversation: a prompt using ``_conversation`` sees the earlier cases'
    turns for its provider, prompt and ``metadata.conversationId``, in test order; the file's cases
    run in order even with concurrency, and ``completion.prompt.length`` reads as in Nunjucks."""
    (pytester.path / "prompt.json").write_text(
        '[{"role": "system", "content": "{{ system_message }}"},\n'
        '{% for completion in _conversation %}'
        '{"role": "user", "content": "{{ completion.prompt[completion.prompt.length - 1].content }}"},'
        '{"role": "assistant", "content": "{{ completion.output | length }} chars"},'
        '{% endfor %}\n'
        '{"role": "user", "content": "{{ question }}"}]\n')
    write_eval(
        "prompts: [{id: 'file://prompt.json', label: multi-turn-conversation}]\nproviders: [echo]\n"
        "defaultTest: {vars: {system_message: Be brief}}\ntests:\n"
        "  - vars: {question: Who founded Facebook?}\n    metadata: {conversationId: facebook}\n"
        "  - vars: {question: Umbrella?}\n    metadata: {conversationId: weather}\n"
        "    assert: [{type: javascript, value: 'JSON.parse(output).length === 2'}]\n"
        "  - vars: {question: Where does he live?}\n    metadata: {conversationId: facebook}\n"
        "    assert:\n"
        "      - {type: javascript, value: 'JSON.parse(output).length === 4'}\n"
        "      - {type: contains, value: '\"content\": \"Who founded Facebook?\"'}\n"
        "      - {type: not-contains, value: Umbrella}\n"
    )
    result = pytester.runpytest("--replicate-concurrency=4")
    result.assert_outcomes(passed=3)
    assert_no_traceback(result)
