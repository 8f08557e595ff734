# SPDX-License-Identifier: GPL-3.0-or-later
"""The `dkms status` parser and the DKMS source trees, with the lines real dkms versions print.

The lines were printed by Debian 12's dkms 3.0.10-8+deb12u1 and by Debian 13's dkms script
3.2.2-1~deb13u1, both run in a bookworm VM of the lab on 2026-11-30 against the same DKMS tree
(a module installed, its installed file then changed, a second version only added, then that
version's source tree deleted); the dkms 2.x line is the format Debian 11's dkms 2.8 printed.
"""

from __future__ import annotations

import os

import pytest
from ansible_collections.rustkmod.roulette.plugins.module_utils.dkms import (
    DKMS_MARKER,
    is_ours,
    parse_status,
    parse_status_line,
    source_trees,
)

V = "1.0.0-0123abcd4567"
K = "6.1.0-57-amd64"

# dkms 3.0.10 (Debian 12)
DKMS_30 = (
    "roulette/1.0.0-0123abcd4567, 6.1.0-57-amd64, x86_64: installed (WARNING! Diff between built and installed module!)\n"
    "roulette/1.0.0-ffff: added\n"
)
# dkms 3.2.2 (Debian 13), same tree; the Error! lines go to stderr.
DKMS_32 = (
    "roulette/1.0.0-0123abcd4567, 6.1.0-57-amd64, x86_64: installed (Differences between built and installed modules)\n"
    "roulette/1.0.0-ffff: broken\n"
)


def entry(version=V, kernel=K, arch="x86_64", state="installed", notes=(), weak_from=None, line=None):
    return {"version": version, "kernel": kernel, "arch": arch, "state": state, "notes": list(notes),
            "weak_from": weak_from, "line": line}


@pytest.mark.parametrize("line, expected", [
    ("roulette/1.0.0-0123abcd4567, 6.1.0-57-amd64, x86_64: installed", entry()),
    ("roulette/1.0.0-0123abcd4567, 6.1.0-57-amd64, x86_64: built", entry(state="built")),
    ("roulette/0.4.0-abc, 6.1.0-57-amd64, x86_64: installed", entry(version="0.4.0-abc")),
    ("roulette/1.0.0-0123abcd4567: added", entry(kernel=None, arch=None, state="added")),
    ("roulette/1.0.0-0123abcd4567: broken", entry(kernel=None, arch=None, state="broken")),
    ("roulette/1.0.0-0123abcd4567, 6.12.57+deb13-amd64, x86_64: installed",
     entry(kernel="6.12.57+deb13-amd64")),
    ("roulette/1.0.0-0123abcd4567, 6.1.0-57-amd64, x86_64: installed (WARNING! Diff between built and installed module!)",
     entry(notes=["WARNING! Diff between built and installed module!"])),
    ("roulette/1.0.0-0123abcd4567, 6.1.0-57-amd64, x86_64: installed (original_module exists)"
     " (WARNING! Missing some built modules!)",
     entry(notes=["original_module exists", "WARNING! Missing some built modules!"])),
    ("roulette/1.0.0-0123abcd4567, 6.1.0-57-amd64, x86_64: installed (Original modules exist)"
     " (Built modules are missing in the kernel modules folder)",
     entry(notes=["Original modules exist", "Built modules are missing in the kernel modules folder"])),
    # dkms 2.x, and installed-weak (3.x too)
    ("roulette, 1.0.0-0123abcd4567, 6.1.0-57-amd64, x86_64: installed", entry()),
    ("roulette, 1.0.0-0123abcd4567: added", entry(kernel=None, arch=None, state="added")),
    ("roulette, 1.0.0-0123abcd4567, 6.1.0-58-amd64, x86_64: installed-weak from 6.1.0-57-amd64",
     entry(kernel="6.1.0-58-amd64", state="installed-weak", weak_from="6.1.0-57-amd64")),
])
def test_status_lines_of_every_format(line, expected):
    parsed = parse_status_line(line)
    assert parsed.pop("module") == "roulette"
    expected["line"] = line
    assert parsed == expected


