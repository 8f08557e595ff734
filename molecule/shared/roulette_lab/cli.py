# SPDX-License-Identifier: GPL-3.0-or-later
"""The `lab.py` command line: one function per subcommand over the lab's modules.

stdout carries results (JSON lines, tables, inventories) that scripts and create.yml read;
progress and errors go to stderr, prefixed "lab:"."""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from . import chroot, image, instance
from .common import LabError, disk_path, flocked, log, parse_size_mib, state_dir
from .debian import SUITES
from .inventory import render_inventory
from .qemu import DEFAULT_CPUS, DEFAULT_MEMORY, HOST_RESERVE_MIB, QEMU_OVERHEAD_MIB, Spec, default_accel, mem_available_mib, memory_fits
from .ssh import ssh_base

DESCRIPTION = "VM lab for rustkmod.roulette: boots throw-away Debian VMs to load kernel modules in."
DEFAULT_BOOT_TIMEOUT = 300

# The keys of an instance that `up` prints and `list --json` shows.
PUBLIC_KEYS = (
    "name",
    "host",
    "port",
    "user",
    "key",
    "suite",
    "kernel_release",
    "pid",
    "serial_log",
    "memory",
    "cpus",
    "accel",
    "boot_seconds",
)


def public_view(inst: dict) -> dict:
    return {k: inst.get(k) for k in PUBLIC_KEYS if k in inst}


def get_images(suites, rebuild: bool = False) -> dict:
    """The images of these releases (each built when missing, or always with rebuild), built
    side by side: each release's by its own mmdebstrap, under its own lock (on a fresh machine
    the demo's two took 113 s one after the other, 73 s side by side). The first failure, in
    the order given, is raised once every build has ended."""
    suites = list(dict.fromkeys(suites))
    if not suites:
        return {}

    def get(suite):
        return image.build_image(suite, rebuild=True) if rebuild else image.get_image(suite)

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(suites)) as pool:
        futures = [pool.submit(get, suite) for suite in suites]
    return {suite: future.result() for suite, future in zip(suites, futures)}


def cmd_image(args) -> int:
    for suite, img in get_images(args.suite, rebuild=args.rebuild).items():
        image.prune_images(suite, keep=img.path)  # builds no running VM boots from
        print(
            json.dumps(
                {
                    "suite": suite,
                    "path": str(img.path),
                    "raw": str(img.raw),
                    "kernel": str(img.kernel),
                    "initrd": str(img.initrd),
                    "kernel_release": img.kernel_release,
                }
            )
        )
    return 0


def load_specs(args) -> list[Spec]:
    accel = args.accel or default_accel()
    if args.spec:
        data = json.loads(Path(args.spec).read_text())
        return [
            Spec(
                name=instance.check_name(p["name"]),
                suite=p.get("suite", "bookworm"),
                memory=int(p.get("memory", DEFAULT_MEMORY)),
                cpus=int(p.get("cpus", DEFAULT_CPUS)),
                accel=p.get("accel", accel),
            )
            for p in data
        ]
    if not args.name:
        raise LabError("up needs NAME --suite SUITE, or --spec FILE")
    return [
        Spec(
            name=instance.check_name(n),
            suite=args.suite,
            memory=args.memory,
            cpus=args.cpus,
            accel=accel,
        )
        for n in args.name
    ]


def cmd_up(args) -> int:
    specs = load_specs(args)
    sdir = state_dir(args.state_dir)
    sdir.mkdir(parents=True, exist_ok=True)
    if len({s.name for s in specs}) != len(specs):
        raise LabError("instance names must be distinct")
    get_images(sorted({s.suite for s in specs}))  # each image once, before the VMs race for it
    running = {i["name"] for i in instance.read_instances(sdir) if instance.pid_is_ours(i.get("pid"), str(sdir / i["name"]))}
    fresh = [s.memory for s in specs if s.name not in running]
    avail = mem_available_mib()
    if not memory_fits(fresh, avail):
        raise LabError(
            f"not enough memory: {len(fresh)} VM(s) ask {sum(fresh)} MiB (+{QEMU_OVERHEAD_MIB}"
            f" MiB each for QEMU), {avail} MiB available, {HOST_RESERVE_MIB} kept for the host"
        )
    boot_all([s.name for s in specs], lambda spec: instance.instance_up(spec, sdir, args.timeout, check_memory=False), specs)
    return 0


