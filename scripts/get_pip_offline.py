# SPDX-License-Identifier: GPL-3.0-or-later
"""Stand-in for the pip bootstrap script that ansible-test downloads.

ansible-test makes a virtualenv per sanity test and bootstraps pip in it with a
script it fetches from a host this machine cannot reach. scripts/ansible_test.sh
puts this file in ansible-test's cache under the name it looks for. Like the real
script, it is run with pip's install arguments (``pip==X`` and friends): it
installs the pip that Python bundles (ensurepip), then lets that pip install the
requested packages from the package index.
"""

import subprocess
import sys


def main():
    args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
    if args:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q"] + args)


if __name__ == "__main__":
    main()
