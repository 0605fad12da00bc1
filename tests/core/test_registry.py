"""The lazy ``name -> "module:attribute"`` registries of real2sim_core.registry."""

from __future__ import annotations

import pytest
from real2sim_core.errors import UnknownNameError
from real2sim_core.registry import load_entry, names, resolve_entry

TABLE = {"join": "os.path:join", "dumps": "json:dumps"}


def test_entries_load_on_demand_and_names_are_sorted():
    import json
    import os.path

    assert load_entry("helper", "join", TABLE) is os.path.join
    assert resolve_entry(TABLE["dumps"]) is json.dumps
    assert names(TABLE) == ["dumps", "join"]


def test_a_callable_entry_is_itself():
    def factory():
        return 1

    assert resolve_entry(factory) is factory
    assert load_entry("helper", "f", {"f": factory}) is factory


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(UnknownNameError, match="dumps.*join|join.*dumps"):
        load_entry("helper", "split", TABLE)
