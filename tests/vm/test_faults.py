# SPDX-License-Identifier: GPL-3.0-or-later
"""Faults produced for real, then the next site.yml: it converges to a working driver, or
stops with a clear message and loses nothing. Each test makes its own starting state.

What the user saw and the state after the next run go to tests/output/faults.json (one
record per fault), for the table in the session notes.

They run on one target whose build host is a roulette_build chroot of its release on the
controller ($ROULETTE_FAULT_HOST: the fleet scenario's Debian 13 VM; in a dev lab with a
chroot, the first target by name): each fault is
followed by a rebuild, about a minute in a chroot and several in an emulated VM building
for itself, so the single-VM scenarios skip them (the build code is the same role there).
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import (BIN, DEVICE, ROOT, SITE, failures, host_name, installed_module, load_driver, loaded_chance,
                      node_numbers, registered_major)

RECORDS = ROOT / "tests" / "output" / "faults.json"
LAB = ROOT / "molecule" / "shared" / "lab.py"


def record(fault, saw, after):
    """Keep what the user saw and the state after the next run, for the notes."""
    RECORDS.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(RECORDS.read_text()) if RECORDS.is_file() else {}
    data[fault] = {"user_saw": saw, "after_next_run": after}
    RECORDS.write_text(json.dumps(data, indent=2) + "\n")


def inventory_data(request):
    out = subprocess.run([str(BIN / "ansible-inventory"), "-i", request.config.getoption("ansible_inventory"), "--list"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def codename(root):
    """VERSION_CODENAME of the system whose root directory is `root`."""
    for line in (Path(root) / "etc" / "os-release").read_text().splitlines():
        if line.startswith("VERSION_CODENAME="):
            return line.split("=", 1)[1].strip('"')
    return ""


def build_host_of(request, host):
    """(kind, name, where): ('chroot', name, Path of the chroot) for the roulette_build chroot of
    the target's Debian release, else ('target', name, None)."""
    data = inventory_data(request)
    hostvars = data.get("_meta", {}).get("hostvars", {})
    wanted = host.system_info.codename
    for name in data.get("roulette_build", {}).get("hosts", []):
        values = hostvars.get(name, {})
        if values.get("ansible_connection", "").endswith("chroot") and codename(values["ansible_host"]) == wanted:
            return "chroot", name, Path(values["ansible_host"])
    return "target", host_name(host), None


def cache_dir(request, host):
    values = inventory_data(request)["_meta"]["hostvars"].get(host_name(host), {})
    path = values.get("kmod_build_controller_cache") or os.path.expanduser("~/.cache/rustkmod-roulette/modules")
    return Path(path)


def run_site(ansible_run, host, **extra):
    return ansible_run(["playbooks/site.yml", "--limit", host_name(host) + ",roulette_build"],
                       extra_vars=dict(SITE, roulette_chance=0, **extra))


def working_driver(host):
    """The state a converged host is in, as a user checks it."""
    assert loaded_chance(host) == 0
    assert node_numbers(host) == (registered_major(host), 0)
    assert host.check_output("cat %s" % DEVICE).startswith("Survived... sampled value is ")
    srcversion = host.check_output("cat /sys/module/roulette/srcversion")
    assert srcversion == host.check_output("modinfo -F srcversion %s" % installed_module(host))
    return "driver loaded at chance 0, node %s matches major %d, a spin survives" % (DEVICE, registered_major(host))


def killed_playbook(ansible_env, request, argv, until, timeout=1200):
    """Run ansible-playbook and SIGKILL it (with everything it started) once until(line) holds
    for a line of its output; returns the output up to the kill."""
    cmd = [str(BIN / "ansible-playbook"), "-i", request.config.getoption("ansible_inventory")] + argv
    env = dict(ansible_env, ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_LOAD_CALLBACK_PLUGINS="0")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    seen = []
    started = time.monotonic()
    try:
        for line in proc.stdout:
            seen.append(line)
            if until(line):
                break
            assert time.monotonic() - started < timeout, "".join(seen[-40:])
        else:
            raise AssertionError("the run ended before the fault could be made:\n" + "".join(seen[-40:]))
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return "".join(seen)


