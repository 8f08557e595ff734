# -*- coding: utf-8 -*-
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a host's serial console log says about a kernel that died.

Runs on the controller, in ansible-core's Python: the console_panic lookup reads
a console log on the controller (the host may be dead) and parses it with this.
The markers and the kernel-line prefixes are the target-side ones of
module_utils/roulette.py, so that a death reads the same on both sides.
"""

from __future__ import annotations

import re

from ansible_collections.rustkmod.roulette.plugins.module_utils.roulette import (
    BOOM_RE,
    KERNEL_PANIC_MARKER,
    OOPS_MARKERS,
    RUST_PANIC_RE,
    split_lines,
    strip_prefixes,
)

# Terminal escapes on a serial line: firmware and boot loaders clear the screen
# (CSI "\x1b[2J"), set modes ("\x1b[?7l"), reset ("\x1bc"); OSC strings end in BEL.
_ESCAPE_RE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_]|.?)")
# Other C0 controls and DEL (a tab stays, CR/LF are split on before this).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_CONSOLE_PANIC_RE = re.compile(re.escape(KERNEL_PANIC_MARKER) + ".*")
# The "---[ end Kernel panic - not syncing: ... ]---" trailer repeats the reason.
_PANIC_TRAILER = "]---"
_CONSOLE_OOPS_RE = re.compile(r"\b(?:%s).*" % "|".join(re.escape(marker) for marker in OOPS_MARKERS))
CONSOLE_LINES_LIMIT = 20
# A kernel message is at most about 1 KB and ends its console line (the kernel
# ends each record with a newline; what precedes it on the line is userspace
# output that had none). Only this many characters at the end of a line are read.
CONSOLE_LINE_MAX = 4096


def console_lines(text):
    """Lines of a serial console log, without terminal escapes and control bytes.

    A console log is what the machine wrote on its serial line: kernel messages
    mixed with firmware output, boot loader screens and userspace writes, CRLF
    line ends, and bytes that are not UTF-8 (decoded with replacement). Only
    the last CONSOLE_LINE_MAX characters of a line are kept.
    """
    cleaned = []
    for line in split_lines(text):
        line = _CONTROL_RE.sub("", _ESCAPE_RE.sub("", line[-CONSOLE_LINE_MAX:])).strip()
        if line:
            cleaned.append(line)
    return cleaned


def console_findings(text):
    """What a console log says about a kernel that died.

    Returns {'panic', 'oops', 'boom', 'location', 'lines'}: the first
    "Kernel panic - not syncing: ..." line, the first oops line ("kernel BUG
    at ...", "Oops: ...", "BUG: ...", "general protection fault ..."), the
    first line with the driver's "Boom!" that is not the panic line, the
    source location of the driver's "Rust panic @ FILE:LINE" line (each None
    when absent), and those lines in the order they were written (at most
    CONSOLE_LINES_LIMIT).  Lines are given as the kernel's messages: from the
    marker on for panic and oops (a console line can start with whatever
    userspace wrote before it), without the timestamp for the others.
    """
    result = {"panic": None, "oops": None, "boom": None, "location": None, "lines": []}

    def note(key, line):
        if result[key] is None:
            result[key] = line
            if line not in result["lines"] and len(result["lines"]) < CONSOLE_LINES_LIMIT:
                result["lines"].append(line)

    for line in console_lines(text):
        message = strip_prefixes(line)
        match = _CONSOLE_PANIC_RE.search(message)
        if match:
            panic = match.group(0).rstrip()
            if panic.endswith(_PANIC_TRAILER):
                panic = panic[:-len(_PANIC_TRAILER)]
            note("panic", panic.strip())
            continue
        match = RUST_PANIC_RE.search(message)
        if match:
            if result["location"] is None:
                result["location"] = match.group(1)
                if len(result["lines"]) < CONSOLE_LINES_LIMIT:
                    result["lines"].append(message[match.start():])
            continue
        match = _CONSOLE_OOPS_RE.search(message)
        if match:
            note("oops", match.group(0).strip())
            continue
        if BOOM_RE.search(message):
            note("boom", message)
    return result
