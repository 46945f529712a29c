"""Expected value and churn risk per customer: BG/NBD + Gamma-Gamma (pymc-marketing), MAP fit.

Input is the BTYD summary computed in SQL (one row per customer, time in days):
- frequency: repeat purchase days (distinct purchase days minus one),
- recency: days from the first to the last purchase day (NOT the project's recency_days, which
  counts from the last purchase to the as-of date),
- T: days from the first purchase day to the observation end (the customer's age),
- monetary_value: mean spend per repeat purchase day (0 without repeats).

Fails soft: whatever goes wrong (too few repeat buyers, a non-finite fit, an exception) gives
null predictions and a status naming the reason, never an exception.
"""
from __future__ import annotations

import logging
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

import numpy as np
import pandas as pd

SUMMARY_COLUMNS = ["customer_id", "frequency", "recency", "T", "monetary_value"]
PREDICTION_COLUMNS = [
    "probability_alive",
    "expected_purchases",
    "expected_order_value",
    "expected_revenue",
    "expected_lifetime_value",
]


@dataclass(frozen=True)
class ClvFit:
    """Outcome of one fit: predictions (one row per input customer) and what happened."""

    predictions: pd.DataFrame
    status: str  # 'fitted' or 'failed'
    reason: str | None
    customers: int
    repeat_customers: int
    parameters: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


def _empty_predictions(summary: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({"customer_id": summary["customer_id"].to_numpy()})
    for column in PREDICTION_COLUMNS:
        out[column] = np.full(len(out), np.nan)
    return out


def _point(values) -> np.ndarray:
    """A MAP fit has one chain and one draw: the point estimate per customer."""
    if "chain" in values.dims:
        values = values.mean(("chain", "draw"))
    return np.asarray(values.values, dtype=float)


def fit_clv(
    summary: pd.DataFrame,
    *,
    horizon_days: int,
    lifetime_months: int,
    monthly_discount_rate: float,
    min_repeat_customers: int,
    seed: int,
) -> ClvFit:
    """Fits BG/NBD on all customers and Gamma-Gamma on repeat buyers; predicts per customer.

    expected_purchases: repeat purchase days expected in the next horizon_days;
    expected_order_value: Gamma-Gamma spend per purchase day (population mean for one-time buyers);
    expected_revenue: their product (undiscounted);
    expected_lifetime_value: discounted value over lifetime_months (months of 30 days).
    """
    started = time.perf_counter()
    missing = [c for c in SUMMARY_COLUMNS if c not in summary.columns]
    if missing:
        raise ValueError(f"BTYD summary lacks columns: {', '.join(missing)}")
    data = summary[SUMMARY_COLUMNS].copy()
    for column in SUMMARY_COLUMNS[1:]:
        data[column] = data[column].astype(float)
    customers = len(data)
    repeat = data[(data["frequency"] > 0) & (data["monetary_value"] > 0)]

    def failed(reason: str, parameters: dict[str, float] | None = None) -> ClvFit:
        return ClvFit(
            _empty_predictions(data), "failed", reason, customers, len(repeat),
            parameters or {}, time.perf_counter() - started,
        )

    if len(repeat) < min_repeat_customers:
        return failed(
            f"too few repeat buyers: {len(repeat)} < {min_repeat_customers} (min_repeat_customers)"
        )
    parameters: dict[str, float] = {}
    try:
        with warnings.catch_warnings():
            # arviz (via pymc) announces its refactor on import: noise in every build's output.
            warnings.simplefilter("ignore")
            from pymc_marketing.clv import BetaGeoModel, GammaGammaModel

            logging.getLogger("pymc").setLevel(logging.ERROR)
            transactions = BetaGeoModel()
            transactions.fit(data[["customer_id", "frequency", "recency", "T"]], method="map",
                             progressbar=False, seed=seed)
            spend = GammaGammaModel()
            spend.fit(repeat[["customer_id", "frequency", "monetary_value"]], method="map",
                      progressbar=False, seed=seed)
            for model, names in ((transactions, "a b alpha r"), (spend, "p q v")):
                for name in names.split():
                    parameters[name] = float(np.asarray(model.fit_result[name]).mean())
            if not all(np.isfinite(v) for v in parameters.values()):
                return failed("fit did not converge: non-finite parameters", parameters)
            if parameters["q"] <= 1:  # the Gamma-Gamma mean spend divides by q - 1
                return failed("fit did not converge: q <= 1 (no finite mean spend)", parameters)
            frame = data.reset_index(drop=True)
            probability_alive = _point(transactions.expected_probability_alive(frame))
            purchases = _point(transactions.expected_purchases(frame, future_t=horizon_days))
            order_value = _point(spend.expected_customer_spend(frame))
            lifetime = _point(spend.expected_customer_lifetime_value(
                transaction_model=transactions,
                data=frame.copy(),  # the library writes a column into the frame it is given
                future_t=lifetime_months,
                discount_rate=monthly_discount_rate,
                time_unit="D",
            ))
    except Exception as error:  # fail soft: the rest of the build goes on
        return failed(f"fit raised {type(error).__name__}: {str(error).splitlines()[0][:200]}", parameters)
    predictions = pd.DataFrame({
        "customer_id": frame["customer_id"].to_numpy(),
        "probability_alive": probability_alive,
        "expected_purchases": purchases,
        "expected_order_value": order_value,
        "expected_revenue": purchases * order_value,
        "expected_lifetime_value": lifetime,
    })
    values = predictions[PREDICTION_COLUMNS].to_numpy()
    if not np.isfinite(values).all() or (values < 0).any() or (probability_alive > 1).any():
        return failed("fit did not converge: predictions not finite or out of range", parameters)
    return ClvFit(predictions, "fitted", None, customers, len(repeat), parameters,
                  time.perf_counter() - started)


def fit_clv_apart(fits: list[dict[str, Any]]) -> list[ClvFit]:
    """[fit_clv(**arguments) for arguments in fits], in one child Python process.

    Why: dbt runs its Python models as threads of one process, and pymc's graph compilation,
    most of a fit, is pure Python: in dbt's process it holds the interpreter lock that the
    models beside it (the k evaluation, the history) need, and they wait. Apart, the fits run
    on their own core. Fails soft like fit_clv: a child that dies gives failed fits naming why.
    """
    try:  # a fresh interpreter (spawn): a fork would copy dbt's threads and DuckDB's state
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as child:
            return list(child.map(_fit_clv_with, fits))
    except Exception as error:  # the child died or a fit raised: fail soft, naming why
        reason = f"fit process failed: {type(error).__name__}: {(str(error).splitlines() or [''])[0][:200]}"
        return [ClvFit(_empty_predictions(arguments["summary"]), "failed", reason, len(arguments["summary"]), 0)
                for arguments in fits]


def _fit_clv_with(arguments: dict[str, Any]) -> ClvFit:
    return fit_clv(**arguments)


def fit_to_frame(fit: ClvFit) -> pd.DataFrame:
    """Predictions with the fit's status repeated on every row (a dbt Python model returns one table)."""
    out = fit.predictions.copy()
    out["fit_status"] = fit.status
    out["fit_reason"] = fit.reason
    out["fit_customers"] = fit.customers
    out["fit_repeat_customers"] = fit.repeat_customers
    for name in ("a", "b", "alpha", "r", "p", "q", "v"):
        out[f"param_{name}"] = fit.parameters.get(name, np.nan)
    out["fit_seconds"] = fit.seconds
    return out
