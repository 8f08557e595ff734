# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for the pure parts of molecule/shared/lab.py (no VM, no network, no root)."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest

LAB_PY = Path(__file__).resolve().parents[3] / "molecule" / "shared" / "lab.py"
_spec = importlib.util.spec_from_file_location("roulette_lab", LAB_PY)
lab = importlib.util.module_from_spec(_spec)
sys.modules["roulette_lab"] = lab  # dataclasses look their module up by name
_spec.loader.exec_module(lab)

yaml = pytest.importorskip("yaml")

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample lab"


# -- port picking ----------------------------------------------------------------------


def test_pick_port_takes_the_first_free_port():
    assert lab.pick_port(10022, set(), lambda p: True) == 10022


def test_pick_port_skips_ports_other_instances_hold():
    assert lab.pick_port(10022, {10022, 10023}, lambda p: True) == 10024


def test_pick_port_skips_ports_bound_by_other_programs():
    busy = {10022, 10024}
    assert lab.pick_port(10022, {10023}, lambda p: p not in busy) == 10025


def test_pick_port_fails_clearly_when_the_range_is_full():
    with pytest.raises(lab.LabError, match="no free loopback port"):
        lab.pick_port(10022, set(), lambda p: False, span=5)


def test_port_is_free_sees_a_bound_socket():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        assert lab.port_is_free(sock.getsockname()[1]) is False


# -- recipe hash -----------------------------------------------------------------------


def test_recipe_hash_is_stable_and_short():
    one = lab.recipe_hash(lab.image_recipe("bookworm", KEY, "8G"))
    two = lab.recipe_hash(lab.image_recipe("bookworm", KEY + "\n", "8G"))
    assert one == two
    assert len(one) == 12
    int(one, 16)


def test_recipe_hash_ignores_package_order():
    recipe = lab.image_recipe("bookworm", KEY, "8G")
    shuffled = dict(recipe, packages=list(reversed(recipe["packages"])))
    assert lab.recipe_hash(shuffled) == lab.recipe_hash(recipe)


@pytest.mark.parametrize(
    "change",
    [
        {"suite": "trixie"},
        {"size": "12G"},
        {"pubkey": KEY + "-other"},
        {"version": lab.RECIPE_VERSION + 1},
        {"script": lab.CUSTOMIZE_SCRIPT + "\n# more"},
    ],
)
def test_recipe_hash_changes_with_the_recipe(change):
    recipe = lab.image_recipe("bookworm", KEY, "8G")
    assert lab.recipe_hash(dict(recipe, **change)) != lab.recipe_hash(recipe)


def test_recipe_hash_changes_with_the_package_list():
    recipe = lab.image_recipe("bookworm", KEY, "8G")
    more = dict(recipe, packages=[*recipe["packages"], "linux-headers-amd64"])
    assert lab.recipe_hash(more) != lab.recipe_hash(recipe)


def test_image_and_chroot_recipes_differ():
    assert lab.recipe_hash(lab.chroot_recipe("bookworm")) != lab.recipe_hash(lab.image_recipe("bookworm", KEY, "8G"))


def test_recipe_has_no_headers_or_rust():
    packages = lab.image_recipe("trixie", KEY, "8G")["packages"]
    assert "linux-image-amd64" in packages
    assert not [p for p in packages if "headers" in p or "rust" in p or "cargo" in p]


@pytest.mark.parametrize("suite", ["bookworm", "trixie"])
def test_sources_cover_release_updates_and_security(suite):
    sources = lab.sources_for(suite)
    assert f"deb http://deb.debian.org/debian {suite} main" in sources
    assert f"deb http://deb.debian.org/debian {suite}-updates main" in sources
    assert f"deb http://deb.debian.org/debian-security {suite}-security main" in sources


def test_unknown_suite_is_refused():
    with pytest.raises(lab.LabError, match="unknown suite"):
        lab.sources_for("sid")


# -- inventory -------------------------------------------------------------------------


def instance(name, port, suite="bookworm"):
    return {
        "name": name,
        "host": "127.0.0.1",
        "port": port,
        "user": "roulette",
        "key": "/home/u/.cache/rustkmod-roulette/ssh/id_ed25519",
        "suite": suite,
        "kernel_release": "6.1.0-56-amd64" if suite == "bookworm" else "6.12.57+deb13-amd64",
    }


