# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The `.modinfo` strings of a kernel module file (what `modinfo` prints), in Python.

Runs on the target host (imported by the roulette_info module), on its Python
(3.9 or later).  No subprocess: `modinfo` may be missing, and the installed
module is compared with the loaded one on every run.

A `.ko` is an ELF relocatable object; its `.modinfo` section holds
NUL-terminated `key=value` strings (`srcversion=...`, `vermagic=...`,
`license=...`).  The section is found through the ELF section header table;
32- and 64-bit, little- and big-endian files are read.  Anything that is not
such a file gives None, never an exception.
"""

from __future__ import annotations

import gzip
import io
import lzma
import os
import stat
import struct

ELF_MAGIC = b"\x7fELF"
_SHN_XINDEX = 0xFFFF
_SHT_NOBITS = 8
# A module's .modinfo is a few hundred bytes, its section name table a few KiB:
# anything much larger is not a module we built, and is not read into memory.
MAX_SECTION = 1 << 20
MAX_SECTIONS = 1 << 16
# A compressed module (what dkms installs for a kernel whose modules are compressed:
# roulette.ko.xz) is unpacked in memory, up to this size; Python's own lzma and gzip
# read it (a .zst needs a zstd library the target's Python may lack: not read).
MAX_UNPACKED = 64 << 20
_UNPACK = {".xz": lzma.open, ".gz": gzip.open}

# class -> (ELF header after e_ident, section header, size of a section header)
_LAYOUT = {
    1: ("HHIIIIIHHHHHH", "IIIIIIIIII", 40),
    2: ("HHIQQQIHHHHHH", "IIQQQQIIQQ", 64),
}


class NotModinfo(ValueError):
    """The file is not an ELF object with a readable .modinfo section."""


def _read_at(handle, offset, size, file_size):
    if offset < 0 or size < 0 or offset + size > file_size:
        raise NotModinfo(f"{size} bytes at {offset} lie outside the file")
    handle.seek(offset)
    data = handle.read(size)
    if len(data) != size:
        raise NotModinfo("short read")
    return data


def _section_headers(handle, file_size):
    """[(name offset, type, offset, size, link)] of every section, and the index of the name table."""
    ident = _read_at(handle, 0, 16, file_size)
    if ident[:4] != ELF_MAGIC:
        raise NotModinfo("no ELF magic")
    layout = _LAYOUT.get(ident[4])
    order = {1: "<", 2: ">"}.get(ident[5])
    if layout is None or order is None:
        raise NotModinfo("unknown ELF class or byte order")
    header_format, section_format, section_size = layout
    header_format = order + header_format
    fields = struct.unpack(header_format, _read_at(handle, 16, struct.calcsize(header_format), file_size))
    shoff, shentsize, shnum, shstrndx = fields[5], fields[10], fields[11], fields[12]
    if shoff == 0 or shentsize < section_size:
        raise NotModinfo("no section header table")
    section_format = order + section_format

    def header(index):
        raw = _read_at(handle, shoff + index * shentsize, section_size, file_size)
        values = struct.unpack(section_format, raw)
        # sh_name, sh_type, sh_offset, sh_size, sh_link
        return values[0], values[1], values[4], values[5], values[6]

    if shnum == 0 or shstrndx == _SHN_XINDEX:
        # Extended numbering: the real values are in section 0's size and link.
        first = header(0)
        shnum = shnum or first[3]
        if shstrndx == _SHN_XINDEX:
            shstrndx = first[4]
    if not 0 < shnum <= MAX_SECTIONS or not 0 <= shstrndx < shnum:
        raise NotModinfo("bad section counts")
    return [header(index) for index in range(shnum)], shstrndx


def _section_data(handle, file_size, section):
    _name, kind, offset, size, _link = section
    if kind == _SHT_NOBITS or size > MAX_SECTION:
        raise NotModinfo("section without data, or too large")
    return _read_at(handle, offset, size, file_size)


def parse_modinfo_strings(data):
    """{key: [values]} of NUL-separated `key=value` strings (padding and junk skipped)."""
    result = {}
    for raw in data.split(b"\0"):
        key, sep, value = raw.partition(b"=")
        if not sep or not key:
            continue
        name = key.decode("ascii", "replace")
        result.setdefault(name, []).append(value.decode("utf-8", "replace"))
    return result


def read_modinfo_handle(handle, file_size):
    """The .modinfo strings of an open ELF file; raises NotModinfo (or OSError)."""
    try:
        sections, names_index = _section_headers(handle, file_size)
        names = _section_data(handle, file_size, sections[names_index])
        for section in sections:
            start = section[0]
            end = names.find(b"\0", start)
            if start < len(names) and end != -1 and names[start:end] == b".modinfo":
                return parse_modinfo_strings(_section_data(handle, file_size, section))
    except struct.error as exc:
        raise NotModinfo(str(exc)) from exc
    raise NotModinfo("no .modinfo section")


def read_modinfo(path):
    """{key: [values]} of the module file at `path`, or None.

    None when the path is missing, is not a regular file (a FIFO is never
    opened for reading, a symlink is not followed), cannot be read, is not
    an ELF file or has no .modinfo section. A path ending in .xz or .gz is
    unpacked first (in memory, at most MAX_UNPACKED bytes).
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except (OSError, ValueError):
        return None
    unpack = _UNPACK.get(os.path.splitext(str(path))[1])
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            if unpack is None:
                return read_modinfo_handle(handle, info.st_size)
            with unpack(handle, "rb") as unpacked:
                data = unpacked.read(MAX_UNPACKED + 1)
            if len(data) > MAX_UNPACKED:
                return None
            return read_modinfo_handle(io.BytesIO(data), len(data))
    except (OSError, EOFError, lzma.LZMAError, NotModinfo, OverflowError):
        return None
    finally:
        os.close(fd)


def first(modinfo, key):
    """The first value of `key`, or None (also when `modinfo` is None)."""
    values = (modinfo or {}).get(key)
    return values[0] if values else None
