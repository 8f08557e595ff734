# SPDX-License-Identifier: GPL-3.0-or-later
"""dpkg_status: which of the named packages dpkg has installed, from dpkg-query's output (a
fake dpkg-query here; the real one in tests/vm/test_check_mode.py)."""

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.rustkmod.roulette.plugins.module_utils import dpkg
from ansible_collections.rustkmod.roulette.plugins.modules import dpkg_status
from roulette_fakehost import Exit, Fail

OUTPUT = ("gcc\tgcc\tii \n"
          "make\tmake\trc \n"
          "libc6:i386\tlibc6\tii \n"
          "rustc-web\trustc-web\tun \n")


def test_split_keeps_the_given_names_and_their_order():
    names = ["make", "gcc=4:12.2.0-3", "linux-headers-6.1.0-57-amd64", "libc6:i386", "rustc-web", "gcc/bookworm"]
    assert dpkg.split(names, OUTPUT) == (
        ["gcc=4:12.2.0-3", "libc6:i386", "gcc/bookworm"],
        ["make", "linux-headers-6.1.0-57-amd64", "rustc-web"])


def test_only_status_ii_is_installed():
    # rc: removed with its config files left; un: known, not installed; iU: unpacked, not configured.
    out = "a\ta\trc \nb\tb\tun \nc\tc\tiU \nd\td\tii \n"
    assert dpkg.split(["a", "b", "c", "d"], out) == (["d"], ["a", "b", "c"])


def fake_dpkg_query(tmp_path, monkeypatch, rc, stdout, stderr=""):
    fake = tmp_path / "dpkg-query"
    (tmp_path / "out").write_text(stdout)
    (tmp_path / "err").write_text(stderr)
    fake.write_text("#!/bin/sh\nprintf '%%s\\n' \"$@\" > {0}/args\ncat {0}/out\ncat {0}/err >&2\nexit {1}\n"
                    .replace("%%", "%").format(tmp_path, rc))
    fake.chmod(0o755)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path",
                        lambda self, name, *a, **k: str(fake) if name == "dpkg-query" else None)


def test_main_reads_dpkg_and_treats_unknown_names_as_missing(exits, tmp_path, monkeypatch):
    # dpkg-query exits 1 when a name matches no package it knows: not a failure.
    fake_dpkg_query(tmp_path, monkeypatch, 1, "gcc\tgcc\tii \n", "dpkg-query: no packages found matching rust-web-src\n")
    with patch_module_args({"name": ["gcc", "rust-web-src=1.78*", " "], "_ansible_check_mode": True}), \
            pytest.raises(Exit) as info:
        dpkg_status.main()
    assert info.value.result == {"changed": False, "installed": ["gcc"], "missing": ["rust-web-src=1.78*"]}
    args = (tmp_path / "args").read_text().splitlines()
    assert args[0] == "-W" and args[-3:] == ["--", "gcc", "rust-web-src"]


def test_main_fails_when_dpkg_query_fails(exits, tmp_path, monkeypatch):
    fake_dpkg_query(tmp_path, monkeypatch, 2, "", "dpkg-query: error: cannot access archive\n")
    with patch_module_args({"name": ["gcc"]}), pytest.raises(Fail) as info:
        dpkg_status.main()
    assert info.value.result["msg"] == "dpkg-query failed (rc=2): dpkg-query: error: cannot access archive"


def test_main_with_no_names_runs_nothing(exits, tmp_path, monkeypatch):
    fake_dpkg_query(tmp_path, monkeypatch, 2, "")
    with patch_module_args({"name": []}), pytest.raises(Exit) as info:
        dpkg_status.main()
    assert info.value.result == {"changed": False, "installed": [], "missing": []}
    assert not (tmp_path / "args").exists()
