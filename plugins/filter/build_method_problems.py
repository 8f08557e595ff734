# -*- coding: utf-8 -*-
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The build_method_problems filter: settings of a host that contradict kmod_build_method dkms.

Runs on the controller (a filter plugin), in ansible-core's Python. Documented in
build_method_problems.yml beside this file.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.rustkmod.roulette.plugins.filter.settings import _show


def build_method_problems(settings, host="", build_host=False):
    """Messages about settings of `host` that contradict kmod_build_method: dkms; [] when none do.

    `settings` maps the names given for the host (kmod_build_method, kmod_build_releases) to their raw
    values; `build_host` says whether the host is in the group roulette_build.
    """
    if not isinstance(settings, Mapping):
        raise AnsibleFilterError("build_method_problems expects a dict of variable names to values, got %s"
                                 % type(settings).__name__)
    if settings.get("kmod_build_method") != "dkms":
        return []
    problems = []
    if build_host is True:
        problems.append(
            "kmod_build_method: dkms makes a target build the module for itself, through DKMS, for every kernel it"
            " installs; %s is in the group roulette_build, whose hosts build for other targets. Set dkms only for"
            " targets (the group roulette), or take %s out of roulette_build." % (host or "this host", host or "it"))
    releases = settings.get("kmod_build_releases")
    if releases not in (None, "", [], ()):
        problems.append(
            "kmod_build_method: dkms builds for the running kernel and, through DKMS's kernel hooks, for every kernel"
            " installed later; kmod_build_releases cannot choose kernels for it (got %s). Remove kmod_build_releases"
            " for %s, or use kmod_build_method: ansible." % (_show(releases), host or "this host"))
    return problems


class FilterModule(object):
    def filters(self):
        return {"build_method_problems": build_method_problems}