@pytest.fixture
def builder(request, host):
    return build_host_of(request, host)


@pytest.fixture
def fault_host(request, host, builder):
    """Skip unless `host` is $ROULETTE_FAULT_HOST (default: the inventory's first target by
    name) and builds in a chroot."""
    first = os.environ.get("ROULETTE_FAULT_HOST") or min(inventory_data(request).get("roulette", {}).get("hosts", []))
    if host_name(host) != first:
        pytest.skip("fault tests run on one target of the fleet, %s" % first)
    if builder[0] != "chroot":
        pytest.skip("fault tests run on a target whose build host is a chroot (the fleet scenario)")


def make_is_running(kind, where, host):
    if kind == "chroot":
        return subprocess.run(["pgrep", "-f", "make -C %s/" % "/var/lib/rustkmod-roulette/build"],
                              capture_output=True).returncode == 0
    return host.run("pgrep -f 'make -C /var/lib/rustkmod-roulette/build'").rc == 0


def test_controller_killed_mid_build(host, ansible_run, ansible_env, request, builder, fault_host):
    kind, name, where = builder
    load_driver(host, ansible_run, chance=0)
    argv = ["playbooks/site.yml", "--limit", host_name(host) + ",roulette_build",
            "-e", json.dumps(dict(SITE, roulette_chance=0, kmod_build_rebuild=True))]
    output = killed_playbook(ansible_env, request, argv, until=lambda line: "Build roulette.ko (make)" in line)
    deadline = time.monotonic() + 120
    while not make_is_running(kind, where, host) and time.monotonic() < deadline:
        time.sleep(1)
    # The controller is gone; make goes on, on the build host, in the background.
    saw = "ansible-playbook killed during: " + output.strip().splitlines()[-1]

    rc, report = run_site(ansible_run, host)
    assert rc == 0, [(h, failures(report, h)) for h in report["stats"]]
    record("controller killed mid-build", saw, working_driver(host))


# CI kills the install on the target (the load task copies the module, then loads it); the fetch
# into the controller's cache (a rebuild first) in the full suite.
@pytest.mark.parametrize("task", [pytest.param("Fetch roulette.ko", marks=pytest.mark.full_suite),
                                  "kmod_load : Load roulette chance=0"])
def test_controller_killed_mid_copy(host, ansible_run, ansible_env, request, task, fault_host):
    load_driver(host, ansible_run, chance=0)
    # A copy happens only when the host lacks the module: take it away.
    assert host.run("modprobe -r roulette && rm -f %s %s" % (DEVICE, installed_module(host))).rc == 0
    extra = dict(SITE, roulette_chance=0, kmod_build_rebuild=task.startswith("Fetch"))
    argv = ["playbooks/site.yml", "--limit", host_name(host) + ",roulette_build", "-e", json.dumps(extra)]
    output = killed_playbook(ansible_env, request, argv, until=lambda line: ("TASK [" in line and task in line))
    time.sleep(3)  # the task is under way
    saw = "ansible-playbook killed during: " + output.strip().splitlines()[-1]

    rc, report = run_site(ansible_run, host)
    assert rc == 0, [(h, failures(report, h)) for h in report["stats"]]
    record("controller killed mid-copy (%s)" % task, saw, working_driver(host))


def cache_entries_for(request, host):
    release = host.check_output("uname -r")
    entries = []
    for info in cache_dir(request, host).glob("*/build.json"):
        try:
            data = json.loads(info.read_text())
        except ValueError:
            continue
        if isinstance(data, dict) and data.get("kernel_release") == release:
            entries.append(info.parent)
    return entries


# Every kind is refused by the same check (unit tests: cache_entry); CI corrupts one on a VM.
@pytest.mark.parametrize("corruption", ["empty module",
                                        pytest.param("null build.json", marks=pytest.mark.full_suite),
                                        pytest.param("module is a directory", marks=pytest.mark.full_suite)])
