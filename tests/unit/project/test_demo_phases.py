# SPDX-License-Identifier: GPL-3.0-or-later
"""scripts/demo.sh's table of where the time went: the callback that splits the playbook's run
into phases (scripts/ansible_plugins/callback/roulette_phases.py), driven here with Ansible's own
task objects and a clock of our own; that its tables name every play and role of site.yml; and
the script that prints the table (scripts/demo_phases.py). A real run of the callback is in
tests/integration/test_demo_phases.py. Neither the plugin nor these tests ship in the tarball."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import yaml
from ansible.playbook.role_include import IncludeRole
from ansible.playbook.task import Task
from ansible.plugins.loader import callback_loader

ROOT = Path(__file__).resolve().parents[3]
CALLBACK_DIR = ROOT / "scripts" / "ansible_plugins" / "callback"


def load_callback(output):
    """The plugin as ansible-playbook loads it (its options come from its DOCUMENTATION)."""
    callback_loader.add_directory(str(CALLBACK_DIR))
    callback = callback_loader.get("roulette_phases")
    callback.set_options(direct={"output": str(output)})
    return callback


phases_plugin = sys.modules[type(load_callback("")).__module__]

spec = importlib.util.spec_from_file_location("demo_phases", ROOT / "scripts" / "demo_phases.py")
demo_phases = importlib.util.module_from_spec(spec)
spec.loader.exec_module(demo_phases)


class Role:
    def __init__(self, name):
        self.name = name

    def get_name(self, include_role_fqcn=True):
        return self.name


class Play:
    def __init__(self, name):
        self.name = name

    def get_name(self):
        return self.name


def task(name, role=None, tags=()):
    made = Task(role=Role(role) if role else None)
    made.name = name
    made.tags = list(tags)
    return made


def include_role(name, role_name):
    made = IncludeRole()
    made.name = name
    made._role_name = role_name
    return made


# --- which phase a task belongs to -----------------------------------------------------------

@pytest.mark.parametrize("role, phase", [
    ("rustkmod.roulette.preflight", "checks"),
    ("rustkmod.roulette.kernel_headers", "toolchain"),
    ("rustkmod.roulette.rust_toolchain", "toolchain"),
    ("rustkmod.roulette.kmod_build", "build"),
    ("kmod_build", "build"),
    ("rustkmod.roulette.kmod_load", "load"),
])
def test_a_task_of_a_role_is_in_the_roles_phase(role, phase):
    assert phases_plugin.phase_of(task("Do it", role), "Build the module on the build hosts, once per kernel release") == phase


def test_an_include_role_task_is_in_the_phase_of_the_role_it_includes():
    included = include_role("Install the Rust toolchain", "rustkmod.roulette.rust_toolchain")
    assert phases_plugin.phase_of(included, "Build the module on the build hosts, once per kernel release") == "toolchain"


def test_the_planning_is_what_the_tag_roulette_plan_runs_even_in_a_role():
    assert phases_plugin.phase_of(task("Plan", "rustkmod.roulette.kmod_build", tags=["roulette_plan"]), "Plan the builds") == "plan"
    assert phases_plugin.phase_of(task("Choose where the module comes from", tags=["roulette_plan"]), "Build where ...") == "plan"


@pytest.mark.parametrize("play, phase", [
    ("Spin the roulette on the armed hosts", "spin"),
    ("Write the fleet report", "report"),
    ("Check the inventory and the settings", "checks"),
    ("Refuse the hosts whose settings are invalid", "checks"),
    ("A play of someone else's", "other"),
])
def test_a_task_outside_roles_is_in_its_plays_phase(play, phase):
    assert phases_plugin.phase_of(task("Spin the device"), play) == phase
    # A role that is not ours does not hide the play's phase.
    assert phases_plugin.phase_of(task("Spin the device", "someone.else.role"), play) == phase


# --- the playbooks and the tables agree ---------------------------------------------------

def plays(playbook):
    for entry in yaml.safe_load((ROOT / "playbooks" / playbook).read_text()):
        if "ansible.builtin.import_playbook" in entry:
            yield from plays(entry["ansible.builtin.import_playbook"])
        else:
            yield entry


def tasks(items, tags=()):
    """(task, tags with its blocks') of a list of tasks, blocks opened, and the tasks of the
    files a task includes (playbooks/tasks/...) after the include itself."""
    for item in items or []:
        own = tuple(tags) + tuple(item.get("tags", []))
        if "block" in item:
            for part in ("block", "rescue", "always"):
                yield from tasks(item.get(part), own)
        else:
            yield item, own
            if "ansible.builtin.include_tasks" in item:
                yield from tasks(yaml.safe_load((ROOT / "playbooks" / item["ansible.builtin.include_tasks"]).read_text()), own)


def test_every_role_of_the_collection_has_a_phase():
    assert set(phases_plugin.ROLE_PHASES) == {path.name for path in (ROOT / "roles").iterdir() if path.is_dir()}


def test_every_play_the_callback_names_is_a_play_of_site_yml():
    names = {play["name"] for play in plays("site.yml")}
    assert set(phases_plugin.PLAY_PHASES) <= names


def test_every_task_of_site_yml_gets_a_phase_other_than_other():
    unplaced = []
    for play in plays("site.yml"):
        for role in play.get("roles", []):
            if phases_plugin.role_short_name(role["role"]) not in phases_plugin.ROLE_PHASES:
                unplaced.append((play["name"], role["role"]))
        for item, tags in tasks(play.get("tasks")):
            included = (item.get("ansible.builtin.include_role") or item.get("ansible.builtin.import_role") or {}).get("name")
            if phases_plugin.PLAN_TAG in tags:
                continue
            if included is not None:
                if phases_plugin.role_short_name(included) not in phases_plugin.ROLE_PHASES:
                    unplaced.append((play["name"], item["name"]))
            elif play["name"] not in phases_plugin.PLAY_PHASES:
                unplaced.append((play["name"], item["name"]))
    assert unplaced == []


# --- the time of each phase ----------------------------------------------------------------

class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def run(tmp_path):
    """A callback writing to tmp_path/phases.json, and its clock."""
    callback = load_callback(tmp_path / "phases.json")
    callback.clock = Clock()
    return callback, callback.clock, tmp_path / "phases.json"


def test_each_phase_gets_the_time_from_its_tasks_starts_to_the_next_tasks_start(run):
    callback, clock, output = run
    callback.v2_playbook_on_play_start(Play("Check every host before anything is installed"))
    callback.v2_playbook_on_task_start(task("Check", "rustkmod.roulette.preflight"), False)
    clock.now += 2
    callback.v2_playbook_on_play_start(Play("Plan the builds"))
    callback.v2_playbook_on_task_start(task("Plan", "rustkmod.roulette.kmod_build", ["roulette_plan"]), False)
    clock.now += 1
    callback.v2_playbook_on_play_start(Play("Build the module on the build hosts, once per kernel release"))
    callback.v2_playbook_on_task_start(include_role("Build the module", "rustkmod.roulette.kmod_build"), False)
    clock.now += 0.5
    callback.v2_playbook_on_task_start(task("Compile", "rustkmod.roulette.kmod_build"), False)
    clock.now += 60
    callback.v2_playbook_on_handler_task_start(task("Reload", "rustkmod.roulette.kmod_load"))
    clock.now += 4
    callback.v2_playbook_on_play_start(Play("Write the fleet report"))
    callback.v2_playbook_on_task_start(task("Write the report"), False)
    clock.now += 3
    callback.v2_playbook_on_stats(None)

    report = json.loads(output.read_text())
    assert list(report["phases"].items()) == [("checks", 2), ("plan", 1), ("build", 60.5), ("load", 4), ("report", 3)]
    assert report["complete"] is True
    assert report["slowest_tasks"][:2] == [
        {"phase": "build", "task": "rustkmod.roulette.kmod_build : Compile", "seconds": 60},
        {"phase": "load", "task": "rustkmod.roulette.kmod_load : Reload", "seconds": 4},
    ]


def test_a_phase_that_comes_back_adds_up_and_keeps_its_place(run):
    callback, clock, output = run
    callback.v2_playbook_on_play_start(Play("Check the inventory and the settings"))
    for role, seconds in (("preflight", 1), ("kmod_load", 5), ("preflight", 2)):
        callback.v2_playbook_on_task_start(task("Step", role), False)
        clock.now += seconds
    callback.v2_playbook_on_stats(None)
    assert json.loads(output.read_text())["phases"] == {"checks": 3, "load": 5}


def test_a_run_that_stops_leaves_the_phases_of_the_tasks_that_started(run):
    callback, clock, output = run
    callback.v2_playbook_on_play_start(Play("Spin the roulette on the armed hosts"))
    callback.v2_playbook_on_task_start(task("Spin the device"), False)
    clock.now += 7
    callback.v2_playbook_on_play_start(Play("Write the fleet report"))
    callback.v2_playbook_on_task_start(task("Write the report"), False)
    report = json.loads(output.read_text())
    assert report == {"phases": {"spin": 7, "report": 0}, "complete": False,
                      "slowest_tasks": [{"phase": "spin", "task": "Spin the device", "seconds": 7}]}


def test_without_an_output_file_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    callback = load_callback("")
    callback.v2_playbook_on_play_start(Play("Write the fleet report"))
    callback.v2_playbook_on_task_start(task("Write the report"), False)
    callback.v2_playbook_on_stats(None)
    assert list(tmp_path.iterdir()) == []


def test_an_output_file_that_cannot_be_written_is_warned_about_once(tmp_path, capsys):
    callback = load_callback(tmp_path / "missing" / "phases.json")
    callback.v2_playbook_on_play_start(Play("Write the fleet report"))
    callback.v2_playbook_on_task_start(task("Write the report"), False)
    callback.v2_playbook_on_task_start(task("Show where the report is"), False)
    callback.v2_playbook_on_stats(None)
    err = capsys.readouterr().err
    assert err.count("roulette_phases: cannot write") == 1, err
    assert not (tmp_path / "missing").exists()


def test_the_checkouts_ansible_cfg_does_not_enable_it():
    text = (ROOT / "ansible.cfg").read_text()
    assert "roulette_phases" not in text and "callback_plugins" not in text and "callbacks_enabled" not in text


# --- the table -------------------------------------------------------------------------------

PLAYBOOK_REPORT = {"phases": {"checks": 10.0, "plan": 1.0, "toolchain": 100.0, "build": 60.0, "load": 5.0, "spin": 20.0, "report": 4.0},
                   "slowest_tasks": [{"phase": "toolchain", "task": "rust_toolchain : Install rustup", "seconds": 80.0}],
                   "complete": True}


def write_report(tmp_path, report=PLAYBOOK_REPORT):
    path = tmp_path / "playbook-phases.json"
    path.write_text(json.dumps(report))
    return path


def test_the_playbooks_row_is_split_into_its_phases_and_what_no_task_took(tmp_path, capsys):
    out = tmp_path / "phases.json"
    demo_phases.main(["--playbook-phases", str(write_report(tmp_path)), "--json", str(out),
                      "setup=30", "images=300", "boot=90.5", "chroots=120", "playbook=210", "teardown=4.5"])
    data = json.loads(out.read_text())
    rows = [(row["phase"], row["seconds"]) for row in data["phases"]]
    assert rows == [("setup", 30), ("images", 300), ("boot", 90.5), ("chroots", 120), ("ansible", 10),
                    ("checks", 10), ("plan", 1), ("toolchain", 100), ("build", 60), ("load", 5), ("spin", 20),
                    ("report", 4), ("teardown", 4.5)]
    assert data["total_seconds"] == 755
    assert data["phases"][1]["share"] == round(100 * 300 / 755, 1)
    assert data["exit_status"] == 0 and data["stopped_in"] is None and data["playbook_complete"] is True
    assert data["slowest_tasks"] == PLAYBOOK_REPORT["slowest_tasks"]
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split() == ["phase", "seconds", "share"]
    assert printed[2].split() == ["images", "300.0", "39.7%"]
    assert printed[-1].split() == ["total", "755.0", "100.0%", "(12.6", "min)"]


def test_a_failed_run_says_where_it_stopped(tmp_path, capsys):
    report = dict(PLAYBOOK_REPORT, phases={"checks": 10.0, "plan": 1.0, "toolchain": 40.0}, complete=True)
    demo_phases.main(["--playbook-phases", str(write_report(tmp_path, report)), "--exit-status", "2", "--stopped-in", "playbook",
                      "setup=30", "images=300", "boot=90", "playbook=60"])
    printed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in printed[1:-2]] == ["setup", "images", "boot", "ansible", "checks", "plan", "toolchain"]
    assert printed[-1] == "The demo failed (exit status 2) in its phase playbook: the times are those up to the failure."


@pytest.mark.parametrize("content", [None, "", "{not json", "[]", '{"phases": []}'])
def test_without_the_callbacks_report_the_playbook_stays_one_row(tmp_path, content):
    path = tmp_path / "playbook-phases.json"
    if content is not None:
        path.write_text(content)
    data = demo_phases.table(demo_phases.merge([("setup", 5.0), ("playbook", 15.0)], demo_phases.read_playbook_phases(path)))
    assert [(row["phase"], row["seconds"], row["share"]) for row in data["phases"]] == [("setup", 5, 25), ("playbook", 15, 75)]


def test_what_no_task_took_is_never_negative():
    rows = demo_phases.merge([("playbook", 9.0)], {"phases": {"build": 9.5}})
    assert rows == [("ansible", 0.0), ("build", 9.5)]


@pytest.mark.parametrize("arg", ["setup", "=3", "setup=soon"])
def test_a_phase_that_is_not_name_equals_seconds_is_refused(arg):
    with pytest.raises(SystemExit) as stopped:
        demo_phases.main([arg])
    assert stopped.value.code == 2
