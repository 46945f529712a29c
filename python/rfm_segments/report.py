"""The segments report: one self-contained HTML page rendered from the marts.

`render_report(db, out)` reads the built warehouse (read-only), builds plotly figures and renders
the jinja2 template `templates/segments_report.html.j2` with plotly.js inlined, so the page works
offline (no CDN). Customer-level charts use the seeded sample in
`clustering.cluster_silhouette_values` (at most one row per customer, a few thousand at most).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import duckdb
import jinja2
import plotly
import plotly.graph_objects as go
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

from rfm_segments.clustering import STABLE_JACCARD

TEMPLATES = Path(__file__).with_name("templates")
TEMPLATE = "segments_report.html.j2"
#: One colour per cluster id (1 = most valuable), the same in every chart.
PALETTE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666",
           "#1f78b4", "#b2df8a", "#fb9a99", "#cab2d6"]
FONT = {"family": "Segoe UI, Helvetica, Arial, sans-serif", "size": 13}


class ReportError(Exception):
    """The warehouse cannot be reported on; the message says why in one line."""


@dataclass
class Chart:
    id: str
    figure: dict

    @property
    def json(self) -> str:
        # NaN (an undefined metric) is not JSON; "</" would end the <script> element the JSON sits in.
        text = json.dumps(_finite(self.figure), separators=(",", ":"), allow_nan=False, default=float)
        return text.replace("</", "<\\/")


def _finite(value):
    """The figure with NaN and infinities replaced by None (plotly draws a gap)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _colour(cluster_id: int) -> str:
    return PALETTE[(int(cluster_id) - 1) % len(PALETTE)]


def _layout(fig: go.Figure, height: int = 380, **extra) -> dict:
    extra.setdefault("margin", {"l": 60, "r": 20, "t": 30, "b": 50})
    fig.update_layout(height=height, font=FONT, paper_bgcolor="white", plot_bgcolor="white", **extra)
    fig.update_xaxes(gridcolor="#eee", zeroline=False)
    fig.update_yaxes(gridcolor="#eee", zeroline=False)
    return fig.to_plotly_json()


def _strength(silhouette: float, bands: dict) -> str:
    """The words for a silhouette by its reading bands (strong_from, reasonable_from: the row of
    clustering.cluster_evaluation_metrics, from seed k_evaluation_metrics)."""
    if silhouette >= bands["strong_from"]:
        return "strong"
    if silhouette >= bands["reasonable_from"]:
        return "reasonable"
    return "weak"


def _agreement_words(ari: float) -> str:
    if ari >= 0.8:
        return "tell almost the same story"
    if ari >= 0.5:
        return "largely agree"
    if ari >= 0.2:
        return "partly agree"
    return "tell different stories"


def _records(con: duckdb.DuckDBPyConnection, sql: str, parameters: list | None = None) -> list[dict]:
    cursor = con.execute(sql, parameters)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def load(db: Path) -> dict:
    """Everything the page shows, read from the marts; small (a few thousand rows at most)."""
    if not db.exists():
        raise ReportError(f"warehouse not found: {db} (run `make run` first)")
    with duckdb.connect(str(db), read_only=True) as con:
        try:
            data = {
                "k_evaluation": _records(con, "select * from clustering.cluster_k_evaluation order by k"),
                "metric_directions": {
                    r["metric"]: r for r in _records(con, "select * from clustering.cluster_evaluation_metrics")
                },
                "profiles": _records(con, "select * from marts.segment_profiles order by cluster_id"),
                "stability": _records(con, "select * from clustering.cluster_stability order by cluster_id"),
                "tier_cluster": _records(
                    con, "select * from marts.tier_cluster_comparison order by tier_rank desc, cluster_id"
                ),
                "named": _records(con, "select * from marts.named_segment_profiles order by segment_order"),
                "agreement": _records(con, "select * from marts.segmentation_agreement"),
                "quality": _records(
                    con, "select outcome, description, rows, share from marts.data_quality_summary "
                         "order by precedence"
                ),
                "sample": _records(
                    con,
                    "select s.customer_id, s.cluster_id, s.silhouette, c.segment_name, "
                    "c.recency_days, c.frequency, cast(c.monetary as double) as monetary "
                    "from clustering.cluster_silhouette_values as s "
                    "join marts.customer_segments as c on s.customer_id = c.customer_id "
                    "order by s.cluster_id, s.silhouette desc, s.customer_id",
                ),
            }
            data.update(_load_history(con))
            data.update(_load_clv(con))
            data.update(_load_attributes(con))
            (data["customers"], data["revenue"], data["as_of_date"]), = con.execute(
                "select count(*), cast(sum(monetary) as double), max(as_of_date) from marts.customer_segments"
            ).fetchall()
        except duckdb.CatalogException as error:
            raise ReportError(
                f"the warehouse lacks a table the report needs ({str(error).splitlines()[0]}); rebuild with `make run`"
            ) from None
    if not data["profiles"]:
        raise ReportError(f"marts.segment_profiles in {db} is empty: nothing to report")
    return data


