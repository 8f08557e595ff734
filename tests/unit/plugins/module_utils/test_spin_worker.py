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
         listed=None, totals=None, **options):
    """Run the spins, every one listed unless told; returns (stop reason, stuck workers, events).

    `totals`, a dict, receives the runner's counters.
    """
    events = []
    runner = spin_worker.SpinRunner(device, timeout, reader=reader, kernel_log=kernel_log, kill_grace=kill_grace)
    reason, stuck = runner.spin(count, record=events.append, listed=count if listed is None else listed, **options)
    if totals is not None:
        totals.update(runner.totals)
    return reason, stuck, events


def outcomes(events):
    return [event["outcome"] for event in events]


def test_survivals_in_order():
    reason, stuck, events = spin(50)
    assert reason == "count" and stuck == []
    assert [event["n"] for event in events] == list(range(1, 51))
    assert events[0] == {"n": 1, "outcome": "survived", "value": 6}
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


# -- the board: counters in shared memory, the pipe for rare events -------------

def test_totals_count_every_spin_listed_or_not():
    totals = {}
    reason, _stuck, events = spin(1000, listed=10, totals=totals)
    assert reason == "count" and [event["n"] for event in events] == list(range(1, 11))
    expected = [0] * 100
    for n in range(1, 1001):
        expected[n % 95 + 5] += 1
    assert totals == {"values": expected, "unparsed": 0, "errors": 0, "chance": 5}


@pytest.mark.parametrize("fatal", [1, 2, 10, 11, 499, 1000])
def test_death_beyond_the_listed_spins_has_its_exact_number(fatal):
    totals = {}
    reason, _stuck, events = spin(1000, reader=dies_on({fatal}), listed=10, totals=totals)
    assert reason == "death" and events[-1]["outcome"] == "died" and events[-1]["n"] == fatal
    assert sum(totals["values"]) == fatal - 1
    assert [event["n"] for event in events[:-1]] == list(range(1, min(fatal - 1, 10) + 1))


def test_many_deaths_each_with_its_number():
    fatal = {3, 4, 250, 251, 999, 1500, 2000}
    totals = {}
    reason, _stuck, events = spin(2000, reader=dies_on(fatal), listed=0, totals=totals, stop_on_death=False)
    assert reason == "count" and [event["n"] for event in events] == sorted(fatal)
    assert sum(totals["values"]) == 2000 - len(fatal)


def test_error_beyond_the_listed_spins():
    def reader(path, n):
        if n == 777:
            raise OSError(13, "Permission denied")
        return answer(5)
    totals = {}
    reason, _stuck, events = spin(1000, reader=reader, listed=3, totals=totals)
    assert reason == "error" and totals["errors"] == 1 and sum(totals["values"]) == 776
    assert events[-1] == {"n": 777, "outcome": "error", "value": None, "errno": 13, "msg": "Permission denied"}


@pytest.mark.parametrize("listed", [0, 100])
def test_worker_failure_names_the_spin_it_broke(listed):
    def reader(path, n):
        if n == 42:
            raise RuntimeError("bug in the reader")
        return answer(5)
    reason, _stuck, events = spin(100, reader=reader, listed=listed)
    assert reason == "error" and events[-1]["n"] == 42
    assert events[-1]["msg"] == "worker failed: bug in the reader"


def test_worker_failure_after_a_death_counts_the_lost_spins():
    """The worker's own count of spins without a commit (deaths) keeps its numbers right."""
    def reader(path, n):
        if n in (5, 9):
            die_like_bug()
        if n == 20:
            raise RuntimeError("broken")
        return answer(5)
    _reason, _stuck, events = spin(50, reader=reader, listed=0, stop_on_death=False)
    assert [(event["n"], event["outcome"]) for event in events] == [(5, "died"), (9, "died"), (20, "error")]


