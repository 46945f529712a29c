"""Tests for the report's pure helpers: words for numbers, JSON safe for a <script> element."""
from __future__ import annotations

import json
import math

from rfm_segments.report import Chart, _agreement_words, _strength


def test_undefined_metrics_become_gaps_not_invalid_json():
    text = Chart("x", {"data": [{"y": [1.0, math.nan, math.inf], "name": "</script>"}]}).json
    assert json.loads(text)["data"][0]["y"] == [1.0, None, None]
    assert "</script>" not in text and json.loads(text)["data"][0]["name"] == "</script>"


def test_words_follow_the_usual_thresholds():
    bands = {"strong_from": 0.7, "reasonable_from": 0.4}  # the seed's bands, whatever they are
    assert [_strength(v, bands) for v in (0.8, 0.7, 0.5, 0.1)] == ["strong", "strong", "reasonable", "weak"]
    assert _agreement_words(0.9) == "tell almost the same story"
    assert _agreement_words(0.35) == "partly agree"
    assert _agreement_words(0.0) == "tell different stories"


def test_quality_chart_when_nothing_was_rejected():
    from rfm_segments.report import quality_chart

    chart = quality_chart([{"outcome": "valid", "rows": 120, "description": "ok"},
                           {"outcome": "duplicate", "rows": 0, "description": "dup"}])
    bar = chart.figure["data"][0]
    assert list(bar["y"]) == ["set aside", "valid sales"] and list(bar["x"]) == [0, 120]
    assert chart.figure["layout"]["xaxis"]["title"]["text"] == "all lines valid, none set aside"
    rejected = quality_chart([{"outcome": "valid", "rows": 120, "description": "ok"},
                              {"outcome": "duplicate", "rows": 3, "description": "dup"}])
    assert list(rejected.figure["data"][0]["y"]) == ["duplicate"]
    assert rejected.figure["layout"]["xaxis"]["title"]["text"] == "input lines set aside"


def test_migration_sankey_one_column_per_date_tiers_in_order():
    from datetime import date

    from rfm_segments.report import migration_sankey

    d1, d2, d3 = date(2011, 10, 1), date(2011, 11, 1), date(2011, 12, 1)
    moves = [
        {"from_snapshot_date": d1, "to_snapshot_date": d2, "source": "Gold", "target": "Platinum", "customers": 5, "revenue": 10.0},
        {"from_snapshot_date": d1, "to_snapshot_date": d2, "source": "(new customer)", "target": "Bronze", "customers": 3, "revenue": 1.0},
        {"from_snapshot_date": d2, "to_snapshot_date": d3, "source": "Platinum", "target": "Platinum", "customers": 5, "revenue": 9.0},
        {"from_snapshot_date": d2, "to_snapshot_date": d3, "source": "Bronze", "target": "(left)", "customers": 3, "revenue": 0.0},
    ]
    node = migration_sankey(moves).figure["data"][0]["node"]
    labels = list(zip(node["label"], node["customdata"], node["x"], node["y"]))
    assert [(label, when) for label, when, _, _ in labels] == [
        ("(new customer)", "2011-10-01"), ("Gold", "2011-10-01"),
        ("Platinum", "2011-11-01"), ("Bronze", "2011-11-01"),
        ("Platinum", "2011-12-01"), ("(left)", "2011-12-01"),
    ]
    xs = {when: x for _, when, x, _ in labels}
    assert xs["2011-10-01"] < xs["2011-11-01"] < xs["2011-12-01"]
    column = [(label, y) for label, when, _, y in labels if when == "2011-11-01"]
    assert column[0][1] < column[1][1]  # Platinum above Bronze
