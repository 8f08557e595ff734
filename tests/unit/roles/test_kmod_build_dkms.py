# SPDX-License-Identifier: GPL-3.0-or-later
"""kmod_build_method: dkms without a VM: the DKMS version, dkms.conf as the role renders it, and
the role's refusals.

The tasks are taken verbatim from roles/kmod_build/tasks/dkms.yml and run by ansible-playbook on
the controller (connection local), with the role's defaults and vars as the role has them and
the facts its earlier tasks would have set. dkms.conf is rendered by Ansible's template action
from the role's template, then read by bash the way dkms reads it (dkms sources the file with
`kernelver` and `kernel_source_dir` set, and evals MAKE[0]).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible_collections.rustkmod.roulette.plugins.module_utils.dkms import DKMS_MARKER

REPO = Path(__file__).resolve().parents[3]
ROLE = REPO / "roles" / "kmod_build"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
DKMS_TASKS = ROLE / "tasks" / "dkms.yml"
TOOLCHAIN_ID = "0123456789abcdef"
FAKE_FACTS = REPO / "tests" / "integration" / "playbooks" / "library"


def dkms_task(name):
    """The task called `name` in tasks/dkms.yml, looked for inside blocks too."""
    def walk(tasks):
        for task in tasks:
            if task.get("name") == name:
                return dict(task)
            found = walk(task.get("block", []) + task.get("rescue", []))
            if found:
                return found
        return None
    task = walk(yaml.safe_load(DKMS_TASKS.read_text()))
    assert task, "no task %r in %s" % (name, DKMS_TASKS)
    return task


def role_vars(**more):
    """The role's defaults and vars, the facts of the roles before it, and `more` (what its earlier tasks set)."""
    variables = {}
    variables.update(yaml.safe_load((ROLE / "defaults" / "main.yml").read_text()))
    variables.update(yaml.safe_load((ROLE / "vars" / "main.yml").read_text()))
    variables.update({
        "role_path": str(ROLE),
        "rust_toolchain_env": {"RUSTC_BOOTSTRAP": "1", "RUSTC": "/usr/bin/rustc"},
        "rust_toolchain_id": TOOLCHAIN_ID,
        "rust_toolchain_version": "1.96.0",
        "__kmod_build_src_hash": "a" * 64,
        "__kmod_build_patches": [],
        "__kmod_build_extra_hashes": [],
        "kmod_build_controller_cache": "/nonexistent",
    })
    variables.update(more)
    return variables


