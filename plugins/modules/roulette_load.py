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
  - With O(src), first installs that module file as O(module_path) (root's, mode C(0644), missing directories made
    with mode C(0755)), written beside it and renamed into place, after checking its SHA-256 against O(sha256).
  - Refreshes the module index of O(kernel) (C(depmod -a)), unloads a loaded C(roulette) when O(reload) says so,
    writes O(marker) to the kernel log (C(/dev/kmsg)), loads C(roulette) with O(params) (C(modprobe)), and returns
    the kernel log (C(dmesg)) and the driver's state after the load, the facts of M(rustkmod.roulette.roulette_info).
  - It does not decide whether to load; the kmod_load role does (filter C(load_plan)), and reads the major the
    driver registered from the kernel log after the marker (filter C(roulette_load)).
  - With O(node_mode), once the driver is loaded, creates its device node O(device) (character device of the
    driver's major, minor 0, root's, with that mode) when nothing is at that path. Whatever is there is left as it
    is, for the kmod_load role to judge.
  - One call to the host for what were eight tasks (the module's directory, its copy, depmod, marker, modprobe,
    dmesg, roulette_info, mknod), each a module run of a few seconds on an emulated host.
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
      - As for M(rustkmod.roulette.roulette_info), for the state after the load; where O(src) is installed.
      - Required with O(src).
    type: path
  src:
    description:
      - A module file to install as O(module_path) before the load. In a task, a file on the controller, which the action
        plugin transfers to a temporary file on the host, checks the copy against the controller's SHA-256 and
        removes it afterwards. Called as a module, a file on the host.
      - Nothing is installed when the file's SHA-256 is not O(sha256), and nothing else is done then.
      - Temporary files of an install cut short (C(.roulette.ko.*) beside O(module_path)) are removed.
    type: path
  sha256:
    description:
      - The SHA-256 that O(src) must have. Required with O(src); the action plugin fills it in from the controller's
        file when it is not given, and refuses a O(src) of another SHA-256 when it is.
    type: str
  node_mode:
    description:
      - Mode of the device node made after the load (V(0600)), as octal digits. Without it no node is made.
      - A node that cannot be made (a read-only C(/dev)) is not an error here; RV(node_error) says why.
    type: str
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
      - Nothing is run nor transferred; the module reports a change (a real run loads) and returns no facts.
  diff_mode:
    support: none
    description:
      - Nothing to show as a diff.
  platform:
    support: full
    platforms: posix
    description:
      - Linux with C(kmod) (depmod, modprobe).
  action:
    support: full
    description:
      - The action plugin transfers O(src) from the controller.
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

- name: Install the controller's roulette.ko, load it, make the device node
  rustkmod.roulette.roulette_load:
    kernel: "{{ ansible_facts['kernel'] }}"
    src: /var/cache/roulette/roulette.ko
    module_path: "/lib/modules/{{ ansible_facts['kernel'] }}/extra/roulette.ko"
    params: chance=0
    marker: "loading roulette, run 43"
    node_mode: "0600"
  become: true
"""

RETURN = r"""
installed:
  description: Whether O(src) was installed as O(module_path).
  returned: when not in check mode
  type: bool
node_created:
  description: Whether the device node was made (O(node_mode)).
  returned: when the load succeeded, not in check mode
  type: bool
node_error:
  description: Why the device node could not be made, or null.
  returned: when the load succeeded, not in check mode
  type: str
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
import re
import shutil
import stat
import tempfile
import shlex

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.rustkmod.roulette.plugins.module_utils.directories import make_dirs
from ansible_collections.rustkmod.roulette.plugins.module_utils.dkms import status_output
from ansible_collections.rustkmod.roulette.plugins.module_utils.driver_state import STATE_OPTIONS, DriverState
from ansible_collections.rustkmod.roulette.plugins.module_utils.roulette import DRIVER_NAME

KMSG = "/dev/kmsg"
ENVIRONMENT = {"LC_ALL": "C"}
# Temporary files of an install, beside the module file: no name depmod takes for a module.
TMP_PREFIX = ".roulette.ko."
SHA256 = re.compile(r"^[0-9a-f]{64}$")
MODE = re.compile(r"^0?[0-7]{3}$")


