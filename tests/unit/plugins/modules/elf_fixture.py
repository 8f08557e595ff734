# SPDX-License-Identifier: GPL-3.0-or-later
"""Hand-made ELF relocatable objects with named sections, for the .modinfo tests.

Enough of the format for a reader of section headers: an ELF header, the
section contents, then the section header table (a null section, the given
sections and `.shstrtab`, the section name table).
"""

from __future__ import annotations

import struct


def make_elf(sections, elf_class=64, order="<", extended=False):
    """Bytes of an ELF file holding `sections`, a list of (name, bytes).

    `extended` writes the section count and the name table's index the way
    files with more than 0xff00 sections do (in section 0's size and link).
    """
    is64 = elf_class == 64
    header_size = 64 if is64 else 52
    section_size = 64 if is64 else 40
    names = b"\0"
    entries = []  # (name offset, type, data)
    for name, data in sections:
        entries.append((len(names), 1 if name != ".bss" else 8, data))  # SHT_PROGBITS / SHT_NOBITS
        names += name.encode() + b"\0"
    entries.append((len(names), 3, None))  # SHT_STRTAB
    names += b".shstrtab\0"
    entries[-1] = (entries[-1][0], 3, names)

    body = b""
    placed = []  # (name, type, offset, size)
    for name_offset, kind, data in entries:
        offset = header_size + len(body)
        if kind != 8:
            body += data
        placed.append((name_offset, kind, offset, len(data)))
    body += b"\0" * (-len(body) % 8)
    shoff = header_size + len(body)
    count = len(placed) + 1
    strndx = count - 1

    section_format = order + ("IIQQQQIIQQ" if is64 else "IIIIIIIIII")
    table = struct.pack(section_format, 0, 0, 0, 0, 0, count if extended else 0,
                        strndx if extended else 0, 0, 0, 0)
    for name_offset, kind, offset, size in placed:
        table += struct.pack(section_format, name_offset, kind, 0, 0, offset, size, 0, 0, 1, 0)

    ident = b"\x7fELF" + bytes([2 if is64 else 1, 1 if order == "<" else 2, 1, 0]) + b"\0" * 8
    header_format = order + ("HHIQQQIHHHHHH" if is64 else "HHIIIIIHHHHHH")
    header = ident + struct.pack(header_format, 1, 62, 1, 0, 0, shoff, 0, header_size, 0, 0, section_size,
                                 0 if extended else count, 0xFFFF if extended else strndx)
    assert len(header) == header_size
    return header + body + table


def modinfo(**keys):
    """A .modinfo section: NUL-terminated key=value strings, with padding as the linker leaves it."""
    return b"".join(f"{key}={value}".encode() + b"\0" for key, value in keys.items()) + b"\0\0\0"
