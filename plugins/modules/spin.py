#!/usr/bin/python
# ruff: noqa: EXE001 - ansible-test wants modules not executable, with this shebang
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: spin
short_description: Spin the kernel roulette (open and read /dev/kernel-roulette)
version_added: 1.0.0
description:
  - Opens and reads the C(kernel-roulette) character device O(count) times. Every read makes the
    driver sample a value S in 0..99; when S is at least the driver's chance C the read answers
    C(Survived... sampled value is S, which is >= C), otherwise the driver's Rust code panics,
    the kernel raises C(BUG) and kills the reading process.
  - The reads run in one worker process, forked once, that loops over the spins and reports each
    result through a pipe, so a C(BUG) kills the worker, never the module, and thousands of
    spins take seconds. After a death a new worker is started only when spinning goes on
    (O(stop_on_death=false)).
  - Each death is confirmed from the kernel log lines written during that spin (C(/dev/kmsg),
    or C(dmesg) when C(/dev/kmsg) cannot be read), by the markers C(Rust panic @ file:line),
    C(Boom!) and C(kernel BUG at).
  - A death is not a failure of the module; the task succeeds and the facts tell what happened.
    The module fails only for bad options and for a host that cannot be spun (C(kernel.panic_on_oops)
    set or unreadable without O(allow_panic), driver not loaded, device missing, not a character device,
    major or minor mismatch, unexpected chance). Every check is done before the first spin, and a
    failure returns the facts gathered so far.
  - Returns the results as the RV(ansible_facts.roulette) fact.
author:
  - rustkmod.roulette maintainers (@rustkmod)
options:
  device:
    description:
      - Path of the character device node of the driver.
    type: path
    default: /dev/kernel-roulette
  count:
    description:
      - Number of spins (open and read of the device), within 1..10000000.
    type: int
    default: 1
  allow_panic:
    description:
      - Spin although C(kernel.panic_on_oops) is set or cannot be read. A death then panics the whole
        kernel and the host goes down (or reboots after C(kernel.panic) seconds).
      - When V(false) (the default) the module fails before spinning on such a host; the way out is
        C(sysctl -w kernel.panic_on_oops=0) on the host, or this option (C(roulette_allow_panic) in the
        playbooks). An unreadable setting is treated as set (fail closed).
    type: bool
    default: false
  stop_on_death:
    description:
      - Stop at the first death. When V(false), a new worker is started after each death and
        spinning goes on until O(count) spins or O(max_deaths) deaths.
    type: bool
    default: true
  max_deaths:
    description:
      - Stop after this many deaths (only matters with O(stop_on_death=false)), within 1..10000000.
      - Unlimited when not set.
    type: int
  timeout:
    description:
      - Seconds one spin may take, more than 0 and at most 3600 (not NaN or infinite).
      - A spin that takes longer is recorded as a C(timeout), its
        worker is killed (C(SIGKILL)); a worker stuck in the kernel (state C(D)) may not die,
        which is reported in RV(ansible_facts.roulette.stuck_workers) instead of waiting for it.
    type: float
    default: 10
  stop_on_timeout:
    description:
      - Stop spinning after a timeout. A worker that could not be killed always stops spinning.
    type: bool
    default: true
  record_spins:
    description:
      - Return the list of spins in RV(ansible_facts.roulette.spins).
    type: bool
    default: true
  spins_limit:
    description:
      - At most this many spins are listed in RV(ansible_facts.roulette.spins) (the first ones);
        deaths, timeouts and errors are always listed. Counters and RV(ansible_facts.roulette.value_summary)
        cover every spin. Within 0..100000.
    type: int
    default: 1000
  expect_chance:
    description:
      - Fail before spinning when the driver's chance (its C(chance) parameter) is not this value.
      - Also compared with the chance the device reports in its answers.
    type: int
  confirm_deaths:
    description:
      - Read the kernel log after each death to confirm it (panic markers, location).
    type: bool
    default: true
  kernel_lines_limit:
    description:
      - At most this many kernel log lines are returned for a death, within 0..5000.
    type: int
    default: 60
