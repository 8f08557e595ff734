# SPDX-License-Identifier: GPL-3.0-or-later
"""The build plan: which host builds the module for which kernel release, what the
controller's cache already holds, and where each target's module comes from. Computed
once per run from the preflight verdicts; each host is read once (linear in the fleet)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.rustkmod.roulette.plugins.filter import build_plan as plugin
from ansible_collections.rustkmod.roulette.plugins.filter.build_plan import build_plan, module_sources
from ansible_collections.rustkmod.roulette.tests.unit.plugins.lookup.lookup_helpers import SOURCE, write_entry

BOOKWORM = "6.1.0-27-amd64"
BOOKWORM2 = "6.1.0-28-amd64"
TRIXIE = "6.12.48+deb13-amd64"
RELEASE_ID = {BOOKWORM: "Debian-12", BOOKWORM2: "Debian-12", TRIXIE: "Debian-13"}


def verdict(release, armed=True, release_id=None):
    return {"armed": armed, "kernel_release": release, "release_id": release_id or RELEASE_ID[release],
            "distribution": "Debian", "os_family": "Debian", "taint": None}


def builder_verdict(release_id):
    return {"armed": False, "kernel_release": "6.1.0-27-amd64", "release_id": release_id,
            "distribution": "Debian", "os_family": "Debian", "taint": None}


class Fleet:
    """hostvars, the inventory's groups and the hosts still in the play, as site.yml passes them."""

    def __init__(self):
        self.hostvars, self.targets, self.build_hosts, self.play_hosts = {}, [], [], []

    def target(self, name, release=None, alive=True, **kwargs):
        self.hostvars[name] = {"preflight_verdict": verdict(release, **kwargs)} if release else {}
        self.targets.append(name)
        if alive:
            self.play_hosts.append(name)
        return self

    def builder(self, name, release_id=None, alive=True):
        self.hostvars[name] = {"preflight_verdict": builder_verdict(release_id)} if release_id else {}
        self.build_hosts.append(name)
        if alive:
            self.play_hosts.append(name)
        return self

    def plan(self, cache=None):
        return build_plan(self.hostvars, self.targets, self.build_hosts, self.play_hosts, cache=cache)

    def built(self, host, *releases):
        """host built these releases in this run (kmod_build_modules, as kmod_build records it)."""
        self.hostvars[host]["kmod_build_modules"] = {r: "/cache/%s-%s/roulette.ko" % (host, r) for r in releases}

    def fail(self, host):
        self.play_hosts.remove(host)

    def source(self, plan, host):
        """Where host's module comes from: its kernel release's source, now."""
        release = plan["targets"][host]["release"]
        return dict(module_sources(plan, self.hostvars, self.play_hosts)[release], release=release)


