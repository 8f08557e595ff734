# SPDX-License-Identifier: GPL-3.0-or-later
"""The fetch_checked action: a file fetched with the connection's transfer, kept only with the
expected sha256, the host asked for the sum only when it is not given."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from types import SimpleNamespace
from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleActionFail, AnsibleConnectionFailure, AnsibleError
from ansible.module_utils.testing import patch_module_args
from ansible_collections.rustkmod.roulette.plugins.action.fetch_checked import ActionModule
from ansible_collections.rustkmod.roulette.plugins.modules import fetch_checked as fetch_checked_module
from action_fakes import fake_task

SRC = "/var/lib/rustkmod-roulette/build/k/src/roulette.ko"
CONTENT = b"\x7fELF roulette.ko, as make left it\n"
SUM = hashlib.sha256(CONTENT).hexdigest()


class FakeConnection:
    """A host whose file system is a directory of the test; fetch_file copies from it,
    failing as a connection does for a file that is not there."""

    def __init__(self, root):
        self.root = root
        self.fetched = []
        self._shell = SimpleNamespace(tmpdir=None)

    def fetch_file(self, in_path, out_path):
        self.fetched.append((in_path, out_path))
        try:
            shutil.copyfile(str(self.root) + in_path, out_path)
        except OSError as exc:
            raise AnsibleError("failed to transfer file to %s: %s" % (out_path, exc)) from exc


@pytest.fixture
def host(tmp_path):
    root = tmp_path / "host"
    (root / os.path.dirname(SRC).lstrip("/")).mkdir(parents=True)
    (root / SRC.lstrip("/")).write_bytes(CONTENT)
    return FakeConnection(root)


def action(connection, args, check_mode=False, stat=None):
    """The action on `connection`; `stat` is what ansible.builtin.stat would return, and
    the modules it was asked to run are in action.modules_run."""
    plugin = ActionModule(fake_task(args, check_mode), connection, MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    plugin.modules_run = []

    def execute_module(module_name=None, module_args=None, task_vars=None, **kwargs):
        plugin.modules_run.append((module_name, module_args))
        if stat is None:
            raise AssertionError("no module is to run on the host")
        return stat
    plugin._execute_module = execute_module
    return plugin


def run(plugin):
    return plugin.run(task_vars={"inventory_hostname": "vm1"})


def leftovers(directory):
    return sorted(os.listdir(directory)) if os.path.isdir(directory) else []


def test_a_file_with_the_expected_sum_is_written_without_a_module_run(host, tmp_path):
    dest = tmp_path / "cache" / ".tmp-k-vm1" / "roulette.ko"
    plugin = action(host, {"src": SRC, "dest": str(dest), "sha256": SUM})
    result = run(plugin)
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert (result["src"], result["dest"], result["sha256"], result["size"]) == (SRC, str(dest), SUM, len(CONTENT))
    assert dest.read_bytes() == CONTENT
    assert stat.S_IMODE(dest.stat().st_mode) == 0o644
    assert leftovers(dest.parent) == ["roulette.ko"]  # no temporary file left
    assert plugin.modules_run == []
    # Into a temporary file of dest's own directory, renamed: never a half file at dest.
    ((fetched_src, part),) = host.fetched
    assert fetched_src == SRC and os.path.dirname(part) == str(dest.parent) and part != str(dest)


def test_a_sum_in_capitals_is_the_same_sum(host, tmp_path):
    result = run(action(host, {"src": SRC, "dest": str(tmp_path / "m.ko"), "sha256": SUM.upper()}))
    assert not result.get("failed") and result["sha256"] == SUM


def test_another_sum_fails_and_leaves_nothing(host, tmp_path):
    dest = tmp_path / "cache" / "roulette.ko"
    wrong = "0" * 64
    result = run(action(host, {"src": SRC, "dest": str(dest), "sha256": wrong}))
    assert result["failed"] is True and result["changed"] is False
    assert result["sha256"] == SUM and result["expected_sha256"] == wrong
    for word in (SUM, wrong, SRC, "vm1"):
        assert word in result["msg"], result["msg"]
    assert leftovers(dest.parent) == []  # neither dest nor the temporary file


def test_another_sum_leaves_an_earlier_dest_as_it_was(host, tmp_path):
    dest = tmp_path / "roulette.ko"
    dest.write_bytes(b"the earlier module")
    result = run(action(host, {"src": SRC, "dest": str(dest), "sha256": "f" * 64}))
    assert result["failed"] is True
    assert dest.read_bytes() == b"the earlier module" and leftovers(tmp_path) == ["host", "roulette.ko"]


def test_without_a_sum_the_host_is_asked_with_one_stat(host, tmp_path):
    dest = tmp_path / "std.tar.gz"
    plugin = action(host, {"src": SRC, "dest": str(dest)},
                    stat={"changed": False, "stat": {"exists": True, "isdir": False, "checksum": SUM}})
    result = run(plugin)
    assert not result.get("failed"), result
    assert result["sha256"] == SUM and dest.read_bytes() == CONTENT
    ((module, args),) = plugin.modules_run
    assert module == "ansible.builtin.stat"
    assert args["path"] == SRC and args["checksum_algorithm"] == "sha256" and args["get_checksum"] is True


def test_an_empty_sum_asks_the_host_too(host, tmp_path):
    plugin = action(host, {"src": SRC, "dest": str(tmp_path / "m.ko"), "sha256": ""},
                    stat={"stat": {"exists": True, "checksum": SUM}})
    assert not run(plugin).get("failed") and len(plugin.modules_run) == 1


def test_the_hosts_sum_is_checked_as_a_given_one(host, tmp_path):
    """The file changed between the stat and the transfer: what arrived is not what was asked."""
    dest = tmp_path / "m.ko"
    result = run(action(host, {"src": SRC, "dest": str(dest)}, stat={"stat": {"exists": True, "checksum": "a" * 64}}))
    assert result["failed"] is True and result["expected_sha256"] == "a" * 64 and not dest.exists()


@pytest.mark.parametrize("stat_result, words", [
    ({"stat": {"exists": False}}, "does not exist on vm1"),
    ({"stat": {"exists": True, "isdir": True}}, "is a directory"),
    # stat leaves out the checksum of a file its user cannot read.
    ({"stat": {"exists": True, "isdir": False}}, "cannot be read"),
    ({"failed": True, "msg": "Permission denied"}, "cannot stat %s on vm1: Permission denied" % SRC),
])
def test_a_file_the_host_cannot_give_a_sum_for_is_not_fetched(host, tmp_path, stat_result, words):
    result = run(action(host, {"src": SRC, "dest": str(tmp_path / "out" / "m.ko")}, stat=stat_result))
    assert result["failed"] is True and words in result["msg"] and SRC in result["msg"]
    assert "expected_sha256" not in result
    assert host.fetched == [] and leftovers(tmp_path / "out") == []


def test_a_transfer_error_fails_with_the_connections_words(host, tmp_path):
    """What a file the login user cannot read gives: the role's rescue fetches it with privileges."""
    result = run(action(host, {"src": "/root/secret.ko", "dest": str(tmp_path / "out" / "m.ko"), "sha256": SUM}))
    assert result["failed"] is True
    assert "cannot fetch /root/secret.ko from vm1 as the login user: failed to transfer file" in result["msg"]
    assert "expected_sha256" not in result
    assert leftovers(tmp_path / "out") == []


