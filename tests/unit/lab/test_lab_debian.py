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


def test_forky_is_a_suite():
    assert "forky" in debian.SUITES


def test_forky_sources_skip_the_valid_until_check():
    # The mirror serves testing's Release files past their Valid-Until date.
    assert debian.sources_for("forky") == [
        "deb [check-valid-until=no] http://deb.debian.org/debian forky main",
        "deb [check-valid-until=no] http://deb.debian.org/debian forky-updates main",
        "deb [check-valid-until=no] http://deb.debian.org/debian-security forky-security main",
    ]


@pytest.mark.parametrize("suite", ["bookworm", "trixie"])
def test_released_suites_keep_apts_valid_until_check(suite):
    assert not [line for line in debian.sources_for(suite) if "valid-until" in line]


def test_sources_list_of_forky_says_why_it_skips_the_check(tmp_path):
    apt = tmp_path / "etc" / "apt"
    apt.mkdir(parents=True)
    written = "\n\n".join(debian.sources_for("forky")) + "\n"
    (apt / "sources.list").write_text(written)
    debian.annotate_sources(tmp_path, "forky")
    text = (apt / "sources.list").read_text()
    assert text.endswith(written)
    note = text[: -len(written)]
    assert note and all(line.startswith("#") for line in note.splitlines())
    assert "Valid-Until" in note
    debian.annotate_sources(tmp_path, "forky")  # once only
    assert (apt / "sources.list").read_text() == text


def test_sources_list_of_a_released_suite_is_left_as_mmdebstrap_wrote_it(tmp_path):
    apt = tmp_path / "etc" / "apt"
    apt.mkdir(parents=True)
    written = "\n\n".join(debian.sources_for("bookworm")) + "\n"
    (apt / "sources.list").write_text(written)
    debian.annotate_sources(tmp_path, "bookworm")
    assert (apt / "sources.list").read_text() == written
