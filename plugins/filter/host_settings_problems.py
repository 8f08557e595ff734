# -*- coding: utf-8 -*-
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host_settings_problems filter: settings_problems over many hosts at once. Runs on the controller."""

from __future__ import annotations

DOCUMENTATION = r"""
name: host_settings_problems
short_description: Check the raw values of the collection's per-host variables on many hosts at once
version_added: 1.0.0
description:
  - Reads, for each of the given hosts, the given variables as the inventory, C(group_vars) or C(-e) gave them
    (through C(hostvars), once per host) and checks them as P(rustkmod.roulette.settings_problems#filter) does.
  - Returns the hosts with at least one bad value, each with its messages; an empty dict when every value is fine.
    Meant for one C(run_once) task over a fleet, where a task per host would cost Ansible a worker per host.
  - A value that cannot be templated (it names an undefined variable, say) refuses its host with a message naming
    the variable; the other hosts are still checked.
  - A variable name the filter does not know is an error, so a typo cannot pass unchecked.
author: rustkmod.roulette maintainers (@rustkmod)
positional: hosts, names
options:
  _input:
    description: C(hostvars).
    type: dict
    required: true
  hosts:
    description: The hosts to check, in the order of the result (say C(ansible_play_hosts)).
    type: list
    elements: str
    required: true
  names:
    description: The variables to check, among those P(rustkmod.roulette.settings_problems#filter) knows.
    type: list
    elements: str
    required: true
  among:
    description:
      - When given, only the hosts of O(hosts) that are also in this list are checked (say the members of the groups
        C(roulette) and C(roulette_build)). Read once, as a set; Jinja's C(select('in', ...)) over a fleet would
        convert the list it is given once per host, a cost that grows with the square of the hosts.
    type: list
    elements: str
  build_hosts:
    description:
      - When given, each checked host's C(kmod_build_method) and C(kmod_build_releases) are also checked against each
        other and against the host's place (a member of this list, say the group C(roulette_build), builds for others)
        as P(rustkmod.roulette.build_method_problems#filter) does.
    type: list
    elements: str
seealso:
  - plugin: rustkmod.roulette.settings_problems
    plugin_type: filter
  - plugin: rustkmod.roulette.build_method_problems
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Find the hosts whose own settings are invalid, once for the play
  ansible.builtin.set_fact:
    refused: >-
      {{ hostvars | rustkmod.roulette.host_settings_problems(ansible_play_hosts,
                                                             ['roulette_chance', 'roulette_armed', 'kmod_load_device']) }}
  run_once: true
# {"lab-07": ["roulette_chance must be an integer from 0 to 100 ...; got 'abc' (a string)."]}
"""

RETURN = r"""
_value:
  description: Host name to its messages (as P(rustkmod.roulette.settings_problems#filter) gives them), only for the
    hosts with a bad value.
  type: dict
  sample:
    lab-07:
      - "roulette_chance must be an integer from 0 to 100 (a number or a string of digits), or null or '' to let
        the driver pick one at random; got 'abc' (a string)."
"""

from collections.abc import Mapping

from ansible.errors import AnsibleError, AnsibleFilterError
from jinja2 import TemplateError, Undefined, UndefinedError

from ansible_collections.rustkmod.roulette.plugins.filter.build_method_problems import build_method_problems
from ansible_collections.rustkmod.roulette.plugins.filter.settings import RULES, settings_problems

_KNOWN = tuple(name for name, _, _ in RULES)
# What kmod_build_method: dkms must agree with (roles/preflight/vars/main.yml's __preflight_build_method_settings).
_METHOD_SETTINGS = ("kmod_build_method", "kmod_build_releases")


def _strings(value, what):
    if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
        raise AnsibleFilterError("host_settings_problems: %s must be a list, not %r" % (what, value))
    return [str(item) for item in value]


def host_settings_problems(hostvars, hosts, names, among=None, build_hosts=None):
    """{host: its messages} for the hosts of `hosts` (those also in `among`, when given) whose values of
    `names` are bad, or (with `build_hosts`) whose build method contradicts their other settings;
    {} when all are fine."""
    if not isinstance(hostvars, Mapping):
        raise AnsibleFilterError("host_settings_problems expects hostvars (a mapping of host to variables)")
    names = _strings(names, "names")
    unknown = sorted(name for name in names if name not in _KNOWN)
    if unknown:
        raise AnsibleFilterError("host_settings_problems does not know how to check %s (it checks %s)"
                                 % (", ".join(unknown), ", ".join(_KNOWN)))
    names = [name for name in _KNOWN if name in names]  # the order settings_problems gives its messages in
    among = None if among is None else set(_strings(among, "among"))
    build_hosts = None if build_hosts is None else set(_strings(build_hosts, "build_hosts"))
    found = {}
    for host in dict.fromkeys(_strings(hosts, "hosts")):
        if host not in hostvars or (among is not None and host not in among):
            continue
        variables = hostvars[host]  # one read of the host's variables; each value is templated when taken
        problems = []
        for name in names:
            if name in variables:
                problems.extend(_problems(name, variables))
        if build_hosts is not None:
            # A value that cannot be read is said once, by whichever check read it first.
            problems.extend(p for p in _method_problems(host, variables, host in build_hosts) if p not in problems)
        if problems:
            found[host] = problems
    return found


def _problems(name, variables):
    """settings_problems of one variable of a host, or why its value cannot be read."""
    try:
        value = variables[name]
        if isinstance(value, Undefined):  # what Ansible gives for a template naming an undefined variable
            raise UndefinedError(value._undefined_message)
        return settings_problems({name: value})
    except (AnsibleError, TemplateError) as exc:  # UndefinedError is a TemplateError
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return ["%s cannot be read: %s." % (name, reason.rstrip("."))]


def _method_problems(host, variables, build_host):
    """build_method_problems of a host's kmod_build_method and kmod_build_releases, or why one cannot be read."""
    given = {}
    for name in _METHOD_SETTINGS:
        if name in variables:
            try:
                given[name] = variables[name]
                if isinstance(given[name], Undefined):
                    raise UndefinedError(given[name]._undefined_message)
            except (AnsibleError, TemplateError) as exc:
                reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                return ["%s cannot be read: %s." % (name, reason.rstrip("."))]
    return build_method_problems(given, host, build_host)


class FilterModule(object):
    def filters(self):
        return {"host_settings_problems": host_settings_problems}