extends_documentation_fragment:
  - rustkmod.roulette.attributes.facts
attributes:
  check_mode:
    support: full
    description:
      - Nothing is spun. The facts tell what would be done, RV(ansible_facts.roulette.problems)
        lists what would stop a real run (an earlier task in check mode may not have loaded the
        driver, so such problems do not fail the task in check mode).
      - Options out of their bounds fail in check mode too.
notes:
  - The task reports C(changed) when at least one spin was done, because every read samples the kernel's
    random numbers and a death oopses the kernel and taints it (flag C(D)).
  - The module has to run as root (or as a user allowed to open the device node).
  - A kernel with C(kernel.panic_on_oops=1) panics at the first death and the host goes down;
    the module then never returns. The module refuses such hosts (and hosts where the setting cannot
    be read) unless O(allow_panic=true), as the preflight role does.
seealso:
  - module: rustkmod.roulette.roulette_info
"""

EXAMPLES = r"""
- name: Spin once
  rustkmod.roulette.spin:

- name: Spin 1000 times, keep going after deaths, stop after 3
  rustkmod.roulette.spin:
    count: 1000
    stop_on_death: false
    max_deaths: 3
    expect_chance: 5
    spins_limit: 20

- name: Show how the host fared
  ansible.builtin.debug:
    msg: >-
      {{ ansible_facts['roulette']['survived'] }} survived,
      {{ ansible_facts['roulette']['died'] }} died
      (observed rate {{ ansible_facts['roulette']['observed_death_rate'] }},
      chance {{ ansible_facts['roulette']['chance'] }}%)
