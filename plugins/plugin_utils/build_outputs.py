# -*- coding: utf-8 -*-
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The driver's build outputs, as files/kmod/build-outputs.txt lists them.

Runs on the controller, in ansible-core's Python: the tree_hash lookup leaves
these names out of the source hash, and the build_outputs lookup turns them into
the path patterns that community.general.archive (kmod_build's source tarball)
and galaxy.yml's build_ignore take. The driver's Makefile reads the same file
for `make clean`.

A pattern is a shell wildcard matched against one file or directory name, at
any depth; a matching directory counts with everything below it.
"""

from __future__ import annotations

import fnmatch
import functools
import os

LIST_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                         "files", "kmod", "build-outputs.txt")
# Characters a pattern may not hold: path separators, whitespace, and what the
# consumers would read otherwise (make's %, the shell's quotes, gitignore's ! and \).
_FORBIDDEN = set("/\\%'\"!`$") | set(" \t\r\n\v\f")


class BuildOutputsError(ValueError):
    """The list has a line that is not a plain name pattern."""


def parse(text, source="build-outputs.txt"):
    """The patterns of a list's text, in order; BuildOutputsError for a bad line."""
    patterns = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        bad = sorted(set(line) & _FORBIDDEN)
        if bad or line in (".", ".."):
            raise BuildOutputsError("%s:%d: %r is not a name pattern (%s)" % (
                source, number, line, "has " + " ".join(repr(c) for c in bad) if bad else "a path, not a name"))
        patterns.append(line)
    if not patterns:
        raise BuildOutputsError("%s lists no pattern" % source)
    return tuple(patterns)


@functools.lru_cache(maxsize=None)
def load(path=LIST_PATH):
    """The patterns of the list at `path` (default: the collection's own)."""
    with open(path, encoding="utf-8") as handle:
        return parse(handle.read(), path)


def is_build_output(name, patterns=None):
    """Whether a file or directory of this name (not a path) is build output."""
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in (load() if patterns is None else patterns))


def path_patterns(prefix="", patterns=None, contents=True):
    """fnmatch patterns over paths relative to a tree, for consumers that match whole
    paths: each name at the top of `prefix` and at any depth below it (fnmatch's `*`
    matches `/` too, so `*/NAME` is NAME at any depth) and, with `contents`, what a
    directory of that name holds. community.general.archive needs the contents (it
    looks at every path); ansible-galaxy's build_ignore does not (it does not walk
    into a directory it leaves out). Since `*` reaches across directories, a path
    pattern can match more than the name pattern (`*/.*.cmd` matches `.d/x.cmd`);
    the unit tests check that no file of the driver's source is matched."""
    forms = ("%s", "*/%s", "%s/*", "*/%s/*") if contents else ("%s", "*/%s")
    return [prefix + form % pattern for pattern in (load() if patterns is None else patterns) for form in forms]