#: Snapshot-to-snapshot steps the migration Sankey chains (the latest ones).
SANKEY_STEPS = 3
RECOMMENDATION_COLOURS = {"keep": "#1b9e77", "watch": "#e6ab02", "retrain": "#d95f02"}


def _load_history(con: duckdb.DuckDBPyConnection) -> dict:
    """The segments-over-time marts: a few rows per snapshot, never per customer."""
    steps = [d for (d,) in con.execute(
        "select distinct to_snapshot_date from marts.segment_migration order by 1 desc limit ?", [SANKEY_STEPS]
    ).fetchall()]
    return {
        "migration": [
            dict(zip(("from_snapshot_date", "to_snapshot_date", "source", "target", "customers", "revenue"), row))
            for row in con.execute(
                "select from_snapshot_date, to_snapshot_date, source, target, customers, "
                "cast(revenue as double) from marts.segment_migration "
                "where lens = 'tier' and to_snapshot_date >= ? order by 1, 3, 4",
                [min(steps) if steps else None],
            ).fetchall()
        ],
        "sizes": _records(
            con,
            "select snapshot_date, segment, customers, customer_share, monetary_share "
            "from marts.segment_sizes_over_time where lens = 'cluster' and segment <> '(no model)' "
            "order by snapshot_date, segment",
        ),
        "backtest": _records(
            con,
            "select * from marts.segment_backtest where is_latest_complete_period "
            "order by case lens when 'tier' then 1 when 'cluster' then 2 else 3 end, rebuy_rate desc",
        ),
        "drift": _records(con, "select * from marts.segment_feature_drift order by snapshot_date, feature"),
        "checks": _records(con, "select * from marts.model_retraining_checks order by snapshot_date"),
        "psi_bands": dict(con.execute(
            "select 'watch', watch_at from marts.model_retraining_rules where metric = 'max_feature_psi' "
            "union all select 'retrain', retrain_at from marts.model_retraining_rules where metric = 'max_feature_psi'"
        ).fetchall()),
    }


#: Customers listed as "valuable and at risk": the top quarter by past spend, by churn risk.
AT_RISK_LISTED = 10


def _load_clv(con: duckdb.DuckDBPyConnection) -> dict:
    """Expected value and churn risk (docs/clv.md): fit status, backtest, a short customer list."""
    return {
        "clv_status": {r["fit_purpose"]: r for r in _records(con, "select * from marts.clv_fit_status")},
        "clv_backtest": _records(con, "select * from marts.clv_backtest"),
        "clv_calibration": _records(con, "select * from marts.clv_backtest_calibration order by predicted_decile"),
        "clv_at_risk": _records(
            con,
            "select customer_id, segment_name, named_segment, recency_days, cast(monetary as double) as monetary, "
            "churn_risk, expected_revenue from marts.customer_segments "
            "where churn_risk is not null and monetary >= "
            "(select quantile_cont(monetary, 0.75) from marts.customer_segments) "
            "order by churn_risk desc, monetary desc, customer_id limit ?",
            [AT_RISK_LISTED],
        ),
    }


def _load_attributes(con: duckdb.DuckDBPyConnection) -> dict:
    """Who is in each segment (docs/customer-attributes.md): the over-representation of every
    attribute value per K-Means segment (aggregates, small groups already suppressed)."""
    return {
        "attribute_cells": _records(
            con,
            "select segment_order as cluster_id, attribute_name, attribute_value, over_representation_index, "
            "share_in_segment, share_overall from marts.segment_attribute_profiles "
            "where lens = 'cluster' and not is_suppressed and attribute_value not in ('(missing)', '(other)') "
            "order by attribute_name, value_order, attribute_value, segment_order",
        ),
        "attribute_names": [name for (name,) in con.execute(
            "select distinct attribute_name from marts.segment_attribute_profiles order by 1").fetchall()],
        "attribute_suppressed": con.execute(
            "select count(*) from marts.segment_attribute_profiles where is_suppressed").fetchone()[0],
        "attribute_rejects": _records(
            con, "select reject_reason, count(*) as rows from marts.rejected_customer_attributes "
                 "group by 1 order by 2 desc, 1"),
        # clustering on behaviour + attributes (var cluster_on_attributes): what it added, missing values
        "attribute_features": _records(
            con, "select attribute_name, count(feature_column) as columns, max(missing_customers) as missing "
                 "from clustering.cluster_attribute_features group by 1 order by 1"),
        # ...and the stored model serving now: its attribute dimensions (none when the option is off)
        "served_attribute_dimensions": _records(
            con, "select model_version, count(distinct feature_column) as dimensions "
                 "from clustering.cluster_model_attribute_centres group by 1 order by 1 desc limit 1"),
    }


