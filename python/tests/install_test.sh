#!/usr/bin/env bash
# pip install of pytest-tributary from the checkout, offline: a fresh venv (with
# the system's site packages: Debian's setuptools, pytest and boto3), then
# pip install --no-build-isolation --no-index, then a test that uses the
# fixtures without -p: the pytest11 entry point loads the plugin.
#
# Usage: install_test.sh PYTHON TRIBUTARY_SERVER
set -euo pipefail
PYTHON="$1"
export TRIBUTARY_SERVER="$2"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# A copy, so the build leaves nothing (build/, *.egg-info) in the checkout.
cp -r "$HERE" "$WORK/src"
rm -rf "$WORK/src/build" "$WORK/src"/*.egg-info
"$PYTHON" -m venv --system-site-packages "$WORK/venv"
PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
  "$WORK/venv/bin/pip" install --quiet --no-build-isolation "$WORK/src"

mkdir "$WORK/user-tests"
cat >"$WORK/user-tests/test_installed.py" <<'PY'
import pytest_tributary


def test_the_installed_plugin_serves_fixtures(kinesis, faults, clock):
    assert pytest_tributary.__file__.startswith(__import__("sys").prefix)
    kinesis.create_stream(StreamName="orders", ShardCount=1)
    faults.throttle_puts(1)
    try:
        kinesis.put_record(StreamName="orders", PartitionKey="k", Data=b"x")
        raise AssertionError("the put was not throttled")
    except kinesis.exceptions.ProvisionedThroughputExceededException:
        pass
    kinesis.put_record(StreamName="orders", PartitionKey="k", Data=b"x")
    t0 = clock.now_ms()
    assert clock.advance_past_retention("orders") == t0 + 24 * 3600 * 1000 + 1
PY
cd "$WORK/user-tests"
"$WORK/venv/bin/python" -m pytest -q -p no:cacheprovider test_installed.py
