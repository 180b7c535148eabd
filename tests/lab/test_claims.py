"""Claims: conditions over dotted metric names, pass/fail with the measured values."""

from __future__ import annotations

import pytest

from quizgen.lab.claims import Claim, flatten

METRICS = {
    "chance_accuracy": 0.05,
    "moderate": {"recall": 0.95, "relative_drift": 0.04, "loop": "quizgen.lab.train.train",
                 "drift_per_layer": {"layer_0": 0.03}, "loss_curve": [2.0, 1.0]},
    "aggressive": {"recall": 0.2, "relative_drift": 0.5, "loop": "quizgen.lab.train.train"},
}


def test_dotted_names_address_nested_metrics():
    flat = flatten(METRICS)
    assert flat["moderate.recall"] == 0.95
    assert flat["moderate.drift_per_layer.layer_0"] == 0.03
    assert "moderate.loss_curve" not in flat  # a curve is not a number


def test_claim_passes_and_reports_every_value_it_read():
    claim = Claim("aggressive-forgets", "forgets", "aggressive.recall <= 0.4", "moderate.recall >= 0.85")
    result = claim.evaluate(METRICS)
    assert result.passed
    assert result.values == {"aggressive.recall": 0.2, "moderate.recall": 0.95}
    assert [held for _, held in result.conditions] == [True, True]


def test_claim_fails_when_one_condition_fails():
    claim = Claim("c", "d", "aggressive.recall <= 0.1", "moderate.recall >= 0.85")
    result = claim.evaluate(METRICS)
    assert not result.passed
    assert result.conditions == [("aggressive.recall <= 0.1", False), ("moderate.recall >= 0.85", True)]


def test_scaled_comparison_between_two_metrics():
    assert Claim("c", "d", "aggressive.relative_drift >= 5 * moderate.relative_drift").evaluate(METRICS).passed
    assert not Claim("c", "d", "aggressive.relative_drift >= 20 * moderate.relative_drift").evaluate(METRICS).passed
    assert Claim("c", "d", "moderate.recall <= 20 * chance_accuracy").evaluate(METRICS).passed
    assert not Claim("c", "d", "moderate.recall <= 2 * chance_accuracy").evaluate(METRICS).passed


def test_strict_and_scientific_thresholds():
    assert Claim("c", "d", "moderate.relative_drift < 0.05").evaluate(METRICS).passed
    assert not Claim("c", "d", "moderate.relative_drift > 4e-2").evaluate(METRICS).passed
    assert Claim("c", "d", "moderate.relative_drift <= 4e-2").evaluate(METRICS).passed


def test_text_is_compared_for_equality_only():
    assert Claim("same-loop", "d", "moderate.loop == aggressive.loop").evaluate(METRICS).passed
    different = METRICS | {"aggressive": METRICS["aggressive"] | {"loop": "somewhere.else"}}
    assert not Claim("same-loop", "d", "moderate.loop == aggressive.loop").evaluate(different).passed
    assert not Claim("c", "d", "moderate.loop >= aggressive.loop").evaluate(METRICS).passed


def test_a_metric_that_was_not_measured_fails_the_claim_and_says_so():
    result = Claim("c", "d", "random_init.recall <= 0.1").evaluate(METRICS)
    assert not result.passed
    assert result.values == {"random_init.recall": None}


def test_nan_never_passes():
    assert not Claim("c", "d", "x.y <= 1").evaluate({"x": {"y": float("nan")}}).passed


@pytest.mark.parametrize("text", ["moderate.recall", "moderate.recall => 0.8", "0.8 <= moderate.recall",
                                  "moderate.recall >= 0.8.5", "moderate recall >= 0.8", "moderate.recall >= 2 * 3 * x"])
def test_unreadable_conditions_are_refused_when_the_lab_is_written(text):
    with pytest.raises(ValueError, match="cannot read the condition"):
        Claim("c", "d", text)


def test_a_claim_needs_a_condition():
    with pytest.raises(ValueError, match="no condition"):
        Claim("c", "d")


@pytest.mark.parametrize("text, margin, bound", [
    ("moderate.recall >= 0.85", 0.95 - 0.85, 0.85),
    ("aggressive.recall <= 0.4", 0.4 - 0.2, 0.4),
    ("aggressive.relative_drift >= 5 * moderate.relative_drift", 0.5 - 5 * 0.04, 5 * 0.04),
    ("aggressive.recall > moderate.recall", 0.2 - 0.95, 0.95),  # fails: the margin is negative
    ("moderate.loop == aggressive.loop", None, None),
])
def test_a_condition_says_how_far_it_is_from_failing(text, margin, bound):
    claim = Claim("c", "d", text)
    values = claim.evaluate(METRICS).values
    condition = claim.conditions[0]
    assert condition.margin(values) == (pytest.approx(margin) if margin is not None else None)
    assert condition.bound(values) == (pytest.approx(bound) if bound is not None else None)
    assert condition.margin({}) is None  # not measured
