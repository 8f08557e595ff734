#!/usr/bin/python
# ruff: noqa: EXE001 - ansible-test wants modules not executable, with this shebang
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The work is done on the controller by the action plugin of the same name
# (plugins/action/fetch_checked.py); this file holds its documentation and its
# argument spec, which the action validates against.

from __future__ import annotations

DOCUMENTATION = r"""
module: fetch_checked
short_description: Fetch one file from the host with the connection's own transfer, checked against its sha256
version_added: 1.0.0
description:
  - Copies one file from the host to the controller with the connection's file transfer (sftp or scp for
    ssh, a copy for local and chroot connections), without running a module on the host when the file's
    sha256 is given. On an emulated host each module run costs seconds, the transfer itself far less.
  - The file is written to a temporary file in the directory of O(dest), its sha256 computed on the
    controller and compared with O(sha256); only a file with that sum is renamed onto O(dest), in one step.
    On a mismatch the temporary file is removed, O(dest) is left as it was, and the task fails.
  - The transfer runs as the login user (C(ansible_user)) whatever the task's C(become) says; the connection
    transfers files without privilege escalation. A file the login user cannot read fails the task with the
    connection's error; fetch it then with M(ansible.builtin.fetch), which reads it with privileges.
author:
  - rustkmod.roulette maintainers (@rustkmod)
options:
  src:
    description:
      - Absolute path of the file on the host. Symbolic links are followed.
    type: str
    required: true
  dest:
    description:
      - Absolute path of the file to write on the controller; its directory is created when missing.
      - An existing file there is replaced, once the fetched copy has the expected sum.
    type: path
    required: true
  sha256:
    description:
      - The sha256 that O(src) has, as 64 hexadecimal digits, for example printed by the command that made the
        file. The fetched copy must have it.
      - When empty or left out, it is asked from the host with one run of M(ansible.builtin.stat)
        (with the task's C(become)), so that the same task serves whether the sum is known or not.
    type: str
    default: ""
  mode:
    description:
      - Permissions of O(dest), in octal (V("0644")); an integer is taken as the mode's number itself.
    type: raw
    default: "0644"
attributes:
  action:
    support: full
    description:
      - Runs on the controller as an action plugin; only the transfer (and the stat, when O(sha256) is not given)
        reaches the host.
  async:
    support: none
    description:
      - Not for async.
  check_mode:
    support: full
    description:
      - Nothing is asked from the host and nothing is fetched; the task reports a change, which a real run makes.
  diff_mode:
    support: none
    description:
      - The fetched file is not diffed.
  facts:
    support: none
    description:
      - Returns the file's path, sum and size, no facts.
notes:
  - The file is always fetched (the task reports C(changed)), even when O(dest) already has the same content.
  - A controller killed during the transfer leaves the temporary file, named after O(dest) with a leading dot and
    ending in C(.part), in the directory of O(dest).
seealso:
  - module: ansible.builtin.fetch
  - module: ansible.builtin.stat
"""

EXAMPLES = r"""
- name: Build, printing the module's sha256 after it
  ansible.builtin.command:
    argv: [sh, -c, 'make -C /srv/build >/srv/build/log 2>&1 || exit; sha256sum </srv/build/roulette.ko']
    creates: /srv/build/roulette.ko
  register: build

- name: Fetch the module, checked against the sum make's host computed (asked from the host when make did not run)
  rustkmod.roulette.fetch_checked:
    src: /srv/build/roulette.ko
    dest: "{{ playbook_dir }}/modules/{{ inventory_hostname }}/roulette.ko"
    sha256: "{{ (build.stdout | default('')).split(' ')[0] }}"
  become: false
  register: fetched

- name: Say what was fetched
  ansible.builtin.debug:
    msg: "{{ fetched.dest }}: {{ fetched.size }} bytes, sha256 {{ fetched.sha256 }}"
"""

RETURN = r"""
src:
  description: The file fetched, on the host.
  returned: always
  type: str
  sample: /var/lib/rustkmod-roulette/build/0123abcd/src/roulette.ko
dest:
  description: The file written on the controller.
  returned: always
  type: str
  sample: /home/me/.cache/rustkmod-roulette/modules/.tmp-0123abcd-vm1/roulette.ko
sha256:
  description:
    - The sha256 of the file written (on success), or of the copy that arrived (on a mismatch, beside
      RV(expected_sha256)).
  returned: when the file was fetched
  type: str
  sample: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
expected_sha256:
  description: The sum the file should have had, returned only when the fetched copy had another one.
  returned: on a checksum mismatch
  type: str
size:
  description: Size of the file written, in bytes.
  returned: success, except in check mode
  type: int
  sample: 412336
"""

from ansible.module_utils.basic import AnsibleModule

ARGUMENT_SPEC = {
    "src": {"type": "str", "required": True},
    "dest": {"type": "path", "required": True},
    "sha256": {"type": "str", "default": ""},
    "mode": {"type": "raw", "default": "0644"},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(msg="rustkmod.roulette.fetch_checked runs on the controller through its action plugin; "
                         "this module file only documents it")


if __name__ == "__main__":
    main()