# ------------------------------------------------------------------------------ charts


#: Top-to-bottom order of the Sankey's nodes in every column: arrivals, tiers best first, leavers.
SANKEY_ORDER = ["(new customer)", "Platinum", "Gold", "Silver", "Bronze", "(left)"]
TIER_COLOURS = {"Platinum": "#4a4e69", "Gold": "#e6ab02", "Silver": "#9e9e9e", "Bronze": "#a6761d",
                "(new customer)": "#1b9e77", "(left)": "#d95f02"}


def migration_sankey(migration: list[dict]) -> Chart:
    """Tiers chained over the latest snapshots: node = tier at a date, link = customers moving.

    Four tiers (plus arrivals and leavers) keep it readable where eleven named segments were not.
    Nodes are placed by hand: one column per date (labelled once, on top), tiers in a fixed order,
    so labels never overlap; the label is the tier alone and the date is the column's.
    """
    dates = sorted({str(m["from_snapshot_date"]) for m in migration} | {str(m["to_snapshot_date"]) for m in migration})
    totals: dict[tuple[str, str], float] = {}
    for m in migration:  # a node's size: the larger of what flows in and out
        for key in ((m["source"], str(m["from_snapshot_date"])), (m["target"], str(m["to_snapshot_date"]))):
            totals[key] = totals.get(key, 0) + m["customers"]

    def rank(segment: str) -> int:
        return SANKEY_ORDER.index(segment) if segment in SANKEY_ORDER else len(SANKEY_ORDER)

    keys = sorted(totals, key=lambda key: (dates.index(key[1]), rank(key[0]), key[0]))
    index = {key: i for i, key in enumerate(keys)}
    xs, ys = [], []
    for segment, when in keys:
        column = [k for k in keys if k[1] == when]
        height = sum(totals[k] for k in column) or 1
        before = sum(totals[k] for k in column[: column.index((segment, when))])
        xs.append(0.01 + 0.98 * dates.index(when) / max(len(dates) - 1, 1))
        ys.append(min(max(0.02 + 0.96 * (before + totals[(segment, when)] / 2) / height, 0.01), 0.99))
    links = [(index[(m["source"], str(m["from_snapshot_date"]))], index[(m["target"], str(m["to_snapshot_date"]))],
              m["customers"], m["revenue"]) for m in migration]
    fig = go.Figure(go.Sankey(
        arrangement="fixed",
        node={
            "label": [segment for segment, _ in keys], "pad": 10, "thickness": 14, "x": xs, "y": ys,
            "customdata": [when for _, when in keys],
            "hovertemplate": "%{label} at %{customdata}: %{value:,} customers<extra></extra>",
            "color": [TIER_COLOURS.get(segment, "#888") for segment, _ in keys],
        },
        link={
            "source": [s for s, _, _, _ in links], "target": [t for _, t, _, _ in links],
            "value": [c for _, _, c, _ in links],
            "customdata": [r for _, _, _, r in links],
            "color": [_fade(TIER_COLOURS.get(keys[s][0], "#888")) for s, _, _, _ in links],
            "hovertemplate": "%{source.label} → %{target.label}<br>%{value:,} customers, "
                             "revenue %{customdata:,.0f} between the snapshots<extra></extra>",
        },
    ))
    for i, when in enumerate(dates):
        fig.add_annotation(x=0.01 + 0.98 * i / max(len(dates) - 1, 1), y=1.07, xref="paper", yref="paper",
                           text=f"<b>{when}</b>", showarrow=False,
                           xanchor="left" if i == 0 else ("right" if i == len(dates) - 1 else "center"))
    return Chart("migration_sankey", _layout(fig, height=520, margin={"l": 10, "r": 10, "t": 40, "b": 10}))


def _fade(hex_colour: str, alpha: float = 0.35) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def sizes_over_time_chart(sizes: list[dict]) -> Chart:
    fig = go.Figure()
    for segment in sorted({s["segment"] for s in sizes}):
        rows = [s for s in sizes if s["segment"] == segment]
        fig.add_trace(go.Scatter(
            x=[str(r["snapshot_date"]) for r in rows], y=[r["customer_share"] for r in rows], name=segment,
            stackgroup="share", mode="lines",
            customdata=[[r["customers"], r["monetary_share"]] for r in rows],
            hovertemplate=f"{segment}<br>%{{x}}: %{{y:.1%}} of customers (%{{customdata[0]}}), "
                          "%{customdata[1]:.1%} of spend<extra></extra>",
        ))
    return Chart("sizes_over_time", _layout(fig, yaxis={"tickformat": ".0%", "title": "share of customers"}))


