#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""VM lab for rustkmod.roulette: boots throw-away Debian VMs to load kernel modules in.

The controller's own kernel cannot load modules, so molecule, CI and the README's demo run
the collection against QEMU guests booted from a Debian image built here with mmdebstrap.

Subcommands (see ``lab.py --help`` and molecule/shared/README.md):
  image SUITE         build or reuse the base image of a Debian release
  up NAME --suite S   boot one VM (or several with --spec FILE) and wait for SSH
  down NAME | --all   stop VMs and remove every trace of them
  list                show the running instances
  inventory           write an Ansible inventory of the running instances
  status NAME         running / ssh-unreachable / dead, and whether the guest panicked
  ssh NAME [CMD...]   log in to an instance with the lab key
  chroot SUITE        make a build chroot of a Debian release on the controller

Standard library only: it must run with any Python 3.11+.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

# Bump when the image recipe changes in a way the package list and script text do not show.
RECIPE_VERSION = 3

SUITES = ("bookworm", "trixie")
MIRROR = "http://deb.debian.org/debian"
SECURITY_MIRROR = "http://deb.debian.org/debian-security"
LAB_USER = "roulette"
HOST = "127.0.0.1"

# What every guest has. Kernel headers and Rust are the roles' job, not the image's.
IMAGE_PACKAGES = (
    "ca-certificates",
    "dbus",
    "iproute2",
    "kmod",
    "libnss-myhostname",
    "linux-image-amd64",
    "netbase",
    "openssh-server",
    "python3",
    "sudo",
    "systemd-sysv",
    "udev",
    "zstd",
)
# A build chroot on the controller only needs what Ansible and apt need.
CHROOT_PACKAGES = ("ca-certificates", "python3")

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

DEFAULT_IMAGE_SIZE = "8G"
DEFAULT_MEMORY = 2048
DEFAULT_CPUS = 2
DEFAULT_BOOT_TIMEOUT = 300
DEFAULT_FRESH_HOURS = 6
DEFAULT_PORT_BASE = 10022
PORT_SPAN = 1000
# Memory the host keeps for itself, and QEMU's own use per VM on top of the guest's RAM.
HOST_RESERVE_MIB = 1024
QEMU_OVERHEAD_MIB = 384

# The Debian package that brings each tool the lab runs.
TOOL_PACKAGES = {
    "qemu-system-x86_64": "qemu-system-x86",
    "qemu-img": "qemu-utils",
    "mmdebstrap": "mmdebstrap",
    "mkfs.ext4": "e2fsprogs",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
}
APT_HINT = "apt-get install -y qemu-system-x86 qemu-utils mmdebstrap"
PANIC_MARKERS = ("Kernel panic - not syncing",)
OOPS_MARKERS = ("Oops:", "kernel BUG at", "BUG: ", "general protection fault")

