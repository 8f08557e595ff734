# SPDX-License-Identifier: GPL-3.0-or-later
"""The VM lab of rustkmod.roulette: throw-away Debian VMs under QEMU to load kernel modules in.

The controller's own kernel cannot load modules, so molecule, CI and the README's demo run
the collection against QEMU guests booted from a Debian image built here with mmdebstrap.
Runs on the controller only, with any Python 3.11+ and its standard library.

Modules, by concern:
  common     paths, settings, locks, logging, recipe hashes: what every other module uses
  debian     the releases the lab knows and the apt sources of each
  image      base images: the mmdebstrap recipe, build, reuse, freshness, pruning
               (customize.sh, next to it, is the image's customisation hook)
  ssh        the lab key and SSH to a guest
  console    what a guest's serial console says (panic, oops)
  qemu       QEMU's command line and what a VM needs from the host (port, memory)
  instance   a VM's life: state directory, boot, power-off, restart, removal, status
  inventory  an Ansible inventory of the running VMs
  chroot     build chroots of a release on the controller
  cli        the `lab.py` command line
"""
