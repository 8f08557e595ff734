# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The spin worker: a forked process that opens and reads the device, and its parent side.

Runs on the target host (imported by the spin module), on its Python (3.9 or
later).  A spin that makes the driver panic gets the reading process killed
by the kernel's BUG(): that process is a worker forked for the purpose, never
the module.

How the parent learns what the worker did (the protocol):

- A board of counters in memory shared by the parent and the worker (an
  anonymous MAP_SHARED mapping made before the fork): one counter per sampled
  value 0..99, one for survived spins whose answer is not the driver's usual
  text (`unparsed`), one for errors, and the chance the answers report.  A
  spin is *committed* by exactly one store, the increment of its outcome's
  counter, after its read has returned.  No system call is made for it.
- The values of the first `listed` spins (the ones the facts list, by spin
  number) are written to a byte array on the board before the commit.
- The pipe carries only what is rare, keyed by spin number, before the commit:
  the text of a listed unparsed answer (`U n text`), an error (`E n errno
  message`, then the worker exits), a failure of the worker (`X n message`).
  A message whose spin was not committed is dropped.
- The worker does the spins in order, so when it dies (a BUG() kills it
  inside the read of a spin, which is before that spin's commit) the spins
  committed are exactly the spins before the fatal one: the parent reads the
  board once the worker is dead, and the fatal spin is the next number.
  Deaths and timeouts are the parent's own outcomes: it keeps count of them.
- The parent sleeps in select() on the pipe: it wakes at once when the worker
  exits (end of file) and every `poll_interval` seconds to see whether the
  board moved; a spin that moves nothing for `timeout` seconds is a timeout.
"""

from __future__ import annotations

import mmap
import os
import select
import signal
import time

from ansible_collections.rustkmod.roulette.plugins.module_utils.roulette import (
    parse_panic,
    parse_survived,
    to_text,
)

# Board slots (unsigned 64-bit counters).
VALUES = 100           # slots 0..99: survived spins that sampled that value
UNPARSED = 100         # survived, the answer is not "Survived... value V (0..99), >= C (0..100)"
ERRORS = 101           # the open or read failed (the worker stops after one)
CHANCE = 102           # the chance the last new answer reported, plus one (0: none yet)
SLOTS = 103
# What a listed spin's byte holds besides a value 0..99: UNPARSED or ERROR.
ERROR = ERRORS

ANSWER_PREFIX = b"Survived... sampled value is "
ANSWER_MIDDLE = b", which is >= "
# The driver has at most 100 x 101 different answers; caching them makes the
# per-spin parse one dict lookup.  Longer or rarer answers are parsed each time.
ANSWER_CACHE = 20000
ANSWER_CACHE_LENGTH = 128
TEXT_LIMIT = 200


def utcnow():
    """Now, as ISO 8601 UTC text."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def read_device(path, spin):
    """Open the device, read its answer to EOF (at most 4 KiB), close it.

    This runs in the worker: if the driver panics, the kernel kills the
    worker inside os.read().
    """
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        data = os.read(fd, 4096)
        if not data or data[-1:] == b"\n":
            return data  # the whole answer: skip the read that would only see EOF
        chunks = [data]
        size = len(data)
        while size < 4096:
            data = os.read(fd, 4096 - size)
            if not data:
                break
            chunks.append(data)
            size += len(data)
            if data[-1:] == b"\n":
                break
        return b"".join(chunks)
    finally:
        os.close(fd)


def parse_answer(data):
    """(value, chance) of a survived spin's answer, or None.

    The driver's exact text is taken apart by its fixed prefix; anything else
    goes through the tolerant parser (spacing, punctuation).
    """
    if data.startswith(ANSWER_PREFIX):
        value, middle, chance = data[len(ANSWER_PREFIX):].partition(ANSWER_MIDDLE)
        if chance.endswith(b"\n"):
            chance = chance[:-1]
        if middle and value.isdigit() and chance.isdigit():
            return int(value), int(chance)
    parsed = parse_survived(data)
    return (parsed["value"], parsed["chance"]) if parsed else None


def answer_slot(data):
    """(board slot, chance + 1) of an answer: its value's slot, or UNPARSED and 0."""
    parsed = parse_answer(data)
    if parsed is None or not (0 <= parsed[0] < VALUES and 0 <= parsed[1] <= 100):
        return UNPARSED, 0
    return parsed[0], parsed[1] + 1


def _escape(text):
    return text[:TEXT_LIMIT].replace("\n", "\\n").replace("\r", "\\r")


def _tell(fd, line):
    """One message to the parent: a single write, shorter than PIPE_BUF, so it is whole or absent."""
    os.write(fd, (line + "\n").encode("utf-8", "replace"))


class SpinBoard:
    """The counters and the listed spins' values, in memory shared with the worker."""

    def __init__(self, listed):
        self.listed = listed
        head = SLOTS * 8
        self._map = mmap.mmap(-1, head + max(listed, 1), flags=mmap.MAP_SHARED,
                              prot=mmap.PROT_READ | mmap.PROT_WRITE)
        self._view = memoryview(self._map)
        self.slots = self._view[:head].cast("Q")
        self.sample = self._view[head:head + listed]

    def committed(self):
        """Spins the workers have committed (survived or failed with an error)."""
        return sum(self.slots[:ERRORS + 1])

    def totals(self):
        slots = self.slots
        return {
            "values": list(slots[:VALUES]),
            "unparsed": slots[UNPARSED],
            "errors": slots[ERRORS],
            "chance": slots[CHANCE] - 1 if slots[CHANCE] else None,
        }

    def close(self):
        self.sample.release()
        self.slots.release()
        self._view.release()
        self._map.close()


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
                 kill_grace=2.0, clock=time.monotonic, poll_interval=0.05):
        self.device = device
        self.timeout = timeout
        self.reader = reader
        self.kernel_log = kernel_log
        self.kill_grace = kill_grace
        self.clock = clock
        self.poll_interval = poll_interval
        self.board = None
        self.totals = None

    # -- worker side -------------------------------------------------------

    def _worker(self, wfd, first, last, lost):
        """Spins first..last, committed on the board (see the module docstring). Never returns.

        `lost` is how many spins before `first` have no commit (the parent's
        deaths and timeouts): the first uncommitted spin is committed + lost + 1.
        """
        board = self.board
        slots = board.slots
        sample = board.sample
        listed = board.listed
        code = 0
        try:
            reader = self.reader
            device = self.device
            answers = {}
            seen = slots[CHANCE]
            for n in range(first, last + 1):
                try:
                    data = reader(device, n)
                except OSError as exc:
                    _tell(wfd, f"E {n} {exc.errno or 0} {_escape(str(exc.strerror or exc))}")
                    if n <= listed:
                        sample[n - 1] = ERROR
                    slots[ERRORS] += 1
                    code = 2
                    break
                entry = answers.get(data)
                if entry is None:
                    entry = answer_slot(data)
                    if len(answers) < ANSWER_CACHE and len(data) <= ANSWER_CACHE_LENGTH:
                        answers[data] = entry
                slot, chance = entry
                if slot == UNPARSED:
                    if n <= listed:
                        _tell(wfd, f"U {n} {_escape(to_text(data))}")
                elif chance != seen:
                    slots[CHANCE] = seen = chance
                if n <= listed:
                    sample[n - 1] = slot
                slots[slot] += 1  # the commit
        except BaseException as exc:  # noqa: BLE001 - the worker must never return into the module
            code = 3
            try:
                n = board.committed() + lost + 1  # the spin that has no outcome yet
                if n <= last:
                    _tell(wfd, f"X {n} {_escape(str(exc))}")
                    if n <= listed:
                        sample[n - 1] = ERROR
                    slots[ERRORS] += 1
            except BaseException:  # noqa: BLE001, S110 - nothing left to tell it to
                pass
        finally:
            os._exit(code)

    def _start_worker(self, first, last, lost):
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
            self._worker(wfd, first, last, lost)
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

    @staticmethod
    def _message(line):
        """A pipe message as (spin number, event), or None when it cannot be read."""
        kind, _sep, rest = to_text(line).partition(" ")
        number, _sep, rest = rest.partition(" ")
        if not number.isdigit():
            return None
        n = int(number)
        if kind == "U":
            return n, {"n": n, "outcome": "survived", "value": None, "text": rest}
        if kind == "E":
            code, _sep, message = rest.partition(" ")
            return n, {"n": n, "outcome": "error", "value": None,
                       "errno": int(code) if code.isdigit() else None, "msg": message}
        if kind == "X":
            return n, {"n": n, "outcome": "error", "value": None, "errno": None,
                       "msg": f"worker failed: {rest}"}
        return None

    def _read_messages(self, rfd, buffer, messages):
        """Read what is in the pipe; returns (rest of a line, whether the pipe is at its end)."""
        chunk = os.read(rfd, 65536)
        if not chunk:
            return buffer, True
        lines = (buffer + chunk).split(b"\n")
        for line in lines[:-1]:
            message = self._message(line)
            if message is not None:
                messages[message[0]] = message[1]
        return lines[-1], False

    def _watch(self, rfd, messages):
        """Wait for the worker's end (True) or a spin that takes longer than the timeout (False)."""
        board = self.board
        buffer = b""
        seen = board.committed()
        deadline = self.clock() + self.timeout
        while True:
            now = self.clock()
            if now >= deadline:
                return buffer, False
            try:
                ready, _w, _x = select.select([rfd], [], [], min(self.poll_interval, deadline - now))
            except InterruptedError:  # pragma: no cover - Python retries EINTR itself
                continue
            if ready:
                buffer, ended = self._read_messages(rfd, buffer, messages)
                if ended:
                    return buffer, True
            progress = board.committed()
            if progress != seen:
                seen = progress
                deadline = self.clock() + self.timeout

    def _drain(self, rfd, buffer, messages):
        """Messages still in the pipe once the worker is dead (or stuck): never blocks."""
        ended = False
        while not ended and select.select([rfd], [], [], 0)[0]:
            buffer, ended = self._read_messages(rfd, buffer, messages)

    def _report(self, done, committed, messages, record):
        """record() the listed outcomes of spins done+1..committed; 'error' when one was an error."""
        board = self.board
        stop = None
        for n in range(done + 1, min(committed, board.listed) + 1):
            slot = board.sample[n - 1]
            if slot < VALUES:
                record({"n": n, "outcome": "survived", "value": slot})
                continue
            event = messages.get(n)
            if slot == UNPARSED:
                record(event or {"n": n, "outcome": "survived", "value": None, "text": None})
            else:
                stop = "error"
                record(event or {"n": n, "outcome": "error", "value": None, "errno": None, "msg": None})
        # Beyond the listed spins only errors are told (an error ends its worker).
        for n in sorted(messages):
            if max(done, board.listed) < n <= committed and messages[n]["outcome"] == "error":
                stop = "error"
                record(messages[n])
        return stop

    def spin(self, count, stop_on_death=True, max_deaths=None, stop_on_timeout=True, record=None, listed=0):
        """Do up to `count` spins; returns (stop_reason, stuck_workers).

        record(event) is called, in spin order, for each of the first
        `listed` spins that survived and for every death, timeout and error.
        Afterwards `totals` holds the board's counters: `values` (survived
        spins per sampled value 0..99), `unparsed`, `errors` and `chance`.
        """
        self.board = SpinBoard(min(listed, count))
        try:
            return self._spin(count, stop_on_death, max_deaths, stop_on_timeout, record)
        finally:
            self.totals = self.board.totals()
            self.board.close()
            self.board = None

    def _spin(self, count, stop_on_death, max_deaths, stop_on_timeout, record):
        done = 0    # spins with an outcome
        lost = 0    # of which deaths and timeouts: outcomes that are not on the board
        deaths = 0
        stuck = []
        while done < count:
            pid, rfd = self._start_worker(done + 1, count, lost)
            messages = {}
            try:
                buffer, ended = self._watch(rfd, messages)
                if not ended:
                    os.kill(pid, signal.SIGKILL)
                    status = self._reap(pid, self.kill_grace)
                else:
                    status = self._reap(pid, max(self.kill_grace, self.timeout))
                self._drain(rfd, buffer, messages)
            finally:
                os.close(rfd)
            # The worker is dead (or stuck in the kernel): the board is final.
            committed = self.board.committed() + lost
            stop = self._report(done, committed, messages, record)
            done = committed
            info = None
            if status is None:
                info = _proc_state(pid)
                stuck.append(info)
            if stop is not None:
                return stop, stuck
            if done >= count:
                return ("stuck" if info else "count"), stuck
            if not ended:
                done += 1
                lost += 1
                event = {"n": done, "outcome": "timeout", "value": None}
                if info is not None:
                    event["stuck"] = info
                record(event)
                if info is not None:
                    return "stuck", stuck
                if stop_on_timeout:
                    return "timeout", stuck
                continue
            if info is not None:
                # Pipe closed but the worker does not exit: stuck in exit.
                return "stuck", stuck
            if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:  # pragma: no cover - exits 0 only when done
                return "error", stuck
            # Killed (BUG() kills with SIGSEGV) or exited abnormally: the
            # spin in progress died.
            done += 1
            lost += 1
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