def drift_trend_chart(drift: list[dict], checks: list[dict], bands: dict) -> Chart:
    fig = go.Figure()
    for feature in ("recency_days", "frequency", "monetary"):
        rows = [d for d in drift if d["feature"] == feature]
        fig.add_trace(go.Scatter(x=[str(r["snapshot_date"]) for r in rows], y=[r["psi"] for r in rows],
                                 name=f"PSI {feature}", mode="lines+markers"))
    fig.add_trace(go.Scatter(
        x=[str(c["snapshot_date"]) for c in checks], y=[c["assignment_changed_share"] for c in checks],
        name="customers a refit would move", mode="lines", line={"dash": "dot", "color": "#666"},
    ))
    fig.add_trace(go.Scatter(
        x=[str(c["snapshot_date"]) for c in checks], y=[c["max_feature_psi"] for c in checks],
        name="recommendation", mode="markers", marker={
            "size": 14, "symbol": "square", "color": [RECOMMENDATION_COLOURS[c["recommendation"]] for c in checks]},
        text=[f"{c['recommendation']}: {c['reason']} ({c['action']})" for c in checks],
        hovertemplate="%{x}: %{text}<extra></extra>",
    ))
    for level in ("watch", "retrain"):
        if level in bands:
            fig.add_hline(y=bands[level], line={"dash": "dash", "color": RECOMMENDATION_COLOURS[level]},
                          annotation_text=f"PSI {level} {bands[level]:g}")
    return Chart("drift_trend", _layout(fig, yaxis={"title": "PSI / share"}))




def elbow_chart(evaluation: list[dict]) -> Chart:
    ks = [r["k"] for r in evaluation]
    chosen = [r for r in evaluation if r["is_chosen"]]
    fig = go.Figure(go.Scatter(x=ks, y=[r["inertia"] for r in evaluation], mode="lines+markers",
                               name="inertia", line={"color": "#1f77b4"}))
    for r in chosen:
        fig.add_trace(go.Scatter(x=[r["k"]], y=[r["inertia"]], mode="markers+text", name=f"chosen k={r['k']}",
                                 text=[f"chosen k={r['k']}"], textposition="top right",
                                 marker={"size": 16, "color": "#d62728", "symbol": "star"}))
    return Chart("elbow", _layout(fig, showlegend=False,
                                  xaxis={"title": {"text": "number of segments k"}, "dtick": 1},
                                  yaxis={"title": {"text": "inertia (lower = tighter)"}}))


def silhouette_by_k_chart(evaluation: list[dict]) -> Chart:
    rows = [r for r in evaluation if r["silhouette"] is not None and not math.isnan(r["silhouette"])]
    fig = go.Figure(go.Bar(
        x=[r["k"] for r in rows], y=[r["silhouette"] for r in rows],
        marker={"color": ["#d62728" if r["is_chosen"] else "#9ecae1" for r in rows]},
        text=[f"{r['silhouette']:.2f}" for r in rows], textposition="outside", name="silhouette",
    ))
    return Chart("silhouette_by_k", _layout(
        fig, showlegend=False, xaxis={"title": {"text": "number of segments k (red = chosen)"}, "dtick": 1},
        yaxis={"title": {"text": "mean silhouette (higher = better)"}, "rangemode": "tozero"}))


