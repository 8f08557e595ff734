# SPDX-License-Identifier: GPL-3.0-or-later
"""Base images: an mmdebstrap recipe per Debian release, built once, reused by every VM,
rebuilt when the recipe changes or Debian stops serving the image kernel's headers."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import struct
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .common import (
    LAB_USER,
    RECIPE_VERSION,
    LabError,
    cache_dir,
    flocked,
    image_size,
    log,
    mmdebstrap_mode,
    mounts_under,
    recipe_hash,
    require_tools,
    run_logged,
    sh_quote,
)
from .debian import annotate_sources, sources_for
from .ssh import ensure_key

# What every guest has. Kernel headers and Rust are the roles' job, not the image's.
IMAGE_PACKAGES = (
    "ca-certificates",
    "dbus",
    # customize.sh makes a small initramfs with initramfs-tools (MODULES=list); without
    # this, forky's kernel brings dracut, Debian's default initramfs generator since forky.
    "initramfs-tools",
    "iproute2",
    "kmod",
    "libnss-myhostname",
    "linux-image-amd64",
    # systemd's own mount units (/tmp, /dev/mqueue, ...) and remount-fs run mount(8), which is
    # not Essential any more in forky: without it they fail at every boot.
    "mount",
    "netbase",
    "openssh-server",
    # useradd, for customize.sh: forky no longer pulls it in through openssh-server.
    "passwd",
    "python3",
    "sudo",
    "systemd-sysv",
    "udev",
    "zstd",
)

# Timers and services that cost boot time or start apt behind the roles' back.
MASKED_UNITS = (
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "apt-daily.service",
    "apt-daily-upgrade.service",
    "dpkg-db-backup.timer",
    "e2scrub_all.timer",
    "e2scrub_reap.service",
    "fstrim.timer",
    "logrotate.timer",
    "man-db.timer",
    "systemd-networkd-wait-online.service",
    "getty@tty1.service",
    "getty-static.service",
    "systemd-binfmt.service",
    # Modules that load on demand anyway; each unit costs seconds of emulated CPU at boot.
    "modprobe@dm_mod.service",
    "modprobe@drm.service",
    "modprobe@efi_pstore.service",
    "modprobe@fuse.service",
    "modprobe@loop.service",
    "systemd-pstore.service",
)

# mmdebstrap's customize hook: everything that makes the guest boot fast and reachable.
# Its text is part of the recipe hash.
CUSTOMIZE_SCRIPT = Path(__file__).with_name("customize.sh")

DEFAULT_FRESH_HOURS = 6


def image_recipe(suite: str, pubkey: str, size: str) -> dict:
    return {
        "kind": "image",
        "version": RECIPE_VERSION,
        "suite": suite,
        "sources": sources_for(suite),
        "packages": sorted(IMAGE_PACKAGES),
        "masked": list(MASKED_UNITS),
        "script": CUSTOMIZE_SCRIPT.read_text(),
        "size": size,
        "pubkey": pubkey.strip(),
        "user": LAB_USER,
    }


def customize_hook(script: Path, recipe: dict) -> str:
    """mmdebstrap's --customize-hook: a shell command line, "$1" being the root directory."""
    args = [recipe["user"], recipe["pubkey"], *recipe["masked"]]
    return " ".join(["sh", sh_quote(str(script)), '"$1"', *(sh_quote(a) for a in args)])


@dataclass
class Image:
    suite: str
    path: Path

    @property
    def raw(self) -> Path:
        return self.path / "base.raw"

    @property
    def kernel(self) -> Path:
        return self.path / "vmlinuz"

    @property
    def initrd(self) -> Path:
        return self.path / "initrd.img"

    @property
    def kernel_release(self) -> str:
        return (self.path / "kernel-release").read_text().strip()

    def complete(self) -> bool:
        return (self.path / "complete").exists()


def image_dir_for(suite: str) -> tuple[Path, dict]:
    pubkey = (Path(str(ensure_key()) + ".pub")).read_text()
    recipe = image_recipe(suite, pubkey, image_size())
    return cache_dir() / "images" / f"{suite}-{recipe_hash(recipe)}", recipe


