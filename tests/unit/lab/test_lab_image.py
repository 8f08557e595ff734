# SPDX-License-Identifier: GPL-3.0-or-later
"""roulette_lab.image: the image recipe, the customize hook, freshness and pruning."""

from __future__ import annotations

import os
import subprocess
import urllib.error

import pytest
from roulette_lab import common, image

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample lab"


def test_recipe_hash_ignores_a_trailing_newline_of_the_key():
    one = common.recipe_hash(image.image_recipe("bookworm", KEY, "8G"))
    assert one == common.recipe_hash(image.image_recipe("bookworm", KEY + "\n", "8G"))


@pytest.mark.parametrize(
    "change",
    [
        {"suite": "trixie"},
        {"size": "12G"},
        {"pubkey": KEY + "-other"},
        {"version": common.RECIPE_VERSION + 1},
        {"masked": ["one.service"]},
    ],
)
def test_recipe_hash_changes_with_the_recipe(change):
    recipe = image.image_recipe("bookworm", KEY, "8G")
    assert common.recipe_hash(dict(recipe, **change)) != common.recipe_hash(recipe)


def test_recipe_hash_changes_with_the_package_list():
    recipe = image.image_recipe("bookworm", KEY, "8G")
    more = dict(recipe, packages=[*recipe["packages"], "linux-headers-amd64"])
    assert common.recipe_hash(more) != common.recipe_hash(recipe)


def test_recipe_covers_the_customize_script_file(tmp_path, monkeypatch):
    script = tmp_path / "customize.sh"
    script.write_text(image.CUSTOMIZE_SCRIPT.read_text())
    monkeypatch.setattr(image, "CUSTOMIZE_SCRIPT", script)
    before = common.recipe_hash(image.image_recipe("bookworm", KEY, "8G"))
    script.write_text(script.read_text() + "\n# more\n")
    assert common.recipe_hash(image.image_recipe("bookworm", KEY, "8G")) != before


def test_recipe_has_no_headers_or_rust():
    packages = image.image_recipe("trixie", KEY, "8G")["packages"]
    assert "linux-image-amd64" in packages
    assert not [p for p in packages if "headers" in p or "rust" in p or "cargo" in p]


def test_customize_script_is_a_shell_script_file_without_placeholders():
    text = image.CUSTOMIZE_SCRIPT.read_text()
    assert text.startswith("#!/bin/sh\n")
    assert "__" not in text  # parameters come as arguments, nothing is substituted in
    subprocess.run(["sh", "-n", str(image.CUSTOMIZE_SCRIPT)], check=True)


def test_customize_hook_passes_root_user_key_and_units_as_arguments(tmp_path):
    # A script in place of customize.sh that prints the arguments it got, one per line.
    echo = tmp_path / "args.sh"
    echo.write_text('for a in "$@"; do printf "%s\\n" "$a"; done\n')
    odd_key = "ssh-ed25519 AAAA it's \"quoted\" $HOME `x`"
    recipe = dict(image.image_recipe("bookworm", odd_key, "8G"), masked=["a.timer", "getty@tty1.service"])
    hook = image.customize_hook(echo, recipe)
    # mmdebstrap runs a hook with sh -c, the root directory being $1.
    out = subprocess.run(["sh", "-c", hook, "sh", "/tmp/root dir"], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["/tmp/root dir", "roulette", odd_key, "a.timer", "getty@tty1.service"]


# -- freshness -------------------------------------------------------------------------


def stale_image(tmp_path, age_hours):
    (tmp_path / "complete").write_text("")
    (tmp_path / "headers-uri").write_text("http://mirror.invalid/pool/linux-headers.deb\n")
    old = 1_000_000.0
    os.utime(tmp_path / "complete", (old, old))
    return image.Image("bookworm", tmp_path), old + age_hours * 3600


def test_fresh_image_is_not_checked(tmp_path, monkeypatch):
    monkeypatch.delenv("ROULETTE_LAB_FRESH_HOURS", raising=False)
    img, now = stale_image(tmp_path, 1)
    monkeypatch.setattr(image, "headers_gone", lambda uri: pytest.fail("checked too early"))
    assert image.image_is_stale(img, now) is False


def test_old_image_is_stale_when_the_headers_left_the_mirror(tmp_path, monkeypatch):
    monkeypatch.delenv("ROULETTE_LAB_FRESH_HOURS", raising=False)
    img, now = stale_image(tmp_path, 7)
    monkeypatch.setattr(image, "headers_gone", lambda uri: True)
    assert image.image_is_stale(img, now) is True
    assert (tmp_path / "checked").exists()


def test_old_image_with_headers_still_served_is_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("ROULETTE_LAB_FRESH_HOURS", raising=False)
    img, now = stale_image(tmp_path, 7)
    monkeypatch.setattr(image, "headers_gone", lambda uri: False)
    assert image.image_is_stale(img, now) is False


def test_freshness_check_can_be_switched_off(tmp_path, monkeypatch):
    monkeypatch.setenv("ROULETTE_LAB_FRESH_HOURS", "0")
    img, now = stale_image(tmp_path, 1000)
    monkeypatch.setattr(image, "headers_gone", lambda uri: True)
    assert image.image_is_stale(img, now) is False


def test_headers_gone_only_on_not_found(monkeypatch):
    def answer(exc):
        def urlopen(req, timeout):
            raise exc

        return urlopen

    monkeypatch.setattr(image.urllib.request, "urlopen", answer(urllib.error.HTTPError("u", 404, "nf", {}, None)))
    assert image.headers_gone("http://x/") is True
    monkeypatch.setattr(image.urllib.request, "urlopen", answer(urllib.error.URLError("offline")))
    assert image.headers_gone("http://x/") is False


# -- pruning ---------------------------------------------------------------------------


def test_prune_keeps_the_new_build_and_images_running_vms_boot_from(cache, monkeypatch):
    images = cache / "images"
    for name in ("bookworm-new", "bookworm-old", "bookworm-running", "trixie-old"):
        (images / name).mkdir(parents=True)
    monkeypatch.setattr(image, "paths_in_use", lambda: f"qemu-system-x86_64 -kernel {images}/bookworm-running/vmlinuz")
    image.prune_images("bookworm", keep=images / "bookworm-new")
    assert sorted(p.name for p in images.iterdir()) == ["bookworm-new", "bookworm-running", "trixie-old"]


@pytest.mark.parametrize(
    ("package", "why"),
    [
        ("passwd", "useradd, run by customize.sh"),
        ("initramfs-tools", "update-initramfs and MODULES=list, used by customize.sh (forky's kernel would bring dracut)"),
        ("mount", "mount(8), run by systemd's mount units at boot (not Essential in forky)"),
    ],
)
def test_image_lists_what_forky_no_longer_brings_by_itself(package, why):
    assert package in image.IMAGE_PACKAGES, why


def test_forky_recipe_carries_forkys_sources():
    recipe = image.image_recipe("forky", KEY, "8G")
    assert recipe["suite"] == "forky"
    assert all("[check-valid-until=no]" in line for line in recipe["sources"])
