# SPDX-License-Identifier: GPL-3.0-or-later
"""The roulette_load action: the controller's module file goes to the host's temporary directory
with its SHA-256, and only when there is one; check mode transfers nothing (the module's own
work: tests/unit/plugins/modules/test_roulette_load.py; the real install in every VM converge)."""

from __future__ import annotations

import hashlib
import re
from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleError
from ansible_collections.rustkmod.roulette.plugins.action.roulette_load import ActionModule
from action_fakes import fake_connection, fake_task

ARGS = {"kernel": "6.1.0-57-amd64", "params": "chance=0", "marker": "run 7", "module_path": "/lib/modules/k/extra/roulette.ko"}


class Recorder(ActionModule):
    """The action with the host's side recorded: tmp dir, transfers, module runs, removal."""

    def __init__(self, args, check_mode=False):
        task = fake_task(args, check_mode)
        connection = fake_connection()
        connection._shell.join_path = lambda *parts: "/".join(parts)
        super().__init__(task, connection, MagicMock(), loader=None, templar=None, shared_loader_obj=None)
        self.calls = []

    def _make_tmp_path(self, remote_user=None):
        self._connection._shell.tmpdir = "/home/u/.ansible/tmp/ansible-tmp-1"
        self.calls.append(("mktemp",))
        return self._connection._shell.tmpdir

    def _transfer_file(self, local_path, remote_path):
        self.calls.append(("put", local_path, remote_path))
        return remote_path

    def _fixup_perms2(self, remote_paths, remote_user=None, execute=True):
        self.calls.append(("perms", tuple(remote_paths), execute))
        return remote_paths

    def _execute_module(self, module_name=None, module_args=None, task_vars=None, **kwargs):
        self.calls.append(("module", module_name, dict(module_args)))
        return {"changed": True, "installed": "src" in module_args}

    def _remove_tmp_path(self, tmp_path, force=False):
        self.calls.append(("rm", tmp_path))


@pytest.fixture
def module_file(tmp_path):
    path = tmp_path / "roulette.ko"
    path.write_bytes(b"\x7fELF module")
    return path


def test_the_controllers_file_is_transferred_with_its_sha256_and_the_tmp_dir_removed(module_file):
    action = Recorder(dict(ARGS, src=str(module_file)))
    result = action.run(task_vars={})
    remote = "/home/u/.ansible/tmp/ansible-tmp-1/roulette.ko"
    sha256 = hashlib.sha256(module_file.read_bytes()).hexdigest()
    assert action.calls == [
        ("mktemp",),
        ("put", str(module_file), remote),
        ("perms", ("/home/u/.ansible/tmp/ansible-tmp-1", remote), False),
        ("module", "rustkmod.roulette.roulette_load", dict(ARGS, src=remote, sha256=sha256)),
        ("rm", "/home/u/.ansible/tmp/ansible-tmp-1"),
    ]
    assert result["installed"] is True


def test_without_src_only_the_module_runs(module_file):
    action = Recorder(dict(ARGS))
    action.run(task_vars={})
    assert action.calls == [("module", "rustkmod.roulette.roulette_load", ARGS)]


def test_check_mode_transfers_nothing(module_file):
    action = Recorder(dict(ARGS, src=str(module_file), sha256="a" * 64), check_mode=True)
    action.run(task_vars={})
    assert action.calls == [("module", "rustkmod.roulette.roulette_load", ARGS)]


def test_a_file_of_another_sha256_than_asked_is_not_transferred(module_file):
    action = Recorder(dict(ARGS, src=str(module_file), sha256="0" * 64))
    result = action.run(task_vars={})
    assert result["failed"] is True and result["step"] == "install" and result["changed"] is False
    assert re.search("has SHA-256 [0-9a-f]{64}, not the 0{64} asked for; nothing was installed", result["msg"])
    assert action.calls == []


@pytest.mark.parametrize("src, words", [("roulette.ko", "must be an absolute path"), ("/nonexistent/roulette.ko", "Reading /nonexistent")])
def test_a_src_that_cannot_be_read_is_refused_before_the_host_is_asked(src, words):
    action = Recorder(dict(ARGS, src=src))
    result = action.run(task_vars={})
    assert result["failed"] is True and result["step"] == "install" and words in result["msg"]
    assert action.calls == []


def test_a_failed_transfer_is_a_failed_install_and_the_tmp_dir_is_removed(module_file):
    action = Recorder(dict(ARGS, src=str(module_file)))

    def broken(local_path, remote_path):
        raise AnsibleError("sftp: No space left on device")

    action._transfer_file = broken
    result = action.run(task_vars={})
    assert result["failed"] is True and result["step"] == "install"
    assert "Transferring %s to the host failed: sftp: No space left on device" % module_file in result["msg"]
    assert action.calls == [("mktemp",), ("rm", "/home/u/.ansible/tmp/ansible-tmp-1")]
