# -*- coding: utf-8 -*-
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The build plan of a run: build_plan and module_sources.

Runs on the controller (filter plugins), in ansible-core's Python. build_plan
reads the controller's module cache (plugin_utils/module_cache.py), once per
kernel release. Each filter is documented in its own file beside this one
(build_plan.yml, module_sources.yml).
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

from ansible_collections.rustkmod.roulette.plugins.plugin_utils.module_cache import default_cache, find_module

_CACHE_KEYS = ("dir", "source", "extra_patches", "real_panic")
_NO_BUILDER = ("No module for kernel {release}: the build host(s) {hosts} of {release_ids} failed (their error is "
               "above). Fix that, or leave this release out of roulette_build to build on the first target.")


def _names(value, what):
    """A list of host names without repeats, in order; None is []."""
    if value is None:
        return []
    if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
        raise AnsibleFilterError("build_plan: %s must be a list of host names, not %r" % (what, value))
    seen, names = set(), []
    for name in value:
        name = str(name)
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def _verdict(hostvars, host):
    """(kernel_release, release_id, build_method) of the host's preflight verdict, or None when it has none.

    build_method is ansible when the verdict has none (one of an earlier release of the collection).
    """
    if host not in hostvars:
        return None
    verdict = hostvars[host].get("preflight_verdict")
    if verdict is None:
        return None
    if not isinstance(verdict, Mapping):
        raise AnsibleFilterError("build_plan: the preflight_verdict of %s is not a dict: %r" % (host, verdict))
    fields = []
    for name in ("kernel_release", "release_id"):
        value = verdict.get(name)
        if not isinstance(value, str) or not value:
            raise AnsibleFilterError("build_plan: the preflight_verdict of %s has no %s (a non-empty string): %r"
                                     % (host, name, value))
        fields.append(value)
    method = verdict.get("build_method", "ansible")
    if method not in ("ansible", "dkms"):
        raise AnsibleFilterError("build_plan: the preflight_verdict of %s has build_method %r (ansible or dkms)"
                                 % (host, method))
    return tuple(fields) + (method,)


def _cache_query(cache):
    """(directory, source, extra_patches, real_panic), or None when the cache is not to be read."""
    if cache is None or cache is False or (isinstance(cache, Mapping) and not cache):
        return None
    if not isinstance(cache, Mapping):
        raise AnsibleFilterError("build_plan: cache must be a dict (or null), not %r" % (cache,))
    unknown = sorted(set(cache) - set(_CACHE_KEYS))
    if unknown:
        raise AnsibleFilterError("build_plan: unknown cache option(s) %s (known: %s)"
                                 % (", ".join(map(str, unknown)), ", ".join(_CACHE_KEYS)))
    source = cache.get("source")
    if not isinstance(source, str) or not source:
        raise AnsibleFilterError("build_plan: the cache query needs source, the tree_hash of the driver source")
    patches = cache.get("extra_patches") or []
    if isinstance(patches, (str, bytes, Mapping)) or not all(isinstance(p, str) for p in patches):
        raise AnsibleFilterError("build_plan: the cache query's extra_patches must be a list of SHA-256 strings, "
                                 "not %r" % (patches,))
    real_panic = cache.get("real_panic", False)
    if not isinstance(real_panic, bool):
        raise AnsibleFilterError("build_plan: the cache query's real_panic must be true or false, not %r" % (real_panic,))
    directory = cache.get("dir") or default_cache()
    return directory, source, list(patches), real_panic


