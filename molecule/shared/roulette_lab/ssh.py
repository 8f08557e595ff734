# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab's SSH key, and SSH to a guest on its forwarded loopback port."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .common import HOST, LAB_USER, flocked, key_path, require_tools

# Guests are new machines on reused ports: their host keys mean nothing to remember.
SSH_COMMON_ARGS = "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o IdentitiesOnly=yes"


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
