# SPDX-License-Identifier: GPL-3.0-or-later
"""report_files: the templates, the escaping per format, and writing all files or none."""

from __future__ import annotations

import json
import os
import time
import xml.etree.ElementTree as ET

import pytest
from ansible_collections.rustkmod.roulette.plugins.plugin_utils import report_files
from ansible_collections.rustkmod.roulette.plugins.plugin_utils.report_data import build_report
from ansible_collections.rustkmod.roulette.tests.unit.plugins.plugin_utils.report_fixtures import fleet
from jinja2 import TemplateError


def test_markdown_escape():
    escape = report_files.markdown_escape
    assert escape("a\n# b | c") == r"a \# b \| c"
    assert escape("<script>*x*_y_[l](u)`c`&amp;") == r"\<script\>\*x\*\_y\_\[l\]\(u\)\`c\`\&amp;"
    assert escape(None) == "" and escape(escape("a|b")) == r"a\|b"


def test_code_block_cannot_be_closed_by_its_lines():
    block = report_files.code_block(["```", "a ```` b"])
    assert block.startswith("`````text\n") and block.endswith("\n`````")


def test_every_format_escapes_its_way():
    records = {"<b>x</b>|y": {"outcome": "failed", "msg": "<script>alert(1)</script>\n# heading & \"quotes\""}}
    files = report_files.render_files(build_report(records, title="A <i>title</i>\n# with | pipe"))
    page, markdown, junit = (files[key][1] for key in ("html", "markdown", "junit"))
    assert "<script>" not in page and "&lt;script&gt;" in page and "<i>" not in page and "&lt;b&gt;x&lt;/b&gt;|y" in page
    assert markdown.startswith(r"# A \<i\>title\</i\> \# with \| pipe" + "\n")
    assert r"| \<b\>x\</b\>\|y | failed |" in markdown and "\n# heading" not in markdown
    case = ET.fromstring(junit.encode()).find("testsuite/testcase")
    assert case.get("name") == "<b>x</b>|y" and case.find("error").get("message").startswith("<script>")
    assert json.loads(files["json"][1])["hosts"][0]["host"] == "<b>x</b>|y"


def test_a_users_template_replaces_the_bundled_one(tmp_path):
    (tmp_path / "report.md.j2").write_text("{{ title }}: {{ summary.hosts }} hosts\n")
    files = report_files.render_files(build_report({"a": {}}, title="*mine*"), template_dir=str(tmp_path))
    assert files["markdown"][1] == r"\*mine\*: 1 hosts" + "\n"
    assert files["html"][1].startswith("<!DOCTYPE html>")  # the bundled one fills in
    (tmp_path / "report.html.j2").write_text("{{ no_such_value }}")
    with pytest.raises(TemplateError):
        report_files.render_files(build_report({}), template_dir=str(tmp_path))


def test_an_empty_fleet():
    files = report_files.render_files(build_report({}))
    assert set(files) == {"json", "html", "markdown", "junit"}
    assert "has no hosts" in files["html"][1]
    assert ET.fromstring(files["junit"][1].encode()).get("tests") == "0"


def test_a_thousand_hosts_render_in_under_a_second():
    """CPU time, not wall time: the machine that runs the tests may be busy with VMs."""
    records, armed = fleet(1000)
    started = time.process_time()
    files = report_files.render_files(build_report(records, armed_hosts=armed))
    seconds = time.process_time() - started
    assert seconds < 1.0, f"{seconds:.2f} s"
    assert files["html"][1].count('<tr class="s-') == 1000


def test_write_files_replaces_all_or_nothing(tmp_path):
    files = report_files.render_files(build_report({"a": {}}))
    assert report_files.write_files(str(tmp_path), files) is True
    assert sorted(os.listdir(tmp_path)) == ["report.html", "report.json", "report.junit.xml", "report.md"]
    assert all(oct(os.stat(tmp_path / name).st_mode & 0o777) == "0o644" for name in os.listdir(tmp_path))
    assert report_files.write_files(str(tmp_path), files) is False  # the same text: nothing changed
    os.remove(tmp_path / "report.md")
    os.mkdir(tmp_path / "report.md")
    before = (tmp_path / "report.json").read_text()
    changed = report_files.render_files(build_report({"b": {}}))
    with pytest.raises(OSError):
        report_files.write_files(str(tmp_path), changed)
    assert (tmp_path / "report.json").read_text() == before
    assert sorted(os.listdir(tmp_path)) == ["report.html", "report.json", "report.junit.xml", "report.md"]


def test_a_failure_while_staging_removes_what_was_staged(tmp_path, monkeypatch):
    files = report_files.render_files(build_report({"a": {}}))
    real_chmod = os.chmod
    calls = []

    def chmod(path, mode):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_chmod(path, mode)

    monkeypatch.setattr(report_files.os, "chmod", chmod)
    with pytest.raises(OSError):
        report_files.write_files(str(tmp_path), files)
    assert os.listdir(tmp_path) == []
