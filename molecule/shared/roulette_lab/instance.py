# SPDX-License-Identifier: GPL-3.0-or-later
"""A lab VM's life: its state directory, boot until SSH answers, power-off and boot again,
removal, and status.

An instance is a directory $ROULETTE_LAB_STATE/<name>/ (instance.json, qemu.pid, serial.log,
qemu.cmd) plus a qcow2 overlay over its image (common.disk_path). A QEMU process is ours when
its command line names that directory, so a recycled pid is never taken for the VM.

instance.json says what the VM is (suite, image, memory, cpus, accel, machine id, port) so
that a VM powered off (`"power": "off"`, QEMU gone, overlay kept) boots again as the same
machine on the same disk; `"boots"` counts its boots."""

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
from .ssh import ensure_key, ssh_base, ssh_ok

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


def start_qemu(cmd: list[str]) -> subprocess.CompletedProcess:
    """Run QEMU, which daemonizes once the VM runs (or fails with a message on stderr)."""
    return subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)


def make_overlay(image: Image, disk: Path) -> None:
    """A new qcow2 overlay over the image: the VM's own disk, empty until the guest writes."""
    disk.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(image.raw), "-F", "raw", str(disk)], check=True)


def launch(
    spec: Spec,
    image: Image,
    sdir: Path,
    idir: Path,
    machine_id: str | None = None,
    port: int | None = None,
    boots: int = 1,
    boot: dict | None = None,
) -> dict:
    """Start QEMU on a free port (port, when given and free, first). The ports lock covers
    choosing the port and QEMU binding it. boot: {"release", "kernel", "initrd"} of a kernel
    the guest installed (instance_reboot), booted instead of the image's."""
    files = (Path(boot["kernel"]), Path(boot["initrd"])) if boot else None
    base = int(os.environ.get("ROULETTE_LAB_PORT_BASE", DEFAULT_PORT_BASE))
    machine_id = machine_id or secrets.token_hex(16)
    with flocked(sdir / ".ports.lock", "another VM taking a port"):
        # Powered-off VMs keep their port: they come back on it.
        reserved = {int(i["port"]) for i in read_instances(sdir) if i.get("port") and i.get("name") != spec.name}
        preferred = port if port and port not in reserved and port_is_free(port) else None
        for _attempt in range(20):
            port = preferred or pick_port(base, reserved, port_is_free)
            preferred = None
            cmd = qemu_command(spec, image, idir, port, machine_id, boot=files)
            (idir / "qemu.cmd").write_text(" ".join(sh_quote(c) for c in cmd) + "\n")
            res = start_qemu(cmd)
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
            "kernel_release": boot["release"] if boot else image.kernel_release,
            "pid": pid,
            "serial_log": str(idir / "serial.log"),
            "state_dir": str(idir),
            "image": str(image.path),
            "disk": str(disk_path(idir)),
            "memory": spec.memory,
            "cpus": spec.cpus,
            "accel": spec.accel,
            "machine_id": machine_id,
            "boots": boots,
            "started": time.time(),
        }
        if boot:
            inst["boot"] = boot
        save_instance(idir, inst)
    return inst


def save_instance(idir: Path, inst: dict) -> None:
    (idir / "instance.json").write_text(json.dumps(inst, indent=2) + "\n")


PANIC_AT_BOOT = "the kernel panicked while booting"


def booted_into_panic(idir: Path) -> bool:
    try:
        return serial_findings((idir / "serial.log").read_text(errors="replace"))["panic"]
    except OSError:
        return False


def wait_for_ssh(inst: dict, idir: Path, key: Path, deadline: float) -> str | None:
    """Wait until the guest answers SSH: None then, else what went wrong."""
    while True:
        if not pid_is_ours(inst["pid"], str(idir)):
            return "qemu exited during boot"
        if booted_into_panic(idir):
            return PANIC_AT_BOOT
        if ssh_ok(inst["port"], key):
            return None
        if time.monotonic() > deadline:
            return "no SSH"
        time.sleep(2)