"""

RETURN = r"""
ansible_facts:
  description: Facts about the spins.
  returned: always
  type: dict
  contains:
    roulette:
      description: The results of the spins.
      returned: always
      type: dict
      contains:
        device:
          description: Path of the device node.
          type: str
          sample: /dev/kernel-roulette
        kernel_release:
          description: The running kernel's release.
          type: str
          sample: 6.1.0-27-amd64
        panic_on_oops:
          description: Whether C(kernel.panic_on_oops) is set; null when it cannot be read (the module then refuses
            to spin unless O(allow_panic=true)).
          type: bool
          sample: false
        chance:
          description: The driver's panic probability in percent (its C(chance) parameter), null when unreadable.
          type: int
          sample: 5
        chance_seen:
          description: The chance the device reported in its answers (null before any survived spin).
          type: int
          sample: 5
        major:
          description: The driver's major number from C(/proc/devices).
          type: int
          sample: 247
        count_requested:
          description: Value of O(count).
          type: int
          sample: 100
        spins_done:
          description: Spins that have an outcome (survived, died, timeout or error).
          type: int
          sample: 21
        survived:
          description: Spins that read the C(Survived...) answer (or another answer, see RV(ansible_facts.roulette.unparsed)).
          type: int
          sample: 20
        unparsed:
          description: Survived spins whose answer could not be parsed.
          type: int
          sample: 0
        died:
          description: Spins whose worker was killed (or exited with an error code) during the read.
          type: int
          sample: 1
        timeouts:
          description: Spins that took longer than O(timeout).
          type: int
          sample: 0
        errors:
          description: Spins whose open or read failed with an error (the device went away, permission).
          type: int
          sample: 0
        spins:
          description:
            - Spins in order, at most O(spins_limit) plus every death, timeout and error.
              Empty with O(record_spins=false).
            - Each has C(n) (1-based), C(outcome) (V(survived), V(died), V(timeout), V(error)) and C(value)
              (the sampled value, null when unknown); deaths also have C(signal), C(exit_code), C(confirmed),
              C(location); errors have C(msg).
          type: list
          elements: dict
          sample: [{"n": 1, "outcome": "survived", "value": 42}, {"n": 2, "outcome": "died", "value": null,
                    "signal": "SIGSEGV", "exit_code": null, "confirmed": true, "location": "src/lib.rs:31"}]
        spins_truncated:
          description: Whether some survived spins were left out of RV(ansible_facts.roulette.spins).
          type: bool
        value_summary:
          description: Summary of the sampled values of survived spins (C(min), C(max), C(mean), C(histogram) of 10 buckets 0-9 .. 90-99).
          type: dict
          sample: {"min": 5, "max": 99, "mean": 52.1, "histogram": [0, 10, 9, 11, 10, 10, 10, 9, 11, 10]}
        first_death:
          description:
            - The first death, null when none. Keys C(spin), C(value) (null, the kernel does not tell), C(signal), C(exit_code),
              C(time), C(confirmed), C(location) (C(src/lib.rs:LINE) of the Rust panic), C(message), C(bug_location),
              C(kernel_lines) (log lines of that spin, from a few lines before the panic).
          type: dict
        deaths:
          description: Every death, as RV(ansible_facts.roulette.first_death) without C(kernel_lines).
          type: list
          elements: dict
        taint_before:
          description: C(/proc/sys/kernel/tainted) before spinning, decoded (C(value), C(letters), C(flags)).
          type: dict
          sample: {"value": 12288, "letters": "OE", "flags": [{"bit": 12, "letter": "O", "description": "..."}]}
        taint_after:
          description: The same after spinning.
          type: dict
        alive:
          description: Whether the host is still fit to spin (driver loaded, device present, no stuck worker).
          type: bool
        stop_reason:
          description: Why spinning stopped (V(count), V(death), V(max_deaths), V(timeout), V(stuck), V(error), V(check_mode)).
          type: str
        stuck_workers:
          description: Workers that did not die after C(SIGKILL) (C(pid), C(state), C(wchan)).
          type: list
          elements: dict
        kernel_log_source:
          description: Where deaths were confirmed from (V(kmsg), V(dmesg), V(none)).
          type: str
        observed_death_rate:
          description: Deaths divided by spins done (0 when none done).
          type: float
          sample: 0.05
        expected_death_rate:
          description: The driver's chance as a rate (chance / 100), null when unknown.
          type: float
          sample: 0.05
        elapsed:
          description: Seconds spent spinning.
          type: float
        spins_per_second:
          description: Spins done per second of spinning.
          type: float
        started:
          description: When spinning started (ISO 8601, UTC).
          type: str
        finished:
          description: When spinning ended (ISO 8601, UTC).
          type: str
        check_mode:
          description: Whether this was a check mode run (nothing spun).
          type: bool
        problems:
          description: In check mode, what would stop a real run (the same messages a real run fails with).
          type: list
          elements: str
"""

import collections
import errno
import math
import os
import select
import signal
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.rustkmod.roulette.plugins.module_utils.driver_state import DriverState
from ansible_collections.rustkmod.roulette.plugins.module_utils.roulette import (
    DEVICE_NAME,
    DRIVER_NAME,
    lines_since,
    panic_window,
    parse_int,
    parse_kmsg_record,
    parse_panic,
    parse_survived,
    to_text,
)


# Bounds of the options: beyond them a value is a typo, not a plan.  10 million
# spins take hours even at full speed; an hour for one spin is already a hang.
MAX_COUNT = 10_000_000
MAX_TIMEOUT = 3600
MAX_SPINS_LIMIT = 100_000
MAX_KERNEL_LINES = 5000


def _utcnow():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def read_device(path, spin):
    """Open the device, read its answer to EOF (at most 4 KiB), close it.

    This runs in the worker: if the driver panics, the kernel kills the
    worker inside os.read().
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        chunks = []
        size = 0
        while size < 4096:
            data = os.read(fd, 4096)
            if not data:
                break
            chunks.append(data)
            size += len(data)
            if data.endswith(b"\n"):
                break  # the whole answer: skip the read that would only see EOF
        return b"".join(chunks)
    finally:
        os.close(fd)


