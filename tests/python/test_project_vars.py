"""The model's parameters are written once, as the dbt project's vars: the package keeps no copy."""
from __future__ import annotations

import inspect

import pytest
import yaml

from conftest import REPO
from rfm_segments import project_vars
from rfm_segments.clustering import evaluate_k, fit_clusters
from rfm_segments.clv import fit_clv
from rfm_segments.drift import model_history
from rfm_segments.stability import add_k_evidence, cluster_stability, silhouette_values

FUNCTIONS = [
    (evaluate_k, project_vars.EVALUATE_K),
    (fit_clusters, project_vars.FIT_CLUSTERS),
    (cluster_stability, project_vars.CLUSTER_STABILITY),
    (silhouette_values, project_vars.SILHOUETTE_VALUES),
    (add_k_evidence, project_vars.K_EVIDENCE),
    (fit_clv, project_vars.FIT_CLV),
    (model_history, project_vars.MODEL_HISTORY),
]


@pytest.mark.parametrize(("function", "names"), FUNCTIONS, ids=[f.__name__ for f, _ in FUNCTIONS])
def test_the_package_keeps_no_default_of_a_parameter_a_var_sets(function, names):
    parameters = inspect.signature(function).parameters
    with_default = [name for name in names if parameters[name].default is not inspect.Parameter.empty]
    assert with_default == [], f"{function.__name__} has its own default for {with_default}: the var is the one place"
    assert set(names.values()) <= set(project_vars.project_vars()), "a var these arguments name is not in dbt_project.yml"


def test_the_arguments_are_the_vars_of_dbt_project_yml():
    written = yaml.safe_load((REPO / "dbt_project" / "dbt_project.yml").read_text())["vars"]
    assert project_vars.arguments(project_vars.EVALUATE_K) == {
        "k_min": written["k_min"], "k_max": written["k_max"], "seed": written["cluster_seed"],
        "silhouette_sample_size": written["silhouette_sample_size"]}
    assert project_vars.arguments(project_vars.CLUSTER_STABILITY, n_resamples=3)["n_resamples"] == 3
    with pytest.raises(TypeError, match="not an argument set by a var here: k_min"):
        project_vars.arguments(project_vars.FIT_CLUSTERS, k_min=3)
