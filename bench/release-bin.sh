# Sourced by the benchmarks: builds the packaged binary (the dist profile:
# fat LTO, one codegen unit) and sets BIN to it.
BIN=$(cargo build --profile dist --quiet --message-format=json \
  | python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable"):
        print(m["executable"])')
