# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the lookup tests: a lookup set up as Ansible's loader sets it up, cache entries."""

from __future__ import annotations

import hashlib
import json
import os

import yaml
from ansible import constants as C


def make_lookup(module, name):
    """module.LookupModule with its options defined from the module's DOCUMENTATION."""
    if not C.config.has_configuration_definition("lookup", name):
        C.config.initialize_plugin_configuration_definitions(
            "lookup", name, yaml.safe_load(module.DOCUMENTATION).get("options", {}))
    plugin = module.LookupModule()
    plugin._load_name = name
    return plugin


KO = b"\x7fELF\x02\x01\x01" + b"\0" * 57 + b"roulette module"
SOURCE = "a" * 64


def write_entry(cache, key, release="6.1.0-27-amd64", ko=KO, mtime=None, **fields):
    """A cache entry as kmod_build writes it; `fields` override build.json (None removes one)."""
    directory = cache / key
    directory.mkdir(parents=True)
    info = {"kernel_release": release, "source": SOURCE, "extra_patches": [], "real_panic": False,
            "key": key, "built_on": "build1", "toolchain_version": "1.85.0",
            "sha256": hashlib.sha256(ko).hexdigest() if isinstance(ko, bytes) else "0" * 64}
    info.update(fields)
    info = {name: value for name, value in info.items() if value is not None}
    (directory / "build.json").write_text(json.dumps(info))
    if isinstance(ko, bytes):
        (directory / "roulette.ko").write_bytes(ko)
        if mtime is not None:
            os.utime(directory / "roulette.ko", (mtime, mtime))
    return directory
