# -*- coding: utf-8 -*-
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The settings_problems filter: checks the collection's variables as the user gave them.

Runs on the controller (a filter plugin), in ansible-core's Python.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: settings_problems
short_description: Check the raw values of the collection's variables
version_added: 1.0.0
description:
  - Takes a dict of variable names and their values as the inventory, C(group_vars) or C(-e) gave
    them (integers, strings, booleans, floats, null, lists), before any C(| int) or C(| bool) has
    turned a bad value into a harmless-looking one (V(abc) into V(0)).
  - Returns one message per bad value, naming the variable, the value given and what is allowed;
    an empty list when every value is fine. Variables absent from the dict are not checked; a name
    the filter does not know is an error, so a typo cannot pass unchecked.
  - Integers may be given as numbers or as strings of digits (C(-e name=5) gives the string V("5")).
    Booleans and floats are never integers.
author: rustkmod.roulette maintainers (@rustkmod)
options:
  _input:
    description:
      - Variable name to raw value. The names checked, and what each allows, follow.
      - V(roulette_chance), V(roulette_spin_expect_chance) - null or V('') (unset, the driver picks
        a chance at random), or an integer from 0 to 100.
      - V(roulette_spin_count) - an integer from 0 to 10000000.
      - V(roulette_spin_max_deaths), V(roulette_spin_max_fleet_deaths) - null or V('') (no limit),
        or an integer of at least 1.
      - V(roulette_spin_timeout) - a finite number of seconds, more than 0 and at most 3600.
      - V(roulette_batch), V(roulette_spin_batch) (a play's C(serial)) - a positive integer, a
        percentage V('N%') with N from 1 to 100, or a non-empty list of those.
      - V(roulette_max_fail_percentage), V(roulette_spin_max_fail_percentage) - a number from 0 to 100.
      - V(kmod_load_device) - an absolute, normalised path under C(/dev/) whose components are made of
        C([A-Za-z0-9._-]), with no V(.) or V(..) component, no empty component, no trailing V(/),
        at most 4096 characters.
      - V(kmod_load_device_owner) - a POSIX user name (C(^[a-z_][a-z0-9_-]{0,31}$), optionally
        ending in V($)) or a decimal id.
      - V(kmod_load_device_group) - the same as the owner, or V('') (root's group).
      - V(kmod_load_device_mode) - a quoted string of 3 or 4 octal digits without setuid, setgid or
        sticky bits and without permissions for others (V("0600"), V("0660"), V("0640")). An integer
        is refused, YAML reads an unquoted V(0600) as the number V(384).
      - V(roulette_armed), V(roulette_allow_panic), V(roulette_reboot_ok), V(kmod_load_persist) - a
        boolean, or a string the C(bool) filter reads (V(yes), V(no), V(true), V(false), V(on), V(off),
        V(1), V(0), in any case).
      - V(kmod_build_method) - V(ansible) or V(dkms).
    type: dict
    required: true
seealso:
  - module: ansible.builtin.assert
  - plugin: rustkmod.roulette.build_method_problems
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Refuse bad settings before anything is installed
  vars:
    __problems: >-
      {{ {'roulette_chance': roulette_chance | default(none),
          'kmod_load_device': kmod_load_device,
          'kmod_load_device_mode': kmod_load_device_mode,
          'roulette_armed': roulette_armed | default(false)}
         | rustkmod.roulette.settings_problems }}
  ansible.builtin.assert:
    that: __problems | length == 0
    fail_msg: "{{ __problems | join(' ') }}"
    quiet: true

- name: Check what a user passed with -e (all strings)
  ansible.builtin.debug:
    msg: "{{ {'roulette_chance': '101', 'roulette_batch': 'abc'} | rustkmod.roulette.settings_problems }}"
  # ["roulette_chance must be an integer from 0 to 100 ...; got '101' (a string).",
  #  "roulette_batch must be a positive integer, a percentage 'N%' ...; got 'abc' (a string)."]
"""

RETURN = r"""
_value:
  description: One message per bad value, in a fixed order of the names; empty when all are fine.
  type: list
  elements: str
  sample:
    - "roulette_chance must be an integer from 0 to 100 (a number or a string of digits), or null or '' to let
      the driver pick one at random; got 'abc' (a string)."
"""

import math
import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

_DIGITS_RE = re.compile(r"[0-9]{1,30}")
_NUMBER_RE = re.compile(r"[0-9]{1,30}(?:\.[0-9]{0,30})?|\.[0-9]{1,30}")
_PERCENT_RE = re.compile(r"([0-9]{1,30})%")
_DEVICE_RE = re.compile(r"/dev(?:/[A-Za-z0-9._-]+)+")
_NAME_RE = re.compile(r"[a-z_][a-z0-9_-]{0,31}\$?")
_MODE_RE = re.compile(r"[0-7]{3,4}")
_BOOL_STRINGS = ("yes", "no", "true", "false", "on", "off", "1", "0")
BUILD_METHODS = ("ansible", "dkms")
_SHOW_LIMIT = 80
_MAX_ID = 2 ** 32 - 2  # (uid_t)-1 means "no change" to chown, it is no one's id
_MAX_PATH = 4096


def _show(value):
    """The value as the user gave it, quoted and shortened, with its type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "%s (a boolean)" % ("true" if value else "false")
    if isinstance(value, str):
        text = repr(str(value))
        if len(text) > _SHOW_LIMIT:
            text = text[:_SHOW_LIMIT] + "... (%d characters)" % len(value)
        return "%s (a string)" % text
    if isinstance(value, int):
        if abs(value).bit_length() > 200:  # str() of a huge int is slow, or refused past 4300 digits
            return "an integer of %d bits" % abs(value).bit_length()
        return "%d (an integer)" % int(value)
    if isinstance(value, float):
        return "%r (a float)" % float(value)
    try:
        text = repr(value)
    except ValueError:  # holds an int too large for str()
        text = "..."
    if len(text) > _SHOW_LIMIT:
        text = text[:_SHOW_LIMIT] + "..."
    return "%s (a %s)" % (text, type(value).__name__)


def _integer(value):
    """An int from an int or a string of ASCII digits; None for anything else (bools and floats too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str) and _DIGITS_RE.fullmatch(value):
        return int(value)
    return None


def _number(value):
    """A finite float from an int, a float or a plain decimal string; None otherwise."""
    if isinstance(value, bool):
        return None
    if not (isinstance(value, (int, float)) or (isinstance(value, str) and _NUMBER_RE.fullmatch(value))):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        return None
    return number if math.isfinite(number) else None


def _unset(value):
    return value is None or (isinstance(value, str) and value == "")


def _int_range(low, high=None):
    def check(value):
        number = _integer(value)
        return number is not None and number >= low and (high is None or number <= high)
    return check


def _optional(check):
    return lambda value: _unset(value) or check(value)


def _number_range(low, high, low_open=False):
    def check(value):
        number = _number(value)
        if number is None:
            return False
        return (number > low if low_open else number >= low) and number <= high
    return check


def _batch_item(value):
    if isinstance(value, str):
        match = _PERCENT_RE.fullmatch(value)
        if match:
            return 1 <= int(match.group(1)) <= 100
    number = _integer(value)
    return number is not None and number >= 1


def _batch(value):
    if isinstance(value, (list, tuple)):
        return len(value) > 0 and all(_batch_item(item) for item in value)
    return _batch_item(value)


def _device(value):
    if not isinstance(value, str) or len(value) > _MAX_PATH or not _DEVICE_RE.fullmatch(value):
        return False
    return all(part not in (".", "..") for part in value.split("/")[2:])


def _account(value):
    if isinstance(value, str) and _NAME_RE.fullmatch(value):
        return True
    number = _integer(value)
    return number is not None and 0 <= number <= _MAX_ID


def _group(value):
    return (isinstance(value, str) and value == "") or _account(value)


def _mode(value):
    if not isinstance(value, str) or not _MODE_RE.fullmatch(value):
        return False
    mode = int(value, 8)
    return not mode & 0o7000 and not mode & 0o007


def _boolean(value):
    return isinstance(value, bool) or (isinstance(value, str) and value.lower() in _BOOL_STRINGS)


_CHANCE = "an integer from 0 to 100 (a number or a string of digits), or null or '' to let the driver pick one at random"
_DEATHS = "an integer of at least 1 (a number or a string of digits), or null or '' for no limit"
_BATCH = "a positive integer, a percentage 'N%' with N from 1 to 100, or a non-empty list of those"
_PERCENTAGE = "a number from 0 to 100"
_ACCOUNT = "a user name (lower case letters, digits, '_' and '-', at most 32, starting with a letter or '_'), or a decimal id"
_BOOLEAN = "true or false (or one of the strings %s, in any case)" % ", ".join(_BOOL_STRINGS)

# Name -> (check, what is allowed), in the order messages are given.
RULES = (
    ("roulette_armed", _boolean, _BOOLEAN),
    ("roulette_allow_panic", _boolean, _BOOLEAN),
    ("roulette_reboot_ok", _boolean, _BOOLEAN),
    ("roulette_chance", _optional(_int_range(0, 100)), _CHANCE),
    ("roulette_spin_expect_chance", _optional(_int_range(0, 100)), _CHANCE),
    ("roulette_spin_count", _int_range(0, 10_000_000), "an integer from 0 to 10000000 (a number or a string of digits)"),
    ("roulette_spin_max_deaths", _optional(_int_range(1)), _DEATHS),
    ("roulette_spin_max_fleet_deaths", _optional(_int_range(1)), _DEATHS),
    ("roulette_spin_timeout", _number_range(0, 3600, low_open=True), "a number of seconds more than 0 and at most 3600"),
    ("roulette_batch", _batch, _BATCH),
    ("roulette_spin_batch", _batch, _BATCH),
    ("roulette_max_fail_percentage", _number_range(0, 100), _PERCENTAGE),
    ("roulette_spin_max_fail_percentage", _number_range(0, 100), _PERCENTAGE),
    ("kmod_load_device", _device,
     "an absolute path under /dev/ made of components of letters, digits, '.', '_' and '-', separated by single '/',"
     " with no '.' or '..' component and no trailing '/', at most 4096 characters"),
    ("kmod_load_device_owner", _account, _ACCOUNT),
    ("kmod_load_device_group", _group, _ACCOUNT + ", or '' for root's group"),
    ("kmod_load_device_mode", _mode,
     "a quoted string of 3 or 4 octal digits with no setuid, setgid or sticky bit and no permission for others,"
     " such as \"0600\" or \"0660\""),
    ("kmod_load_persist", _boolean, _BOOLEAN),
    ("kmod_build_method", lambda value: isinstance(value, str) and value in BUILD_METHODS,
     "ansible (Ansible builds the module, once per kernel release, and copies it to the targets) or dkms"
     " (each target registers the driver with DKMS, which builds it there for every kernel)"),
)
_NAMES = tuple(name for name, _, _ in RULES)


def _mode_hint(value):
    """Why an integer mode is refused: YAML read an unquoted octal number."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0o777:
        return ": YAML reads an unquoted 0%o as the number %d, quote it, e.g. \"0600\"" % (value, value)
    if isinstance(value, int) and not isinstance(value, bool):
        return ": quote it, e.g. \"0600\""
    return ""


def settings_problems(settings):
    """Messages about the bad values among `settings` (name -> raw value); [] when all are fine."""
    if not isinstance(settings, Mapping):
        raise AnsibleFilterError("settings_problems expects a dict of variable names to values, got %s"
                                 % type(settings).__name__)
    unknown = sorted(str(name) for name in settings if name not in _NAMES)
    if unknown:
        raise AnsibleFilterError("settings_problems does not know how to check %s (it checks %s)"
                                 % (", ".join(unknown), ", ".join(_NAMES)))
    problems = []
    for name, check, allowed in RULES:
        if name not in settings:
            continue
        value = settings[name]
        if check(value):
            continue
        hint = _mode_hint(value) if name == "kmod_load_device_mode" else ""
        problems.append("%s must be %s; got %s%s." % (name, allowed, _show(value), hint))
    return problems


class FilterModule(object):
    def filters(self):
        return {"settings_problems": settings_problems}
