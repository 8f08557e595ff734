# SPDX-License-Identifier: GPL-3.0-or-later
"""The spin module: options, host checks, facts; real forked workers with injected readers.

The worker and its protocol are tested in module_utils/test_spin_worker.py,
the kernel log in test_kernel_log.py, the tally in test_spin_results.py.
"""

from __future__ import annotations

import os
import signal
import stat
import time

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.rustkmod.roulette.plugins.modules import spin
from roulette_fakehost import Exit, Fail, answer, die_like_bug, dies_on, survive_all


def run(host, args, reader=survive_all, check_mode=False, **kwargs):
    args = dict({"device": host.device}, **args)
    if check_mode:
        args["_ansible_check_mode"] = True
    with patch_module_args(args):
        module = spin.build_module()
    return spin.Spin(module, root=host.root, reader=reader, **kwargs).run()


def fail(host, args, exits, **kwargs):
    with pytest.raises(Fail) as info:
        run(host, args, **kwargs)
    return info.value.result


def test_survivals(host, exits):
    changed, facts = run(host, {"count": 50, "expect_chance": 5})
    assert changed is True
    assert facts["spins_done"] == 50 and facts["survived"] == 50
    assert facts["died"] == facts["timeouts"] == facts["errors"] == 0
    assert facts["stop_reason"] == "count"
    assert facts["chance"] == 5 and facts["chance_seen"] == 5 and facts["major"] == 1
    assert facts["spins"][0] == {"n": 1, "outcome": "survived", "value": 6}
    assert [s["n"] for s in facts["spins"]] == list(range(1, 51))
    assert sum(facts["value_summary"]["histogram"]) == 50
    assert facts["value_summary"]["min"] == 6 and facts["value_summary"]["max"] == 55
    assert facts["alive"] is True and facts["first_death"] is None
    assert facts["taint_before"]["letters"] == "OE"
    assert facts["observed_death_rate"] == 0.0 and facts["expected_death_rate"] == 0.05
    assert facts["kernel_log_source"] == "kmsg"
    assert facts["kernel_release"] == "6.1.0-27-amd64"


def test_death_stops_and_is_confirmed_from_kmsg(host, exits):
    host.write("proc/sys/kernel/tainted", "12288\n")
    changed, facts = run(host, {"count": 10}, reader=dies_on({3}, host.kmsg))
    assert changed is True
    assert (facts["spins_done"], facts["survived"], facts["died"]) == (3, 2, 1)
    assert facts["stop_reason"] == "death"
    death = facts["first_death"]
    assert death["spin"] == 3 and death["signal"] == "SIGSEGV" and death["value"] is None
    assert death["confirmed"] is True
    assert death["location"] == "src/lib.rs:31"
    assert death["bug_location"] == "/build/roulette/src/shim.c:57"
    assert any("Boom!" in line for line in death["kernel_lines"])
    assert not any("old line" in line for line in death["kernel_lines"])
    assert facts["spins"][2]["outcome"] == "died"
    assert facts["observed_death_rate"] == pytest.approx(1 / 3, rel=1e-3)


def test_death_without_kernel_lines_is_unconfirmed(host, exits):
    _changed, facts = run(host, {"count": 3}, reader=dies_on({1}))
    assert facts["died"] == 1 and facts["first_death"]["confirmed"] is False
    assert facts["first_death"]["kernel_lines"] == []


def test_keep_spinning_after_deaths(host, exits):
    _changed, facts = run(host, {"count": 8, "stop_on_death": False}, reader=dies_on({2, 5}))
    assert (facts["spins_done"], facts["survived"], facts["died"]) == (8, 6, 2)
    assert [d["spin"] for d in facts["deaths"]] == [2, 5]
    assert [s["outcome"] for s in facts["spins"]] == [
        "survived", "died", "survived", "survived", "died", "survived", "survived", "survived"]
    assert facts["stop_reason"] == "count"


def test_timeout_kills_the_worker(host, exits):
    def reader(path, n):
        if n == 2:
            time.sleep(60)
        return answer(50)
    start = time.monotonic()
    _changed, facts = run(host, {"count": 5, "timeout": 0.3}, reader=reader)
    assert time.monotonic() - start < 5
    assert (facts["spins_done"], facts["survived"], facts["timeouts"]) == (2, 1, 1)
    assert facts["spins"][1] == {"n": 2, "outcome": "timeout", "value": None}
    assert facts["stop_reason"] == "timeout" and facts["alive"] is True


