# SPDX-License-Identifier: GPL-3.0-or-later
"""Every role with OS-specific variables loads them the same way: its own
tasks/set_vars.yml, the same file in every role but for the role's name
(linux-system-roles' pattern): `setup` only for the facts in
__<role>_required_facts that are missing, then the first of
<distribution>_<codename>.yml (distribution_release: Debian testing has no
version number), <distribution>.yml, <os_family>.yml, default.yml."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLES = sorted(p for p in (ROOT / "roles").iterdir() if (p / "tasks").is_dir())
# Roles with vars files other than main.yml: the OS-specific ones.
OS_ROLES = [r for r in ROLES if any(f.name != "main.yml" for f in (r / "vars").glob("*.yml"))]
VARS_FILE_RE = re.compile(r"^(default|[A-Z][A-Za-z]+(_[a-z]+)?)\.yml$")
FACT_RE = re.compile(r"ansible_facts\[['\"](\w+)['\"]\]|ansible_facts\.(\w+)")


def load(path):
    return yaml.safe_load(path.read_text())


def generic(role):
    """The role's set_vars.yml with its name replaced by ROLE."""
    return (role / "tasks/set_vars.yml").read_text().replace(role.name, "ROLE")


def test_the_roles_with_os_vars_are_the_expected_ones():
    assert [r.name for r in OS_ROLES] == ["kernel_headers", "rust_toolchain"]


@pytest.mark.parametrize("role", OS_ROLES, ids=lambda r: r.name)
def test_set_vars_is_the_same_file_in_every_role(role):
    assert generic(role) == generic(OS_ROLES[0])


def test_set_vars_gathers_only_missing_facts_then_loads_the_first_found():
    setup, include = load(OS_ROLES[0] / "tasks/set_vars.yml")
    assert setup["ansible.builtin.setup"]["gather_subset"] == "{{ __kernel_headers_required_facts_subsets }}"
    assert setup["when"] == "__kernel_headers_required_facts | difference(ansible_facts.keys() | list) | length > 0"
    files = include["vars"]["__kernel_headers_vars_files"]
    assert files["files"] == [
        "{{ ansible_facts['distribution'] }}_{{ ansible_facts['distribution_release'] }}.yml",
        "{{ ansible_facts['distribution'] }}.yml",
        "{{ ansible_facts['os_family'] }}.yml",
        "default.yml",
    ]
    assert files["paths"] == ["{{ role_path }}/vars"]


@pytest.mark.parametrize("role", OS_ROLES, ids=lambda r: r.name)
def test_main_loads_the_os_vars_first(role):
    first = load(role / "tasks/main.yml")[0]
    assert first.get("ansible.builtin.import_tasks") == "set_vars.yml"


@pytest.mark.parametrize("role", OS_ROLES, ids=lambda r: r.name)
def test_os_vars_files_are_named_for_first_found(role):
    names = sorted(f.name for f in (role / "vars").glob("*.yml") if f.name != "main.yml")
    assert "default.yml" in names
    assert [n for n in names if not VARS_FILE_RE.match(n)] == []


@pytest.mark.parametrize("role", OS_ROLES, ids=lambda r: r.name)
def test_required_facts_are_the_facts_the_role_reads(role):
    main_vars = load(role / "vars/main.yml")
    required = main_vars["__%s_required_facts" % role.name]
    assert main_vars["__%s_required_facts_subsets" % role.name] == (
        "{{ ['!all', '!min'] + __%s_required_facts }}" % role.name)
    read = set()
    for path in [*role.glob("tasks/*.yml"), *role.glob("defaults/*.yml"), *role.glob("templates/*")]:
        for match in FACT_RE.finditer(path.read_text()):
            read.add(match.group(1) or match.group(2))
    read.discard("keys")  # ansible_facts.keys() in set_vars.yml
    assert sorted(read) == sorted(required)


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name)
def test_no_other_task_file_loads_vars_by_os(role):
    for path in role.glob("tasks/*.yml"):
        if path.name == "set_vars.yml":
            continue
        text = path.read_text()
        assert "first_found" not in text and "include_vars" not in text, path