def silhouette_plot(sample: list[dict], names: dict[int, str]) -> Chart:
    """Classic silhouette plot: each customer a thin bar, sorted within its cluster."""
    fig = go.Figure()
    position = 0
    for cluster_id in sorted(names):
        values = [r["silhouette"] for r in sample if r["cluster_id"] == cluster_id]
        if not values:
            continue
        fig.add_trace(go.Bar(
            x=values, y=list(range(position, position + len(values))), orientation="h",
            marker={"color": _colour(cluster_id), "line": {"width": 0}}, width=1.0,
            name=f"{cluster_id}: {names[cluster_id]}",
            hovertemplate="silhouette %{x:.2f}<extra>" + names[cluster_id] + "</extra>",
        ))
        position += len(values) + max(10, len(sample) // 60)
    mean = sum(r["silhouette"] for r in sample) / len(sample)
    fig.add_vline(x=mean, line={"color": "#d62728", "dash": "dash"},
                  annotation_text=f"average {mean:.2f}", annotation_position="top")
    return Chart("silhouette_plot", _layout(
        fig, height=440, bargap=0, legend={"orientation": "h", "y": -0.18},
        xaxis={"title": {"text": "silhouette of each customer (-1 .. 1)"}, "range": [-0.4, 1]},
        yaxis={"showticklabels": False, "autorange": "reversed",
               "title": {"text": "customers, sorted within segment"}}))


def scatter_3d(sample: list[dict], names: dict[int, str]) -> Chart:
    fig = go.Figure()
    for cluster_id in sorted(names):
        rows = [r for r in sample if r["cluster_id"] == cluster_id]
        if not rows:
            continue
        fig.add_trace(go.Scatter3d(
            x=[r["recency_days"] for r in rows], y=[r["frequency"] for r in rows],
            z=[r["monetary"] for r in rows], mode="markers", name=f"{cluster_id}: {names[cluster_id]}",
            marker={"size": 2.5, "color": _colour(cluster_id), "opacity": 0.75},
            hovertemplate="recency %{x} days<br>%{y} orders<br>spend %{z:,.0f}<extra>"
                          + names[cluster_id] + "</extra>",
        ))
    axis = {"type": "log", "dtick": 1, "backgroundcolor": "#fafafa"}
    # Recency reversed as in the 2D plots (recent customers at the high end of every axis). The
    # camera looks from the low-recency, low-orders corner, far enough back that the axis titles
    # stay inside the scene, so "more recent", "more orders" and "more spend" all point away
    # from the viewer's left-front, like up-and-right in the 2D plots.
    return Chart("scatter_3d", _layout(
        fig, height=640, legend={"orientation": "h", "y": -0.02},
        scene={"xaxis": {**axis, "title": {"text": "recency, days (log; recent →)"}, "autorange": "reversed"},
               "yaxis": {**axis, "title": {"text": "orders (log)"}},
               "zaxis": {**axis, "title": {"text": "spend (log)"}},
               "aspectmode": "cube", "camera": {"eye": {"x": -1.3, "y": -1.4, "z": 0.85}},
               "domain": {"x": [0.04, 0.96], "y": [0.06, 1.0]}},
        legend_itemsizing="constant", margin={"l": 10, "r": 10, "t": 10, "b": 10}))


def pair_plots(sample: list[dict], names: dict[int, str]) -> Chart:
    pairs = [("recency_days", "frequency", "recency, days", "orders"),
             ("recency_days", "monetary", "recency, days", "spend"),
             ("frequency", "monetary", "orders", "spend")]
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.08)
    for column, (x, y, x_title, y_title) in enumerate(pairs, start=1):
        for cluster_id in sorted(names):
            rows = [r for r in sample if r["cluster_id"] == cluster_id]
            if not rows:
                continue
            fig.add_trace(go.Scattergl(
                x=[r[x] for r in rows], y=[r[y] for r in rows], mode="markers",
                marker={"size": 4, "color": _colour(cluster_id), "opacity": 0.6},
                name=f"{cluster_id}: {names[cluster_id]}", legendgroup=str(cluster_id), showlegend=column == 1,
            ), row=1, col=column)
        fig.update_xaxes(type="log", dtick=1, title_text=x_title + " (log)", row=1, col=column,
                         autorange="reversed" if x == "recency_days" else True)
        fig.update_yaxes(type="log", dtick=1, title_text=y_title + " (log)", row=1, col=column)
    return Chart("pair_plots", _layout(fig, height=400, legend={"orientation": "h", "y": -0.25},
                                       legend_itemsizing="constant"))


def profile_chart(profiles: list[dict]) -> Chart:
    labels = [f"{p['cluster_id']}: {p['segment_name']}" for p in profiles]
    fig = go.Figure([
        go.Bar(x=labels, y=[p["customer_share"] for p in profiles], name="share of customers",
               marker={"color": "#bdbdbd"}, text=[f"{p['customer_share']:.0%}" for p in profiles],
               textposition="outside"),
        go.Bar(x=labels, y=[p["revenue_share"] for p in profiles], name="share of revenue",
               marker={"color": [_colour(p["cluster_id"]) for p in profiles]},
               text=[f"{p['revenue_share']:.0%}" for p in profiles], textposition="outside"),
    ])
    return Chart("profile_chart", _layout(fig, barmode="group", yaxis={"tickformat": ".0%", "rangemode": "tozero"},
                                          legend={"orientation": "h", "y": 1.12}))


