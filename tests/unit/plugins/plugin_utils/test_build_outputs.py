# SPDX-License-Identifier: GPL-3.0-or-later
"""One list of the driver's build outputs (files/kmod/build-outputs.txt), and every
place that must leave them out agrees with it: the source hash (tree_hash), the
source tarball for build hosts (community.general.archive with the build_outputs
lookup), the collection build (galaxy.yml build_ignore), git (.gitignore) and the
Makefile's `make clean`.

Each check plants every listed name, as a file at the top of a copy of the driver's
source and as a directory (holding a file) below it, and expects to be left with
exactly the source: a consumer that misses a name, or takes a source file for build
output, fails here."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleLookupError
from ansible_collections.rustkmod.roulette.plugins.lookup import build_outputs as build_outputs_lookup
from ansible_collections.rustkmod.roulette.plugins.lookup.tree_hash import tree_hash
from ansible_collections.rustkmod.roulette.plugins.plugin_utils import build_outputs
from ansible_collections.rustkmod.roulette.tests.unit.plugins.lookup.lookup_helpers import make_lookup

ROOT = Path(build_outputs.LIST_PATH).parents[2]
KMOD = ROOT / "files" / "kmod"
PATTERNS = build_outputs.load()


def source_files():
    """The driver's source: what git tracks under files/kmod."""
    if shutil.which("git") is None:
        pytest.skip("needs git")
    done = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--", "files/kmod"],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip("not a git checkout: " + done.stderr)
    files = sorted(Path(p).relative_to("files/kmod").as_posix() for p in done.stdout.split("\0") if p)
    assert "Makefile" in files and "build-outputs.txt" in files
    return files


def sample_name(pattern):
    """A name the pattern matches: each wildcard replaced by a letter."""
    name = re.sub(r"\[[^]]*\]", "x", pattern).replace("*", "x").replace("?", "x")
    assert build_outputs.is_build_output(name, [pattern]), pattern
    return name


def plant(top):
    """Every listed name under `top`: a file at the top, a directory with a file in src/."""
    for pattern in PATTERNS:
        name = sample_name(pattern)
        (top / name).write_bytes(b"output")
        (top / "src" / name).mkdir(parents=True)
        (top / "src" / name / "inner.rs").write_bytes(b"output")


def copy_source(dest):
    for rel in source_files():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(KMOD / rel, dest / rel)
    return dest


def files_under(top):
    return sorted(p.relative_to(top).as_posix() for p in top.rglob("*") if p.is_file() or p.is_symlink())


@pytest.fixture
def planted(tmp_path):
    top = copy_source(tmp_path / "kmod")
    plant(top)
    return top


# --- the list itself --------------------------------------------------------------

def test_the_list_names_what_a_build_leaves():
    for name in ("build", "roulette.ko", "roulette_rust.o", ".module-common.o", ".roulette.o.cmd",
                 "..module-common.o.cmd", "roulette.mod", "roulette.mod.c", "Module.symvers", "modules.order"):
        assert build_outputs.is_build_output(name), name


def test_no_source_file_is_build_output():
    for rel in source_files():
        assert not any(build_outputs.is_build_output(part) for part in rel.split("/")), rel


@pytest.mark.parametrize("line, says", [
    ("src/build", "'/'"),
    ("build/", "'/'"),
    ("!keep.o", "'!'"),
    ("a b", "' '"),
    ("%.o", "'%'"),
    ("..", "a path, not a name"),
])
def test_a_line_that_is_not_a_name_pattern_is_refused(line, says):
    with pytest.raises(build_outputs.BuildOutputsError, match=re.escape("list:3: %r is not a name pattern" % line)) as error:
        build_outputs.parse("# comment\n\n%s\n" % line, "list")
    assert says in str(error.value)


def test_an_empty_list_is_refused():
    with pytest.raises(build_outputs.BuildOutputsError, match="lists no pattern"):
        build_outputs.parse("# only a comment\n", "list")