@pytest.mark.parametrize("line", [
    "", "   ", "Error! roulette/1.0.0-ffff: Missing the module source directory or the symbolic link pointing to it.",
    "Manual intervention is required!", "Deprecated feature: REMAKE_INITRD (/usr/src/x-1/dkms.conf)",
    "roulette/1.0.0-0123abcd4567:", "roulette/1.0.0, 6.1.0-57-amd64: installed",  # kernel without arch
    "roulette: installed", "roulette/1.0.0, , x86_64: installed", ": added",
])
def test_lines_that_are_not_status_lines(line):
    assert parse_status_line(line) is None


def test_the_status_of_debian_12_and_13_dkms_for_roulette_only():
    assert parse_status(DKMS_30) == [
        entry(notes=["WARNING! Diff between built and installed module!"], line=DKMS_30.splitlines()[0]),
        entry(version="1.0.0-ffff", kernel=None, arch=None, state="added", line="roulette/1.0.0-ffff: added"),
    ]
    assert [(e["version"], e["kernel"], e["state"], e["notes"]) for e in parse_status(DKMS_32)] == [
        (V, K, "installed", ["Differences between built and installed modules"]),
        ("1.0.0-ffff", None, "broken", []),
    ]
    others = "nvidia-current/525.147.05, 6.1.0-57-amd64, x86_64: installed\nvirtualbox, 7.0.20: added\n"
    assert parse_status(others + DKMS_30)[0]["version"] == V
    assert parse_status(others) == [] and parse_status("") == [] and parse_status(None) == []


def test_a_module_whose_name_only_starts_with_roulette_is_not_roulette():
    assert parse_status("roulette-ng/2.0, 6.1.0-57-amd64, x86_64: installed\n") == []


def test_the_marker_is_a_line_of_its_own():
    assert is_ours("PACKAGE_NAME=roulette\n%s\n" % DKMS_MARKER)
    assert is_ours("  %s  \n" % DKMS_MARKER)
    assert not is_ours("PACKAGE_NAME=roulette\n# %s\n" % DKMS_MARKER)
    assert not is_ours("PACKAGE_NAME=\"roulette\"  %s\n" % DKMS_MARKER)
    assert not is_ours(None) and not is_ours("")


def test_source_trees(tmp_path):
    src = tmp_path / "usr" / "src"
    (src / ("roulette-" + V)).mkdir(parents=True)
    (src / ("roulette-" + V) / "dkms.conf").write_text("%s\nPACKAGE_VERSION=%s\n" % (DKMS_MARKER, V))
    (src / "roulette-0.9").mkdir()
    (src / "roulette-0.9" / "dkms.conf").write_text("PACKAGE_NAME=roulette\n")  # someone else's
    (src / "roulette-empty").mkdir()  # no dkms.conf
    (src / "roulette-file").write_text("")  # not a directory
    os.symlink(str(src / ("roulette-" + V)), str(src / "roulette-link"))  # a symlink is not a tree of ours
    (src / "linux-headers-6.1.0-57-amd64").mkdir()
    (src / "roulette-").mkdir()

    def path(*parts):
        return os.path.join(str(tmp_path), *parts)

    def read(*parts):
        try:
            with open(path(*parts)) as handle:
                return handle.read()
        except OSError:
            return None

    assert source_trees(read, path) == [  # sorted by name
        {"version": "0.9", "path": "/usr/src/roulette-0.9", "ours": False},
        {"version": V, "path": "/usr/src/roulette-" + V, "ours": True},
        {"version": "empty", "path": "/usr/src/roulette-empty", "ours": False},
    ]
    assert source_trees(read, lambda *parts: os.path.join(str(tmp_path), "nothing", *parts)) == []