def build_image(suite: str, rebuild: bool = False, older_than: float | None = None) -> Image:
    """Build the suite's image unless a complete one exists; rebuild forces a new build,
    older_than only replaces an image completed before that time (so that several callers
    who all found it stale rebuild it once)."""
    require_tools("mmdebstrap", "mkfs.ext4")
    target, recipe = image_dir_for(suite)
    image = Image(suite, target)
    with flocked(target.parent / f".{suite}.lock", f"another build of the {suite} image"):
        if image.complete() and not rebuild:
            done = (target / "complete").stat().st_mtime
            if older_than is None or done >= older_than:
                return image
        mode = mmdebstrap_mode()
        work = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        try:
            logfile = work / "build.log"
            rootfs = work / "rootfs"
            # A copy next to the build log: the hook exactly as this image ran it.
            script = work / "customize.sh"
            script.write_text(recipe["script"])
            started = time.monotonic()
            log(f"building the {suite} image in {target} (log: {logfile})")
            run_logged(
                [
                    "mmdebstrap",
                    *mode,
                    "--variant=apt",
                    "--format=directory",
                    "--include=" + ",".join(IMAGE_PACKAGES),
                    "--customize-hook=" + customize_hook(script, recipe),
                    suite,
                    str(rootfs),
                    *recipe["sources"],
                ],
                logfile,
            )
            annotate_sources(rootfs, suite)
            modules = sorted(p.name for p in (rootfs / "lib/modules").iterdir())
            if len(modules) != 1:
                raise LabError(f"expected one kernel in the image, found {modules}")
            release = modules[0]
            shutil.copyfile(rootfs / "boot" / f"vmlinuz-{release}", work / "vmlinuz")
            shutil.copyfile(rootfs / "boot" / f"initrd.img-{release}", work / "initrd.img")
            shutil.copyfile(rootfs / "var/lib/roulette-lab/headers-uri", work / "headers-uri")
            run_logged(
                [
                    "mkfs.ext4",
                    "-q",
                    "-F",
                    "-L",
                    "roulette-root",
                    "-d",
                    str(rootfs),
                    str(work / "base.raw"),
                    recipe["size"],
                ],
                logfile,
            )
            shutil.rmtree(rootfs)
            (work / "kernel-release").write_text(release + "\n")
            meta = dict(
                recipe,
                built=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                build_seconds=round(time.monotonic() - started, 1),
                kernel_release=release,
            )
            (work / "recipe.json").write_text(json.dumps(meta, indent=2) + "\n")
            os.chmod(work, 0o755)
            (work / "complete").write_text("")
            if target.exists():
                shutil.rmtree(target)
            os.rename(work, target)
            log(f"built the {suite} image in {meta['build_seconds']} s: kernel {release}")
        finally:
            if work.exists():
                # A build killed halfway can leave mmdebstrap's /proc, /sys or /dev mounts in
                # the root: never delete through them into the host's.
                for point in mounts_under(work):
                    subprocess.run(["umount", "-l", point], stderr=subprocess.DEVNULL, check=False)
                if mounts_under(work):
                    log(f"left {work} in place: something is still mounted below it")
                else:
                    shutil.rmtree(work, ignore_errors=True)
        prune_images(suite, keep=target)
    return image


def paths_in_use() -> str:
    """Command lines of every process, to see which images running VMs (from any state
    dir, any user of the cache) still boot from."""
    seen = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            seen.append(cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace"))
    return "\n".join(seen)


def overlay_backing_file(path: Path) -> str | None:
    """The backing file a qcow2 overlay names in its header (offset 8: its offset, be64;
    offset 16: its length, be32), or None."""
    try:
        with open(path, "rb") as fh:
            header = fh.read(20)
            if len(header) < 20 or header[:4] != b"QFI\xfb":
                return None
            offset, size = struct.unpack(">QI", header[8:20])
            if not offset or not 0 < size <= 4096:
                return None
            fh.seek(offset)
            return fh.read(size).decode(errors="replace")
    except OSError:
        return None


def overlays_backing_files() -> str:
    """The images every VM disk in the cache is an overlay of: a powered-off VM boots from
    its image again, though no process shows it now."""
    disks = cache_dir() / "disks"
    return "\n".join(filter(None, (overlay_backing_file(p) for p in disks.glob("*/*.qcow2"))))


def prune_images(suite: str, keep: Path) -> None:
    """Remove older builds of a suite that no VM boots from: neither a running one nor one
    whose disk is kept (a powered-off VM)."""
    in_use = paths_in_use() + "\n" + overlays_backing_files()
    for old in (cache_dir() / "images").glob(f"{suite}-*"):
        if old != keep and old.is_dir() and f"{old}/" not in in_use:
            shutil.rmtree(old, ignore_errors=True)
            log(f"removed the outdated image {old}")


def headers_gone(uri: str, timeout: float = 10) -> bool:
    """True only when the mirror says the headers package is gone (404/410); a network
    failure is no reason to rebuild."""
    req = urllib.request.Request(uri, method="HEAD")
    try:
        with urllib.request.urlopen(req, timeout=timeout):
            return False
    except urllib.error.HTTPError as exc:
        return exc.code in (404, 410)
    except (urllib.error.URLError, OSError):
        return False


def image_is_stale(image: Image, now: float | None = None) -> bool:
    """Whether Debian has moved on from the image's kernel, checked at most every
    ROULETTE_LAB_FRESH_HOURS (default 6; 0 never checks)."""
    hours = float(os.environ.get("ROULETTE_LAB_FRESH_HOURS", DEFAULT_FRESH_HOURS))
    uri_file = image.path / "headers-uri"
    stamp = image.path / "checked"
    if hours <= 0 or not uri_file.exists():
        return False
    now = time.time() if now is None else now
    last = stamp.stat().st_mtime if stamp.exists() else (image.path / "complete").stat().st_mtime
    if now - last < hours * 3600:
        return False
    uris = uri_file.read_text().split()
    gone = any(headers_gone(uri) for uri in uris)
    with contextlib.suppress(OSError):
        stamp.touch()
    return gone


def get_image(suite: str) -> Image:
    target, _ = image_dir_for(suite)
    image = Image(suite, target)
    if image.complete():
        if not image_is_stale(image):
            return image
        log(f"Debian no longer serves the headers of {image.kernel_release}: rebuilding the {suite} image so the roles can install headers for its kernel")
        return build_image(suite, older_than=time.time())
    return build_image(suite)
