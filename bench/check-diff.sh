#!/usr/bin/env bash
# --check's cost on a planted file: a unit of 16 MiB of newlines (17 KiB in
# a git pack, just under the read cap) where calico-node.service goes, and
# one of 1,999 random lines (just under the diff bound), each timed beside
# `cmp` of the same two files in the same run. --check must stay within a
# small factor of cmp: its diff is shown only within 2,000 lines and
# 256 KiB a side, beyond that it says the sizes (src/outdir/check.rs).
#
#   bash bench/check-diff.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/release-bin.sh
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
export CALICOCTL_DEFAULT_CONFIG=/nonexistent CALICOCTL_HOSTNAME=node1
cd "$DIR"
"$BIN" node run -o systemd --out-dir out > /dev/null 2>&1
cp out/calico-node.service generated.service
now() { date +%s%N; }
measure() { # label, planted file
  local label=$1 planted=$2 t0 t1 ours theirs status=0
  cp "$planted" out/calico-node.service
  t0=$(now); "$BIN" node run -o systemd --out-dir out --check > report.txt 2>&1 || status=$?; t1=$(now)
  ours=$(( (t1 - t0) / 1000000 ))
  [ "$status" = 2 ] || { echo "$label: --check exited $status" >&2; exit 1; }
  t0=$(now); cmp -s "$planted" generated.service || true; t1=$(now)
  theirs=$(( (t1 - t0) / 1000000 ))
  printf '%-28s --check %6d ms   cmp %6d ms   (%s bytes)\n' "$label" "$ours" "$theirs" "$(stat -c %s "$planted")"
}
head -c 16777215 /dev/zero | tr '\0' '\n' > newlines.txt
python3 -c "
import random
random.seed(1)
print(''.join(f'{random.random()}\n' for _ in range(1999)), end='')" > random.txt
measure "16 MiB of newlines" newlines.txt
measure "1,999 random lines" random.txt