def test_a_lost_connection_is_not_turned_into_a_failed_task(host, tmp_path):
    def lost(in_path, out_path):
        raise AnsibleConnectionFailure("ssh: connection closed")
    host.fetch_file = lost
    with pytest.raises(AnsibleConnectionFailure):
        run(action(host, {"src": SRC, "dest": str(tmp_path / "out" / "m.ko"), "sha256": SUM}))
    assert leftovers(tmp_path / "out") == []


def test_check_mode_fetches_nothing_and_says_a_run_would(host, tmp_path):
    dest = tmp_path / "cache" / "m.ko"
    for args in ({"src": SRC, "dest": str(dest), "sha256": SUM}, {"src": SRC, "dest": str(dest)}):
        plugin = action(host, args, check_mode=True)
        result = run(plugin)
        assert result["changed"] is True and not result.get("failed")
        assert plugin.modules_run == [] and host.fetched == []
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize("mode, expected", [("0600", 0o600), ("755", 0o755), (0o640, 0o640)])
def test_dest_gets_the_mode_asked(host, tmp_path, mode, expected):
    dest = tmp_path / "m.ko"
    assert not run(action(host, {"src": SRC, "dest": str(dest), "sha256": SUM, "mode": mode})).get("failed")
    assert stat.S_IMODE(dest.stat().st_mode) == expected


@pytest.mark.parametrize("args, words", [
    ({"src": SRC, "dest": "/tmp/m.ko", "sha256": "abc"}, "sha256 must be 64 hexadecimal digits"),
    ({"src": SRC, "dest": "/tmp/m.ko", "sha256": "g" * 64}, "sha256 must be 64 hexadecimal digits"),
    ({"src": SRC, "dest": "cache/m.ko", "sha256": SUM}, "dest must be an absolute path on the controller"),
    ({"src": "build/roulette.ko", "dest": "/tmp/m.ko", "sha256": SUM}, "src must be an absolute path on the host"),
    ({"src": SRC, "dest": "/tmp/", "sha256": SUM}, "dest must name a file"),
    ({"src": SRC, "dest": "/tmp/m.ko", "sha256": SUM, "mode": "u=rw"}, "mode must be octal digits"),
    ({"src": SRC, "dest": "/tmp/m.ko", "sha256": SUM, "mode": "08644"}, "mode must be octal digits"),
    ({"src": SRC, "dest": "/tmp/m.ko", "sha256": SUM, "flat": True}, "Unsupported parameters"),
    ({"dest": "/tmp/m.ko", "sha256": SUM}, "missing required arguments: src"),
])
def test_bad_options_are_refused_before_anything_is_fetched(host, args, words):
    plugin = action(host, args)
    with pytest.raises(AnsibleActionFail) as refused:
        run(plugin)
    assert words in str(refused.value)
    assert host.fetched == [] and plugin.modules_run == []


def test_an_existing_directory_is_no_dest(host, tmp_path):
    with pytest.raises(AnsibleActionFail, match="dest must name a file"):
        run(action(host, {"src": SRC, "dest": str(tmp_path), "sha256": SUM}))


def test_the_module_file_only_documents(capsys):
    with patch_module_args({"src": SRC, "dest": "/tmp/x"}), pytest.raises(SystemExit):
        fetch_checked_module.main()
    result = json.loads(capsys.readouterr().out)
    assert result["failed"] is True and "action plugin" in result["msg"]
