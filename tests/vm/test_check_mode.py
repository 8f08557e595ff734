# SPDX-License-Identifier: GPL-3.0-or-later
"""--check predicts and writes nothing, on a bare host: a VM fresh from the lab's image of the
host's release (no headers, no Rust, no python3-apt, no package lists, no module anywhere). It
succeeds, says which packages a real run installs and that it builds and installs the module,
and leaves the host's packages and files and the controller's cache as they were."""

import testinfra
from conftest import SITE, lab, play_results

# What a run would write on the host: the build tree, a module of any kernel, the node.
WRITTEN = ["/var/lib/rustkmod-roulette", "/lib/modules/*/extra", "/lib/modules/*/updates/dkms", "/dev/kernel-roulette",
           "/usr/src/roulette-*", "/etc/modules-load.d/roulette.conf", "/etc/systemd/system/rustkmod-roulette*"]


def packages(bare):
    return bare.check_output("dpkg-query -W -f='${Package} ${Version} ${db:Status-Abbrev}\\n'")


def present(bare):
    return bare.run("ls -d %s 2>/dev/null" % " ".join(WRITTEN)).stdout.split()


def test_check_mode_on_a_bare_host(host, ansible_run, tmp_path, per_host_playbooks):
    # The target's own release names the lab image (molecule's inventory has no lab variables).
    suite = host.system_info.codename
    state, name, cache = str(tmp_path / "lab"), "bare-" + suite, tmp_path / "empty-cache"
    inventory = tmp_path / "bare.yml"
    lab("up", "--state-dir", state, "--suite", suite, name)
    try:
        lab("inventory", "--state-dir", state, "--output", str(inventory))
        bare = testinfra.get_host("ansible://%s?ansible_inventory=%s" % (name, inventory), sudo=True)
        release = bare.check_output("uname -r")
        # The starting state this test is about, checked rather than assumed.
        assert not bare.package("python3-apt").is_installed
        assert not bare.exists("rustc") and not bare.file("/lib/modules/%s/build" % release).exists
        assert present(bare) == []
        before = packages(bare)
        lists = bare.check_output("ls /var/lib/apt/lists")

        rc, report = ansible_run(["-i", str(inventory), "playbooks/site.yml", "--check", "--limit", name + ",roulette_build"],
                                 extra_vars=dict(SITE, roulette_chance=0, kmod_build_controller_cache=str(cache)))
        failed = [(h, t, r.get("msg")) for h in report["stats"] for t, r in play_results(report, h) if r.get("failed")]
        assert rc == 0, failed
        results = list(play_results(report, name))
        said = {t: r["msg"] for t, r in results if not r.get("skipped") and r.get("msg")}
        changed = {t for t, r in results if r.get("changed")}
        installs = said.get("Say which of them a real run installs (check mode)", "")
        assert "linux-headers-%s" % release in installs and "rustc" in installs, said
        # What a real run would change is reported as changed: the install (deb_packages in check
        # mode), the build and the module's install.
        assert [t for t in changed if t.startswith("Install the headers and the build tools for")], sorted(changed)
        assert "Say that a real run builds roulette.ko" in changed, sorted(changed)
        assert "Say that a real run installs the module this run builds" in changed, sorted(changed)

        assert packages(bare) == before
        assert bare.check_output("ls /var/lib/apt/lists") == lists
        assert present(bare) == []
        assert not bare.file("/sys/module/roulette").exists
        assert not cache.exists() or not any(cache.rglob("*")), sorted(cache.rglob("*"))
    finally:
        lab("down", "--state-dir", state, name)
