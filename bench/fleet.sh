#!/usr/bin/env bash
# Fleet and start-up benchmark: prints figures beside their goals, asserts
# nothing.
#
#   bash bench/fleet.sh            # build release, run everything (several minutes)
#
# Needs hyperfine, /usr/bin/time, python3 with jinja2 and yaml (Debian:
# hyperfine time python3-jinja2 python3-yaml), and a tmpfs at /dev/shm (set
# TMPFS to another). Work files on disk go under $BENCH_DIR (default
# target/bench, on the project's own disk).
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_DIR=${BENCH_DIR:-target/bench}
TMPFS=${TMPFS:-/dev/shm}/calicoctl-bench
RUNS=${RUNS:-5}
. bench/release-bin.sh
PEER="/usr/bin/python3 $PWD/bench/peer_jinja2.py"
FLOOR="/usr/bin/python3 $PWD/bench/floor.py"
mkdir -p "$BENCH_DIR" "$TMPFS"
trap 'rm -rf "$TMPFS"' EXIT
cd "$BENCH_DIR"
export CALICOCTL_DEFAULT_CONFIG=/nonexistent CALICOCTL_HOSTNAME=node1

inventory() { # hosts file
  awk -v n="$1" 'BEGIN {
    print "defaults:\n  node-image: quay.io/calico/node:v3.2.8\nhosts:";
    for (i = 0; i < n; i++)
      printf "  node-%05d: {ip: 10.%d.%d.%d, as: %d}\n", i, int(i/65536), int(i/256)%256, i%256, 64512 + i%100
  }' > "$2"
}
inventory 10000 inv10k.yaml
inventory 100000 inv100k.yaml

# The peer must write what we write: compare the stdout forms once.
"$BIN" node fleet --inventory inv10k.yaml -o systemd > ours.txt
$PEER inv10k.yaml > peer.txt
cmp -s ours.txt peer.txt && echo "peer output: byte-identical to calicoctl's (10,000 units)" \
  || { echo "peer output differs from calicoctl's: the comparison would be unfair"; exit 1; }
"$BIN" node run -o systemd --name node-00000 --ip 10.0.0.0 --as 64512 --node-image quay.io/calico/node:v3.2.8 > unit.service

# Rendering, in memory: both to stdout.
hyperfine -N --runs "$RUNS" --warmup 1 --output=pipe --export-json stdout.json \
  -n ours "$BIN node fleet --inventory inv10k.yaml -o systemd" \
  -n peer "$PEER inv10k.yaml"
# Writing the layout on tmpfs (CPU-bound), each run into an empty directory.
hyperfine -N --runs "$RUNS" --warmup 1 --prepare "rm -rf $TMPFS/out" --export-json tmpfs.json \
  -n ours "$BIN node fleet --inventory inv10k.yaml -o systemd --out-dir $TMPFS/out" \
  -n peer "$PEER inv10k.yaml $TMPFS/out"
# On this disk, beside the file system's own floor; sync (untimed) first,
# so that no earlier run's writes are flushed inside a timed one.
hyperfine -N --runs "$RUNS" --warmup 1 --prepare 'rm -rf out && sync' --export-json disk.json \
  -n ours "$BIN node fleet --inventory inv10k.yaml -o systemd --out-dir out" \
  -n floor "$FLOOR 10000 unit.service out"
hyperfine -N --warmup 20 --runs 500 --export-json dryrun.json \
  -n true "/bin/true" \
  -n dryrun "$BIN node run --dryrun"
rss() { { /usr/bin/time -f '%M' "$BIN" node fleet --inventory "$1" -o systemd > /dev/null; } 2>&1; }
rss10k=$(rss inv10k.yaml)
rss100k=$(rss inv100k.yaml)

python3 - "$rss10k" "$rss100k" <<'PY'
import json, sys
def means(path):
    return {r["command"]: r["mean"] for r in json.load(open(path))["results"]}
s, t, k, d = (means(f + ".json") for f in ("stdout", "tmpfs", "disk", "dryrun"))
r10, r100 = (int(v) / 1024 for v in sys.argv[1:3])
print()
print("figure                                              value                          goal")
print(f"10,000 units to stdout, ours / peer                {s['ours']:.3f} s / {s['peer']:.3f} s = {s['ours']/s['peer']:.2f}x   <= 0.33")
print(f"10,000 units into a dir on tmpfs, ours / peer      {t['ours']:.3f} s / {t['peer']:.3f} s = {t['ours']/t['peer']:.2f}x   <= 0.5")
print(f"10,000 units into a dir on disk, ours / floor      {k['ours']:.3f} s / {k['floor']:.3f} s = {k['ours']/k['floor']:.2f}x   (reported)")
print(f"peak RSS, 10,000 and 100,000 to stdout             {r10:.1f} MiB, {r100:.1f} MiB = {r100/r10:.1f}x   <= 64 MiB, <= 4x")
print(f"node run --dryrun / /bin/true                      {d['dryrun']*1e3:.2f} ms / {d['true']*1e3:.2f} ms = {d['dryrun']/d['true']:.2f}x   <= 1.5")
PY
