# SPDX-License-Identifier: GPL-3.0-or-later
"""Preflight and package selection, run for real on the controller."""

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
    assert "is not supported. Supported: RedHat 9." in result["msg"]


def test_preflight_refuses_a_too_old_target_python(run_playbook):
    rc, report = run_playbook("preflight.yml", {"preflight_min_python": "9.0"})
    (name, result), = failures(report)
    assert name == "Refuse a target Python too old for the collection's modules"
    assert "need Python 9.0 or newer" in result["msg"]


FAKE = {
    "redhat9": {"os_family": "RedHat", "distribution": "RedHat", "distribution_major_version": "9",
                "kernel": "5.14.0-427.el9.x86_64"},
    "debian13": {"os_family": "Debian", "distribution": "Debian", "distribution_major_version": "13",
                 "kernel": "6.12.48+deb13-amd64"},
}


def selection(report):
    for name, result in task_results(report):
        if name == "Show the selection":
            return result["msg"]
    raise AssertionError("no selection shown")


def test_redhat_selects_kernel_devel(run_playbook):
    rc, report = run_playbook("package_selection.yml", {
        "fake": FAKE["redhat9"], "rust_toolchain_method": "rustup"})
    assert rc == 0, failures(report)
    chosen = selection(report)
    assert chosen["headers"] == ["kernel-devel-5.14.0-427.el9.x86_64"]
    assert "elfutils-libelf-devel" in chosen["tools"]
    assert chosen["build_dirs"] == {"5.14.0-427.el9.x86_64": "/usr/src/kernels/5.14.0-427.el9.x86_64"}


def test_redhat_has_no_distro_toolchain(run_playbook):
    rc, report = run_playbook("package_selection.yml", {"fake": FAKE["redhat9"]})
    assert rc != 0
    (name, result), = failures(report)
    assert "has no 'web' distribution toolchain" in result["msg"]
    assert "rust_toolchain_method: rustup" in result["msg"]


def test_debian13_selects_headers_and_both_toolchains(run_playbook):
    rc, report = run_playbook("package_selection.yml", {
        "fake": FAKE["debian13"], "kernel_headers_releases": ["6.12.48+deb13-amd64", "6.12.57+deb13-amd64"]})
    assert rc == 0, failures(report)
    chosen = selection(report)
    assert chosen["headers"] == ["linux-headers-6.12.48+deb13-amd64", "linux-headers-6.12.57+deb13-amd64"]
    assert chosen["rust"]["web"] == ["rustc-web", "cargo-web", "rust-web-src"]
    assert "librust-compiler-builtins-dev" in chosen["rust"]["native"]


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
