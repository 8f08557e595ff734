# -*- coding: utf-8 -*-
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet_report action: runs on the controller, where the report is written.

The options and their documentation are in plugins/modules/fleet_report.py;
the report is made by plugin_utils (host_status decides each host's status,
report_data aggregates, report_files renders and writes).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase
from jinja2 import TemplateError

from ansible_collections.rustkmod.roulette.plugins.modules.fleet_report import ARGUMENT_SPEC
from ansible_collections.rustkmod.roulette.plugins.plugin_utils.report_data import build_report
from ansible_collections.rustkmod.roulette.plugins.plugin_utils.report_files import render_files, write_files


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def _arguments(self):
        """The task's arguments, validated against ARGUMENT_SPEC as validate_argument_spec does.

        The validation deep-copies every argument: with the records of a fleet in `hosts` that copy
        was most of the task's time (7 of 20 s at 1,000 hosts, bench/controller_bench.py). A `hosts`
        that is already a dict, which the validation would return as it is, stands aside: an empty
        dict is validated in its place (the same messages for everything else) and it is put back.
        """
        hosts = self._task.args.get("hosts")
        if not isinstance(hosts, Mapping):
            return self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
        args = dict(self._task.args, hosts={})
        validation = ArgumentSpecValidator(ARGUMENT_SPEC).validate(args)
        if validation.error_messages:
            msg = validation.errors.msg
            if isinstance(validation.errors[0], UnsupportedError):
                msg = f"Unsupported parameters for ({self._load_name}) module: {msg}"
            raise AnsibleActionFail(msg, obj=self._task.args)
        args.update(validation.validated_parameters, hosts=hosts)
        return args

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._arguments()
        dest = args["dest"]
        report = build_report(args["hosts"], failed_hosts=args["failed_hosts"], armed_hosts=args["armed_hosts"],
                              title=args["title"])
        try:
            files = render_files(report, template_dir=args["templates"])
        except (TemplateError, OSError, ValueError) as exc:
            result.update(failed=True, msg=f"cannot render the fleet report: {exc}")
            return result
        paths = {key: os.path.join(dest, name) for key, (name, _text) in files.items()}
        result.update(paths, dest=dest, summary=report["summary"], estimate=report["estimate"], rows=report["hosts"],
                      changed=False)
        if self._task.check_mode:
            return result
        try:
            result["changed"] = write_files(dest, files)
        except OSError as exc:
            result.update(failed=True, msg=f"cannot write the report into {dest}: {exc}")
        return result
