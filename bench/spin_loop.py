# SPDX-License-Identifier: GPL-3.0-or-later
"""The in-process limit of spinning, run on the target by bench/spin_bench.sh.

    python3 spin_loop.py DEVICE COUNT

One Python process opens, reads and closes DEVICE COUNT times (what one spin
is, without a worker, a pipe or a module around it) and prints one JSON line:
{"spins", "seconds", "survived"}.  Standard library only, Python 3.9 or later.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main():
    device, count = sys.argv[1], int(sys.argv[2])
    survived = 0
    start = time.perf_counter()
    for _spin in range(count):
        fd = os.open(device, os.O_RDONLY | os.O_CLOEXEC)
        try:
            if os.read(fd, 4096).startswith(b"Survived"):
                survived += 1
        finally:
            os.close(fd)
    seconds = time.perf_counter() - start
    print(json.dumps({"spins": count, "seconds": seconds, "survived": survived}))


if __name__ == "__main__":
    main()
