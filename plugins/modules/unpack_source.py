#!/usr/bin/python
# ruff: noqa: EXE001 - ansible-test wants modules not executable, with this shebang
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Runs on the host. The action plugin of the same name (plugins/action/unpack_source.py)
# copies the archive from the controller into the host's temporary directory and runs
# this module once, with O(src) set to that copy.

from __future__ import annotations

DOCUMENTATION = r"""
module: unpack_source
short_description: Unpacks a source archive from the controller into a new directory on the host, in one module run
version_added: 1.0.0
description:
  - Copies O(src), a gzip-compressed tar archive on the controller, to the host and unpacks it into O(dest) with
    C(tar), unless O(creates) exists on the host.
  - O(dest) appears whole or not at all. The archive is unpacked into a new directory beside O(dest)
    (C(.NAME.unpack-*)), which is renamed to O(dest) once C(tar) has succeeded; a failure removes it. A run cut
    short (the controller killed, the host lost) leaves no half-unpacked O(dest), at most that hidden directory.
  - Before anything is written, the archive's member list is read; a member that would be written outside
    O(dest) (an absolute name, a C(..) component, a link whose target is absolute or has a C(..) component) or
    that is not a file, a directory or a link refuses the whole archive.
  - The archive is copied also when O(creates) exists on the host. Asking the host first would cost a call of its
    own; copying an archive of a few tens of KB costs less.
  - It does in one module run what M(ansible.builtin.file) and M(ansible.builtin.unarchive) did in two, plus the
    remote stat of M(ansible.builtin.unarchive) and its three C(tar) runs (list, compare, extract).
author:
  - rustkmod.roulette maintainers (@rustkmod)
options:
  src:
    description:
      - The archive on the controller, a C(.tar.gz). A relative path is looked for as
        M(ansible.builtin.copy) looks for its source (the role's C(files/) first).
    type: path
    required: true
  dest:
    description:
      - The directory on the host to unpack into, an absolute path. Its missing parents are created, with mode C(0755), and so is
        O(dest) itself.
      - It must not exist yet, or be an empty directory; a directory with files in it (and no O(creates)) is
        refused rather than mixed with the archive.
    type: path
    required: true
  creates:
    description:
      - A path on the host; when it exists, nothing is unpacked and the task reports no change.
      - O(dest) is renamed into place only when complete, so any file of the archive inside O(dest) will do.
    type: path
attributes:
  action:
    support: full
    description:
      - The action plugin of the same name copies the archive to the host and runs the module.
  async:
    support: none
    description:
      - Not for async.
  check_mode:
    support: full
    description:
      - The archive is copied and its members are checked; nothing is unpacked, and the task reports a change
        unless O(creates) exists.
  diff_mode:
    support: none
    description:
      - Nothing to show as a diff.
  platform:
    support: full
    platforms: posix
    description:
      - A host with GNU C(tar) and C(gzip).
notes:
  - C(tar) runs with C(--no-same-owner); the files belong to the user the module runs as, not to the archive's owners.
seealso:
  - module: ansible.builtin.unarchive
"""

EXAMPLES = r"""
- name: Unpack the driver's source into its build tree
  rustkmod.roulette.unpack_source:
    src: "{{ playbook_dir }}/files/roulette-source.tar.gz"
    dest: /var/lib/rustkmod-roulette/build/0123abcd/src
    # Any file of the archive: dest appears only when complete.
    creates: /var/lib/rustkmod-roulette/build/0123abcd/src/Makefile
  become: true
"""

RETURN = r"""
dest:
  description: The directory unpacked into (or that would be, in check mode).
  returned: always
  type: str
  sample: /var/lib/rustkmod-roulette/build/0123abcd/src
"""

import os
import shutil
import tarfile
import tempfile
import zlib

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.rustkmod.roulette.plugins.module_utils.directories import make_dirs

ARGUMENT_SPEC = {
    "src": {"type": "path", "required": True},
    "dest": {"type": "path", "required": True},
    "creates": {"type": "path"},
}
ENVIRONMENT = {"LANG": "C", "LC_ALL": "C"}
DIRECTORY_MODE = 0o755


def has_parent_step(path):
    """Whether an archive path is absolute or has a `..` component."""
    return path.startswith("/") or ".." in path.split("/")


