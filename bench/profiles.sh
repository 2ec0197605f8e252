#!/usr/bin/env bash
# The two build profiles side by side on this machine: how long each takes
# to build from nothing (what `cargo install --path .` costs with the
# release profile, what packaging/build.sh costs with dist), then each
# binary's start-up (500 dry runs) and a 2,000-host fleet written to tmpfs,
# beside /bin/true, in the same run.
#
#   bash bench/profiles.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
export CALICOCTL_DEFAULT_CONFIG=/nonexistent CALICOCTL_HOSTNAME=node1
now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
declare -A BIN
for profile in release dist; do
  t0=$(now)
  CARGO_TARGET_DIR="$DIR/target-$profile" cargo build --profile "$profile" --locked --quiet
  t1=$(now)
  BIN[$profile]=$(ls "$DIR/target-$profile"/*/"$profile"/calicoctl)
  printf '%-8s build from nothing: %6d ms\n' "$profile" "$(ms "$t0" "$t1")"
done
python3 - "$DIR/inventory.yaml" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("hosts:\n")
    for i in range(2000):
        f.write(f"  h{i:04d}: {{ip: 10.0.{i // 250}.{i % 250 + 1}, as: 64512}}\n")
PY
OUT=/dev/shm/calicoctl-bench-$$
for round in 1 2 3; do
  for profile in release dist true; do
    if [ "$profile" = true ]; then cmd=(/bin/true); else cmd=("${BIN[$profile]}" node run --dryrun); fi
    t0=$(now)
    for _ in $(seq 500); do "${cmd[@]}" > /dev/null 2>&1; done
    t1=$(now)
    startup=$(( ($(ms "$t0" "$t1") * 1000) / 500 ))
    fleet=-
    if [ "$profile" != true ]; then
      rm -rf "$OUT"
      t0=$(now); "${BIN[$profile]}" node fleet --inventory "$DIR/inventory.yaml" --out-dir "$OUT" 2> /dev/null; t1=$(now)
      fleet=$(ms "$t0" "$t1")
    fi
    printf 'round %d  %-8s start-up %5d us   2,000-host fleet %5s ms\n' "$round" "$profile" "$startup" "$fleet"
  done
done
rm -rf "$OUT"
