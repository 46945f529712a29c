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
    assert [_strength(v) for v in (0.6, 0.5, 0.3, 0.1)] == ["strong", "strong", "reasonable", "weak"]
    assert _agreement_words(0.9) == "tell almost the same story"
    assert _agreement_words(0.35) == "partly agree"
    assert _agreement_words(0.0) == "tell different stories"
