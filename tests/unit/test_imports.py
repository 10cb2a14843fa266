"""Imports go one way, down the layers config -> data -> models -> training -> evaluation ->
reporting (a layer imports only the layers before it and the floor modules), with no cycle."""

from __future__ import annotations

import pytest

from tests.import_graph import cycles, edges, modules

# Imported by every layer, importing none of them.
FLOOR = {"mlplab", "mlplab.errors", "mlplab.atomic", "mlplab.cli"}
LAYERS = ("config", "data", "models", "training", "evaluation", "reporting")


def layer(module: str) -> int:
    """-1 for the floor, else the index of the module's package in LAYERS."""
    if module in FLOOR:
        return -1
    return LAYERS.index(module.split(".")[1])


def test_every_module_belongs_to_the_floor_or_a_layer():
    assert {layer(name) for name in modules()} == {-1, *range(len(LAYERS))}


@pytest.mark.parametrize("module", sorted(modules()))
def test_imports_only_go_down_the_layers(module):
    upward = sorted(dep for dep in edges()[module] if layer(dep) > layer(module))
    assert not upward, f"{module} imports {upward}, a later layer than its own"
    if layer(module) == -1:
        assert all(layer(dep) == -1 for dep in edges()[module])


def test_data_and_models_do_not_import_each_other():
    for a, b in (("data", "models"), ("models", "data")):
        crossing = [
            m for m in modules() if f".{a}." in m and any(f".{b}." in d for d in edges()[m])
        ]
        assert not crossing, f"{crossing} import mlplab.{b}"


def test_no_import_cycle_in_the_package():
    assert cycles() == []


def test_the_cycle_finder_finds_a_planted_cycle(monkeypatch):
    planted = dict(edges())
    planted["mlplab.errors"] = frozenset({"mlplab.atomic"})
    planted["mlplab.atomic"] = frozenset({"mlplab.errors"})
    monkeypatch.setattr("tests.import_graph.edges", lambda: planted)
    assert ["mlplab.atomic", "mlplab.errors", "mlplab.atomic"] in cycles()