def boot_all(names: list[str], boot_one, items: list) -> None:
    """Boot items in parallel threads; print one JSON line per VM that came up, in the
    order given, then fail naming each VM that did not."""
    results: dict[str, dict] = {}
    errors: dict[str, str] = {}

    def boot(name: str, item) -> None:
        try:
            results[name] = boot_one(item)
        except LabError as exc:
            errors[name] = str(exc)
        except Exception as exc:  # noqa: BLE001 - reported with the instance's name
            errors[name] = f"{type(exc).__name__}: {exc}"

    threads = [threading.Thread(target=boot, args=(n, i)) for n, i in zip(names, items)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for name in names:
        if name in results:
            print(json.dumps(public_view(results[name])), flush=True)
    if errors:
        for msg in errors.values():
            log(msg)
        raise LabError(f"{len(errors)} of {len(names)} VM(s) failed to come up")


def cmd_poweroff(args) -> int:
    sdir = state_dir(args.state_dir)
    if not args.name:
        raise LabError("poweroff needs NAME...")
    for name in args.name:
        idir = sdir / instance.check_name(name)
        was_on = instance.pid_is_ours(instance.read_pid(idir), str(idir))
        inst = instance.power_off(idir)
        log(f"{name}: {'powered off' if was_on else 'was off'}; its disk is kept: `lab.py start {name}` boots it again")
        print(json.dumps({"name": name, "state": "off", "disk": str(disk_path(idir)), "serial_log": str(idir / "serial.log"), "boots": inst.get("boots", 1)}))
    return 0


def cmd_start(args) -> int:
    sdir = state_dir(args.state_dir)
    if not args.name:
        raise LabError("start needs NAME...")
    names = [instance.check_name(n) for n in args.name]
    if len(set(names)) != len(names):
        raise LabError("instance names must be distinct")
    stopped = []
    for name in names:
        inst = instance.load_instance(sdir / name)
        if inst is None:
            raise LabError(f"no instance {name} in {sdir}: `lab.py up {name} --suite SUITE` makes one")
        if not instance.pid_is_ours(inst.get("pid"), str(sdir / name)):
            stopped.append(int(inst.get("memory", DEFAULT_MEMORY)))
    avail = mem_available_mib()
    if not memory_fits(stopped, avail):
        raise LabError(
            f"not enough memory: {len(stopped)} VM(s) ask {sum(stopped)} MiB (+{QEMU_OVERHEAD_MIB}"
            f" MiB each for QEMU), {avail} MiB available, {HOST_RESERVE_MIB} kept for the host"
        )
    boot_all(names, lambda name: instance.instance_start(name, sdir, args.timeout, check_memory=False), names)
    return 0


def cmd_reboot(args) -> int:
    sdir = state_dir(args.state_dir)
    inst = instance.instance_reboot(args.name, sdir, args.timeout, release=args.kernel)
    print(json.dumps(public_view(inst)))
    return 0


def cmd_down(args) -> int:
    sdir = state_dir(args.state_dir)
    if args.all:
        names = sorted(p.name for p in sdir.iterdir() if p.is_dir()) if sdir.is_dir() else []
    elif args.name:
        names = [instance.check_name(n) for n in args.name]
    else:
        raise LabError("down needs NAME... or --all")
    for name in names:
        idir = sdir / name
        with flocked(sdir / f".{name}.lock", f"another up/down of {name}"):
            existed = idir.exists()
            instance.destroy(idir)
        log(f"{name}: {'stopped and removed' if existed else 'was not running'}")
    if args.all:
        # Overlays whose state was lost (a tmpfs state dir after a reboot) go too.
        shutil.rmtree(disk_path(sdir / "any").parent, ignore_errors=True)
    return 0


def cmd_list(args) -> int:
    sdir = state_dir(args.state_dir)
    insts = instance.read_instances(sdir)
    if args.json:
        for inst in insts:
            inst["alive"] = instance.pid_is_ours(inst.get("pid"), str(sdir / inst["name"]))
            print(json.dumps(public_view(inst) | {"alive": inst["alive"]}))
        return 0
    print(f"{'NAME':<16} {'SUITE':<9} {'PORT':>5} {'PID':>8} {'ALIVE':<5} KERNEL")
    for inst in insts:
        alive = instance.pid_is_ours(inst.get("pid"), str(sdir / inst["name"]))
        shown = "yes" if alive else "off" if inst.get("power") == "off" else "no"
        print(f"{inst['name']:<16} {inst['suite']:<9} {inst['port']:>5} {inst['pid']!s:>8} {shown:<5} {inst['kernel_release']}")
    return 0


def cmd_inventory(args) -> int:
    sdir = state_dir(args.state_dir)
    insts = [i for i in instance.read_instances(sdir) if instance.pid_is_ours(i.get("pid"), str(sdir / i["name"]))]
    text = render_inventory(insts, args.group)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        log(f"wrote {out} with {len(insts)} host(s) in group {args.group}")
    return 0


def cmd_status(args) -> int:
    sdir = state_dir(args.state_dir)
    names = args.name or [i["name"] for i in instance.read_instances(sdir)]
    for name in names:
        idir = sdir / instance.check_name(name)
        inst = instance.load_instance(idir)
        if inst is None:
            print(json.dumps({"name": name, "state": "absent", "panic": False, "oops": False}))
            continue
        print(json.dumps(instance.instance_status(inst, idir)))
    return 0


def cmd_ssh(args) -> int:
    inst = instance.load_instance(state_dir(args.state_dir) / instance.check_name(args.name))
    if inst is None:
        raise LabError(f"no instance {args.name}")
    # Interactive without a command: no BatchMode, so a terminal is allocated as usual.
    cmd = ssh_base(int(inst["port"]), Path(inst["key"]), batch=bool(args.command))
    os.execvp("ssh", cmd + args.command)
    return 0


def cmd_chroot(args) -> int:
    dest = Path(args.dest)
    if args.remove:
        chroot.remove_chroot(dest)
        log(f"removed {dest}")
        return 0
    if not args.suite:
        raise LabError("chroot needs SUITE --dest DIR (or --dest DIR --remove)")
    chroot.build_chroot(args.suite, dest)
    if args.mount:
        chroot.chroot_mount(dest)
    print(json.dumps({"suite": args.suite, "path": str(dest), "mounted": bool(args.mount)}))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lab.py", description=DESCRIPTION)
    sub = p.add_subparsers(dest="command", required=True)

    def with_state(sp):
        sp.add_argument(
            "--state-dir",
            help="instances' state (default: $ROULETTE_LAB_STATE or $XDG_RUNTIME_DIR/rustkmod-roulette/lab)",
        )
        return sp

    def with_timeout(sp):
        sp.add_argument(
            "--timeout",
            type=int,
            default=int(os.environ.get("ROULETTE_LAB_BOOT_TIMEOUT", DEFAULT_BOOT_TIMEOUT)),
            help="seconds to wait for SSH",
        )

    sp = sub.add_parser("image", help="build or reuse the base image of a Debian release")
    sp.add_argument("suite", nargs="+", choices=SUITES)
    sp.add_argument("--rebuild", action="store_true", help="build even if cached")
    sp.set_defaults(func=cmd_image)

    sp = with_state(sub.add_parser("up", help="boot VM(s) and wait for SSH"))
    sp.add_argument("name", nargs="*")
    sp.add_argument("--suite", choices=SUITES, default="bookworm")
    sp.add_argument("--memory", type=parse_size_mib, default=DEFAULT_MEMORY, help="MiB")
    sp.add_argument("--cpus", type=int, default=DEFAULT_CPUS)
    sp.add_argument("--accel", choices=("tcg", "kvm"), help="default: $ROULETTE_LAB_ACCEL or tcg")
    with_timeout(sp)
    sp.add_argument(
        "--spec",
        help='JSON list of {"name", "suite", "memory", "cpus"}: boot them all in parallel',
    )
    sp.set_defaults(func=cmd_up)

    sp = with_state(sub.add_parser("down", help="stop VM(s), remove their overlay and state"))
    sp.add_argument("name", nargs="*")
    sp.add_argument("--all", action="store_true")
    sp.set_defaults(func=cmd_down)

    sp = with_state(sub.add_parser("poweroff", help="pull the plug: kill QEMU at once, keep the disk and state"))
    sp.add_argument("name", nargs="+")
    sp.set_defaults(func=cmd_poweroff)

    sp = with_state(sub.add_parser("start", help="boot powered-off VM(s) from their kept disk and wait for SSH"))
    sp.add_argument("name", nargs="+")
    with_timeout(sp)
    sp.set_defaults(func=cmd_start)

    sp = with_state(sub.add_parser("reboot", help="shut a VM down cleanly and boot the newest kernel installed on its disk"))
    sp.add_argument("name")
    sp.add_argument("--kernel", metavar="RELEASE", help="boot this installed kernel release instead of the newest")
    with_timeout(sp)
    sp.set_defaults(func=cmd_reboot)

    sp = with_state(sub.add_parser("list", help="show instances"))
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_list)

    sp = with_state(sub.add_parser("inventory", help="write an Ansible inventory of the VMs"))
    sp.add_argument("--output", "-o", required=True, help="file, or - for stdout")
    sp.add_argument("--group", default="roulette")
    sp.set_defaults(func=cmd_inventory)

    sp = with_state(sub.add_parser("status", help="running / ssh-unreachable / off / dead, panics"))
    sp.add_argument("name", nargs="*")
    sp.set_defaults(func=cmd_status)

    sp = with_state(sub.add_parser("ssh", help="log in to an instance"))
    sp.add_argument("name")
    sp.add_argument("command", nargs=argparse.REMAINDER)
    sp.set_defaults(func=cmd_ssh)

    sp = sub.add_parser("chroot", help="make a build chroot of a Debian release")
    sp.add_argument("suite", nargs="?", choices=SUITES)
    sp.add_argument("--dest", required=True)
    sp.add_argument("--mount", action="store_true", help="mount /proc, /sys and /dev in it (for builds)")
    sp.add_argument("--remove", action="store_true", help="unmount and delete a chroot made here")
    sp.set_defaults(func=cmd_chroot)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except LabError as exc:
        log(f"error: {exc}")
        return 1
    except subprocess.CalledProcessError as exc:
        log(f"error: {exc}")
        return 1