def build_plan(hostvars, targets, build_hosts=None, play_hosts=None, cache=None):
    if not isinstance(hostvars, Mapping):
        raise AnsibleFilterError("build_plan expects hostvars (a mapping of host to variables)")
    alive = set(_names(play_hosts, "play_hosts"))
    query = _cache_query(cache)

    # The targets still in the play, by kernel release, in their order. A target with
    # build_method dkms builds for itself through DKMS: it is in no release's plan.
    releases, target_release, dkms = {}, {}, {}
    for host in _names(targets, "targets"):
        verdict = _verdict(hostvars, host) if host in alive else None
        if verdict is None:
            continue
        release, release_id, method = verdict
        if method == "dkms":
            dkms[host] = release
            continue
        entry = releases.setdefault(release, {"release_ids": [], "targets": []})
        entry["targets"].append(host)
        if release_id not in entry["release_ids"]:
            entry["release_ids"].append(release_id)
        target_release[host] = release

    # The build hosts with a verdict, by OS release: those in the play build, the others failed.
    live, failed, build_host_release_id = {}, {}, {}
    for host in _names(build_hosts, "build_hosts"):
        verdict = _verdict(hostvars, host)
        if verdict is None:
            continue
        release_id = verdict[1]
        (live if host in alive else failed).setdefault(release_id, []).append(host)
        if host in alive:
            build_host_release_id[host] = release_id

    # Where each release's module comes from: the cache (asked once per release), else the live
    # build hosts of its OS release, else none when all of those failed, else its first target.
    warn = Display().warning
    for release, entry in releases.items():
        cached = find_module(query[0], release, query[1], query[2], query[3], warn=warn) if query else ""
        servers, down, problem = [], [], ""
        if cached:
            source, builder = "cache", ""
        else:
            servers = [host for rid in entry["release_ids"] for host in live.get(rid, [])]
            down = [host for rid in entry["release_ids"] for host in failed.get(rid, [])]
            if servers:
                source, builder = "build_host", servers[0]
            elif down:
                source, builder = "none", ""
                problem = _NO_BUILDER.format(release=release, hosts=", ".join(down),
                                             release_ids=", ".join(entry["release_ids"]))
            else:
                source, builder = "target", entry["targets"][0]
        entry.update(source=source, builder=builder, cached=cached, build_hosts=servers, failed_build_hosts=down,
                     problem=problem)

    plan_build_hosts = {}
    for host, release_id in build_host_release_id.items():
        wanted = [r for r, e in releases.items() if release_id in e["release_ids"]]
        plan_build_hosts[host] = {"release_id": release_id, "wanted": wanted,
                                  "releases": [r for r in wanted if host in releases[r]["build_hosts"]]}

    return {
        "build_hosts": plan_build_hosts,
        "releases": releases,
        "dkms": dkms,
        "targets": {host: {"release": release, "builder": releases[release]["builder"],
                           "cached": releases[release]["cached"]}
                    for host, release in target_release.items()},
    }


def _built(hostvars, host, release):
    """The module `host` built for `release` in this run (kmod_build_modules), or ''."""
    if host not in hostvars:
        return ""
    modules = hostvars[host].get("kmod_build_modules")
    return (modules.get(release) or "") if isinstance(modules, Mapping) else ""


def _source(release, entry, hostvars, alive):
    """Where the module of `release` comes from now: cached, builder and problem."""
    result = {"cached": entry["cached"], "builder": "", "problem": ""}
    if entry["cached"]:
        return result
    if entry["build_hosts"] or entry["failed_build_hosts"]:
        # A build host that built the release in this run; else all of them failed.
        for server in entry["build_hosts"]:
            if _built(hostvars, server, release):
                result["builder"] = server
                return result
        result["problem"] = _NO_BUILDER.format(
            release=release, hosts=", ".join(entry["build_hosts"] + entry["failed_build_hosts"]),
            release_ids=", ".join(entry["release_ids"]))
        return result
    # The first target of the release that built it in this run or is still in the play: the
    # planned builder, unless it failed before building (seen from a later serial batch). Any
    # target that asks is in the play, so the search ends at the latest there.
    for target in entry["targets"]:
        if target in alive or _built(hostvars, target, release):
            result["builder"] = target
            return result
    result["problem"] = "No module for kernel %s: every target running it failed (their error is above)." % release
    return result


def module_sources(plan, hostvars, play_hosts=None):
    try:
        releases = plan["releases"]
        entries = list(releases.items())
    except (KeyError, TypeError, AttributeError):
        raise AnsibleFilterError("module_sources expects the plan build_plan returned") from None
    alive = set(_names(play_hosts, "play_hosts"))
    return {release: _source(release, entry, hostvars, alive) for release, entry in entries}


class FilterModule(object):
    def filters(self):
        return {"build_plan": build_plan, "module_sources": module_sources}
