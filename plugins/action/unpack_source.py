# -*- coding: utf-8 -*-
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The unpack_source action: runs on the controller, sends the archive, runs the module on the host.

The options and their documentation are in plugins/modules/unpack_source.py, and
so is the code that unpacks on the host. Here: the archive is found on the controller,
copied into the remote temporary directory and the module is run once with that copy
as src. The copy is made also when `creates` exists on the host: the module decides,
as asking the host first would be a call of its own.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.rustkmod.roulette.plugins.modules.unpack_source import ARGUMENT_SPEC


class ActionModule(ActionBase):
    # ActionBase.run makes the remote temporary directory for the copy.
    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # no longer has any effect
        tmpdir = self._connection._shell.tmpdir
        try:
            # Validated here to fail before the copy. The module gets the task's own dest and
            # creates: a path option is expanded (~, $VAR) where it is validated, on the host.
            args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
            try:
                source = self._find_needle("files", args["src"])
            except AnsibleError as error:
                raise AnsibleActionFail("The archive %s is not on the controller: %s" % (args["src"], error.message)) from error
            # Named as on the controller, so that the module's messages name the archive.
            remote_src = self._connection._shell.join_path(tmpdir, os.path.basename(source))
            self._transfer_file(source, remote_src)
            # Read, not run: execute=False spares the chmod u+x that would be one more command on the host.
            self._fixup_perms2((tmpdir, remote_src), execute=False)
            module_args = dict(self._task.args, src=remote_src)
            result.update(self._execute_module(module_name="rustkmod.roulette.unpack_source", module_args=module_args,
                                               task_vars=task_vars))
        finally:
            self._remove_tmp_path(tmpdir)
        return result
