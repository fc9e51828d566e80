#!/usr/bin/env bash
# Runs kinesalite's own test suite (github.com/mhart/kinesalite, test/: 290
# mocha tests written and checked against Amazon Kinesis) against
# tributary-server, the conformance measure of docs/ENDPOINT.md
# "Conformance: kinesalite's suite".
#
# Usage: tests/endpoint/kinesalite_suite/run.sh KINESALITE_CHECKOUT SERVER_BINARY [OUT_PREFIX]
#
# KINESALITE_CHECKOUT is a git checkout of mhart/kinesalite (not part of this
# repository, never committed to it). The only change made to it is in
# test/helpers.js: with KINESIS_PORT set, the suite talks to that endpoint
# instead of starting kinesalite. `npm install` runs there (the npm registry,
# its ordinary client) when its node_modules are missing. The server runs
# in memory with --require-signatures (the suite checks AWS's answers to
# unsigned and malformed requests). Prints the summary and each failing
# test; OUT_PREFIX.json keeps mocha's JSON report.
set -euo pipefail
KL="${1:?kinesalite checkout}"
SERVER="${2:?tributary-server binary}"
OUT="${3:-/tmp/kinesalite-suite}"

python3 - "$KL/test/helpers.js" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
if "KINESIS_PORT" not in s:
    s = s.replace("var port = 10000 + Math.round(Math.random() * 10000),",
                  "var port = +(process.env.KINESIS_PORT || (10000 + Math.round(Math.random() * 10000))),")
    s = s.replace("var kinesaliteServer = kinesalite({path: process.env.KINESALITE_PATH})",
                  "var kinesaliteServer = process.env.KINESIS_PORT ?\n"
                  "  {listen: function(p, cb) { cb() }, close: function(cb) { cb() }} :\n"
                  "  kinesalite({path: process.env.KINESALITE_PATH})")
    open(p, "w").write(s)
PY
if [[ ! -d "$KL/node_modules/mocha" ]]; then
  (cd "$KL" && npm install --no-audit --no-fund --loglevel=error)
fi

LOG="$OUT.server.log"
"$SERVER" --in-memory --port 0 --require-signatures >"$LOG" 2>&1 &
SERVER_PID=$!
trap 'kill "$SERVER_PID" 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "listening on" "$LOG" && break; sleep 0.1; done
PORT=$(sed -n 's|.*listening on http://[^:]*:\([0-9]*\).*|\1|p' "$LOG" | head -1)
[[ -n "$PORT" ]] || { echo "tributary-server did not start:"; cat "$LOG"; exit 1; }

cd "$KL"
KINESIS_PORT="$PORT" AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x \
  ./node_modules/.bin/mocha --require should --reporter json -t 10s >"$OUT.json" || true
python3 - "$OUT.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
st = d["stats"]
print(f"kinesalite suite: {st['passes']} passed, {st['failures']} failed, {st['pending']} pending, "
      f"of {st['tests']}")
for f in d["failures"]:
    print(f"  FAIL {f['fullTitle']}\n       {f['err'].get('message', '').splitlines()[0][:200]}")
PY
