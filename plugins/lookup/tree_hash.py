# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
name: tree_hash
short_description: Hash of a directory tree on the controller
version_added: 0.1.0
description:
  - Returns the SHA-256 of the relative paths, modes and contents of every file
    under each given directory, skipping build output (the names that the driver's
    C(files/kmod/build-outputs.txt) lists, see the build_outputs lookup) and C(.git).
  - The kmod_build role keys its build cache with it.
  - A file that is a symbolic link is hashed as the file it points to. Anything else that is not a regular
    file (a FIFO, a socket, a device, a symbolic link to nothing or to a directory) and a directory that
    cannot be read are errors naming the path, so that no part of the source is silently left out of the
    hash and the lookup never waits on a FIFO.
  - The executable bit is that of the file's mode (any of user, group, other), whoever runs the lookup.
options:
  _terms:
    description: Directories to hash.
    required: true
author: rustkmod.roulette maintainers (@rustkmod)
"""

EXAMPLES = r"""
- name: Hash the driver source as the build cache keys it
  ansible.builtin.debug:
    msg: "{{ lookup('rustkmod.roulette.tree_hash', playbook_dir ~ '/../files/kmod') }}"
"""

RETURN = r"""
_raw:
  description: One hex digest per directory.
  type: list
  elements: str
"""

import hashlib
import os

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.rustkmod.roulette.plugins.plugin_utils.build_outputs import BuildOutputsError, is_build_output
from ansible_collections.rustkmod.roulette.plugins.plugin_utils.controller_files import open_regular

# Not build output, not source either: a git checkout's metadata (kmod_build_source: git).
VCS_DIRS = {".git"}
_CHUNK = 1024 * 1024


class TreeHashError(Exception):
    """A path under the tree that cannot be hashed faithfully."""


def _walk_error(error):
    raise TreeHashError("%s: %s" % (error.filename, error.strerror or error))


def _file_digest(path):
    """(executable, sha256 digest) of a regular file, or a symbolic link to one; TreeHashError otherwise."""
    try:
        with open_regular(path) as handle:
            executable = bool(os.fstat(handle.fileno()).st_mode & 0o111)
            digest = hashlib.sha256()
            for chunk in iter(lambda: handle.read(_CHUNK), b""):
                digest.update(chunk)
    except OSError as exc:
        # NotRegularFileError (a FIFO, a socket, a device, a link to nothing) names the path itself.
        raise TreeHashError(str(exc) if exc.filename is None else "%s: %s" % (path, exc.strerror or exc)) from exc
    return executable, digest.digest()


def tree_hash(top):
    """SHA-256 over the relative path, executable bit and content of every file under `top`.

    Build output (build_outputs.is_build_output: files and directories by name)
    and VCS_DIRS are left out. Raises TreeHashError for
    what cannot be hashed: a directory that cannot be read, a symbolic link to
    a directory (not followed, so its files would silently be left out), and
    anything that is not a regular file or a link to one.
    """
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(top, onerror=_walk_error):
        dirs[:] = sorted(d for d in dirs if d not in VCS_DIRS and not is_build_output(d))
        for name in dirs:
            path = os.path.join(root, name)
            if os.path.islink(path):
                raise TreeHashError("%s is a symbolic link to a directory, which tree_hash does not follow" % path)
        for name in sorted(files):
            if is_build_output(name):
                continue
            path = os.path.join(root, name)
            executable, content = _file_digest(path)
            digest.update(os.path.relpath(path, top).encode("utf-8") + b"\0")
            digest.update(b"x" if executable else b"-")
            digest.update(content)
    return digest.hexdigest()


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        results = []
        for term in terms:
            if not os.path.isdir(term):
                raise AnsibleLookupError("tree_hash: %s is not a directory" % term)
            try:
                results.append(tree_hash(term))
            except TreeHashError as exc:
                raise AnsibleLookupError("tree_hash: cannot hash %s: %s" % (term, exc)) from exc
            except (OSError, BuildOutputsError) as exc:
                raise AnsibleLookupError("tree_hash: cannot read the list of build outputs: %s" % exc) from exc
        return results