def test_inventory_lists_every_instance_in_the_group():
    text = lab.render_inventory([instance("b", 10023), instance("a", 10022, "trixie")])
    inv = yaml.safe_load(text)
    group = inv["all"]["children"]["roulette"]
    assert list(group["hosts"]) == ["a", "b"]
    assert group["hosts"]["a"] == {
        "ansible_host": "127.0.0.1",
        "ansible_port": 10022,
        "ansible_user": "roulette",
        "ansible_ssh_private_key_file": "/home/u/.cache/rustkmod-roulette/ssh/id_ed25519",
        "roulette_lab_suite": "trixie",
        "roulette_lab_kernel_release": "6.12.57+deb13-amd64",
    }


def test_inventory_group_vars_become_root_and_skip_host_keys():
    inv = yaml.safe_load(lab.render_inventory([instance("a", 10022)], group="lab"))
    gvars = inv["all"]["children"]["lab"]["vars"]
    assert gvars["ansible_become"] is True
    assert "StrictHostKeyChecking=no" in gvars["ansible_ssh_common_args"]
    assert "UserKnownHostsFile=/dev/null" in gvars["ansible_ssh_common_args"]


def test_inventory_names_each_vms_serial_console_log():
    booted = dict(instance("a", 10022), serial_log="/run/lab/a/serial.log")
    inv = yaml.safe_load(lab.render_inventory([booted, instance("b", 10023)]))
    hosts = inv["all"]["children"]["roulette"]["hosts"]
    assert hosts["a"]["roulette_console_log"] == "/run/lab/a/serial.log"
    assert "roulette_console_log" not in hosts["b"]  # an instance.json from before serial logs


def test_inventory_without_instances_is_still_valid():
    inv = yaml.safe_load(lab.render_inventory([]))
    assert inv["all"]["children"]["roulette"]["hosts"] == {}


def test_inventory_quotes_odd_paths():
    odd = dict(instance("a", 10022), key='/tmp/with space/"quoted": key')
    inv = yaml.safe_load(lab.render_inventory([odd]))
    host = inv["all"]["children"]["roulette"]["hosts"]["a"]
    assert host["ansible_ssh_private_key_file"] == '/tmp/with space/"quoted": key'


def test_inventory_command_writes_only_live_instances(tmp_path, monkeypatch):
    for inst in (instance("live", 10022), instance("gone", 10023)):
        inst["serial_log"] = str(tmp_path / inst["name"] / "serial.log")  # as launch() writes it
        (tmp_path / inst["name"]).mkdir()
        (tmp_path / inst["name"] / "instance.json").write_text(json.dumps(inst))
    monkeypatch.setattr(lab, "pid_is_ours", lambda pid, marker: marker.endswith("live"))
    out = tmp_path / "inv.yml"
    args = argparse.Namespace(state_dir=str(tmp_path), output=str(out), group="roulette")
    assert lab.cmd_inventory(args) == 0
    hosts = yaml.safe_load(out.read_text())["all"]["children"]["roulette"]["hosts"]
    assert list(hosts) == ["live"]
    assert hosts["live"]["roulette_console_log"] == str(tmp_path / "live" / "serial.log")


# -- sizes, memory, names, serial log -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "mib"),
    [("2048", 2048), ("2G", 2048), ("512M", 512), ("1GiB", 1024), ("4g", 4096)],
)
def test_parse_size_mib(text, mib):
    assert lab.parse_size_mib(text) == mib


def test_parse_size_mib_refuses_garbage():
    with pytest.raises(lab.LabError):
        lab.parse_size_mib("lots")


def test_memory_fits_counts_qemu_overhead_and_host_reserve():
    need_one = 2048 + lab.QEMU_OVERHEAD_MIB + lab.HOST_RESERVE_MIB
    assert lab.memory_fits([2048], need_one)
    assert not lab.memory_fits([2048], need_one - 1)
    assert not lab.memory_fits([2048, 2048, 2048], 3 * 2048)


def test_mem_available_reads_meminfo():
    meminfo = "MemTotal:       24683656 kB\nMemAvailable:   2097152 kB\n"
    assert lab.mem_available_mib(meminfo) == 2048


@pytest.mark.parametrize("name", ["roulette-bookworm", "fleet-trixie-1", "a"])
def test_good_names(name):
    assert lab.check_name(name) == name


