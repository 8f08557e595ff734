# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""New kernel log lines written while the spin module runs, to confirm a death.

Runs on the target host (imported by the spin module), on its Python (3.9 or
later).  Reads /dev/kmsg from its end when it can (root), else compares two
`dmesg` outputs.
"""

from __future__ import annotations

import collections
import errno
import os
import time

from ansible_collections.rustkmod.roulette.plugins.module_utils.roulette import lines_since, parse_kmsg_record


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
