# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the kernel-roulette driver and the kernel say, read on the target host.

Runs on the target host, inside the spin and roulette_info modules (and the
module_utils they use), on the target's Python (3.9 or later: no match
statements, no 3.10+ typing syntax evaluated at run time). Also imported on the
controller by plugin_utils, for the markers and the line parsing they share.

The parsers are pure text handling: they take what was read and can be tested
on any machine. HostFiles is the one part that reads files: the host's /proc
and /sys, below a root that tests point at a fake tree.
"""

from __future__ import annotations

import os
import re

DEVICE_NAME = "kernel-roulette"
DRIVER_NAME = "roulette"

# --- line splitting and prefixes -------------------------------------------

# Every pattern below is anchored and bounded, or has no two adjacent quantifiers
# that can match the same characters: a long line that almost matches (a console
# or a device gone wrong) costs linear time, never the seconds to minutes a
# backtracking pattern takes on a 64 KB line.

# /dev/kmsg record header: "PRI,SEQ,USEC,FLAGS[,...];message".
_KMSG_HEADER_RE = re.compile(r"^(\d{1,20}),(\d{1,20}),(\d{1,20}),[^;]{0,64};")
# `dmesg -r` / syslog priority prefix: "<4>".
_PRIORITY_RE = re.compile(r"^<\d{1,3}>")
# Monotonic timestamp: "[   12.345678]" (also "[12.3]", "[ +0.000123]" of --time-format delta).
_MONO_TS_RE = re.compile(
    r"^\[\s{0,20}[+-]?\d{1,20}(?:[.,]\d{1,20})?(?:\s{0,20}<\s{0,20}[+-]?\d{1,20}(?:[.,]\d{1,20})?>)?\s{0,20}\]\s?"
)
# Human/ctime timestamp from `dmesg -T`: "[Thu Nov 26 19:00:00 2026]" (any locale words):
# a short bracket (at most 64 characters inside) that holds a time of day.
_CTIME_TS_RE = re.compile(r"^\[([^\]]{1,64})\]\s?")
_TIME_OF_DAY_RE = re.compile(r"\d{1,2}:\d{2}:\d{2}")
# ISO timestamp from `dmesg --time-format iso`: "2026-11-26T19:00:00,123456+00:00".
_ISO_TS_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\s+"
)
# syslog/journal style "Nov 26 19:00:00 host kernel: " and bare "kernel: ".
_SYSLOG_RE = re.compile(r"^[A-Z][a-z]{2}\s{1,4}\d{1,2}\s{1,4}\d{2}:\d{2}:\d{2}\s{1,4}\S{1,255}\s{1,4}kernel:\s?")
_KERNEL_TAG_RE = re.compile(r"^kernel:\s?")
# dmesg facility/level decoding (`dmesg -x`): "kern  :warn  : ".
_FACILITY_RE = re.compile(
    r"^(?:kern|user|mail|daemon|auth|syslog|lpr|news|uucp|cron|authpriv|ftp|local\d)\s{0,8}:"
    r"\s{0,8}(?:emerg|alert|crit|err|warn|notice|info|debug)\s{0,8}:\s?"
)
# The driver's own pr_fmt prefix, and the caller id some kernels add: "[T123] ".
_DRIVER_PREFIX_RE = re.compile(r"^(?:kernel[-_]roulette|roulette):\s*")
_CALLER_RE = re.compile(r"^\[\s{0,20}[TC]\d{1,20}\]\s?")
# A line has a handful of prefixes (a kmsg header, a priority, a timestamp, a
# caller id, a tag); stripping stops after this many passes over them all.
_PREFIX_PASSES = 4


def to_text(data):
    """Decode bytes from the kernel tolerantly (the log is not always UTF-8)."""
    if data is None:
        return ""
    if isinstance(data, bytes):
        return data.decode("utf-8", errors="replace")
    return str(data)


def split_lines(text):
    """Split kernel text into lines; CRLF, lone CR and NUL padding tolerated."""
    text = to_text(text).replace("\x00", "")
    return [line for line in re.split(r"\r\n|\r|\n", text) if line.strip()]


def strip_prefixes(line):
    """Return the message of one log line, without timestamps and tags.

    Accepts plain `dmesg`, `dmesg -r` (priority), `dmesg -T`, `dmesg -x`,
    `dmesg --time-format iso`, /dev/kmsg records, syslog/journal lines and
    the driver's `roulette: ` prefix, in any combination.
    """
    line = to_text(line).rstrip("\r\n")
    for _ in range(_PREFIX_PASSES):
        previous = line
        line = line.lstrip()
        for regex in (_KMSG_HEADER_RE, _PRIORITY_RE, _FACILITY_RE, _ISO_TS_RE,
                      _SYSLOG_RE, _MONO_TS_RE):
            line = regex.sub("", line, count=1)
        match = _CTIME_TS_RE.match(line)
        if match and _TIME_OF_DAY_RE.search(match.group(1)):
            line = line[match.end():]
        for regex in (_CALLER_RE, _KERNEL_TAG_RE, _DRIVER_PREFIX_RE):
            line = regex.sub("", line, count=1)
        if line == previous:
            break
    return line.strip()


def messages(text):
    """Split text into lines and strip every line's prefixes."""
    return [strip_prefixes(line) for line in split_lines(text)]


