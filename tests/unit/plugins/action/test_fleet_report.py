# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet_report action: options, check mode, and errors as task results."""

from __future__ import annotations

import json
import os
from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleError
from ansible.module_utils.testing import patch_module_args
from ansible_collections.rustkmod.roulette.plugins.action.fleet_report import ActionModule
from ansible_collections.rustkmod.roulette.plugins.modules import fleet_report as fleet_report_module
from action_fakes import fake_connection, fake_task

RECORDS = {
    "dead1": {"outcome": "spun", "roulette": {"spins_done": 7, "survived": 6, "died": 1, "chance": 5, "stop_reason": "death",
                                              "first_death": {"spin": 7, "location": "src/roulette.rs:89"}}},
    "calm": {"outcome": "not_armed"},
    "later": {},
}


def action(args, check_mode=False):
    return ActionModule(fake_task(args, check_mode), fake_connection(), MagicMock(), loader=None, templar=None,
                        shared_loader_obj=None)


def test_writes_the_four_files(tmp_path):
    dest = tmp_path / "out"
    result = action({"hosts": RECORDS, "dest": str(dest), "armed_hosts": ["later"]}).run(task_vars={})
    assert result["changed"] is True and not result.get("failed")
    for key, name in (("json", "report.json"), ("html", "report.html"), ("markdown", "report.md"), ("junit", "report.junit.xml")):
        assert result[key] == str(dest / name) and os.path.isfile(result[key])
    assert {row["host"]: row["status"] for row in result["rows"]} == {"dead1": "dead", "calm": "skipped", "later": "not_run"}
    assert result["summary"]["dead"] == 1 and result["estimate"]["method"] == "negative-binomial"
    assert json.loads((dest / "report.json").read_text())["summary"] == result["summary"]


def test_check_mode_renders_and_writes_nothing(tmp_path):
    result = action({"hosts": RECORDS, "dest": str(tmp_path / "out")}, check_mode=True).run(task_vars={})
    assert result["changed"] is False and not os.path.exists(tmp_path / "out")
    assert result["summary"]["hosts"] == 3


def test_failed_hosts_without_a_record_are_failed(tmp_path):
    result = action({"hosts": {"x": {}}, "dest": str(tmp_path), "failed_hosts": ["x"]}).run(task_vars={})
    assert result["rows"][0]["status"] == "failed" and result["summary"]["failed"] == 1


def test_an_unwritable_dest_fails_the_task(tmp_path):
    blocker = tmp_path / "out"
    blocker.write_text("a file where the directory should be")
    result = action({"hosts": {}, "dest": str(blocker)}).run(task_vars={})
    assert result["failed"] is True and "cannot write the report" in result["msg"]


def test_a_broken_template_fails_the_task(tmp_path):
    (tmp_path / "report.md.j2").write_text("{% for %}")
    result = action({"hosts": {}, "dest": str(tmp_path / "out"), "templates": str(tmp_path)}).run(task_vars={})
    assert result["failed"] is True and "cannot render the fleet report" in result["msg"]
    assert not os.path.exists(tmp_path / "out")


def test_options_are_validated(tmp_path):
    with pytest.raises(AnsibleError):
        action({"dest": str(tmp_path)}).run(task_vars={})
    with pytest.raises(AnsibleError):
        action({"hosts": {}, "dest": str(tmp_path), "colour": "red"}).run(task_vars={})


def test_the_records_are_not_copied(tmp_path, monkeypatch):
    """The validation deep-copies its arguments; a fleet's records (hosts) are passed on as they are."""
    from ansible_collections.rustkmod.roulette.plugins.action import fleet_report as fleet_report_action
    seen = []
    build = fleet_report_action.build_report
    monkeypatch.setattr(fleet_report_action, "build_report", lambda hosts, **kw: seen.append(hosts) or build(hosts, **kw))
    result = action({"hosts": RECORDS, "dest": str(tmp_path / "out")}).run(task_vars={})
    assert not result.get("failed") and seen == [RECORDS] and seen[0] is RECORDS


@pytest.mark.parametrize("args", [
    {"dest": "/x"},
    {"hosts": {}, "dest": "/x", "colour": "red"},
    {"hosts": {"a": {}}, "dest": "/x", "armed_hosts": {"a": 1}},
    {"hosts": {}},
    {"hosts": "not a dict", "dest": "/x"},
    {"hosts": 5, "dest": "/x"},
])
def test_bad_options_are_refused_in_the_words_of_ansibles_validation(args):
    with pytest.raises(AnsibleError) as ours:
        action(dict(args)).run(task_vars={})
    with pytest.raises(AnsibleError) as standard:
        action(dict(args)).validate_argument_spec(argument_spec=fleet_report_module.ARGUMENT_SPEC)
    assert ours.value.message == standard.value.message


def test_hosts_given_as_json_text_is_read_as_a_dict(tmp_path):
    result = action({"hosts": json.dumps(RECORDS), "dest": str(tmp_path / "out")}, check_mode=True).run(task_vars={})
    assert result["summary"]["hosts"] == 3


def test_the_module_file_only_documents(capsys):
    with patch_module_args({"hosts": {}, "dest": "/tmp/x"}), pytest.raises(SystemExit):
        fleet_report_module.main()
    result = json.loads(capsys.readouterr().out)
    assert result["failed"] is True and "action plugin" in result["msg"]
