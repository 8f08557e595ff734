# SPDX-License-Identifier: GPL-3.0-or-later
"""The planning part of playbooks/site.yml (its tasks tagged roulette_plan), run for real on the
controller against an inventory of local-connection hosts whose preflight verdicts are given
(no preflight runs, nothing is built or loaded): what each build host says it builds, where
each target's module comes from, the refusal when a release's build hosts built nothing, and
the controller's cache, found through kmod_build's default cache path."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from integration_support import ROOT, VENV_BIN, preflight_verdict, task_results

# The collection as scripts/setup.sh links it for ansible.cfg, to import its plugins here.
sys.path.insert(0, str(ROOT / ".venv" / "collections"))
from ansible_collections.rustkmod.roulette.plugins.lookup.tree_hash import tree_hash  # noqa: E402
from ansible_collections.rustkmod.roulette.tests.unit.plugins.lookup.lookup_helpers import write_entry  # noqa: E402

BOOKWORM = "6.1.0-27-amd64"
BOOKWORM2 = "6.1.0-28-amd64"
TRIXIE = "6.12.48+deb13-amd64"
RELEASE_ID = {BOOKWORM: "Debian-12", BOOKWORM2: "Debian-12", TRIXIE: "Debian-13", "5.10.0-32-amd64": "Debian-11"}
REFUSE = "Refuse to build here when the build hosts of this release failed"


def host(release, armed=True, **more):
    return dict({"ansible_connection": "local", "ansible_python_interpreter": "/nonexistent/python",
                 "preflight_verdict": preflight_verdict(release, RELEASE_ID[release], armed)}, **more)


def built(*releases):
    return {"kmod_build_modules": {r: "/cache/built-on-b12/%s/roulette.ko" % r for r in releases}}


def fleet(b12_built=(BOOKWORM, BOOKWORM2)):
    """t1, t3 on 6.1.0-27, t4 (unarmed) on 6.1.0-28, t2 on Debian 13 with no build host of its own;
    b12 builds for Debian 12, b11 has no target of its OS release."""
    return {
        "roulette": {"hosts": {"t1": host(BOOKWORM), "t2": host(TRIXIE), "t3": host(BOOKWORM),
                               "t4": host(BOOKWORM2, armed=False), "t5": host(TRIXIE)}},
        "roulette_build": {"hosts": {"b12": host(BOOKWORM, armed=False, **built(*b12_built)),
                                     "b11": host("5.10.0-32-amd64", armed=False)}},
    }


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache-home" / "modules"


@pytest.fixture
def plan(tmp_path, cache):
    def run(inventory, extra_vars=None):
        (tmp_path / "inventory.json").write_text(json.dumps(inventory))
        argv = [str(VENV_BIN / "ansible-playbook"), "-i", str(tmp_path / "inventory.json"),
                str(ROOT / "playbooks" / "site.yml"), "--tags", "roulette_plan"]
        if extra_vars:
            argv += ["-e", json.dumps(extra_vars)]
        # kmod_build_controller_cache is not set: its default follows ROULETTE_CACHE_DIR.
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
                   ROULETTE_CACHE_DIR=str(cache.parent))
        proc = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        try:
            report = json.loads(proc.stdout)
        except ValueError as exc:
            raise AssertionError("ansible-playbook printed no JSON:\n" + proc.stdout + proc.stderr) from exc
        assert "/nonexistent/python" not in proc.stdout, "a host was contacted"
        return proc.returncode, report
    return run


def results(report, task, hosts):
    found = {}
    for name in hosts:
        for title, result in task_results(report, name):
            if title == task:
                found[name] = result
    return found


def says(report, *hosts):
    return {name: " ".join(result["msg"].split())
            for name, result in results(report, "Say which kernel releases this host builds for", hosts).items()}


def sources(report, *hosts):
    """Where each target's module comes from: its kernel release's source, as chosen once per batch."""
    chosen = {}
    for play in report["plays"]:
        for task in play["tasks"]:
            if task["task"]["name"] == "Choose where the module comes from":
                (result,) = task["hosts"].values()
                chosen.update(result["ansible_facts"]["__site_sources"])
    release_of = {name: values["preflight_verdict"]["kernel_release"]
                  for group in fleet().values() for name, values in group["hosts"].items()}
    return {name: dict(chosen[release_of[name]], release=release_of[name]) for name in hosts}


def cache_entry(cache, key, release):
    source = tree_hash(str(ROOT / "files" / "kmod"))
    return write_entry(cache, key, release=release, source=source) / "roulette.ko"


def test_each_release_comes_from_its_build_host_or_its_first_target(plan):
    rc, report = plan(fleet())
    assert rc == 0, report["stats"]
    assert says(report, "b12", "b11") == {
        "b12": "b12 (Debian-12) builds for 6.1.0-27-amd64, 6.1.0-28-amd64.",
        "b11": "b11 (Debian-11) builds for no target (none runs Debian-11).",
    }
    chosen = sources(report, "t1", "t2", "t3", "t4", "t5")
    assert {name: source["builder"] for name, source in chosen.items()} == {
        "t1": "b12", "t2": "t2", "t3": "b12", "t4": "b12", "t5": "t2"}
    assert {source["cached"] for source in chosen.values()} == {""}
    assert {source["problem"] for source in chosen.values()} == {""}
    assert all(result.get("skipped") for result in results(report, REFUSE, chosen).values())
    # Planned once, for the whole run.
    (planned,) = [result for play in report["plays"] for task in play["tasks"]
                  if task["task"]["name"].endswith("Plan which host builds the module for which kernel release")
                  for result in task["hosts"].values()]
    assert sorted(planned["ansible_facts"]["kmod_build_plan"]["targets"]) == ["t1", "t2", "t3", "t4", "t5"]


def test_the_targets_of_a_release_whose_build_hosts_built_nothing_are_refused(plan):
    rc, report = plan(fleet(b12_built=(BOOKWORM2,)))
    assert rc != 0
    refused = {name: result for name, result in results(report, REFUSE, ["t1", "t2", "t3", "t4", "t5"]).items()
               if result.get("failed")}
    assert sorted(refused) == ["t1", "t3"]
    for result in refused.values():
        assert " ".join(result["msg"].split()) == (
            "No module for kernel 6.1.0-27-amd64: the build host(s) b12 of Debian-12 failed (their error is "
            "above). Fix that, or leave this release out of roulette_build to build on the first target.")
    assert sources(report, "t4")["t4"]["builder"] == "b12"


def test_the_controllers_cache_saves_builds(plan, cache):
    module = cache_entry(cache, "k27", BOOKWORM)
    rc, report = plan(fleet())
    assert rc == 0, report["stats"]
    assert says(report, "b12")["b12"] == "b12 (Debian-12) builds for 6.1.0-28-amd64."
    chosen = sources(report, "t1", "t3", "t4")
    assert chosen["t1"] == chosen["t3"] == {"release": BOOKWORM, "cached": str(module), "builder": "", "problem": ""}
    assert chosen["t4"]["builder"] == "b12"

    cache_entry(cache, "k28", BOOKWORM2)
    rc, report = plan(fleet(b12_built=()))
    assert rc == 0, report["stats"]
    assert says(report, "b12")["b12"] == (
        "b12 (Debian-12) builds for nothing: the controller has modules for 6.1.0-27-amd64, 6.1.0-28-amd64.")


@pytest.mark.parametrize("settings", [
    {"kmod_build_rebuild": True},
    {"kmod_build_source": "git", "kmod_build_git_repo": "https://example.invalid/roulette.git",
     "kmod_build_git_version": "v1"},
])
def test_a_rebuild_or_a_git_source_does_not_use_the_cache(plan, cache, settings):
    cache_entry(cache, "k27", BOOKWORM)
    rc, report = plan(fleet(), settings)
    assert rc == 0, report["stats"]
    assert says(report, "b12")["b12"] == "b12 (Debian-12) builds for 6.1.0-27-amd64, 6.1.0-28-amd64."
    assert sources(report, "t1")["t1"]["builder"] == "b12"


def test_without_build_hosts_the_first_target_of_each_release_builds(plan):
    inventory = fleet()
    del inventory["roulette_build"]
    rc, report = plan(inventory)
    assert rc == 0, report["stats"]
    chosen = sources(report, "t1", "t2", "t3", "t4", "t5")
    assert {name: source["builder"] for name, source in chosen.items()} == {
        "t1": "t1", "t2": "t2", "t3": "t1", "t4": "t4", "t5": "t2"}


def batches(report, play):
    return [list(task["hosts"]) for p in report["plays"] if p["play"]["name"] == play
            for task in p["tasks"] if task["task"]["name"] == REFUSE]


@pytest.mark.parametrize("extra, expected", [
    ({}, [["t1", "t2", "t3", "t4", "t5"]]),  # __roulette_defaults: 100%
    ({"roulette_batch": 2}, [["t1", "t2"], ["t3", "t4"], ["t5"]]),
    ({"roulette_batch": "40%"}, [["t1", "t2"], ["t3", "t4"], ["t5"]]),
])
def test_the_batch_size_and_its_default(plan, extra, expected):
    inventory = fleet()
    del inventory["roulette_build"]
    rc, report = plan(inventory, extra)
    assert rc == 0, report["stats"]
    assert batches(report, "Build where no build host did, then load the module on the armed targets") == expected
    # The sources are chosen once per batch, on its first host, for every kernel release.
    chosen = [(name, sorted(result["ansible_facts"]["__site_sources"])) for play in report["plays"]
              for task in play["tasks"] if task["task"]["name"] == "Choose where the module comes from"
              for name, result in task["hosts"].items()]
    assert chosen == [(batch[0], sorted([BOOKWORM, BOOKWORM2, TRIXIE])) for batch in expected]


def test_a_dkms_target_builds_for_itself_and_for_no_one_else(plan):
    inventory = fleet()
    # d1 comes first among the 6.1.0-27 targets; d2 runs a kernel no other target runs.
    d1 = host(BOOKWORM)
    d1["preflight_verdict"]["build_method"] = "dkms"
    d2 = host(BOOKWORM)
    d2["preflight_verdict"].update(build_method="dkms", kernel_release="6.1.0-29-amd64")
    inventory["roulette"]["hosts"] = {"d1": d1, "d2": d2, **inventory["roulette"]["hosts"]}
    del inventory["roulette_build"]
    rc, report = plan(inventory)
    assert rc == 0, report["stats"]
    chosen = sources(report, "t1", "t3")
    assert chosen["t1"]["builder"] == chosen["t3"]["builder"] == "t1"
    assert all(result.get("skipped") for result in results(report, REFUSE, ["d1", "d2"]).values())
    (planned,) = [result for play in report["plays"] for task in play["tasks"]
                  if task["task"]["name"].endswith("Plan which host builds the module for which kernel release")
                  for result in task["hosts"].values()]
    kmod_build_plan = planned["ansible_facts"]["kmod_build_plan"]
    assert kmod_build_plan["dkms"] == {"d1": BOOKWORM, "d2": "6.1.0-29-amd64"}
    assert "6.1.0-29-amd64" not in kmod_build_plan["releases"]
    shown = [" ".join(result["msg"].split()) for play in report["plays"] for task in play["tasks"]
             if task["task"]["name"].endswith("Show the targets that build for themselves with DKMS")
             for result in task["hosts"].values()]
    assert shown == ["2 target(s) build for themselves with DKMS (kmod_build_method: dkms), each for its running "
                     "kernel and, through DKMS's kernel hooks, for every kernel installed later: d1, d2."]
