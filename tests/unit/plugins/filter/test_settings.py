# SPDX-License-Identifier: GPL-3.0-or-later
"""settings_problems: every rule, with values it must take and values it must refuse."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.rustkmod.roulette.plugins.filter.build_method_problems import (
    FilterModule as BuildMethodFilters,
)
from ansible_collections.rustkmod.roulette.plugins.filter.build_method_problems import build_method_problems
from ansible_collections.rustkmod.roulette.plugins.filter.settings import RULES, FilterModule, settings_problems

GOOD = [
    ("roulette_chance", None), ("roulette_chance", ""), ("roulette_chance", 0), ("roulette_chance", 100),
    ("roulette_chance", 5), ("roulette_chance", "5"), ("roulette_chance", "100"), ("roulette_chance", "007"),
    ("roulette_spin_expect_chance", "50"), ("roulette_spin_expect_chance", None),
    ("roulette_spin_count", 0), ("roulette_spin_count", 1), ("roulette_spin_count", "10000000"),
    ("roulette_spin_count", 10_000_000),
    ("roulette_spin_max_deaths", None), ("roulette_spin_max_deaths", ""), ("roulette_spin_max_deaths", 1),
    ("roulette_spin_max_deaths", "3"), ("roulette_spin_max_fleet_deaths", 1000), ("roulette_spin_max_fleet_deaths", None),
    ("roulette_spin_max_fleet_deaths", "2"),
    ("roulette_spin_timeout", 10), ("roulette_spin_timeout", 0.5), ("roulette_spin_timeout", "10"),
    ("roulette_spin_timeout", "2.5"), ("roulette_spin_timeout", ".5"), ("roulette_spin_timeout", 3600),
    ("roulette_spin_timeout", "3600.0"),
    ("roulette_batch", 1), ("roulette_batch", "3"), ("roulette_batch", "1%"), ("roulette_batch", "100%"),
    ("roulette_batch", "50%"), ("roulette_batch", [1, "5", "50%", "100%"]), ("roulette_batch", ("10%",)),
    ("roulette_spin_batch", "25%"),
    ("roulette_max_fail_percentage", 0), ("roulette_max_fail_percentage", 100), ("roulette_max_fail_percentage", 12.5),
    ("roulette_max_fail_percentage", "30"), ("roulette_max_fail_percentage", "99.9"),
    ("roulette_spin_max_fail_percentage", 50),
    ("kmod_load_device", "/dev/kernel-roulette"), ("kmod_load_device", "/dev/x"),
    ("kmod_load_device", "/dev/roulette/dev.0"), ("kmod_load_device", "/dev/a_b-C.9"), ("kmod_load_device", "/dev/..."),
    ("kmod_load_device", "/dev/" + "a" * 4091),
    ("kmod_load_device_owner", "root"), ("kmod_load_device_owner", "_svc"), ("kmod_load_device_owner", "build-bot"),
    ("kmod_load_device_owner", "machine$"), ("kmod_load_device_owner", "a" * 32), ("kmod_load_device_owner", "0"),
    ("kmod_load_device_owner", "1000"), ("kmod_load_device_owner", 1000), ("kmod_load_device_owner", 0),
    ("kmod_load_device_group", ""), ("kmod_load_device_group", "roulette"), ("kmod_load_device_group", "1001"),
    ("kmod_load_device_group", 1001),
    ("kmod_load_device_mode", "0600"), ("kmod_load_device_mode", "0660"), ("kmod_load_device_mode", "0640"),
    ("kmod_load_device_mode", "600"), ("kmod_load_device_mode", "0700"), ("kmod_load_device_mode", "0000"),
    ("kmod_load_device_mode", "0770"),
    ("kmod_build_method", "ansible"), ("kmod_build_method", "dkms"),
]
GOOD += [(name, value) for name in ("roulette_armed", "roulette_allow_panic", "roulette_reboot_ok", "kmod_load_persist")
         for value in (True, False, "yes", "no", "true", "false", "1", "0", "YES", "No", "True", "FALSE", "on", "Off")]

BAD = [
    ("roulette_chance", True), ("roulette_chance", False), ("roulette_chance", 2.5), ("roulette_chance", 5.0),
    ("roulette_chance", "abc"), ("roulette_chance", -1), ("roulette_chance", "-1"), ("roulette_chance", 101),
    ("roulette_chance", "101"), ("roulette_chance", " 5"), ("roulette_chance", "5\n"), ("roulette_chance", "5.0"),
    ("roulette_chance", "\u0665"), ("roulette_chance", [5]), ("roulette_chance", {"a": 1}), ("roulette_chance", "1" * 5000),
    ("roulette_spin_expect_chance", 101),
    ("roulette_spin_count", None), ("roulette_spin_count", ""), ("roulette_spin_count", -1), ("roulette_spin_count", "abc"),
    ("roulette_spin_count", 10_000_001), ("roulette_spin_count", True), ("roulette_spin_count", 1.5),
    ("roulette_spin_count", "1e3"),
    ("roulette_spin_max_deaths", 0), ("roulette_spin_max_deaths", "0"), ("roulette_spin_max_deaths", "abc"),
    ("roulette_spin_max_deaths", -3), ("roulette_spin_max_deaths", True),
    ("roulette_spin_max_fleet_deaths", "abc"), ("roulette_spin_max_fleet_deaths", 0), ("roulette_spin_max_fleet_deaths", 1.5),
    ("roulette_spin_max_fleet_deaths", False),
    ("roulette_spin_timeout", 0), ("roulette_spin_timeout", -1), ("roulette_spin_timeout", float("nan")),
    ("roulette_spin_timeout", float("inf")), ("roulette_spin_timeout", "nan"), ("roulette_spin_timeout", "inf"),
    ("roulette_spin_timeout", 3600.5), ("roulette_spin_timeout", 1e300), ("roulette_spin_timeout", 10 ** 40), ("roulette_spin_timeout", "abc"),
    ("roulette_spin_timeout", None), ("roulette_spin_timeout", True), ("roulette_spin_timeout", ""),
    ("roulette_spin_timeout", "0"),
    ("roulette_batch", "abc"), ("roulette_batch", 0), ("roulette_batch", "0"), ("roulette_batch", -1),
    ("roulette_batch", "0%"), ("roulette_batch", "101%"), ("roulette_batch", "50.5%"), ("roulette_batch", "%"),
    ("roulette_batch", "50 %"), ("roulette_batch", []), ("roulette_batch", [1, "abc"]), ("roulette_batch", [[1]]),
    ("roulette_batch", None), ("roulette_batch", True), ("roulette_batch", 2.0), ("roulette_batch", {"a": 1}),
    ("roulette_spin_batch", "abc"),
    ("roulette_max_fail_percentage", -1), ("roulette_max_fail_percentage", 101), ("roulette_max_fail_percentage", "abc"),
    ("roulette_max_fail_percentage", float("nan")), ("roulette_max_fail_percentage", True),
    ("roulette_max_fail_percentage", None), ("roulette_max_fail_percentage", "100.5"),
    ("roulette_spin_max_fail_percentage", "abc"),
    ("kmod_load_device", "/dev/x;reboot;#"), ("kmod_load_device", "/dev/../etc/passwd"), ("kmod_load_device", "/dev/"),
    ("kmod_load_device", "/tmp/x"), ("kmod_load_device", "dev/x"), ("kmod_load_device", "/dev//x"),
    ("kmod_load_device", "/dev"), ("kmod_load_device", "/dev/x/"), ("kmod_load_device", "/dev/./x"),
    ("kmod_load_device", "/dev/x/.."), ("kmod_load_device", "/dev/x/."), ("kmod_load_device", "/dev/x y"),
    ("kmod_load_device", "/dev/$(reboot)"), ("kmod_load_device", "/dev/x\n"), ("kmod_load_device", "/dev/x\nreboot"),
    ("kmod_load_device", "/devx"), ("kmod_load_device", "/dev/" + "a" * 4092), ("kmod_load_device", None),
    ("kmod_load_device", ""), ("kmod_load_device", 5), ("kmod_load_device", "/dev/caf\u00e9"),
    ("kmod_load_device", "//dev/x"), ("kmod_load_device", "/dev/x'"),
    ("kmod_load_device_owner", ""), ("kmod_load_device_owner", "Root"), ("kmod_load_device_owner", "1user"),
    ("kmod_load_device_owner", "a" * 33), ("kmod_load_device_owner", "root;reboot"), ("kmod_load_device_owner", "ro ot"),
    ("kmod_load_device_owner", "-x"), ("kmod_load_device_owner", "$"), ("kmod_load_device_owner", "a$b"),
    ("kmod_load_device_owner", -1), ("kmod_load_device_owner", "-1"), ("kmod_load_device_owner", 4294967295),
    ("kmod_load_device_owner", True), ("kmod_load_device_owner", None), ("kmod_load_device_owner", "root\n"),
    ("kmod_load_device_group", "Wheel"), ("kmod_load_device_group", "a b"), ("kmod_load_device_group", None),
    ("kmod_load_device_group", False),
    ("kmod_load_device_mode", 384), ("kmod_load_device_mode", 600), ("kmod_load_device_mode", "0644"),
    ("kmod_load_device_mode", "0666"), ("kmod_load_device_mode", "0601"), ("kmod_load_device_mode", "4600"),
    ("kmod_load_device_mode", "2660"), ("kmod_load_device_mode", "1600"), ("kmod_load_device_mode", "0800"),
    ("kmod_load_device_mode", "60"), ("kmod_load_device_mode", "00600"), ("kmod_load_device_mode", "u=rw"),
    ("kmod_load_device_mode", ""), ("kmod_load_device_mode", None), ("kmod_load_device_mode", True),
    ("kmod_load_device_mode", "0600\n"), ("kmod_load_device_mode", 0o600),
    ("kmod_build_method", "DKMS"), ("kmod_build_method", "kbuild"), ("kmod_build_method", ""),
    ("kmod_build_method", None), ("kmod_build_method", True), ("kmod_build_method", ["dkms"]),
    ("kmod_build_method", "dkms "),
]
BAD += [(name, value) for name in ("roulette_armed", "roulette_allow_panic", "roulette_reboot_ok", "kmod_load_persist")
        for value in ("maybe", "", None, 1, 0, 2, 1.0, "y", "n", "t", "2", "yes please", [True])]


def _ids(cases):
    """Test ids that stay short (and never str() an int too large for it)."""
    return [("%s=%s" % (name, "<huge int>" if isinstance(value, int) and abs(value) > 10 ** 30 else repr(value)))[:60]
            for name, value in cases]


@pytest.mark.parametrize("name, value", GOOD, ids=_ids(GOOD))
def test_good_values_give_no_message(name, value):
    assert settings_problems({name: value}) == []


@pytest.mark.parametrize("name, value", BAD, ids=_ids(BAD))
def test_bad_values_give_one_message_naming_variable_and_value(name, value):
    problems = settings_problems({name: value})
    assert len(problems) == 1
    message = problems[0]
    assert message.startswith(name + " must be ")
    shown = "null" if value is None else ("true" if value is True else "false") if isinstance(value, bool) else repr(value)[:40]
    assert shown in message


def test_every_rule_is_tested_both_ways():
    names = {name for name, _, _ in RULES}
    assert names == {name for name, _ in GOOD} == {name for name, _ in BAD}


def test_empty_and_absent_names_are_not_checked():
    assert settings_problems({}) == []
    assert settings_problems({"roulette_chance": 5}) == []


def test_several_bad_values_give_several_messages_in_a_fixed_order():
    problems = settings_problems({"roulette_batch": "abc", "roulette_chance": "abc", "roulette_armed": "maybe",
                                  "kmod_load_device": "/dev/ok"})
    assert [p.split(" ", 1)[0] for p in problems] == ["roulette_armed", "roulette_chance", "roulette_batch"]


@pytest.mark.parametrize("value, shown", [
    ("abc", "'abc' (a string)"), (True, "true (a boolean)"), (2.5, "2.5 (a float)"), (-1, "-1 (an integer)"),
    ("5\n", "'5\\n' (a string)"), (10 ** 5000, "an integer of 16610 bits"), ("1" * 500, "... (500 characters)"),
    ([10 ** 5000], "... (a list)"),
], ids=["str", "bool", "float", "negative", "newline", "huge int", "long str", "list of huge int"])
def test_messages_show_the_value_given_and_what_is_allowed(value, shown):
    message = settings_problems({"roulette_chance": value})[0]
    assert shown in message
    assert "an integer from 0 to 100" in message and "random" in message


def test_null_is_shown_as_null():
    assert settings_problems({"roulette_spin_count": None}) == [
        "roulette_spin_count must be an integer from 0 to 10000000 (a number or a string of digits); got null."]


def test_an_unquoted_yaml_mode_is_told_to_be_quoted():
    message = settings_problems({"kmod_load_device_mode": 384})[0]
    assert message.endswith('got 384 (an integer): YAML reads an unquoted 0600 as the number 384, quote it, e.g. "0600".')
    message = settings_problems({"kmod_load_device_mode": "0644"})[0]
    assert "no permission for others" in message and "quote it" not in message


def test_a_value_shown_cannot_break_the_message_into_lines():
    message = settings_problems({"kmod_load_device": "/dev/x\n- name: injected"})[0]
    assert "\n" not in message


def test_unknown_names_and_non_dicts_are_errors():
    with pytest.raises(AnsibleFilterError, match="does not know how to check roulette_chanse"):
        settings_problems({"roulette_chanse": 5})
    with pytest.raises(AnsibleFilterError, match="expects a dict"):
        settings_problems(["roulette_chance"])


def test_registered_under_its_name():
    assert FilterModule().filters()["settings_problems"] is settings_problems


# --- kmod_build_method: dkms and what contradicts it ------------------------------------


@pytest.mark.parametrize("settings, build_host", [
    ({}, False), ({}, True),
    ({"kmod_build_method": "ansible", "kmod_build_releases": ["6.1.0-27-amd64"]}, True),
    ({"kmod_build_method": "dkms"}, False),
    ({"kmod_build_method": "dkms", "kmod_build_releases": []}, False),
    ({"kmod_build_method": "dkms", "kmod_build_releases": None}, False),
    ({"kmod_build_method": "dkms", "kmod_build_releases": ""}, False),
    ({"kmod_build_method": "bogus", "kmod_build_releases": ["x"]}, True),  # settings_problems names the value
])
def test_settings_that_agree_with_the_build_method(settings, build_host):
    assert build_method_problems(settings, "t1", build_host) == []


def test_dkms_on_a_build_host_is_refused_naming_the_group():
    (problem,) = build_method_problems({"kmod_build_method": "dkms"}, "b12", True)
    assert problem.startswith("kmod_build_method: dkms makes a target build the module for itself")
    assert "b12 is in the group roulette_build" in problem and "take b12 out of roulette_build" in problem


@pytest.mark.parametrize("releases", [["6.1.0-28-amd64"], "6.1.0-28-amd64", ["6.1.0-27-amd64", "6.1.0-28-amd64"]])
def test_dkms_with_kernels_named_is_refused_showing_them(releases):
    (problem,) = build_method_problems({"kmod_build_method": "dkms", "kmod_build_releases": releases}, "t1")
    assert "kmod_build_releases cannot choose kernels for it" in problem and "6.1.0-28-amd64" in problem
    assert "Remove kmod_build_releases for t1" in problem


def test_both_contradictions_give_two_messages():
    assert len(build_method_problems({"kmod_build_method": "dkms", "kmod_build_releases": ["x"]}, "h", True)) == 2


def test_build_method_problems_wants_a_dict():
    with pytest.raises(AnsibleFilterError, match="dict of variable names"):
        build_method_problems(["kmod_build_method"])
    assert "build_method_problems" in BuildMethodFilters().filters()
