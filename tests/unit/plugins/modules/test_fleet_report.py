# SPDX-License-Identifier: GPL-3.0-or-later
"""fleet_report: every kind of host record ends up in all three files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.rustkmod.roulette.plugins.modules import fleet_report
from roulette_fakehost import Exit, Fail


def spin_facts(spins, died, chance, alive=True, **extra):
    facts = {
        "spins_done": spins, "survived": spins - died, "died": died, "timeouts": 0,
        "chance": chance, "alive": alive, "finished": "2026-11-26T19:10:00Z",
        "first_death": None, "stuck_workers": [], "taint_after": {"value": 12288, "letters": "OE"},
    }
    if died:
        facts["first_death"] = {"spin": 7, "time": "2026-11-26T19:05:00Z", "confirmed": True,
                                "location": "src/lib.rs:31"}
        facts["taint_after"] = {"value": 12416, "letters": "DOE"}
    facts.update(extra)
    return facts


HOSTS = {
    "alive1": {"roulette": spin_facts(1000, 0, 0), "roulette_info": {"kernel_release": "6.1.0-27-amd64"}},
    "dead1": {"roulette": spin_facts(20, 1, 5), "kernel": "6.12.9-amd64", "status": "spun",
              "time": "2026-11-26T19:09:00Z"},
    "raw-facts": spin_facts(100, 0, 1, kernel_release="6.1.0-9-amd64"),
    "stuck1": {"roulette": spin_facts(3, 0, 5, alive=False, stuck_workers=[{"pid": 9, "state": "D"}])},
    "gone": {"status": "unreachable", "msg": "ssh: connect to host gone port 22: Connection refused",
             "time": "2026-11-26T19:06:00Z"},
    "broken": {"failed": True, "msg": "the roulette driver is not loaded"},
    "calm": {"status": "skipped", "msg": "not armed"},
    "later": {},
    "<script>": {"status": "failed", "msg": "<b>bad</b> | pipe"},
}


def run(tmp_path, hosts=None, check_mode=False, title="Test fleet"):
    args = {"hosts": HOSTS if hosts is None else hosts, "dest": str(tmp_path / "out"), "title": title}
    if check_mode:
        args["_ansible_check_mode"] = True
    with patch_module_args(args), pytest.raises(Exit) as info:
        fleet_report.main()
    return info.value.result


def test_writes_three_files(tmp_path, exits):
    result = run(tmp_path)
    assert result["changed"] is True
    for key in ("json", "html", "markdown"):
        assert os.path.isfile(result[key])
        assert oct(os.stat(result[key]).st_mode & 0o777) == "0o644"
    report = json.loads(Path(result["json"]).read_text())
    rows = {row["host"]: row for row in report["hosts"]}
    assert rows["alive1"]["status"] == "alive" and rows["alive1"]["kernel"] == "6.1.0-27-amd64"
    assert rows["dead1"]["status"] == "dead" and rows["dead1"]["when"] == "2026-11-26T19:05:00Z"
    assert rows["dead1"]["observed_death_rate"] == 0.05 and rows["dead1"]["consistent"] is True
    assert rows["dead1"]["panic_location"] == "src/lib.rs:31" and rows["dead1"]["confirmed"] is True
    assert rows["raw-facts"]["status"] == "alive" and rows["raw-facts"]["spins"] == 100
    assert rows["raw-facts"]["kernel"] == "6.1.0-9-amd64"
    assert rows["raw-facts"]["when"] == "2026-11-26T19:10:00Z"
    assert rows["stuck1"]["status"] == "stuck"
    assert rows["gone"]["status"] == "unreachable" and rows["gone"]["when"] == "2026-11-26T19:06:00Z"
    assert rows["broken"]["status"] == "failed"
    assert rows["calm"]["status"] == "skipped"
    assert rows["later"]["status"] == "not_run"
    summary = report["summary"]
    assert summary["hosts"] == 9 and summary["dead"] == 1 and summary["unreachable"] == 1
    assert summary["failed"] == 2 and summary["spins"] == 1123 and summary["died"] == 1
    assert result["summary"] == summary


def test_html_is_self_contained_and_escaped(tmp_path, exits):
    page = Path(run(tmp_path)["html"]).read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "</html>" in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<b>bad</b>" not in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert page.count("<tr>") == 1 + 9  # header and one row per host


def test_markdown_table(tmp_path, exits):
    text = Path(run(tmp_path)["markdown"]).read_text()
    assert text.startswith("# Test fleet")
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + 9
    assert any(line.startswith("| gone | unreachable (ssh: connect") for line in table)
    assert "\\| pipe" in text


def test_check_mode_writes_nothing(tmp_path, exits):
    result = run(tmp_path, check_mode=True)
    assert result["changed"] is False and not os.path.exists(result["dest"])
    assert result["summary"]["hosts"] == 9


def test_empty_fleet(tmp_path, exits):
    result = run(tmp_path, hosts={})
    report = json.loads(Path(result["json"]).read_text())
    assert report["summary"]["hosts"] == 0 and report["summary"]["observed_death_rate"] is None
    assert "<svg" in Path(result["html"]).read_text()


def test_unwritable_dest_fails(tmp_path, exits):
    blocker = tmp_path / "out"
    blocker.write_text("a file where the directory should be")
    with patch_module_args({"hosts": {}, "dest": str(blocker)}), pytest.raises(Fail) as info:
        fleet_report.main()
    assert "cannot write the report" in info.value.result["msg"]


def test_wilson_interval():
    assert fleet_report.wilson_interval(0, 0) is None
    low, high = fleet_report.wilson_interval(5, 100)
    assert low < 0.05 < high
    assert fleet_report.wilson_interval(0, 1000)[0] == 0.0


def test_odd_records():
    assert fleet_report.host_row("x", "oops")["status"] == "failed"
    row = fleet_report.host_row("y", {"roulette": {"spins_done": "12", "died": None, "chance": "bad"}})
    assert row["spins"] == 12 and row["chance"] is None and row["status"] == "alive"


PANIC_LINE = "Kernel panic - not syncing: kernel-roulette: Boom! (Rust panic)"
CONSOLE_HOSTS = {
    "panicked": {"status": "dead", "msg": f"kernel panic: {PANIC_LINE}", "time": "2026-11-26T19:07:00Z", "died": 1,
                 "kernel": "6.1.0-27-amd64",
                 "console": {"path": "/lab/panicked/serial.log", "size": 90210, "offset": 81000,
                             "panic": PANIC_LINE, "oops": None, "boom": "Boom!", "location": "src/roulette.rs:89",
                             "lines": ["Rust panic @ src/roulette.rs:89", "Boom!", PANIC_LINE]}},
    "oopsed": {"status": "unreachable", "msg": "Failed to connect to the host via ssh: Timeout, server not responding.",
               "time": "2026-11-26T19:08:00Z",
               "console": {"panic": None, "oops": "BUG: soft lockup - CPU#0 stuck for 22s! [python3:812]",
                           "boom": None, "location": None,
                           "lines": ["BUG: soft lockup - CPU#0 stuck for 22s! [python3:812]"]}},
    "bare-dead": {"status": "dead", "msg": "kernel panic"},
    "spun": {"roulette": spin_facts(100, 1, 1)},
}


def test_a_host_dead_on_its_console(tmp_path, exits):
    result = run(tmp_path, hosts=CONSOLE_HOSTS)
    rows = {row["host"]: row for row in json.loads(Path(result["json"]).read_text())["hosts"]}
    dead = rows["panicked"]
    assert dead["status"] == "dead" and dead["msg"] == f"kernel panic: {PANIC_LINE}"
    assert dead["when"] == "2026-11-26T19:07:00Z" and dead["kernel"] == "6.1.0-27-amd64"
    assert (dead["spins"], dead["died"], dead["observed_death_rate"]) == (0, 1, None)
    assert dead["console_line"] == PANIC_LINE and dead["panic_location"] == "src/roulette.rs:89"
    assert dead["confirmed"] is True and dead["console"][-1] == PANIC_LINE
    assert rows["oopsed"]["status"] == "unreachable" and rows["oopsed"]["died"] == 0
    assert rows["oopsed"]["console_line"].startswith("BUG: soft lockup")
    assert rows["oopsed"]["confirmed"] is False
    assert rows["bare-dead"]["died"] == 1 and rows["bare-dead"]["console_line"] is None
    assert rows["spun"]["console"] is None and rows["spun"]["panic_location"] == "src/lib.rs:31"
    summary = result["summary"]
    assert summary["dead"] == 3 and summary["unreachable"] == 1
    assert summary["died"] == 3 and summary["spins"] == 100
    assert summary["observed_death_rate"] == 0.01  # only the spun host's deaths have spins
    assert summary["died_without_spins"] == 2


def test_a_host_dead_on_its_console_in_markdown_and_html(tmp_path, exits):
    result = run(tmp_path, hosts=CONSOLE_HOSTS)
    table = {line.split(" | ")[0][2:]: line for line in Path(result["markdown"]).read_text().splitlines()
             if line.startswith("| ")}
    assert table["panicked"].startswith(f"| panicked | dead (kernel panic: {PANIC_LINE}) | 2026-11-26T19:07:00Z |")
    assert table["panicked"].endswith(f"| src/roulette.rs:89: {PANIC_LINE} |")
    assert table["oopsed"].endswith("| BUG: soft lockup - CPU#0 stuck for 22s! [python3:812] |")
    assert table["bare-dead"].endswith("| - |")
    assert "100 spins, 3 deaths (2 on hosts that returned no spin counts; observed 1.00 %)." in Path(result["markdown"]).read_text()
    page = Path(result["html"]).read_text()
    assert f"src/roulette.rs:89 (confirmed)<div class=\"msg\">console: {PANIC_LINE}</div>" in page
    assert f'<div class="msg">kernel panic: {PANIC_LINE}</div>' in page


def test_a_record_with_deaths_but_no_facts_is_dead():
    assert fleet_report.host_row("x", {"died": 1})["status"] == "dead"
    assert fleet_report.host_row("y", {"console": "not a dict", "status": "unreachable"})["console_line"] is None
