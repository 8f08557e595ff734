# SPDX-License-Identifier: GPL-3.0-or-later
"""host_settings_problems: settings_problems over a fleet's hostvars, one read per host."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from ansible.errors import AnsibleFilterError, AnsibleUndefinedVariable
from ansible_collections.rustkmod.roulette.plugins.filter.host_settings_problems import FilterModule, host_settings_problems
from ansible_collections.rustkmod.roulette.plugins.filter.settings import settings_problems
from jinja2 import Undefined

NAMES = ["roulette_armed", "roulette_chance", "kmod_load_device", "kmod_load_device_mode"]


class HostVars(Mapping):
    """hostvars as Ansible gives it: host -> that host's variables, each templated when taken; counts the reads."""

    def __init__(self, hosts):
        self.hosts, self.reads = hosts, []

    def __getitem__(self, host):
        self.reads.append(host)
        return self.hosts[host]

    def __contains__(self, host):  # as Ansible's: asks the inventory, reads no variable
        return host in self.hosts

    def __iter__(self):
        return iter(self.hosts)

    def __len__(self):
        return len(self.hosts)


class Variables(dict):
    """A host's variables whose value `broken` cannot be templated (raises), `undefined` is Jinja's Undefined."""

    def __getitem__(self, name):
        value = dict.__getitem__(self, name)
        if value == "broken":
            raise AnsibleUndefinedVariable("'no_such_variable' is undefined")
        if value == "undefined":
            return Undefined(hint="'other_variable' is undefined")
        return value


def test_only_the_hosts_with_a_bad_value_are_returned_with_settings_problems_messages():
    hostvars = HostVars({"good": {"roulette_chance": 5, "roulette_armed": True, "unrelated": "abc"},
                         "bad": {"roulette_chance": "abc", "kmod_load_device_mode": 384},
                         "none": {}, "ungrouped": {"roulette_chance": "abc"}})
    found = host_settings_problems(hostvars, ["good", "bad", "none", "bad"], NAMES)
    assert found == {"bad": settings_problems({"roulette_chance": "abc", "kmod_load_device_mode": 384})}
    assert hostvars.reads == ["good", "bad", "none"]  # once each, and only the hosts asked about


def test_a_name_not_asked_about_is_not_checked_and_an_unknown_host_is_skipped():
    hostvars = HostVars({"h": {"roulette_chance": "abc", "kmod_load_device": "/tmp/x"}})
    assert host_settings_problems(hostvars, ["h", "gone"], ["kmod_load_device"]) == {
        "h": settings_problems({"kmod_load_device": "/tmp/x"})}


def test_a_value_that_cannot_be_read_refuses_its_host_by_name_and_the_others_are_still_checked():
    hostvars = HostVars({"a": Variables(roulette_chance="broken", kmod_load_device="/tmp/x"),
                         "b": Variables(roulette_armed="undefined"), "c": Variables(roulette_chance=101)})
    found = host_settings_problems(hostvars, ["a", "b", "c"], NAMES)
    assert found["a"] == ["roulette_chance cannot be read: 'no_such_variable' is undefined."] + settings_problems(
        {"kmod_load_device": "/tmp/x"})
    assert found["b"] == ["roulette_armed cannot be read: 'other_variable' is undefined."]
    assert found["c"] == settings_problems({"roulette_chance": 101})


@pytest.mark.parametrize("hostvars, hosts, names, words", [
    ([], ["h"], NAMES, "hostvars"),
    ({}, "h", NAMES, "hosts must be a list"),
    ({}, ["h"], "roulette_chance", "names must be a list"),
    ({}, ["h"], ["roulette_chanse"], "does not know how to check roulette_chanse"),
])
def test_bad_arguments_are_errors(hostvars, hosts, names, words):
    with pytest.raises(AnsibleFilterError, match=words):
        host_settings_problems(hostvars, hosts, names)


def test_the_filter_is_registered():
    assert FilterModule().filters() == {"host_settings_problems": host_settings_problems}


def test_among_leaves_out_the_hosts_that_are_not_in_it_and_keeps_the_order_of_hosts():
    hostvars = HostVars({name: {"roulette_chance": "abc"} for name in ("z", "a", "ungrouped", "m")})
    found = host_settings_problems(hostvars, ["z", "ungrouped", "a", "m"], NAMES, among=["m", "a", "z", "elsewhere"])
    assert list(found) == ["z", "a", "m"]
    assert hostvars.reads == ["z", "a", "m"]
    with pytest.raises(AnsibleFilterError, match="among must be a list"):
        host_settings_problems(hostvars, ["z"], NAMES, among="z")


def test_with_build_hosts_the_build_method_is_checked_against_the_hosts_place_and_kernels():
    hostvars = HostVars({
        "dkms-target": {"kmod_build_method": "dkms"},
        "dkms-builder": {"kmod_build_method": "dkms"},
        "dkms-pinned": {"kmod_build_method": "dkms", "kmod_build_releases": ["6.1.0-58-amd64"]},
        "ansible-builder": {"kmod_build_method": "ansible", "kmod_build_releases": ["6.1.0-58-amd64"]},
        "bad-and-dkms-builder": {"kmod_build_method": "dkms", "roulette_chance": "abc"},
    })
    found = host_settings_problems(hostvars, list(hostvars), ["roulette_chance", "kmod_build_method"],
                                   build_hosts=["dkms-builder", "ansible-builder", "bad-and-dkms-builder"])
    assert sorted(found) == ["bad-and-dkms-builder", "dkms-builder", "dkms-pinned"]
    assert "dkms-builder is in the group roulette_build" in found["dkms-builder"][0]
    assert "kmod_build_releases cannot choose kernels" in found["dkms-pinned"][0]
    # Every problem of a host at once, as the per-host check gave them.
    assert [m.split(" ")[0] for m in found["bad-and-dkms-builder"]] == ["roulette_chance", "kmod_build_method:"]
    # Without build_hosts, only the values on their own (what the filter did before).
    assert sorted(host_settings_problems(hostvars, list(hostvars), ["roulette_chance", "kmod_build_method"])) == [
        "bad-and-dkms-builder"]


def test_a_build_method_setting_that_cannot_be_read_is_said_once():
    hostvars = HostVars({"h": Variables(kmod_build_method="broken")})
    found = host_settings_problems(hostvars, ["h"], ["kmod_build_method"], build_hosts=[])
    assert len(found["h"]) == 1 and found["h"][0].startswith("kmod_build_method cannot be read:")
