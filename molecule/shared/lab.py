#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""VM lab for rustkmod.roulette: boots throw-away Debian VMs to load kernel modules in.

The entry point of the lab; the code is the package roulette_lab next to this file (see its
__init__.py for which module holds what, and molecule/shared/README.md for the commands):
  image SUITE         build or reuse the base image of a Debian release
  up NAME --suite S   boot one VM (or several with --spec FILE) and wait for SSH
  down NAME | --all   stop VMs and remove every trace of them
  poweroff NAME       pull the plug on a VM, keeping its disk and state
  start NAME          boot a powered-off VM again from its disk and wait for SSH
  list                show the running instances
  inventory           write an Ansible inventory of the running instances
  status NAME         running / ssh-unreachable / dead, and whether the guest panicked
  ssh NAME [CMD...]   log in to an instance with the lab key
  chroot SUITE        make a build chroot of a Debian release on the controller

Standard library only: it must run with any Python 3.11+.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from roulette_lab.cli import main  # after the path that finds it

if __name__ == "__main__":
    sys.exit(main())
