#!/usr/bin/python
# ruff: noqa: EXE001 - ansible-test wants modules not executable, with this shebang
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The work is done on the controller by the action plugin of the same name
# (plugins/action/fleet_report.py); this file holds its documentation and its
# argument spec, which the action validates against.

from __future__ import annotations

DOCUMENTATION = r"""
module: fleet_report
short_description: Write the fleet's roulette results as HTML, Markdown, JSON and JUnit XML
version_added: 0.1.0
description:
  - Takes every host's raw spin record, as playbooks/spin.yml keeps it in C(roulette_spin_record), decides each
    host's status (V(dead), V(unreachable), V(failed), V(stuck), V(alive), V(not_run), V(skipped)), and writes
    C(report.html), C(report.md), C(report.json) and C(report.junit.xml) into O(dest).
  - The page is self-contained (no scripts, no outside assets) and made for a 1280 px screen; at the top,
    counts per status and the fleet-wide death chance (total deaths over total spins) with a 95 % interval
    that fits the stopping rule used (exact negative-binomial when every host stopped at a death, else
    Clopper-Pearson), then the spins to the first death against the geometric distribution the driver's
    chance predicts, every host's status per kernel release, and the hosts, worst first, each death
    expanding to its kernel lines.
  - Runs on the controller, whatever the task's host; the files are written whatever happened to the hosts.
    A record that cannot be read as it is (a count that is not a finite number, more deaths than spins,
    a list where a string belongs, missing keys) is rendered with a note that says so, never stops the report.
  - Every file is rendered in memory first, then all are written to temporary names and renamed; a failure
    leaves the previous report whole.
author:
  - rustkmod.roulette maintainers (@rustkmod)
options:
  hosts:
    description:
      - Host name to that host's raw record, a dict with
        C(outcome) (V(not_armed), or V(spun), V(unreachable) or V(failed) as Ansible reported the spin task;
        V({}) for a host that never reached the spin, which is V(not_run) when armed, else V(skipped)),
        C(time) (when recorded, ISO 8601), C(kernel) (kernel release), C(count) (spins asked for),
        C(msg) (Ansible's message), C(console) (the host's serial console since the spin began, as returned
        by the P(rustkmod.roulette.console_panic#lookup) lookup),
        C(roulette) (the RV(rustkmod.roulette.spin#module:ansible_facts.roulette) fact, when spun) and
        C(roulette_info) (the RV(rustkmod.roulette.roulette_info#module:ansible_facts.roulette_info) fact).
      - A host lost during its spin (V(unreachable), or V(failed) because the connection went away) is
        V(dead) when its console shows a kernel panic since the spin began, else V(unreachable).
      - The P(rustkmod.roulette.host_outcome#filter) filter makes the same decision for one record.
    type: dict
    required: true
  armed_hosts:
    description:
      - The hosts that are armed (C(roulette_armed)). A host without a record is V(not_run) when armed, else V(skipped).
    type: list
    elements: str
    default: []
  failed_hosts:
    description:
      - Hosts that failed in the spin play without recording an outcome; they are V(failed).
    type: list
    elements: str
    default: []
  dest:
    description:
      - Directory on the controller to write the reports into; created when missing.
    type: path
    required: true
  title:
    description:
      - Title of the report, on one line (line breaks become spaces).
    type: str
    default: Kernel roulette fleet report
  templates:
    description:
      - A directory on the controller with Jinja2 templates to use instead of the bundled ones, by name
        (C(report.html.j2), C(report.md.j2), C(report.junit.xml.j2)); the bundled ones fill in the rest.
      - The HTML and XML templates are autoescaped; in the Markdown one every printed value is escaped.
    type: path
attributes:
  action:
    support: full
    description:
      - Runs on the controller as an action plugin.
  async:
    support: none
    description:
      - Not for async.
  check_mode:
    support: full
    description:
      - Everything is rendered, nothing is written; the paths that would be written are returned.
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
  - plugin: rustkmod.roulette.host_outcome
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Write the fleet report
  rustkmod.roulette.fleet_report:
    title: Friday's roulette
    dest: "{{ playbook_dir }}/../reports/latest"
    hosts: >-
      {{ dict(groups['roulette'] | zip(groups['roulette'] | map('extract', hostvars)
              | map(attribute='roulette_spin_record', default={}))) }}
    # Every host of the group is armed in this fleet.
    armed_hosts: "{{ groups['roulette'] }}"
    failed_hosts: "{{ roulette_fleet_failed_hosts | default([]) }}"
  register: report

- name: Say where the report is
  ansible.builtin.debug:
    msg: "Report: {{ report.html }}, {{ report.summary.dead }} dead"
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
junit:
  description: Path of C(report.junit.xml), one testcase per host (dead is a failure; lost, failed and stuck are errors).
  returned: always
  type: str
summary:
  description:
    - Counts over the fleet. C(hosts), one count per status (C(alive), C(dead), C(stuck), C(unreachable),
      C(failed), C(skipped), C(not_run)), C(spins), C(survived), C(died), C(timeouts), C(observed_death_rate)
      (the estimate's deaths over spins), C(died_without_spins) (deaths left out of the estimate, after a kernel
      panic at an unknown spin, or contradictory counts), C(hosts_with_notes).
  returned: always
  type: dict
  sample: {"hosts": 3, "alive": 1, "dead": 1, "unreachable": 1, "spins": 120, "died": 1}
estimate:
  description:
    - The fleet-wide death chance per spin, C(deaths) over C(spins) of C(hosts) hosts, as C(rate), with the
      95 % interval C(low) to C(high) and its C(method) (V(negative-binomial) or V(clopper-pearson));
      C(chances) the driver's chances seen, C(chance_inside) whether the single one is in the interval,
      C(left_out) the hosts not counted.
  returned: always
  type: dict
  sample: {"deaths": 3, "spins": 61, "hosts": 3, "rate": 0.049, "low": 0.0101, "high": 0.1409, "method": "negative-binomial"}
rows:
  description: One row per host, worst first, as in C(report.json) (C(host), C(status), C(msg), C(notes), ...).
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

ARGUMENT_SPEC = {
    "hosts": {"type": "dict", "required": True},
    "armed_hosts": {"type": "list", "elements": "str", "default": []},
    "failed_hosts": {"type": "list", "elements": "str", "default": []},
    "dest": {"type": "path", "required": True},
    "title": {"type": "str", "default": "Kernel roulette fleet report"},
    "templates": {"type": "path"},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(msg="rustkmod.roulette.fleet_report runs on the controller through its action plugin; "
                         "this module file only documents it")


if __name__ == "__main__":
    main()
