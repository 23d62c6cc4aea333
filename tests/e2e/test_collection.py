"""Which files are collected, how cases expand and how items are named."""

from __future__ import annotations

import pytest

ECHO_SUITE = """
    prompts:
      - "Hello {{ name }}"
    providers: [echo]
    tests:
      - description: greets
        vars: {name: Ada}
        assert:
          - type: contains
            value: Ada
"""


@pytest.mark.parametrize("name", ["promptfooconfig.yaml", "x.eval.yaml", "x.eval.yml", "eval_x.yaml"])
def test_default_patterns_are_collected(pytester, write_eval, name):
    write_eval(ECHO_SUITE, name)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)


def test_other_yaml_files_are_left_alone(pytester, write_eval):
    write_eval(ECHO_SUITE, "config.yaml")
    write_eval("a: [unclosed\n", "docker-compose.yml")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_explicitly_named_yaml_is_collected_when_it_looks_like_an_eval(pytester, write_eval):
    write_eval(ECHO_SUITE, "suite.yaml")
    write_eval("name: not an eval\n", "other.yaml")
    pytester.runpytest("suite.yaml").assert_outcomes(passed=1)
    # pytest's own answer for a named file that no plugin collects.
    result = pytester.runpytest("other.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*not found*other.yaml*"])


def test_ini_key_changes_patterns(pytester, write_eval):
    write_eval(ECHO_SUITE, "evals/greeting.yaml")
    pytester.makeini("[pytest]\nreplicate_eval_files = evals/*.yaml\n")
    pytester.runpytest().assert_outcomes(passed=1)


def test_item_names_and_k_selection(pytester, write_eval):
    write_eval(
        """
        prompts:
          - id: short
            raw: "Hi {{ name }}"
          - "Hello {{ name }}, how are you?"
        providers:
          - echo
          - id: echo
            label: echo-2
        tests:
          - description: greets
            vars: {name: Ada}
          - vars: {name: Bob}
        """
    )
    result = pytester.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "suite.eval.yaml::greets[[]short-echo[]]",
            "suite.eval.yaml::greets[[]short-echo-2[]]",
            "suite.eval.yaml::greets[[]Hello {{ name }}, how are you?-echo[]]",
            "suite.eval.yaml::name=Bob[[]short-echo[]]",
            "*8 tests collected*",
        ]
    )
    pytester.runpytest("-k", "greets and short").assert_outcomes(passed=2)


def test_names_are_stable_when_a_case_is_inserted(pytester, write_eval):
    body = 'prompts: ["{{ q }}"]\nproviders: [echo]\ntests:\n'
    case_a = "      - description: first\n        vars: {q: a}\n"
    case_b = "      - vars: {q: b}\n"
    case_c = "      - description: first\n        vars: {q: c}\n"
    write_eval(body + case_a + case_b)
    before = pytester.runpytest("--collect-only", "-q").stdout.lines
    write_eval(body + case_c + case_a + case_b)
    after = pytester.runpytest("--collect-only", "-q").stdout.lines
    assert "suite.eval.yaml::q=b[{{ q }}-echo]" in before
    assert "suite.eval.yaml::q=b[{{ q }}-echo]" in after
    # Two cases with the same description are told apart by their content, not position.
    duplicates = [line for line in after if line.startswith("suite.eval.yaml::first #")]
    assert len(duplicates) == 2


