# SPDX-License-Identifier: GPL-3.0-or-later
"""The unpack_source action: one copy of the archive into the remote temporary directory,
then one run of the module with that copy as src; the directory is removed after."""

from __future__ import annotations

import posixpath
from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleError
from ansible.parsing.dataloader import DataLoader
from ansible_collections.rustkmod.roulette.plugins.action.unpack_source import ActionModule
from action_fakes import fake_connection, fake_task

REMOTE_TMP = "/home/deploy/.ansible/tmp/ansible-tmp-1-2-3"


class Host:
    """What the action did to the host, in order."""

    def __init__(self, tmp_path, check_mode=False):
        self.calls = []
        self.task = fake_task(check_mode=check_mode)
        self.task.get_search_path.return_value = [str(tmp_path)]
        self.connection = fake_connection()
        self.connection._shell.join_path.side_effect = posixpath.join
        self.connection.put_file.side_effect = lambda local, remote: self.calls.append(("put", local, remote))

    def action(self, args, module_result=None):
        self.task.args = args
        action = ActionModule(self.task, self.connection, MagicMock(), loader=DataLoader(), templar=None, shared_loader_obj=None)

        def make_tmp_path(*a, **k):
            self.calls.append(("mkdir",))
            self.connection._shell.tmpdir = REMOTE_TMP
            return REMOTE_TMP

        def execute_module(module_name=None, module_args=None, task_vars=None, **kwargs):
            self.calls.append(("module", module_name, module_args))
            return dict(module_result or {"changed": True, "dest": module_args["dest"]})

        action._make_tmp_path = make_tmp_path
        action._fixup_perms2 = lambda paths, remote_user=None, execute=True: self.calls.append(("perms", tuple(paths), execute))
        action._execute_module = execute_module
        action._remove_tmp_path = lambda path, force=False: self.calls.append(("rm", path))
        return action


@pytest.fixture
def archive(tmp_path):
    path = tmp_path / "0123abcd.tar.gz"
    path.write_bytes(b"not read on the controller")
    return path


ARGS = {"dest": "/var/lib/rustkmod-roulette/build/k/src", "creates": "/var/lib/rustkmod-roulette/build/k/src/Makefile"}


def test_the_archive_is_copied_and_the_module_runs_once_with_the_copy(tmp_path, archive):
    host = Host(tmp_path)
    result = host.action(dict(ARGS, src=str(archive))).run(task_vars={})
    remote = REMOTE_TMP + "/0123abcd.tar.gz"
    assert host.calls == [
        ("mkdir",),
        ("put", str(archive), remote),
        ("perms", (REMOTE_TMP, remote), False),
        ("module", "rustkmod.roulette.unpack_source", dict(ARGS, src=remote)),
        ("rm", REMOTE_TMP),
    ]
    assert result == {"changed": True, "dest": ARGS["dest"]}


def test_the_copy_is_made_also_when_creates_exists_and_the_module_says_unchanged(tmp_path, archive):
    host = Host(tmp_path)
    result = host.action(dict(ARGS, src=str(archive)), {"changed": False, "dest": ARGS["dest"]}).run(task_vars={})
    assert [call[0] for call in host.calls] == ["mkdir", "put", "perms", "module", "rm"]
    assert result["changed"] is False


def test_a_relative_src_is_found_in_files(tmp_path):
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "driver.tar.gz").write_bytes(b"")
    host = Host(tmp_path)
    host.action(dict(ARGS, src="driver.tar.gz")).run(task_vars={})
    assert host.calls[1] == ("put", str(tmp_path / "files" / "driver.tar.gz"), REMOTE_TMP + "/driver.tar.gz")


def test_the_host_paths_are_passed_as_written(tmp_path, archive):
    """~ in dest is the remote user's home, expanded on the host, not the controller's."""
    host = Host(tmp_path)
    host.action({"src": str(archive), "dest": "~/build/src"}).run(task_vars={})
    assert host.calls[3][2]["dest"] == "~/build/src"


def test_check_mode_still_runs_the_module_which_decides(tmp_path, archive):
    host = Host(tmp_path, check_mode=True)
    result = host.action(dict(ARGS, src=str(archive))).run(task_vars={})
    assert [call[0] for call in host.calls] == ["mkdir", "put", "perms", "module", "rm"]
    assert result["changed"] is True


def test_a_missing_archive_fails_before_any_copy(tmp_path):
    host = Host(tmp_path)
    with pytest.raises(AnsibleError, match="The archive .*gone.tar.gz is not on the controller"):
        host.action(dict(ARGS, src=str(tmp_path / "gone.tar.gz"))).run(task_vars={})
    assert host.calls == [("mkdir",), ("rm", REMOTE_TMP)]


@pytest.mark.parametrize("args", [{"src": "a.tar.gz"}, {"dest": "/x"}, {"src": "a.tar.gz", "dest": "/x", "mode": "0700"}])
def test_bad_options_are_refused_before_any_copy(tmp_path, args):
    host = Host(tmp_path)
    with pytest.raises(AnsibleError):
        host.action(args).run(task_vars={})
    assert host.calls == [("mkdir",), ("rm", REMOTE_TMP)]
