"""The dbt project's vars (`vars:` of dbt_project/dbt_project.yml): the one place the model's
parameters are written (k range, seed, sample sizes, resamples, CLV horizon and discounting,
history training).

The dbt models receive them as vars. The package's functions take them as required arguments and
keep no copy; whatever calls the package outside a dbt build (the bench,
rfm_segments.attribute_evidence, the tests) reads them here::

    evaluate_k(rfm, **arguments(EVALUATE_K))            # the project's k range, seed, sample
    cluster_stability(rfm, labels, **arguments(CLUSTER_STABILITY, n_resamples=5))
"""
from __future__ import annotations

import functools
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import yaml

DBT_PROJECT_FILE = Path(__file__).resolve().parents[2] / "dbt_project" / "dbt_project.yml"

#: Keyword arguments of a package function -> the var that sets them (as the dbt models pass them).
EVALUATE_K = {"k_min": "k_min", "k_max": "k_max", "seed": "cluster_seed", "silhouette_sample_size": "silhouette_sample_size"}
FIT_CLUSTERS = {"seed": "cluster_seed"}
CLUSTER_STABILITY = {"n_resamples": "stability_resamples", "seed": "cluster_seed", "sample_size": "stability_sample_size"}
SILHOUETTE_VALUES = {"sample_size": "silhouette_plot_sample_size", "seed": "cluster_seed"}
K_EVIDENCE = {"n_resamples": "k_stability_resamples", "seed": "cluster_seed", "sample_size": "k_stability_sample_size"}
FIT_CLV = {"horizon_days": "clv_horizon_days", "lifetime_months": "clv_lifetime_months",
           "monthly_discount_rate": "clv_monthly_discount_rate", "min_repeat_customers": "clv_min_repeat_customers",
           "seed": "cluster_seed"}
MODEL_HISTORY = {"seed": "cluster_seed", "auto_refit": "history_auto_refit",
                 "min_training_customers": "history_min_training_customers"}


@functools.cache
def project_vars() -> Mapping[str, Any]:
    """The vars as dbt_project.yml sets them (what a build without --vars uses), read-only."""
    project = yaml.safe_load(DBT_PROJECT_FILE.read_text(encoding="utf-8"))
    return MappingProxyType(project.get("vars") or {})


def arguments(names: Mapping[str, str], **overrides: Any) -> dict[str, Any]:
    """The keyword arguments `names` maps to vars, with the project's values; `overrides` win."""
    unknown = set(overrides) - set(names)
    if unknown:
        raise TypeError(f"not an argument set by a var here: {', '.join(sorted(unknown))}")
    values = project_vars()
    return {keyword: overrides.get(keyword, values[var]) for keyword, var in names.items()}
