# SPDX-License-Identifier: GPL-3.0-or-later
"""Build chroots of a Debian release on the controller, for community.general.chroot build
hosts: a cached mmdebstrap tarball per recipe, unpacked where the user asks, with /proc, /sys
and /dev mounted on request and everything unmounted before removal."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

from .common import RECIPE_VERSION, LabError, cache_dir, flocked, log, mmdebstrap_mode, mounts_under, recipe_hash, require_tools, run_logged
from .debian import annotate_sources, sources_for

# A build chroot on the controller only needs what Ansible and apt need.
CHROOT_PACKAGES = ("ca-certificates", "python3")

# What a build in the chroot needs from the kernel: rustc finds its sysroot through
# /proc/self/exe, and make and the compilers want /dev/null and friends.
CHROOT_MOUNTS = (
    ("proc", ["-t", "proc", "proc"]),
    ("sys", ["-t", "sysfs", "sysfs"]),
    ("dev", ["--rbind", "/dev"]),
)

# Marks a directory as a chroot this lab made (and may delete).
MARKER = ".roulette-lab-chroot"


def chroot_recipe(suite: str) -> dict:
    return {
        "kind": "chroot",
        "version": RECIPE_VERSION,
        "suite": suite,
        "sources": sources_for(suite),
        "packages": sorted(CHROOT_PACKAGES),
    }


def build_chroot(suite: str, dest: Path) -> Path:
    require_tools("mmdebstrap")
    recipe = chroot_recipe(suite)
    digest = recipe_hash(recipe)
    tarball = cache_dir() / "chroots" / f"{suite}-{digest}.tar"
    with flocked(tarball.parent / f".{suite}.lock", f"another build of the {suite} chroot"):
        if not tarball.exists():
            mode = mmdebstrap_mode()
            tmp = tarball.with_name(f".{tarball.name}.tmp-{os.getpid()}")
            logfile = tarball.with_name(f"{suite}-{digest}.log")
            logfile.unlink(missing_ok=True)
            log(f"building the {suite} chroot tarball {tarball} (log: {logfile})")
            try:
                run_logged(
                    [
                        "mmdebstrap",
                        *mode,
                        "--variant=apt",
                        "--format=tar",
                        "--include=" + ",".join(CHROOT_PACKAGES),
                        suite,
                        str(tmp),
                        *recipe["sources"],
                    ],
                    logfile,
                )
                os.rename(tmp, tarball)
            finally:
                tmp.unlink(missing_ok=True)
    marker = dest / MARKER
    if marker.exists() and marker.read_text().strip() == f"{suite}-{digest}":
        return dest
    if dest.exists() and any(dest.iterdir()):
        raise LabError(f"{dest} exists and is not this lab's {suite} chroot: remove it first")
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-C", str(dest), "--numeric-owner", "-xpf", str(tarball)], check=True)
    annotate_sources(dest, suite)
    # apt inside the chroot resolves names like the controller does.
    with contextlib.suppress(OSError):
        (dest / "etc/resolv.conf").unlink()
        shutil.copyfile("/etc/resolv.conf", dest / "etc/resolv.conf")
    marker.write_text(f"{suite}-{digest}\n")
    return dest


def chroot_mount(dest: Path) -> None:
    present = set(mounts_under(dest))
    for sub, how in CHROOT_MOUNTS:
        target = dest / sub
        if str(target.resolve()) in present:
            continue
        subprocess.run(["mount", *how, str(target)], check=True)
        if "--rbind" in how:
            subprocess.run(["mount", "--make-rslave", str(target)], check=True)


def chroot_unmount(dest: Path) -> None:
    for point in mounts_under(dest):
        subprocess.run(["umount", "-l", point], check=False)
    left = mounts_under(dest)
    if left:
        raise LabError(f"still mounted under {dest}: {', '.join(left)}")


def remove_chroot(dest: Path) -> None:
    """Unmount everything below a lab chroot, check nothing is left mounted, delete it."""
    if not dest.exists():
        return
    chroot_unmount(dest)
    if not (dest / MARKER).exists():
        raise LabError(f"{dest} is not a lab chroot; not removing it")
    # Nothing is mounted below it any more (checked above): /dev cannot be reached.
    shutil.rmtree(dest)