@pytest.mark.parametrize("name", ["", "-x", "x-", "under_score", "a/b", "a" * 64, "dot.ted"])
def test_bad_names(name):
    with pytest.raises(lab.LabError):
        lab.check_name(name)


def test_serial_findings():
    clean = "[    1.0] Run /init as init process\n"
    oops = "kernel BUG at shim.c:12!\nOops: invalid opcode: 0000 [#1] SMP\n"
    panic = oops + "Kernel panic - not syncing: Fatal exception\n"
    assert lab.serial_findings(clean) == {"panic": False, "oops": False}
    assert lab.serial_findings(oops) == {"panic": False, "oops": True}
    assert lab.serial_findings(panic) == {"panic": True, "oops": True}


# -- QEMU command and state dir --------------------------------------------------------


def test_qemu_uses_tcg_by_default_and_loopback_forwarding(tmp_path):
    image = lab.Image("bookworm", tmp_path)
    spec = lab.Spec(name="vm1", suite="bookworm", memory=1024, cpus=1)
    cmd = lab.qemu_command(spec, image, tmp_path / "vm1", 10030, "ab" * 16)
    joined = " ".join(cmd)
    assert "-accel tcg,thread=multi -cpu max" in joined
    assert "hostfwd=tcp:127.0.0.1:10030-:22" in joined
    assert f"-serial file:{tmp_path / 'vm1' / 'serial.log'}" in joined
    assert "-daemonize" in cmd and "-pidfile" in cmd
    append = cmd[cmd.index("-append") + 1]
    assert "root=/dev/vda" in append and "console=ttyS0" in append
    assert "systemd.hostname=vm1" in append


def test_qemu_uses_kvm_only_when_asked(tmp_path):
    spec = lab.Spec(name="vm1", suite="bookworm", accel="kvm")
    cmd = lab.qemu_command(spec, lab.Image("bookworm", tmp_path), tmp_path, 10030, "0" * 32)
    assert "kvm" in cmd[cmd.index("-accel") + 1]


def test_accel_env(monkeypatch):
    monkeypatch.delenv("ROULETTE_LAB_ACCEL", raising=False)
    assert lab.default_accel() == "tcg"
    monkeypatch.setenv("ROULETTE_LAB_ACCEL", "kvm")
    assert lab.default_accel() == "kvm"
    monkeypatch.setenv("ROULETTE_LAB_ACCEL", "hvf")
    with pytest.raises(lab.LabError):
        lab.default_accel()


def test_state_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("ROULETTE_LAB_STATE", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    assert lab.state_dir() == tmp_path / "run" / "rustkmod-roulette" / "lab"
    monkeypatch.setenv("ROULETTE_LAB_STATE", str(tmp_path / "env"))
    assert lab.state_dir() == tmp_path / "env"
    assert lab.state_dir(str(tmp_path / "opt")) == tmp_path / "opt"


def test_cache_dir_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert lab.cache_dir() == tmp_path / "rustkmod-roulette"
    assert lab.key_path() == tmp_path / "rustkmod-roulette" / "ssh" / "id_ed25519"


def test_spec_file_defaults(tmp_path, monkeypatch):
    monkeypatch.delenv("ROULETTE_LAB_ACCEL", raising=False)
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps([{"name": "a"}, {"name": "b", "suite": "trixie", "memory": 1024, "cpus": 1}]))
    args = argparse.Namespace(spec=str(spec_file), accel=None, name=[])
    specs = lab.load_specs(args)
    assert specs[0] == lab.Spec("a", "bookworm", lab.DEFAULT_MEMORY, lab.DEFAULT_CPUS, "tcg")
    assert specs[1] == lab.Spec("b", "trixie", 1024, 1, "tcg")


def test_missing_tools_name_the_apt_packages(monkeypatch):
    monkeypatch.setattr(lab.shutil, "which", lambda tool: None)
    with pytest.raises(lab.LabError, match="qemu-system-x86 qemu-utils mmdebstrap"):
        lab.require_tools("qemu-system-x86_64")


# -- build chroots ---------------------------------------------------------------------

MOUNTINFO = """\
22 1 254:0 / / rw,relatime - ext4 /dev/vda rw
42 22 0:39 / /srv/build/proc rw,relatime - proc proc rw
43 22 0:5 / /srv/build/dev rw,nosuid - devtmpfs udev rw
44 43 0:6 / /srv/build/dev/pts rw,nosuid - devpts devpts rw
45 22 0:39 / /srv/build-other/proc rw,relatime - proc proc rw
46 22 0:40 / /srv/with\\040space/proc rw,relatime - proc proc rw
"""


