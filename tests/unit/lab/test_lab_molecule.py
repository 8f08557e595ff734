# SPDX-License-Identifier: GPL-3.0-or-later
"""The molecule scenarios over the shared base config (.config/molecule/config.yml), merged
as molecule merges them: every scenario reaches the lab's playbooks, and holds only what
differs from the base."""

from __future__ import annotations

from pathlib import Path

import pytest
from roulette_lab.debian import SUITES

yaml = pytest.importorskip("yaml")
molecule_util = pytest.importorskip("molecule.util")

ROOT = Path(__file__).resolve().parents[3]
BASE = ROOT / ".config" / "molecule" / "config.yml"
SCENARIOS = sorted(p.parent for p in (ROOT / "molecule").glob("*/molecule.yml"))


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def repeated(base: dict, over: dict, where: str = "") -> list[str]:
    """Keys the scenario sets to the value the base already has."""
    out = []
    for key, value in over.items():
        if key not in base:
            continue
        if isinstance(value, dict) and isinstance(base[key], dict):
            out += repeated(base[key], value, f"{where}{key}.")
        elif value == base[key]:
            out.append(where + key)
    return out


def test_there_are_scenarios_and_a_base():
    assert BASE.is_file()
    assert {p.name for p in SCENARIOS} >= {"default", "trixie", "forky", "fleet", "upgrade"}


@pytest.mark.parametrize("scenario", ["forky", "upgrade"])
def test_the_hour_long_scenarios_are_left_out_of_ci_and_the_default_run(scenario):
    # CI's hour is nearly spent: Debian testing and the kernel upgrade run only when asked for
    # (-s forky, -s upgrade), and their molecule.yml says so.
    test_sh = (ROOT / "scripts/test.sh").read_text()
    assert "ROULETTE_SCENARIOS:-fleet default}" in test_sh
    assert scenario not in test_sh and scenario not in (ROOT / ".ci/run").read_text()
    assert "Not part of CI" in (ROOT / "molecule" / scenario / "molecule.yml").read_text()


def test_only_the_upgrade_scenario_runs_the_upgrade_test():
    # It installs another kernel and reboots into it: no other scenario may run it, and in
    # its own scenario nothing else runs.
    merged = molecule_util.merge_dicts(load(BASE), load(ROOT / "molecule" / "upgrade" / "molecule.yml"))
    assert merged["verifier"]["env"]["ROULETTE_VM_SCOPE"] == "upgrade"
    for scenario in SCENARIOS:
        if scenario.name != "upgrade":
            env = molecule_util.merge_dicts(load(BASE), load(scenario / "molecule.yml"))["verifier"]["env"]
            assert env["ROULETTE_VM_SCOPE"] != "upgrade"


def test_dkms_is_left_out_of_ci_and_the_default_run():
    # An hour of its own (a kernel upgrade and two cold builds of core in the guest): only when asked (-s dkms).
    test_sh = (ROOT / "scripts/test.sh").read_text()
    assert 'ROULETTE_SCENARIOS:-fleet default}' in test_sh
    assert "dkms" not in test_sh and "dkms" not in (ROOT / ".ci/run").read_text()
    merged = molecule_util.merge_dicts(load(BASE), load(ROOT / "molecule" / "dkms" / "molecule.yml"))
    assert merged["provisioner"]["inventory"]["group_vars"]["roulette"]["kmod_build_method"] == "dkms"
    assert merged["verifier"]["env"]["ROULETTE_VM_SCOPE"] == "dkms"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.name)
def test_each_scenario_reaches_the_shared_playbooks(scenario):
    merged = molecule_util.merge_dicts(load(BASE), load(scenario / "molecule.yml"))
    playbooks = merged["ansible"]["playbooks"]
    wanted = ["create", "destroy", "converge"]
    wanted += [step for step in ("prepare", "side_effect", "cleanup") if step in merged["scenario"]["test_sequence"]]
    for step in wanted:
        assert (scenario / playbooks[step]).resolve().is_file(), (step, playbooks[step])
    # verify: pytest-testinfra over tests/vm, streamed as it runs.
    assert merged["verifier"]["name"] == "testinfra"
    # (the dkms scenario runs only its own, tests/vm/dkms, with tests/vm's conftest)
    verify = (scenario / merged["verifier"]["directory"]).resolve()
    assert verify == ROOT / "tests" / "vm" or (verify.parent == ROOT / "tests" / "vm" and verify.is_dir()), verify
    assert (scenario / playbooks["create"]).resolve() == ROOT / "molecule" / "shared" / "create.yml"
    assert merged["driver"]["name"] == "default"
    assert merged["prerun"] is False


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.name)
def test_each_scenario_holds_only_what_differs(scenario):
    own = load(scenario / "molecule.yml")
    assert own["platforms"]
    assert repeated(load(BASE), own) == []


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.name)
def test_platforms_are_lab_vms(scenario):
    for platform in load(scenario / "molecule.yml")["platforms"]:
        assert platform.get("suite", "bookworm") in SUITES
        assert "roulette" in platform["groups"]


def test_vm_names_are_unique_across_scenarios():
    names = [p["name"] for s in SCENARIOS for p in load(s / "molecule.yml")["platforms"]]
    assert len(names) == len(set(names))
