# SPDX-License-Identifier: GPL-3.0-or-later
"""Preflight and package selection, run for real on the controller."""

import platform
from pathlib import Path

import pytest

from integration_support import task_results

NO_MODULES = not Path("/proc/modules").exists()


def failures(report):
    return [(name, result) for name, result in task_results(report) if result.get("failed")]


@pytest.mark.skipif(not NO_MODULES, reason="this kernel supports modules")
def test_preflight_refuses_a_kernel_without_module_support(run_playbook):
    rc, report = run_playbook("preflight.yml")
    assert rc != 0
    (name, result), = failures(report)
    assert name == "Refuse a kernel that cannot load this module"
    assert "has no loadable module support" in result["msg"]
    assert "CONFIG_MODULES=n" in result["msg"]


def test_preflight_refuses_an_unsupported_os(run_playbook):
    rc, report = run_playbook("preflight.yml", {"preflight_supported_os": {"RedHat": ["9"]}})
    assert rc != 0
    (name, result), = failures(report)
    assert name == "Refuse an unsupported operating system"
    assert "is not supported. Supported and tested: RedHat 9." in result["msg"]


def os_release():
    return dict(line.rstrip("\n").replace('"', "").split("=", 1)
                for line in Path("/etc/os-release").read_text().splitlines() if "=" in line)


def test_preflight_names_the_supported_releases_by_codename_and_version(run_playbook):
    # Releases other than the controller's: the refusal names each by version and codename.
    mine = os_release().get("VERSION_CODENAME")
    debian = {codename: name for codename, name in [("trixie", "13"), ("forky", "testing"), ("duke", "15")]
              if codename != mine}
    rc, report = run_playbook("preflight.yml", {"preflight_supported_os": {"RedHat": {"plow": "9"}, "Debian": debian}})
    assert rc != 0
    (name, result), = failures(report)
    assert name == "Refuse an unsupported operating system"
    shown = ", ".join("Debian %s (%s)" % (name, codename) for codename, name in debian.items())
    assert result["msg"].endswith("is not supported. Supported and tested: RedHat 9 (plow); %s." % shown)
    assert "(%s, Debian family)" % mine in result["msg"]


@pytest.mark.parametrize("form", ["codename", "major version"])
def test_preflight_accepts_the_controllers_release_listed_either_way(run_playbook, form):
    release = os_release()
    listed = {release["VERSION_CODENAME"]: release.get("VERSION_ID", "testing")} if form == "codename" else [
        release["VERSION_ID"]]
    if form == "major version" and "VERSION_ID" not in release:
        pytest.skip("the controller's release has no version number")
    rc, report = run_playbook("preflight.yml", {"preflight_supported_os": {"Debian": listed}})
    assert "Refuse an unsupported operating system" not in [name for name, _ in failures(report)]


def test_preflight_refuses_a_too_old_target_python(run_playbook):
    rc, report = run_playbook("preflight.yml", {"preflight_min_python": "9.0"})
    (name, result), = failures(report)
    assert name == "Refuse a target Python too old for the collection's modules"
    assert "need Python 9.0 or newer" in result["msg"]


# Every fact the roles' set_vars.yml require, so that none is gathered for real.
FAKE = {
    "redhat9": {"os_family": "RedHat", "distribution": "RedHat", "distribution_release": "Plow",
                "kernel": "5.14.0-427.el9.x86_64", "architecture": "x86_64"},
    "debian13": {"os_family": "Debian", "distribution": "Debian", "distribution_release": "trixie",
                 "kernel": "6.12.48+deb13-amd64", "architecture": "x86_64"},
    "ubuntu2404": {"os_family": "Debian", "distribution": "Ubuntu", "distribution_release": "noble",
                   "kernel": "6.8.0-45-generic", "architecture": "x86_64"},
    # Debian testing: Ansible reports distribution_major_version "forky/sid", no number.
    "forky": {"os_family": "Debian", "distribution": "Debian", "distribution_release": "forky",
              "kernel": "7.2.12+deb14-amd64", "architecture": "x86_64"},
}


def gathered(report):
    """Whether each role's set_vars.yml ran setup, in the order the roles ran."""
    return [not result.get("skipped") for name, result in task_results(report)
            if name == "Gather the facts the role needs"]


def selection(report):
    for name, result in task_results(report):
        if name == "Show the selection":
            return result["msg"]
    raise AssertionError("no selection shown")


def test_redhat_is_refused_by_kernel_headers(run_playbook):
    # Only the Debian family is supported; no header package names are guessed for others.
    rc, report = run_playbook("package_selection.yml", {"fake": FAKE["redhat9"]})
    assert rc != 0
    (name, result), = failures(report)
    assert name == "Refuse an OS family without known header packages"
    assert "No kernel header packages are known for RedHat (RedHat family)" in result["msg"]
    assert "supported: the Debian family" in result["msg"]


def test_ubuntu_has_headers_but_no_distro_toolchain(run_playbook):
    rc, report = run_playbook("package_selection.yml", {"fake": FAKE["ubuntu2404"]})
    assert rc != 0
    (name, result), = failures(report)
    assert name == "Refuse a toolchain this host cannot have"
    assert "Ubuntu noble has no known distribution toolchain" in result["msg"]
    assert "rust_toolchain_method: rustup" in result["msg"]


def test_ubuntu_selects_debian_family_headers_with_rustup(run_playbook):
    rc, report = run_playbook("package_selection.yml", {
        "fake": FAKE["ubuntu2404"], "rust_toolchain_method": "rustup"})
    assert rc == 0, failures(report)
    chosen = selection(report)
    assert chosen["headers"] == ["linux-headers-6.8.0-45-generic"]
    assert chosen["build_dirs"] == {"6.8.0-45-generic": "/usr/src/linux-headers-6.8.0-45-generic"}
    assert chosen["rust"] == {}
    assert chosen["rust_packages"] == ["curl", "ca-certificates", "gcc", "libc6-dev"]
    assert chosen["rust_filters"] == {"exclude": [], "include": []}  # no source package


