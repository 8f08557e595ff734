# SPDX-License-Identifier: GPL-3.0-or-later
"""The Debian releases the lab builds images and chroots of, and the apt sources of each."""

from __future__ import annotations

from .common import LabError

SUITES = ("bookworm", "trixie")
MIRROR = "http://deb.debian.org/debian"
SECURITY_MIRROR = "http://deb.debian.org/debian-security"


def sources_for(suite: str) -> list[str]:
    """The guest's apt sources: the release, its updates and its security archive."""
    if suite not in SUITES:
        raise LabError(f"unknown suite {suite!r}; choose one of {', '.join(SUITES)}")
    return [
        f"deb {MIRROR} {suite} main",
        f"deb {MIRROR} {suite}-updates main",
        f"deb {SECURITY_MIRROR} {suite}-security main",
    ]
