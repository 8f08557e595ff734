#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# The lab image's customisation: mmdebstrap runs it as its customize hook, after the packages
# are installed, with everything that makes the guest boot fast and reachable.
#   customize.sh ROOT USER PUBKEY [UNIT...]
# ROOT is the image's root directory, USER the account Ansible logs in as, PUBKEY the lab's
# SSH public key (one line), UNIT... the systemd units to mask. image.py passes them and
# hashes this file into the image recipe: editing it makes the next `lab.py image` rebuild.
set -eu
root="$1"
user="$2"
pubkey="$3"
shift 3

echo roulette-lab > "$root/etc/hostname"
cat > "$root/etc/hosts" <<'HOSTS'
127.0.0.1 localhost
::1 localhost ip6-localhost ip6-loopback
HOSTS
printf '/dev/vda / ext4 rw,noatime,errors=remount-ro 0 1\n' > "$root/etc/fstab"

# Network: DHCP on the first Ethernet link via QEMU user NAT; its DNS is fixed at 10.0.2.3.
mkdir -p "$root/etc/systemd/network"
cat > "$root/etc/systemd/network/20-lab.network" <<'NETWORK'
[Match]
Type=ether

[Network]
DHCP=ipv4
LinkLocalAddressing=no
IPv6AcceptRA=no
NETWORK
rm -f "$root/etc/resolv.conf"
printf 'nameserver 10.0.2.3\n' > "$root/etc/resolv.conf"
chroot "$root" systemctl enable systemd-networkd.service ssh.service

# Nothing that runs apt or heavy jobs on its own; no getty on a screen nobody sees.
for unit in "$@"; do
    chroot "$root" systemctl mask "$unit"
done

# apt over a slow emulated NAT: retry, skip translations. Recommends stay the roles' choice.
cat > "$root/etc/apt/apt.conf.d/80roulette-lab" <<'APT'
Acquire::Retries "3";
Acquire::Languages "none";
APT

# sshd: no DNS lookups of the client, keys only.
mkdir -p "$root/etc/ssh/sshd_config.d"
cat > "$root/etc/ssh/sshd_config.d/roulette-lab.conf" <<'SSHD'
UseDNS no
PasswordAuthentication no
KbdInteractiveAuthentication no
GSSAPIAuthentication no
SSHD

# The unprivileged user Ansible logs in as, with passwordless sudo.
chroot "$root" useradd --create-home --shell /bin/bash "$user"
install -d -m 0700 -o "$(chroot "$root" id -u "$user")" -g "$(chroot "$root" id -g "$user")" \
    "$root/home/$user/.ssh"
printf '%s\n' "$pubkey" > "$root/home/$user/.ssh/authorized_keys"
chroot "$root" chown "$user:$user" "/home/$user/.ssh/authorized_keys"
chmod 0600 "$root/home/$user/.ssh/authorized_keys"
printf '%s ALL=(ALL) NOPASSWD:ALL\n' "$user" > "$root/etc/sudoers.d/$user"
chmod 0440 "$root/etc/sudoers.d/$user"

# A small initramfs: only what mounting /dev/vda needs, so the guest reaches init sooner.
cat > "$root/etc/initramfs-tools/conf.d/roulette-lab.conf" <<'INITRAMFS'
MODULES=list
INITRAMFS
printf 'virtio_pci\nvirtio_blk\next4\ncrc32c_generic\n' > "$root/etc/initramfs-tools/modules"
chroot "$root" update-initramfs -u -k all

# Where this kernel's headers are in the archive today: when Debian publishes a newer
# kernel ABI they leave the mirror, and the lab then rebuilds the image (image.py, get_image).
mkdir -p "$root/var/lib/roulette-lab"
for rel in $(ls "$root/lib/modules"); do
    chroot "$root" apt-get download --print-uris "linux-headers-$rel" | cut -d"'" -f2
done > "$root/var/lib/roulette-lab/headers-uri"

# A fixed machine id; each instance gets its own from the kernel command line.
echo 5a1e5a1e5a1e5a1e5a1e5a1e5a1e5a1e > "$root/etc/machine-id"
