#!/usr/bin/env bash
# Fleet and start-up benchmark: prints figures, asserts nothing.
#
#   bash bench/fleet.sh            # build release, run everything (a few minutes)
#
# Needs hyperfine, /usr/bin/time, python3 with jinja2 and yaml (Debian:
# hyperfine time python3-jinja2 python3-yaml). Work files go under
# $BENCH_DIR (default target/bench, on the project's own disk).
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_DIR=${BENCH_DIR:-target/bench}
RUNS=${RUNS:-5}
BIN=$(cargo build --release --quiet --message-format=json \
  | python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable"):
        print(m["executable"])')
PEER="/usr/bin/python3 $PWD/bench/peer_jinja2.py"
mkdir -p "$BENCH_DIR"
cd "$BENCH_DIR"
export CALICOCTL_DEFAULT_CONFIG=/nonexistent CALICOCTL_HOSTNAME=node1

inventory() { # hosts file
  awk -v n="$1" 'BEGIN {
    print "defaults:\n  node-image: quay.io/calico/node:v3.2.8\nhosts:";
    for (i = 0; i < n; i++)
      printf "  node-%05d: {ip: 10.%d.%d.%d, as: %d}\n", i, int(i/65536), int(i/256)%256, i%256, 64512 + i%100
  }' > "$2"
}
inventory 1000 inv1k.yaml
inventory 10000 inv10k.yaml

# The peer must write what we write: compare the stdout forms once.
"$BIN" node fleet --inventory inv10k.yaml -o systemd > ours.txt
$PEER inv10k.yaml > peer.txt
cmp -s ours.txt peer.txt && echo "peer output: byte-identical to calicoctl's (10,000 units)" \
  || { echo "peer output differs from calicoctl's: the comparison would be unfair"; exit 1; }

hyperfine -N --runs "$RUNS" --warmup 1 --prepare 'rm -rf out && sync' --export-json outdir.json \
  -n "calicoctl node fleet -o systemd --out-dir (10,000)" "$BIN node fleet --inventory inv10k.yaml -o systemd --out-dir out" \
  -n "peer: Python Jinja2 loop to files (10,000)" "$PEER inv10k.yaml out"
hyperfine -N --runs "$RUNS" --warmup 1 --output=pipe --export-json stdout.json \
  -n "calicoctl node fleet -o systemd to stdout (10,000)" "$BIN node fleet --inventory inv10k.yaml -o systemd" \
  -n "calicoctl node fleet -o systemd to stdout (1,000)" "$BIN node fleet --inventory inv1k.yaml -o systemd" \
  -n "peer: Python Jinja2 loop to stdout (10,000)" "$PEER inv10k.yaml"
hyperfine -N --runs 300 --warmup 30 --export-json dryrun.json \
  -n "/bin/true" "/bin/true" \
  -n "calicoctl node run --dryrun" "$BIN node run --dryrun"
rss=$( { /usr/bin/time -f '%M' "$BIN" node fleet --inventory inv10k.yaml -o systemd > /dev/null; } 2>&1 )

python3 - "$rss" <<'PY'
import json, sys
def means(path):
    return {r["command"]: r["mean"] for r in json.load(open(path))["results"]}
o, s, d = means("outdir.json"), means("stdout.json"), means("dryrun.json")
ours_dir = o["calicoctl node fleet -o systemd --out-dir (10,000)"]
peer_dir = o["peer: Python Jinja2 loop to files (10,000)"]
ours_out = s["calicoctl node fleet -o systemd to stdout (10,000)"]
ours_1k = s["calicoctl node fleet -o systemd to stdout (1,000)"]
peer_out = s["peer: Python Jinja2 loop to stdout (10,000)"]
true, dry = d["/bin/true"], d["calicoctl node run --dryrun"]
rss = int(sys.argv[1]) / 1024
print()
print("figure                                             value      goal")
print(f"10,000 units into an empty dir, ours / peer      {ours_dir:6.3f} s / {peer_dir:.3f} s = {ours_dir/peer_dir:.2f}x   <= 1")
print(f"10,000 to stdout, ours / peer writing files      {ours_out:6.3f} s / {peer_dir:.3f} s = {ours_out/peer_dir:.2f}x   <= 0.25")
print(f"10,000 to stdout, ours / peer to stdout          {ours_out:6.3f} s / {peer_out:.3f} s = {ours_out/peer_out:.2f}x")
print(f"peak RSS, 10,000 to stdout                       {rss:6.1f} MiB                   <= 64")
print(f"time per host, 1,000 vs 10,000 hosts             {ours_1k/1000*1e6:6.1f} us vs {ours_out/10000*1e6:.1f} us     linear")
print(f"node run --dryrun / /bin/true                    {dry*1e3:6.2f} ms / {true*1e3:.2f} ms = {dry/true:.2f}x   <= 1.5")
PY
