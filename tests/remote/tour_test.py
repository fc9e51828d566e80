#!/usr/bin/env python3
"""Runs an example that takes --endpoint URL (examples/remote_tour,
examples/upgrade_rollback) against a peer started here, and checks it exits 0.

  tour_test.py tributary-server|kinesalite EXAMPLE SERVER NODE KINESALITE_JS

The peer listens on a kernel-picked loopback port; remote_tour gets dummy
credentials in its environment (local peers accept any signature) and no
AWS config files, so nothing outside this machine is ever contacted.
"""
import os
import select
import subprocess
import sys
import time


def start(cmd):
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    line = b""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not line.endswith(b"\n"):
        ready, _, _ = select.select([proc.stdout], [], [], 0.05)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 1)
            if not chunk:
                break
            line += chunk
        elif proc.poll() is not None:
            break
    text = line.decode().strip()
    if not text.startswith("listening on "):
        proc.kill()
        sys.exit(f"{cmd[0]} did not start: {text!r}")
    return proc, text[len("listening on "):]


def main():
    peer, tour, server, node, kinesalite_js = sys.argv[1:6]
    if peer == "kinesalite":
        if not os.path.isdir(os.path.join(os.path.dirname(kinesalite_js), "node_modules", "kinesalite")):
            sys.exit("kinesalite is not installed: run scripts/setup")
        cmd = [node, kinesalite_js, "0"]
    else:
        cmd = [server, "--in-memory", "--host", "127.0.0.1", "--port", "0", "--create-delay", "200",
               "--update-delay", "200", "--delete-delay", "200"]
    proc, url = start(cmd)
    env = dict(os.environ)
    for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KINESIS"):
        env.pop(k, None)
    env.update({"AWS_ACCESS_KEY_ID": "AKIDTRIBUTARYTEST", "AWS_SECRET_ACCESS_KEY": "tributary-test-secret",
                "AWS_REGION": "us-east-1", "AWS_CONFIG_FILE": "/dev/null",
                "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
    try:
        result = subprocess.run([tour, "--endpoint", url], env=env, timeout=240)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    print(f"remote_tour against {peer}: exit {result.returncode}")
    print(f"tour: {1 if result.returncode == 0 else 0} passed, {0 if result.returncode == 0 else 1} failed")
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()
