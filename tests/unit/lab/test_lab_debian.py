# SPDX-License-Identifier: GPL-3.0-or-later
"""roulette_lab.debian: the releases and their apt sources."""

from __future__ import annotations

import pytest
from roulette_lab import debian


@pytest.mark.parametrize("suite", ["bookworm", "trixie"])
def test_sources_cover_release_updates_and_security(suite):
    sources = debian.sources_for(suite)
    assert f"deb http://deb.debian.org/debian {suite} main" in sources
    assert f"deb http://deb.debian.org/debian {suite}-updates main" in sources
    assert f"deb http://deb.debian.org/debian-security {suite}-security main" in sources


def test_unknown_suite_is_refused():
    with pytest.raises(debian.LabError, match="unknown suite"):
        debian.sources_for("sid")
