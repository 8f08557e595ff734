# SPDX-License-Identifier: GPL-3.0-or-later
"""What the roles say before their long, silent steps, and the build time kmod_build records.

The tasks are taken verbatim from the roles' task files and run on the controller
(connection local) with the variables the roles' earlier tasks would have set, one
inventory host per case, in one ansible-playbook run per role: what make and apt would do
needs a build host (the VM lab), but what the message says and what build.json records
does not.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible_collections.rustkmod.roulette.tests.unit.plugins.lookup.lookup_helpers import write_entry

REPO = Path(__file__).resolve().parents[4]
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
FAKE_FACTS = REPO / "tests" / "integration" / "playbooks" / "library"
RELEASE = "6.1.0-27-amd64"


def role_task(path, name):
    """The task called `name` in a role's task file, looked for inside blocks too."""
    def walk(tasks):
        for task in tasks:
            if task.get("name") == name:
                return task
            found = walk(task.get("block", []) + task.get("rescue", []) + task.get("always", []))
            if found:
                return found
        return None
    task = walk(yaml.safe_load((REPO / path).read_text()))
    assert task, "no task %r in %s" % (name, path)
    return task


def play(tmp_path, hosts, tasks):
    """Run `tasks` on `hosts` (name -> host vars, all local); {host: result of the last task}."""
    top = tmp_path / "collections"
    (top / "ansible_collections" / "rustkmod").mkdir(parents=True, exist_ok=True)
    (top / "ansible_collections" / "rustkmod" / "roulette").symlink_to(REPO)
    for variables in hosts.values():
        variables.update(ansible_connection="local", ansible_python_interpreter=sys.executable)
    (tmp_path / "inventory.json").write_text(json.dumps({"all": {"hosts": hosts}}))
    playbook = [{"name": "Run the role's task", "hosts": "all", "gather_facts": False, "tasks": tasks}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(playbook))
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")  # none of the checkout's or the machine's settings
    env = dict(os.environ, ANSIBLE_CONFIG=str(tmp_path / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(top),
               ANSIBLE_LIBRARY=str(FAKE_FACTS), ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_RETRY_FILES_ENABLED="False")
    proc = subprocess.run([str(ANSIBLE_PLAYBOOK), "-i", str(tmp_path / "inventory.json"), str(tmp_path / "play.yml")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)["plays"][0]["tasks"][-1]["hosts"]


@pytest.fixture(scope="module")
def build_messages(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("messages")
    caches = {name: tmp_path / name for name in ("empty", "here", "elsewhere", "other-release", "nameless")}
    write_entry(caches["here"], "k-here", mtime=2000, built_on="vm-here", build_seconds=362)
    write_entry(caches["here"], "k-chroot", mtime=3000, built_on="chroot", build_seconds=31)
    write_entry(caches["here"], "k-untimed", mtime=4000, built_on="vm-here")
    write_entry(caches["elsewhere"], "k-chroot", built_on="chroot", build_seconds=31)
    write_entry(caches["other-release"], "k-trixie", release="6.12.48-amd64", built_on="vm-other", build_seconds=430)
    write_entry(caches["other-release"], "k-chroot", built_on="chroot", build_seconds=31)
    write_entry(caches["nameless"], "k", built_on=None, build_seconds=95)
    hosts = {
        "vm-empty": {"kmod_build_controller_cache": str(caches["empty"])},
        "vm-here": {"kmod_build_controller_cache": str(caches["here"])},
        "vm-elsewhere": {"kmod_build_controller_cache": str(caches["elsewhere"])},
        "vm-other": {"kmod_build_controller_cache": str(caches["other-release"])},
        "vm-nameless": {"kmod_build_controller_cache": str(caches["nameless"])},
    }
    for host, variables in hosts.items():
        variables.update(__kmod_build_release=RELEASE, kmod_build_timeout=3600,
                         __dir="/var/lib/rustkmod-roulette/build/k-" + host,
                         __log="/var/lib/rustkmod-roulette/build/k-%s/build.log" % host)
    task = role_task("roles/kmod_build/tasks/build_release.yml", "Say what is built, where, and where its log is")
    return {host: result["msg"] for host, result in play(tmp_path, hosts, [task]).items()}


def test_the_build_message_says_what_where_and_the_log(build_messages):
    assert build_messages["vm-empty"] == (
        "Building roulette.ko for kernel 6.1.0-27-amd64 on vm-empty in /var/lib/rustkmod-roulette/build/k-vm-empty/src,"
        " at most 3600 s; no earlier build to estimate from."
        " make's output goes to /var/lib/rustkmod-roulette/build/k-vm-empty/build.log on vm-empty.")


@pytest.mark.parametrize("host, estimate", [
    # A build on this host beats a newer one elsewhere; an entry without build_seconds tells nothing.
    ("vm-here", "the last build of this kernel release took about 6 min (on vm-here)."),
    ("vm-elsewhere", "the last build of this kernel release took about 31 s (on chroot)."),
    # This host's build of another release beats another host's build of this one.
    ("vm-other", "the last build on vm-other (for kernel 6.12.48-amd64) took about 7 min."),
    ("vm-nameless", "the last build of this kernel release took about 2 min."),
])
def test_the_build_message_estimates_from_the_last_build(build_messages, host, estimate):
    message = build_messages[host]
    assert message.startswith("Building roulette.ko for kernel 6.1.0-27-amd64 on %s in " % host)
    assert " at most 3600 s; " + estimate + " make's output goes to " in message
    assert "  " not in message


def test_build_json_records_how_long_make_took(tmp_path):
    def make_result(start, end, changed=True):
        return {"changed": changed, "rc": 0, "start": start, "end": end, "finished": 1}
    hosts = {
        "ran": make_result("2026-11-30 12:00:00.900000", "2026-11-30 12:06:02.100000"),
        "whole-second": make_result("2026-11-30 12:00:00", "2026-11-30 12:00:41.600000"),
        "instant": make_result("2026-11-30 12:00:00.100000", "2026-11-30 12:00:00.300000"),
        # creates: roulette.ko was in the build tree: make did not run.
        "skipped": make_result(None, None, changed=False),
        # The host's clock was set back during the build.
        "clock-back": make_result("2026-11-30 12:00:00.500000", "2026-11-30 11:00:00.100000"),
    }
    hosts = {host: {"__kmod_build_make": result, "__kmod_build_tmp": str(tmp_path / host), "__kmod_build_key": "k",
                    "__kmod_build_parts": {"kernel_release": RELEASE}, "rust_toolchain_version": "1.85.0",
                    "__kmod_build_fetched": {"sha256": "a" * 64, "size": 12345}}
             for host, result in hosts.items()}
    for host in hosts:
        (tmp_path / host).mkdir()
    task = role_task("roles/kmod_build/tasks/cache_store.yml", "Describe the build next to the module")
    results = play(tmp_path, hosts, [task])
    assert all(not result.get("failed") for result in results.values()), results
    written = {host: json.loads((tmp_path / host / "build.json").read_text()) for host in hosts}
    assert {host: info["build_seconds"] for host, info in written.items()} == {
        "ran": 361, "whole-second": 42, "instant": 0, "skipped": None, "clock-back": None}
    assert written["ran"] == {"kernel_release": RELEASE, "key": "k", "built_on": "ran", "toolchain_version": "1.85.0",
                              "sha256": "a" * 64, "size": 12345, "build_seconds": 361}


TRIXIE = {"distribution": "Debian", "distribution_release": "trixie", "os_family": "Debian",
          "architecture": "x86_64"}
# Debian testing: Ansible reports no version number (distribution_major_version "forky/sid").
FORKY = dict(TRIXIE, distribution_release="forky")


def test_the_toolchain_message_names_each_hosts_packages(tmp_path):
    hosts = {
        "web13": {"fake": TRIXIE, "rust_toolchain_distro_flavor": "web"},
        "native13": {"fake": TRIXIE, "rust_toolchain_distro_flavor": "native"},
        "auto13": {"fake": TRIXIE},
        "autoforky": {"fake": FORKY},
        "rustup13": {"fake": TRIXIE, "rust_toolchain_method": "rustup"},
        "with-headers13": {"fake": TRIXIE, "rust_toolchain_install_packages": False},
    }
    tasks = [{"name": "Pretend to be the host's release", "fake_facts": {"facts": "{{ fake }}"}},
             {"name": "Name the role's packages", "ansible.builtin.include_role": {
                 "name": "rustkmod.roulette.rust_toolchain", "tasks_from": "packages.yml", "public": True}},
             role_task("roles/rust_toolchain/tasks/main.yml", "Say what is installed, on which host")]
    messages = {host: result["msg"] for host, result in play(tmp_path, hosts, tasks).items()}
    assert not [message for message in messages.values() if "  " in message], messages
    assert messages["web13"] == (
        "Making sure rustc-web, rust-web-src (the distribution's Rust toolchain, flavor web) are installed"
        " on web13 (Debian trixie) with apt. A first install takes minutes on a slow (emulated) host, with nothing"
        " shown until it ends; apt's log is /var/log/apt/term.log on web13.")
    assert messages["with-headers13"] == (
        "Using rustc-web, rust-web-src (the distribution's Rust toolchain, flavor web) on with-headers13,"
        " installed with the kernel headers.")
    assert messages["native13"].startswith(
        "Making sure rustc, rust-src, librust-compiler-builtins-dev (the distribution's Rust toolchain, flavor"
        " native) are installed on native13 (Debian trixie) with apt.")
    # auto: the release's tested toolchain, rustc-web on Debian 13, the release's own rustc on testing.
    assert messages["auto13"].startswith(
        "Making sure rustc-web, rust-web-src (the distribution's Rust toolchain, flavor web)")
    assert messages["autoforky"].startswith(
        "Making sure rustc, rust-src (the distribution's Rust toolchain, flavor native) are installed on autoforky"
        " (Debian forky) with apt.")
    assert messages["rustup13"].startswith(
        "Making sure curl, ca-certificates, gcc, libc6-dev are installed on rustup13 (Debian trixie), then rustup with"
        " the toolchain nightly-2026-11-01 and rust-src in /opt/rustkmod-roulette/cargo and"
        " /opt/rustkmod-roulette/rustup, downloaded by rustup-init. A first install takes minutes")


FAKE_MAKE = """#!/bin/sh
# Stands in for make: sleeps past the bound, or fails at once, as $FAKE_MAKE says.
echo "fake make $*"
case "$FAKE_MAKE" in
    # Leaves roulette.ko in the tree (-C), and with STD_PACK the pack and its id.
    pack) prev=
          for arg; do
              case $arg in STD_PACK=?*) echo packed > "${arg#STD_PACK=}"; echo 0123456789abcdef > "${arg#STD_PACK=}.id" ;; esac
              if [ "$prev" = -C ]; then echo module > "$arg/roulette.ko"; fi
              prev=$arg
          done ;;
    sleep) "$(dirname "$0")/nap" 120 ;;  # sleep(1) under a name of this test's own
    fail) echo "error: something did not compile"; exit 2 ;;
esac
"""


def fake_make_bin(tmp_path, **scripts):
    """tmp_path/bin with the fake make (FAKE_MAKE) and the other `scripts` ({name: text}), executable."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for name, text in dict(scripts, make=FAKE_MAKE).items():
        (fake_bin / name).write_text(text)
        (fake_bin / name).chmod(0o755)
    return fake_bin


def make_host(tmp_path, fake_bin, name, fake_make, **overrides):
    """The variables the make task reads, for a host whose build tree is tmp_path/name and whose
    make is the fake one doing `fake_make` (its FAKE_MAKE)."""
    tree = tmp_path / name
    (tree / "src").mkdir(parents=True)
    return dict({"__dir": str(tree), "__log": str(tree / "build.log"), "__kmod_build_release": RELEASE,
                 "kmod_build_timeout": 60, "kmod_build_jobs": 1, "kmod_build_std_cache": str(tmp_path / "std"),
                 "rust_toolchain_id": "t", "kernel_headers_build_dirs": {RELEASE: "/usr/src/linux-headers-" + RELEASE},
                 "__kmod_build_std_to_controller": False,
                 "rust_toolchain_env": {"PATH": "%s:%s" % (fake_bin, os.environ["PATH"]), "FAKE_MAKE": fake_make}},
                **overrides)


def test_make_is_bounded_by_kmod_build_timeout_and_the_error_says_which_bound(tmp_path):
    """The role's make task, with its rescue's explanation, on a make that outlives the bound and one that fails."""
    fake_bin = fake_make_bin(tmp_path)
    (fake_bin / "nap").symlink_to(shutil.which("sleep"))
    hosts = {host: make_host(tmp_path, fake_bin, host, "sleep" if host == "slow" else "fail",
                             __kmod_build_key="k-" + host, kmod_build_root=str(tmp_path), kmod_build_timeout=2)
             for host in ("slow", "broken")}
    path = "roles/kmod_build/tasks/build_release.yml"
    explain = role_task(path, "Explain why the build failed")
    tasks = [{"name": "Build and explain", "block": [
        {"name": "Build as the role does, then explain as its rescue does",
         "block": [role_task(path, "Build roulette.ko (make)")],
         "rescue": [{"name": "Stand in for reading the log's end", "ansible.builtin.set_fact": {
             "__kmod_build_tail": {"stdout": "(tail)"}}}, explain]}],
        "rescue": [{"name": "Show the explanation", "ansible.builtin.debug": {"msg": "{{ ansible_failed_result.msg }}"}}]}]
    messages = {host: result["msg"] for host, result in play(tmp_path, hosts, tasks).items()}
    assert "failed (stopped after kmod_build_timeout=2 s)." in messages["slow"], messages["slow"]
    assert "failed (make rc=2)." in messages["broken"], messages["broken"]
    assert "fake make -j1 -C %s/src KDIR=" % (tmp_path / "slow") in (tmp_path / "slow" / "build.log").read_text()
    assert "error: something did not compile" in (tmp_path / "broken" / "build.log").read_text()
    # timeout(1) stopped the sleeping stand-in and its children: nothing of it is left running.
    # (Looked for by its path under this test's tmp_path: another run of this test elsewhere on
    # the machine is not this one's leftover.)
    assert subprocess.run(["pgrep", "-f", str(fake_bin / "nap")], capture_output=True).returncode == 1


def test_make_runs_as_many_jobs_as_the_build_host_has_processors(tmp_path):
    """kmod_build_jobs 0 (the default) counts the build host's processors there: preflight
    gathers only the minimal facts, which hold no processor count (it used to be -j2 always)."""
    fake_bin = fake_make_bin(tmp_path, nproc="#!/bin/sh\necho 7\n")
    hosts = {host: make_host(tmp_path, fake_bin, host, "done", kmod_build_jobs=jobs)
             for host, jobs in (("every-processor", 0), ("three", 3))}
    play(tmp_path, hosts, [role_task("roles/kmod_build/tasks/build_release.yml", "Build roulette.ko (make)")])
    assert (tmp_path / "every-processor" / "build.log").read_text().startswith("fake make -j7 -C ")
    assert (tmp_path / "three" / "build.log").read_text().startswith("fake make -j3 -C ")


MODULE_SUM = hashlib.sha256(b"module\n").hexdigest()
PACK_SUM = hashlib.sha256(b"packed\n").hexdigest()


def test_make_packs_the_std_library_only_for_the_controller_and_says_its_id(tmp_path):
    """STD_PACK goes to make when the controller is to keep the std library; the task prints the
    sha256 of roulette.ko, and with STD_PACK the pack's and the id make wrote beside it, which
    std_keep.yml names the controller's copy by: the fetches check against these sums."""
    fake_bin = fake_make_bin(tmp_path)
    hosts = {host: make_host(tmp_path, fake_bin, host, "pack", __kmod_build_std_to_controller=to_controller,
                             __kmod_build_std_pack=str(tmp_path / host / "std.tar.gz"))
             for host, to_controller in (("keeps", True), ("has-it", False))}
    results = play(tmp_path, hosts, [role_task("roles/kmod_build/tasks/build_release.yml", "Build roulette.ko (make)")])
    assert results["keeps"]["stdout_lines"] == ["roulette.ko " + MODULE_SUM, "std-pack " + PACK_SUM,
                                                "std-id 0123456789abcdef"]
    assert (tmp_path / "keeps" / "build.log").read_text().rstrip().endswith("STD_PACK=%s" % (tmp_path / "keeps" / "std.tar.gz"))
    assert results["has-it"]["stdout_lines"] == ["roulette.ko " + MODULE_SUM]
    assert (tmp_path / "has-it" / "build.log").read_text().rstrip().endswith(" STD_PACK=")


def test_the_sums_make_printed_become_the_facts_the_fetches_use(tmp_path):
    """After make: the sums and the std id it printed; after no make (creates: roulette.ko was
    there) no sum, and the std id std_receive.yml asked is kept."""
    fake_bin = fake_make_bin(tmp_path)
    # __kmod_build_std_id and _packed_by_make: what std_receive.yml noted before make.
    hosts = {host: make_host(tmp_path, fake_bin, host, "pack", __kmod_build_std_to_controller=to_controller,
                             __kmod_build_std_pack=str(tmp_path / host / "std.tar.gz"),
                             __kmod_build_std_id="" if host == "packs" else "fedcba9876543210",
                             __kmod_build_std_packed_by_make=False)
             for host, to_controller in (("packs", True), ("has-it", False), ("built-already", True))}
    (tmp_path / "built-already" / "src" / "roulette.ko").write_text("an earlier build's\n")
    path = "roles/kmod_build/tasks/build_release.yml"
    results = play(tmp_path, hosts, [role_task(path, "Build roulette.ko (make)"),
                                     role_task(path, "Note the sums make printed, and the id of the std library it packed")])
    facts = {host: result["ansible_facts"] for host, result in results.items()}
    assert facts["packs"] == {"__kmod_build_module_sha256": MODULE_SUM, "__kmod_build_std_pack_sha256": PACK_SUM,
                              "__kmod_build_std_id": "0123456789abcdef", "__kmod_build_std_packed_by_make": True}
    assert facts["has-it"] == {"__kmod_build_module_sha256": MODULE_SUM, "__kmod_build_std_pack_sha256": "",
                               "__kmod_build_std_id": "fedcba9876543210", "__kmod_build_std_packed_by_make": False}
    assert facts["built-already"] == {"__kmod_build_module_sha256": "", "__kmod_build_std_pack_sha256": "",
                                      "__kmod_build_std_id": "fedcba9876543210", "__kmod_build_std_packed_by_make": False}
    assert not (tmp_path / "built-already" / "build.log").exists()


def fetch_play(tmp_path, hosts, tasks):
    """Run `tasks` in a block whose rescue notes the failure; {host: failure message or ''}."""
    note = {"name": "Note the failure", "ansible.builtin.set_fact": {
        "__test_failure": "{{ ansible_failed_task.name }}: {{ ansible_failed_result.msg }}"}}
    tasks = [{"name": "Fetch as the role does", "block": tasks, "rescue": [note]},
             {"name": "Say how the fetch went", "ansible.builtin.debug": {"msg": "{{ __test_failure | default('') }}"}}]
    return {host: result["msg"] for host, result in play(tmp_path, hosts, tasks).items()}


def test_roulette_ko_is_fetched_checked_and_described_in_build_json(tmp_path):
    """cache_store.yml's fetch: checked against make's sum, or the host's when make did not run;
    another sum stops the build; the fetch with privileges (the rescue, here after a sum the
    action refuses) hashes the module itself. build.json records the fetched module's sum."""
    module = b"\x7fELF module\n"
    cases = {"make-ran": hashlib.sha256(module).hexdigest(), "make-did-not-run": "",
             "another-sum": "0" * 64, "rescued": "not a sum"}
    hosts = {}
    for host, sha256 in cases.items():
        root = tmp_path / ("build-" + host)
        (root / "k" / "src").mkdir(parents=True)
        (root / "k" / "src" / "roulette.ko").write_bytes(module)
        hosts[host] = {"kmod_build_root": str(root), "__kmod_build_key": "k", "__kmod_build_tmp": str(tmp_path / ("tmp-" + host)),
                       "__kmod_build_module_sha256": sha256, "__kmod_build_make": {"skipped": True},
                       "__kmod_build_parts": {"kernel_release": RELEASE}, "rust_toolchain_version": "1.85.0"}
    path = "roles/kmod_build/tasks/cache_store.yml"
    said = fetch_play(tmp_path, hosts, [role_task(path, "Fetch roulette.ko, as the login user or else with privileges"),
                                        role_task(path, "Describe the build next to the module")])
    assert said["another-sum"].startswith("Refuse a module whose sha256 is not the expected one: ")
    assert "has sha256 %s, not the expected %s" % (hashlib.sha256(module).hexdigest(), "0" * 64) in said["another-sum"]
    assert os.listdir(tmp_path / "tmp-another-sum") == []
    for host in ("make-ran", "make-did-not-run", "rescued"):
        assert said[host] == "", (host, said[host])
        assert (tmp_path / ("tmp-" + host) / "roulette.ko").read_bytes() == module
        info = json.loads((tmp_path / ("tmp-" + host) / "build.json").read_text())
        assert (info["sha256"], info["size"]) == (hashlib.sha256(module).hexdigest(), len(module)), host


def test_the_packed_std_library_is_fetched_checked(tmp_path):
    """std_keep.yml's fetch: checked against the sum make printed when it packed; packed by the
    role's own task (make did not run), against the host's; another sum stops the build."""
    pack = b"packed std\n"
    cases = {"make-packed": (True, hashlib.sha256(pack).hexdigest()),
             # A sum from an earlier make of another release is not the pack's: not used.
             "task-packed": (False, "1" * 64),
             "another-sum": (True, "2" * 64)}
    hosts = {}
    for host, (by_make, sha256) in cases.items():
        (tmp_path / host).mkdir()
        (tmp_path / host / "std.tar.gz").write_bytes(pack)
        hosts[host] = {"__pack": str(tmp_path / host / "std.tar.gz"), "__tmp": str(tmp_path / "controller" / (".tmp-id-" + host)),
                       "__kmod_build_std_packed_by_make": by_make, "__kmod_build_std_pack_sha256": sha256}
    said = fetch_play(tmp_path, hosts, [role_task("roles/kmod_build/tasks/std_keep.yml", "Fetch the packed std library")])
    assert said["another-sum"].startswith("Refuse a pack whose sha256 is not the expected one: "), said["another-sum"]
    assert said["make-packed"] == said["task-packed"] == ""
    assert sorted(os.listdir(tmp_path / "controller")) == [".tmp-id-make-packed.tar.gz", ".tmp-id-task-packed.tar.gz"]
    assert (tmp_path / "controller" / ".tmp-id-task-packed.tar.gz").read_bytes() == pack


def test_make_runs_in_the_foreground_of_its_task():
    """No async job to poll: each poll was a module run on the build host, CPU taken from rustc."""
    task = role_task("roles/kmod_build/tasks/build_release.yml", "Build roulette.ko (make)")
    assert "async" not in task and "poll" not in task
    assert task["ansible.builtin.command"]["argv"][2:5] == ["timeout", "--kill-after=30", "{{ kmod_build_timeout | int }}"]
