# SPDX-License-Identifier: GPL-3.0-or-later
"""roulette_lab.cli and the lab.py entry point: the commands scripts and playbooks call."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from roulette_lab import cli, instance

yaml = pytest.importorskip("yaml")

LAB_PY = Path(__file__).resolve().parents[3] / "molecule" / "shared" / "lab.py"


def test_lab_py_runs_the_package_from_anywhere(tmp_path):
    res = subprocess.run([sys.executable, str(LAB_PY), "--help"], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert res.stdout.startswith("usage: lab.py")
    for command in ("image", "up", "down", "list", "inventory", "status", "ssh", "chroot"):
        assert command in res.stdout


def test_errors_are_one_line_on_stderr_with_exit_1(tmp_path):
    res = subprocess.run(
        [sys.executable, str(LAB_PY), "up", "bad_name", "--state-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 1
    assert res.stdout == ""
    assert res.stderr.startswith("lab: error: bad instance name 'bad_name'")


def write_instance(sdir, inst):
    (sdir / inst["name"]).mkdir()
    (sdir / inst["name"] / "instance.json").write_text(json.dumps(inst))


def lab_instance(sdir, name, port):
    return {
        "name": name,
        "host": "127.0.0.1",
        "port": port,
        "user": "roulette",
        "key": "/k",
        "suite": "bookworm",
        "kernel_release": "6.1.0-56-amd64",
        "serial_log": str(sdir / name / "serial.log"),  # as launch() writes it
    }


def test_inventory_command_writes_only_live_instances(tmp_path, monkeypatch):
    for name, port in (("live", 10022), ("gone", 10023)):
        write_instance(tmp_path, lab_instance(tmp_path, name, port))
    monkeypatch.setattr(instance, "pid_is_ours", lambda pid, marker: marker.endswith("live"))
    out = tmp_path / "inv.yml"
    args = argparse.Namespace(state_dir=str(tmp_path), output=str(out), group="roulette")
    assert cli.cmd_inventory(args) == 0
    hosts = yaml.safe_load(out.read_text())["all"]["children"]["roulette"]["hosts"]
    assert list(hosts) == ["live"]
    assert hosts["live"]["roulette_console_log"] == str(tmp_path / "live" / "serial.log")


def test_spec_file_defaults(tmp_path, monkeypatch):
    monkeypatch.delenv("ROULETTE_LAB_ACCEL", raising=False)
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps([{"name": "a"}, {"name": "b", "suite": "trixie", "memory": 1024, "cpus": 1}]))
    args = argparse.Namespace(spec=str(spec_file), accel=None, name=[])
    specs = cli.load_specs(args)
    assert specs[0] == cli.Spec("a", "bookworm", cli.DEFAULT_MEMORY, cli.DEFAULT_CPUS, "tcg")
    assert specs[1] == cli.Spec("b", "trixie", 1024, 1, "tcg")


def test_up_prints_only_the_public_keys():
    inst = {"name": "a", "port": 10022, "state_dir": "/s/a", "disk": "/d/a.qcow2", "boot_seconds": 30.1}
    assert cli.public_view(inst) == {"name": "a", "port": 10022, "boot_seconds": 30.1}


def test_status_of_an_unknown_vm_is_absent(tmp_path, capsys):
    args = argparse.Namespace(state_dir=str(tmp_path), name=["nobody"])
    assert cli.cmd_status(args) == 0
    assert json.loads(capsys.readouterr().out) == {"name": "nobody", "state": "absent", "panic": False, "oops": False}


@pytest.mark.parametrize("command", [["image", "forky"], ["chroot", "forky", "--dest", "/x"], ["up", "vm", "--suite", "forky"]])
def test_forky_is_accepted_where_a_suite_is(command):
    args = cli.build_parser().parse_args(command)
    assert "forky" in (args.suite if isinstance(args.suite, list) else [args.suite])


class FakeImage:
    def __init__(self, suite):
        self.path = Path("/images") / suite
        self.raw, self.kernel, self.initrd = self.path / "base.raw", self.path / "vmlinuz", self.path / "initrd.img"
        self.kernel_release = "6.1.0-57-amd64"


def test_images_of_several_releases_are_built_side_by_side(monkeypatch, capsys):
    # Each build waits until the other has started: one after the other, the first would time out.
    barrier = threading.Barrier(2, timeout=10)

    def get_image(suite):
        barrier.wait()
        return FakeImage(suite)

    monkeypatch.setattr(cli.image, "get_image", get_image)
    monkeypatch.setattr(cli.image, "prune_images", lambda suite, keep: None)
    args = cli.build_parser().parse_args(["image", "bookworm", "trixie"])
    assert cli.cmd_image(args) == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [p["suite"] for p in printed] == ["bookworm", "trixie"]
    assert printed[1]["path"] == "/images/trixie"


def test_a_failed_image_build_fails_the_command_after_the_others_end(monkeypatch):
    built = []

    def get_image(suite):
        if suite == "bookworm":
            raise cli.LabError("mmdebstrap failed for bookworm")
        built.append(suite)
        return FakeImage(suite)

    monkeypatch.setattr(cli.image, "get_image", get_image)
    monkeypatch.setattr(cli.image, "prune_images", lambda suite, keep: None)
    with pytest.raises(cli.LabError, match="bookworm"):
        cli.cmd_image(cli.build_parser().parse_args(["image", "bookworm", "trixie"]))
    assert built == ["trixie"]


def test_get_images_asks_each_release_once_and_nothing_for_none(monkeypatch):
    asked = []
    monkeypatch.setattr(cli.image, "get_image", lambda suite: asked.append(suite) or FakeImage(suite))
    assert cli.get_images([]) == {}
    assert list(cli.get_images(["trixie", "bookworm", "trixie"])) == ["trixie", "bookworm"]
    assert sorted(asked) == ["bookworm", "trixie"]
