# SPDX-License-Identifier: GPL-3.0-or-later
"""Run the collection's playbooks on the controller itself (connection local)."""

import json
import os
import subprocess
import sys

import pytest
from integration_support import ROOT, VENV_BIN


@pytest.fixture
def run_playbook(tmp_path):
    def run(playbook, extra_vars=None):
        inventory = tmp_path / "inventory.json"
        inventory.write_text(json.dumps({"roulette": {"hosts": {"controller": {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
        }}}}))
        argv = [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory),
                str(ROOT / "tests/integration/playbooks" / playbook)]
        if extra_vars:
            argv += ["-e", json.dumps(extra_vars)]
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
        proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        try:
            return proc.returncode, json.loads(proc.stdout)
        except ValueError as exc:
            raise AssertionError("ansible-playbook printed no JSON:\n" + proc.stdout + proc.stderr) from exc
    return run
