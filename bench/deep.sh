#!/usr/bin/env bash
# The deep-input fuzzer's time bound: every reader given a few MB nested up
# to a million levels (flow, JSON, block, anchored) and host patterns that
# would make 10^12 names, each timed beside /bin/true in the same run. Each
# must be refused in one line, by exit 1, within a second; the script fails
# otherwise (this is where the issue's time bound lives, not cargo test).
#
#   bash bench/deep.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/release-bin.sh
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
export CALICOCTL_DEFAULT_CONFIG=/nonexistent CALICOCTL_HOSTNAME=node1
cd "$DIR"
python3 - <<'PY'
n = 1_000_000
values = {
    "flow": "[" * n,
    "json": '{"k": ' * n,
    "block": "\n" + "- " * n + "x",
    "anchored": "".join(f"&a{i} [*a{max(i - 1, 0)}, " for i in range(200_000)),
}
for name, v in values.items():
    open(f"native-{name}.yaml", "w").write(f"hosts:\n  a:\n    x: {v}\n")
    open(f"ansible-{name}.yaml", "w").write(f"all:\n  hosts:\n    a:\n      calico_x: {v}\n")
    open(f"config-{name}.cfg", "w").write(
        f"apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  x: {v}\n")
open("list.json", "w").write('{"_meta": {"hostvars": {"a": {"calico_x": ' + "[" * n + "}}}}")
open("ranges.yaml", "w").write("all:\n  hosts:\n    r[0:999999]-[0:999999]:\n")
open("t.j2", "w").write("{{ " + "(" * n + "1" + ")" * n + " }}")
PY
now() { date +%s%N; }
failed=0
run() { # label, then the command
  local label=$1; shift
  local t0 t1 status=0
  t0=$(now); "$@" > out.txt 2> err.txt || status=$?; t1=$(now)
  local ms=$(( (t1 - t0) / 1000000 ))
  t0=$(now); /bin/true; t1=$(now)
  local floor=$(( (t1 - t0) / 1000 ))
  local lines; lines=$(wc -l < err.txt)
  printf '%-28s %6d ms (/bin/true %4d us)  exit %d, %d line(s) on stderr\n' "$label" "$ms" "$floor" "$status" "$lines"
  if [ "$status" != 1 ] || [ "$lines" -lt 1 ] || [ "$ms" -gt 1000 ]; then
    echo "  FAILED: $(head -c 300 err.txt)"; failed=1
  fi
}
for name in flow json block anchored; do
  run "native inventory, $name" env PATH=/nonexistent "$BIN" node fleet --inventory "native-$name.yaml" -o env
  run "Ansible YAML, $name" env PATH=/nonexistent "$BIN" node fleet --inventory "ansible-$name.yaml" -o env
  run "config file, $name" "$BIN" node run --dryrun --config "config-$name.cfg"
done
run "ansible-inventory JSON" env PATH=/nonexistent "$BIN" node fleet --inventory list.json -o env
run "host ranges, 10^12 names" env PATH=/nonexistent "$BIN" node fleet --inventory ranges.yaml -o env
run "template" "$BIN" node run --template t.j2
ls -l --block-size=K ./*.yaml ./*.cfg ./*.json ./*.j2 | awk '{print "  input", $5, $9}' | sort -u | head -20
exit "$failed"