class KernelLog:
    """New kernel log lines since the start of the run (or the last read)."""

    def __init__(self, kmsg_path="/dev/kmsg", dmesg=None):
        self.kmsg_path = kmsg_path
        self.dmesg = dmesg
        self.fd = None
        self.before = ""
        self.source = "none"

    def start(self):
        try:
            self.fd = os.open(self.kmsg_path, os.O_RDONLY | os.O_NONBLOCK)
            os.lseek(self.fd, 0, os.SEEK_END)
            self.source = "kmsg"
            return
        except OSError:
            if self.fd is not None:
                os.close(self.fd)
            self.fd = None
        if self.dmesg is not None:
            text = self.dmesg()
            if text is not None:
                self.before = text
                self.source = "dmesg"

    def _read_kmsg(self, keep=5000, budget=2.0):
        """Records since the last read; only the newest `keep` are kept, so a
        chatty log cannot push the oops out, and reading stops after `budget`
        seconds on a log that never goes quiet."""
        lines = collections.deque(maxlen=keep)
        end = time.monotonic() + budget
        while time.monotonic() < end:
            try:
                record = os.read(self.fd, 8192)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno == errno.EPIPE:
                    continue  # records were overwritten; the next read goes on
                break
            if not record:
                break
            # /dev/kmsg gives one record per read; a copy of the log in a
            # plain file gives many: take every header line.
            for raw in record.split(b"\n"):
                if not raw or raw[:1] == b" ":
                    continue  # empty, or a " KEY=value" continuation
                parsed = parse_kmsg_record(raw)
                if parsed is None:
                    continue
                _seq, usec, message = parsed
                lines.append(f"[{usec // 1000000:5d}.{usec % 1000000:06d}] {message}")
        return list(lines)

    def read_new(self):
        if self.source == "kmsg":
            return self._read_kmsg()
        if self.source == "dmesg":
            after = self.dmesg()
            if after is None:
                return []
            lines = lines_since(self.before, after)
            self.before = after
            return lines
        return []

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _proc_state(pid):
    """State letter and wchan of a process, for a worker that would not die."""
    info = {"pid": pid, "state": None, "wchan": None}
    try:
        with open(f"/proc/{pid}/stat") as handle:
            info["state"] = handle.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        pass
    try:
        with open(f"/proc/{pid}/wchan") as handle:
            info["wchan"] = handle.read().strip() or None
    except OSError:
        pass
    return info


def _signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"SIG{number}"


