# SPDX-License-Identifier: GPL-3.0-or-later
"""controller_cache: the default of kmod_build_controller_cache, the one the cache lookups use."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleLookupError
from ansible_collections.rustkmod.roulette.plugins.lookup import controller_cache
from ansible_collections.rustkmod.roulette.tests.unit.plugins.lookup.lookup_helpers import make_lookup


@pytest.fixture
def lookup():
    return make_lookup(controller_cache, "rustkmod.roulette.controller_cache")


@pytest.mark.parametrize("env, expected", [
    ({"ROULETTE_CACHE_DIR": "{tmp}/rc"}, "{tmp}/rc/modules"),
    ({"ROULETTE_CACHE_DIR": "{tmp}/rc", "XDG_CACHE_HOME": "{tmp}/xdg"}, "{tmp}/rc/modules"),
    ({"XDG_CACHE_HOME": "{tmp}/xdg"}, "{tmp}/xdg/rustkmod-roulette/modules"),
    ({"ROULETTE_CACHE_DIR": "", "XDG_CACHE_HOME": ""}, "{tmp}/home/.cache/rustkmod-roulette/modules"),
    ({}, "{tmp}/home/.cache/rustkmod-roulette/modules"),
])
def test_the_default_cache_follows_the_environment(lookup, monkeypatch, tmp_path, env, expected):
    for name in ("ROULETTE_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name, value in env.items():
        monkeypatch.setenv(name, value.format(tmp=tmp_path))
    assert lookup.run([], {}) == [expected.format(tmp=tmp_path)]


def test_terms_are_refused(lookup):
    with pytest.raises(AnsibleLookupError, match="takes no terms"):
        lookup.run(["modules"], {})