def test_list_vars_expand_as_cartesian_product(pytester, write_eval):
    write_eval(
        """
        prompts: ["{{ greeting }} {{ name }}"]
        providers: [echo]
        tests:
          - description: combos
            vars:
              greeting: [Hi, Hello]
              name: [Ada, Bob, Cy]
            assert:
              - type: contains
                value: "{{ greeting }} {{ name }}"
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["*combos (greeting=Hello, name=Cy)*PASSED*"])


def test_default_test_is_merged_into_every_case(pytester, write_eval):
    write_eval(
        """
        prompts: ["{{ greeting }} {{ name }}"]
        providers: [echo]
        defaultTest:
          vars: {greeting: Hi, name: Nobody}
          assert:
            - type: starts-with
              value: Hi
          metadata: {team: core}
        tests:
          - vars: {name: Ada}
            assert:
              - type: contains
                value: Ada
          - vars: {name: Bob, greeting: Yo}
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*output does not start with 'Hi'*"])


def test_no_tests_runs_each_prompt_once(pytester, write_eval):
    write_eval('prompts: ["static prompt"]\nproviders: [echo]\n')
    pytester.runpytest().assert_outcomes(passed=1)


def test_pytest_selection_options_work(pytester, write_eval):
    write_eval(
        """
        prompts: ["{{ x }}"]
        providers: [echo]
        tests:
          - vars: {x: a}
            assert: [{type: equals, value: b}]
          - vars: {x: c}
            assert: [{type: equals, value: c}]
        """
    )
    first = pytester.runpytest("-x")
    first.assert_outcomes(failed=1)
    assert first.ret == pytest.ExitCode.TESTS_FAILED
    pytester.runpytest().assert_outcomes(failed=1, passed=1)
    pytester.runpytest("--lf").assert_outcomes(failed=1)


def test_entry_point_is_registered(pytester, write_eval, monkeypatch):
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    monkeypatch.delenv("PYTEST_ADDOPTS")
    write_eval(ECHO_SUITE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_cassettes_are_never_collected(pytester, write_eval):
    write_eval(ECHO_SUITE.replace("description: greets", "description: eval_basic"))
    cassette = pytester.path / "cassettes" / "suite.eval" / "eval_basic.yaml"
    cassette.parent.mkdir(parents=True)
    cassette.write_text("interactions:\n- request: {}\n  response: {}\nversion: 1\n")
    pytester.runpytest().assert_outcomes(passed=1)


def test_pytest_does_not_walk_folders_of_cassettes_only(pytester, write_eval):
    """A folder of our cassettes (and files saved beside them) is skipped whole; one that holds
    anything else is walked as before, and a folder named on the command line always is."""
    write_eval(ECHO_SUITE)
    cassettes = pytester.path / "cassettes" / "suite.eval"
    cassettes.mkdir(parents=True)
    (cassettes / "greets.0123abcd.yaml").write_text("interactions: []\nversion: 1\n")
    (cassettes / "greets.0123abcd.output-1.png").write_bytes(b"png")
    (pytester.path / "conftest.py").write_text(
        "def pytest_collect_file(file_path, parent):\n"
        "    print('offered', file_path.name)\n")
    result = pytester.runpytest("-s")
    result.assert_outcomes(passed=1)
    assert "offered greets" not in result.stdout.str()
    result = pytester.runpytest("-s", "cassettes/suite.eval", "suite.eval.yaml")
    assert "offered greets.0123abcd.yaml" in result.stdout.str()

    (cassettes / "test_here.py").write_text("def test_here():\n    pass\n")
    pytester.runpytest().assert_outcomes(passed=2)


def test_short_summary_shows_the_headline_only(pytester, write_eval, monkeypatch):
    monkeypatch.setenv("CI", "true")  # pytest prints summary messages untruncated on CI
    write_eval('prompts: ["{{ x }}"]\nproviders: [echo]\ntests:\n  - vars: {x: a}\n    assert: [{type: equals, value: b}]\n')
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["FAILED suite.eval.yaml::x=a[[]{{ x }}-echo[]] - output 'a' does not equal 'b'"])
    summary = result.stdout.str().split("short test summary info")[1]
    assert "provider: echo" not in summary


def test_collected_objects_are_frozen_for_the_session_and_thawed_after(pytester, write_eval):
    """An eval file's collection freezes what it built (the collector skips it for the session);
    the session's end gives it back, so an in-process run leaves nothing frozen."""
    import gc

    write_eval(ECHO_SUITE)
    pytester.makeconftest("""
        import gc

        def pytest_collection_finish(session):
            print(f"frozen during the session: {gc.get_freeze_count() > 0}")
    """)
    assert gc.get_freeze_count() == 0
    result = pytester.runpytest_inprocess("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*frozen during the session: True*"])
    assert gc.get_freeze_count() == 0


def test_a_second_run_reads_the_parsed_file_from_pytests_cache(pytester, write_eval):
    write_eval(ECHO_SUITE)
    first = pytester.runpytest("--collect-only", "-q").stdout.lines
    entries = list((pytester.path / ".pytest_cache" / "d" / "replicate-parsed").iterdir())
    assert len(entries) == 1
    assert pytester.runpytest("--collect-only", "-q").stdout.lines[:1] == first[:1]
    pytester.runpytest().assert_outcomes(passed=1)
    write_eval(ECHO_SUITE.replace("vars: {name: Ada}", "vars: {name: Grace}"))  # parsed again, its entry replaced
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Hello Grace*"])
    assert [entry.name for entry in entries[0].parent.iterdir()] == [entries[0].name]


def test_without_pytests_cache_nothing_is_kept(pytester, write_eval):
    write_eval(ECHO_SUITE)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    assert not (pytester.path / ".pytest_cache").exists()
