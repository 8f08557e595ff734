# -*- coding: utf-8 -*-
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
name: console_panic
short_description: Look for a kernel panic in a host's serial console log on the controller
version_added: 1.0.0
description:
  - Reads a file on the controller that holds a host's serial console output (QEMU's C(-serial file:),
    a console server's log), from a byte offset to its end, and returns what it says about a kernel
    that died there (see RV(_raw)).
  - spin.yml notes the log's size before a spin (O(scan=false)) and reads from there when the host is
    lost, so that a kernel panic is told apart from a lost connection, and an oops from an earlier
    spin or boot is not mistaken for this one.
  - A missing file, or an empty path, is not an error; it gives size 0 and no findings.
  - Anything at the path that is not a regular file (a FIFO, a directory, a device, a symbolic link to
    nothing) is an error naming it; the lookup never waits on a FIFO.
  - Only the last 4096 characters of a line are read (a kernel message is about 1 KB at most and ends its
    line), so that a console that wrote megabytes without a newline is read in linear time.
author: rustkmod.roulette maintainers (@rustkmod)
options:
  _terms:
    description: Paths of console logs on the controller (the host variable C(roulette_console_log)).
    required: true
  offset:
    description:
      - Byte offset to read from, usually a RV(_raw[].size) returned earlier.
      - When the file is now shorter than that (it was replaced or truncated, for example by a reboot
        of a VM), it is read from its start.
    type: int
    default: 0
  max_bytes:
    description:
      - Read at most this many bytes, the last ones before the end. A panic is at the end of the log,
        and a long run of spins may have written megabytes before it.
    type: int
    default: 16777216
  scan:
    description: Whether to read the file at all. V(false) returns only its size (no findings).
    type: bool
    default: true
notes:
  - The file is read on the controller, not on the host, which may be dead by then.
seealso:
  - module: rustkmod.roulette.spin
  - module: rustkmod.roulette.fleet_report
"""

EXAMPLES = r"""
- name: Note how far the console log goes before the spin
  ansible.builtin.set_fact:
    console_before: "{{ lookup('rustkmod.roulette.console_panic', roulette_console_log, scan=false) }}"

- name: See whether the kernel panicked since then
  ansible.builtin.debug:
    msg: "{{ lookup('rustkmod.roulette.console_panic', roulette_console_log, offset=console_before['size'])['panic'] }}"
"""

RETURN = r"""
_raw:
  description: One dict per path.
  type: list
  elements: dict
  contains:
    path:
      description: The path read.
      type: str
    size:
      description: The file's size now, in bytes (0 when it is missing); the offset for the next look.
      type: int
    offset:
      description: Where reading started (the offset, or 0 when the file had become shorter).
      type: int
    panic:
      description: The first C(Kernel panic - not syncing:) line since the offset, or None.
      type: str
      sample: "Kernel panic - not syncing: kernel-roulette: Boom! (Rust panic)"
    oops:
      description: The first oops line (C(kernel BUG at), C(Oops:), C(BUG:), C(general protection fault)), or None.
      type: str
    boom:
      description: The driver's C(Boom!) line, or None.
      type: str
    location:
      description: Source location of the driver's C(Rust panic @) line, or None.
      type: str
      sample: src/roulette.rs:89
    lines:
      description: The lines found, in the order they were written (at most 20).
      type: list
      elements: str
"""

import os

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.rustkmod.roulette.plugins.plugin_utils.console import console_findings
from ansible_collections.rustkmod.roulette.plugins.plugin_utils.controller_files import NotRegularFileError, open_regular


def read_console(path, offset=0, max_bytes=16 * 1024 * 1024, scan=True):
    """Size of the console log at `path` and its findings from `offset` on (see RETURN)."""
    empty = console_findings("")
    result = dict(empty, path=path, size=0, offset=0)
    if not path:
        return result
    try:
        with open_regular(path) as handle:
            size = os.fstat(handle.fileno()).st_size
            start = offset if 0 <= offset <= size else 0
            result.update(size=size, offset=start)
            if not scan:
                return result
            handle.seek(max(start, size - max_bytes) if max_bytes > 0 else start)
            data = handle.read(size - handle.tell())
    except FileNotFoundError:
        return result
    except NotRegularFileError as exc:
        raise AnsibleLookupError(f"cannot read the console log: {exc}") from exc
    except OSError as exc:
        raise AnsibleLookupError(f"cannot read the console log {path}: {exc}") from exc
    result.update(console_findings(data))
    return result


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        return [read_console(os.path.expanduser(str(term)) if term else "", self.get_option("offset"),
                             self.get_option("max_bytes"), self.get_option("scan"))
                for term in terms]
