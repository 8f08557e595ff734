# SPDX-License-Identifier: GPL-3.0-or-later
"""The ansible.cfg users copy from the checkout keeps SSH's host key checks: turning them off
is the VM lab's business (its inventory's ansible_ssh_common_args), not the collection's."""

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_collections_ansible_cfg_keeps_host_key_checking():
    config = configparser.ConfigParser()
    config.read(ROOT / "ansible.cfg")
    assert "host_key_checking" not in config["defaults"]


def test_the_lab_inventory_turns_it_off_for_its_own_vms_only():
    text = "".join(path.read_text() for path in (ROOT / "molecule" / "shared").rglob("*.py"))
    assert "StrictHostKeyChecking=no" in text


def test_the_setup_hint_comes_first_and_ansibles_own_inventory_plugins_stay_enabled():
    from ansible.config.manager import ConfigManager

    config = configparser.ConfigParser()
    config.read(ROOT / "ansible.cfg")
    enabled = [name.strip() for name in config["inventory"]["enable_plugins"].split(",")]
    default = ConfigManager().get_configuration_definitions()["INVENTORY_ENABLED"]["default"]
    assert enabled == ["roulette_setup_hint"] + default
    path = ROOT / config["defaults"]["inventory_plugins"] / "roulette_setup_hint.py"
    assert path.is_file()