class SpinRunner:
    """Runs the spins through one forked worker at a time.

    `reader(path, n)` is what the worker calls for spin n; it defaults to a
    real open and read of the device.  Tests pass their own reader to make
    the worker survive, die or hang.
    """

    def __init__(self, device, timeout, reader=read_device, kernel_log=None,
                 kill_grace=2.0, clock=time.monotonic, poll_interval=0.01):
        self.device = device
        self.timeout = timeout
        self.reader = reader
        self.kernel_log = kernel_log
        self.kill_grace = kill_grace
        self.clock = clock
        # After each chunk the parent pauses briefly so that results pile up
        # in the pipe: waking up for every spin costs a context switch per
        # spin, which on a single (emulated) CPU halves the spin rate.
        self.poll_interval = poll_interval

    # -- worker side -------------------------------------------------------

    def _worker(self, wfd, first, last):
        """Loop over spins first..last; one result line per spin. Never returns."""
        code = 0
        try:
            for number in range(first, last + 1):
                try:
                    data = self.reader(self.device, number)
                except OSError as exc:
                    text = f"E {exc.errno or 0} {exc.strerror or exc}\n"
                    os.write(wfd, text.encode("utf-8", "replace"))
                    code = 2
                    break
                parsed = parse_survived(data)
                if parsed is not None:
                    line = f"S {parsed['value']} {parsed['chance']}\n"
                else:
                    text = to_text(data)[:200].replace("\n", "\\n").replace("\r", "\\r")
                    line = f"U {text}\n"
                os.write(wfd, line.encode("utf-8", "replace"))
        except BaseException as exc:  # noqa: BLE001 - the worker must never return into the module
            code = 3
            try:
                message = str(exc).replace("\n", " ")
                os.write(wfd, f"X {message}\n".encode("utf-8", "replace"))
            except BaseException:  # noqa: BLE001, S110 - nothing left to tell it to
                pass
        finally:
            os._exit(code)

    def _start_worker(self, first, last):
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child (coverage cannot see it)
            os.close(rfd)
            # Let go of the module's stdin/stdout/stderr: a worker stuck in
            # the kernel that held them would keep the SSH channel, and so
            # the task, open after the module has returned.
            try:
                devnull = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(devnull, fd)
            except OSError:
                os._exit(4)
            self._worker(wfd, first, last)
        os.close(wfd)
        return pid, rfd

    # -- parent side -------------------------------------------------------

    def _reap(self, pid, wait):
        """waitpid with a bound: returns the status, or None if still running."""
        end = self.clock() + wait
        while True:
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                return 0
            if done:
                return status
            if self.clock() >= end:
                return None
            time.sleep(0.01)

    def spin(self, count, stop_on_death=True, max_deaths=None, stop_on_timeout=True, record=None):
        """Do up to `count` spins; call record(event) for each outcome.

        Returns (stop_reason, stuck_workers).
        """
        done = 0
        deaths = 0
        stuck = []
        while done < count:
            pid, rfd = self._start_worker(done + 1, count)
            buffer = b""
            deadline = self.clock() + self.timeout
            stop = None
            timed_out = False
            try:
                while True:
                    remaining = deadline - self.clock()
                    if remaining <= 0:
                        timed_out = True
                        break
                    try:
                        ready, _w, _x = select.select([rfd], [], [], remaining)
                    except InterruptedError:  # pragma: no cover - Python retries EINTR itself
                        continue
                    if not ready:
                        continue
                    chunk = os.read(rfd, 65536)
                    if not chunk:
                        break
                    buffer += chunk
                    lines = buffer.split(b"\n")
                    buffer = lines.pop()
                    for line in lines:
                        done += 1
                        event = self._parse_line(done, line)
                        record(event)
                        if event["outcome"] == "error":
                            stop = "error"
                    if lines:
                        deadline = self.clock() + self.timeout
                    if self.poll_interval:
                        time.sleep(min(self.poll_interval, max(0.0, deadline - self.clock())))
            finally:
                os.close(rfd)

            if timed_out:
                done += 1
                os.kill(pid, signal.SIGKILL)
                status = self._reap(pid, self.kill_grace)
                event = {"n": done, "outcome": "timeout", "value": None}
                if status is None:
                    info = _proc_state(pid)
                    stuck.append(info)
                    event["stuck"] = info
                record(event)
                if status is None:
                    return "stuck", stuck
                if stop_on_timeout:
                    return "timeout", stuck
                continue

            status = self._reap(pid, max(self.kill_grace, self.timeout))
            if status is None:
                # Pipe closed but the worker does not exit: stuck in exit.
                stuck.append(_proc_state(pid))
                return "stuck", stuck
            if stop is not None:
                return stop, stuck
            if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
                if done < count:  # pragma: no cover - the worker exits 0 only when done
                    return "error", stuck
                return "count", stuck
            # Killed (BUG() kills with SIGSEGV) or exited abnormally: the
            # spin in progress died.
            done += 1
            deaths += 1
            event = {"n": done, "outcome": "died", "value": None,
                     "signal": None, "exit_code": None, "time": _utcnow()}
            if os.WIFSIGNALED(status):
                event["signal"] = _signal_name(os.WTERMSIG(status))
            else:
                event["exit_code"] = os.WEXITSTATUS(status)
            self._confirm(event)
            record(event)
            if stop_on_death:
                return "death", stuck
            if max_deaths is not None and deaths >= max_deaths:
                return "max_deaths", stuck
        return "count", stuck

    def _confirm(self, event):
        event["confirmed"] = False
        event["location"] = None
        event["kernel_lines"] = []
        if self.kernel_log is None or self.kernel_log.source == "none":
            return
        lines = self.kernel_log.read_new()
        panic = parse_panic(lines)
        # The oops is stored in the log before the task exits, so the lines
        # are normally all there.  When only part of them is (the driver's
        # lines without the BUG, say), look again briefly; when there is no
        # marker at all, do not wait: it was another kind of death.
        tries = 0
        while not panic["confirmed"] and tries < 5 and (
                panic["rust_panic"] or panic["boom"] or panic["bug"] or panic["oops"]):
            time.sleep(0.05)
            lines.extend(self.kernel_log.read_new())
            panic = parse_panic(lines)
            tries += 1
        event["confirmed"] = panic["confirmed"]
        event["location"] = panic["location"]
        event["message"] = panic["message"]
        event["bug_location"] = panic["bug_location"]
        event["kernel_lines"] = lines

    @staticmethod
    def _parse_line(number, line):
        text = to_text(line)
        kind, _sep, rest = text.partition(" ")
        if kind == "S":
            value, _sep, chance = rest.partition(" ")
            return {"n": number, "outcome": "survived", "value": int(value), "chance": int(chance)}
        if kind == "E":
            code, _sep, message = rest.partition(" ")
            return {"n": number, "outcome": "error", "value": None,
                    "errno": parse_int(code), "msg": message}
        if kind == "X":
            return {"n": number, "outcome": "error", "value": None, "errno": None,
                    "msg": f"worker failed: {rest}"}
        return {"n": number, "outcome": "survived", "value": None, "text": rest}


