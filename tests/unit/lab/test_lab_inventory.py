# SPDX-License-Identifier: GPL-3.0-or-later
"""roulette_lab.inventory: the Ansible inventory of the lab's VMs."""

from __future__ import annotations

import pytest
from roulette_lab import inventory

yaml = pytest.importorskip("yaml")


def instance(name, port, suite="bookworm"):
    return {
        "name": name,
        "host": "127.0.0.1",
        "port": port,
        "user": "roulette",
        "key": "/home/u/.cache/rustkmod-roulette/ssh/id_ed25519",
        "suite": suite,
        "kernel_release": "6.1.0-56-amd64" if suite == "bookworm" else "6.12.57+deb13-amd64",
    }


def test_inventory_lists_every_instance_in_the_group():
    text = inventory.render_inventory([instance("b", 10023), instance("a", 10022, "trixie")])
    inv = yaml.safe_load(text)
    group = inv["all"]["children"]["roulette"]
    assert list(group["hosts"]) == ["a", "b"]
    assert group["hosts"]["a"] == {
        "ansible_host": "127.0.0.1",
        "ansible_port": 10022,
        "ansible_user": "roulette",
        "ansible_ssh_private_key_file": "/home/u/.cache/rustkmod-roulette/ssh/id_ed25519",
        "roulette_lab_suite": "trixie",
        "roulette_lab_kernel_release": "6.12.57+deb13-amd64",
    }


def test_inventory_group_vars_become_root_and_skip_host_keys():
    inv = yaml.safe_load(inventory.render_inventory([instance("a", 10022)], group="lab"))
    gvars = inv["all"]["children"]["lab"]["vars"]
    assert gvars["ansible_become"] is True
    assert "StrictHostKeyChecking=no" in gvars["ansible_ssh_common_args"]
    assert "UserKnownHostsFile=/dev/null" in gvars["ansible_ssh_common_args"]


def test_inventory_names_each_vms_serial_console_log():
    booted = dict(instance("a", 10022), serial_log="/run/lab/a/serial.log")
    inv = yaml.safe_load(inventory.render_inventory([booted, instance("b", 10023)]))
    hosts = inv["all"]["children"]["roulette"]["hosts"]
    assert hosts["a"]["roulette_console_log"] == "/run/lab/a/serial.log"
    assert "roulette_console_log" not in hosts["b"]  # an instance.json from before serial logs


def test_inventory_without_instances_is_still_valid():
    inv = yaml.safe_load(inventory.render_inventory([]))
    assert inv["all"]["children"]["roulette"]["hosts"] == {}


def test_inventory_quotes_odd_paths():
    odd = dict(instance("a", 10022), key='/tmp/with space/"quoted": key')
    inv = yaml.safe_load(inventory.render_inventory([odd]))
    host = inv["all"]["children"]["roulette"]["hosts"]["a"]
    assert host["ansible_ssh_private_key_file"] == '/tmp/with space/"quoted": key'
