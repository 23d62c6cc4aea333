"""Prices from a provider config, applied to a prediction's recorded metrics."""

from __future__ import annotations

import pytest

from pytest_replicate.errors import ConfigError
from pytest_replicate.providers.replicate.pricing import Prices

PREDICTION = {"metrics": {"predict_time": 2.5, "input_token_count": 100, "output_token_count": 40}}


def test_token_prices_win_when_the_prediction_counts_tokens() -> None:
    prices = Prices.from_config({"inputCost": 0.001, "outputCost": 0.002, "costPerSecond": 1.0})
    cost, basis = prices.bill(PREDICTION)
    assert cost == pytest.approx(100 * 0.001 + 40 * 0.002)
    assert basis == "100 input tokens x $0.001 + 40 output tokens x $0.002"


def test_time_price_applies_without_token_counts() -> None:
    prices = Prices.from_config({"inputCost": 0.001, "outputCost": 0.002, "costPerSecond": 0.0014})
    cost, basis = prices.bill({"metrics": {"predict_time": 2.5}})
    assert cost == pytest.approx(0.0035)
    assert basis == "predict_time 2.5 s x $0.0014/s"


def test_cost_is_promptfoos_price_for_both_directions() -> None:
    cost, _ = Prices.from_config({"cost": 0.01}).bill(PREDICTION)
    assert cost == pytest.approx(1.4)


@pytest.mark.parametrize("config, prediction, why", [
    ({}, PREDICTION, "no price is configured: set config.costPerSecond"),
    ({"costPerSecond": 0.01}, {"metrics": {}}, "the prediction reports no metrics.predict_time"),
    ({"cost": 0.01}, {"metrics": {"predict_time": 1}}, "the prediction reports no input/output token counts"),
])
def test_unknown_cost_says_why(config, prediction, why) -> None:
    cost, basis = Prices.from_config(config).bill(prediction)
    assert cost is None and basis.startswith(why)


@pytest.mark.parametrize("config", [{"costPerSecond": -1}, {"cost": "cheap"}, {"cost": True}, {"outputCost": 0.1}])
def test_bad_prices_are_config_errors(config) -> None:
    with pytest.raises(ConfigError):
        Prices.from_config(config)