def check_memory_for(name: str, memory: int) -> None:
    avail = mem_available_mib()
    if not memory_fits([memory], avail):
        raise LabError(
            f"not enough memory for {name}: it asks {memory} MiB (+"
            f"{QEMU_OVERHEAD_MIB} for QEMU), {avail} MiB available, "
            f"{HOST_RESERVE_MIB} kept for the host; use --memory or stop other VMs"
        )


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
        elif current and current.get("power") == "off":
            # Powered off on purpose: its disk is what the user wants back, not a new one.
            if current.get("suite") != spec.suite:
                raise LabError(f"{spec.name} is a powered-off {current.get('suite')} VM; `lab.py down {spec.name}` first")
            log(f"{spec.name}: powered off, booting its disk again (`lab.py down {spec.name}` first for a new VM)")
            return boot_again(current, idir, sdir, key, timeout, check_memory)
        if idir.exists():
            destroy(idir)
        if check_memory:
            check_memory_for(spec.name, spec.memory)
        idir.mkdir(parents=True)
        for attempt in (1, 2):
            make_overlay(image, disk_path(idir))
            started = time.monotonic()
            inst = launch(spec, image, sdir, idir)
            log(f"{spec.name}: qemu pid {inst['pid']}, ssh on {HOST}:{inst['port']}, waiting for SSH")
            failed = wait_for_ssh(inst, idir, key, started + timeout)
            if failed != PANIC_AT_BOOT or attempt == 2:
                break
            # A new VM of a good image that panics before SSH met an emulator race (seen under
            # multi-threaded TCG: an oops in code being patched at boot), not a fault of the
            # image or of the collection: one more new VM, and its console kept for reading.
            with contextlib.suppress(OSError):
                shutil.copyfile(idir / "serial.log", sdir / f".{spec.name}.panicked-boot.log")
            log(f"{spec.name}: {PANIC_AT_BOOT} (console: {sdir / f'.{spec.name}.panicked-boot.log'}); booting a new VM once more")
            destroy(idir)
            idir.mkdir(parents=True)
        if failed:
            tail = serial_tail(idir / "serial.log")
            destroy(idir)
            if failed == "no SSH":
                raise LabError(f"{spec.name}: no SSH after {timeout} s; killed it. Serial log tail:\n{tail}")
            raise LabError(f"{spec.name}: {failed}; serial log tail:\n{tail}")
        inst["boot_seconds"] = round(time.monotonic() - started, 1)
        save_instance(idir, inst)
        log(f"{spec.name}: SSH ready after {inst['boot_seconds']} s")
        return inst


def instance_start(name: str, sdir: Path, timeout: int, check_memory: bool = True) -> dict:
    """Boot a powered-off VM again from its kept disk, as the same machine, and wait for SSH."""
    with existing_instance(name, sdir) as (inst, idir, key):
        return boot_again(inst, idir, sdir, key, timeout, check_memory)


@contextlib.contextmanager
def existing_instance(name: str, sdir: Path):
    """(instance, its dir, the lab's SSH key) of a VM `up` made, under the instance's lock,
    for a command that boots it again (start, reboot)."""
    check_name(name)
    require_tools("qemu-system-x86_64", "ssh")
    key = ensure_key()
    idir = sdir / name
    with flocked(sdir / f".{name}.lock", f"another up/down of {name}"):
        inst = load_instance(idir)
        if inst is None:
            raise LabError(f"no instance {name} in {sdir}: `lab.py up {name} --suite SUITE` makes one")
        yield inst, idir, key


def boot_again(inst: dict, idir: Path, sdir: Path, key: Path, timeout: int, check_memory: bool) -> dict:
    """QEMU again on the instance's overlay and image (not the suite's newest image: the
    overlay is a diff against the one it was made over). Caller holds the instance's lock."""
    name = inst["name"]
    if pid_is_ours(inst.get("pid"), str(idir)):
        if ssh_ok(int(inst["port"]), key):
            return inst
        raise LabError(f"{name} runs but does not answer SSH; `lab.py poweroff {name}` first")
    disk = disk_path(idir)
    if not disk.exists():
        raise LabError(f"{name}: its disk {disk} is gone; `lab.py down {name}`, then `up`, for a new VM")
    image = Image(inst["suite"], Path(inst["image"]))
    if not (image.raw.exists() and image.kernel.exists() and image.initrd.exists()):
        raise LabError(f"{name}: its image {image.path} is gone; `lab.py down {name}`, then `up`, for a new VM")
    boot = inst.get("boot")
    if boot and not (Path(boot["kernel"]).exists() and Path(boot["initrd"]).exists()):
        raise LabError(
            f"{name}: the kernel it last booted ({boot['release']}, copied to {idir / 'boot'}) is gone; `lab.py down {name}`, then `up`, for a new VM"
        )
    spec = Spec(name, inst["suite"], int(inst["memory"]), int(inst["cpus"]), inst.get("accel", "tcg"))
    if check_memory:
        check_memory_for(name, spec.memory)
    boots = int(inst.get("boots", 1))
    # QEMU starts serial.log afresh; the console of the boot before the power cut stays.
    with contextlib.suppress(FileNotFoundError):
        os.replace(idir / "serial.log", idir / f"serial.log.{boots}")
    started = time.monotonic()
    again = launch(spec, image, sdir, idir, machine_id=inst.get("machine_id"), port=inst.get("port"), boots=boots + 1, boot=boot)
    log(f"{name}: boot {boots + 1} from its disk ({again['kernel_release']}), qemu pid {again['pid']}, ssh on {HOST}:{again['port']}, waiting for SSH")
    failed = wait_for_ssh(again, idir, key, started + timeout)
    if failed:
        tail = serial_tail(idir / "serial.log")
        cut_power(idir, again)
        if failed == "no SSH":
            failed = f"no SSH after {timeout} s"
        raise LabError(f"{name}: {failed}; powered it off again, its disk is kept. Serial log tail:\n{tail}")
    again["boot_seconds"] = round(time.monotonic() - started, 1)
    save_instance(idir, again)
    log(f"{name}: SSH ready after {again['boot_seconds']} s")
    return again


