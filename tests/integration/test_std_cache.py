# SPDX-License-Identifier: GPL-3.0-or-later
"""kmod_build keeps the std library crates (core, compiler_builtins, alloc) on the controller,
shown on a real build host: a Debian 12 chroot on this machine (community.general.chroot),
which builds at native speed.

1. A first build: the host builds the library (make prints STD), the controller keeps it in
   std/<id>/ (three rlibs and the stamp).
2. playbooks/teardown.yml removes the host's build trees and std cache.
3. A build with another build key (an extra patch): the host receives the library from the
   controller, and make builds the module without building the library.
4. The same run again changes nothing.

Needs root (chroot, mount), mmdebstrap (lab.py makes the chroot with it) and Debian's mirror.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from integration_support import ROOT, VENV_BIN, task_results

HOST = "build-bookworm"
LAB = ROOT / "molecule/shared/lab.py"
STD_FILES = {"libcore.rlib", "libcompiler_builtins.rlib", "liballoc.rlib", "stamp"}
STD_LINE = re.compile(r"^\s*STD\s", re.MULTILINE)

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="a chroot build host needs root (chroot, mount /proc /sys /dev)"),
    pytest.mark.skipif(shutil.which("mmdebstrap") is None,
                       reason="mmdebstrap is missing (lab.py makes the build chroot with it; scripts/setup.sh installs it)"),
]


@pytest.fixture(scope="module")
def chroot():
    # Not below pytest's tmp dirs: pytest deletes old ones, and /dev is mounted in here.
    dest = Path(tempfile.mkdtemp(prefix="roulette-std-chroot-", dir="/var/tmp")) / "bookworm"
    try:
        subprocess.run([sys.executable, str(LAB), "chroot", "bookworm", "--dest", str(dest), "--mount"],
                       check=True, capture_output=True, text=True, timeout=900)
        yield dest
    finally:
        subprocess.run([sys.executable, str(LAB), "chroot", "--dest", str(dest), "--remove"],
                       check=True, capture_output=True, text=True, timeout=300)
        dest.parent.rmdir()


@pytest.fixture
def play(chroot, tmp_path):
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"roulette_build": {"hosts": {HOST: {
        "ansible_connection": "community.general.chroot",
        "ansible_host": str(chroot),
        "ansible_python_interpreter": "/usr/bin/python3",
    }}}}))

    def run(playbook, extra_vars):
        argv = [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), str(ROOT / playbook),
                "-e", json.dumps(extra_vars)]
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
        proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
        try:
            report = json.loads(proc.stdout)
        except ValueError as exc:
            raise AssertionError("ansible-playbook printed no JSON:\n" + proc.stdout + proc.stderr) from exc
        failed = [(name, result.get("msg")) for name, result in task_results(report, HOST) if result.get("failed")]
        assert proc.returncode == 0, f"{playbook} failed: {failed}"
        return report
    return run


def result_of(report, prefix):
    found = [result for name, result in task_results(report, HOST) if name.startswith(prefix)]
    assert found, f"no task named {prefix!r}"
    return found[-1]


def module_of(report):
    modules = result_of(report, "Record where the module is")["ansible_facts"]["kmod_build_modules"]
    (release, path), = modules.items()
    return release, Path(path)


def make_log(report, chroot):
    """What make printed: the build log the role leaves in the build tree."""
    keys = result_of(report, "Record where the module is")["ansible_facts"]["kmod_build_keys"]
    (key,) = keys.values()
    return (chroot / "var/lib/rustkmod-roulette/build" / key / "build.log").read_text()


def std_ids(cache):
    return sorted(p.name for p in (cache / "std").iterdir())


def test_a_build_host_receives_the_std_library_from_the_controller(chroot, play, tmp_path):
    cache = tmp_path / "cache"
    build = "tests/integration/playbooks/chroot_build.yml"

    # 1. The host builds the library; the controller keeps it.
    first = play(build, {"kmod_build_controller_cache": str(cache)})
    make = make_log(first, chroot)
    print("first build's make output:\n" + make)
    assert STD_LINE.search(make), "the first build did not build the std library:\n" + make
    # The controller had no std library: its id was not asked before make, which packed the
    # library for the controller beside the driver's compile and said the id.
    assert result_of(first, "Ask the build tree for its std library id").get("skipped")
    assert re.search(r"^\s*PACK\s", make, re.MULTILINE), make
    assert result_of(first, "Pack the rlibs and the stamp").get("skipped")
    (std_id,) = std_ids(cache)  # and no temporary directory left behind
    controller_std = cache / "std" / std_id
    assert {p.name for p in controller_std.iterdir()} == STD_FILES
    (host_std,) = chroot.glob(f"var/cache/rustkmod-roulette/std/*/{std_id}")
    for name in STD_FILES:
        assert (controller_std / name).read_bytes() == (host_std / name).read_bytes(), name
    release, first_module = module_of(first)
    assert first_module.is_file()

    # 2. Teardown leaves the host without build trees and std cache.
    play("playbooks/teardown.yml", {})
    assert not (chroot / "var/lib/rustkmod-roulette/build").exists()
    assert not (chroot / "var/cache/rustkmod-roulette/std").exists()

    # 3. Another build key: the library comes from the controller, make builds none.
    note = tmp_path / "note.patch"
    note.write_text("--- /dev/null\n+++ b/NOTE\n@@ -0,0 +1 @@\n+Built by test_std_cache.py.\n")
    again = {"kmod_build_controller_cache": str(cache), "kmod_build_extra_patches": [str(note)]}
    second = play(build, again)
    copied = result_of(second, "Copy the rlibs from the controller")["results"]
    assert [r["item"] for r in copied if r["changed"]] == ["libcore.rlib", "libcompiler_builtins.rlib", "liballoc.rlib"]
    assert result_of(second, "Copy the stamp last")["changed"]
    make = make_log(second, chroot)
    print("second build's make output:\n" + make)
    assert not STD_LINE.search(make), "the std library was built again:\n" + make
    assert "RUSTC   roulette (staticlib)" in make and "DONE" in make
    assert result_of(second, "Keep the std library on the controller").get("skipped")
    second_release, second_module = module_of(second)
    assert second_release == release and second_module != first_module
    assert b"vermagic=" + release.encode() + b" " in second_module.read_bytes()
    assert std_ids(cache) == [std_id]

    # 4. Everything present: nothing changes.
    third = play(build, again)
    assert third["stats"][HOST]["changed"] == 0
    assert result_of(third, "Receive the std library from the controller").get("skipped")
