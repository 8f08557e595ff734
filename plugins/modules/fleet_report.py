#!/usr/bin/python
# ruff: noqa: EXE001 - ansible-test wants modules not executable, with this shebang
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: fleet_report
short_description: Write the fleet's roulette results as JSON, HTML and Markdown
version_added: 1.0.0
description:
  - Takes every host's spin facts (or a marker saying the host was unreachable, failed, not armed
    or not run) and writes C(report.json), C(report.html) (a self-contained page with a table and
    an inline SVG chart of the observed death rate against the driver's chance) and C(report.md)
    into O(dest).
  - Meant to run once on the controller (delegated to C(localhost) with C(run_once)), after the spins.
    The report is written whatever happened to the hosts.
author:
  - rustkmod.roulette maintainers (@rustkmod)
options:
  hosts:
    description:
      - Host name to that host's record. A record is a dict with any of
        C(roulette) (the host's RV(rustkmod.roulette.spin#module:ansible_facts.roulette) fact),
        C(roulette_info) (its RV(rustkmod.roulette.roulette_info#module:ansible_facts.roulette_info) fact),
        C(status) (V(dead), V(unreachable), V(failed), V(skipped), V(not_run); derived from the facts when absent),
        C(msg) (why), C(time) (when, ISO 8601), C(kernel) (kernel release),
        C(died) (deaths of a host that returned no spin facts, for example one whose kernel panicked mid-spin),
        C(console) (what the host's serial console showed since the spin began, as returned by the
        P(rustkmod.roulette.console_panic#lookup) lookup, with C(panic), C(oops), C(boom), C(location), C(lines), C(path)).
      - A record that is the spin fact itself (it has C(spins_done)) is accepted too.
      - An explicit V(dead) record without spin facts (spin.yml writes one when the console shows a kernel panic)
        counts its C(died) (1 when absent) among the deaths but no spins; the observed death rates count only
        hosts with spin facts. Its console's panic line, or else its first oops line, is shown under "Panic at",
        after the driver's C(Rust panic @) location when the console had it.
    type: dict
    required: true
  dest:
    description:
      - Directory to write the reports into; created when missing.
    type: path
    required: true
  title:
    description:
      - Title of the report.
    type: str
    default: Kernel roulette fleet report
attributes:
  check_mode:
    support: full
    description:
      - Nothing is written; the paths that would be written are returned.
  diff_mode:
    support: none
    description:
      - The report files are not diffed.
  facts:
    support: none
    description:
      - Returns the report's paths and summary, no facts.
notes:
  - The report is always rewritten (it carries the time it was made), so the task reports C(changed)
    unless in check mode.
seealso:
  - module: rustkmod.roulette.spin
"""

EXAMPLES = r"""
- name: Write the fleet report
  rustkmod.roulette.fleet_report:
    title: Friday's roulette
    dest: "{{ playbook_dir }}/../reports/latest"
    hosts: >-
      {{ dict(groups['roulette'] | zip(groups['roulette'] | map('extract', hostvars)
              | map(attribute='roulette_spin_record', default={'status': 'not_run'}))) }}
  delegate_to: localhost
  run_once: true
  register: report

- name: Say where the report is
  ansible.builtin.debug:
    msg: "Report: {{ report.html }}"
"""

RETURN = r"""
dest:
  description: The directory written into.
  returned: always
  type: str
  sample: /srv/reports/20261126T190000Z
json:
  description: Path of C(report.json).
  returned: always
  type: str
html:
  description: Path of C(report.html).
  returned: always
  type: str
markdown:
  description: Path of C(report.md).
  returned: always
  type: str
summary:
  description:
    - Counts over the fleet. C(hosts), one count per status (C(alive), C(dead), C(stuck), C(unreachable),
      C(failed), C(skipped), C(not_run)), C(spins), C(survived), C(died), C(timeouts), C(observed_death_rate),
      C(died_without_spins) (deaths of hosts that returned no spin facts, left out of the observed rate).
  returned: always
  type: dict
  sample: {"hosts": 3, "alive": 1, "dead": 1, "unreachable": 1, "spins": 120, "died": 1}
rows:
  description: One row per host, as in C(report.json).
  returned: always
  type: list
  elements: dict
"""

import html
import json
import math
import os
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

STATUSES = ("alive", "dead", "stuck", "unreachable", "failed", "skipped", "not_run")
STATUS_COLOURS = {
    "alive": "#2e7d32", "dead": "#c62828", "stuck": "#ef6c00", "unreachable": "#6a1b9a",
    "failed": "#ad1457", "skipped": "#757575", "not_run": "#9e9e9e",
}


def wilson_interval(deaths, spins, z=1.96):
    """95 % confidence interval of a death rate (Wilson score), or None without spins."""
    if not spins:
        return None
    p = deaths / float(spins)
    denominator = 1 + z * z / spins
    centre = (p + z * z / (2 * spins)) / denominator
    half = z * math.sqrt(p * (1 - p) / spins + z * z / (4 * spins * spins)) / denominator
    return [round(max(0.0, centre - half), 6), round(min(1.0, centre + half), 6)]


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def host_row(name, record):
    """One host's report row from its record (see the hosts option)."""
    if not isinstance(record, dict):
        record = {"status": "failed", "msg": f"unexpected record: {record!r}"}
    if "spins_done" in record and "roulette" not in record:
        record = {"roulette": record}
    facts = record.get("roulette") if isinstance(record.get("roulette"), dict) else {}
    info = record.get("roulette_info") if isinstance(record.get("roulette_info"), dict) else {}
    console = record.get("console") if isinstance(record.get("console"), dict) else {}
    spins = _int(facts.get("spins_done")) or 0
    died = _int(facts.get("died")) or 0
    if not facts:
        # No spin facts came back (the host died with them): the record says how many deaths.
        died = _int(record.get("died")) or (1 if record.get("status") == "dead" else 0)
    chance = _int(facts.get("chance"))
    if chance is None:
        chance = _int(info.get("chance"))
    first_death = facts.get("first_death") if isinstance(facts.get("first_death"), dict) else None

    status = record.get("status")
    if status not in STATUSES:
        if record.get("unreachable"):
            status = "unreachable"
        elif record.get("failed"):
            status = "failed"
        elif record.get("skipped"):
            status = "skipped"
        elif not facts:
            status = "dead" if died else "not_run"
        elif died:
            status = "dead"
        elif facts.get("stuck_workers") or (spins and facts.get("alive") is False):
            status = "stuck"
        else:
            status = "alive"
    # When it happened: the first death for a dead host, the end of the
    # spins for a spun one, else the time of the marker.
    when = None
    if status == "dead" and first_death:
        when = first_death.get("time")
    elif status in ("alive", "stuck"):
        when = facts.get("finished")
    when = when or record.get("time") or facts.get("finished")
    observed = round(died / float(spins), 6) if spins else None
    interval = wilson_interval(died, spins)
    expected = chance / 100.0 if chance is not None else None
    location = first_death.get("location") if first_death else None
    confirmed = first_death.get("confirmed") if first_death else None
    if console and not first_death:
        location = console.get("location")
        if console.get("panic") or console.get("oops"):
            confirmed = bool(console.get("boom") or console.get("location"))
    lines = console.get("lines")
    return {
        "host": name,
        "status": status,
        "when": when,
        "msg": record.get("msg"),
        "kernel": record.get("kernel") or info.get("kernel_release") or facts.get("kernel_release"),
        "chance": chance,
        "spins": spins,
        "survived": _int(facts.get("survived")) or 0,
        "died": died,
        "timeouts": _int(facts.get("timeouts")) or 0,
        "observed_death_rate": observed,
        "expected_death_rate": expected,
        "rate_ci95": interval,
        "consistent": (interval[0] <= expected <= interval[1]) if interval and expected is not None else None,
        "confirmed": confirmed,
        "panic_location": location,
        "console_line": console.get("panic") or console.get("oops"),
        "console": [str(line) for line in lines] if isinstance(lines, list) else None,
        "first_death_spin": first_death.get("spin") if first_death else None,
        "taint_after": (facts.get("taint_after") or {}).get("letters") if isinstance(facts.get("taint_after"), dict) else None,
        "alive": facts.get("alive"),
        "elapsed": facts.get("elapsed"),
    }


def summarise(rows):
    summary = {"hosts": len(rows)}
    for status in STATUSES:
        summary[status] = sum(1 for row in rows if row["status"] == status)
    for key in ("spins", "survived", "died", "timeouts"):
        summary[key] = sum(row[key] for row in rows)
    # Deaths of hosts that returned no spin facts have no spins to divide by.
    measured = sum(row["died"] for row in rows if row["spins"])
    summary["died_without_spins"] = summary["died"] - measured
    summary["observed_death_rate"] = round(measured / float(summary["spins"]), 6) if summary["spins"] else None
    return summary


def _pct(rate):
    return "-" if rate is None else f"{rate * 100:.2f} %"


def _text(value):
    return "-" if value is None or value == "" else str(value)


def _unmeasured(summary):
    count = summary["died_without_spins"]
    return f"{count} on hosts that returned no spin counts; " if count else ""


def _panic_at(row):
    """Where it died, as one line: the driver's location, then the console's line."""
    parts = [part for part in (row["panic_location"], row["console_line"]) if part]
    return ": ".join(parts) if parts else "-"


def render_markdown(report):
    lines = [f"# {report['title']}", "", f"Generated {report['generated']}.", ""]
    s = report["summary"]
    counts = ", ".join(f"{s[status]} {status.replace('_', ' ')}" for status in STATUSES if s[status])
    lines.append(f"{s['hosts']} hosts: {counts or 'none'}. {s['spins']} spins, {s['died']} deaths"
                 f" ({_unmeasured(s)}observed {_pct(s['observed_death_rate'])}).")
    lines.append("")
    lines.append("| Host | Status | When | Kernel | Chance | Spins | Survived | Died | Observed | 95 % interval | Panic at |")
    lines.append("|---|---|---|---|---:|---:|---:|---:|---:|---|---|")
    for row in report["hosts"]:
        interval = "-" if not row["rate_ci95"] else f"{_pct(row['rate_ci95'][0])} - {_pct(row['rate_ci95'][1])}"
        status = row["status"] + (f" ({row['msg']})" if row["msg"] else "")
        cells = [row["host"], status, _text(row["when"]), _text(row["kernel"]),
                 "-" if row["chance"] is None else f"{row['chance']} %", str(row["spins"]),
                 str(row["survived"]), str(row["died"]), _pct(row["observed_death_rate"]), interval,
                 _panic_at(row)]
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    lines.append("")
    return "\n".join(lines)


def render_svg(rows):
    """Grouped bars per host: observed death rate and the driver's chance, in percent."""
    shown = [row for row in rows if row["spins"] or row["chance"] is not None]
    bar, gap, group_gap, left, top, height = 18, 4, 26, 48, 20, 200
    peak = max([1.0] + [row["chance"] or 0 for row in shown]
               + [(row["observed_death_rate"] or 0) * 100 for row in shown])
    scale = 10 ** math.floor(math.log10(peak))
    peak = math.ceil(peak / scale) * scale
    width = max(460, left + max(1, len(shown)) * (2 * bar + gap + group_gap) + 20)  # room for the legend
    total = top + height + 90
    out = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total}" '
            f'viewBox="0 0 {width} {total}" role="img" aria-label="Observed death rate against the chance">')]
    for step in range(5):
        value = peak * step / 4.0
        y = top + height - height * step / 4.0
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{value:g} %</text>')
    for index, row in enumerate(shown):
        x = left + 10 + index * (2 * bar + gap + group_gap)
        for offset, (value, colour, label) in enumerate((
                ((row["observed_death_rate"] or 0) * 100, "#c62828", "observed"),
                (row["chance"] or 0, "#1565c0", "chance"))):
            h = height * min(value, peak) / peak
            bx = x + offset * (bar + gap)
            out.append(f'<rect x="{bx}" y="{top + height - h:.1f}" width="{bar}" height="{h:.1f}" fill="{colour}">'
                       f'<title>{html.escape(row["host"])} {label}: {value:.2f} %</title></rect>')
        label_x = x + bar
        out.append(f'<text x="{label_x}" y="{top + height + 14}" font-size="11" text-anchor="end" '
                   f'transform="rotate(-40 {label_x} {top + height + 14})">{html.escape(row["host"])}</text>')
    legend_y = total - 12
    out.append(f'<rect x="{left}" y="{legend_y - 10}" width="12" height="12" fill="#c62828"/>'
               f'<text x="{left + 16}" y="{legend_y}" font-size="12">observed death rate</text>')
    out.append(f'<rect x="{left + 170}" y="{legend_y - 10}" width="12" height="12" fill="#1565c0"/>'
               f'<text x="{left + 186}" y="{legend_y}" font-size="12">chance (advertised)</text>')
    out.append("</svg>")
    return "\n".join(out)


def render_html(report):
    e = html.escape
    s = report["summary"]
    counts = ", ".join(f"{s[status]} {status.replace('_', ' ')}" for status in STATUSES if s[status])
    rows = []
    for row in report["hosts"]:
        interval = "-" if not row["rate_ci95"] else f"{_pct(row['rate_ci95'][0])} &ndash; {_pct(row['rate_ci95'][1])}"
        colour = STATUS_COLOURS.get(row["status"], "#000")
        msg = f'<div class="msg">{e(row["msg"])}</div>' if row["msg"] else ""
        consistent = {True: "yes", False: "no", None: "-"}[row["consistent"]]
        console = f'<div class="msg">console: {e(row["console_line"])}</div>' if row["console_line"] else ""
        rows.append(
            "<tr>"
            f"<td>{e(row['host'])}</td>"
            f'<td><span class="status" style="background:{colour}">{e(row["status"].replace("_", " "))}</span>{msg}</td>'
            f'<td class="when">{e(_text(row["when"]))}</td>'
            f"<td>{e(_text(row['kernel']))}</td>"
            f'<td class="n">{"-" if row["chance"] is None else str(row["chance"]) + " %"}</td>'
            f'<td class="n">{row["spins"]}</td><td class="n">{row["survived"]}</td><td class="n">{row["died"]}</td>'
            f'<td class="n">{_pct(row["observed_death_rate"])}</td><td>{interval}</td><td>{consistent}</td>'
            f"<td>{e(_text(row['panic_location']))}"
            f"{'' if row['confirmed'] is None else (' (confirmed)' if row['confirmed'] else ' (unconfirmed)')}"
            f"{console}</td>"
            "</tr>")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{e(report['title'])}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }}
th {{ background: #f3f3f3; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
td.when, td:first-child {{ white-space: nowrap; }}
.status {{ color: #fff; border-radius: 3px; padding: 1px 6px; }}
.msg {{ font-size: 85%; color: #555; max-width: 30em; }}
</style>
</head>
<body>
<h1>{e(report['title'])}</h1>
<p>Generated {e(report['generated'])}. {s['hosts']} hosts: {e(counts or 'none')}.
{s['spins']} spins, {s['died']} deaths ({e(_unmeasured(s))}observed {_pct(s['observed_death_rate'])}).</p>
<table>
<thead><tr><th>Host</th><th>Status</th><th>When</th><th>Kernel</th><th>Chance</th><th>Spins</th><th>Survived</th>
<th>Died</th><th>Observed rate</th><th>95 % interval</th><th>Chance in interval</th><th>Panic at</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
<h2>Observed death rate against the chance</h2>
{render_svg(report['hosts'])}
</body>
</html>
"""


def build_report(hosts, title, generated=None):
    rows = [host_row(name, hosts[name]) for name in sorted(hosts)]
    return {
        "title": title,
        "generated": generated or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "summary": summarise(rows),
        "hosts": rows,
    }


class FleetReport:
    def __init__(self, module):
        self.module = module

    def write(self, path, text):
        """Write atomically; True when the content changed."""
        try:
            with open(path, encoding="utf-8") as handle:
                if handle.read() == text:
                    return False
        except OSError:
            pass
        folder = os.path.dirname(path)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".report-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        self.module.atomic_move(tmp, path)
        return True

    def run(self):
        params = self.module.params
        dest = params["dest"]
        report = build_report(params["hosts"], params["title"])
        paths = {
            "json": os.path.join(dest, "report.json"),
            "html": os.path.join(dest, "report.html"),
            "markdown": os.path.join(dest, "report.md"),
        }
        result = dict(paths, dest=dest, summary=report["summary"], rows=report["hosts"], changed=False)
        if self.module.check_mode:
            return result
        try:
            os.makedirs(dest, exist_ok=True)
            changed = False
            changed |= self.write(paths["json"], json.dumps(report, indent=2, sort_keys=True) + "\n")
            changed |= self.write(paths["html"], render_html(report))
            changed |= self.write(paths["markdown"], render_markdown(report))
        except OSError as exc:
            self.module.fail_json(msg=f"cannot write the report into {dest}: {exc}", **paths)
        result["changed"] = changed
        return result


def build_module():
    return AnsibleModule(
        argument_spec={
            "hosts": {"type": "dict", "required": True},
            "dest": {"type": "path", "required": True},
            "title": {"type": "str", "default": "Kernel roulette fleet report"},
        },
        supports_check_mode=True,
    )


def main():
    module = build_module()
    module.exit_json(**FleetReport(module).run())


if __name__ == "__main__":
    main()
