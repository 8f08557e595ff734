# SPDX-License-Identifier: GPL-3.0-or-later
"""Spin rate of the spin module's code against an in-process loop, on this machine, no VM.

    .venv/bin/python bench/spin_local_bench.py [-n SPINS] [-r ROUNDS]

No driver is needed: the "device" is stood in for twice,
  file  the driver's answer in a file on tmpfs, read by the module's own
        read_device (open, one read, close: the syscalls a spin makes);
  zero  /dev/zero opened, read (64 bytes) and closed, then the driver's answer
        returned (a real character device's syscall path).
For each, the spin module's Spin.run() (checks, forked worker, tally) over a
fake /proc and /sys does SPINS spins, and an in-process Python loop calls the
same reader SPINS times; the rates (median of ROUNDS, interleaved) and their
ratio are printed.  The rates depend on the machine and its load: compare
runs made one after the other.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import stat
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ANSWER = b"Survived... sampled value is 42, which is >= 0\n"


def collection_path():
    top = tempfile.mkdtemp(prefix="spin-bench-")
    os.makedirs(os.path.join(top, "ansible_collections", "rustkmod"))
    os.symlink(ROOT, os.path.join(top, "ansible_collections", "rustkmod", "roulette"))
    return top


def fake_host(top):
    """A /proc and /sys where the driver is loaded with chance 0, and its node 1:0."""
    root = os.path.join(top, "host")
    files = {
        "proc/devices": "Character devices:\n  1 kernel-roulette\n",
        "proc/sys/kernel/tainted": "0\n",
        "proc/sys/kernel/panic_on_oops": "0\n",
        "proc/sys/kernel/osrelease": "6.1.0-bench\n",
        "sys/module/roulette/parameters/chance": "0\n",
    }
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(text)
    os.makedirs(os.path.join(root, "dev"))
    device = os.path.join(root, "dev", "kernel-roulette")
    os.mknod(device, 0o600 | stat.S_IFCHR, os.makedev(1, 0))
    return root, device


def readers(answer_path):
    from ansible_collections.rustkmod.roulette.plugins.module_utils.spin_worker import read_device

    def file_reader(path, n):
        return read_device(answer_path, n)

    def zero_reader(path, n):
        fd = os.open("/dev/zero", os.O_RDONLY)
        try:
            os.read(fd, 64)
        finally:
            os.close(fd)
        return ANSWER

    return {"file": file_reader, "zero": zero_reader}


def module_rate(root, device, reader, spins):
    from ansible.module_utils.testing import patch_module_args
    from ansible_collections.rustkmod.roulette.plugins.modules import spin

    args = {"device": device, "count": spins, "record_spins": False, "confirm_deaths": False}
    with patch_module_args(args):
        module = spin.build_module()
    start = time.perf_counter()
    _changed, facts = spin.Spin(module, root=root, reader=reader).run()
    elapsed = time.perf_counter() - start
    if facts["survived"] != spins:
        raise SystemExit(f"the module did {facts['spins_done']} spins, {facts['survived']} survived: {facts}")
    return spins / elapsed


def loop_rate(reader, spins):
    start = time.perf_counter()
    for n in range(1, spins + 1):
        reader("unused", n)
    return spins / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--spins", type=int, default=200000)
    parser.add_argument("-r", "--rounds", type=int, default=5)
    args = parser.parse_args()
    top = collection_path()
    sys.path.insert(0, top)
    root, device = fake_host(top)
    answer_path = os.path.join("/dev/shm" if os.path.isdir("/dev/shm") else top, f"spin-bench-{os.getpid()}")
    with open(answer_path, "wb") as handle:
        handle.write(ANSWER)
    try:
        for name, reader in readers(answer_path).items():
            modules, loops = [], []
            for _round in range(args.rounds):
                loops.append(loop_rate(reader, args.spins))
                modules.append(module_rate(root, device, reader, args.spins))
            module, loop = statistics.median(modules), statistics.median(loops)
            print(f"{name:5} module {module:10,.0f} spins/s   in-process {loop:10,.0f} spins/s   "
                  f"ratio {module / loop:.2f}   ({args.rounds} rounds of {args.spins}, "
                  f"module {min(modules):,.0f}..{max(modules):,.0f})")
    finally:
        os.unlink(answer_path)
        shutil.rmtree(top)


if __name__ == "__main__":
    main()
