# -*- coding: utf-8 -*-
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fetch_checked action: runs on the controller, which receives the file.

The options and their documentation are in plugins/modules/fetch_checked.py. The file
comes through the connection's own transfer (connection.fetch_file: sftp or scp as the
login user for ssh), so no module runs on the host unless the sha256 is not given, when
one ansible.builtin.stat asks the host for it. ansible.builtin.fetch runs a module in
every case (stat, or slurp under become), seconds each on an emulated host.
"""

from __future__ import annotations

import os
import re
import tempfile

from ansible.errors import AnsibleActionFail, AnsibleConnectionFailure, AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.rustkmod.roulette.plugins.modules.fetch_checked import ARGUMENT_SPEC
from ansible_collections.rustkmod.roulette.plugins.plugin_utils.controller_files import file_sha256

SHA256 = re.compile(r"[0-9a-f]{64}")
OCTAL_MODE = re.compile(r"[0-7]{3,4}")


def parse_mode(value):
    """The mode option as a number: octal digits in a string, or an integer taken as it is
    (YAML reads an unquoted 0644 as the integer 420, which is that mode already)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0o7777:
        return value
    if isinstance(value, str) and OCTAL_MODE.fullmatch(value):
        return int(value, 8)
    raise AnsibleActionFail("mode must be octal digits such as '0644' (quoted), not %r" % (value,))


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def _options(self):
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
        src, dest = args["src"], args["dest"]
        expected = (args["sha256"] or "").strip().lower()
        if not src.startswith("/"):
            raise AnsibleActionFail("src must be an absolute path on the host, not %r" % src)
        if not os.path.isabs(dest):
            raise AnsibleActionFail("dest must be an absolute path on the controller, not %r" % dest)
        if dest.endswith(os.sep) or os.path.isdir(dest):
            raise AnsibleActionFail("dest must name a file, not a directory: %r" % dest)
        if expected and not SHA256.fullmatch(expected):
            raise AnsibleActionFail("sha256 must be 64 hexadecimal digits (or empty, to ask the host), not %r"
                                    % args["sha256"])
        return src, dest, expected, parse_mode(args["mode"])

    def _sha256_on_host(self, src, host, task_vars):
        """(sha256, None) of src as ansible.builtin.stat reads it on the host, or (None, why not)."""
        try:
            stat = self._execute_module(
                module_name="ansible.builtin.stat",
                module_args={"path": src, "follow": True, "get_checksum": True, "checksum_algorithm": "sha256",
                             "get_mime": False, "get_attributes": False},
                task_vars=task_vars)
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        info = stat.get("stat") or {}
        if stat.get("failed"):
            return None, "cannot stat %s on %s: %s" % (src, host, stat.get("msg") or stat.get("module_stderr", ""))
        if not info.get("exists"):
            return None, "%s does not exist on %s" % (src, host)
        if info.get("isdir"):
            return None, "%s on %s is a directory; fetch_checked fetches one file" % (src, host)
        if not info.get("checksum"):
            return None, "%s on %s cannot be read by the user the stat ran as" % (src, host)
        return info["checksum"], None

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # no effect; the connection's tmpdir is used
        task_vars = task_vars or {}
        src, dest, expected, mode = self._options()
        host = task_vars.get("inventory_hostname", self._play_context.remote_addr)
        result.update(src=src, dest=dest, changed=False)
        if self._task.check_mode:
            result["changed"] = True
            return result

        if not expected:
            expected, problem = self._sha256_on_host(src, host, task_vars)
            if problem:
                result.update(failed=True, msg=problem)
                return result

        directory = os.path.dirname(dest)
        part = None
        try:
            os.makedirs(directory, exist_ok=True)
            fd, part = tempfile.mkstemp(prefix=".%s." % os.path.basename(dest), suffix=".part", dir=directory)
            os.close(fd)
            self._connection.fetch_file(src, part)
            fetched, size = file_sha256(part)
            if fetched != expected:
                result.update(failed=True, sha256=fetched, expected_sha256=expected,
                              msg="%s fetched from %s has sha256 %s, not the expected %s; %s was not written"
                                  % (src, host, fetched, expected, dest))
                return result
            os.chmod(part, mode)
            os.replace(part, dest)
            part = None
        except AnsibleConnectionFailure:
            raise  # the host is unreachable, not the file unreadable
        except AnsibleError as exc:
            result.update(failed=True, msg="cannot fetch %s from %s as the login user: %s" % (src, host, exc))
            return result
        except OSError as exc:
            result.update(failed=True, msg="cannot write %s on the controller: %s" % (dest, exc))
            return result
        finally:
            if part is not None:
                try:
                    os.unlink(part)
                except FileNotFoundError:
                    pass
        result.update(changed=True, sha256=fetched, size=size)
        return result