def test_open_error_stops(host, exits):
    def reader(path, n):
        if n == 3:
            raise OSError(2, "No such file or directory")
        return answer(9)
    _changed, facts = run(host, {"count": 10}, reader=reader)
    assert facts["errors"] == 1 and facts["stop_reason"] == "error"
    assert facts["spins"][-1]["errno"] == 2 and facts["spins_done"] == 3


def test_spins_limit_keeps_deaths(host, exits):
    _changed, facts = run(host, {"count": 50, "spins_limit": 5, "stop_on_death": False},
                          reader=dies_on({30}))
    assert len(facts["spins"]) == 6 and facts["spins"][-1]["n"] == 30
    assert facts["spins_truncated"] is True and facts["survived"] == 49


def test_dmesg_fallback(host, exits, monkeypatch):
    host.remove("dev/kmsg")
    log = host.path("dmesg.txt")
    host.write("dmesg.txt", "[    1.0] boot\n[ 4.0] roulette: Rust panic @ src/lib.rs:99\n[ 4.1] Boom!\n")

    def reader(path, n):
        with open(log, "a") as handle:
            handle.write("[ 9.0] roulette: Rust panic @ src/lib.rs:31\n[ 9.1] Boom!\n"
                         "[ 9.2] kernel BUG at src/shim.c:5!\n")
        signal.signal(signal.SIGSEGV, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGSEGV)

    def fake_dmesg(self):
        with open(log) as handle:
            return handle.read()
    monkeypatch.setattr(spin.Spin, "dmesg", fake_dmesg)
    _changed, facts = run(host, {"count": 1}, reader=reader)
    assert facts["kernel_log_source"] == "dmesg"
    assert facts["first_death"]["location"] == "src/lib.rs:31"
    assert facts["first_death"]["confirmed"] is True


def test_no_kernel_log(host, exits):
    host.remove("dev/kmsg")
    _changed, facts = run(host, {"count": 1, "confirm_deaths": False}, reader=dies_on({1}))
    assert facts["kernel_log_source"] == "none" and facts["first_death"]["confirmed"] is False


def test_check_mode_spins_nothing(host, exits):
    def reader(path, n):
        raise AssertionError("must not read in check mode")
    changed, facts = run(host, {"count": 5}, reader=reader, check_mode=True)
    assert changed is False and facts["spins_done"] == 0 and facts["check_mode"] is True
    assert facts["problems"] == [] and facts["stop_reason"] == "check_mode"


def test_check_mode_reports_problems_without_failing(host, exits):
    host.remove("sys/module/roulette")
    changed, facts = run(host, {"count": 5}, check_mode=True)
    assert changed is False and "not loaded" in facts["problems"][0]
    assert facts["alive"] is False


def marking_reader(host):
    """A reader that leaves a file behind: a test can tell whether anything was spun."""
    mark = host.path("spun")

    def reader(path, n):
        with open(mark, "a") as handle:
            handle.write(f"{n}\n")
        return answer(50)
    return reader, mark


@pytest.mark.parametrize("args, message", [
    ({"count": 0}, "count must be within 1..10000000, got 0"),
    ({"count": 10_000_001}, "count must be within 1..10000000"),
    ({"timeout": 0}, "timeout must be a number of seconds within 0..3600 (more than 0), got 0"),
    ({"timeout": -1}, "timeout must be"),
    ({"timeout": float("nan")}, "timeout must be a number of seconds within 0..3600 (more than 0), got nan"),
    ({"timeout": "nan"}, "got nan"),
    ({"timeout": "inf"}, "got inf"),
    ({"timeout": float("-inf")}, "got -inf"),
    ({"timeout": 3600.5}, "timeout must be"),
    ({"timeout": 1e300}, "timeout must be"),
    ({"max_deaths": 0}, "max_deaths must be within 1..10000000"),
    ({"max_deaths": 10_000_001}, "max_deaths must be within 1..10000000"),
    ({"spins_limit": -1}, "spins_limit must be within 0..100000"),
    ({"spins_limit": 100_001}, "spins_limit must be within 0..100000"),
    ({"kernel_lines_limit": -1}, "kernel_lines_limit must be within 0..5000"),
    ({"kernel_lines_limit": 5001}, "kernel_lines_limit must be within 0..5000"),
    ({"expect_chance": 101}, "expect_chance must be within 0..100"),
    ({"expect_chance": 50}, "chance is 5 but expect_chance is 50"),
])
def test_bad_options(host, exits, args, message):
    reader, mark = marking_reader(host)
    result = fail(host, args, exits, reader=reader)
    assert message in result["msg"]
    assert not os.path.exists(mark), "spun before refusing"
    assert result["ansible_facts"]["roulette"]["spins_done"] == 0


