#!/usr/bin/env python3
"""tributary-server's test control API (--test-control) over raw HTTP: every
call, its log line, the startup banner, and the exposure rules (refusals on
non-loopback addresses). The pytest plugin's own tests (python/tests/) drive
the same calls through its helpers.

Usage: control_test.py PATH/TO/tributary-server
"""

import json
import os
import select
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.exceptions

import harness

checks = harness.Checks("control")


class LoggedServer:
    """tributary-server with its stderr in a file, so its banner and log can be read."""

    def __init__(self, binary, *args, host="127.0.0.1"):
        self.log = tempfile.TemporaryFile()
        self.cmd = [binary, "--host", host, "--port", "0", "--in-memory", *args]
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=self.log,
                                     stdin=subprocess.DEVNULL)
        line = b""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not line.endswith(b"\n"):
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.05)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 1)
                if not chunk:
                    break
                line += chunk
            elif self.proc.poll() is not None:
                break
        self.line = line.decode().strip()
        self.url = None
        if self.line.startswith("listening on http://"):
            port = self.line.rsplit(":", 1)[1]
            self.url = f"http://127.0.0.1:{port}"

    def stderr(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def call(url, method, path, body=None, headers=None, raw=None):
    """(HTTP status, decoded JSON body) of one control call."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(url + path, data=data, method=method,
                                 headers=headers or {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def signed_headers(url, method, path, body, key, secret):
    request = botocore.awsrequest.AWSRequest(method=method, url=url + path, data=body,
                                             headers={"Content-Type": "application/json"})
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(key, secret), "kinesis",
                            "us-east-1").add_auth(request)
    return dict(request.headers.items())


def kinesis_client(url):
    cfg = botocore.config.Config(retries={"total_max_attempts": 1})
    return boto3.client("kinesis", endpoint_url=url, config=cfg)


def every_call(binary):
    with LoggedServer(binary, "--test-control", "--manual-clock", "--create-delay", "0",
                      "--update-delay", "0", "--delete-delay", "0") as s:
        checks.ok(s.url is not None, f"server started: {s.line}")
        url = s.url
        kin = kinesis_client(url)
        kin.create_stream(StreamName="orders", ShardCount=1)

        # faults: add, see boto3 fail, list with counts, remove one, clear
        status, out = call(url, "POST", "/_tributary/faults",
                           {"call": "PutRecord", "error": "ProvisionedThroughputExceededException",
                            "count": 2, "stream": "orders"})
        checks.eq((status, out), (200, {"id": "fault-1"}), "POST /_tributary/faults")
        status, out = call(url, "POST", "/_tributary/faults",
                           {"call": "PutRecords", "fail_records": [1], "latency_ms": 1})
        checks.eq(out, {"id": "fault-2"}, "second rule")
        try:
            kin.put_record(StreamName="orders", PartitionKey="k", Data=b"x")
            checks.ok(False, "PutRecord was not throttled")
        except botocore.exceptions.ClientError as e:
            checks.eq(e.response["Error"]["Code"], "ProvisionedThroughputExceededException",
                      "PutRecord throttled by the rule")
            checks.eq(e.response["ResponseMetadata"]["HTTPStatusCode"], 400, "throttle is HTTP 400")
        out = kin.put_records(StreamName="orders", Records=[
            {"PartitionKey": "k", "Data": b"a"}, {"PartitionKey": "k", "Data": b"b"}])
        checks.eq([r.get("ErrorCode") for r in out["Records"]],
                  [None, "ProvisionedThroughputExceededException"], "PutRecords partial failure")
        status, out = call(url, "GET", "/_tributary/faults")
        checks.eq(status, 200, "GET /_tributary/faults")
        checks.eq([(r["id"], r["call"], r["count"], r["fired"]) for r in out["rules"]],
                  [("fault-1", "PutRecord", 1, 1), ("fault-2", "PutRecords", 0, 1)],
                  "rules with remaining counts")
        checks.eq(out["rules"][1].get("fail_records"), [1], "fail_records listed")
        checks.eq(call(url, "DELETE", "/_tributary/faults/fault-1"), (200, {}), "DELETE one rule")
        status, out = call(url, "DELETE", "/_tributary/faults/fault-1")
        checks.eq((status, out.get("__type")), (404, "ResourceNotFoundException"), "DELETE it again")
        checks.eq(call(url, "DELETE", "/_tributary/faults"), (200, {}), "DELETE /_tributary/faults")
        checks.eq(call(url, "GET", "/_tributary/faults")[1], {"rules": []}, "no rules left")
        kin.put_record(StreamName="orders", PartitionKey="k", Data=b"x")

        # a fault on an action the Store does not check, seen by boto3
        call(url, "POST", "/_tributary/faults", {"call": "CreateStream", "error": "LimitExceededException"})
        try:
            kin.create_stream(StreamName="other", ShardCount=1)
            checks.ok(False, "CreateStream was not failed")
        except botocore.exceptions.ClientError as e:
            checks.eq(e.response["Error"]["Code"], "LimitExceededException", "CreateStream failed by the rule")

        # bad rules
        status, out = call(url, "POST", "/_tributary/faults", {"call": "PutRecord", "error": "Nope"})
        checks.eq((status, out.get("__type")), (400, "ValidationException"), "unknown error type refused")
        status, out = call(url, "POST", "/_tributary/faults", raw=b"{not json")
        checks.eq((status, out.get("__type")), (400, "SerializationException"), "bad JSON refused")

        # clock
        status, out = call(url, "GET", "/_tributary/clock")
        checks.eq((status, out.get("manual")), (200, True), "GET /_tributary/clock")
        t0 = out["now_ms"]
        checks.ok(abs(t0 - time.time() * 1000) < 60_000, "a manual clock starts at the current time")
        status, out = call(url, "POST", "/_tributary/clock", {"advance_ms": 90_000_000})
        checks.eq((status, out), (200, {"now_ms": t0 + 90_000_000}), "POST /_tributary/clock")
        # Signatures still check against real time, so the SDK keeps working.
        checks.eq(kin.list_streams()["StreamNames"], ["orders"], "signed calls work after time travel")

        # applications: no Managed Flink applications are served by this build
        status, out = call(url, "POST", "/_tributary/applications/app", {"job": "fail"})
        checks.ok(status in (404, 501), f"POST /_tributary/applications/app: {status} {out}")

        # reset, both paths
        for path in ("/_tributary/reset", "/moto-api/reset"):
            kin.create_stream(StreamName="again", ShardCount=1)
            call(url, "POST", "/_tributary/faults", {"call": "ListStreams", "error": "InternalFailure"})
            checks.eq(call(url, "POST", path), (200, {}), f"POST {path}")
            checks.eq(kin.list_streams()["StreamNames"], [], f"{path}: no stream left, no rule left")

        # routing errors
        checks.eq(call(url, "GET", "/_tributary/reset")[0], 405, "GET /_tributary/reset is 405")
        checks.eq(call(url, "POST", "/_tributary/whatever")[0], 404, "unknown control path is 404")

        checks.eq(s.stop(), 0, "clean shutdown")
        err = s.stderr()
        checks.ok("--test-control: test control API ON" in err, "the banner says --test-control")
        checks.ok("manual clock" in err, "the banner says manual clock")
        logged = [l for l in err.splitlines() if l.startswith("tributary-server: control: ")]
        checks.eq(len(logged), 19, "every control call logged")
        checks.ok(any("POST /_tributary/faults {\"call\": \"PutRecord\"" in l for l in logged),
                  "the log shows the rule")


def clock_not_manual(binary):
    with LoggedServer(binary, "--test-control") as s:
        status, out = call(s.url, "GET", "/_tributary/clock")
        checks.eq((status, out.get("manual")), (200, False), "system clock reads")
        status, out = call(s.url, "POST", "/_tributary/clock", {"advance_ms": 1})
        checks.eq((status, out.get("__type")), (409, "UnsupportedOperationException"),
                  "moving the system clock is refused")
        checks.ok("--manual-clock" in out.get("message", ""), "and says how to move it")
        s.stop()


def control_off(binary):
    with LoggedServer(binary) as s:
        status, out = call(s.url, "POST", "/_tributary/reset")
        checks.eq(status, 404, "without --test-control, control paths are 404")
        checks.ok("--test-control" in out.get("message", ""), "and say how to turn it on")
        checks.eq(call(s.url, "POST", "/moto-api/reset")[0], 404, "moto's reset too")
        s.stop()
        checks.ok("test control API ON" not in s.stderr(), "no banner mention without the flag")


def refusals(binary):
    # No signature verification on a non-loopback address: refused at start.
    with LoggedServer(binary, host="0.0.0.0") as s:
        checks.eq(s.proc.wait(timeout=15), 2, "0.0.0.0 without --allow-unauthenticated exits 2")
        checks.ok("--allow-unauthenticated" in s.stderr(), "and names the flag")
    with LoggedServer(binary, "--allow-unauthenticated", host="0.0.0.0") as s:
        checks.ok(s.url is not None, f"0.0.0.0 with --allow-unauthenticated starts: {s.line}")
        s.stop()
    # The control API on a non-loopback address needs verified signatures, waiver or not.
    with LoggedServer(binary, "--test-control", "--allow-unauthenticated", host="0.0.0.0") as s:
        checks.eq(s.proc.wait(timeout=15), 2, "--test-control on 0.0.0.0 without verification exits 2")
        checks.ok("needs signature verification" in s.stderr(), "and says why")
    with LoggedServer(binary, "--test-control", "--access-key", "AKIDCONTROL", "--secret-key", "s3cret",
                      host="0.0.0.0") as s:
        checks.ok(s.url is not None, "--test-control on 0.0.0.0 with verified signatures starts")
        status, out = call(s.url, "POST", "/_tributary/reset")
        checks.eq((status, out.get("__type")), (403, "MissingAuthenticationTokenException"),
                  "an unsigned control call is refused")
        headers = signed_headers(s.url, "POST", "/_tributary/reset", b"", "AKIDCONTROL", "wrong")
        checks.eq(call(s.url, "POST", "/_tributary/reset", headers=headers, raw=b"")[0], 400,
                  "a badly signed control call is refused")
        headers = signed_headers(s.url, "POST", "/_tributary/reset", b"", "AKIDCONTROL", "s3cret")
        checks.eq(call(s.url, "POST", "/_tributary/reset", headers=headers, raw=b""), (200, {}),
                  "a signed control call is served")
        s.stop()
        logged = [l for l in s.stderr().splitlines() if l.startswith("tributary-server: control: ")]
        checks.eq([l.rsplit(" -> ", 1)[1][:3] for l in logged], ["403", "400", "200"],
                  "refused control calls are logged too")


def main():
    harness.use_dummy_credentials()
    binary = harness.server_binary()
    for scenario in (every_call, clock_not_manual, control_off, refusals):
        checks.run(scenario, binary)
    return checks.finish()


if __name__ == "__main__":
    raise SystemExit(main())
