# SPDX-License-Identifier: GPL-3.0-or-later
"""The Debian releases the lab builds images and chroots of, and the apt sources of each."""

from __future__ import annotations

from pathlib import Path

from .common import LabError

# bookworm (12) and trixie (13) are releases; forky is testing (14 to be).
SUITES = ("bookworm", "trixie", "forky")
MIRROR = "http://deb.debian.org/debian"
SECURITY_MIRROR = "http://deb.debian.org/debian-security"

# Suites whose Release files deb.debian.org (as reached from this project's machines) serves
# after their Valid-Until date: apt calls them expired and refuses to update. For those
# suites alone the check is off, per source line (apt.conf can only turn it off for every
# source), in the build (mmdebstrap uses these lines) and in the image or chroot made.
NO_VALID_UNTIL_CHECK = ("forky",)

# Written above the sources of such a suite in the image's and the chroot's sources.list.
NO_VALID_UNTIL_NOTE = """\
# check-valid-until=no: the Debian mirror this lab was built from serves the Release files of
# Debian testing (and testing-security) after their Valid-Until date, and apt refuses such
# "expired" files. The rustkmod-roulette lab turns the check off for these entries only.
"""


def sources_for(suite: str) -> list[str]:
    """The guest's apt sources: the release, its updates and its security archive."""
    if suite not in SUITES:
        raise LabError(f"unknown suite {suite!r}; choose one of {', '.join(SUITES)}")
    options = " [check-valid-until=no]" if suite in NO_VALID_UNTIL_CHECK else ""
    return [
        f"deb{options} {MIRROR} {suite} main",
        f"deb{options} {MIRROR} {suite}-updates main",
        f"deb{options} {SECURITY_MIRROR} {suite}-security main",
    ]


def annotate_sources(root: Path, suite: str) -> None:
    """Say in root's sources.list why a suite's entries skip the Valid-Until check."""
    if suite not in NO_VALID_UNTIL_CHECK:
        return
    path = root / "etc" / "apt" / "sources.list"
    text = path.read_text()
    if not text.startswith(NO_VALID_UNTIL_NOTE):
        path.write_text(NO_VALID_UNTIL_NOTE + text)