def release_key(release: str) -> tuple:
    """Order kernel releases as a version sort does (6.12.48+deb12-amd64 after
    6.1.0-57-amd64): runs of digits compare as numbers, the rest as text."""
    return tuple((1, int(part), "") if part.isdigit() else (0, 0, part) for part in re.findall(r"\d+|\D+", release))


def installed_kernels(boot_listing: str) -> list[str]:
    """The kernel releases that `ls -1 /boot` shows with both a vmlinuz and an initrd, oldest first."""
    names = set(boot_listing.split())
    releases = [n[len("vmlinuz-") :] for n in names if n.startswith("vmlinuz-")]
    return sorted((r for r in releases if f"initrd.img-{r}" in names), key=release_key)


def guest(inst: dict, key: Path, command: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        ssh_base(int(inst["port"]), key) + [command],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
        check=False,
    )


def instance_reboot(name: str, sdir: Path, timeout: int, release: str | None = None, shutdown_timeout: int = 180) -> dict:
    """Reboot a running VM into a kernel installed on its disk: the newest (the one Debian's
    grub would boot by default) unless `release` names another. The lab boots kernels with
    QEMU's -kernel, so the guest's /boot/vmlinuz-R and initrd.img-R are copied out to the
    instance's boot/ directory first; then the guest shuts down cleanly and boots them, and
    every later `start` (or a reboot from inside the guest) boots them too."""
    with existing_instance(name, sdir) as (inst, idir, key):
        if not (pid_is_ours(inst.get("pid"), str(idir)) and ssh_ok(int(inst["port"]), key)):
            raise LabError(f"{name} is not running and answering SSH: reboot needs the guest to shut down cleanly")
        listing = guest(inst, key, "ls -1 /boot")
        kernels = installed_kernels(listing.stdout.decode(errors="replace"))
        if not kernels:
            raise LabError(f"{name}: no kernel with an initrd in its /boot ({listing.stderr.decode(errors='replace').strip()})")
        release = release or kernels[-1]
        if release not in kernels:
            raise LabError(f"{name}: kernel {release} is not installed (with an initrd) in its /boot; it has {', '.join(kernels)}")
        bdir = idir / "boot"
        bdir.mkdir(exist_ok=True)
        boot = {"release": release}
        for what, src in (("kernel", f"vmlinuz-{release}"), ("initrd", f"initrd.img-{release}")):
            got = guest(inst, key, f"sudo cat /boot/{src}", timeout=300)
            if got.returncode != 0 or not got.stdout:
                raise LabError(f"{name}: could not copy /boot/{src} out: {got.stderr.decode(errors='replace').strip()}")
            tmp = bdir / f".{src}.tmp"
            tmp.write_bytes(got.stdout)
            os.replace(tmp, bdir / src)
            boot[what] = str(bdir / src)
        log(f"{name}: shutting down to boot {release}")
        pid = inst.get("pid")
        # The guest ends the SSH session as it stops: its exit status says nothing.
        guest(inst, key, "sudo systemctl poweroff", timeout=60)
        deadline = time.monotonic() + shutdown_timeout
        while pid_is_ours(pid, str(idir)) and time.monotonic() < deadline:
            time.sleep(1)
        if pid_is_ours(pid, str(idir)):
            log(f"{name}: still running {shutdown_timeout} s after poweroff; cutting its power")
        inst = cut_power(idir, inst)
        inst["boot"] = boot
        save_instance(idir, inst)
        return boot_again(inst, idir, sdir, key, timeout, check_memory=True)


def power_off(idir: Path) -> dict:
    """Pull the plug: QEMU is killed at once (SIGKILL), so the guest neither shuts down nor
    syncs; the overlay keeps what the guest had flushed to its disk, as a disk does after a
    power cut (see qemu.qemu_command on cache=unsafe). State and overlay stay for `start`."""
    name = idir.name
    with flocked(idir.parent / f".{name}.lock", f"another up/down of {name}"):
        inst = load_instance(idir)
        if inst is None:
            raise LabError(f"no instance {name} in {idir.parent}")
        return cut_power(idir, inst)


def cut_power(idir: Path, inst: dict) -> dict:
    """Kill the instance's QEMU, if it runs, and record it as powered off. Caller holds its lock."""
    pid = read_pid(idir)
    if pid_is_ours(pid, str(idir)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        for _ in range(100):
            if not pid_is_ours(pid, str(idir)):
                break
            time.sleep(0.1)
        else:
            raise LabError(f"{inst['name']}: qemu (pid {pid}) survived SIGKILL")
    if inst.get("power") != "off" or inst.get("pid") is not None:
        inst = dict(inst, power="off", pid=None, powered_off=time.time())
        inst.pop("boot_seconds", None)
        save_instance(idir, inst)
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
        state = "off" if inst.get("power") == "off" else "dead"
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
