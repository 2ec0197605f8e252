#!/usr/bin/env python3
"""The file system's floor for a fleet's layout: a bare loop of mkdir and
write, with the unit's bytes already in hand (read from a file calicoctl
wrote), nothing rendered, validated or synced. What `bench/fleet.sh` puts
beside calicoctl's on-disk time: the part of it no renderer can save."""
import os
import sys

hosts, unit_file, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(unit_file, "rb") as f:
    data = f.read()
os.mkdir(out)
for i in range(hosts):
    d = os.path.join(out, "node-%05d" % i)
    os.mkdir(d)
    fd = os.open(os.path.join(d, "calico-node.service"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, data)
    os.close(fd)
