# SPDX-License-Identifier: GPL-3.0-or-later
"""QEMU's command line for a lab VM, and what a VM takes from the host: a loopback port for
SSH and memory."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

from .common import HOST, LabError, disk_path
from .image import Image

DEFAULT_MEMORY = 2048
DEFAULT_CPUS = 2
DEFAULT_PORT_BASE = 10022
PORT_SPAN = 1000
# Memory the host keeps for itself, and QEMU's own use per VM on top of the guest's RAM.
HOST_RESERVE_MIB = 1024
QEMU_OVERHEAD_MIB = 384


@dataclass
class Spec:
    name: str
    suite: str
    memory: int = DEFAULT_MEMORY
    cpus: int = DEFAULT_CPUS
    accel: str = "tcg"


def default_accel() -> str:
    accel = os.environ.get("ROULETTE_LAB_ACCEL", "tcg")
    if accel not in ("tcg", "kvm"):
        raise LabError(f"ROULETTE_LAB_ACCEL must be tcg or kvm, not {accel!r}")
    return accel


def pick_port(base: int, reserved: set[int], is_free, span: int = PORT_SPAN) -> int:
    """First port from base up that no lab instance holds and that can be bound now."""
    for port in range(base, base + span):
        if port in reserved:
            continue
        if is_free(port):
            return port
    raise LabError(f"no free loopback port in {base}..{base + span - 1}")


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def memory_fits(requested_mib: list[int], available_mib: int) -> bool:
    need = sum(r + QEMU_OVERHEAD_MIB for r in requested_mib) + HOST_RESERVE_MIB
    return need <= available_mib


def mem_available_mib(meminfo: str | None = None) -> int:
    if meminfo is None:
        meminfo = Path("/proc/meminfo").read_text()
    for line in meminfo.splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) // 1024
    raise LabError("cannot read MemAvailable from /proc/meminfo")


def kernel_cmdline(name: str, machine_id: str, extra: str = "") -> str:
    """The guest kernel's command line; extra (ROULETTE_LAB_KERNEL_ARGS) goes last."""
    return " ".join(
        [
            "root=/dev/vda",
            "rw",
            "console=ttyS0",
            "net.ifnames=0",
            "systemd.show_status=0",
            "systemd.getty_auto=0",
            f"systemd.hostname={name}",
            f"systemd.machine_id={machine_id}",
            *extra.split(),
        ]
    )


def qemu_command(spec: Spec, image: Image, idir: Path, port: int, machine_id: str, boot: tuple[Path, Path] | None = None) -> list[str]:
    """boot: (kernel, initrd) to boot instead of the image's own, e.g. a kernel the guest
    installed (instance.instance_reboot copies it out, as grub would pick it)."""
    kernel, initrd = boot or (image.kernel, image.initrd)
    if spec.accel == "kvm":
        accel = ["-accel", "kvm", "-cpu", "host"]
    else:
        # Where /dev/kvm is a PVM hypervisor (this project's machines) a stock Debian kernel
        # hangs in its decompressor under KVM: TCG is the default (ROULETTE_LAB_ACCEL).
        accel = ["-accel", "tcg,thread=multi", "-cpu", "max"]
    return [
        "qemu-system-x86_64",
        "-name",
        f"roulette-lab-{spec.name}",
        "-machine",
        "q35",
        *accel,
        "-smp",
        str(spec.cpus),
        "-m",
        str(spec.memory),
        "-nodefaults",
        "-no-user-config",
        "-display",
        "none",
        "-vga",
        "none",
        "-kernel",
        str(kernel),
        "-initrd",
        str(initrd),
        "-append",
        kernel_cmdline(spec.name, machine_id, os.environ.get("ROULETTE_LAB_KERNEL_ARGS", "")),
        # cache=unsafe: the host never syncs the overlay to its own disk. A guest's flush
        # still hands QEMU's cached data and qcow2 metadata to the host's page cache, so a
        # VM killed by `lab.py poweroff` keeps all it had flushed, as a disk after a power
        # cut; only a crash of the host itself would lose more.
        "-drive",
        f"file={disk_path(idir)},if=virtio,format=qcow2,cache=unsafe,discard=unmap",
        "-netdev",
        f"user,id=net0,hostfwd=tcp:{HOST}:{port}-:22",
        "-device",
        "virtio-net-pci,netdev=net0",
        "-device",
        "virtio-rng-pci",
        "-serial",
        f"file:{idir / 'serial.log'}",
        "-monitor",
        "none",
        "-pidfile",
        str(idir / "qemu.pid"),
        "-daemonize",
    ]
