"""The dbt Python models as steps of a Spark build (rfm_segments.python_model_step): the rounds
come from the manifest's own graph, and a step reads what the model file asks for."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from rfm_segments.python_model_step import PythonModelStepError, _Config, _read_ref, waves


def node(name: str, parents: tuple = (), language: str = "sql", resource_type: str = "model",
         folder: str = "intermediate") -> SimpleNamespace:
    return SimpleNamespace(unique_id=f"model.p.{name}", name=name, resource_type=resource_type, language=language,
                           fqn=["p", folder, name], schema=folder, alias=name,
                           depends_on=SimpleNamespace(nodes=[f"model.p.{parent}" for parent in parents]))


def manifest(*nodes: SimpleNamespace) -> SimpleNamespace:
    return SimpleNamespace(nodes={n.unique_id: n for n in nodes})


def test_rounds_follow_the_python_models_on_each_path():
    # rfm -> fit (py) -> evaluation -> labels (py) -> evidence (py) ; rfm -> history (py) -> drift
    graph = manifest(
        node("rfm"), node("fit", ("rfm",), "python"), node("evaluation", ("fit",)),
        node("labels", ("evaluation", "rfm"), "python"), node("evidence", ("labels",), "python"),
        node("history", ("rfm",), "python"), node("drift", ("history", "evaluation")),
        node("test_drift", ("drift", "rfm"), resource_type="test"),
        node("seed_rules", resource_type="seed", folder="seeds"))
    rounds = waves(graph)
    assert [[n.name for n in wave.python_models] for wave in rounds] == [[], ["fit", "history"], ["labels"], ["evidence"]]
    assert [wave.selectors for wave in rounds] == [
        ["fqn:p.intermediate.rfm", "fqn:p.seeds.seed_rules"],
        ["fqn:p.intermediate.drift", "fqn:p.intermediate.evaluation", "fqn:p.intermediate.test_drift"],
        [], []]


def test_a_cycle_is_refused():
    with pytest.raises(PythonModelStepError, match="cycle"):
        waves(manifest(node("a", ("b",)), node("b", ("a",))))


def test_config_reads_the_manifest_and_its_defaults():
    config = _Config({"k_min": 2, "n_clusters": None})
    assert config(materialized="table") is None
    assert (config.get("k_min"), config.get("n_clusters"), config.get("missing", 5)) == (2, None, 5)


def test_a_line_grain_ref_is_never_collected():
    never = SimpleNamespace(sql=lambda query: pytest.fail(f"collected {query}"))
    with pytest.raises(PythonModelStepError, match="line-grain"):
        _read_ref(never, None, node("int_transaction_lines_classified", folder="transactions"))
