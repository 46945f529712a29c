"""rfm_segments.clv: fail soft, deterministic, sensible on data drawn from the BG/NBD process."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from rfm_segments.clv import PREDICTION_COLUMNS, fit_clv, fit_clv_apart, fit_to_frame
from rfm_segments.project_vars import FIT_CLV, arguments


def bgnbd_customers(n: int, seed: int = 3) -> pd.DataFrame:
    """BTYD summaries drawn from the BG/NBD story (r=0.8, alpha=40, a=0.8, b=2.5) over 1..365 days."""
    rng = np.random.default_rng(seed)
    rows = []
    for number in range(n):
        T = float(rng.integers(30, 366))
        rate = rng.gamma(0.8, 1 / 40)
        dropout = rng.beta(0.8, 2.5)
        t, last, purchases = 0.0, 0.0, 0
        while True:
            t += rng.exponential(1 / rate)
            if t > T:
                break
            purchases, last = purchases + 1, np.floor(t)
            if rng.random() < dropout:
                break
        spend = float(rng.gamma(4, 25)) if purchases else 0.0
        rows.append((f"c{number}", purchases, last, T, spend))
    return pd.DataFrame(rows, columns=["customer_id", "frequency", "recency", "T", "monetary_value"])


def test_too_few_repeat_buyers_fails_soft_with_null_predictions():
    one_timers = pd.DataFrame({"customer_id": ["a", "b", "c"], "frequency": [0, 0, 1],
                               "recency": [0, 0, 5], "T": [10, 20, 30], "monetary_value": [0.0, 0.0, 12.5]})
    fit = fit_clv(one_timers, **arguments(FIT_CLV, min_repeat_customers=2))
    assert fit.status == "failed"
    assert fit.reason == "too few repeat buyers: 1 < 2 (min_repeat_customers)"
    assert (fit.customers, fit.repeat_customers) == (3, 1)
    assert list(fit.predictions["customer_id"]) == ["a", "b", "c"]
    assert fit.predictions[PREDICTION_COLUMNS].isna().all().all()
    frame = fit_to_frame(fit)
    assert set(frame["fit_status"]) == {"failed"} and frame["param_a"].isna().all()


def test_an_exception_in_the_library_fails_soft(monkeypatch):
    from pymc_marketing.clv import BetaGeoModel

    def broken(self, *args, **kwargs):
        raise RuntimeError("optimizer exploded\nsecond line")

    monkeypatch.setattr(BetaGeoModel, "fit", broken)
    fit = fit_clv(bgnbd_customers(60), **arguments(FIT_CLV, min_repeat_customers=5))
    assert fit.status == "failed"
    assert fit.reason == "fit raised RuntimeError: optimizer exploded"
    assert len(fit.predictions) == 60 and fit.predictions[PREDICTION_COLUMNS].isna().all().all()


def test_a_missing_column_is_a_clear_error():
    with pytest.raises(ValueError, match="BTYD summary lacks columns: T"):
        fit_clv(pd.DataFrame({"customer_id": [], "frequency": [], "recency": [], "monetary_value": []}), **arguments(FIT_CLV))


@pytest.fixture(scope="module")
def synthetic():
    customers = bgnbd_customers(800)
    return customers, fit_clv(customers, **arguments(FIT_CLV)), fit_clv(customers, **arguments(FIT_CLV))


def test_the_fit_is_deterministic_and_one_row_per_customer(synthetic):
    customers, first, second = synthetic
    assert first.status == "fitted", first.reason
    assert list(first.predictions["customer_id"]) == list(customers["customer_id"])
    pd.testing.assert_frame_equal(first.predictions, second.predictions)
    assert first.parameters == second.parameters


def test_predictions_behave_as_the_model_says(synthetic):
    customers, fit, _ = synthetic
    p = fit.predictions.set_index("customer_id").join(customers.set_index("customer_id"))
    assert p["probability_alive"].between(0, 1).all()
    # one-time buyers cannot have dropped out in BG/NBD
    assert (p.loc[p["frequency"] == 0, "probability_alive"] == 1).all()
    # a repeat buyer silent for long is less likely alive than one with the same history who just bought
    assert p.loc[(p["frequency"] > 2) & (p["T"] - p["recency"] > 200), "probability_alive"].mean() < \
        p.loc[(p["frequency"] > 2) & (p["T"] - p["recency"] < 20), "probability_alive"].mean()
    np.testing.assert_allclose(p["expected_revenue"], p["expected_purchases"] * p["expected_order_value"])
    # discounted value over 12 months exceeds the 90-day revenue for every customer expected to buy
    assert (p["expected_lifetime_value"] > p["expected_revenue"]).all()
    # the fit recovers the purchase-rate shape it was drawn from within a loose band
    assert 0.4 < fit.parameters["r"] < 1.6 and 20 < fit.parameters["alpha"] < 80


def test_fits_apart_equal_the_fits_here(synthetic):
    """The dbt model fits in a child process (fit_clv_apart): the same fits, in order."""
    customers, here, _ = synthetic
    few = customers.iloc[:200]
    arguments_of = [dict(summary=customers, **arguments(FIT_CLV)),
                    dict(summary=few, **arguments(FIT_CLV, horizon_days=30, min_repeat_customers=10_000))]
    apart = fit_clv_apart(arguments_of)
    pd.testing.assert_frame_equal(apart[0].predictions, here.predictions)
    assert (apart[0].status, apart[0].parameters) == ("fitted", here.parameters)
    assert apart[1].status == "failed" and apart[1].reason.startswith("too few repeat buyers")
    assert list(apart[1].predictions["customer_id"]) == list(few["customer_id"])


def test_a_child_that_dies_fails_soft():
    customers = bgnbd_customers(5)
    (fit,) = fit_clv_apart([dict(summary=customers, **arguments(FIT_CLV), no_such_argument=1)])
    assert fit.status == "failed"
    assert fit.reason.startswith("fit process failed: TypeError") and "no_such_argument" in fit.reason
    assert len(fit.predictions) == 5 and fit.predictions[PREDICTION_COLUMNS].isna().all().all()


def test_only_the_fit_imports_pymc():
    """pymc takes seconds to import: the CLI, the report and every module a dbt Python model loads
    (rfm_segments.clv included) import without it; fit_clv imports it when it fits."""
    modules = ("cli", "clv", "report", "publish", "clustering_step", "history_dbt", "stability", "drift", "attribute_evidence")
    code = (f"import sys\nfor name in {modules!r}: __import__('rfm_segments.' + name)\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'pymc', 'pymc_marketing', 'pytensor', 'arviz'}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
