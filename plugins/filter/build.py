# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters used by the kmod_build and kernel_headers roles: patch_series, build_key, format_release.

Runs on the controller (filter plugins). Each filter is documented in its own
file beside this one (patch_series.yml, build_key.yml, format_release.yml).
"""

from __future__ import annotations

import hashlib
import json
import re

from ansible.errors import AnsibleFilterError

_CONDITION = re.compile(r"^(rustc)(<|>=)(\d+)\.(\d+)$")


def _version_tuple(version):
    match = re.match(r"^(\d+)\.(\d+)", str(version or ""))
    if not match:
        raise AnsibleFilterError("cannot read a rustc version from %r" % (version,))
    return int(match.group(1)), int(match.group(2))


def parse_series(text):
    """Return [(patch, condition or None)] from the text of a series file."""
    entries = []
    for number, raw in enumerate(str(text).splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) > 2:
            raise AnsibleFilterError(
                "series line %d: expected '<patch> [condition]', got %r" % (number, raw)
            )
        condition = fields[1] if len(fields) == 2 else None
        if condition is not None and condition != "optin:panic" and not _CONDITION.match(condition):
            raise AnsibleFilterError(
                "series line %d: unknown condition %r (use rustc<X.Y, rustc>=X.Y or optin:panic)"
                % (number, condition)
            )
        entries.append((fields[0], condition))
    return entries


def patch_series(text, rustc_version, real_panic=False):
    """Names of the patches of a series that apply to this build, in order."""
    selected = []
    have = _version_tuple(rustc_version)
    for patch, condition in parse_series(text):
        if condition is None:
            selected.append(patch)
        elif condition == "optin:panic":
            if real_panic:
                selected.append(patch)
        else:
            _, op, major, minor = _CONDITION.match(condition).groups()
            want = (int(major), int(minor))
            if (op == "<" and have < want) or (op == ">=" and have >= want):
                selected.append(patch)
    return selected


def build_key(parts):
    """A short, stable hash of a mapping (kernel release, toolchain id, hashes)."""
    if not isinstance(parts, dict):
        raise AnsibleFilterError("build_key expects a mapping, got %s" % type(parts).__name__)
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:20]


def format_release(release, pattern):
    """'linux-headers-{release}' | format_release -> 'linux-headers-6.1.0-41-amd64'."""
    return str(pattern).replace("{release}", str(release))


class FilterModule(object):
    def filters(self):
        return {
            "patch_series": patch_series,
            "build_key": build_key,
            "format_release": format_release,
        }