# --- lines written since a point -------------------------------------------

def lines_since(before, after, anchor_size=3):
    """Lines of `after` that were not yet in `before`.

    Both are dmesg texts (timestamped or not) taken before and after an
    action.  The last `anchor_size` lines of `before` are searched in
    `after` (newest occurrence); what follows them is new.  When the anchor
    is gone (ring buffer wrapped or was cleared) every line of `after` is
    new.  When `before` is empty, all of `after` is new.
    """
    old = split_lines(before)
    new = split_lines(after)
    if not old:
        return new
    for size in range(min(anchor_size, len(old)), 0, -1):
        anchor = old[-size:]
        for start in range(len(new) - size, -1, -1):
            if new[start:start + size] == anchor:
                return new[start + size:]
    return new


# --- /dev/kmsg records -------------------------------------------------------

def parse_kmsg_record(record):
    """Parse one /dev/kmsg record into (seq, usec, message) or None.

    Continuation lines (" KEY=value" dictionary entries) are dropped.
    """
    text = to_text(record)
    first = text.split("\n", 1)[0]
    match = re.match(r"^(\d+),(\d+),(\d+),[^;]*;(.*)$", first)
    if not match:
        return None
    return int(match.group(2)), int(match.group(3)), match.group(4)


# --- /proc/devices -----------------------------------------------------------

def parse_proc_devices(text):
    """Parse /proc/devices into {'character': {name: [majors]}, 'block': {...}}."""
    sections = {"character": {}, "block": {}}
    current = None
    for line in split_lines(text):
        stripped = line.strip()
        lower = stripped.lower()
        if lower.startswith("character devices"):
            current = "character"
            continue
        if lower.startswith("block devices"):
            current = "block"
            continue
        if current is None:
            continue
        match = re.match(r"^(\d+)\s+(\S+)$", stripped)
        if match:
            sections[current].setdefault(match.group(2), []).append(int(match.group(1)))
    return sections


def char_major(text, name=DEVICE_NAME):
    """Major of the character device `name` in /proc/devices, or None.

    Block devices of the same name are ignored.  When a name is listed
    twice (should not happen) the highest major wins: dynamic majors are
    handed out from the top down, so it is the newest registration.
    """
    majors = parse_proc_devices(text)["character"].get(name)
    if not majors:
        return None
    return max(majors)


# --- the device's answer -----------------------------------------------------

# \W covers the spaces after "Survived...", and an optional comma takes its own spaces.
_SURVIVED_RE = re.compile(
    r"Survived\W*sampled\s+value\s+is\s+(\d+)\s*(?:,\s*)?which\s+is\s*>=\s*(\d+)"
)


def parse_survived(text):
    """Parse the device's answer into {'value': S, 'chance': C}, or None."""
    match = _SURVIVED_RE.search(to_text(text))
    if not match:
        return None
    return {"value": int(match.group(1)), "chance": int(match.group(2))}


# --- markers of a death -------------------------------------------------------

# The one list of the lines by which the driver and the kernel report a death.
# parse_panic and panic_window (the spin module), the console parser of the
# console_panic lookup (plugin_utils/console.py) and the VM lab's serial-log
# check take their markers from here.
RUST_PANIC_MARKER = "Rust panic @"  # the driver's panic handler, then FILE:LINE
BOOM_MARKER = "Boom!"  # the driver's message when the sample falls below the chance
BUG_MARKER = "kernel BUG at"  # the kernel's report of the BUG() the driver calls
# Lines of an oops: the kernel killed the task (BUG(), a bad access, a fault).
OOPS_MARKERS = (BUG_MARKER, "Oops:", "BUG:", "general protection fault")
# The kernel stopped (panic_on_oops, or the opt-in real-panic patch).
KERNEL_PANIC_MARKER = "Kernel panic - not syncing:"
# Where the driver's death starts in a kernel log (panic_window).
PANIC_MARKERS = (RUST_PANIC_MARKER, BOOM_MARKER, BUG_MARKER)

# The driver's panic line with any spacing; group 1 is FILE:LINE (a column is dropped).
RUST_PANIC_RE = re.compile(r"Rust\s+panic\s*@\s*(\S+?:\d+)(?::\d+)?")
BOOM_RE = re.compile(r"\b" + re.escape(BOOM_MARKER))
_BUG_RE = re.compile(re.escape(BUG_MARKER) + r"\s+(\S+?)!?$")
# An oops in parse_panic's sense: BUG() shows as "invalid opcode" on x86.
_OOPS_RE = re.compile(r"(?:Oops|invalid opcode)\s*:")