def clv_calibration_chart(calibration: list[dict]) -> Chart:
    """Backtest calibration: mean predicted, baseline and actual purchase days per predicted decile."""
    deciles = [c["predicted_decile"] for c in calibration]
    fig = go.Figure([
        go.Bar(x=deciles, y=[c["mean_actual_purchases"] for c in calibration], name="actual",
               marker={"color": "#bdbdbd"}),
        go.Scatter(x=deciles, y=[c["mean_predicted_purchases"] for c in calibration], name="BG/NBD predicted",
                   mode="lines+markers", line={"color": PALETTE[0]}),
        go.Scatter(x=deciles, y=[c["mean_baseline_purchases"] for c in calibration], name="naive baseline",
                   mode="lines+markers", line={"color": PALETTE[1], "dash": "dot"}),
    ])
    return Chart("clv_calibration", _layout(
        fig, xaxis={"title": "predicted decile (10 = most)", "dtick": 1},
        yaxis={"title": "purchase days per customer", "rangemode": "tozero"}, legend={"orientation": "h", "y": 1.12},
    ))


def clv_segment_value_chart(profiles: list[dict]) -> Chart:
    """Past revenue share against expected next-period revenue share, per K-Means segment."""
    labels = [f"{p['cluster_id']}: {p['segment_name']}" for p in profiles]
    fig = go.Figure([
        go.Bar(x=labels, y=[p["revenue_share"] for p in profiles], name="share of past revenue",
               marker={"color": "#bdbdbd"}),
        go.Bar(x=labels, y=[p["expected_revenue_share"] for p in profiles], name="share of expected revenue",
               marker={"color": [_colour(p["cluster_id"]) for p in profiles]},
               customdata=[[p["expected_revenue"], p["mean_churn_risk"]] for p in profiles],
               hovertemplate="%{x}: %{y:.1%} of expected revenue (%{customdata[0]:,.0f}), "
                             "mean churn risk %{customdata[1]:.1%}<extra></extra>"),
    ])
    return Chart("clv_segment_value", _layout(fig, barmode="group", yaxis={"tickformat": ".0%", "rangemode": "tozero"},
                                              legend={"orientation": "h", "y": 1.12}))


def stability_chart(stability: list[dict], names: dict[int, str]) -> Chart:
    labels = [f"{s['cluster_id']}: {names.get(s['cluster_id'], '')}" for s in stability]
    fig = go.Figure(go.Bar(
        x=labels, y=[s["mean_jaccard"] for s in stability],
        marker={"color": ["#2ca02c" if s["is_stable"] else "#d62728" for s in stability]},
        text=[f"{s['mean_jaccard']:.2f}" for s in stability], textposition="outside", name="stability",
    ))
    fig.add_hline(y=STABLE_JACCARD, line={"color": "#d62728", "dash": "dash"},
                  annotation_text=f"{STABLE_JACCARD}: below = unstable", annotation_position="top left")
    return Chart("stability_chart", _layout(fig, showlegend=False,
                                            yaxis={"range": [0, 1.1], "title": {"text": "mean Jaccard (1 = always reappears)"}}))


def heatmap_chart(cells: list[dict], names: dict[int, str]) -> Chart:
    tiers = list(dict.fromkeys(c["tier"] for c in cells))  # Platinum first
    clusters = sorted(names)
    counts = {(c["tier"], c["cluster_id"]): c for c in cells}
    z = [[counts[(t, k)]["share_of_cluster"] if (t, k) in counts else 0 for k in clusters] for t in tiers]
    text = [[f"{counts[(t, k)]['customers']:,}" if (t, k) in counts else "0" for k in clusters] for t in tiers]
    fig = go.Figure(go.Heatmap(
        z=z, x=[f"{k}: {names[k]}" for k in clusters], y=tiers, text=text, texttemplate="%{text}",
        colorscale="Blues", zmin=0, zmax=1, colorbar={"title": {"text": "share of<br>segment"}, "tickformat": ".0%"},
        hovertemplate="%{y} x %{x}<br>%{text} customers<br>%{z:.0%} of the segment<extra></extra>",
    ))
    return Chart("tier_cluster_heatmap", _layout(fig, height=360, yaxis={"autorange": "reversed"}))


#: Attribute values the heatmap shows: those whose index departs most from 1 in some segment.
ATTRIBUTE_HEATMAP_ROWS = 20


