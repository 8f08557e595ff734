# -*- coding: utf-8 -*-
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Open files on the controller only when they are regular files.

Runs on the controller, in ansible-core's Python (lookup plugins import it). A
path the user names (a console log, a file of the driver source, a cache entry)
may be a FIFO, whose open() blocks until a writer comes, a device, a directory or
a symbolic link to nothing. open_regular() refuses all of those with an error that
names the path and what it is: it looks before opening (os.stat), opens without
blocking (O_NONBLOCK) and looks again at what it opened (os.fstat), so that a file
swapped for a FIFO between the two looks is refused too.
"""

from __future__ import annotations

import hashlib
import os
import stat

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISLNK, "a symbolic link"),
)


class NotRegularFileError(OSError):
    """The path exists but is not a regular file (or is a symbolic link to nothing)."""

    def __init__(self, path, kind, message=None):
        super().__init__(message or "%s is %s, not a regular file" % (path, kind))
        self.path = path
        self.kind = kind


def file_kind(mode):
    """'a directory', 'a FIFO (named pipe)', ... for an st_mode; 'a regular file' for one."""
    if stat.S_ISREG(mode):
        return "a regular file"
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return "a special file (mode %o)" % stat.S_IFMT(mode)


def _check(path, mode):
    if not stat.S_ISREG(mode):
        raise NotRegularFileError(path, file_kind(mode))


def _dangling(path):
    """A NotRegularFileError for a symbolic link whose target does not exist, or None."""
    try:
        if not stat.S_ISLNK(os.lstat(path).st_mode):
            return None
        target = os.readlink(path)
    except OSError:
        return None
    return NotRegularFileError(path, "a symbolic link to nothing",
                               "%s is a symbolic link to %s, which does not exist" % (path, target))


def open_regular(path):
    """Open `path` for binary reading if it is a regular file (symbolic links to one are followed).

    Raises FileNotFoundError when nothing is there, NotRegularFileError when
    something other than a regular file is (a dangling symbolic link included),
    and other OSErrors as open() does. Never blocks on a FIFO.
    """
    try:
        _check(path, os.stat(path).st_mode)
    except FileNotFoundError:
        dangling = _dangling(path)
        if dangling is not None:
            raise dangling from None
        raise
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        _check(path, os.fstat(fd).st_mode)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def file_sha256(path):
    """(SHA-256 hex digest, size in bytes) of the regular file at `path` (open_regular's errors)."""
    digest = hashlib.sha256()
    size = 0
    with open_regular(path) as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
