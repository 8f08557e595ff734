# SPDX-License-Identifier: GPL-3.0-or-later
"""roulette_load: depmod, the unload of a reload, the marker, modprobe, dmesg and the state
after, in one module run (fake commands here; the real load in every VM converge, and a
refused module in tests/vm/test_safety_load.py)."""

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