# Runs as mmdebstrap's customize hook with the root directory as $1: everything that makes
# the guest boot fast and reachable. It is part of the recipe hash.
CUSTOMIZE_SCRIPT = r"""#!/bin/sh
set -eu
root="$1"
pubkey="$2"
user="$3"

echo roulette-lab > "$root/etc/hostname"
cat > "$root/etc/hosts" <<'EOF'
127.0.0.1 localhost
::1 localhost ip6-localhost ip6-loopback
EOF
printf '/dev/vda / ext4 rw,noatime,errors=remount-ro 0 1\n' > "$root/etc/fstab"

# Network: DHCP on the first Ethernet link via QEMU user NAT; its DNS is fixed at 10.0.2.3.
mkdir -p "$root/etc/systemd/network"
cat > "$root/etc/systemd/network/20-lab.network" <<'EOF'
[Match]
Type=ether

[Network]
DHCP=ipv4
LinkLocalAddressing=no
IPv6AcceptRA=no
EOF
rm -f "$root/etc/resolv.conf"
printf 'nameserver 10.0.2.3\n' > "$root/etc/resolv.conf"
chroot "$root" systemctl enable systemd-networkd.service ssh.service

# Nothing that runs apt or heavy jobs on its own; no getty on a screen nobody sees.
for unit in __MASKED_UNITS__; do
    chroot "$root" systemctl mask "$unit"
done

# apt over a slow emulated NAT: retry, skip translations. Recommends stay the roles' choice.
cat > "$root/etc/apt/apt.conf.d/80roulette-lab" <<'EOF'
Acquire::Retries "3";
Acquire::Languages "none";
EOF

# sshd: no DNS lookups of the client, keys only.
mkdir -p "$root/etc/ssh/sshd_config.d"
cat > "$root/etc/ssh/sshd_config.d/roulette-lab.conf" <<'EOF'
UseDNS no
PasswordAuthentication no
KbdInteractiveAuthentication no
GSSAPIAuthentication no
EOF

# The unprivileged user Ansible logs in as, with passwordless sudo.
chroot "$root" useradd --create-home --shell /bin/bash "$user"
install -d -m 0700 -o "$(chroot "$root" id -u "$user")" -g "$(chroot "$root" id -g "$user")" \
    "$root/home/$user/.ssh"
printf '%s\n' "$pubkey" > "$root/home/$user/.ssh/authorized_keys"
chroot "$root" chown "$user:$user" "/home/$user/.ssh/authorized_keys"
chmod 0600 "$root/home/$user/.ssh/authorized_keys"
printf '%s ALL=(ALL) NOPASSWD:ALL\n' "$user" > "$root/etc/sudoers.d/$user"
chmod 0440 "$root/etc/sudoers.d/$user"

# A small initramfs: only what mounting /dev/vda needs, so the guest reaches init sooner.
cat > "$root/etc/initramfs-tools/conf.d/roulette-lab.conf" <<'EOF'
MODULES=list
EOF
printf 'virtio_pci\nvirtio_blk\next4\ncrc32c_generic\n' > "$root/etc/initramfs-tools/modules"
chroot "$root" update-initramfs -u -k all

# Where this kernel's headers are in the archive today: when Debian publishes a newer
# kernel ABI they leave the mirror, and the lab then rebuilds the image (see get_image).
mkdir -p "$root/var/lib/roulette-lab"
for rel in $(ls "$root/lib/modules"); do
    chroot "$root" apt-get download --print-uris "linux-headers-$rel" | cut -d"'" -f2
done > "$root/var/lib/roulette-lab/headers-uri"

# A fixed machine id; each instance gets its own from the kernel command line.
echo 5a1e5a1e5a1e5a1e5a1e5a1e5a1e5a1e > "$root/etc/machine-id"
"""


class LabError(Exception):
    """A failure the user can act on; printed without a traceback."""


# --------------------------------------------------------------------------------------
# Paths and settings


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rustkmod-roulette"


def state_dir(override: str | None = None) -> Path:
    if override:
        return Path(override)
    if os.environ.get("ROULETTE_LAB_STATE"):
        return Path(os.environ["ROULETTE_LAB_STATE"])
    base = os.environ.get("XDG_RUNTIME_DIR") or str(Path.home() / ".cache")
    return Path(base) / "rustkmod-roulette" / "lab"


def disk_path(idir: Path) -> Path:
    """An instance's qcow2 overlay. It grows to gigabytes once roles install compilers, so it
    lives on disk under the cache, not in the state dir, which may be a small tmpfs
    ($XDG_RUNTIME_DIR). The path is fixed per state dir and name, so a new `up` overwrites
    whatever a lost state dir left behind."""
    tag = hashlib.sha256(str(idir.parent.resolve()).encode()).hexdigest()[:8]
    return cache_dir() / "disks" / tag / f"{idir.name}.qcow2"


def key_path() -> Path:
    return cache_dir() / "ssh" / "id_ed25519"


def image_size() -> str:
    return os.environ.get("ROULETTE_LAB_IMAGE_SIZE", DEFAULT_IMAGE_SIZE)


def log(msg: str) -> None:
    print(f"lab: {msg}", file=sys.stderr, flush=True)


