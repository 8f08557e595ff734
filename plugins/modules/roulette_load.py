#!/usr/bin/python
# ruff: noqa: EXE001 - ansible-test wants modules not executable, with this shebang
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: roulette_load
short_description: Loads the roulette kernel module and reads what the load wrote, in one call
version_added: 1.0.0
description:
  - Refreshes the module index of O(kernel) (C(depmod -a)), unloads a loaded C(roulette) when O(reload) says so,
    writes O(marker) to the kernel log (C(/dev/kmsg)), loads C(roulette) with O(params) (C(modprobe)), and returns
    the kernel log (C(dmesg)) and the driver's state after the load, the facts of M(rustkmod.roulette.roulette_info).
  - It does not decide whether to load; the kmod_load role does (filter C(load_plan)), and reads the major the
    driver registered from the kernel log after the marker (filter C(roulette_load)).
  - One call to the host for what were five tasks (depmod, marker, modprobe, dmesg, roulette_info), each a module
    run of a few seconds on an emulated host.
author:
  - rustkmod.roulette maintainers (@rustkmod)
options:
  kernel:
    description:
      - Kernel release whose module index C(depmod -a) refreshes (the running kernel's, for a load).
    type: str
    required: true
  params:
    description:
      - Module parameters, as C(modprobe) takes them after the module's name (V(chance=0)); split like a shell line.
    type: str
    default: ""
  reload:
    description:
      - Unload a loaded C(roulette) (C(modprobe -r)) before the load. Without it, a loaded C(roulette) stays as it is
        and C(modprobe) does nothing.
    type: bool
    default: false
  marker:
    description:
      - A line written to the kernel log just before the load, so that the load's own messages can be told from
        earlier ones.
    type: str
    required: true
  device:
    description:
      - As for M(rustkmod.roulette.roulette_info), for the state after the load.
    type: path
    default: /dev/kernel-roulette
  module_path:
    description:
      - As for M(rustkmod.roulette.roulette_info), for the state after the load.
    type: path
  paths:
    description:
      - As for M(rustkmod.roulette.roulette_info), for the state after the load.
    type: list
    elements: path
    default: []
attributes:
  check_mode:
    support: full
    description:
      - Nothing is run; the module reports a change (a real run loads) and returns no facts.
  diff_mode:
    support: none
    description:
      - Nothing to show as a diff.
  platform:
    support: full
    platforms: posix
    description:
      - Linux with C(kmod) (depmod, modprobe).
seealso:
  - module: rustkmod.roulette.roulette_info
"""

EXAMPLES = r"""
- name: Load roulette with chance 0
  rustkmod.roulette.roulette_load:
    kernel: "{{ ansible_facts['kernel'] }}"
    params: chance=0
    marker: "loading roulette, run 42"
  become: true
  register: loaded
"""

RETURN = r"""
dmesg:
  description: The kernel log after the load, as C(dmesg) prints it (also when the load failed).
  returned: when not in check mode
  type: str
ansible_facts:
  description: Facts about the driver after the load.
  returned: when the load succeeded, not in check mode
  type: complex
  contains:
    roulette_info:
      description: What M(rustkmod.roulette.roulette_info) returns.
      returned: when the load succeeded, not in check mode
      type: dict
"""

import os
import shlex

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.rustkmod.roulette.plugins.module_utils.dkms import status_output
from ansible_collections.rustkmod.roulette.plugins.module_utils.driver_state import STATE_OPTIONS, DriverState
from ansible_collections.rustkmod.roulette.plugins.module_utils.roulette import DRIVER_NAME

KMSG = "/dev/kmsg"
ENVIRONMENT = {"LC_ALL": "C"}


def mark(marker, kmsg=KMSG):
    """Write the marker line to the kernel log."""
    with open(kmsg, "w") as log:
        log.write(marker.replace("\n", " ") + "\n")


def main():
    module = AnsibleModule(
        argument_spec=dict(STATE_OPTIONS,
                           kernel={"type": "str", "required": True},
                           params={"type": "str", "default": ""},
                           reload={"type": "bool", "default": False},
                           marker={"type": "str", "required": True}),
        supports_check_mode=True,
    )
    params = module.params
    if module.check_mode:
        module.exit_json(changed=True)
    dmesg = module.get_bin_path("dmesg", required=True)
    modprobe = module.get_bin_path("modprobe", required=True)

    def run(step, argv):
        """Run one command of the load; a failure ends the module with its words and the kernel log."""
        rc, out, err = module.run_command(argv, environ_update=ENVIRONMENT)
        if rc != 0:
            _rc, log, _err = module.run_command([dmesg], environ_update=ENVIRONMENT)
            module.fail_json(msg="%s failed (rc=%d): %s" % (" ".join([os.path.basename(argv[0])] + argv[1:]), rc, (err or out).strip()),
                             rc=rc, stdout=out, stderr=err, step=step, dmesg=log, changed=step != "depmod")

    run("depmod", [module.get_bin_path("depmod", required=True), "-a", params["kernel"]])
    if params["reload"]:
        run("unload", [modprobe, "-r", DRIVER_NAME])
    try:
        mark(params["marker"])
    except OSError as error:
        module.fail_json(msg="Writing the marker to %s failed: %s" % (KMSG, error))
    run("load", [modprobe, DRIVER_NAME] + shlex.split(params["params"]))

    rc, log, err = module.run_command([dmesg], environ_update=ENVIRONMENT)
    if rc != 0:
        module.fail_json(msg="dmesg failed after the load (rc=%d): %s" % (rc, err.strip()), changed=True)
    facts = DriverState().facts(params["device"], params["module_path"], params["paths"],
                                dkms_status=status_output(module))
    module.exit_json(changed=True, dmesg=log, ansible_facts={"roulette_info": facts})


if __name__ == "__main__":
    main()