def test_mounts_under_lists_deepest_first_and_only_below_the_chroot():
    points = lab.mounts_under(Path("/srv/build"), MOUNTINFO)
    assert points[0] == "/srv/build/dev/pts"
    assert set(points) == {"/srv/build/proc", "/srv/build/dev", "/srv/build/dev/pts"}


def test_mounts_under_decodes_spaces():
    assert lab.mounts_under(Path("/srv/with space"), MOUNTINFO) == ["/srv/with space/proc"]


def test_chroot_recipe_keeps_it_small():
    recipe = lab.chroot_recipe("trixie")
    assert recipe["packages"] == ["ca-certificates", "python3"]
    assert recipe["sources"] == lab.sources_for("trixie")


# -- image freshness -------------------------------------------------------------------


def stale_image(tmp_path, age_hours):
    (tmp_path / "complete").write_text("")
    (tmp_path / "headers-uri").write_text("http://mirror.invalid/pool/linux-headers.deb\n")
    old = 1_000_000.0
    os.utime(tmp_path / "complete", (old, old))
    return lab.Image("bookworm", tmp_path), old + age_hours * 3600


def test_fresh_image_is_not_checked(tmp_path, monkeypatch):
    monkeypatch.delenv("ROULETTE_LAB_FRESH_HOURS", raising=False)
    image, now = stale_image(tmp_path, 1)
    monkeypatch.setattr(lab, "headers_gone", lambda uri: pytest.fail("checked too early"))
    assert lab.image_is_stale(image, now) is False


def test_old_image_is_stale_when_the_headers_left_the_mirror(tmp_path, monkeypatch):
    monkeypatch.delenv("ROULETTE_LAB_FRESH_HOURS", raising=False)
    image, now = stale_image(tmp_path, 7)
    monkeypatch.setattr(lab, "headers_gone", lambda uri: True)
    assert lab.image_is_stale(image, now) is True
    assert (tmp_path / "checked").exists()


def test_old_image_with_headers_still_served_is_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("ROULETTE_LAB_FRESH_HOURS", raising=False)
    image, now = stale_image(tmp_path, 7)
    monkeypatch.setattr(lab, "headers_gone", lambda uri: False)
    assert lab.image_is_stale(image, now) is False


def test_freshness_check_can_be_switched_off(tmp_path, monkeypatch):
    monkeypatch.setenv("ROULETTE_LAB_FRESH_HOURS", "0")
    image, now = stale_image(tmp_path, 1000)
    monkeypatch.setattr(lab, "headers_gone", lambda uri: True)
    assert lab.image_is_stale(image, now) is False


def test_headers_gone_only_on_not_found(monkeypatch):
    import urllib.error

    def answer(exc):
        def urlopen(req, timeout):
            raise exc

        return urlopen

    monkeypatch.setattr(lab.urllib.request, "urlopen", answer(urllib.error.HTTPError("u", 404, "nf", {}, None)))
    assert lab.headers_gone("http://x/") is True
    monkeypatch.setattr(lab.urllib.request, "urlopen", answer(urllib.error.URLError("offline")))
    assert lab.headers_gone("http://x/") is False


def test_pid_check_does_not_confuse_vm1_with_vm10(tmp_path, monkeypatch):
    cmdline = f"qemu-system-x86_64\0-serial\0file:{tmp_path}/vm10/serial.log\0".encode()
    real_read = Path.read_bytes

    def fake_read(self):
        return cmdline if str(self) == "/proc/4242/cmdline" else real_read(self)

    monkeypatch.setattr(Path, "read_bytes", fake_read)
    assert lab.pid_is_ours(4242, str(tmp_path / "vm10")) is True
    assert lab.pid_is_ours(4242, str(tmp_path / "vm1")) is False


def test_extra_kernel_args_go_last():
    line = lab.kernel_cmdline("vm1", "0" * 32, "panic_on_oops=1  loglevel=7")
    assert line.split()[-2:] == ["panic_on_oops=1", "loglevel=7"]
    assert lab.kernel_cmdline("vm1", "0" * 32).split()[-1] == "systemd.machine_id=" + "0" * 32
