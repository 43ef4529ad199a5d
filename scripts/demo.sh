#!/usr/bin/env bash
# make demo: start the bundled fake hub, download its demo model into a
# fresh cache with a progress bar, print the snapshot path and its tree.
set -euo pipefail
build=${1:-build}
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/hubfetch-demo.XXXXXX)
port_file="$work/fakehub.out"

# stdin from a pipe that stays open: the fake hub exits when it closes
exec 3> >(python3 "$src/tests/fakehub/fakehub.py" --fixtures "$src/tests/fixtures/hub" \
              >"$port_file")
trap 'exec 3>&-; sleep 0.2' EXIT
for _ in $(seq 100); do
    grep -q READY "$port_file" 2>/dev/null && break
    sleep 0.1
done
read -r _ hub_port _ <"$port_file"
endpoint="http://127.0.0.1:$hub_port"

# play a real CDN: 40 MB/s per connection, so the bar has time to show
curl -sf --noproxy '*' -X POST "$endpoint/_control" \
    -d '{"faults": [{"match": "repos/", "server": "cdn", "action": {"rate": 40000000}}]}' \
    >/dev/null

echo "fake hub at $endpoint, cache in $work/cache" >&2
echo "\$ hubfetch download hubfetch/demo-model --endpoint $endpoint --cache-dir $work/cache" >&2
path=$("$build/hubfetch" download hubfetch/demo-model \
       --endpoint "$endpoint" --cache-dir "$work/cache")
echo "$path"
python3 - "$path" <<'PY'
import os, sys
root = sys.argv[1]
def walk(d, prefix=""):
    entries = sorted(os.listdir(d))
    for i, name in enumerate(entries):
        p = os.path.join(d, name)
        last = i == len(entries) - 1
        tail = " -> " + os.readlink(p) if os.path.islink(p) else ""
        size = "" if os.path.isdir(p) else f"  ({os.path.getsize(p)} bytes)"
        print(prefix + ("└── " if last else "├── ") + name + tail + size)
        if os.path.isdir(p) and not os.path.islink(p):
            walk(p, prefix + ("    " if last else "│   "))
print(os.path.basename(root))
walk(root)
PY
