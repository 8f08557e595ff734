# SPDX-License-Identifier: GPL-3.0-or-later
"""Time the phases of a playbooks/site.yml run, for scripts/demo.sh's per-phase table.

Runs on the controller, in ansible-playbook. scripts/demo.sh enables it through the environment
(ANSIBLE_CALLBACK_PLUGINS, ANSIBLE_CALLBACKS_ENABLED) and names its output file in
ROULETTE_PHASES_FILE; the checkout's ansible.cfg does not enable it, so other runs are unchanged.
It lives in scripts/, which the collection's tarball leaves out.

A task's phase is decided by what the playbooks say about it (phase_of()): the tag roulette_plan
(what `--tags roulette_plan` runs) is the planning; then the role the task belongs to, or that an
include_role task includes; then the play, for tasks outside roles. Tasks of different hosts run
at the same time, so a phase gets the wall-clock time from the start of each of its tasks to the
start of the next task (as ansible.posix.profile_tasks measures a task), not a sum over hosts."""

from __future__ import annotations

DOCUMENTATION = r"""
name: roulette_phases
type: aggregate
short_description: Write the wall-clock time of each phase of a site.yml run to a JSON file
description:
  - Attributes the time between one task's start and the next task's start to the first task's
    phase, by its tag C(roulette_plan), its role, or its play (see C(ROLE_PHASES) and C(PLAY_PHASES)).
  - Writes the file after every task, and at the end of each playbook with C(complete) true. A run
    that fails still leaves its phases; one that is interrupted leaves those up to its last task.
  - Enabled by C(scripts/demo.sh) only; it writes nothing when its output file is not set.
options:
  output:
    description: Path of the JSON file to write.
    default: ''
    env:
      - name: ROULETTE_PHASES_FILE
"""

import contextlib
import json
import os
import tempfile
import time

from ansible.playbook.role_include import IncludeRole
from ansible.plugins.callback import CallbackBase

PLAN_TAG = "roulette_plan"
ROLE_PHASES = {
    "preflight": "checks",
    "kernel_headers": "toolchain",
    "rust_toolchain": "toolchain",
    "kmod_build": "build",
    "kmod_load": "load",
}
# Plays of playbooks/site.yml, spin.yml and checks.yml whose own tasks (outside roles) have a
# phase of their own. tests/unit/project/test_demo_phases.py checks that these names exist and
# that every task of site.yml gets a phase from this table, ROLE_PHASES or PLAN_TAG.
PLAY_PHASES = {
    "Check the inventory and the settings": "checks",
    "Refuse the hosts whose settings are invalid": "checks",
    "Plan the builds": "plan",
    # Their own task outside roles: the include of playbooks/tasks/build_here.yml.
    "Build the module on the build hosts, once per kernel release": "build",
    "Build where no build host did, then load the module on the armed targets": "build",
    "Spin the roulette on the armed hosts": "spin",
    "Write the fleet report": "report",
}
OTHER = "other"
SLOWEST = 10


def role_short_name(name):
    """kmod_build for rustkmod.roulette.kmod_build, and for kmod_build itself."""
    return str(name or "").rsplit(".", 1)[-1]


def phase_of(task, play_name):
    """The phase of a task (a Task or IncludeRole of Ansible, or anything with the same attributes)."""
    if PLAN_TAG in (task.tags or []):
        return "plan"
    # An include_role task's own time (loading the role) belongs to the role it includes.
    role = task._role_name if isinstance(task, IncludeRole) else (task._role.get_name() if task._role else "")
    phase = ROLE_PHASES.get(role_short_name(role))
    return phase or PLAY_PHASES.get(play_name, OTHER)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "roulette_phases"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.clock = time.monotonic
        self._play_name = ""
        self._running = None  # (phase, task name, started) of the task that started last
        self.seconds = {}  # phase -> seconds, in the order the phases first ran
        self.task_seconds = {}  # (phase, task name) -> seconds, summed over batches
        self._write_failed = False

    def _stop_running(self):
        if self._running is None:
            return
        phase, name, started = self._running
        spent = max(self.clock() - started, 0.0)
        self.seconds[phase] = self.seconds.get(phase, 0.0) + spent
        self.task_seconds[(phase, name)] = self.task_seconds.get((phase, name), 0.0) + spent
        self._running = None

    def _start(self, task):
        self._stop_running()
        self._running = (phase_of(task, self._play_name), task.get_name().strip(), self.clock())
        self.seconds.setdefault(self._running[0], 0.0)
        self._write(complete=False)

    def report(self, complete):
        slowest = sorted(self.task_seconds.items(), key=lambda item: -item[1])[:SLOWEST]
        return {
            "phases": {phase: round(seconds, 3) for phase, seconds in self.seconds.items()},
            "slowest_tasks": [{"phase": phase, "task": name, "seconds": round(seconds, 3)} for (phase, name), seconds in slowest],
            "complete": complete,
        }

    def _write(self, complete):
        path = self.get_option("output")
        if not path or self._write_failed:
            return
        path = os.path.abspath(os.path.expanduser(path))
        tmp = None
        try:
            # Replaced whole, so that a reader never sees half a file.
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".roulette-phases-")
            with os.fdopen(fd, "w") as handle:
                json.dump(self.report(complete), handle, indent=2)
                handle.write("\n")
            os.replace(tmp, path)
        except OSError as exc:
            self._write_failed = True
            self._display.warning("roulette_phases: cannot write %s: %s" % (path, exc))
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)

    def v2_playbook_on_play_start(self, play):
        self._play_name = play.get_name().strip()

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._start(task)

    def v2_playbook_on_stats(self, stats):
        self._stop_running()
        self._write(complete=True)