def test_debian13_selects_headers_and_both_toolchains(run_playbook):
    rc, report = run_playbook("package_selection.yml", {
        "fake": FAKE["debian13"], "kernel_headers_releases": ["6.12.48+deb13-amd64", "6.12.57+deb13-amd64"]})
    assert rc == 0, failures(report)
    chosen = selection(report)
    assert chosen["headers"] == ["linux-headers-6.12.48+deb13-amd64", "linux-headers-6.12.57+deb13-amd64"]
    assert chosen["rust"]["web"] == ["rustc-web", "rust-web-src"]
    assert chosen["rust"]["native"] == ["rustc", "rust-src", "librust-compiler-builtins-dev"]  # no cargo: the build runs rustc alone
    # What site.yml installs in the headers' apt transaction: the chosen flavor's packages.
    assert chosen["rust_packages"] == ["rustc-web", "rust-web-src"]
    # ... and of its source package, library/ alone (rust_toolchain_source_tree: library).
    assert chosen["rust_filters"] == {"exclude": ["/usr/src/rustc-*/*"], "include": ["/usr/src/rustc-*/library/*"]}


def test_the_whole_rust_source_tree_on_request(run_playbook):
    rc, report = run_playbook("package_selection.yml", {"fake": FAKE["debian13"], "rust_toolchain_source_tree": "full"})
    assert rc == 0, failures(report)
    assert selection(report)["rust_filters"] == {"exclude": [], "include": []}


def test_forky_selects_its_headers_and_its_own_rustc(run_playbook):
    rc, report = run_playbook("package_selection.yml", {"fake": FAKE["forky"]})
    assert rc == 0, failures(report)
    chosen = selection(report)
    assert chosen["headers"] == ["linux-headers-7.2.12+deb14-amd64"]
    assert chosen["rust"] == {"native": ["rustc", "rust-src"]}


def test_forky_has_no_rustc_web(run_playbook):
    rc, report = run_playbook("package_selection.yml", {"fake": FAKE["forky"], "rust_toolchain_distro_flavor": "web"})
    assert rc != 0
    (name, result), = failures(report)
    assert name == "Refuse a toolchain this host cannot have"
    assert "Debian forky has no 'web' distribution toolchain; available here: native." in result["msg"]


@pytest.mark.parametrize("removed", [{"rust_toolchain_std_builder": "xargo"},
                                     {"rust_toolchain_std_builder": "rustc"},
                                     {"rust_toolchain_xargo_version": "0.3.26"}])
def test_the_removed_std_builder_options_are_refused(run_playbook, removed):
    # The driver's Makefile builds core, compiler_builtins and alloc with rustc alone;
    # a setting that would once have chosen xargo or build-std must not be ignored silently.
    rc, report = run_playbook("package_selection.yml", {"fake": FAKE["debian13"], **removed})
    assert rc != 0
    (name, result), = failures(report)
    assert name == "Refuse the removed std builder options"
    assert next(iter(removed)) in result["msg"]
    assert "builds core, compiler_builtins and alloc with rustc" in result["msg"]


def test_set_vars_gathers_no_fact_that_is_there(run_playbook):
    rc, report = run_playbook("package_selection.yml", {"fake": FAKE["debian13"]})
    assert rc == 0, failures(report)
    assert gathered(report) == [False, False]
    assert selection(report)["facts"]["distribution_release"] == "trixie"


def test_set_vars_gathers_when_a_required_fact_is_missing(run_playbook):
    # No kernel: kernel_headers gathers its facts (the controller's, so the fake ones are
    # replaced); rust_toolchain then finds all of its own.
    fake = {k: v for k, v in FAKE["debian13"].items() if k != "kernel"}
    rc, report = run_playbook("package_selection.yml", {"fake": fake})
    assert rc == 0, failures(report)
    assert gathered(report) == [True, False]
    chosen = selection(report)
    assert chosen["headers"] == ["linux-headers-" + platform.release()]
    assert "kernel" in chosen["facts"] and "os_family" in chosen["facts"]
    # Only the subsets asked for: no hardware or network facts.
    assert "memtotal_mb" not in chosen["facts"] and "default_ipv4" not in chosen["facts"]


@pytest.mark.parametrize("kernel, meta", [
    ("6.1.0-57-amd64", "linux-headers-amd64"),
    ("6.12.57+deb13-amd64", "linux-headers-amd64"),
    ("6.12.48+bpo-amd64", "linux-headers-amd64"),
    ("6.1.0-57-cloud-amd64", "linux-headers-cloud-amd64"),
    ("6.1.0-57-rt-amd64", "linux-headers-rt-amd64"),
    ("7.2.12+deb14-amd64", "linux-headers-amd64"),
    ("6.1.0", None),  # a kernel of one's own: no flavour, no metapackage
])
def test_kernel_headers_dkms_adds_dkms_and_the_headers_metapackage(run_playbook, kernel, meta):
    fake = dict(FAKE["debian13"], kernel=kernel)
    rc, report = run_playbook("package_selection.yml", {"fake": fake, "kernel_headers_dkms": True})
    assert rc == 0, failures(report)
    assert selection(report)["dkms"] == ["dkms"] + ([meta] if meta else [])
    rc, report = run_playbook("package_selection.yml", {"fake": fake})
    assert selection(report)["dkms"] == []