def parse_panic(text):
    """Look for the driver's panic markers in kernel log text.

    Returns {'confirmed', 'rust_panic', 'location', 'message', 'boom',
    'bug', 'bug_location', 'oops'}.  `confirmed` is true when the Rust panic
    line or `Boom!` was seen together with a BUG or an oops, or the Rust
    panic line and Boom! both were seen (the oops may have been cut off).
    """
    msgs = messages(text) if not isinstance(text, list) else [strip_prefixes(m) for m in text]
    result = {
        "confirmed": False,
        "rust_panic": False,
        "location": None,
        "message": None,
        "boom": False,
        "bug": False,
        "bug_location": None,
        "oops": False,
    }
    for index, msg in enumerate(msgs):
        match = RUST_PANIC_RE.search(msg)
        if match:
            result["rust_panic"] = True
            result["location"] = match.group(1)
            # The panic handler prints the message on the next line.
            if index + 1 < len(msgs) and not _BUG_RE.search(msgs[index + 1]):
                result["message"] = msgs[index + 1]
            continue
        if BOOM_RE.search(msg):
            result["boom"] = True
        match = _BUG_RE.search(msg)
        if match:
            result["bug"] = True
            result["bug_location"] = match.group(1)
            continue
        if _OOPS_RE.search(msg):
            result["oops"] = True
    driver = result["rust_panic"] or result["boom"]
    kernel = result["bug"] or result["oops"]
    result["confirmed"] = bool((driver and kernel) or (result["rust_panic"] and result["boom"]))
    return result


def panic_window(lines, before=5, limit=100):
    """The interesting part of a death's log: from a few lines before the
    first panic marker, at most `limit` lines.  All lines (capped) when no
    marker is present."""
    lines = list(lines)
    first = None
    for index, line in enumerate(lines):
        if any(marker in line for marker in PANIC_MARKERS):
            first = index
            break
    if first is None:
        return lines[-limit:]
    start = max(0, first - before)
    return lines[start:start + limit]


# --- taint -------------------------------------------------------------------

# Bit, letter, meaning: Linux Documentation/admin-guide/tainted-kernels.rst.
TAINT_FLAGS = (
    (0, "P", "proprietary module was loaded"),
    (1, "F", "module was force loaded"),
    (2, "S", "kernel running on an out of specification system"),
    (3, "R", "module was force unloaded"),
    (4, "M", "processor reported a Machine Check Exception (MCE)"),
    (5, "B", "bad page referenced or some unexpected page flags"),
    (6, "U", "taint requested by userspace application"),
    (7, "D", "kernel died recently, i.e. there was an OOPS or BUG"),
    (8, "A", "an ACPI table was overridden by user"),
    (9, "W", "kernel issued warning"),
    (10, "C", "staging driver was loaded"),
    (11, "I", "workaround for bug in platform firmware applied"),
    (12, "O", "externally-built (out-of-tree) module was loaded"),
    (13, "E", "unsigned module was loaded"),
    (14, "L", "soft lockup occurred"),
    (15, "K", "kernel has been live patched"),
    (16, "X", "auxiliary taint, defined for and used by distros"),
    (17, "T", "kernel was built with the struct randomization plugin"),
    (18, "N", "an in-kernel test has been run"),
    (19, "J", "userspace used a mutating debug operation in fwctl"),
)


def decode_taint(value):
    """Decode /proc/sys/kernel/tainted.

    Returns {'value': int, 'letters': 'DOE', 'flags': [{'bit', 'letter',
    'description'}]}; unknown bits get letter '?'.  A value that cannot be
    parsed gives value None.
    """
    try:
        number = int(to_text(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        return {"value": None, "letters": "", "flags": []}
    known = {bit: (letter, desc) for bit, letter, desc in TAINT_FLAGS}
    flags = []
    bit = 0
    remaining = number
    while remaining:
        if remaining & 1:
            letter, desc = known.get(bit, ("?", f"unknown taint bit {bit}"))
            flags.append({"bit": bit, "letter": letter, "description": desc})
        remaining >>= 1
        bit += 1
    return {"value": number, "letters": "".join(f["letter"] for f in flags), "flags": flags}


# --- small /proc and /sys texts ----------------------------------------------

def parse_lockdown(text):
    """Selected mode of /sys/kernel/security/lockdown ("none [integrity] confidentiality")."""
    match = re.search(r"\[(\w+)\]", to_text(text))
    return match.group(1) if match else None


def parse_bool_param(text):
    """A module parameter of type bool: 'Y'/'N' (or 1/0) -> True/False, else None."""
    value = to_text(text).strip().upper()
    if value in ("Y", "1", "TRUE"):
        return True
    if value in ("N", "0", "FALSE"):
        return False
    return None


def parse_int(text):
    """An integer from a /proc or /sys file, or None."""
    try:
        return int(to_text(text).strip())
    except ValueError:
        return None


class HostFiles(object):
    """Reads the host's /proc and /sys below `root` (tests point it at a fake tree)."""

    root = "/"

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def read(self, *parts):
        """The text of a file, or None when it cannot be read."""
        try:
            with open(self.path(*parts), "rb") as handle:
                return to_text(handle.read())
        except OSError:
            return None
