# SPDX-License-Identifier: GPL-3.0-or-later
"""The .modinfo strings of hand-made ELF files, and of files that are not modules."""

from __future__ import annotations

import os

import pytest
from ansible_collections.rustkmod.roulette.plugins.module_utils import elf_modinfo
from elf_fixture import make_elf, modinfo

INFO = modinfo(license="GPL", srcversion="9F3C6B1D2E4A5F60718293A", depends="",
               name="roulette", vermagic="6.1.0-27-amd64 SMP preempt mod_unload modversions ")


def write(tmp_path, data, name="roulette.ko"):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize("elf_class, order", [(64, "<"), (64, ">"), (32, "<"), (32, ">")])
def test_every_class_and_byte_order(tmp_path, elf_class, order):
    data = make_elf([(".text", b"\x90" * 16), (".modinfo", INFO), (".note", b"x" * 8)],
                    elf_class=elf_class, order=order)
    info = elf_modinfo.read_modinfo(write(tmp_path, data))
    assert info["srcversion"] == ["9F3C6B1D2E4A5F60718293A"]
    assert elf_modinfo.first(info, "vermagic") == "6.1.0-27-amd64 SMP preempt mod_unload modversions "
    assert info["depends"] == [""] and info["license"] == ["GPL"]


def test_extended_section_numbering(tmp_path):
    data = make_elf([(".modinfo", INFO)], extended=True)
    assert elf_modinfo.first(elf_modinfo.read_modinfo(write(tmp_path, data)), "srcversion") == "9F3C6B1D2E4A5F60718293A"


def test_keys_outside_modinfo_are_not_taken(tmp_path):
    """A srcversion= string in another section (.rodata, a comment) is not the module's."""
    data = make_elf([(".rodata", b"srcversion=FAKE\0"), (".modinfo", modinfo(license="GPL"))])
    info = elf_modinfo.read_modinfo(write(tmp_path, data))
    assert info == {"license": ["GPL"]} and elf_modinfo.first(info, "srcversion") is None


def test_repeated_keys_are_all_kept():
    info = elf_modinfo.parse_modinfo_strings(b"alias=a\0alias=b\0\0junk\0=x\0")
    assert info == {"alias": ["a", "b"]}


@pytest.mark.parametrize("data", [
    b"",
    b"\x7fEL",
    b"not an elf file at all, but long enough to hold a header" * 4,
    b"\x7fELF" + b"\x03\x01" + b"\0" * 100,             # unknown class
    make_elf([(".text", b"code")]),                      # no .modinfo
    make_elf([(".modinfo", INFO)])[:200],                # cut short: the table is gone
    make_elf([(".bss", b"\0" * 32), (".modinfo", INFO)])[:-1],
])
def test_not_a_module_gives_none(tmp_path, data):
    assert elf_modinfo.read_modinfo(write(tmp_path, data)) is None


def test_header_pointing_outside_the_file(tmp_path):
    data = bytearray(make_elf([(".modinfo", INFO)]))
    data[0x28:0x30] = (2 ** 63).to_bytes(8, "little")  # e_shoff
    assert elf_modinfo.read_modinfo(write(tmp_path, bytes(data))) is None


def test_section_name_offset_beyond_the_table(tmp_path):
    data = make_elf([(".modinfo", INFO)])
    shoff = int.from_bytes(data[0x28:0x30], "little")
    broken = bytearray(data)
    broken[shoff + 64:shoff + 68] = (10 ** 6).to_bytes(4, "little")  # sh_name of .modinfo
    assert elf_modinfo.read_modinfo(write(tmp_path, bytes(broken))) is None


def test_missing_path_directory_fifo_and_symlink(tmp_path):
    good = write(tmp_path, make_elf([(".modinfo", INFO)]))
    assert elf_modinfo.read_modinfo(str(tmp_path / "absent.ko")) is None
    assert elf_modinfo.read_modinfo(str(tmp_path)) is None
    fifo = str(tmp_path / "fifo.ko")
    os.mkfifo(fifo)
    assert elf_modinfo.read_modinfo(fifo) is None  # returns at once: a FIFO is never read
    link = str(tmp_path / "link.ko")
    os.symlink(good, link)
    assert elf_modinfo.read_modinfo(link) is None
    assert elf_modinfo.first(None, "srcversion") is None