def member_problem(member):
    """Why `member` could be written outside the directory it is unpacked into, or None.

    Names and hard link targets (archive paths) are refused when absolute or with `..`;
    symbolic links too, by their target: then no link leads upwards, and no chain of
    links can lead out either, which a check of each target as a path on its own would
    miss (a link `d -> .` makes `d/x -> ../y` point out).
    """
    if has_parent_step(member.name):
        return "its name is absolute or goes up (..)"
    if (member.issym() or member.islnk()) and has_parent_step(member.linkname):
        return "it links to %s, which is absolute or goes up (..)" % member.linkname
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        return "it is not a file, a directory or a link"
    return None


def archive_problem(path):
    """Why the archive at `path` must not be unpacked (a member's name and problem), or None.

    tarfile reads the list only, with no extraction filter (those came after Python 3.9).
    """
    with tarfile.open(path, "r:gz") as archive:
        for member in archive:
            problem = member_problem(member)
            if problem:
                return "%s: %s" % (member.name, problem)
    return None


class SourceUnpacker:
    """Unpacks the archive src into dest, whole or not at all."""

    def __init__(self, module):
        self.module = module
        self.src = module.params["src"]
        self.dest = module.params["dest"].rstrip("/") or "/"
        self.creates = module.params["creates"]

    def fail(self, what, **result):
        self.module.fail_json(msg="%s (archive %s, on the host into %s)" % (what, self.src, self.dest),
                              dest=self.dest, **result)

    def run(self):
        if self.creates and os.path.exists(self.creates):
            self.module.exit_json(changed=False, dest=self.dest)
        try:
            problem = archive_problem(self.src)
        except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
            self.fail("Cannot read the archive: %s" % error)
        if problem:
            self.fail("Refusing the archive, nothing was written: %s" % problem)
        self.check_dest()
        if self.module.check_mode:
            self.module.exit_json(changed=True, dest=self.dest)
        parent = os.path.dirname(self.dest)
        self.make_directories(parent)
        self.unpack_beside(parent)
        self.module.exit_json(changed=True, dest=self.dest)

    def check_dest(self):
        """dest must be absolute, and missing or an empty directory (the rename replaces it): nothing to lose."""
        if not os.path.isabs(self.dest):
            self.fail("The destination must be an absolute path")
        if not os.path.lexists(self.dest):
            return
        if not os.path.isdir(self.dest) or os.path.islink(self.dest):
            self.fail("The destination exists and is not a directory (or is a symbolic link)")
        try:
            entries = os.listdir(self.dest)
        except OSError as error:
            self.fail("Cannot read the destination: %s" % error)
        if entries:
            self.fail("The destination is a directory with files in it, without %s; remove it to unpack again" % self.creates
                      if self.creates else "The destination is a directory with files in it; remove it to unpack again")

    def make_directories(self, path):
        """Create `path` and its missing parents, each with mode 0755 whatever the umask."""
        try:
            make_dirs(path, DIRECTORY_MODE)
        except FileExistsError as error:
            self.fail("Cannot create %s: a file is in the way" % error.filename)
        except OSError as error:
            self.fail("Cannot create %s: %s" % (error.filename, error))

    def unpack_beside(self, parent):
        """tar into a new directory in dest's parent, then rename it to dest.

        tar writes the members in the archive's order, so a tar cut short can leave a tree with
        creates in it (Makefile) and other files missing; a later run would take it as complete.
        A rename within one directory is atomic: dest is whole or absent.
        """
        try:
            work = tempfile.mkdtemp(prefix=".%s.unpack-" % os.path.basename(self.dest), dir=parent)
        except OSError as error:
            self.fail("Cannot create a directory in %s: %s" % (parent, error))
        try:
            tar = self.module.get_bin_path("tar", required=True)
            rc, out, err = self.module.run_command([tar, "--no-same-owner", "-xzf", self.src, "-C", work])
            if rc != 0:
                self.fail("tar failed (rc=%d): %s" % (rc, (err or out).strip()), rc=rc, stdout=out, stderr=err)
            try:
                os.chmod(work, DIRECTORY_MODE)
                os.rename(work, self.dest)
            except OSError as error:
                self.fail("Cannot move the unpacked tree %s to the destination: %s" % (work, error))
        finally:
            # After a failure (fail_json exits through here too); after the rename it is gone.
            if os.path.isdir(work):
                shutil.rmtree(work, ignore_errors=True)


def build_module():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run_command_environ_update = ENVIRONMENT
    return module


def main():
    SourceUnpacker(build_module()).run()


if __name__ == "__main__":
    main()
