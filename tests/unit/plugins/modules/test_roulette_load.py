# SPDX-License-Identifier: GPL-3.0-or-later
"""roulette_load: depmod, the unload of a reload, the marker, modprobe, dmesg and the state
after, in one module run (fake commands here; the real load in every VM converge, and a
refused module in tests/vm/test_safety_load.py)."""

import os
import stat

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.rustkmod.roulette.plugins.modules import roulette_load
from roulette_fakehost import Exit, Fail

ARGS = {"kernel": "6.1.0-57-amd64", "params": "chance=0", "marker": "rustkmod.roulette: loading roulette run 7",
        "device": "/dev/kernel-roulette"}


@pytest.fixture
def host(tmp_path, monkeypatch):
    """Fake depmod, modprobe and dmesg (each logs its arguments to calls; modprobe exits with
    tmp_path/modprobe.rc), a file for /dev/kmsg, and a driver state that says major 240."""
    calls = tmp_path / "calls"
    kmsg = tmp_path / "kmsg"
    for name in ("depmod", "modprobe", "dmesg"):
        body = "#!/bin/sh\necho \"%s $*\" >> %s\n" % (name, calls)
        if name == "modprobe":
            body += ("rc=$(cat %s/modprobe.rc 2>/dev/null || echo 0)\n"
                     "[ $rc = 0 ] || echo \"modprobe: ERROR: could not insert 'roulette': Exec format error\" >&2\n"
                     "exit $rc\n") % tmp_path
        if name == "dmesg":
            body += "cat %s\n" % kmsg
        (tmp_path / name).write_text(body)
        (tmp_path / name).chmod(0o755)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path",
                        lambda self, name, *a, **k: str(tmp_path / name) if name != "dkms" else None)
    original = roulette_load.mark
    monkeypatch.setattr(roulette_load, "mark", lambda marker: original(marker, kmsg=str(kmsg)))

    class State:
        def facts(self, device, module_path, paths, dkms_status=None):
            return {"major": 240, "device": device, "dkms": dkms_status}

    monkeypatch.setattr(roulette_load, "DriverState", State)
    return tmp_path


def run(args, outcome=Exit):
    with patch_module_args(args), pytest.raises(outcome) as info:
        roulette_load.main()
    return info.value.result


def commands(host):
    return [line.split()[:2] for line in (host / "calls").read_text().splitlines()]


def test_a_load_marks_the_log_loads_and_returns_the_log_and_the_state(exits, host):
    result = run(ARGS)
    assert commands(host) == [["depmod", "-a"], ["modprobe", "roulette"], ["dmesg"]]
    assert "depmod -a 6.1.0-57-amd64" in (host / "calls").read_text()
    assert "modprobe roulette chance=0" in (host / "calls").read_text()
    assert result["changed"] is True
    assert result["dmesg"] == "rustkmod.roulette: loading roulette run 7\n"
    assert result["ansible_facts"]["roulette_info"] == {"major": 240, "device": "/dev/kernel-roulette", "dkms": None}


def test_a_reload_unloads_first(exits, host):
    run(dict(ARGS, reload=True))
    assert commands(host) == [["depmod", "-a"], ["modprobe", "-r"], ["modprobe", "roulette"], ["dmesg"]]


def test_a_refused_load_fails_with_modprobes_words_and_the_kernel_log(exits, host):
    (host / "modprobe.rc").write_text("1")
    result = run(ARGS, Fail)
    assert result["msg"] == "modprobe roulette chance=0 failed (rc=1): modprobe: ERROR: could not insert 'roulette': Exec format error"
    assert result["step"] == "load" and result["changed"] is True
    assert result["dmesg"] == "rustkmod.roulette: loading roulette run 7\n"
    assert "ansible_facts" not in result


def test_check_mode_runs_nothing(exits, host):
    result = run(dict(ARGS, _ansible_check_mode=True))
    assert result == {"changed": True}
    assert not (host / "calls").exists() and not (host / "kmsg").exists()


# -- install (src) and device node (node_mode) ---------------------------------------------------

MODULE_BYTES = b"\x7fELF roulette.ko for the test"
MODULE_SHA256 = __import__("hashlib").sha256(MODULE_BYTES).hexdigest()


@pytest.fixture
def module_file(tmp_path):
    src = tmp_path / "transferred.ko"
    src.write_bytes(MODULE_BYTES)
    return src


