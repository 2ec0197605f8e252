# Sourced by the benchmarks: builds the release binary and sets BIN to it.
BIN=$(cargo build --release --quiet --message-format=json \
  | python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable"):
        print(m["executable"])')