@pytest.fixture
def no_cache_reads(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the cache was read")
    monkeypatch.setattr(plugin, "find_module", refuse)


def test_without_build_hosts_the_first_target_of_each_release_builds(no_cache_reads):
    fleet = (Fleet().target("t1", BOOKWORM).target("t2", TRIXIE).target("t3", BOOKWORM).target("t4", TRIXIE)
             .target("t5", BOOKWORM2))
    plan = fleet.plan()
    assert plan["build_hosts"] == {}
    assert plan["releases"][BOOKWORM] == {
        "release_ids": ["Debian-12"], "source": "target", "builder": "t1", "cached": "", "build_hosts": [],
        "failed_build_hosts": [], "targets": ["t1", "t3"], "problem": ""}
    assert [plan["releases"][r]["builder"] for r in (BOOKWORM, TRIXIE, BOOKWORM2)] == ["t1", "t2", "t5"]
    assert plan["targets"] == {
        "t1": {"release": BOOKWORM, "builder": "t1", "cached": ""},
        "t2": {"release": TRIXIE, "builder": "t2", "cached": ""},
        "t3": {"release": BOOKWORM, "builder": "t1", "cached": ""},
        "t4": {"release": TRIXIE, "builder": "t2", "cached": ""},
        "t5": {"release": BOOKWORM2, "builder": "t5", "cached": ""},
    }


def test_build_hosts_build_every_release_of_their_os_release(no_cache_reads):
    fleet = (Fleet().target("t1", BOOKWORM).target("t2", TRIXIE).target("t3", BOOKWORM2).target("t4", BOOKWORM)
             .builder("b12", "Debian-12").builder("b13", "Debian-13"))
    plan = fleet.plan()
    assert plan["build_hosts"] == {
        "b12": {"release_id": "Debian-12", "wanted": [BOOKWORM, BOOKWORM2], "releases": [BOOKWORM, BOOKWORM2]},
        "b13": {"release_id": "Debian-13", "wanted": [TRIXIE], "releases": [TRIXIE]},
    }
    assert plan["releases"][BOOKWORM]["source"] == "build_host"
    assert plan["releases"][BOOKWORM]["build_hosts"] == ["b12"]
    assert {t: e["builder"] for t, e in plan["targets"].items()} == {"t1": "b12", "t2": "b13", "t3": "b12", "t4": "b12"}


def test_a_build_host_without_targets_of_its_os_release_builds_nothing():
    plan = Fleet().target("t1", BOOKWORM).builder("b13", "Debian-13").plan()
    assert plan["build_hosts"]["b13"] == {"release_id": "Debian-13", "wanted": [], "releases": []}
    assert plan["releases"][BOOKWORM]["builder"] == "t1"


def test_every_build_host_of_an_os_release_builds_all_of_its_releases():
    """As site.yml always did: two build hosts of one OS release both build (either one's module serves)."""
    plan = Fleet().target("t1", BOOKWORM).builder("b1", "Debian-12").builder("b2", "Debian-12").plan()
    assert plan["build_hosts"]["b1"]["releases"] == plan["build_hosts"]["b2"]["releases"] == [BOOKWORM]
    assert plan["releases"][BOOKWORM]["build_hosts"] == ["b1", "b2"]
    assert plan["releases"][BOOKWORM]["builder"] == "b1"


def test_failed_build_hosts_leave_their_releases_without_a_builder():
    fleet = (Fleet().target("t1", BOOKWORM).target("t2", TRIXIE).target("t3", BOOKWORM)
             .builder("b12", "Debian-12", alive=False).builder("b12b", "Debian-12", alive=False)
             .builder("b13", "Debian-13"))
    plan = fleet.plan()
    entry = plan["releases"][BOOKWORM]
    assert entry["source"] == "none" and entry["builder"] == "" and entry["build_hosts"] == []
    assert entry["failed_build_hosts"] == ["b12", "b12b"]
    assert entry["problem"] == (
        "No module for kernel 6.1.0-27-amd64: the build host(s) b12, b12b of Debian-12 failed (their error is "
        "above). Fix that, or leave this release out of roulette_build to build on the first target.")
    assert plan["targets"]["t3"]["builder"] == ""
    assert "b12" not in plan["build_hosts"] and plan["build_hosts"]["b13"]["releases"] == [TRIXIE]
    for host in ("t1", "t3"):
        assert fleet.source(plan, host) == {"release": BOOKWORM, "cached": "", "builder": "", "problem": entry["problem"]}


def test_one_failed_build_host_of_two_leaves_the_other_to_build():
    plan = Fleet().target("t1", BOOKWORM).builder("b1", "Debian-12", alive=False).builder("b2", "Debian-12").plan()
    entry = plan["releases"][BOOKWORM]
    assert entry["build_hosts"] == ["b2"] and entry["failed_build_hosts"] == ["b1"] and entry["problem"] == ""


def test_a_build_host_without_a_verdict_is_not_counted():
    """Left out by --limit, or failed before its verdict: its OS release is unknown, the targets build."""
    plan = Fleet().target("t1", BOOKWORM).builder("b12", None, alive=False).plan()
    assert plan["build_hosts"] == {}
    assert plan["releases"][BOOKWORM]["source"] == "target" and plan["releases"][BOOKWORM]["builder"] == "t1"


def test_cache_hits_are_not_built_and_each_release_is_looked_up_once(monkeypatch):
    asked = []

    def find(cache, release, source, extra_patches=(), real_panic=False, warn=None):
        asked.append((cache, release, source, tuple(extra_patches), real_panic))
        return "/cache/key/roulette.ko" if release == BOOKWORM else ""
    monkeypatch.setattr(plugin, "find_module", find)
    fleet = Fleet().builder("b12", "Debian-12")
    for number in range(300):
        fleet.target("t%03d" % number, (BOOKWORM, BOOKWORM2, TRIXIE)[number % 3])
    plan = fleet.plan(cache={"dir": "/cache", "source": SOURCE, "extra_patches": ["p" * 64], "real_panic": True})
    assert sorted(asked) == sorted((("/cache", r, SOURCE, ("p" * 64,), True) for r in (BOOKWORM, BOOKWORM2, TRIXIE)))
    assert plan["build_hosts"]["b12"] == {"release_id": "Debian-12", "wanted": [BOOKWORM, BOOKWORM2],
                                          "releases": [BOOKWORM2]}
    cached = plan["releases"][BOOKWORM]
    assert cached["source"] == "cache" and cached["cached"] == "/cache/key/roulette.ko"
    assert cached["builder"] == "" and cached["build_hosts"] == []
    assert plan["targets"]["t000"] == {"release": BOOKWORM, "builder": "", "cached": "/cache/key/roulette.ko"}
    assert plan["releases"][TRIXIE]["builder"] == "t002"
    assert fleet.source(plan, "t003") == {
        "release": BOOKWORM, "cached": "/cache/key/roulette.ko", "builder": "", "problem": ""}


def test_a_cached_release_needs_no_build_host_even_a_failed_one(monkeypatch):
    monkeypatch.setattr(plugin, "find_module", lambda *args, **kwargs: "/c/roulette.ko")
    fleet = Fleet().target("t1", BOOKWORM).builder("b12", "Debian-12", alive=False)
    plan = fleet.plan(cache={"source": SOURCE})
    assert plan["releases"][BOOKWORM]["source"] == "cache" and plan["releases"][BOOKWORM]["problem"] == ""
    assert fleet.source(plan, "t1")["cached"] == "/c/roulette.ko"


def test_the_real_cache_is_read(tmp_path):
    entry = write_entry(tmp_path, "k1", release=BOOKWORM)
    write_entry(tmp_path, "k2", release=TRIXIE, real_panic=True)
    plan = Fleet().target("t1", BOOKWORM).target("t2", TRIXIE).plan(
        cache={"dir": str(tmp_path), "source": SOURCE, "extra_patches": [], "real_panic": False})
    assert plan["releases"][BOOKWORM]["cached"] == str(entry / "roulette.ko")
    assert plan["releases"][TRIXIE]["cached"] == "" and plan["releases"][TRIXIE]["builder"] == "t2"


def test_an_empty_cache_dir_is_the_default_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("ROULETTE_CACHE_DIR", str(tmp_path))
    entry = write_entry(tmp_path / "modules", "k1", release=BOOKWORM)
    plan = Fleet().target("t1", BOOKWORM).plan(cache={"dir": "", "source": SOURCE})
    assert plan["releases"][BOOKWORM]["cached"] == str(entry / "roulette.ko")


def test_a_corrupt_cache_entry_is_warned_about_and_built_again(monkeypatch, tmp_path):
    from ansible.utils.display import Display
    seen = []
    monkeypatch.setattr(Display, "warning", lambda self, msg, *args, **kwargs: seen.append(msg))
    write_entry(tmp_path, "bad", release=BOOKWORM, ko=b"not an ELF file")
    plan = Fleet().target("t1", BOOKWORM).plan(cache={"dir": str(tmp_path), "source": SOURCE})
    assert plan["releases"][BOOKWORM]["cached"] == "" and plan["releases"][BOOKWORM]["builder"] == "t1"
    assert len(seen) == 1 and "bad" in seen[0] and "corrupt" in seen[0]


@pytest.mark.parametrize("cache", [None, False, {}])
def test_rebuild_or_a_git_source_reads_no_cache(no_cache_reads, cache):
    """site.yml passes no cache query when kmod_build_rebuild is set or the source is git."""
    fleet = Fleet().target("t1", BOOKWORM).builder("b12", "Debian-12")
    plan = fleet.plan(cache=cache)
    assert plan["build_hosts"]["b12"]["releases"] == [BOOKWORM]
    assert plan["releases"][BOOKWORM]["cached"] == ""


def test_unarmed_targets_are_built_for_and_may_build():
    """An unarmed target is not loaded, but its release is built, and it builds when it comes first."""
    fleet = (Fleet().target("u1", BOOKWORM, armed=False).target("t2", BOOKWORM).target("u3", TRIXIE, armed=False)
             .builder("b13", "Debian-13"))
    plan = fleet.plan()
    assert plan["releases"][BOOKWORM]["builder"] == "u1"
    assert plan["build_hosts"]["b13"]["releases"] == [TRIXIE]
    assert plan["targets"]["u3"] == {"release": TRIXIE, "builder": "b13", "cached": ""}


def test_targets_without_a_verdict_or_no_longer_in_the_play_are_left_out():
    fleet = (Fleet().target("gone", None, alive=False).target("failed", TRIXIE, alive=False)
             .target("t1", BOOKWORM).builder("b13", "Debian-13"))
    fleet.hostvars["limited-out"] = {}
    fleet.targets.append("limited-out")
    plan = fleet.plan()
    assert sorted(plan["targets"]) == ["t1"] and sorted(plan["releases"]) == [BOOKWORM]
    assert plan["build_hosts"]["b13"]["wanted"] == []


def test_a_target_of_the_build_group_too_is_both():
    fleet = Fleet().target("t1", BOOKWORM).target("both", BOOKWORM2)
    fleet.build_hosts.append("both")
    fleet.hostvars["both"]["preflight_verdict"]["armed"] = True
    plan = fleet.plan()
    assert plan["build_hosts"]["both"]["releases"] == [BOOKWORM, BOOKWORM2]
    assert plan["targets"]["t1"]["builder"] == "both"


def test_hosts_listed_twice_count_once():
    fleet = Fleet().target("t1", BOOKWORM).target("t2", BOOKWORM).builder("b12", "Debian-12")
    plan = build_plan(fleet.hostvars, fleet.targets * 2, fleet.build_hosts * 2, fleet.play_hosts)
    assert plan["releases"][BOOKWORM]["targets"] == ["t1", "t2"]
    assert plan["releases"][BOOKWORM]["build_hosts"] == ["b12"]


def test_a_host_unknown_to_the_inventory_is_left_out():
    fleet = Fleet().target("t1", BOOKWORM)
    plan = build_plan(fleet.hostvars, ["t1", "nowhere"], ["nowhere-b"], fleet.play_hosts + ["nowhere"])
    assert sorted(plan["targets"]) == ["t1"]


@pytest.mark.parametrize("bad, words", [
    ("armed", "is not a dict"),
    ({"kernel_release": "", "release_id": "Debian-12"}, "kernel_release"),
    ({"kernel_release": BOOKWORM}, "release_id"),
    ({"kernel_release": ["6.1"], "release_id": "Debian-12"}, "kernel_release"),
])
def test_a_verdict_that_cannot_be_read_stops_the_plan(bad, words):
    fleet = Fleet().target("t1", BOOKWORM)
    fleet.hostvars["t1"]["preflight_verdict"] = bad
    with pytest.raises(AnsibleFilterError) as caught:
        fleet.plan()
    assert "t1" in str(caught.value) and words in str(caught.value)


@pytest.mark.parametrize("cache, words", [
    ({"source": ""}, "source"),
    ({"dir": "/c"}, "source"),
    ({"source": SOURCE, "extra_patches": "abc"}, "extra_patches"),
    ({"source": SOURCE, "colour": "red"}, "colour"),
    ({"source": SOURCE, "real_panic": "false"}, "real_panic"),
    ("yes", "cache"),
])
def test_a_bad_cache_query_is_refused(cache, words):
    with pytest.raises(AnsibleFilterError) as caught:
        Fleet().target("t1", BOOKWORM).plan(cache=cache)
    assert words in str(caught.value)


class CountingHostvars(Mapping):
    """hostvars that count how often each host's variables are read."""

    def __init__(self, data):
        self.data, self.reads = data, {}

    def __getitem__(self, host):
        self.reads[host] = self.reads.get(host, 0) + 1
        return self.data[host]

    def __iter__(self):
        raise AssertionError("the plan must not walk every inventory host")

    def __len__(self):
        return len(self.data)

    def __contains__(self, host):
        return host in self.data


def test_each_host_is_read_once_however_large_the_fleet():
    """Linear: today's Jinja read every host once per target (quadratic)."""
    fleet = Fleet()
    for number in range(3000):
        fleet.target("t%04d" % number, (BOOKWORM, BOOKWORM2, TRIXIE)[number % 3])
    for number in range(6):
        fleet.builder("b%d" % number, ("Debian-12", "Debian-13", None)[number % 3])
    hostvars = CountingHostvars(fleet.hostvars)
    plan = build_plan(hostvars, fleet.targets, fleet.build_hosts, fleet.play_hosts)
    assert set(hostvars.reads.values()) == {1} and len(hostvars.reads) == 3006
    assert len(plan["targets"]) == 3000


# Where a target's module comes from when its batch starts: the plan, and what the build
# hosts or the builder targets built in this run (kmod_build_modules).

def test_the_module_a_build_host_built():
    fleet = Fleet().target("t1", BOOKWORM).target("t2", BOOKWORM).builder("b1", "Debian-12").builder("b2", "Debian-12")
    plan = fleet.plan()
    fleet.built("b1", BOOKWORM)
    fleet.built("b2", BOOKWORM)
    assert fleet.source(plan, "t2") == {"release": BOOKWORM, "cached": "", "builder": "b1", "problem": ""}


def test_the_second_build_host_serves_when_the_first_failed_its_build():
    fleet = Fleet().target("t1", BOOKWORM).builder("b1", "Debian-12").builder("b2", "Debian-12")
    plan = fleet.plan()
    fleet.fail("b1")
    fleet.built("b2", BOOKWORM)
    assert fleet.source(plan, "t1")["builder"] == "b2"


def test_build_hosts_that_all_failed_their_build_leave_every_target_without_a_module():
    fleet = (Fleet().target("t1", BOOKWORM).target("t2", BOOKWORM).target("t3", TRIXIE)
             .builder("b1", "Debian-12").builder("b2", "Debian-12", alive=False).builder("b13", "Debian-13"))
    plan = fleet.plan()
    fleet.fail("b1")
    fleet.built("b13", TRIXIE)
    fleet.hostvars["b1"]["kmod_build_modules"] = {BOOKWORM2: "/elsewhere/roulette.ko"}
    for host in ("t1", "t2"):
        source = fleet.source(plan, host)
        assert source["builder"] == "" and source["cached"] == ""
        assert source["problem"] == (
            "No module for kernel 6.1.0-27-amd64: the build host(s) b1, b2 of Debian-12 failed (their error is "
            "above). Fix that, or leave this release out of roulette_build to build on the first target.")
    assert fleet.source(plan, "t3") == {"release": TRIXIE, "cached": "", "builder": "b13", "problem": ""}


def test_the_first_target_builds_and_the_others_receive_its_module():
    fleet = Fleet().target("t1", BOOKWORM).target("t2", BOOKWORM).target("t3", TRIXIE)
    plan = fleet.plan()
    assert fleet.source(plan, "t1") == {"release": BOOKWORM, "cached": "", "builder": "t1", "problem": ""}
    assert fleet.source(plan, "t2")["builder"] == "t1"
    fleet.built("t1", BOOKWORM)
    assert fleet.source(plan, "t2")["builder"] == "t1"


def test_a_builder_target_that_failed_after_building_still_serves_its_module():
    """A later serial batch: the first target built, then failed to load; its module is good."""
    fleet = Fleet().target("t1", BOOKWORM).target("t2", BOOKWORM).target("t3", BOOKWORM)
    plan = fleet.plan()
    fleet.built("t1", BOOKWORM)
    fleet.fail("t1")
    assert fleet.source(plan, "t3")["builder"] == "t1"


def test_a_builder_target_that_failed_before_building_passes_on_to_the_next_target_in_the_play():
    """A later serial batch: the first live target of the release builds, as site.yml always chose."""
    fleet = Fleet().target("t1", BOOKWORM).target("t2", BOOKWORM).target("t3", BOOKWORM).target("t4", BOOKWORM)
    plan = fleet.plan()
    fleet.fail("t1")
    fleet.fail("t2")
    assert fleet.source(plan, "t4")["builder"] == "t3"
    assert fleet.source(plan, "t3")["builder"] == "t3"
    fleet.built("t3", BOOKWORM)
    fleet.fail("t3")
    assert fleet.source(plan, "t4")["builder"] == "t3"


def test_the_sources_of_every_release_at_once():
    fleet = Fleet().target("t1", BOOKWORM).target("t2", BOOKWORM).target("t3", TRIXIE).builder("b13", "Debian-13")
    plan = fleet.plan()
    fleet.built("b13", TRIXIE)
    assert module_sources(plan, fleet.hostvars, fleet.play_hosts) == {
        BOOKWORM: {"cached": "", "builder": "t1", "problem": ""},
        TRIXIE: {"cached": "", "builder": "b13", "problem": ""},
    }
    assert module_sources(Fleet().plan(), {}, []) == {}


def test_a_release_whose_targets_all_failed_has_no_builder():
    fleet = Fleet().target("t1", BOOKWORM).target("t2", BOOKWORM)
    plan = fleet.plan()
    fleet.fail("t1")
    fleet.fail("t2")
    assert module_sources(plan, fleet.hostvars, fleet.play_hosts)[BOOKWORM] == {
        "cached": "", "builder": "",
        "problem": "No module for kernel 6.1.0-27-amd64: every target running it failed (their error is above)."}


@pytest.mark.parametrize("plan", [None, "plan", {}, {"releases": ["6.1"]}])
def test_module_sources_needs_a_plan(plan):
    with pytest.raises(AnsibleFilterError, match="the plan build_plan returned"):
        module_sources(plan, {}, [])


def test_the_module_sources_read_few_hosts():
    """Once per batch, whatever the fleet's size: a few reads per kernel release."""
    fleet = Fleet()
    for number in range(900):
        fleet.target("t%03d" % number, (BOOKWORM, BOOKWORM2, TRIXIE)[number % 3])
    plan = fleet.plan()
    fleet.fail("t000")  # the planned builder of 6.1.0-27 failed before building
    hostvars = CountingHostvars(fleet.hostvars)
    sources = module_sources(plan, hostvars, fleet.play_hosts)
    assert {release: source["builder"] for release, source in sources.items()} == {
        BOOKWORM: "t003", BOOKWORM2: "t001", TRIXIE: "t002"}
    # Only the failed builder is read, once.
    assert hostvars.reads == {"t000": 1}


# --- kmod_build_method: dkms ---------------------------------------------------------


def dkms(fleet, *hosts):
    for host in hosts:
        fleet.hostvars[host]["preflight_verdict"]["build_method"] = "dkms"
    return fleet


def test_a_dkms_target_builds_for_itself_and_for_no_one_else(no_cache_reads):
    fleet = dkms(Fleet().target("d1", BOOKWORM).target("t1", BOOKWORM).target("d2", TRIXIE), "d1", "d2")
    plan = fleet.plan()
    assert plan["dkms"] == {"d1": BOOKWORM, "d2": TRIXIE}
    # t1 is the first (ansible) target of its release: it builds, not d1 that comes before it.
    assert plan["releases"] == {BOOKWORM: {
        "release_ids": ["Debian-12"], "source": "target", "builder": "t1", "cached": "", "build_hosts": [],
        "failed_build_hosts": [], "targets": ["t1"], "problem": ""}}
    assert set(plan["targets"]) == {"t1"}
    assert set(module_sources(plan, fleet.hostvars, fleet.play_hosts)) == {BOOKWORM}


def test_build_hosts_do_not_build_for_dkms_targets(no_cache_reads):
    fleet = dkms(Fleet().target("d1", BOOKWORM).target("d2", BOOKWORM2).target("t1", BOOKWORM)
                 .builder("b12", "Debian-12"), "d1", "d2")
    plan = fleet.plan()
    assert plan["build_hosts"]["b12"] == {"release_id": "Debian-12", "wanted": [BOOKWORM], "releases": [BOOKWORM]}
    assert plan["dkms"] == {"d1": BOOKWORM, "d2": BOOKWORM2}


def test_a_fleet_of_dkms_targets_reads_no_cache_and_plans_no_build(tmp_path):
    write_entry(tmp_path, "k1", release=BOOKWORM)  # even a cached module is not what a dkms target loads
    fleet = dkms(Fleet().target("d1", BOOKWORM).builder("b12", "Debian-12"), "d1")
    plan = fleet.plan(cache={"dir": str(tmp_path), "source": SOURCE})
    assert plan["releases"] == {} and plan["targets"] == {} and plan["dkms"] == {"d1": BOOKWORM}
    assert plan["build_hosts"]["b12"] == {"release_id": "Debian-12", "wanted": [], "releases": []}


def test_a_verdict_without_build_method_is_ansible_and_a_bad_one_is_an_error():
    fleet = Fleet().target("t1", BOOKWORM)
    assert "build_method" not in fleet.hostvars["t1"]["preflight_verdict"]
    assert fleet.plan()["dkms"] == {} and fleet.plan()["releases"][BOOKWORM]["builder"] == "t1"
    fleet.hostvars["t1"]["preflight_verdict"]["build_method"] = "kbuild"
    with pytest.raises(AnsibleFilterError, match="t1 has build_method 'kbuild'"):
        fleet.plan()
