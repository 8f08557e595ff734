# -*- coding: utf-8 -*-
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The roulette_load action: runs on the controller, around the module of the same name.

With `src` (a module file on the controller), it transfers the file to the host's temporary
directory and hands the module that copy, with the SHA-256 of the controller's file, so that
the module installs exactly those bytes. Install, load and device node are then one module
run on the host, where the kmod_load role once made a directory, a copy (a stat and a copy
module run) and a node in calls of their own. Without `src` it only runs the module.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.rustkmod.roulette.plugins.plugin_utils.controller_files import file_sha256

MODULE = "rustkmod.roulette.roulette_load"


def not_installed(msg):
    """The task's result when the file could not be handed to the module: failed, nothing changed."""
    return {"failed": True, "changed": False, "installed": False, "step": "install",
            "msg": msg + "; nothing was installed"}


class ActionModule(ActionBase):
    # The temporary directory is made only when there is a file to transfer.
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        src = args.get("src")
        if src is None or self._task.check_mode:
            # Check mode transfers nothing: the module says that a real run loads.
            args.pop("src", None)
            args.pop("sha256", None)
            result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
            return result

        # Failures before the module runs are failures of the install (step "install", as the
        # module reports its own): nothing was changed on the host, nothing is to be undone.
        src = os.path.expanduser(str(src))
        if not os.path.isabs(src):
            return dict(result, **not_installed("src must be an absolute path to a module file on the controller, not %r" % src))
        try:
            sha256 = file_sha256(src)[0]
        except OSError as error:
            return dict(result, **not_installed("Reading %s on the controller failed: %s" % (src, error)))
        if args.get("sha256") not in (None, sha256):
            return dict(result, **not_installed("%s on the controller has SHA-256 %s, not the %s asked for"
                                                % (src, sha256, args["sha256"])))
        try:
            try:
                if self._connection._shell.tmpdir is None:
                    self._make_tmp_path()
                remote = self._connection._shell.join_path(self._connection._shell.tmpdir, "roulette.ko")
                self._transfer_file(src, remote)
                # Readable by the user become makes; nothing to execute.
                self._fixup_perms2((self._connection._shell.tmpdir, remote), execute=False)
            except AnsibleError as error:
                return dict(result, **not_installed("Transferring %s to the host failed: %s" % (src, error)))
            args.update(src=remote, sha256=sha256)
            result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
