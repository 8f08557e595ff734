# SPDX-License-Identifier: GPL-3.0-or-later
"""deb_packages: installs what dpkg lacks with one apt-get run, updating old package lists
first (fake dpkg-query, apt-get and sync here; the real ones in every VM converge)."""

import os

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.rustkmod.roulette.plugins.modules import deb_packages
from roulette_fakehost import Exit, Fail


@pytest.fixture
def host(tmp_path, monkeypatch):
    """Fake dpkg-query, apt-get and sync: each logs its arguments (one call a line) to calls;
    dpkg-query prints tmp_path/dpkg, apt-get exits with tmp_path/<subcommand>.rc (0 without)."""
    calls = tmp_path / "calls"
    (tmp_path / "dpkg").write_text("")
    for name in ("dpkg-query", "apt-get", "sync"):
        tool = tmp_path / name
        body = "#!/bin/sh\necho \"%s $(echo \"$*\" | tr '\\n\\t' '  ')\" >> %s\n" % (name, calls)
        if name == "dpkg-query":
            body += "cat %s/dpkg\nexit 1\n" % tmp_path
        if name == "apt-get":
            body += ("rc=$(cat %s/$1.rc 2>/dev/null || echo 0)\n"
                     "[ \"$rc\" = 0 ] || echo 'E: Unable to locate package nosuch' >&2\nexit $rc\n") % tmp_path
        tool.write_text(body)
        tool.chmod(0o755)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path",
                        lambda self, name, *a, **k: str(tmp_path / name))
    monkeypatch.setattr(deb_packages, "lists_age", lambda now: 100.0)
    return tmp_path


def run(args, outcome=Exit):
    with patch_module_args(args), pytest.raises(outcome) as info:
        deb_packages.main()
    return info.value.result


def calls(host):
    path = host / "calls"
    return path.read_text().splitlines() if path.exists() else []


def test_nothing_missing_runs_only_the_query(exits, host):
    (host / "dpkg").write_text("gcc\tgcc\tii \nmake\tmake\tii \n")
    result = run({"name": ["gcc", "make"]})
    assert result == {"changed": False, "installed": ["gcc", "make"], "missing": [], "cache_updated": False}
    assert [c.split()[0] for c in calls(host)] == ["dpkg-query"]


def test_missing_ones_are_installed_in_one_run_then_synced(exits, host):
    (host / "dpkg").write_text("gcc\tgcc\tii \nrustc-web\trustc-web\tun \n")
    result = run({"name": ["gcc", "rustc-web", "linux-headers-6.1.0-57-amd64"], "cache_valid_time": 3600})
    assert result == {"changed": True, "installed": ["gcc"], "missing": ["rustc-web", "linux-headers-6.1.0-57-amd64"],
                      "cache_updated": False}
    apt, sync = calls(host)[1:]
    assert apt.split()[:3] == ["apt-get", "install", "-y"]
    assert "--no-install-recommends" in apt and "Dpkg::Options::=--force-unsafe-io" in apt
    assert apt.split()[-3:] == ["--", "rustc-web", "linux-headers-6.1.0-57-amd64"]
    assert sync.split() == ["sync"]


def test_old_package_lists_are_updated_before_the_install(exits, host):
    result = run({"name": ["make"], "cache_valid_time": 60})
    assert result["cache_updated"] is True
    assert [c.split()[:2] for c in calls(host)] == [["dpkg-query", "-W"], ["apt-get", "update"],
                                                    ["apt-get", "install"], ["sync"]]


def test_check_mode_reports_what_a_real_run_installs_and_runs_nothing_else(exits, host):
    (host / "dpkg").write_text("gcc\tgcc\tii \n")
    result = run({"name": ["gcc", "rust-web-src"], "cache_valid_time": 0, "_ansible_check_mode": True})
    assert result == {"changed": True, "installed": ["gcc"], "missing": ["rust-web-src"], "cache_updated": False}
    assert [c.split()[0] for c in calls(host)] == ["dpkg-query"]


def test_a_failed_install_says_apts_error_and_still_syncs(exits, host):
    (host / "install.rc").write_text("100")
    result = run({"name": ["nosuch"]}, Fail)
    assert result["msg"] == "apt-get install nosuch failed (rc=100): E: Unable to locate package nosuch"
    assert calls(host)[-1].split() == ["sync"]


def test_a_failed_update_installs_nothing(exits, host):
    (host / "update.rc").write_text("100")
    result = run({"name": ["nosuch"], "cache_valid_time": 0}, Fail)
    assert result["msg"].startswith("apt-get update failed (rc=100): E: ")
    assert [c.split()[1] for c in calls(host)] == ["-W", "update"]


@pytest.mark.parametrize("age, valid, update", [(None, 3600, True), (10.0, 3600, False), (3600.0, 3600, True),
                                                (10.0, 0, True)])
def test_when_the_lists_are_updated(age, valid, update):
    assert deb_packages.needs_update(age, valid) is update


def test_lists_age_takes_the_newer_of_the_stamp_and_the_lists(tmp_path):
    lists, stamp = tmp_path / "lists", tmp_path / "stamp"
    lists.mkdir()
    (lists / "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4").write_text("")
    stamp.write_text("")
    os.utime(stamp, (1000, 1000))
    os.utime(lists, (5000, 5000))
    assert deb_packages.lists_age(6000, str(lists), str(stamp)) == 1000
    os.utime(stamp, (5500, 5500))
    assert deb_packages.lists_age(6000, str(lists), str(stamp)) == 500
    assert deb_packages.lists_age(6000, str(lists), str(tmp_path / "none")) == 1000


def test_no_package_lists_is_never_updated_however_new_their_directory(tmp_path):
    # The lab's images are built with their lists cleaned: the directory is as new as the image.
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "lock").write_text("")
    (lists / "partial").mkdir()
    assert deb_packages.lists_age(os.stat(lists).st_mtime + 1, str(lists), str(tmp_path / "none")) is None
    assert deb_packages.needs_update(None, 3600) is True


def test_path_filters_go_to_dpkg_excludes_first(exits, host):
    run({"name": ["rust-web-src"], "path_exclude": ["/usr/src/rustc-*/*"], "path_include": ["/usr/src/rustc-*/library/*"]})
    apt = calls(host)[1].split()
    options = [a for a in apt if a.startswith("Dpkg::Options::=--path-")]
    assert options == ["Dpkg::Options::=--path-exclude=/usr/src/rustc-*/*",
                       "Dpkg::Options::=--path-include=/usr/src/rustc-*/library/*"]
    assert apt[-2:] == ["--", "rust-web-src"]


def test_no_path_filters_without_the_options(exits, host):
    run({"name": ["gcc"]})
    assert "--path-" not in calls(host)[1]


def test_a_relative_path_filter_is_refused_before_anything_runs(exits, host):
    result = run({"name": ["rust-web-src"], "path_exclude": ["usr/src/rustc-*/*"]}, Fail)
    assert result["msg"] == ("path_exclude takes globs of absolute paths (dpkg matches them against /...); "
                             "not: usr/src/rustc-*/*")
    assert calls(host) == []