def attribute_index_chart(cells: list[dict], names: dict[int, str]) -> Chart:
    """Segment x attribute value, coloured by the over-representation index (log scale, 1 = white)."""
    rows: dict[str, dict[int, dict]] = {}
    for cell in cells:
        rows.setdefault(f"{cell['attribute_name']}: {cell['attribute_value']}", {})[cell["cluster_id"]] = cell

    def spread(by_cluster: dict[int, dict]) -> float:
        return max(abs(math.log(c["over_representation_index"])) if c["over_representation_index"] else 0
                   for c in by_cluster.values())

    shown = sorted(rows, key=lambda label: -spread(rows[label]))[:ATTRIBUTE_HEATMAP_ROWS]
    labels = [label for label in rows if label in shown]  # attribute order, bins in order
    clusters = sorted(names)
    z = [[math.log2(rows[label][k]["over_representation_index"])
          if k in rows[label] and rows[label][k]["over_representation_index"] else None for k in clusters]
         for label in labels]
    text = [[f"x{rows[label][k]['over_representation_index']:.1f}" if k in rows[label]
             and rows[label][k]["over_representation_index"] is not None else "" for k in clusters] for label in labels]
    fig = go.Figure(go.Heatmap(
        z=z, x=[f"{k}: {names[k]}" for k in clusters], y=labels, text=text, texttemplate="%{text}",
        colorscale="RdBu", reversescale=True, zmid=0, zmin=-2, zmax=2,
        colorbar={"title": {"text": "index"}, "tickvals": [-2, -1, 0, 1, 2], "ticktext": ["x0.25", "x0.5", "x1", "x2", "x4"]},
        hovertemplate="%{x}<br>%{y}: %{text} as common as among all customers<extra></extra>",
    ))
    return Chart("attribute_index_heatmap", _layout(fig, height=max(300, 26 * len(labels) + 120),
                                                    yaxis={"autorange": "reversed"}, margin={"l": 200, "r": 20, "t": 30, "b": 50}))


def named_treemap(named: list[dict]) -> Chart:
    rows = [n for n in named if n["customers"] > 0]
    shares = [float(n["revenue_share"] or 0) for n in rows]
    top = max(shares, default=0) or 1.0
    # Colours computed here (not a colorscale) so the root tile stays white.
    colours = sample_colorscale("YlGnBu", [0.05 + 0.9 * share / top for share in shares])
    root = "All customers"
    fig = go.Figure(go.Treemap(
        labels=[root] + [n["named_segment"] for n in rows], parents=[""] + [root] * len(rows),
        values=[sum(n["customers"] for n in rows)] + [n["customers"] for n in rows], branchvalues="total",
        customdata=[[1.0, ""]] + [[share, n["recommended_action"]] for share, n in zip(shares, rows)],
        marker={"colors": ["white"] + colours, "pad": {"t": 4, "l": 2, "r": 2, "b": 2}},
        texttemplate="<b>%{label}</b><br>%{value:,} customers<br>%{customdata[0]:.0%} of revenue",
        hovertemplate="<b>%{label}</b><br>%{value:,} customers<br>%{customdata[0]:.1%} of revenue"
                      "<br>%{customdata[1]}<extra></extra>",
        pathbar={"visible": False},
    ))
    return Chart("named_treemap", _layout(fig, height=420, margin={"l": 10, "r": 10, "t": 10, "b": 10}))


def quality_chart(quality: list[dict]) -> Chart:
    """Lines set aside, by reason; when none was, the valid and set-aside totals side by side."""
    rejected = sorted((q for q in quality if q["outcome"] != "valid" and q["rows"] > 0), key=lambda q: q["rows"])
    title = "input lines set aside"
    colours = ["#fdae6b"] * len(rejected)
    if not rejected:  # nothing to break down: say so with the two totals rather than an empty axis
        valid = sum(q["rows"] for q in quality if q["outcome"] == "valid")
        rejected = [{"outcome": "set aside", "rows": 0, "description": "No line was set aside."},
                    {"outcome": "valid sales", "rows": valid, "description": "Every input line is a valid sale."}]
        title = "all lines valid, none set aside"
        colours = ["#fdae6b", "#74c476"]
    fig = go.Figure(go.Bar(
        y=[q["outcome"].replace("_", " ") for q in rejected], x=[q["rows"] for q in rejected], orientation="h",
        text=[f"{q['rows']:,}" for q in rejected], textposition="outside", cliponaxis=False,
        marker={"color": colours},
        hovertext=[q["description"] for q in rejected], name="lines",
    ))
    return Chart("quality_chart", _layout(fig, height=60 + 34 * max(len(rejected), 2), showlegend=False,
                                          xaxis={"title": {"text": title}, "rangemode": "tozero"},
                                          margin={"l": 170, "r": 90, "t": 10, "b": 50}))


LENS_TITLES = {"tier": "Tiers", "cluster": "K-Means segments", "named_segment": "Named RFM segments"}
LENS_PHRASES = {"tier": "tiers", "cluster": "K-Means segments", "named_segment": "named RFM segments"}
LENS_SINGULAR = {"tier": "tier", "cluster": "K-Means segment", "named_segment": "named segment"}


# ------------------------------------------------------------------------------ page


