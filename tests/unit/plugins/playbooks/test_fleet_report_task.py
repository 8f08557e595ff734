# SPDX-License-Identifier: GPL-3.0-or-later
"""The rustkmod.roulette.fleet_report task in a playbook, as spin.yml runs it.

Through the task, not the Python under it: these hold whatever the plugin's
shape. Records are written as YAML, so they can carry what a playbook variable
can (.inf, .nan, numbers where text belongs).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[4]
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
PLAYBOOK = """
- name: Write a fleet report from the records in records.yml
  hosts: localhost
  gather_facts: false
  vars_files: [records.yml]
  tasks:
    - name: Write the report
      rustkmod.roulette.fleet_report:
        hosts: "{{ records }}"
        dest: "{{ dest }}"
        title: "{{ title }}"
      register: report

    - name: Show the summary
      ansible.builtin.debug:
        var: report.summary
"""
LINES = ["[   41.000001] Rust panic @ src/roulette.rs:89", "[   41.000002] Boom!",
         "[   41.000003] kernel BUG at /root/kmod/src/shim.c:168!",
         "[   41.000004] invalid opcode: 0000 [#1] PREEMPT SMP NOPTI", "[   41.000005] RIP: 0010:abort+0x5/0x10 [roulette]"]
PANIC = "Kernel panic - not syncing: kernel-roulette: Boom! (Rust panic)"
RECORDS = f"""
records:
  good-dead:
    outcome: spun
    kernel: 6.1.0-27-amd64
    roulette:
      spins_done: 12
      survived: 11
      died: 1
      chance: 5
      stop_reason: death
      first_death:
        spin: 12
        time: "2026-11-26T19:05:00Z"
        confirmed: true
        location: src/roulette.rs:89
        message: Boom!
        bug_location: /root/kmod/src/shim.c:168
        kernel_lines: {json.dumps(LINES)}
  good-alive:
    outcome: spun
    roulette: {{spins_done: 20, survived: 20, died: 0, chance: 5, stop_reason: count}}
  lost-panic:
    outcome: unreachable
    msg: "Failed to connect to the host via ssh: Timeout, server not responding."
    count: 1
    console:
      panic: "{PANIC}"
      location: src/roulette.rs:89
      lines: ["Rust panic @ src/roulette.rs:89", "Boom!", "{PANIC}"]
  infinite:
    outcome: spun
    roulette: {{spins_done: .inf, died: 1, chance: .nan}}
  more-deaths-than-spins:
    outcome: spun
    roulette: {{spins_done: 3, died: 5, survived: 0, chance: 5}}
  number-message:
    outcome: failed
    msg: 42
  list-message:
    outcome: failed
    msg: [the driver, is not loaded]
  lines-as-text:
    outcome: spun
    roulette:
      spins_done: 2
      died: 1
      first_death: {{spin: 2, location: [src/roulette.rs:89], kernel_lines: "one long string"}}
  empty-facts:
    outcome: spun
    roulette: {{}}
  missing-keys:
    outcome: spun
    roulette: {{chance: 5}}
  "pipe|host":
    outcome: failed
    msg: "a | b\\n## injected heading"
