"""The run's live spend, its limit and the gate that applies it; estimates before calling."""

from __future__ import annotations

import pytest

from pytest_replicate.errors import SpendLimitReached
from pytest_replicate.providers.replicate.pricing import HOW_TO_PRICE, Prices
from pytest_replicate.results.stats import RunStats
from pytest_replicate.run.spend import RunSpend, Spent


def test_charges_add_up_and_unknown_costs_are_counted_apart():
    stats = RunStats()
    spend = RunSpend(stats)
    for cost in (0.25, None, 0.5):
        spend.charge(cost)
    assert spend.spent() == Spent(0.75, 3, 1)
    assert (stats.spent, stats.live_calls, stats.unpriced) == (0.75, 3, 1)
    assert spend.spent().describe() == "$0.75 on 3 live calls (1 of unknown cost)"
    assert spend.reached() is None  # no limit


def test_the_limit_is_reached_at_the_amount():
    spend = RunSpend(RunStats(), limit=0.5)
    spend.charge(0.25)
    assert spend.reached() is None
    spend.charge(0.25)
    assert spend.reached() == "replicate max cost $0.50 reached (spent $0.50 on 2 live calls)"


def test_calls_of_unknown_cost_do_not_reach_the_limit():
    spend = RunSpend(RunStats(), limit=0.01)
    spend.charge(None)
    assert spend.reached() is None


def test_a_gate_refuses_an_items_first_live_request_only():
    spend = RunSpend(RunStats(), limit=1.0)
    going = spend.gate()
    assert going is not None
    going()  # under the limit: the item goes live
    spend.charge(2.0)
    going()  # in flight: its later requests (polls, graders) pass
    assert going.refused is None
    late = spend.gate()
    assert late is not None
    with pytest.raises(SpendLimitReached, match=r"replicate max cost \$1.00 reached \(spent \$2.00 on 1 live call\)"):
        late()
    assert late.refused is not None and late.refused.startswith("replicate max cost $1.00 reached")


def test_no_gate_without_a_limit():
    assert RunSpend(RunStats()).gate() is None


def test_workers_share_the_spend_through_the_ledger(tmp_path):
    ledger = tmp_path / "spend.txt"
    first, second = (RunSpend(RunStats(), limit=1.0, ledger=ledger) for _ in range(2))
    first.charge(0.5)
    second.charge(None)
    second.charge(0.5)
    assert first.spent() == second.spent() == Spent(1.0, 3, 1)
    assert first.reached() is not None
    assert first.stats.live_calls == 1 and second.stats.live_calls == 2  # each worker's own, for the summary


# -- estimates ------------------------------------------------------------------------------------


def test_a_token_price_with_a_bounded_answer_gives_an_upper_bound():
    prices = Prices(per_input_token=0.001, per_output_token=0.002)
    cost, basis = prices.estimate("x" * 40, {"max_tokens": 100})
    assert cost == pytest.approx(10 * 0.001 + 100 * 0.002)
    assert basis == ("at most: the prompt's tokens (~4 characters each) x $0.001 + up to 100 output tokens "
                     "(max_tokens) x $0.002")


@pytest.mark.parametrize(("prices", "prompt", "parameters", "reason"), [
    (Prices(0.001, 0.002), "hello", {}, "unknown: billed by token, and the answer's length is unbounded"),
    (Prices(0.001, 0.002), None, {"max_new_tokens": 5}, "unknown: billed by token, and its prompt holds the output"),
    (Prices(per_second=0.001), "hello", {"max_new_tokens": 5}, "unknown: billed by run time (config.costPerSecond)"),
    (Prices(), "hello", {}, f"no price known: {HOW_TO_PRICE}"),
])
def test_what_cannot_be_estimated_says_why(prices, prompt, parameters, reason):
    cost, basis = prices.estimate(prompt, parameters)
    assert cost is None and basis.startswith(reason)
