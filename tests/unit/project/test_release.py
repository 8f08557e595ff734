# SPDX-License-Identifier: GPL-3.0-or-later
"""One version for a release: galaxy.yml's version is the newest release of the changelog
(antsibull-changelog release writes it), the driver's MODULE_VERSION starts with it, and
every plugin says in which released version it came (version_added)."""

import ast
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]


def version_tuple(text):
    return tuple(int(part) for part in str(text).split("."))


def galaxy_version():
    return yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]


def released_versions():
    changelog = yaml.safe_load((ROOT / "changelogs" / "changelog.yaml").read_text())
    return sorted(changelog["releases"], key=version_tuple)


def plugin_docs():
    """(path, DOCUMENTATION) of every documented plugin: Python files and filter YAML docs."""
    for path in sorted((ROOT / "plugins").glob("*/*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "DOCUMENTATION" for t in node.targets):
                yield path, yaml.safe_load(node.value.value)
    for path in sorted((ROOT / "plugins").glob("*/*.yml")):
        yield path, yaml.safe_load(path.read_text())["DOCUMENTATION"]


def test_galaxy_version_is_the_newest_release_of_the_changelog():
    assert galaxy_version() == released_versions()[-1]


def test_the_changelog_rst_has_the_release():
    assert re.search(r"^v%s\n=+$" % re.escape(galaxy_version()), (ROOT / "CHANGELOG.rst").read_text(), re.M)


def test_the_driver_version_starts_with_the_collection_version():
    makefile = (ROOT / "files" / "kmod" / "Makefile").read_text()
    assert re.search(r"^ROULETTE_RELEASE := (\S+)$", makefile, re.M).group(1) == galaxy_version()


@pytest.mark.parametrize("path, doc", list(plugin_docs()), ids=lambda value: getattr(value, "name", ""))
def test_every_plugin_names_the_release_that_brought_it(path, doc):
    assert str(doc.get("version_added")) in released_versions(), path
