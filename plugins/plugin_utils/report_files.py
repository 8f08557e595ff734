# -*- coding: utf-8 -*-
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet report's files: rendered from Jinja2 templates in memory, then written together.

Runs on the controller (the fleet_report action). HTML and JUnit XML are
autoescaped; the Markdown environment escapes every value it prints, unless a
filter here marked it as Markdown already (a code block). A user's template
directory, when given, is searched before the bundled templates.
"""

from __future__ import annotations

import errno
import json
import os
import re
import tempfile

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from ansible_collections.rustkmod.roulette.plugins.plugin_utils.report_data import STATUS_LABELS, table_groups, tiles

BUNDLED_TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates", "fleet_report")
# Output name -> (file name, template name); json has no template.
FILES = {
    "json": ("report.json", None),
    "html": ("report.html", "report.html.j2"),
    "markdown": ("report.md", "report.md.j2"),
    "junit": ("report.junit.xml", "report.junit.xml.j2"),
}
HTML_LINES = 20  # kernel or console lines shown per death in the page (all are in report.json)
MARKDOWN_DEATHS = 50  # deaths whose lines report.md shows

# Backslash-escapes what CommonMark and GitHub's tables give a meaning to within a line.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~&])")


class MarkdownText(str):
    """Text that is Markdown already: printed as it is."""


def markdown_escape(value):
    """One line of literal text in Markdown: whitespace runs (newlines too) become one space."""
    if isinstance(value, MarkdownText):
        return value
    if value is None:
        return MarkdownText("")
    return MarkdownText(_MARKDOWN_SPECIAL.sub(r"\\\1", re.sub(r"\s+", " ", str(value))))


def code_block(lines, info="text"):
    """A fenced code block that no line can close: the fence is longer than any backtick run in it."""
    lines = [str(line) for line in lines or []]
    runs = [len(run) for line in lines for run in re.findall(r"`+", line)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return MarkdownText("\n".join([fence + info] + lines + [fence]))


def pct(rate, digits=2):
    """A rate (0..1) as a percentage."""
    if rate is None:
        return "-"
    value = rate * 100.0
    if value and abs(value) < 0.01:
        return f"{value:.2g} %"
    return f"{value:.{digits}f} %"


def num(value):
    """A count with thousands separators; '-' when unknown."""
    if value is None:
        return "-"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def things(count, word):
    """'1 host', '2 hosts', '1,000 deaths'."""
    return f"{num(count)} {word}{'' if count == 1 else 's'}"


def when(value):
    """An ISO 8601 time with a space for the T, so that it can wrap between date and time."""
    return "-" if not value else str(value).replace("T", " ", 1)


def breakable(text):
    """HTML of the text with a line-break chance after each dot: host names wrap at their labels."""
    return Markup(str(escape(text)).replace(".", ".<wbr>"))


def happened(row):
    """What happened to a host, as short parts: the message, where it died, the record's notes."""
    death = [row["panic_location"], f"kernel BUG at {row['bug_location']}" if row["bug_location"] else None]
    if row["console_line"] and row["console_line"] not in (row["msg"] or ""):
        death.append(row["console_line"])
    parts = [part for part in [row["msg"]] + death + [row["estimate_note"]] if part]
    return parts + [f"note: {note}" for note in row["notes"]]


def environments(template_dir=None):
    """(html_and_xml, markdown) Jinja2 environments over the user's then the bundled templates."""
    loaders = [FileSystemLoader(template_dir)] if template_dir else []
    loader = ChoiceLoader(loaders + [FileSystemLoader(BUNDLED_TEMPLATES)])
    common = {"loader": loader, "undefined": StrictUndefined, "trim_blocks": True, "lstrip_blocks": True,
              "keep_trailing_newline": True}
    markup = Environment(autoescape=True, **common)
    markdown = Environment(autoescape=False, finalize=markdown_escape, **common)
    for env in (markup, markdown):
        env.filters.update(pct=pct, num=num, things=things, when=when, happened=happened, status_label=lambda status: STATUS_LABELS.get(status, status))
    markup.filters.update(breakable=breakable)
    markdown.filters.update(code_block=code_block, md=markdown_escape)
    return markup, markdown


def render_files(report, template_dir=None):
    """Every file of the report as text, name -> (file name, text); raises on a template error."""
    markup, markdown = environments(template_dir)
    context = dict(report, tiles=tiles(report["summary"]), groups=table_groups(report["hosts"]),
                   html_lines=HTML_LINES, markdown_deaths=MARKDOWN_DEATHS)
    out = {"json": (FILES["json"][0], json.dumps(report, indent=2, sort_keys=True, allow_nan=False) + "\n")}
    for key, (name, template) in FILES.items():
        if template:
            env = markdown if key == "markdown" else markup
            out[key] = (name, env.get_template(template).render(context))
    return out


def _differs(path, data):
    try:
        with open(path, "rb") as handle:
            return handle.read() != data
    except OSError:
        return True


def write_files(dest, files):
    """Write every file to a temporary name in dest, then rename them all; True when one changed.

    Nothing is renamed until every file is written in full and every target is
    known to be replaceable (missing, or a file); a failure removes what was
    staged, and the old report stays whole.
    """
    os.makedirs(dest, exist_ok=True)
    for name, _text in files.values():
        path = os.path.join(dest, name)
        if os.path.lexists(path) and not os.path.isfile(path):
            raise OSError(errno.EEXIST, "not a regular file, not replaced", path)
    staged = []
    try:
        for name, text in files.values():
            path = os.path.join(dest, name)
            data = text.encode("utf-8")
            fd, tmp = tempfile.mkstemp(dir=dest, prefix=f".{name}.")
            staged.append((tmp, path, _differs(path, data)))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o644)
        for tmp, path, _changed in staged:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _path, _changed in staged:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        raise
    return any(changed for _tmp, _path, changed in staged)
