#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Test-only module: returns the facts it is given, so that the roles' OS
# selection can be exercised for systems no VM here runs (other releases and families).
from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec={"facts": {"type": "dict", "required": True}})
    module.exit_json(changed=False, ansible_facts=module.params["facts"])


if __name__ == "__main__":
    main()