"""
TITLE = "Fleet\n# Injected heading | with a pipe"


def run(tmp_path, dest, records=RECORDS, title=TITLE):
    top = tmp_path / "collections"
    (top / "ansible_collections" / "rustkmod").mkdir(parents=True, exist_ok=True)
    link = top / "ansible_collections" / "rustkmod" / "roulette"
    if not link.exists():
        link.symlink_to(REPO)
    (tmp_path / "records.yml").write_text(records)
    (tmp_path / "report.yml").write_text(PLAYBOOK)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(top), ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="False",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="False", ANSIBLE_RETRY_FILES_ENABLED="False")
    command = [str(ANSIBLE_PLAYBOOK), "-i", "localhost,", "-c", "local", str(tmp_path / "report.yml"),
               "-e", json.dumps({"dest": str(dest), "title": title, "ansible_python_interpreter": sys.executable})]
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("fleetreport")
    dest = tmp_path / "report"
    proc = run(tmp_path, dest)
    return proc, dest


def test_malformed_records_do_not_stop_the_report(written):
    proc, dest = written
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("report.json", "report.html", "report.md", "report.junit.xml"):
        assert (dest / name).is_file(), name
    rows = {row["host"]: row for row in json.loads((dest / "report.json").read_text())["hosts"]}
    assert len(rows) == 11
    assert rows["good-dead"]["status"] == "dead" and rows["good-dead"]["notes"] == []
    assert rows["lost-panic"]["status"] == "dead" and rows["lost-panic"]["died"] == 1
    assert any("spins_done is not a finite number" in note for note in rows["infinite"]["notes"])
    assert rows["infinite"]["chance"] is None and not rows["infinite"]["in_estimate"]
    assert any("died (5) is more than spins_done (3)" in note for note in rows["more-deaths-than-spins"]["notes"])
    assert rows["number-message"]["msg"] == "42" and rows["number-message"]["notes"]
    assert rows["list-message"]["msg"] == "the driver; is not loaded"
    assert rows["lines-as-text"]["kernel_lines"] == ["one long string"] and rows["lines-as-text"]["notes"]
    assert rows["empty-facts"]["status"] == "failed" and "returned no facts" in rows["empty-facts"]["msg"]
    assert {"spins_done is missing", "died is missing"} <= set(rows["missing-keys"]["notes"])
    # The notes are on the page, next to the host they are about.
    page = (dest / "report.html").read_text()
    assert "died (5) is more than spins_done (3)" in page and "spins_done is not a finite number" in page
    # Unusable counts stay out of the estimate; usable ones of an odd record count: good-dead 1 in 12,
    # good-alive 0 in 20, lost-panic 1 in 1 (one spin asked for), lines-as-text 1 in 2.
    estimate = json.loads((dest / "report.json").read_text())["estimate"]
    assert (estimate["deaths"], estimate["spins"]) == (3, 35)
    assert sorted(estimate["left_out"]) == ["infinite", "more-deaths-than-spins"]


def test_markdown_is_escaped(written):
    _proc, dest = written
    text = (dest / "report.md").read_text()
    assert text.splitlines()[0] == r"# Fleet \# Injected heading \| with a pipe"
    assert not re.search(r"^#+ (Injected|injected)", text, re.MULTILINE)
    table = [line for line in text.split("## Hosts, worst first")[1].splitlines() if line.startswith("|")]
    cells = [len(re.findall(r"(?<!\\)\|", line)) for line in table]
    assert len(table) == 2 + 11 and set(cells) == {10}, table
    assert any(line.startswith(r"| pipe\|host |") for line in table)


def test_each_death_shows_its_kernel_lines(written):
    _proc, dest = written
    page = (dest / "report.html").read_text()
    markdown = (dest / "report.md").read_text()
    for text in (page, markdown):
        assert "kernel BUG at /root/kmod/src/shim.c:168" in text
        assert "invalid opcode: 0000 [#1] PREEMPT SMP NOPTI" in text
        assert PANIC in text
    assert "<details" in page


def test_junit_has_one_testcase_per_host(written):
    _proc, dest = written
    suite = ET.parse(dest / "report.junit.xml").getroot().find("testsuite")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert len(cases) == 11 and suite.get("tests") == "11"
    assert cases["good-dead"].find("failure") is not None
    assert "invalid opcode" in cases["good-dead"].find("failure").text
    assert cases["good-alive"].find("failure") is None and cases["good-alive"].find("error") is None
    assert cases["number-message"].find("error").get("message") == "42"
    assert int(suite.get("failures")) == sum(1 for case in cases.values() if case.find("failure") is not None)


def test_a_write_that_fails_leaves_the_old_report_whole(tmp_path):
    dest = tmp_path / "report"
    dest.mkdir()
    for name in ("report.json", "report.html"):
        (dest / name).write_text("the previous report\n")
    (dest / "report.md").mkdir()  # this one cannot be replaced by a file
    (dest / "report.md" / "keep").write_text("x")
    proc = run(tmp_path, dest)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "cannot write the report" in proc.stdout
    for name in ("report.json", "report.html"):
        assert (dest / name).read_text() == "the previous report\n", name
    assert sorted(path.name for path in dest.iterdir()) == ["report.html", "report.json", "report.md"]