def run(tmp_path, hosts, tasks, check=False):
    """Run `tasks` on `hosts` (name -> variables, all local): (rc, {host: [task results]})."""
    top = tmp_path / "collections"
    (top / "ansible_collections" / "rustkmod").mkdir(parents=True, exist_ok=True)
    link = top / "ansible_collections" / "rustkmod" / "roulette"
    if not link.exists():
        link.symlink_to(REPO)
    for variables in hosts.values():
        variables.update(ansible_connection="local", ansible_python_interpreter=sys.executable)
    (tmp_path / "inventory.json").write_text(json.dumps({"all": {"hosts": hosts}}))
    playbook = [{"name": "Run the role's tasks", "hosts": "all", "gather_facts": False, "tasks": tasks}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(playbook))
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")
    env = dict(os.environ, ANSIBLE_CONFIG=str(tmp_path / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(top),
               ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
               ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_RETRY_FILES_ENABLED="False", ANSIBLE_LIBRARY=str(FAKE_FACTS))
    argv = [str(ANSIBLE_PLAYBOOK), "-i", str(tmp_path / "inventory.json"), str(tmp_path / "play.yml")]
    proc = subprocess.run(argv + (["--check"] if check else []),
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    try:
        report = json.loads(proc.stdout)
    except ValueError as exc:
        raise AssertionError(proc.stdout + proc.stderr) from exc
    results = {host: [] for host in hosts}
    for task in report["plays"][0]["tasks"]:
        for host, result in task["hosts"].items():
            results[host].append(result)
    return proc.returncode, results


def version_and_conf(tmp_path, hosts):
    """Each host's DKMS version and its dkms.conf, rendered by the role's template task into tmp_path/<host>/."""
    name_version = dkms_task("Name the DKMS version of this source and patch set")
    write_conf = dkms_task("Write dkms.conf")
    write_conf["ansible.builtin.template"] = dict(write_conf["ansible.builtin.template"],
                                                  src=str(ROLE / "templates" / "dkms.conf.j2"))
    for host, variables in hosts.items():
        (tmp_path / host).mkdir()
        variables["__staging"] = str(tmp_path / host)
    rc, results = run(tmp_path, hosts, [name_version, write_conf])
    assert rc == 0, results
    return {host: (result[0]["ansible_facts"]["__kmod_build_dkms_version"], (tmp_path / host / "dkms.conf").read_text())
            for host, result in results.items()}


def dkms_reads(conf_path, kernel="6.1.0-57-amd64"):
    """What dkms makes of the file: the variables it reads, and MAKE[0] as the words it runs."""
    script = r'''
        kernelver=$1 kernel_source_dir=/lib/modules/$1/build
        . "$2"
        printf '%s\n' "$PACKAGE_NAME" "$PACKAGE_VERSION" "${BUILT_MODULE_NAME[0]}" "${DEST_MODULE_LOCATION[0]}" \
            "${STRIP[0]}" "$AUTOINSTALL" "$CLEAN"
        eval "set -- ${MAKE[0]}"
        printf '[%s]' "$@"
    '''
    out = subprocess.run(["bash", "-c", script, "bash", kernel, str(conf_path)], capture_output=True, text=True,
                         check=True).stdout.split("\n")
    keys = ["PACKAGE_NAME", "PACKAGE_VERSION", "BUILT_MODULE_NAME", "DEST_MODULE_LOCATION", "STRIP", "AUTOINSTALL",
            "CLEAN"]
    return dict(zip(keys, out)), re.findall(r"\[([^]]*)\]", out[len(keys)])


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("dkms")
    series = str(REPO / "files" / "kmod" / "patches" / "optin-panic.patch")
    hosts = {
        "plain": role_vars(),
        "again": role_vars(),
        "patched": role_vars(__kmod_build_patches=["rustc-1.85.patch"]),
        "extra": role_vars(kmod_build_extra_patches=[series], __kmod_build_extra_hashes=["b" * 64]),
        "panic": role_vars(kmod_build_real_panic=True, __kmod_build_patches=["optin-panic.patch"]),
        "source": role_vars(__kmod_build_src_hash="c" * 64),
        "rustc": role_vars(rust_toolchain_id="fedcba9876543210"),
        "spaced": role_vars(kmod_build_std_cache="/var/cache/my std"),
        "rustup": role_vars(rust_toolchain_env={
            "RUSTUP_HOME": "/opt/r/rustup", "CARGO_HOME": "/opt/r/cargo", "RUSTUP_TOOLCHAIN": "nightly-2026-11-01",
            "PATH": "/opt/r/cargo/bin:/usr/bin:/bin", "RUSTC": "/opt/r/cargo/bin/rustc"}),
    }
    return tmp_path, version_and_conf(tmp_path, hosts)


def test_the_version_is_the_collections_and_a_hash_of_the_trees_makings(rendered):
    _, found = rendered
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]
    versions = {host: version for host, (version, _) in found.items()}
    for version in versions.values():
        assert re.fullmatch(re.escape(galaxy) + r"-[0-9a-f]{12}", version), version
    assert versions["plain"] == versions["again"]
    # Another patch set, extra patch, panic choice, source or toolchain: another DKMS version.
    others = [versions[h] for h in ("plain", "patched", "extra", "panic", "source", "rustc", "spaced", "rustup")]
    assert len(set(others)) == len(others), versions


def test_dkms_conf_as_dkms_reads_it(rendered):
    tmp_path, found = rendered
    version, text = found["plain"]
    assert DKMS_MARKER in text.splitlines()
    settings, make = dkms_reads(tmp_path / "plain" / "dkms.conf")
    assert settings == {"PACKAGE_NAME": "roulette", "PACKAGE_VERSION": version, "BUILT_MODULE_NAME": "roulette",
                        "DEST_MODULE_LOCATION": "/updates/dkms", "STRIP": "no", "AUTOINSTALL": "yes",
                        "CLEAN": "make clean"}
    # The kernel is DKMS's (the kernel it builds for, also from its hooks); RUSTC_BOOTSTRAP the Makefile sets.
    assert make == ["make", "KVER=6.1.0-57-amd64", "KDIR=/lib/modules/6.1.0-57-amd64/build",
                    "RUST_STD_DIR=/var/cache/rustkmod-roulette/std/" + TOOLCHAIN_ID, "RUSTC=/usr/bin/rustc", "modules"]
    assert "RUSTC_BOOTSTRAP" not in next(line for line in text.splitlines() if line.startswith("MAKE[0]="))


def test_dkms_conf_names_the_patches_applied(rendered):
    _, found = rendered
    assert "# (tree hash aaaaaaaaaaaaaaaa) with the patches, in order: none.\n" in found["plain"][1]
    assert "with the patches, in order: rustc-1.85.patch.\n" in found["patched"][1]
    assert "with the patches, in order: optin-panic.patch.\n" in found["extra"][1]


def test_dkms_conf_keeps_a_path_with_a_space_one_word(rendered):
    tmp_path, _ = rendered
    _, make = dkms_reads(tmp_path / "spaced" / "dkms.conf", kernel="6.12.57+deb13-amd64")
    assert "RUST_STD_DIR=/var/cache/my std/" + TOOLCHAIN_ID in make
    assert "KVER=6.12.57+deb13-amd64" in make


def test_dkms_conf_gives_make_a_rustup_toolchains_environment(rendered):
    tmp_path, _ = rendered
    _, make = dkms_reads(tmp_path / "rustup" / "dkms.conf")
    assert sorted(make[3:-1]) == ["CARGO_HOME=/opt/r/cargo", "PATH=/opt/r/cargo/bin:/usr/bin:/bin",
                                  "RUSTC=/opt/r/cargo/bin/rustc", "RUSTUP_HOME=/opt/r/rustup",
                                  "RUSTUP_TOOLCHAIN=nightly-2026-11-01",
                                  "RUST_STD_DIR=/var/cache/rustkmod-roulette/std/" + TOOLCHAIN_ID]


def test_the_roles_marker_is_the_one_roulette_info_looks_for():
    assert yaml.safe_load((ROLE / "vars" / "main.yml").read_text())["__kmod_build_dkms_marker"] == DKMS_MARKER


@pytest.mark.parametrize("task, more, words", [
    ("Refuse kernel releases chosen by name with DKMS", {"kmod_build_releases": ["6.1.0-58-amd64"]},
     "kmod_build_releases (6.1.0-58-amd64) cannot choose kernels"),
    ("Refuse build settings that cannot be written into dkms.conf", {"kmod_build_std_cache": '/var/cache/"x"'},
     "RUST_STD_DIR (kmod_build_std_cache or the toolchain's environment) do not"),
    ("Refuse build settings that cannot be written into dkms.conf", {"kmod_build_std_cache": "/var/$(reboot)"},
     "RUST_STD_DIR"),
    ("Refuse build settings that cannot be written into dkms.conf",
     {"rust_toolchain_env": {"RUSTC": "/usr/bin/rustc'"}}, "RUSTC (kmod_build_std_cache"),
])
def test_the_role_refuses_what_dkms_cannot_do(tmp_path, task, more, words):
    rc, results = run(tmp_path, {"h": role_vars(**more)}, [dkms_task(task)])
    assert rc != 0
    (result,) = results["h"]
    assert result.get("failed") and words in result["msg"], result
    rc, results = run(tmp_path, {"h": role_vars()}, [dkms_task(task)])
    assert rc == 0 and not results["h"][0].get("failed")


def test_an_installed_collection_takes_its_version_from_manifest_json(tmp_path):
    # ansible-galaxy's tarball has MANIFEST.json and no galaxy.yml.
    installed = tmp_path / "installed"
    (installed / "roles").mkdir(parents=True)
    (installed / "roles" / "kmod_build").symlink_to(ROLE)
    (installed / "MANIFEST.json").write_text(json.dumps({"collection_info": {"version": "9.8.7"}}))
    task = dkms_task("Name the DKMS version of this source and patch set")
    rc, results = run(tmp_path, {"h": role_vars(role_path=str(installed / "roles" / "kmod_build"))}, [task])
    assert rc == 0, results["h"][0].get("msg")
    assert re.fullmatch(r"9\.8\.7-[0-9a-f]{12}", results["h"][0]["ansible_facts"]["__kmod_build_dkms_version"])


# --- what the role decides from DKMS's state (check mode says it, as a change) ----------------

RUNNING = "6.1.0-57-amd64"
NEXT = "6.12.95+deb12-amd64"
OLDER = "6.1.0-56-amd64"
BLOCK = "Register the driver with DKMS and build it for kernel {{ ansible_facts['kernel'] }}"


def line(version, kernel=None, state="installed"):
    text = "roulette/%s, %s, x86_64: %s" % (version, kernel, state) if kernel else "roulette/%s: %s" % (version, state)
    return {"version": version, "kernel": kernel, "arch": "x86_64" if kernel else None, "state": state, "notes": [],
            "weak_from": None, "line": text}


def tree(version, ours=True):
    return {"version": version, "path": "/usr/src/roulette-" + version, "ours": ours}


@pytest.fixture(scope="module")
def version(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("version")
    rc, results = run(tmp_path, {"h": role_vars()}, [dkms_task("Name the DKMS version of this source and patch set")])
    assert rc == 0, results
    return results["h"][0]["ansible_facts"]["__kmod_build_dkms_version"]


def decide(tmp_path, version, dkms, sources, module_files=()):
    """Run the role's DKMS block in check mode on a host whose roulette_info says this: (rc, its results)."""
    facts = {"kernel": RUNNING, "roulette_info": {"dkms": dkms, "dkms_sources": sources,
                                                  "module_files": list(module_files)}}
    tasks = [{"name": "Pretend to be the host", "fake_facts": {"facts": facts}, "check_mode": False},
             {"name": "Know the version", "ansible.builtin.set_fact": {"__kmod_build_dkms_version": version}},
             dkms_task(BLOCK)]
    rc, results = run(tmp_path, {"h": role_vars()}, tasks, check=True)
    return rc, {r.get("task", i): r for i, r in enumerate(results["h"])}, results["h"]


def said(results):
    return [" ".join(r["msg"].split()) for r in results if r.get("changed") and "msg" in r]


def test_a_host_without_the_driver_gets_it_written_registered_built_and_installed(tmp_path, version):
    extra = ["/lib/modules/%s/extra/roulette.ko" % RUNNING, "/lib/modules/%s/extra/roulette.ko" % OLDER]
    rc, _, results = decide(tmp_path, version, None, [], extra)
    assert rc == 0, results
    (message,) = said(results)
    assert message == (
        "A run without --check on h: removes /lib/modules/%s/extra/roulette.ko (kmod_build_method: ansible); writes"
        " /usr/src/roulette-%s (the patched source and its dkms.conf); registers roulette/%s with DKMS; builds and"
        " installs it for kernel %s (dkms build, dkms install)." % (RUNNING, version, version, RUNNING))
    # The other kernel's module from kmod_build_method ansible stays, for a rollback boot into it.
    assert OLDER not in message


def test_a_converged_host_changes_nothing(tmp_path, version):
    rc, _, results = decide(tmp_path, version, [line(version, RUNNING), line(version, NEXT)], [tree(version)],
                            ["/lib/modules/%s/updates/dkms/roulette.ko" % RUNNING, "/lib/modules/%s/extra/roulette.ko" % OLDER])
    assert rc == 0, results
    assert said(results) == [] and not any(r.get("changed") for r in results)


def test_a_new_version_replaces_the_collections_earlier_one_on_every_kernel_it_had(tmp_path, version):
    old = "1.0.0-0123abcd4567"
    rc, _, results = decide(tmp_path, version, [line(old, RUNNING), line(old, NEXT), line(old, OLDER, "built")],
                            [tree(old), tree(version)])
    assert rc == 0, results
    (message,) = said(results)
    assert message == (
        "A run without --check on h: registers roulette/%s with DKMS; builds and installs it for kernel %s (dkms build,"
        " dkms install); builds and installs it for kernel(s) %s, which had an earlier version; removes the earlier"
        " roulette %s from DKMS." % (version, RUNNING, NEXT, old))


@pytest.mark.parametrize("dkms, sources, words", [
    ([line("0.9", RUNNING)], [tree("0.9", ours=False)], "DKMS on h holds roulette 0.9, which this collection did not"),
    ([line("0.9", RUNNING)], [], "DKMS on h holds roulette 0.9"),
    ([], ["VERSION"], "is not the collection's (its dkms.conf lacks the line"),
])
def test_what_the_collection_did_not_register_is_refused_and_left_alone(tmp_path, version, dkms, sources, words):
    sources = [tree(version, ours=False) if s == "VERSION" else s for s in sources]
    rc, _, results = decide(tmp_path, version, dkms, sources)
    assert rc != 0
    failed = [r for r in results if r.get("failed")]
    assert failed and words in " ".join(failed[0]["msg"].split()), failed


def test_teardown_removes_only_what_the_collection_registered(tmp_path):
    tasks_file = ROLE / "tasks" / "dkms_absent.yml"
    (block,) = [t for t in yaml.safe_load(tasks_file.read_text()) if t["name"] == "Remove the collection's DKMS registrations"]
    ours, stale, foreign = "1.0.0-0123abcd4567", "1.0.0-89abcdef0123", "0.9"
    facts = {"kernel": RUNNING, "roulette_info": {
        "dkms": [line(ours, RUNNING), line(ours, NEXT), line(foreign, OLDER)],
        # stale: a tree of the collection's that DKMS no longer holds (a run cut short after the move)
        "dkms_sources": [tree(ours), tree(stale), tree(foreign, ours=False)], "module_files": []}}
    tasks = [{"name": "Pretend to be the host", "fake_facts": {"facts": facts}, "check_mode": False}, block]
    rc, results = run(tmp_path, {"h": role_vars()}, tasks, check=True)
    assert rc == 0, results
    said, removed, trees = results["h"][1:4]
    assert " ".join(said["msg"].split()) == (
        "A run without --check removes roulette %s, %s from DKMS on h (dkms remove --all, then /usr/src/roulette-%s,"
        " /usr/src/roulette-%s)." % (ours, stale, ours, stale))
    assert [item["item"] for item in removed["results"]] == [ours]
    assert [item["item"] for item in trees["results"]] == ["/usr/src/roulette-" + ours, "/usr/src/roulette-" + stale]


def test_teardown_of_a_host_without_the_collections_dkms_does_nothing(tmp_path):
    tasks_file = ROLE / "tasks" / "dkms_absent.yml"
    (block,) = [t for t in yaml.safe_load(tasks_file.read_text()) if t["name"] == "Remove the collection's DKMS registrations"]
    facts = {"kernel": RUNNING, "roulette_info": {"dkms": None, "dkms_sources": [tree("0.9", ours=False)], "module_files": []}}
    tasks = [{"name": "Pretend to be the host", "fake_facts": {"facts": facts}, "check_mode": False}, block]
    rc, results = run(tmp_path, {"h": role_vars()}, tasks, check=True)
    assert rc == 0 and all(r.get("skipped") for r in results["h"][1:]), results