def test_a_corrupt_cache_entry_is_built_again(host, ansible_run, request, corruption, fault_host):
    load_driver(host, ansible_run, chance=0)
    entries = cache_entries_for(request, host)
    assert entries, "no cache entry for this kernel to corrupt"
    for entry in entries:
        module = entry / "roulette.ko"
        if corruption == "empty module":
            module.write_bytes(b"")
        elif corruption == "null build.json":
            (entry / "build.json").write_text("null\n")
        else:
            module.unlink()
            module.mkdir()
    # The host must take its module from the cache: it has none installed.
    assert host.run("modprobe -r roulette && rm -f %s %s" % (DEVICE, installed_module(host))).rc == 0

    rc, report = run_site(ansible_run, host)
    assert rc == 0, [(h, failures(report, h)) for h in report["stats"]]
    assert "Traceback" not in json.dumps(report)
    state = working_driver(host)
    assert cache_entries_for(request, host), "no sound entry in the cache after the run"
    record("corrupt cache entry (%s)" % corruption, "a warning naming the entry, then a build", state)


def test_a_full_build_filesystem_stops_with_its_cause_and_loses_nothing(host, ansible_run, builder, fault_host):
    kind, name, where = builder
    load_driver(host, ansible_run, chance=0)
    before = host.check_output("md5sum %s" % installed_module(host))
    build_root = "/var/lib/rustkmod-roulette/build"
    # A file system of 256 KiB where the build trees go: the unpacked source fits, the build does not.
    if kind == "chroot":
        mount_point = where / build_root.lstrip("/")
        mount_point.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)], check=True)
        unmount = ["umount", str(mount_point)]
    else:
        assert host.run("mkdir -p %s && mount -t tmpfs -o size=256k tmpfs %s" % (build_root, build_root)).rc == 0
        unmount = None
    try:
        rc, report = run_site(ansible_run, host, kmod_build_rebuild=True)
        assert rc != 0
        msgs = [r.get("msg", "") for h in report["stats"] for _, r in failures(report, h)]
        saw = " | ".join(msgs)
        assert any("No space left on device" in m for m in msgs), msgs
        # Nothing lost: the driver that was there is still installed and loaded.
        assert host.check_output("md5sum %s" % installed_module(host)) == before
        assert loaded_chance(host) == 0
    finally:
        if unmount:
            subprocess.run(unmount, check=True)
        else:
            host.run("umount %s" % build_root)
    rc, report = run_site(ansible_run, host)
    assert rc == 0, [(h, failures(report, h)) for h in report["stats"]]
    record("/var full on the build host (build file system out of space)", saw[:500], working_driver(host))


def test_a_vm_powered_off_mid_load_comes_back_with_the_next_run(host, ansible_run, ansible_env, request,
                                                                fault_host):
    name = host_name(host)
    lab = [sys.executable, str(LAB)]
    if subprocess.run(lab + ["status", name], capture_output=True).returncode != 0:
        pytest.skip("not a lab VM")
    load_driver(host, ansible_run, chance=0)
    assert host.run("modprobe -r roulette && rm -f %s" % DEVICE).rc == 0
    argv = ["playbooks/site.yml", "--limit", name + ",roulette_build", "-e", json.dumps(dict(SITE, roulette_chance=0))]
    output = killed_playbook(ansible_env, request, argv,
                             until=lambda line: "TASK [" in line and "Load roulette" in line and "Load the module" not in line)
    subprocess.run(lab + ["poweroff", name], check=True, capture_output=True)
    saw = "the VM lost power during: " + output.strip().splitlines()[-1]
    subprocess.run(lab + ["start", name], check=True, capture_output=True, timeout=900)  # the same disk, its own suite

    rc, report = run_site(ansible_run, host)
    assert rc == 0, [(h, failures(report, h)) for h in report["stats"]]
    record("VM powered off mid-load", saw, working_driver(host))
