# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Directories a module makes on the target host with a mode of its own choosing.

Runs on the target host (imported by the roulette_load and unpack_source modules).
os.makedirs(mode=...) leaves the mode to the umask; these are chmod-ed after mkdir.
"""

from __future__ import annotations

import os


def make_dirs(path, mode=0o755):
    """Make `path` and its missing parents, each with `mode` whatever the umask.

    A directory made meanwhile by someone else is taken as it is; a file in the way raises
    FileExistsError, any other failure the OSError of mkdir or chmod (its filename is the
    directory that could not be made).
    """
    missing = []
    while path and not os.path.isdir(path):
        missing.append(path)
        path = os.path.dirname(path)
    for directory in reversed(missing):
        try:
            os.mkdir(directory)
        except FileExistsError:
            if os.path.isdir(directory):
                continue
            raise
        os.chmod(directory, mode)