def test_src_is_installed_in_a_new_directory_before_depmod(exits, host, module_file):
    dest = host / "lib/modules/6.1.0-57-amd64/extra/roulette.ko"
    result = run(dict(ARGS, src=str(module_file), sha256=MODULE_SHA256, module_path=str(dest)))
    assert dest.read_bytes() == MODULE_BYTES
    assert oct(dest.stat().st_mode & 0o7777) == "0o644"
    assert oct(dest.parent.stat().st_mode & 0o7777) == "0o755"
    assert oct((host / "lib/modules").stat().st_mode & 0o7777) == "0o755"
    assert result["installed"] is True and result["changed"] is True
    assert commands(host)[0] == ["depmod", "-a"]
    assert sorted(p.name for p in dest.parent.iterdir()) == ["roulette.ko"]


def test_src_of_another_sha256_is_refused_and_nothing_changes(exits, host, module_file):
    dest = host / "extra/roulette.ko"
    dest.parent.mkdir()
    dest.write_bytes(b"the module that was there")
    result = run(dict(ARGS, src=str(module_file), sha256="0" * 64, module_path=str(dest)), Fail)
    assert result["step"] == "install" and result["changed"] is False
    assert "has SHA-256 %s, not %s" % (MODULE_SHA256, "0" * 64) in result["msg"]
    assert dest.read_bytes() == b"the module that was there"
    assert not (host / "calls").exists()


def test_temporary_files_of_an_install_cut_short_are_removed(exits, host, module_file):
    extra = host / "extra"
    extra.mkdir()
    (extra / ".roulette.ko.k3j2x1").write_bytes(b"half")
    (extra / "other.ko").write_bytes(b"not ours")
    run(dict(ARGS, src=str(module_file), sha256=MODULE_SHA256, module_path=str(extra / "roulette.ko")))
    assert sorted(p.name for p in extra.iterdir()) == ["other.ko", "roulette.ko"]


def test_a_failed_load_after_an_install_says_it_installed(exits, host, module_file):
    (host / "modprobe.rc").write_text("1")
    result = run(dict(ARGS, src=str(module_file), sha256=MODULE_SHA256, module_path=str(host / "roulette.ko")), Fail)
    assert result["step"] == "load" and result["installed"] is True and result["changed"] is True


@pytest.mark.parametrize("option, value", [("sha256", "ABC"), ("node_mode", "rw-------"), ("node_mode", "0999")])
def test_malformed_options_are_refused_before_anything_runs(exits, host, module_file, option, value):
    args = dict(ARGS, src=str(module_file), sha256=MODULE_SHA256, module_path=str(host / "roulette.ko"))
    args[option] = value
    result = run(args, Fail)
    assert option in result["msg"]
    assert not (host / "calls").exists() and not (host / "roulette.ko").exists()


@pytest.fixture
def node_state(host, monkeypatch):
    """The driver state after the load: major 240 and the node as lstat sees it."""
    from ansible_collections.rustkmod.roulette.plugins.module_utils.driver_state import DriverState

    class State:
        def facts(self, device, module_path, paths, dkms_status=None):
            return {"major": 240, "node": self.node(device)}

        def node(self, device):
            real = DriverState()
            return real.node(device, devices="Character devices:\n240 kernel-roulette\n")

    monkeypatch.setattr(roulette_load, "DriverState", State)
    return host


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a character device needs root")
def test_node_mode_makes_the_node_when_nothing_is_there(exits, node_state):
    device = node_state / "kernel-roulette"
    result = run(dict(ARGS, device=str(device), node_mode="0600"))
    st = device.lstat()
    assert stat.S_ISCHR(st.st_mode) and os.major(st.st_rdev) == 240 and os.minor(st.st_rdev) == 0
    assert oct(st.st_mode & 0o7777) == "0o600"
    assert result["node_created"] is True and result["node_error"] is None
    assert result["ansible_facts"]["roulette_info"]["node"]["matches"] is True


def test_node_mode_leaves_what_is_at_the_path(exits, node_state):
    device = node_state / "kernel-roulette"
    device.write_text("a user's file")
    result = run(dict(ARGS, device=str(device), node_mode="0600"))
    assert device.read_text() == "a user's file"
    assert result["node_created"] is False and result["node_error"] is None


def test_without_node_mode_no_node_is_made(exits, node_state):
    device = node_state / "kernel-roulette"
    result = run(dict(ARGS, device=str(device)))
    assert not os.path.lexists(device) and result["node_created"] is False