# The module file's hash as roulette_info reckons it (a regular file, not followed), bound here
# so that the module's tests can stand in a fake driver state.
file_sha256 = DriverState.sha256


class InstallError(Exception):
    """The module file could not be installed; nothing was changed."""


def install(src, dest, sha256):
    """Install the module file `src` as `dest` (0644, root's when run as root), in one rename.

    `src` is checked against `sha256` first; a temporary file that an install cut short left
    beside `dest` is removed. Raises InstallError before changing anything when `src` is not
    that file or `dest`'s directory cannot be made.
    """
    found = file_sha256(src)
    if found is None:
        raise InstallError("%s is not a readable regular file" % src)
    if found != sha256:
        raise InstallError("%s has SHA-256 %s, not %s" % (src, found, sha256))
    directory = os.path.dirname(dest)
    try:
        make_dirs(directory)
    except OSError as error:
        raise InstallError("making the directory %s failed: %s" % (directory, error)) from error
    for name in os.listdir(directory):
        if name.startswith(TMP_PREFIX):
            os.unlink(os.path.join(directory, name))
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=directory)
    try:
        with os.fdopen(fd, "wb") as out, open(src, "rb") as data:
            shutil.copyfileobj(data, out)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        if os.geteuid() == 0:
            os.chown(tmp, 0, 0)
        os.replace(tmp, dest)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise


def make_node(device, major, mode):
    """Make the driver's character device node (minor 0, `mode`) at `device` when nothing is there.

    Returns (made, error): whatever is at the path is left as it is (made False, error None).
    """
    try:
        os.mknod(device, stat.S_IFCHR | mode, os.makedev(major, 0))
    except FileExistsError:
        return False, None
    except OSError as error:
        return False, "mknod %s failed: %s" % (device, error)
    os.chmod(device, mode)
    return True, None


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
                           marker={"type": "str", "required": True},
                           src={"type": "path"},
                           sha256={"type": "str"},
                           node_mode={"type": "str"}),
        required_by={"src": ("sha256", "module_path")},
        supports_check_mode=True,
    )
    params = module.params
    if params["sha256"] is not None and not SHA256.match(params["sha256"]):
        module.fail_json(msg="sha256 must be 64 lowercase hexadecimal digits, not %r" % params["sha256"])
    if params["node_mode"] is not None and not MODE.match(params["node_mode"]):
        module.fail_json(msg="node_mode must be an octal mode such as 0600, not %r" % params["node_mode"])
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
                             rc=rc, stdout=out, stderr=err, step=step, dmesg=log, changed=installed or step != "depmod",
                             installed=installed)

    installed = False
    if params["src"] is not None:
        try:
            install(params["src"], params["module_path"], params["sha256"])
        except (InstallError, OSError) as error:
            module.fail_json(msg="Installing %s as %s failed: %s; the module file there is as it was" % (params["src"], params["module_path"], error),
                             step="install", changed=False, installed=False)
        installed = True

    run("depmod", [module.get_bin_path("depmod", required=True), "-a", params["kernel"]])
    if params["reload"]:
        run("unload", [modprobe, "-r", DRIVER_NAME])
    try:
        mark(params["marker"])
    except OSError as error:
        module.fail_json(msg="Writing the marker to %s failed: %s" % (KMSG, error), changed=installed, installed=installed)
    run("load", [modprobe, DRIVER_NAME] + shlex.split(params["params"]))

    rc, log, err = module.run_command([dmesg], environ_update=ENVIRONMENT)
    if rc != 0:
        module.fail_json(msg="dmesg failed after the load (rc=%d): %s" % (rc, err.strip()), changed=True)
    state = DriverState()
    facts = state.facts(params["device"], params["module_path"], params["paths"], dkms_status=status_output(module))
    node_created, node_error = False, None
    if params["node_mode"] is not None and facts["major"] is not None and not facts["node"]["exists"]:
        node_created, node_error = make_node(params["device"], facts["major"], int(params["node_mode"], 8))
        if node_created:
            facts["node"] = state.node(params["device"])
    module.exit_json(changed=True, dmesg=log, installed=installed, node_created=node_created, node_error=node_error,
                     ansible_facts={"roulette_info": facts})


if __name__ == "__main__":
    main()
