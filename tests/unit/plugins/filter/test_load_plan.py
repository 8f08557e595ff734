# SPDX-License-Identifier: GPL-3.0-or-later
"""The load decision: from the driver's state, the wanted module and chance; never from
whether this run copied a file."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.rustkmod.roulette.plugins.filter.load_plan import load_plan

LOADED = {"loaded": True, "version": "AAAA", "srcversion": "S1", "chance": 5}
A = {"version": "AAAA", "srcversion": "S1"}
B = {"version": "BBBB", "srcversion": "S1"}


def test_an_unloaded_driver_is_loaded():
    assert load_plan({"loaded": False, "version": None, "chance": None}, A, 5)["action"] == "load"


def test_the_wanted_module_and_chance_loaded_is_left_alone():
    assert load_plan(LOADED, A, 5)["action"] == "none"
    assert load_plan(LOADED, A, None)["action"] == "none"
    assert load_plan(LOADED, A, "")["action"] == "none"


def test_another_module_loaded_than_the_installed_one_is_reloaded():
    plan = load_plan(LOADED, B, 5)
    assert plan["action"] == "reload" and "AAAA" in plan["reason"] and "BBBB" in plan["reason"]


def test_another_chance_is_reloaded():
    plan = load_plan(LOADED, A, "7")
    assert plan["action"] == "reload" and "7" in plan["reason"]


def test_an_unknown_version_lets_the_chance_decide():
    assert load_plan(LOADED, None, 5)["action"] == "none"
    assert load_plan(LOADED, {"version": None, "srcversion": None}, 5)["action"] == "none"
    assert load_plan(LOADED, {}, 6)["action"] == "reload"


def test_a_module_without_a_version_is_told_by_its_srcversion():
    old = {"loaded": True, "version": None, "srcversion": "S1", "chance": 5}
    assert load_plan(old, {"version": None, "srcversion": "S1"}, 5)["action"] == "none"
    assert load_plan(old, {"version": None, "srcversion": "S2"}, 5)["action"] == "reload"


@pytest.mark.parametrize("info, module, chance", [({}, A, 5), (None, A, 5), (LOADED, A, "abc"), (LOADED, "AAAA", 5)])
def test_bad_input_is_an_error(info, module, chance):
    with pytest.raises(AnsibleFilterError):
        load_plan(info, module, chance)


def test_module_file_info_reads_a_controller_file_like_roulette_info(tmp_path):
    from ansible_collections.rustkmod.roulette.plugins.filter.module_file_info import module_file_info
    missing = module_file_info(str(tmp_path / "none.ko"))
    assert missing["exists"] is False and missing["version"] is None
    text = tmp_path / "text.ko"
    text.write_text("not an ELF")
    info = module_file_info(str(text))
    assert info["exists"] and info["regular"] and info["srcversion"] is None
