# SPDX-License-Identifier: GPL-3.0-or-later
"""An Ansible YAML inventory of lab instances, reusable with ``ansible-playbook -i``."""

from __future__ import annotations

import json

from .ssh import SSH_COMMON_ARGS


def yaml_str(value) -> str:
    """A YAML scalar: JSON strings are valid YAML double-quoted scalars."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))


def render_inventory(instances: list[dict], group: str = "roulette") -> str:
    """Ansible YAML inventory of lab instances, reusable with ``ansible-playbook -i``."""
    lines = [
        "# Written by molecule/shared/lab.py: the running lab VMs.",
        "all:",
        "  children:",
        f"    {group}:",
        "      vars:",
        "        ansible_become: true",
        "        ansible_python_interpreter: /usr/bin/python3",
        f"        ansible_ssh_common_args: {yaml_str(SSH_COMMON_ARGS)}",
    ]
    if not instances:
        lines.append("      hosts: {}")
        return "\n".join(lines) + "\n"
    lines.append("      hosts:")
    for inst in sorted(instances, key=lambda i: i["name"]):
        lines += [
            f"        {inst['name']}:",
            f"          ansible_host: {yaml_str(inst['host'])}",
            f"          ansible_port: {int(inst['port'])}",
            f"          ansible_user: {yaml_str(inst['user'])}",
            f"          ansible_ssh_private_key_file: {yaml_str(inst['key'])}",
            f"          roulette_lab_suite: {yaml_str(inst['suite'])}",
            f"          roulette_lab_kernel_release: {yaml_str(inst['kernel_release'])}",
        ]
        if inst.get("serial_log"):
            # The guest's serial console, read on the controller by spin.yml to tell a panic
            # from a lost connection.
            lines.append(f"          roulette_console_log: {yaml_str(inst['serial_log'])}")
    return "\n".join(lines) + "\n"
