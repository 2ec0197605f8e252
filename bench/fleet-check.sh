#!/usr/bin/env bash
# node fleet --check against hosts that never answer: how --forks bounds
# the wait. Ten hosts whose engine-host is a port that accepts and never
# says a word (ssh waits for its banner), --timeout 2, with 1, 5 and 10
# forks, each beside what hosts / forks x timeout predicts. Runs in a
# network namespace of its own (root: unshare), so the only traffic is to
# its own loopback. Asserts nothing.
#
#   sudo bash bench/fleet-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/release-bin.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
{
  echo "defaults: {engine-host: \"ssh://root@127.0.0.1:2299\"}"
  echo "hosts:"
  for i in $(seq 1 10); do echo "  h$i: {}"; done
} > "$work/inventory.yaml"
cat > "$work/silent.py" <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 2299))
s.listen(64)
held = []
while True:
    held.append(s.accept())
PY
BIN="$BIN" WORK="$work" unshare --net --fork --kill-child sh -c '
  ip link set lo up
  python3 "$WORK/silent.py" & listener=$!
  sleep 0.3
  for forks in 1 5 10; do
    start=$(date +%s%N)
    CALICOCTL_DEFAULT_CONFIG=/nonexistent "$BIN" node fleet --inventory "$WORK/inventory.yaml" \
      --check --timeout 2 --forks $forks > /dev/null 2>&1 || true
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    echo "10 silent hosts, --timeout 2, --forks $forks: $ms ms (hosts / forks x timeout: $(( (10 + forks - 1) / forks * 2000 )) ms)"
  done
  kill $listener
'