@pytest.mark.parametrize("args", [{"count": 0}, {"timeout": "nan"}, {"spins_limit": -1}])
def test_bad_options_fail_in_check_mode_too(host, exits, args):
    """A wrong option is wrong whatever an earlier task did: check mode fails on it too."""
    assert "within" in fail(host, dict(args, _ansible_check_mode=True), exits)["msg"]


@pytest.mark.parametrize("args", [
    {"count": 1}, {"count": 10_000_000}, {"timeout": 3600}, {"timeout": 0.001},
    {"max_deaths": 10_000_000}, {"spins_limit": 0}, {"spins_limit": 100_000},
    {"kernel_lines_limit": 0}, {"kernel_lines_limit": 5000},
])
def test_bounds_are_accepted(host, exits, args):
    _changed, facts = run(host, args, check_mode=True)
    assert facts["problems"] == []


PANIC_WAYS_OUT = ("sysctl -w kernel.panic_on_oops=0", "allow_panic", "roulette_allow_panic")


@pytest.mark.parametrize("text", ["1\n", "2\n"])
def test_panic_on_oops_refuses_before_spinning(host, exits, text):
    host.write("proc/sys/kernel/panic_on_oops", text)
    reader, mark = marking_reader(host)
    result = fail(host, {"count": 5}, exits, reader=reader)
    assert "kernel.panic_on_oops is set" in result["msg"]
    assert all(way in result["msg"] for way in PANIC_WAYS_OUT), result["msg"]
    assert not os.path.exists(mark)
    facts = result["ansible_facts"]["roulette"]
    assert facts["spins_done"] == 0 and facts["panic_on_oops"] is True


@pytest.mark.parametrize("text", [None, "", "garbage\n"])
def test_panic_on_oops_unreadable_refuses(host, exits, text):
    """Fail closed: a sysctl that cannot be read is not taken as 0."""
    host.remove("proc/sys/kernel/panic_on_oops")
    if text is not None:
        host.write("proc/sys/kernel/panic_on_oops", text)
    reader, mark = marking_reader(host)
    result = fail(host, {"count": 5}, exits, reader=reader)
    assert "kernel.panic_on_oops cannot be read" in result["msg"]
    assert all(way in result["msg"] for way in PANIC_WAYS_OUT), result["msg"]
    assert not os.path.exists(mark)
    assert result["ansible_facts"]["roulette"]["panic_on_oops"] is None


def test_panic_on_oops_is_first_even_without_driver(host, exits):
    host.write("proc/sys/kernel/panic_on_oops", "1\n")
    host.remove("sys/module/roulette")
    result = fail(host, {}, exits)
    assert "kernel.panic_on_oops" in result["msg"] and "not loaded" in result["problems"][1]


@pytest.mark.parametrize("text", ["1\n", None])
def test_allow_panic_spins_anyway(host, exits, monkeypatch, text):
    host.remove("proc/sys/kernel/panic_on_oops")
    if text is not None:
        host.write("proc/sys/kernel/panic_on_oops", text)
    warnings = []
    monkeypatch.setattr(spin.AnsibleModule, "warn", lambda self, msg: warnings.append(msg))
    _changed, facts = run(host, {"count": 3, "allow_panic": True})
    assert facts["spins_done"] == 3 and facts["survived"] == 3
    assert any("kernel.panic_on_oops" in w for w in warnings)


def test_panic_on_oops_off_is_reported(host, exits):
    _changed, facts = run(host, {"count": 1})
    assert facts["panic_on_oops"] is False


def test_check_mode_reports_panic_on_oops_without_failing(host, exits):
    host.write("proc/sys/kernel/panic_on_oops", "1\n")
    changed, facts = run(host, {"count": 5}, check_mode=True)
    assert changed is False and facts["alive"] is False
    assert "kernel.panic_on_oops is set" in facts["problems"][0]
    _changed, facts = run(host, {"count": 5, "allow_panic": True}, check_mode=True)
    assert facts["problems"] == []


