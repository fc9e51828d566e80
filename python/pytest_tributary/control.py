"""Client of tributary-server's test control API (docs/ENDPOINT.md "Test control").

Works with any test runner: pytest fixtures (pytest_tributary.plugin) are a thin
layer over these classes.

    server = TributaryServer.start()            # tributary-server on PATH, loopback, free port
    control = server.control
    control.reset()                              # every stream, consumer, application gone
    control.faults.throttle_puts(2)              # next 2 PutRecord: ProvisionedThroughputExceeded
    control.clock.advance(hours=25)              # --manual-clock: time moves only when told
    server.stop()

Only the standard library and botocore (for SigV4 signing, when the server
verifies signatures) are used.
"""

import json
import os
import select
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request

__all__ = [
    "ControlError",
    "Control",
    "Faults",
    "Clock",
    "Applications",
    "TributaryServer",
    "find_server_binary",
]

ITERATOR_LIFETIME_MS = 5 * 60 * 1000
DEFAULT_RETENTION_HOURS = 24


class ControlError(Exception):
    """A control call answered with an error: .status (HTTP), .type (AWS error type), .message."""

    def __init__(self, status, type_, message):
        super().__init__(f"{status} {type_}: {message}")
        self.status = status
        self.type = type_
        self.message = message


class Control:
    """The control API of one tributary-server at `url`.

    `credentials` (access key, secret key) signs every call with SigV4 (service
    "kinesis"), for a server that verifies signatures; `region` goes into the
    signature. `kinesis` (optional, a boto3 Kinesis client) lets the clock
    helpers read a stream's retention period.
    """

    def __init__(self, url, credentials=None, region="us-east-1", kinesis=None, timeout=30):
        self.url = url.rstrip("/")
        self.credentials = credentials
        self.region = region
        self.kinesis = kinesis
        self.timeout = timeout
        self.faults = Faults(self)
        self.clock = Clock(self)
        self.applications = Applications(self)

    def call(self, method, path, body=None):
        """One control call; returns the decoded JSON answer or raises ControlError."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.credentials is not None:
            headers = self._sign(method, path, data or b"", headers)
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            text = e.read().decode(errors="replace")
            try:
                err = json.loads(text)
            except ValueError:
                err = {"__type": "", "message": text}
            raise ControlError(e.code, err.get("__type", ""), err.get("message", "")) from None

    def _sign(self, method, path, data, headers):
        from botocore.auth import SigV4Auth  # only needed with signatures
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        access_key, secret_key = self.credentials
        request = AWSRequest(method=method, url=self.url + path, data=data, headers=dict(headers))
        SigV4Auth(Credentials(access_key, secret_key), "kinesis", self.region).add_auth(request)
        return dict(request.headers.items())

    def reset(self):
        """Every stream, consumer, application and snapshot gone; fault rules cleared."""
        return self.call("POST", "/_tributary/reset")


class Faults:
    """Fault rules: the next calls fail the way AWS fails them (tributary::testing::Faults)."""

    THROTTLED = "ProvisionedThroughputExceededException"
    INTERNAL = "InternalFailure"

    def __init__(self, control):
        self._control = control

    def add(self, call, error=None, count=1, stream=None, shard=None, partition_key=None,
            application=None, fail_records=None, record_error=None, latency_ms=None, message=None):
        """Adds a rule; returns its id. count=-1: until cleared."""
        rule = {"call": call, "count": count}
        for key, value in (("error", error), ("stream", stream), ("shard", shard),
                           ("partition_key", partition_key), ("application", application),
                           ("fail_records", fail_records), ("record_error", record_error),
                           ("latency_ms", latency_ms), ("message", message)):
            if value is not None:
                rule[key] = value
        return self._control.call("POST", "/_tributary/faults", rule)["id"]

    def list(self):
        """Every rule with its remaining "count" and "fired" so far."""
        return self._control.call("GET", "/_tributary/faults")["rules"]

    def remove(self, rule_id):
        self._control.call("DELETE", f"/_tributary/faults/{rule_id}")

    def clear(self):
        self._control.call("DELETE", "/_tributary/faults")

    # ---- the usual ones
    def throttle_puts(self, count=1, stream=None, partition_key=None):
        """PutRecord answers ProvisionedThroughputExceededException `count` times."""
        return self.add("PutRecord", self.THROTTLED, count, stream=stream, partition_key=partition_key)

    def throttle_put_records(self, count=1, stream=None):
        """Whole PutRecords calls answer ProvisionedThroughputExceededException."""
        return self.add("PutRecords", self.THROTTLED, count, stream=stream)

    def fail_puts(self, count=1, stream=None, error=INTERNAL):
        """PutRecord answers `error` (default InternalFailure, HTTP 500)."""
        return self.add("PutRecord", error, count, stream=stream)

    def fail_records(self, indexes, batches=1, stream=None, error=THROTTLED):
        """PutRecords partial failure: the entries at `indexes` fail with `error`
        (ErrorCode of the entry) and are not written; the others are."""
        return self.add("PutRecords", None, batches, stream=stream, fail_records=list(indexes),
                        record_error=error)

    def expire_iterators(self, count=1, stream=None, shard=None):
        """GetRecords answers ExpiredIteratorException."""
        return self.add("GetRecords", "ExpiredIteratorException", count, stream=stream, shard=shard)

    def throttle_get_records(self, count=1, stream=None, shard=None):
        return self.add("GetRecords", self.THROTTLED, count, stream=stream, shard=shard)

    def fail_get_shard_iterator(self, count=1, stream=None, shard=None, error=THROTTLED):
        return self.add("GetShardIterator", error, count, stream=stream, shard=shard)

    def fail(self, call, error, count=1, **target):
        """Any Kinesis or Managed Flink action answers `error`."""
        return self.add(call, error, count, **target)

    def delay(self, call, latency_ms, count=1, **target):
        """`call` is answered `latency_ms` later than it would be (wall-clock time)."""
        return self.add(call, None, count, latency_ms=latency_ms, **target)


class Clock:
    """The server's clock. Moving it needs a server started with --manual-clock."""

    def __init__(self, control):
        self._control = control

    def now_ms(self):
        return self._control.call("GET", "/_tributary/clock")["now_ms"]

    def is_manual(self):
        return self._control.call("GET", "/_tributary/clock")["manual"]

    def advance(self, ms=0, seconds=0, minutes=0, hours=0):
        """Moves time forward; returns the new now_ms."""
        total = int(ms + 1000 * (seconds + 60 * (minutes + 60 * hours)))
        return self._control.call("POST", "/_tributary/clock", {"advance_ms": total})["now_ms"]

    def advance_past_retention(self, stream=None, hours=None):
        """Every record written so far expires: the stream's retention period
        (read with DescribeStreamSummary when `stream` is given and a Kinesis
        client is known; otherwise `hours`, default 24) plus one millisecond."""
        if hours is None:
            if stream is not None and self._control.kinesis is not None:
                summary = self._control.kinesis.describe_stream_summary(StreamName=stream)
                hours = summary["StreamDescriptionSummary"]["RetentionPeriodHours"]
            else:
                hours = DEFAULT_RETENTION_HOURS
        return self.advance(ms=1, hours=hours)

    def advance_past_iterator_lifetime(self):
        """Every shard iterator issued so far expires (5 minutes plus 1 ms)."""
        return self.advance(ms=ITERATOR_LIFETIME_MS + 1)

    def advance_until_active(self, stream, step_ms=100, limit_ms=3_600_000):
        """Moves time in steps until `stream` is ACTIVE (CREATING/UPDATING over);
        needs a Kinesis client (Control(kinesis=...))."""
        moved = 0
        while True:
            summary = self._control.kinesis.describe_stream_summary(StreamName=stream)
            if summary["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE":
                return moved
            if moved >= limit_ms:
                raise TimeoutError(f"{stream} not ACTIVE after {limit_ms} ms of server time")
            self.advance(ms=step_ms)
            moved += step_ms


class Applications:
    """Managed Flink job faults, without a new application version."""

    def __init__(self, control):
        self._control = control

    def _job(self, name, job):
        return self._control.call("POST", f"/_tributary/applications/{name}", {"job": job})

    def fail(self, name):
        """The application's job fails now (and restarts by its restart strategy)."""
        return self._job(name, "fail")

    def hang(self, name):
        """The application's job hangs (never finishes deploying)."""
        return self._job(name, "hang")

    def recover(self, name):
        """The job fault is lifted (back to the version's configuration)."""
        return self._job(name, "recover")


def find_server_binary(explicit=None):
    """`explicit`, $TRIBUTARY_SERVER, or tributary-server on PATH."""
    for candidate in (explicit, os.environ.get("TRIBUTARY_SERVER")):
        if candidate:
            return candidate
    found = shutil.which("tributary-server")
    if found is None:
        raise FileNotFoundError(
            "tributary-server not found: put it on PATH, set TRIBUTARY_SERVER, or pass "
            "--tributary-server PATH to pytest")
    return found


class TributaryServer:
    """A tributary-server child process on loopback with the control API on.

    Default flags: --test-control --manual-clock --in-memory, and zero
    CREATING/UPDATING/DELETING delays and application transition times (a new
    stream is ACTIVE at once, an application RUNNING as soon as the server's
    background pump gets to it; pass e.g. extra_args=["--create-delay", "500"]
    to watch transitions on the manual clock). Application restart delays
    (--app-restart-delay-ms, 10 s) follow the manual clock.
    """

    DEFAULT_ARGS = ("--test-control", "--manual-clock", "--in-memory",
                    "--create-delay", "0", "--update-delay", "0", "--delete-delay", "0",
                    "--app-transition-ms", "0")

    def __init__(self, proc, url, credentials=None, region="us-east-1"):
        self.proc = proc
        self.url = url
        self.credentials = credentials
        self.region = region
        self.control = Control(url, credentials=credentials, region=region)

    @classmethod
    def start(cls, binary=None, extra_args=(), start_timeout=20, credentials=None,
              region="us-east-1", stderr=None):
        """Starts the server; returns once it accepts connections."""
        args = list(cls.DEFAULT_ARGS)
        # A later flag wins, so extra_args can change the delays.
        cmd = [find_server_binary(binary), "--host", "127.0.0.1", "--port", "0", "--region", region,
               *args, *extra_args]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, stderr=stderr)
        deadline = time.monotonic() + start_timeout
        line = b""
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
            proc.wait()
            raise RuntimeError(f"tributary-server did not start ({cmd}): got {text!r}")
        return cls(proc, text[len("listening on "):], credentials=credentials, region=region)

    def stop(self, timeout=15):
        """SIGTERM, then wait (SIGKILL after `timeout`); returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
