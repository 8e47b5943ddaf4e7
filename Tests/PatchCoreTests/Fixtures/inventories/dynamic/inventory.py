#!/usr/bin/env python3
"""A dynamic inventory without _meta: Ansible then asks --host NAME for each host."""
import json
import sys

GROUPS = {
    "cloud": {"hosts": ["vm1", "vm2"], "vars": {"region": "eu-1", "ansible_user": "cloud"}, "children": ["gpu"]},
    "gpu": ["vm3"],
    "ungrouped": {"hosts": ["solo"]},
}
HOSTVARS = {"vm1": {"ansible_host": "198.51.100.1", "size": 2}, "vm3": {"cuda": True}}

if sys.argv[1:] == ["--list"]:
    print(json.dumps(GROUPS))
elif len(sys.argv) == 3 and sys.argv[1] == "--host":
    print(json.dumps(HOSTVARS.get(sys.argv[2], {})))
else:
    sys.exit("usage: inventory.py --list | --host NAME")
