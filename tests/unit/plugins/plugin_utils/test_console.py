# SPDX-License-Identifier: GPL-3.0-or-later
"""plugin_utils/console: what a serial console log says about a kernel that died."""

from __future__ import annotations

import pytest
from ansible_collections.rustkmod.roulette.plugins.module_utils import roulette
from ansible_collections.rustkmod.roulette.plugins.plugin_utils import console as c

# A guest's serial console (QEMU -serial file:) around a real panic of the opt-in
# patch: firmware escapes, CRLF line ends, userspace output without a newline before
# a kernel line, bytes that are not UTF-8, and the panic's end trailer.
CONSOLE = (
    b"\x1bc\x1b[?7l\x1b[2J\x1b[0mSeaBIOS (version 1.16.2-debian-1.16.2-1)\r\r\n"
    b"Booting from ROM..\r\n"
    b"[    0.000000] Linux version 6.1.0-27-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC\r\n"
    b"[    0.000000] Command line: root=/dev/vda rw console=ttyS0 net.ifnames=0\r\n"
    b"\xff\xfe\x00\x00[    2.714120] EXT4-fs (vda): mounted filesystem with ordered data mode.\r\n"
    b"[  120.000001] roulette: Registered kernel-roulette with major device number 247\r\n"
    b"[  123.456700] Rust panic @ src/roulette.rs:89\r\n"
    b"[  123.456750] Boom!\r\n"
    b"login: [  123.456789] Kernel panic - not syncing: kernel-roulette: Boom! (Rust panic)\r\n"
    b"[  123.456800] CPU: 1 PID: 1234 Comm: python3 Tainted: G           OE      6.1.0-27-amd64 #1  Debian 6.1.115-1\r\n"
    b"[  123.456810] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014\r\n"
    b"[  123.456820] Call Trace:\r\n"
    b"[  123.456830]  <TASK>\r\n"
    b"[  123.456840]  dump_stack_lvl+0x44/0x5c\r\n"
    b"[  123.456850]  panic+0x118/0x2ed\r\n"
    b"[  123.456860]  abort+0x9/0x10 [roulette]\r\n"
    b"[  123.456870]  </TASK>\r\n"
    b"[  123.457100] Kernel Offset: 0x1c000000 from 0xffffffff81000000 (relocation range: 0xffffffff80000000-0xffffffffbfffffff)\r\n"
    b"[  123.457200] ---[ end Kernel panic - not syncing: kernel-roulette: Boom! (Rust panic) ]---\r\n"
)


def test_console_findings_of_a_real_panic():
    found = c.console_findings(CONSOLE)
    assert found["panic"] == "Kernel panic - not syncing: kernel-roulette: Boom! (Rust panic)"
    assert found["boom"] == "Boom!"
    assert found["location"] == "src/roulette.rs:89"
    assert found["oops"] is None
    assert found["lines"] == ["Rust panic @ src/roulette.rs:89", "Boom!", found["panic"]]
    assert c.console_findings(CONSOLE.decode("latin-1")) == found  # text in, same answer


def test_console_findings_of_an_oops_then_a_panic_on_oops():
    text = (
        "[   41.100000] roulette: Rust panic @ src/roulette.rs:86\n"
        "[   41.100001] roulette: Boom!\n"
        "[   41.100002] ------------[ cut here ]------------\n"
        "[   41.100003] kernel BUG at /root/kmod/src/shim.c:168!\n"
        "[   41.100004] Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI\n"
        "[   41.100005] BUG: unable to handle page fault for address: 0000000000001000\n"
        "[   41.200000] Kernel panic - not syncing: Fatal exception\n"
    )
    found = c.console_findings(text)
    assert found["oops"] == "kernel BUG at /root/kmod/src/shim.c:168!"
    assert found["panic"] == "Kernel panic - not syncing: Fatal exception"
    assert found["boom"] == "Boom!" and found["location"] == "src/roulette.rs:86"
    assert found["lines"] == ["Rust panic @ src/roulette.rs:86", "Boom!", found["oops"], found["panic"]]


@pytest.mark.parametrize("line, key, value", [
    ("[    5.1] BUG: kernel NULL pointer dereference, address: 0000000000000008\r\n", "oops",
     "BUG: kernel NULL pointer dereference, address: 0000000000000008"),
    ("<4>[    5.1] Oops: 0002 [#1] SMP PTI", "oops", "Oops: 0002 [#1] SMP PTI"),
    ("[    5.1] general protection fault, probably for non-canonical address 0xdead: 0000 [#1]", "oops",
     "general protection fault, probably for non-canonical address 0xdead: 0000 [#1]"),
    ("\x1b[0m[    5.1] Kernel panic - not syncing: VFS: Unable to mount root fs\r", "panic",
     "Kernel panic - not syncing: VFS: Unable to mount root fs"),
    # Only the end trailer survived (the log was cut before the panic line).
    ("[    5.2] ---[ end Kernel panic - not syncing: Fatal exception ]---", "panic",
     "Kernel panic - not syncing: Fatal exception"),
])
def test_console_findings_single_lines(line, key, value):
    assert c.console_findings(line)[key] == value


def test_console_findings_of_a_quiet_console():
    found = c.console_findings(b"[    1.0] Run /init as init process\r\nroulette-lab login: \r\n")
    assert found == {"panic": None, "oops": None, "boom": None, "location": None, "lines": []}
    assert c.console_findings(None)["lines"] == []
    # "WARNING:" and a debug option named like a BUG are not oopses.
    assert c.console_findings("[ 1.0] WARNING: CPU: 0 PID: 1 at kernel/x.c:1\nCONFIG_DEBUG_BUGVERBOSE: y\n")["oops"] is None


def test_console_findings_keep_the_first_of_each():
    text = "".join(f"[ {i}.0] BUG: soft lockup - CPU#0 stuck for {i}s!\n" for i in range(50))
    text += "[ 99.0] Kernel panic - not syncing: softlockup: hung tasks\n"
    found = c.console_findings(text)
    assert found["oops"] == "BUG: soft lockup - CPU#0 stuck for 0s!"
    assert found["panic"] == "Kernel panic - not syncing: softlockup: hung tasks"
    assert len(found["lines"]) == 2


def test_the_markers_are_the_target_sides():
    """A death reads the same in the console as in the spin module's kernel log."""
    for marker in roulette.OOPS_MARKERS:
        assert c.console_findings("[ 1.0] %s something\n" % marker)["oops"] == marker + " something"
    assert c.console_findings(roulette.KERNEL_PANIC_MARKER + " x")["panic"] == roulette.KERNEL_PANIC_MARKER + " x"
    assert c.console_findings(roulette.RUST_PANIC_MARKER + " src/a.rs:1")["location"] == "src/a.rs:1"
    assert c.console_findings(roulette.BOOM_MARKER)["boom"] == roulette.BOOM_MARKER


def test_a_long_line_is_read_from_its_end():
    """Userspace wrote without a newline; the kernel's line that ends it is found."""
    line = "x" * 100000 + "[  5.0] Kernel panic - not syncing: Fatal exception"
    assert c.console_findings(line)["panic"] == "Kernel panic - not syncing: Fatal exception"
    assert c.console_lines(line)[0] == line[-c.CONSOLE_LINE_MAX:]