def test_device_minor_mismatch(host, exits):
    os.unlink(host.device)
    os.mknod(host.device, 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    reader, mark = marking_reader(host)
    result = fail(host, {}, exits, reader=reader)
    assert "has minor 3" in result["msg"] and f"mknod {host.device} c 1 0" in result["msg"]
    assert not os.path.exists(mark)


def test_check_mode_reports_minor_mismatch(host, exits):
    os.unlink(host.device)
    os.mknod(host.device, 0o600 | stat.S_IFCHR, os.makedev(1, 7))
    _changed, facts = run(host, {}, check_mode=True)
    assert "has minor 7" in facts["problems"][0]


def test_driver_not_loaded(host, exits):
    host.remove("sys/module/roulette")
    assert "driver is not loaded" in fail(host, {}, exits)["msg"]


def test_device_missing(host, exits):
    os.unlink(host.device)
    result = fail(host, {}, exits)
    assert "is missing" in result["msg"] and "mknod" in result["msg"]


def test_device_not_a_char_device(host, exits):
    os.unlink(host.device)
    host.write("dev/kernel-roulette", "Survived... sampled value is 1, which is >= 0\n")
    assert "is not a character device" in fail(host, {}, exits)["msg"]


def test_device_is_a_fifo(host, exits):
    os.unlink(host.device)
    os.mkfifo(host.device)
    assert "is not a character device" in fail(host, {}, exits)["msg"]


def test_device_major_mismatch(host, exits):
    host.write("proc/devices", "Character devices:\n247 kernel-roulette\nBlock devices:\n1 kernel-roulette\n")
    result = fail(host, {}, exits)
    assert "has major 1 but the driver registered major 247" in result["msg"]
    assert result["ansible_facts"]["roulette"]["major"] == 247


def test_driver_loaded_without_char_device(host, exits):
    host.write("proc/devices", "Character devices:\n  4 tty\nBlock devices:\n1 kernel-roulette\n")
    assert "not a character device in" in fail(host, {}, exits)["msg"]


def test_main_fails_cleanly_without_driver(exits):
    if os.path.isdir("/sys/module/roulette"):
        pytest.skip("the real driver is loaded here")
    with patch_module_args({"count": 1}), pytest.raises(Fail) as info:
        spin.main()
    assert "not loaded" in info.value.result["msg"]


def test_main_check_mode(exits):
    with patch_module_args({"count": 3, "_ansible_check_mode": True}), pytest.raises(Exit) as info:
        spin.main()
    result = info.value.result
    assert result["changed"] is False
    assert result["ansible_facts"]["roulette"]["count_requested"] == 3


def test_chatty_kernel_log_keeps_the_oops(host, exits):
    """Thousands of records before the oops: the newest ones are read."""
    noise = "".join(f"6,{i},{i},-;roulette: noise {i}\n" for i in range(10, 12000))

    def reader(path, n):
        with open(host.kmsg, "a") as handle:
            handle.write(noise)
        die_like_bug(host.kmsg)
    _changed, facts = run(host, {"count": 1, "kernel_lines_limit": 10}, reader=reader)
    death = facts["first_death"]
    assert death["confirmed"] is True and len(death["kernel_lines"]) == 10
    assert "noise" in death["kernel_lines"][0] and "Rust panic @" in death["kernel_lines"][5]


def test_memory_stays_flat_for_many_spins(host, exits):
    """Survived spins are counters, not one dict each: 300,000 spins hold no more than 10."""
    import tracemalloc

    constant = answer(42)

    def reader(path, n):
        return constant

    def peak(count):
        tracemalloc.start()
        try:
            _changed, facts = run(host, {"count": count, "spins_limit": 10, "confirm_deaths": False}, reader=reader)
            return tracemalloc.get_traced_memory()[1], facts
        finally:
            tracemalloc.stop()

    small, _facts = peak(10)
    large, facts = peak(300_000)
    assert facts["survived"] == 300_000 and len(facts["spins"]) == 10 and facts["spins_truncated"] is True
    assert facts["value_summary"]["histogram"][4] == 300_000
    assert large < small + 256 * 1024, (small, large)
