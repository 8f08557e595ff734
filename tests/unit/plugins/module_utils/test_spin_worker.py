# SPDX-License-Identifier: GPL-3.0-or-later
"""The spin worker: forked for real, with readers that survive, die, hang or fail."""

from __future__ import annotations

import os
import signal
import time

import pytest
from ansible_collections.rustkmod.roulette.plugins.module_utils import spin_worker
from ansible_collections.rustkmod.roulette.plugins.module_utils.kernel_log import KernelLog
from roulette_fakehost import answer, die_like_bug, dies_on, survive_all


def spin(count, reader=survive_all, device="/nonexistent", timeout=10.0, kernel_log=None, kill_grace=2.0,
         **options):
    """Run the spins; returns (stop reason, stuck workers, events)."""
    events = []
    runner = spin_worker.SpinRunner(device, timeout, reader=reader, kernel_log=kernel_log, kill_grace=kill_grace)
    reason, stuck = runner.spin(count, record=events.append, **options)
    return reason, stuck, events


def outcomes(events):
    return [event["outcome"] for event in events]


def test_survivals_in_order():
    reason, stuck, events = spin(50)
    assert reason == "count" and stuck == []
    assert [event["n"] for event in events] == list(range(1, 51))
    assert events[0] == {"n": 1, "outcome": "survived", "value": 6, "chance": 5}
    assert events[49]["value"] == 50 % 95 + 5


def test_death_is_attributed_to_its_spin_and_stops():
    reason, _stuck, events = spin(10, reader=dies_on({3}))
    assert reason == "death" and outcomes(events) == ["survived", "survived", "died"]
    death = events[2]
    assert death["n"] == 3 and death["signal"] == "SIGSEGV" and death["exit_code"] is None
    assert death["confirmed"] is False and death["kernel_lines"] == []  # no kernel log given


def test_death_confirmed_from_the_kernel_log(host):
    log = KernelLog(host.kmsg)
    log.start()
    try:
        _reason, _stuck, events = spin(5, reader=dies_on({2}, host.kmsg), kernel_log=log)
    finally:
        log.close()
    death = events[1]
    assert death["confirmed"] is True and death["location"] == "src/lib.rs:31"
    assert death["bug_location"] == "/build/roulette/src/shim.c:57"
    assert not any("old line" in line for line in death["kernel_lines"])


def test_keep_spinning_after_deaths():
    reason, _stuck, events = spin(8, reader=dies_on({2, 5}), stop_on_death=False)
    assert reason == "count"
    assert outcomes(events) == ["survived", "died", "survived", "survived", "died", "survived", "survived",
                                "survived"]
    assert [event["n"] for event in events] == list(range(1, 9))


def test_death_on_the_first_and_the_last_spin():
    _reason, _stuck, events = spin(4, reader=dies_on({1, 4}), stop_on_death=False)
    assert outcomes(events) == ["died", "survived", "survived", "died"]


def test_max_deaths():
    reason, _stuck, events = spin(100, reader=dies_on({3, 6, 9}), stop_on_death=False, max_deaths=2)
    assert reason == "max_deaths" and len(events) == 6 and outcomes(events).count("died") == 2


def test_worker_exiting_nonzero_is_a_death():
    def reader(path, n):
        os._exit(7)
    _reason, _stuck, events = spin(2, reader=reader)
    assert events == [dict(events[0], n=1, outcome="died", exit_code=7, signal=None)]


def test_timeout_kills_the_worker():
    def reader(path, n):
        if n == 2:
            time.sleep(60)
        return answer(50)
    start = time.monotonic()
    reason, _stuck, events = spin(5, reader=reader, timeout=0.3)
    assert time.monotonic() - start < 5
    assert reason == "timeout" and events[1] == {"n": 2, "outcome": "timeout", "value": None}


def test_timeout_goes_on_when_asked():
    def reader(path, n):
        if n == 2:
            time.sleep(60)
        return answer(50)
    reason, _stuck, events = spin(4, reader=reader, timeout=0.3, stop_on_timeout=False)
    assert reason == "count" and outcomes(events) == ["survived", "timeout", "survived", "survived"]


def test_worker_that_cannot_be_killed_is_reported(monkeypatch):
    pids = []
    real_kill = os.kill

    def no_kill(pid, sig):  # stands for a task in D state: SIGKILL has no effect
        pids.append(pid)
    monkeypatch.setattr(spin_worker.os, "kill", no_kill)

    def reader(path, n):
        time.sleep(30)
    try:
        reason, stuck, events = spin(3, reader=reader, timeout=0.2, kill_grace=0.2)
    finally:
        monkeypatch.undo()
        for pid in pids:
            real_kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    assert reason == "stuck" and stuck[0]["pid"] == pids[0]
    assert stuck[0]["state"] in ("S", "R", "D")
    assert events[-1]["outcome"] == "timeout" and events[-1]["stuck"] == stuck[0]


def test_open_error_stops():
    def reader(path, n):
        if n == 3:
            raise OSError(2, "No such file or directory")
        return answer(9)
    reason, _stuck, events = spin(10, reader=reader)
    assert reason == "error" and len(events) == 3
    assert events[-1] == {"n": 3, "outcome": "error", "value": None, "errno": 2, "msg": "No such file or directory"}


def test_worker_exception_is_an_error_not_a_death():
    def reader(path, n):
        raise RuntimeError("bug in the reader")
    reason, _stuck, events = spin(2, reader=reader)
    assert reason == "error" and outcomes(events) == ["error"]
    assert "bug in the reader" in events[0]["msg"]


def test_unparsed_answer_is_kept_as_text():
    def reader(path, n):
        return b"something else\nentirely"
    _reason, _stuck, events = spin(1, reader=reader)
    assert events == [{"n": 1, "outcome": "survived", "value": None, "text": "something else\\nentirely"}]


def test_real_reader_on_a_real_char_device(host):
    """read_device opens a node for real (/dev/null's 1:3: EOF at once)."""
    _reason, _stuck, events = spin(200, reader=spin_worker.read_device, device=host.null)
    assert len(events) == 200 and events[0] == {"n": 1, "outcome": "survived", "value": None, "text": ""}


def test_read_device_reads_the_whole_answer(tmp_path):
    path = tmp_path / "answer"
    path.write_bytes(answer(42))
    assert spin_worker.read_device(str(path), 1) == answer(42)
    with pytest.raises(OSError):
        spin_worker.read_device(str(tmp_path / "absent"), 1)


def test_many_spins_are_fast(host):
    start = time.monotonic()
    _reason, _stuck, events = spin(20000, reader=spin_worker.read_device, device=host.null)
    assert len(events) == 20000
    assert time.monotonic() - start < 10


def test_worker_lets_go_of_the_module_output():
    """A stuck worker must not hold the module's stdout (the SSH channel) open."""
    def reader(path, n):
        return "|".join(os.readlink(f"/proc/self/fd/{fd}") for fd in (0, 1, 2)).encode()
    _reason, _stuck, events = spin(1, reader=reader)
    assert events[0]["text"] == "|".join([os.devnull] * 3)


def test_a_kernel_log_can_be_read_in_the_worker_death_path(host):
    """die_like_bug writes the oops itself: what the kernel does before it kills the task."""
    def reader(path, n):
        die_like_bug(host.kmsg)
    _reason, _stuck, events = spin(1, reader=reader)
    with open(host.kmsg) as handle:
        assert "Rust panic @" in handle.read()
    assert events[0]["outcome"] == "died"