class Spin:
    """The module's logic: checks, spinning, facts."""

    runner_class = SpinRunner

    def __init__(self, module, root="/", reader=read_device, kill_grace=2.0):
        self.module = module
        self.params = module.params
        self.state = DriverState(root)
        self.reader = reader
        self.kill_grace = kill_grace
        self.problems = []

    def validate_options(self):
        """Messages about options out of bounds (checked before anything is spun)."""
        p = self.params
        errors = []

        def within(name, low, high, what=""):
            value = p[name]
            if value is not None and not low <= value <= high:
                errors.append(f"{name} must be {what}within {low}..{high}, got {value}")

        within("count", 1, MAX_COUNT)
        timeout = p["timeout"]
        # NaN compares false with everything: test that it is inside, not that it is outside.
        if not (math.isfinite(timeout) and 0 < timeout <= MAX_TIMEOUT):
            errors.append(f"timeout must be a number of seconds within 0..{MAX_TIMEOUT} (more than 0), got {timeout}")
        within("max_deaths", 1, MAX_COUNT)
        within("spins_limit", 0, MAX_SPINS_LIMIT)
        within("kernel_lines_limit", 0, MAX_KERNEL_LINES)
        within("expect_chance", 0, 100)
        return errors

    def check_panic(self, facts):
        """The interlock of the preflight role, held by the module too: fail closed."""
        panic = self.state.panic_on_oops()
        facts["panic_on_oops"] = panic
        if panic is False:
            return []
        ways_out = ("set it to 0 with 'sysctl -w kernel.panic_on_oops=0', or, to take the host down "
                    "on purpose, set allow_panic=true (roulette_allow_panic: true in the playbooks)")
        if panic:
            problem = ("kernel.panic_on_oops is set: a death would panic the whole kernel, "
                       f"not only kill the reading process; {ways_out}")
        else:
            problem = (f"kernel.panic_on_oops cannot be read ({self.state.path('proc/sys/kernel/panic_on_oops')}): "
                       f"a death could panic the whole kernel, so the module refuses to spin; {ways_out}")
        if self.params["allow_panic"]:
            self.module.warn(f"allow_panic is set, spinning although {problem.split(':')[0]}")
            return []
        return [problem]

    def check_host(self, facts):
        """Problems that forbid spinning, as messages (first one is the cause)."""
        device = self.params["device"]
        state = self.state
        problems = self.check_panic(facts)
        if not state.loaded():
            problems.append(
                f"the {DRIVER_NAME} driver is not loaded (no {state.path('sys/module', DRIVER_NAME)}); "
                "load it first (role kmod_load)")
            return problems
        chance = state.chance()
        facts["chance"] = chance
        if chance is not None:
            facts["expected_death_rate"] = chance / 100.0
        devices = state.devices()
        major = state.major(devices)
        facts["major"] = major
        if major is None:
            problems.append(f"{DEVICE_NAME} is not a character device in {state.path('proc/devices')} "
                            "although the driver is loaded")
        # Followed like open() follows it: the node checked is the node read.
        node = state.node(device, devices, follow=True)
        shown = major if major is not None else "MAJOR"
        if not node["exists"]:
            problems.append(f"device {device} is missing; create it with mknod {device} c {shown} 0")
            return problems
        if not node["is_char"]:
            problems.append(f"{device} is not a character device")
            return problems
        if major is not None and node["major"] != major:
            problems.append(
                f"{device} has major {node['major']} but the driver registered major {major} "
                f"(stale node from an earlier load?); recreate it with mknod {device} c {major} 0")
        elif node["minor"] != 0:
            problems.append(
                f"{device} has minor {node['minor']} but the driver's device is minor 0; "
                f"recreate it with mknod {device} c {shown} 0")
        expect = self.params["expect_chance"]
        if expect is not None and chance is not None and chance != expect:
            problems.append(f"the driver's chance is {chance} but expect_chance is {expect}")
        elif expect is not None and chance is None:
            problems.append("cannot read the driver's chance to compare with expect_chance")
        return problems

    def new_facts(self):
        p = self.params
        return {
            "device": p["device"],
            "kernel_release": None,
            "panic_on_oops": None,
            "chance": None,
            "chance_seen": None,
            "major": None,
            "count_requested": p["count"],
            "spins_done": 0,
            "survived": 0,
            "unparsed": 0,
            "died": 0,
            "timeouts": 0,
            "errors": 0,
            "spins": [],
            "spins_truncated": False,
            "value_summary": {"min": None, "max": None, "mean": None, "histogram": [0] * 10},
            "first_death": None,
            "deaths": [],
            "taint_before": None,
            "taint_after": None,
            "alive": False,
            "stop_reason": None,
            "stuck_workers": [],
            "kernel_log_source": "none",
            "observed_death_rate": 0.0,
            "expected_death_rate": None,
            "elapsed": 0.0,
            "spins_per_second": 0.0,
            "started": None,
            "finished": None,
            "check_mode": self.module.check_mode,
            "problems": [],
        }

    def dmesg(self):
        dmesg = self.module.get_bin_path("dmesg")
        if dmesg is None:
            return None
        rc, out, _err = self.module.run_command([dmesg])
        return out if rc == 0 else None

    def run(self):
        p = self.params
        facts = self.new_facts()
        errors = self.validate_options()
        if errors:
            self.module.fail_json(msg=errors[0], problems=errors, ansible_facts={"roulette": facts})
        facts["taint_before"] = self.state.taint()
        facts["kernel_release"] = self.state.kernel_release()
        problems = self.check_host(facts)
        if self.module.check_mode:
            facts["problems"] = problems
            facts["stop_reason"] = "check_mode"
            facts["taint_after"] = facts["taint_before"]
            facts["alive"] = not problems
            for problem in problems:
                self.module.warn(f"A real run would fail: {problem}")
            return False, facts
        if problems:
            self.module.fail_json(msg=problems[0], problems=problems, ansible_facts={"roulette": facts})

        log = None
        if p["confirm_deaths"]:
            log = KernelLog(self.state.path("dev/kmsg"), self.dmesg)
            log.start()
            facts["kernel_log_source"] = log.source
        runner = self.runner_class(p["device"], p["timeout"], reader=self.reader,
                                   kernel_log=log, kill_grace=self.kill_grace)
        totals = {"sum": 0, "n": 0}

        def record(event):
            self._record(facts, totals, event)

        facts["started"] = _utcnow()
        start = time.monotonic()
        try:
            reason, stuck = runner.spin(p["count"], stop_on_death=p["stop_on_death"],
                                        max_deaths=p["max_deaths"],
                                        stop_on_timeout=p["stop_on_timeout"], record=record)
        finally:
            if log is not None:
                log.close()
        elapsed = time.monotonic() - start
        facts["finished"] = _utcnow()
        facts["stop_reason"] = reason
        facts["stuck_workers"] = stuck
        facts["elapsed"] = round(elapsed, 6)
        done = facts["spins_done"]
        facts["spins_per_second"] = round(done / elapsed, 1) if elapsed > 0 else 0.0
        facts["observed_death_rate"] = round(facts["died"] / float(done), 6) if done else 0.0
        if totals["n"]:
            facts["value_summary"]["mean"] = round(totals["sum"] / float(totals["n"]), 3)
        facts["taint_after"] = self.state.taint()
        facts["alive"] = bool(self.state.loaded() and os.path.exists(p["device"]) and not stuck)
        if p["expect_chance"] is not None and facts["chance_seen"] not in (None, p["expect_chance"]):
            self.module.warn(f"the device reported chance {facts['chance_seen']}, "
                             f"expect_chance is {p['expect_chance']}")
        return done > 0, facts

    def _record(self, facts, totals, event):
        p = self.params
        outcome = event["outcome"]
        facts["spins_done"] += 1
        keep = p["record_spins"]
        if outcome == "survived":
            facts["survived"] += 1
            value = event["value"]
            if value is None:
                facts["unparsed"] += 1
            else:
                values = facts["value_summary"]
                if values["min"] is None or value < values["min"]:
                    values["min"] = value
                if values["max"] is None or value > values["max"]:
                    values["max"] = value
                values["histogram"][min(max(value, 0), 99) // 10] += 1
                totals["sum"] += value
                totals["n"] += 1
                facts["chance_seen"] = event.pop("chance", None)
            if keep and len(facts["spins"]) >= p["spins_limit"]:
                facts["spins_truncated"] = True
                keep = False
        elif outcome == "died":
            facts["died"] += 1
            lines = panic_window(event.pop("kernel_lines", []), limit=p["kernel_lines_limit"])
            death = {
                "spin": event["n"],
                "value": None,
                "signal": event["signal"],
                "exit_code": event["exit_code"],
                "time": event["time"],
                "confirmed": event["confirmed"],
                "location": event["location"],
                "message": event.get("message"),
                "bug_location": event.get("bug_location"),
            }
            facts["deaths"].append(death)
            if facts["first_death"] is None:
                facts["first_death"] = dict(death, kernel_lines=lines)
        elif outcome == "timeout":
            facts["timeouts"] += 1
        else:
            facts["errors"] += 1
        if keep:
            facts["spins"].append(event)


def build_module():
    return AnsibleModule(
        argument_spec={
            "device": {"type": "path", "default": f"/dev/{DEVICE_NAME}"},
            "count": {"type": "int", "default": 1},
            "allow_panic": {"type": "bool", "default": False},
            "stop_on_death": {"type": "bool", "default": True},
            "max_deaths": {"type": "int"},
            "timeout": {"type": "float", "default": 10.0},
            "stop_on_timeout": {"type": "bool", "default": True},
            "record_spins": {"type": "bool", "default": True},
            "spins_limit": {"type": "int", "default": 1000},
            "expect_chance": {"type": "int"},
            "confirm_deaths": {"type": "bool", "default": True},
            "kernel_lines_limit": {"type": "int", "default": 60},
        },
        supports_check_mode=True,
    )


def main():
    module = build_module()
    module.run_command_environ_update = {"LANG": "C", "LC_ALL": "C", "LC_MESSAGES": "C"}
    changed, facts = Spin(module).run()
    module.exit_json(changed=changed, ansible_facts={"roulette": facts})


if __name__ == "__main__":
    main()