def test_path_patterns():
    assert build_outputs.path_patterns("", ["*.ko"]) == ["*.ko", "*/*.ko", "*.ko/*", "*/*.ko/*"]
    assert build_outputs.path_patterns("files/kmod/", ["build"], contents=False) == [
        "files/kmod/build", "files/kmod/*/build"]


# --- the consumers --------------------------------------------------------------------

def test_tree_hash_leaves_out_every_listed_name(tmp_path, planted):
    clean = copy_source(tmp_path / "clean")
    assert tree_hash(str(planted)) == tree_hash(str(clean))


def test_the_source_tarball_leaves_out_every_listed_name(planted):
    archive = pytest.importorskip("ansible_collections.community.general.plugins.modules.archive")
    lookup = make_lookup(build_outputs_lookup, "rustkmod.roulette.build_outputs")
    patterns = lookup.run([])
    # What community.general.archive adds with path "TOP/*": every path below TOP, by its name
    # relative to TOP, unless an exclusion pattern matches that name.
    kept = [p.relative_to(planted).as_posix() for p in planted.rglob("*")
            if not archive.matches_exclusion_patterns(p.relative_to(planted).as_posix(), patterns)]
    assert sorted(p for p in kept if (planted / p).is_file()) == source_files()


def test_the_lookup_prefixes_each_pattern_with_each_term():
    lookup = make_lookup(build_outputs_lookup, "rustkmod.roulette.build_outputs")
    assert lookup.run(["a/", "b/"]) == build_outputs.path_patterns("a/") + build_outputs.path_patterns("b/")


def test_the_lookup_names_an_unreadable_list(monkeypatch):
    lookup = make_lookup(build_outputs_lookup, "rustkmod.roulette.build_outputs")
    monkeypatch.setattr(build_outputs, "load", lambda: build_outputs.parse("", "/nowhere/build-outputs.txt"))
    with pytest.raises(AnsibleLookupError, match="build_outputs: cannot read the list of build outputs: "
                                                 "/nowhere/build-outputs.txt lists no pattern"):
        lookup.run([])


def galaxy_ignore():
    return yaml.safe_load((ROOT / "galaxy.yml").read_text())["build_ignore"]


def test_galaxy_build_ignore_lists_every_name():
    missing = [p for p in build_outputs.path_patterns("files/kmod/", contents=False) if p not in galaxy_ignore()]
    assert missing == [], "add these to galaxy.yml build_ignore"


def test_the_collection_build_leaves_out_every_listed_name(tmp_path):
    galaxy = pytest.importorskip("ansible.galaxy.collection")
    collection = tmp_path / "collection"
    plant(copy_source(collection / "files" / "kmod"))
    manifest = galaxy._build_files_manifest_walk(bytes(collection), "rustkmod", "roulette", galaxy_ignore())
    files = sorted(entry["name"] for entry in manifest["files"] if entry["ftype"] == "file")
    assert files == ["files/kmod/" + rel for rel in source_files()]


def test_git_ignores_every_listed_name_and_no_source(tmp_path):
    repo = tmp_path / "repo"
    plant(copy_source(repo / "files" / "kmod"))
    shutil.copy(ROOT / ".gitignore", repo / ".gitignore")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    status = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=all"],
                            capture_output=True, text=True, check=True).stdout
    untracked = sorted(line[3:] for line in status.splitlines() if line.startswith("?? files/kmod/"))
    assert untracked == ["files/kmod/" + rel for rel in source_files()]


def test_make_clean_removes_every_listed_name_and_nothing_else(planted):
    if shutil.which("make") is None or shutil.which("find") is None:
        pytest.skip("needs make and find")
    done = subprocess.run(["make", "-s", "-C", str(planted), "clean", "KDIR=/nonexistent", "RUSTC=/nonexistent"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert files_under(planted) == source_files()
