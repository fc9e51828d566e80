#!/usr/bin/env python3
"""Runs tests/endpoint/go/kinesis_sdk.go (the AWS SDK for Go, Debian's
golang-github-aws-aws-sdk-go-dev) against tributary-server over https, as a
user would: the server makes its CA with --tls-self-signed, the SDK trusts it
through AWS_CA_BUNDLE, and Go builds offline in GOPATH mode (GO111MODULE=off,
GOPATH=/usr/share/gocode; Debian ships no module cache). GOCACHE is the
second argument (a directory in the build tree), so later runs reuse the
compiled SDK.

Usage: go_sdk_test.py PATH/TO/tributary-server GOCACHE_DIR
"""

import os
import shutil
import subprocess
import sys

import harness

checks = harness.Checks("go-sdk")


def main():
    binary = harness.server_binary()
    gocache = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.getcwd(), "gocache")
    harness.use_dummy_credentials()
    go = shutil.which("go") or "/usr/bin/go"
    if not os.path.exists(go) or not os.path.isdir("/usr/share/gocode/src/github.com/aws/aws-sdk-go"):
        checks.ok(False, "go and the aws-sdk-go sources are installed (scripts/setup)")
        return checks.finish()
    env = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode", GOCACHE=gocache, GOFLAGS="",
               GOTOOLCHAIN="local", GOPROXY="off", CGO_ENABLED="0")
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "go", "kinesis_sdk.go")
    exe = os.path.join(gocache, "tributary-go-sdk-test")
    os.makedirs(gocache, exist_ok=True)
    build = subprocess.run([go, "build", "-o", exe, src], env=env, capture_output=True, text=True, timeout=900)
    if not checks.ok(build.returncode == 0, f"go build: {build.stderr[-2000:]}"):
        return checks.finish()
    with harness.Server(binary, "--create-delay", "0", "--update-delay", "0", "--delete-delay", "0", tls=True) as srv:
        url = srv.tls_url.replace("127.0.0.1", "localhost")
        # AWS_CA_BUNDLE is the SDK's own setting (it wins over SSL_CERT_FILE,
        # Go's); both point at the run's CA.
        out = subprocess.run([exe, url], env=dict(env, AWS_CA_BUNDLE=srv.ca_file, SSL_CERT_FILE=srv.ca_file),
                             capture_output=True, text=True, timeout=240)
        sys.stdout.write(out.stdout)
        sys.stderr.write(out.stderr[-4000:])
        line = [ln for ln in out.stdout.splitlines() if ln.startswith("go-sdk:")]
        checks.ok(out.returncode == 0 and line, f"the Go program passes (exit {out.returncode})")
        if line:
            n = line[-1].split()
            checks.passed += int(n[1])
            checks.failed += int(n[3])
        checks.eq(srv.stop(), 0, "tributary-server exits 0 on SIGTERM")
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