def require_tools(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        packages = sorted({TOOL_PACKAGES.get(t, t) for t in missing})
        raise LabError(f"missing {', '.join(missing)}: install with `apt-get install -y {' '.join(packages)}` (the lab needs: {APT_HINT})")


# --------------------------------------------------------------------------------------
# Pure helpers (unit-tested)


def sources_for(suite: str) -> list[str]:
    """The guest's apt sources: the release, its updates and its security archive."""
    if suite not in SUITES:
        raise LabError(f"unknown suite {suite!r}; choose one of {', '.join(SUITES)}")
    return [
        f"deb {MIRROR} {suite} main",
        f"deb {MIRROR} {suite}-updates main",
        f"deb {SECURITY_MIRROR} {suite}-security main",
    ]


def image_recipe(suite: str, pubkey: str, size: str) -> dict:
    return {
        "kind": "image",
        "version": RECIPE_VERSION,
        "suite": suite,
        "sources": sources_for(suite),
        "packages": sorted(IMAGE_PACKAGES),
        "masked": list(MASKED_UNITS),
        "script": CUSTOMIZE_SCRIPT,
        "size": size,
        "pubkey": pubkey.strip(),
        "user": LAB_USER,
    }


def chroot_recipe(suite: str) -> dict:
    return {
        "kind": "chroot",
        "version": RECIPE_VERSION,
        "suite": suite,
        "sources": sources_for(suite),
        "packages": sorted(CHROOT_PACKAGES),
    }


def recipe_hash(recipe: dict) -> str:
    """Short, stable digest of a recipe: key order and list order of packages do not matter."""
    canon = dict(recipe)
    if "packages" in canon:
        canon["packages"] = sorted(canon["packages"])
    blob = json.dumps(canon, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


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


NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", re.IGNORECASE)


def check_name(name: str) -> str:
    """Instance names become host names and directory names: keep them to DNS labels."""
    if not NAME_RE.match(name):
        raise LabError(f"bad instance name {name!r}: use letters, digits and '-' (a DNS label, max 63)")
    return name


def parse_size_mib(text: str) -> int:
    """'2048' (MiB), '2G', '512M' -> MiB."""
    m = re.fullmatch(r"\s*(\d+)\s*([KMGT]?)i?B?\s*", str(text), re.IGNORECASE)
    if not m:
        raise LabError(f"bad size {text!r}")
    value, unit = int(m.group(1)), m.group(2).upper()
    factor = {"": 1, "K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024}[unit]
    return int(value * factor)


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


def yaml_str(value) -> str:
    """A YAML scalar: JSON strings are valid YAML double-quoted scalars."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))


SSH_COMMON_ARGS = "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o IdentitiesOnly=yes"


def render_inventory(instances: list[dict], group: str = "roulette") -> str:
    """Ansible YAML inventory of lab instances, reusable with ``ansible-playbook -i``."""
    lines = [
        "# Written by molecule/shared/lab.py: the running lab VMs.",
        "all:",
        "  children:",
        f"    {group}:",
        "      vars:",
        "        ansible_become: true",
        "        ansible_python_interpreter: /usr/bin/python3",
        f"        ansible_ssh_common_args: {yaml_str(SSH_COMMON_ARGS)}",
    ]
    if not instances:
        lines.append("      hosts: {}")
        return "\n".join(lines) + "\n"
    lines.append("      hosts:")
    for inst in sorted(instances, key=lambda i: i["name"]):
        lines += [
            f"        {inst['name']}:",
            f"          ansible_host: {yaml_str(inst['host'])}",
            f"          ansible_port: {int(inst['port'])}",
            f"          ansible_user: {yaml_str(inst['user'])}",
            f"          ansible_ssh_private_key_file: {yaml_str(inst['key'])}",
            f"          roulette_lab_suite: {yaml_str(inst['suite'])}",
            f"          roulette_lab_kernel_release: {yaml_str(inst['kernel_release'])}",
        ]
        if inst.get("serial_log"):
            # The guest's serial console, read on the controller by spin.yml to tell a panic
            # from a lost connection.
            lines.append(f"          roulette_console_log: {yaml_str(inst['serial_log'])}")
    return "\n".join(lines) + "\n"


def serial_findings(text: str) -> dict:
    return {
        "panic": any(m in text for m in PANIC_MARKERS),
        "oops": any(m in text for m in OOPS_MARKERS),
    }


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


# --------------------------------------------------------------------------------------
# Locks and keys


@contextlib.contextmanager
def flocked(path: Path, what: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"waiting for {what} (lock {path})")
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_key() -> Path:
    key = key_path()
    with flocked(key.parent / ".lock", "the lab key"):
        if not key.exists():
            require_tools("ssh-keygen")
            key.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            subprocess.run(
                [
                    "ssh-keygen",
                    "-q",
                    "-t",
                    "ed25519",
                    "-N",
                    "",
                    "-C",
                    "rustkmod-roulette-lab",
                    "-f",
                    str(key),
                ],
                check=True,
            )
    return key


# --------------------------------------------------------------------------------------
# Images


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


def run_logged(cmd: list[str], logfile: Path) -> None:
    with open(logfile, "a") as out:
        out.write("+ " + " ".join(cmd) + "\n")
        out.flush()
        res = subprocess.run(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    if res.returncode != 0:
        tail = "".join(logfile.read_text(errors="replace").splitlines(True)[-25:])
        raise LabError(f"{cmd[0]} failed (exit {res.returncode}); end of {logfile}:\n{tail}")


def mmdebstrap_mode() -> list[str]:
    if os.geteuid() != 0:
        raise LabError(
            "building images needs root (mmdebstrap --mode=root and mkfs.ext4 -d keep file ownership that way): run `lab.py image` once as root, or with sudo"
        )
    return ["--mode=root"]


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
            script = work / "customize.sh"
            script.write_text(CUSTOMIZE_SCRIPT.replace("__MASKED_UNITS__", " ".join(MASKED_UNITS)))
            pubkey = recipe["pubkey"]
            started = time.monotonic()
            log(f"building the {suite} image in {target} (log: {logfile})")
            run_logged(
                [
                    "mmdebstrap",
                    *mode,
                    "--variant=apt",
                    "--format=directory",
                    "--include=" + ",".join(IMAGE_PACKAGES),
                    "--customize-hook=sh " + sh_quote(str(script)) + ' "$1" ' + sh_quote(pubkey) + " " + LAB_USER,
                    suite,
                    str(rootfs),
                    *recipe["sources"],
                ],
                logfile,
            )
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


def prune_images(suite: str, keep: Path) -> None:
    """Remove older builds of a suite that no running VM boots from."""
    in_use = paths_in_use()
    for old in (cache_dir() / "images").glob(f"{suite}-*"):
        if old != keep and old.is_dir() and f"{old}/" not in in_use:
            shutil.rmtree(old, ignore_errors=True)
            log(f"removed the outdated image {old}")


def sh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


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


# --------------------------------------------------------------------------------------
# Instances


def read_instances(sdir: Path) -> list[dict]:
    out = []
    if not sdir.is_dir():
        return out
    for meta in sorted(sdir.glob("*/instance.json")):
        with contextlib.suppress(OSError, ValueError):
            out.append(json.loads(meta.read_text()))
    return out


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


def ssh_base(port: int, key: Path, connect_timeout: int = 10, batch: bool = True) -> list[str]:
    return [
        "ssh",
        *(["-o", "BatchMode=yes"] if batch else []),
        "-p",
        str(port),
        "-i",
        str(key),
        "-l",
        LAB_USER,
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "LogLevel=ERROR",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        f"ConnectTimeout={connect_timeout}",
        HOST,
    ]


def ssh_ok(port: int, key: Path) -> bool:
    try:
        res = subprocess.run(
            ssh_base(port, key) + ["true"],
            stdin=subprocess.DEVNULL,
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
        )
    except subprocess.TimeoutExpired:
        return False
    return res.returncode == 0


def serial_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no serial log)"
    return "".join(text.splitlines(True)[-lines:])


def default_accel() -> str:
    accel = os.environ.get("ROULETTE_LAB_ACCEL", "tcg")
    if accel not in ("tcg", "kvm"):
        raise LabError(f"ROULETTE_LAB_ACCEL must be tcg or kvm, not {accel!r}")
    return accel


@dataclass
class Spec:
    name: str
    suite: str
    memory: int = DEFAULT_MEMORY
    cpus: int = DEFAULT_CPUS
    accel: str = "tcg"


def qemu_command(spec: Spec, image: Image, idir: Path, port: int, machine_id: str) -> list[str]:
    if spec.accel == "kvm":
        accel = ["-accel", "kvm", "-cpu", "host"]
    else:
        # A stock Debian kernel hangs under this host's KVM (see shared/ENVIRONMENT.md).
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
        str(image.kernel),
        "-initrd",
        str(image.initrd),
        "-append",
        kernel_cmdline(spec.name, machine_id, os.environ.get("ROULETTE_LAB_KERNEL_ARGS", "")),
        # The overlay is thrown away with the VM: no need to flush it to disk.
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


def load_instance(idir: Path) -> dict | None:
    try:
        return json.loads((idir / "instance.json").read_text())
    except (OSError, ValueError):
        return None


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


# --------------------------------------------------------------------------------------
# Build chroots


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
    marker = dest / ".roulette-lab-chroot"
    if marker.exists() and marker.read_text().strip() == f"{suite}-{digest}":
        return dest
    if dest.exists() and any(dest.iterdir()):
        raise LabError(f"{dest} exists and is not this lab's {suite} chroot: remove it first")
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-C", str(dest), "--numeric-owner", "-xpf", str(tarball)], check=True)
    # apt inside the chroot resolves names like the controller does.
    with contextlib.suppress(OSError):
        (dest / "etc/resolv.conf").unlink()
        shutil.copyfile("/etc/resolv.conf", dest / "etc/resolv.conf")
    marker.write_text(f"{suite}-{digest}\n")
    return dest


# --------------------------------------------------------------------------------------
# Commands


def cmd_image(args) -> int:
    for suite in args.suite:
        image = build_image(suite, rebuild=args.rebuild) if args.rebuild else get_image(suite)
        prune_images(suite, keep=image.path)  # builds no running VM boots from
        print(
            json.dumps(
                {
                    "suite": suite,
                    "path": str(image.path),
                    "raw": str(image.raw),
                    "kernel": str(image.kernel),
                    "initrd": str(image.initrd),
                    "kernel_release": image.kernel_release,
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
                name=check_name(p["name"]),
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
            name=check_name(n),
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
    for suite in sorted({s.suite for s in specs}):
        get_image(suite)  # build each image once, before the VMs race for it
    running = {i["name"] for i in read_instances(sdir) if pid_is_ours(i.get("pid"), str(sdir / i["name"]))}
    fresh = [s.memory for s in specs if s.name not in running]
    avail = mem_available_mib()
    if not memory_fits(fresh, avail):
        raise LabError(
            f"not enough memory: {len(fresh)} VM(s) ask {sum(fresh)} MiB (+{QEMU_OVERHEAD_MIB}"
            f" MiB each for QEMU), {avail} MiB available, {HOST_RESERVE_MIB} kept for the host"
        )
    results: dict[str, dict] = {}
    errors: dict[str, str] = {}

    def boot(spec: Spec) -> None:
        try:
            results[spec.name] = instance_up(spec, sdir, args.timeout, check_memory=False)
        except LabError as exc:
            errors[spec.name] = str(exc)
        except Exception as exc:  # noqa: BLE001 - reported with the instance's name
            errors[spec.name] = f"{type(exc).__name__}: {exc}"

    threads = [threading.Thread(target=boot, args=(s,)) for s in specs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for spec in specs:
        if spec.name in results:
            print(json.dumps(public_view(results[spec.name])), flush=True)
    if errors:
        for msg in errors.values():
            log(msg)
        raise LabError(f"{len(errors)} of {len(specs)} VM(s) failed to come up")
    return 0


def public_view(inst: dict) -> dict:
    keys = (
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
    return {k: inst.get(k) for k in keys if k in inst}


def cmd_down(args) -> int:
    sdir = state_dir(args.state_dir)
    if args.all:
        names = sorted(p.name for p in sdir.iterdir() if p.is_dir()) if sdir.is_dir() else []
    elif args.name:
        names = [check_name(n) for n in args.name]
    else:
        raise LabError("down needs NAME... or --all")
    for name in names:
        idir = sdir / name
        with flocked(sdir / f".{name}.lock", f"another up/down of {name}"):
            existed = idir.exists()
            destroy(idir)
        log(f"{name}: {'stopped and removed' if existed else 'was not running'}")
    if args.all:
        # Overlays whose state was lost (a tmpfs state dir after a reboot) go too.
        shutil.rmtree(disk_path(sdir / "any").parent, ignore_errors=True)
    return 0


def cmd_list(args) -> int:
    sdir = state_dir(args.state_dir)
    insts = read_instances(sdir)
    if args.json:
        for inst in insts:
            inst["alive"] = pid_is_ours(inst.get("pid"), str(sdir / inst["name"]))
            print(json.dumps(public_view(inst) | {"alive": inst["alive"]}))
        return 0
    print(f"{'NAME':<16} {'SUITE':<9} {'PORT':>5} {'PID':>8} {'ALIVE':<5} KERNEL")
    for inst in insts:
        alive = pid_is_ours(inst.get("pid"), str(sdir / inst["name"]))
        print(f"{inst['name']:<16} {inst['suite']:<9} {inst['port']:>5} {inst['pid']!s:>8} {'yes' if alive else 'no':<5} {inst['kernel_release']}")
    return 0


def cmd_inventory(args) -> int:
    sdir = state_dir(args.state_dir)
    insts = [i for i in read_instances(sdir) if pid_is_ours(i.get("pid"), str(sdir / i["name"]))]
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
    names = args.name or [i["name"] for i in read_instances(sdir)]
    for name in names:
        idir = sdir / check_name(name)
        inst = load_instance(idir)
        if inst is None:
            print(json.dumps({"name": name, "state": "absent", "panic": False, "oops": False}))
            continue
        print(json.dumps(instance_status(inst, idir)))
    return 0


def cmd_ssh(args) -> int:
    inst = load_instance(state_dir(args.state_dir) / check_name(args.name))
    if inst is None:
        raise LabError(f"no instance {args.name}")
    # Interactive without a command: no BatchMode, so a terminal is allocated as usual.
    cmd = ssh_base(int(inst["port"]), Path(inst["key"]), batch=bool(args.command))
    os.execvp("ssh", cmd + args.command)
    return 0


# What a build in the chroot needs from the kernel: rustc finds its sysroot through
# /proc/self/exe, and make and the compilers want /dev/null and friends.
CHROOT_MOUNTS = (
    ("proc", ["-t", "proc", "proc"]),
    ("sys", ["-t", "sysfs", "sysfs"]),
    ("dev", ["--rbind", "/dev"]),
)


def mounts_under(path: Path, mountinfo: str | None = None) -> list[str]:
    """Mount points at or below path, deepest first (the order to unmount them in)."""
    root = str(path.resolve())
    if mountinfo is None:
        mountinfo = Path("/proc/self/mountinfo").read_text()
    points = []
    for line in mountinfo.splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point == root or point.startswith(root + "/"):
            points.append(point)
    return sorted(points, key=len, reverse=True)


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


def cmd_chroot(args) -> int:
    dest = Path(args.dest)
    if args.remove:
        if dest.exists():
            chroot_unmount(dest)
            if not (dest / ".roulette-lab-chroot").exists():
                raise LabError(f"{dest} is not a lab chroot; not removing it")
            # Nothing is mounted below it any more (checked above): /dev cannot be reached.
            shutil.rmtree(dest)
        log(f"removed {dest}")
        return 0
    if not args.suite:
        raise LabError("chroot needs SUITE --dest DIR (or --dest DIR --remove)")
    build_chroot(args.suite, dest)
    if args.mount:
        chroot_mount(dest)
    print(json.dumps({"suite": args.suite, "path": str(dest), "mounted": bool(args.mount)}))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lab.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    def with_state(sp):
        sp.add_argument(
            "--state-dir",
            help="instances' state (default: $ROULETTE_LAB_STATE or $XDG_RUNTIME_DIR/rustkmod-roulette/lab)",
        )
        return sp

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
    sp.add_argument(
        "--timeout",
        type=int,
        default=int(os.environ.get("ROULETTE_LAB_BOOT_TIMEOUT", DEFAULT_BOOT_TIMEOUT)),
        help="seconds to wait for SSH",
    )
    sp.add_argument(
        "--spec",
        help='JSON list of {"name", "suite", "memory", "cpus"}: boot them all in parallel',
    )
    sp.set_defaults(func=cmd_up)

    sp = with_state(sub.add_parser("down", help="stop VM(s), remove their overlay and state"))
    sp.add_argument("name", nargs="*")
    sp.add_argument("--all", action="store_true")
    sp.set_defaults(func=cmd_down)

    sp = with_state(sub.add_parser("list", help="show instances"))
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_list)

    sp = with_state(sub.add_parser("inventory", help="write an Ansible inventory of the VMs"))
    sp.add_argument("--output", "-o", required=True, help="file, or - for stdout")
    sp.add_argument("--group", default="roulette")
    sp.set_defaults(func=cmd_inventory)

    sp = with_state(sub.add_parser("status", help="running / ssh-unreachable / dead, panics"))
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


if __name__ == "__main__":
    sys.exit(main())
