# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The spin worker: a forked process that opens and reads the device, and its parent side.

Runs on the target host (imported by the spin module), on its Python (3.9 or
later).  A spin that makes the driver panic gets the reading process killed
by the kernel's BUG(): that process is a worker forked for the purpose, never
the module.  The worker reports each spin's result to the parent through a
pipe, one line per spin (the protocol, below); the parent counts the lines,
so when the worker dies the spin in progress is the next number.
"""

from __future__ import annotations

import os
import select
import signal
import time

from ansible_collections.rustkmod.roulette.plugins.module_utils.roulette import (
    parse_int,
    parse_panic,
    parse_survived,
    to_text,
)


def utcnow():
    """Now, as ISO 8601 UTC text."""
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
                     "signal": None, "exit_code": None, "time": utcnow()}
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
