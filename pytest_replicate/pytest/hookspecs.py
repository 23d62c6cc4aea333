"""Hooks pytest-replicate offers other plugins and a project's ``conftest.py``."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.hookspec
def pytest_replicate_case_result(config: pytest.Config, result: dict[str, Any]) -> None:
    """Called once per eval item whose test ran (not one skipped by a mark or stopped in its
    setup), in the main process (the controller under pytest-xdist), in collection order, as
    soon as the item and every one before it are over. Implement it with
    ``@pytest.hookimpl(optionalhook=True)`` so a run with the plugin disabled still works.

    ``result`` is plain JSON-ready data with every known token redacted:

    - ``nodeid``, ``outcome`` (pytest's: ``passed``, ``failed``, ``skipped``), ``passed``,
      ``min_pass_rate`` (the eval file's own bar, ``metadata.min_pass_rate``, or None);
    - ``name``, ``description``, ``test`` (where the test is written, ``file:line``), ``file``
      (the eval file), ``provider`` (its id), ``provider_label``, ``prompt_label``, ``vars``,
      ``prompt`` (as rendered and sent);
    - ``output`` (after transforms), ``image`` (``url``, ``media_type``, ``width``,
      ``height``, ``bytes``, and ``path``, the image saved beside the JSON or HTML report
      when one is asked for; or None), ``error`` (why the case could not be graded, or None);
    - ``score``, ``reason``, ``named_scores`` (metric -> score), ``assertions`` (each with
      ``type``, ``value``, ``passed``, ``score``, ``reason``, ``weight``, ``metric``,
      ``children``);
    - ``latency_ms`` (the provider call), ``duration`` (seconds, calls and grading),
      ``cost`` (dollars, None when unknown), ``prediction_id``;
    - ``cassette`` (its path), ``replayed``, ``recorded`` and ``missed`` (HTTP exchanges
      answered by the cassette, sent live, and refused for want of a recording), ``live``
      (any exchange went live);
    - ``repeat``: None, unless the case ran as repeated samples (``repeat`` in the eval file or
      ``--replicate-repeat``); then ``count`` (samples asked for), ``ran`` (samples that ran:
      fewer only when a call failed, and ``error`` says why), ``passed`` (samples that passed),
      ``reducer`` (``name``: ``all``, ``at_least``, ``mean`` or ``pass_at``; ``k`` for
      ``at_least`` and ``pass_at``, else None; ``threshold``, the figure ``mean`` and
      ``pass_at`` must reach, else None), ``mean_score`` (a sample that could not be graded
      scores 0), ``interval`` (``[low, high]``, the 95% Wilson interval of the pass rate) and
      ``flaky`` (some samples passed and some failed);
    - ``samples``: ``[]``, or for a repeated case each sample that ran, in order: ``index``
      (from 1), ``passed``, ``score``, ``reason``, ``output``, ``error``, ``assertions``,
      ``latency_ms``, ``cost``, ``prediction_id``, ``duration``.

    For a repeated case, ``passed``, ``score`` and ``reason`` are the reducer's (``score`` is the
    figure it judged: the pass rate for ``all`` and ``at_least``, the mean score for ``mean``,
    the pass@k estimate for ``pass_at``), ``named_scores`` are each metric's mean over the
    samples, ``cost`` is the samples' total (None if any is unknown) and ``duration`` their
    sum; ``prompt``, ``output``, ``image``, ``assertions``, ``latency_ms`` and ``prediction_id``
    are the first sample's.
    - ``drift``: None, except under ``--replicate-drift``, where the item was replayed from its
      cassette and called live, and every key above describes the live call (so ``cost`` is
      what was spent live, and ``outcome`` is the live verdict). Then ``drift`` holds
      ``output_changed`` (bool), ``verdict`` (``"pass→fail"``, ``"fail→pass"``, or None when it
      held), ``diff`` (a few lines, ``-`` replayed and ``+`` live, or None), ``replayed`` (its
      ``passed``, ``score``, ``output`` and ``error``; None when the item has no cassette, so
      nothing was compared) and ``updated`` (``--replicate-drift=update`` rewrote the cassette).
      ``pytest_replicate.report.drift.drift_lines(results)`` sums them up. Select-best items
      and repeated cases are not compared (their verdicts need their siblings' outputs, or
      every sample): ``drift`` is None.
    - ``skipped``: None, or why the case did not run: ``--replicate-max-cost`` was reached before
      its first live call, or ``--replicate-plan`` (``outcome`` is then ``skipped``);
    - ``plan``: None, except under ``--replicate-plan``: ``route`` (``live``, ``replay``,
      ``miss``, ``no token`` or ``free``), ``why``, and ``calls``, those it would make live, each
      with ``model`` (a provider id), ``role`` (``provider`` or ``grader``), ``calls``,
      ``at_least``, ``cost`` (estimated dollars, None when unknown) and ``basis``.

    Every eval item is gathered for reports too: ``results_of(config)`` in
    ``pytest_replicate.pytest.reporting`` holds them all at ``pytest_terminal_summary``.
    """
