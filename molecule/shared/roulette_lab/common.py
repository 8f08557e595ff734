# SPDX-License-Identifier: GPL-3.0-or-later
"""Paths, settings, locks and helpers that every part of the lab uses (controller side)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

# Bump when the image recipe changes in a way the package list and script text do not show.
RECIPE_VERSION = 3

LAB_USER = "roulette"
HOST = "127.0.0.1"
DEFAULT_IMAGE_SIZE = "8G"

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


class LabError(Exception):
    """A failure the user can act on; printed without a traceback."""


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


def recipe_hash(recipe: dict) -> str:
    """Short, stable digest of a recipe: key order and list order of packages do not matter."""
    canon = dict(recipe)
    if "packages" in canon:
        canon["packages"] = sorted(canon["packages"])
    blob = json.dumps(canon, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def parse_size_mib(text: str) -> int:
    """'2048' (MiB), '2G', '512M' -> MiB."""
    m = re.fullmatch(r"\s*(\d+)\s*([KMGT]?)i?B?\s*", str(text), re.IGNORECASE)
    if not m:
        raise LabError(f"bad size {text!r}")
    value, unit = int(m.group(1)), m.group(2).upper()
    factor = {"": 1, "K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024}[unit]
    return int(value * factor)


def sh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


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