def test_unparsed_answers_are_counted_and_only_the_listed_ones_told():
    def reader(path, n):
        return answer(n % 100) if n % 2 else b"garbage %d" % n
    totals = {}
    _reason, _stuck, events = spin(400, reader=reader, listed=4, totals=totals)
    assert totals["unparsed"] == 200 and sum(totals["values"]) == 200
    assert events == [{"n": 1, "outcome": "survived", "value": 1},
                      {"n": 2, "outcome": "survived", "value": None, "text": "garbage 2"},
                      {"n": 3, "outcome": "survived", "value": 3},
                      {"n": 4, "outcome": "survived", "value": None, "text": "garbage 4"}]


def test_slow_spins_that_keep_moving_do_not_time_out():
    def reader(path, n):
        time.sleep(0.05)
        return answer(5)
    reason, _stuck, events = spin(12, reader=reader, timeout=0.25)
    assert reason == "count" and len(events) == 12  # 0.6 s in all, each spin within its 0.25 s


def test_timeout_beyond_the_listed_spins():
    def reader(path, n):
        if n == 300:
            time.sleep(60)
        return answer(5)
    totals = {}
    reason, _stuck, events = spin(500, reader=reader, timeout=0.3, listed=2, totals=totals)
    assert reason == "timeout" and events[-1] == {"n": 300, "outcome": "timeout", "value": None}
    assert sum(totals["values"]) == 299


def test_the_chance_reported_is_the_newest():
    def reader(path, n):
        return answer(50, chance=5 if n < 10 else 7)
    totals = {}
    spin(20, reader=reader, listed=0, totals=totals)
    assert totals["chance"] == 7


@pytest.mark.parametrize("data, parsed", [
    (b"Survived... sampled value is 42, which is >= 5\n", (42, 5)),
    (b"Survived... sampled value is 0, which is >= 0", (0, 0)),
    (b"Survived...  sampled value is 42 , which is >=5\r\n", (42, 5)),  # the tolerant parser
    (b"Survived... sampled value is x, which is >= 5\n", None),
    (b"", None),
])
def test_parse_answer(data, parsed):
    assert spin_worker.parse_answer(data) == parsed


@pytest.mark.parametrize("data, slot", [
    (b"Survived... sampled value is 99, which is >= 100\n", (99, 101)),
    (b"Survived... sampled value is 100, which is >= 5\n", (spin_worker.UNPARSED, 0)),
    (b"Survived... sampled value is 5, which is >= 101\n", (spin_worker.UNPARSED, 0)),
    (b"Survived... sampled value is 5, which is >= 99999999999999999999999\n", (spin_worker.UNPARSED, 0)),
])
def test_answers_outside_the_drivers_range_are_unparsed(data, slot):
    assert spin_worker.answer_slot(data) == slot


def test_board_memory_is_shared_with_a_forked_child():
    board = spin_worker.SpinBoard(4)
    try:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            board.slots[7] += 3
            board.sample[2] = 7
            os._exit(0)
        os.waitpid(pid, 0)
        assert board.committed() == 3 and board.sample[2] == 7 and board.totals()["values"][7] == 3
    finally:
        board.close()


def test_survived_spins_cost_the_worker_no_write(tmp_path, monkeypatch):
    """The speed of issue 16: a survived spin is a store in shared memory, not a write to the pipe.

    The worker is a fork of this process, so it inherits the patched os.write,
    which notes every call in a file (with buffered I/O, not os.write).
    """
    calls = tmp_path / "writes"
    real_write = os.write

    def counting_write(fd, data):
        with open(calls, "ab") as handle:
            handle.write(b".")
        return real_write(fd, data)
    monkeypatch.setattr(spin_worker.os, "write", counting_write)

    def reader(path, n):
        if n == 300:
            return b"not the driver's answer"
        return answer(n % 100)
    try:
        reason, _stuck, events = spin(500, reader=reader, listed=1000)
    finally:
        monkeypatch.undo()
    assert reason == "count" and len(events) == 500
    assert calls.read_bytes() == b"."  # the one unparsed answer, nothing for the 499 others
