"""BG/NBD + Gamma-Gamma fits (rfm_segments.clv), one per fit_purpose of the BTYD summary.

'current' predicts the next clv_horizon_days from the as-of date; 'backtest' predicts the
backtest_horizon_days after the backtest snapshot, to compare with what happened. A fit that
fails leaves null predictions and its reason on every row (rfm_segments.clv.fit_clv). Both fit
in one child process (rfm_segments.clv.fit_clv_apart), so that the models beside this one do not
wait for pymc's graph compilation.
"""
import pandas as pd

from rfm_segments.clv import fit_clv_apart, fit_to_frame


def model(dbt, session):
    dbt.config(materialized="table")
    summaries = dbt.ref("int_customer_btyd_summaries").df()
    horizons = {
        "current": int(dbt.config.get("clv_horizon_days")),
        "backtest": int(dbt.config.get("backtest_horizon_days")),
    }
    fits = []
    for purpose, horizon in horizons.items():
        rows = summaries[summaries["fit_purpose"] == purpose].sort_values("customer_id")
        summary = rows.rename(columns={
            "btyd_frequency": "frequency",
            "btyd_recency_days": "recency",
            "btyd_age_days": "T",
            "mean_repeat_order_value": "monetary_value",
        })
        fits.append(dict(
            summary=summary,
            horizon_days=horizon,
            lifetime_months=int(dbt.config.get("clv_lifetime_months")),
            monthly_discount_rate=float(dbt.config.get("clv_monthly_discount_rate")),
            min_repeat_customers=int(dbt.config.get("clv_min_repeat_customers")),
            seed=int(dbt.config.get("cluster_seed")),
        ))
    frames = []
    for (purpose, horizon), fit in zip(horizons.items(), fit_clv_apart(fits)):
        frame = fit_to_frame(fit)
        frame.insert(0, "fit_purpose", purpose)
        frame.insert(1, "horizon_days", horizon)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out["fit_reason"] = out["fit_reason"].astype("string")
    return out
