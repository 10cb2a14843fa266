"""The README's config reference states the defaults that configs/ really composes to.

configs/ is the one home of every default; the README table is checked against it here, so
it cannot drift. A row's default cell may name a preset (`callbacks=max_norm`) it holds for.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any

import pytest
import yaml
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from tests.conftest import REPO

CODE = re.compile(r"`([^`]*)`")


def table_rows() -> list[tuple[str, str]]:
    text = (REPO / "README.md").read_text()
    section = text.split("## Config reference", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`"):
            rows.append((cells[0], cells[1]))
    return rows


def expand(key: str) -> list[str]:
    """`a.{b,c}` -> a.b, a.c."""
    match = re.fullmatch(r"(.*)\{(.*)\}(.*)", key)
    if not match:
        return [key]
    head, options, tail = match.groups()
    return [f"{head}{option}{tail}" for option in options.split(",")]


def parse(value: str) -> Any:
    parsed = yaml.safe_load(value)
    if isinstance(parsed, str):
        try:
            return float(parsed)  # YAML 1.1 reads 1e-6 as text
        except ValueError:
            return parsed
    return parsed


@functools.cache
def composed(*overrides: str) -> tuple[dict, dict]:
    """(resolved config, group choices) as `python src/train.py OVERRIDES` composes them."""
    with initialize_config_dir(config_dir=str(REPO / "configs"), version_base="1.3"):
        cfg = compose("train", overrides=list(overrides), return_hydra_config=True)
    choices = OmegaConf.to_container(cfg.hydra.runtime.choices)
    OmegaConf.set_struct(cfg, False)
    del cfg["hydra"]
    return OmegaConf.to_container(cfg, resolve=True), choices


def same(stated: Any, actual: Any) -> bool:
    numbers = (int, float)
    if isinstance(stated, numbers) and isinstance(actual, numbers):
        return math.isclose(stated, actual)
    return stated == actual


def checks() -> list[tuple[str, Any, tuple[str, ...]]]:
    """(key, stated default, preset overrides) for every literal default in the table."""
    found = []
    for key_cell, default_cell in table_rows():
        keys = [k for code in CODE.findall(key_cell) for k in expand(code)]
        codes = CODE.findall(default_cell)
        presets = tuple(c for c in codes if "=" in c)
        values = [c for c in codes if "=" not in c]
        if " / " in default_cell and len(values) == 1:
            values = values[0].split(" / ")
        if len(values) == 1:
            values = values * len(keys)
        if len(values) == len(keys) and not any(k.endswith("*") for k in keys):
            found += [(k, parse(v), presets) for k, v in zip(keys, values, strict=True)]
    return found


def test_the_table_states_most_defaults_literally():
    assert len(checks()) >= 45


@pytest.mark.parametrize(("key", "stated", "presets"), checks(), ids=lambda v: str(v))
def test_readme_default_equals_the_composed_config(key, stated, presets):
    cfg, choices = composed(*presets)
    if key in choices:  # a config group: its default option
        actual = choices[key]
    else:
        actual = OmegaConf.select(OmegaConf.create(cfg), key, default="<absent>")
        actual = OmegaConf.to_container(actual) if OmegaConf.is_config(actual) else actual
    assert same(stated, actual), (
        f"README says {key} defaults to {stated!r}; configs/ say {actual!r}"
    )
