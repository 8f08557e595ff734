# SPDX-License-Identifier: GPL-3.0-or-later
"""A lab VM's life: its state directory, boot until SSH answers, removal, and status.

An instance is a directory $ROULETTE_LAB_STATE/<name>/ (instance.json, qemu.pid, serial.log,
qemu.cmd) plus a qcow2 overlay over its image (common.disk_path). A QEMU process is ours when
its command line names that directory, so a recycled pid is never taken for the VM."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from pathlib import Path

from .common import HOST, LAB_USER, LabError, disk_path, flocked, key_path, log, require_tools, sh_quote
from .console import serial_findings, serial_tail
from .image import Image, get_image
from .qemu import (
    DEFAULT_PORT_BASE,
    HOST_RESERVE_MIB,
    QEMU_OVERHEAD_MIB,
    Spec,
    mem_available_mib,
    memory_fits,
    pick_port,
    port_is_free,
    qemu_command,
)
from .ssh import ensure_key, ssh_ok

NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", re.IGNORECASE)


def check_name(name: str) -> str:
    """Instance names become host names and directory names: keep them to DNS labels."""
    if not NAME_RE.match(name):
        raise LabError(f"bad instance name {name!r}: use letters, digits and '-' (a DNS label, max 63)")
    return name


def read_instances(sdir: Path) -> list[dict]:
    out = []
    if not sdir.is_dir():
        return out
    for meta in sorted(sdir.glob("*/instance.json")):
        with contextlib.suppress(OSError, ValueError):
            out.append(json.loads(meta.read_text()))
    return out


def load_instance(idir: Path) -> dict | None:
    try:
        return json.loads((idir / "instance.json").read_text())
    except (OSError, ValueError):
        return None


def pid_is_ours(pid: int | None, marker: str) -> bool:
    if not pid:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    # "lab/vm1/" so that vm1 is not mistaken for vm10, whose paths also start with "lab/vm1".
    return marker.rstrip("/") + "/" in cmdline


def read_pid(idir: Path) -> int | None:
    try:
        return int((idir / "qemu.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def launch(spec: Spec, image: Image, sdir: Path, idir: Path) -> dict:
    """Start QEMU on a free port. The ports lock covers choosing the port and QEMU binding it."""
    base = int(os.environ.get("ROULETTE_LAB_PORT_BASE", DEFAULT_PORT_BASE))
    machine_id = secrets.token_hex(16)
    with flocked(sdir / ".ports.lock", "another VM taking a port"):
        reserved = {int(i["port"]) for i in read_instances(sdir) if i.get("port")}
        for _attempt in range(20):
            port = pick_port(base, reserved, port_is_free)
            cmd = qemu_command(spec, image, idir, port, machine_id)
            (idir / "qemu.cmd").write_text(" ".join(sh_quote(c) for c in cmd) + "\n")
            res = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                check=False,
            )
            if res.returncode == 0:
                break
            if "hostfwd" in res.stderr or "host forwarding" in res.stderr:
                reserved.add(port)  # taken by someone else since we looked: try the next one
                continue
            raise LabError(f"qemu failed to start {spec.name}: {res.stderr.strip()}")
        else:
            raise LabError("could not bind a host port for SSH after 20 tries")
        pid = read_pid(idir)
        inst = {
            "name": spec.name,
            "host": HOST,
            "port": port,
            "user": LAB_USER,
            "key": str(key_path()),
            "suite": spec.suite,
            "kernel_release": image.kernel_release,
            "pid": pid,
            "serial_log": str(idir / "serial.log"),
            "state_dir": str(idir),
            "image": str(image.path),
            "disk": str(disk_path(idir)),
            "memory": spec.memory,
            "cpus": spec.cpus,
            "accel": spec.accel,
            "started": time.time(),
        }
        (idir / "instance.json").write_text(json.dumps(inst, indent=2) + "\n")
    return inst


def instance_up(spec: Spec, sdir: Path, timeout: int, check_memory: bool = True) -> dict:
    check_name(spec.name)
    require_tools("qemu-system-x86_64", "qemu-img", "ssh")
    image = get_image(spec.suite)
    key = ensure_key()
    idir = sdir / spec.name
    with flocked(sdir / f".{spec.name}.lock", f"another up/down of {spec.name}"):
        current = load_instance(idir)
        if current and pid_is_ours(current.get("pid"), str(idir)):
            if current.get("suite") != spec.suite:
                raise LabError(f"{spec.name} already runs {current.get('suite')}; `lab.py down {spec.name}` first")
            if ssh_ok(int(current["port"]), key):
                return current
        if idir.exists():
            destroy(idir)
        if check_memory:
            avail = mem_available_mib()
            if not memory_fits([spec.memory], avail):
                raise LabError(
                    f"not enough memory for {spec.name}: it asks {spec.memory} MiB (+"
                    f"{QEMU_OVERHEAD_MIB} for QEMU), {avail} MiB available, "
                    f"{HOST_RESERVE_MIB} kept for the host; use --memory or stop other VMs"
                )
        idir.mkdir(parents=True)
        disk = disk_path(idir)
        disk.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "qemu-img",
                "create",
                "-q",
                "-f",
                "qcow2",
                "-b",
                str(image.raw),
                "-F",
                "raw",
                str(disk),
            ],
            check=True,
        )
        started = time.monotonic()
        inst = launch(spec, image, sdir, idir)
        log(f"{spec.name}: qemu pid {inst['pid']}, ssh on {HOST}:{inst['port']}, waiting for SSH")
        deadline = started + timeout
        while True:
            if not pid_is_ours(inst["pid"], str(idir)):
                tail = serial_tail(idir / "serial.log")
                destroy(idir)
                raise LabError(f"{spec.name}: qemu exited during boot; serial log tail:\n{tail}")
            if ssh_ok(inst["port"], key):
                break
            if time.monotonic() > deadline:
                tail = serial_tail(idir / "serial.log")
                destroy(idir)
                raise LabError(f"{spec.name}: no SSH after {timeout} s; killed it. Serial log tail:\n{tail}")
            time.sleep(2)
        inst["boot_seconds"] = round(time.monotonic() - started, 1)
        (idir / "instance.json").write_text(json.dumps(inst, indent=2) + "\n")
        log(f"{spec.name}: SSH ready after {inst['boot_seconds']} s")
        return inst


def destroy(idir: Path) -> None:
    """Stop the VM of a state directory and remove the directory."""
    pid = read_pid(idir)
    if pid_is_ours(pid, str(idir)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            if not pid_is_ours(pid, str(idir)):
                break
            time.sleep(0.1)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            for _ in range(50):
                if not pid_is_ours(pid, str(idir)):
                    break
                time.sleep(0.1)
    disk_path(idir).unlink(missing_ok=True)
    shutil.rmtree(idir, ignore_errors=True)


def instance_status(inst: dict, idir: Path) -> dict:
    alive = pid_is_ours(inst.get("pid"), str(idir))
    if not alive:
        state = "dead"
    elif ssh_ok(int(inst["port"]), key_path()):
        state = "running"
    else:
        state = "ssh-unreachable"
    try:
        serial = (idir / "serial.log").read_text(errors="replace")
    except OSError:
        serial = ""
    return {
        "name": inst["name"],
        "state": state,
        **serial_findings(serial),
        "serial_log": str(idir / "serial.log"),
        "pid": inst.get("pid"),
        "port": inst.get("port"),
    }