def context(data: dict) -> dict:
    """Numbers and sentences for the template: titles that say what to conclude."""
    profiles = data["profiles"]
    names = {p["cluster_id"]: p["segment_name"] for p in profiles}
    chosen = next((r for r in data["k_evaluation"] if r["is_chosen"]), data["k_evaluation"][-1])
    sample = data["sample"]
    mean_silhouette = sum(r["silhouette"] for r in sample) / len(sample) if sample else float("nan")
    top = max(profiles, key=lambda p: p["revenue_share"] or 0)
    unstable = [p for p in profiles if not p["is_stable"]]
    overall = data["stability"][0] if data["stability"] else {}
    agreement = {(a["segmentation_a"], a["segmentation_b"]): a for a in data["agreement"]}
    tier_cluster = agreement.get(("tier", "cluster"), {})
    quality = {q["outcome"]: q for q in data["quality"]}
    read = sum(q["rows"] for q in data["quality"])
    valid = quality.get("valid", {}).get("rows", 0)
    rejected = [q for q in data["quality"] if q["outcome"] != "valid" and q["rows"] > 0]
    biggest_reject = max(rejected, key=lambda q: q["rows"]) if rejected else None
    named_present = [n for n in data["named"] if n["customers"] > 0]
    champions = next((n for n in data["named"] if n["segment_order"] == 1), None)
    largest_named = max(named_present, key=lambda n: n["customers"]) if named_present else None
    charts = [
        elbow_chart(data["k_evaluation"]),
        silhouette_by_k_chart(data["k_evaluation"]),
        profile_chart(profiles),
        stability_chart(data["stability"], names),
        heatmap_chart(data["tier_cluster"], names),
        named_treemap(data["named"]),
        quality_chart(data["quality"]),
    ]
    if data["migration"]:
        charts.append(migration_sankey(data["migration"]))
    if data["sizes"]:
        charts.append(sizes_over_time_chart(data["sizes"]))
    if data["checks"]:
        charts.append(drift_trend_chart(data["drift"], data["checks"], data["psi_bands"]))
    if sample:
        charts += [silhouette_plot(sample, names), scatter_3d(sample, names), pair_plots(sample, names)]
    clv_fitted = data["clv_status"].get("current", {}).get("fit_status") == "fitted"
    if clv_fitted:
        charts.append(clv_segment_value_chart(profiles))
    if data["clv_calibration"]:
        charts.append(clv_calibration_chart(data["clv_calibration"]))
    if data["attribute_cells"]:
        charts.append(attribute_index_chart(data["attribute_cells"], names))
    distinguished = [p for p in profiles if p["distinguishing_attributes"]]
    return {
        "data": data,
        "charts": {c.id: c for c in charts},
        "names": names,
        "colours": {k: _colour(k) for k in names},
        "chosen": chosen,
        "mean_silhouette": mean_silhouette,
        "silhouette_strength": (_strength(chosen["silhouette"], data["metric_directions"]["silhouette"])
                                if chosen.get("silhouette") is not None else "undefined"),
        "top": top,
        "unstable": unstable,
        "overall_stability": overall,
        "tier_cluster": tier_cluster,
        "tier_cluster_words": _agreement_words(tier_cluster.get("adjusted_rand_index") or 0),
        "agreement_words": {k: _agreement_words(v["adjusted_rand_index"] or 0) for k, v in agreement.items()},
        "read": read,
        "valid": valid,
        "biggest_reject": biggest_reject,
        "champions": champions,
        "largest_named": largest_named,
        "sample_size": len(sample),
        "stable_threshold": STABLE_JACCARD,
        "latest_check": data["checks"][-1] if data["checks"] else None,
        "backtest": {lens: [b for b in data["backtest"] if b["lens"] == lens] for lens in LENS_TITLES
                     if any(b["lens"] == lens for b in data["backtest"])},
        "backtest_period": data["backtest"][0] if data["backtest"] else None,
        "contradicted": [b for b in data["backtest"] if b["strategy_contradicted"]],
        "lens_titles": LENS_TITLES,
        "lens_phrases": LENS_PHRASES,
        "lens_singular": LENS_SINGULAR,
        "model_versions": len({c["model_version"] for c in data["checks"]}),
        "clv_fitted": clv_fitted,
        "clv_current": data["clv_status"].get("current"),
        "clv_backtest": data["clv_backtest"][0] if data["clv_backtest"] else None,
        "distinguished": distinguished,
    }


def render_report(db: Path, out: Path) -> Path:
    """Render the report for warehouse `db` into the HTML file `out`; returns `out`."""
    data = load(Path(db))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["pct"] = lambda x, digits=0: "n/a" if x is None else f"{x:.{digits}%}"
    env.filters["num"] = lambda x, digits=0: "n/a" if x is None else f"{x:,.{digits}f}"
    plotly_js = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text(encoding="utf-8")
    html = env.get_template(TEMPLATE).render(plotly_js=plotly_js, **context(data))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out
