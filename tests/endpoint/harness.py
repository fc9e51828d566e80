"""Shared helpers for the endpoint tests written in Python.

Server starts tributary-server on a free loopback port (--port 0), reads the
"listening on http://HOST:PORT" line, and stops it with SIGTERM, checking that
it exits 0 within a bounded time (graceful shutdown). With tls=True it also
starts the https listener (--tls-port 0) with certificates made for this run
(--tls-self-signed in a temporary directory, removed afterwards) and reads
"listening on https://..." and "tls ca: FILE" (tls_url, ca_file). Checks counts passed and
failed checks and prints the summary line "N passed, N failed".

Every test sets dummy credentials and a region in its own environment, and
points the AWS config files at /dev/null, so no SDK ever looks for real
credentials or reaches outside the loopback interface.
"""

import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIDTRIBUTARYTEST",
    "AWS_SECRET_ACCESS_KEY": "tributary-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_PAGER": "",
}


def use_dummy_credentials():
    os.environ.update(DUMMY_ENV)
    for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(k, None)


class Server:
    """A tributary-server child process on 127.0.0.1 and a kernel-picked port."""

    def __init__(self, binary, *args, start_timeout=20, storage=("--in-memory",), tls=False):
        self.tls_dir = None
        if tls:
            self.tls_dir = tempfile.mkdtemp(prefix="tributary-tls-")
            args = (*args, "--tls-port", "0", "--tls-self-signed", "--tls-dir", self.tls_dir)
        cmd = [binary, "--host", "127.0.0.1", "--port", "0", *storage, *args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        self.deadline = time.monotonic() + start_timeout
        text = self._line()
        if not text.startswith("listening on http://"):
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"tributary-server did not start ({cmd}): got {text!r}")
        self.url = text[len("listening on "):]
        self.host, port = self.url[len("http://"):].rsplit(":", 1)
        self.port = int(port)
        self.tls_url = self.ca_file = None
        self.tls_port = 0
        if tls:
            text = self._line()
            if not text.startswith("listening on https://"):
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError(f"tributary-server did not start TLS ({cmd}): got {text!r}")
            self.tls_url = text[len("listening on "):]
            self.tls_port = int(self.tls_url.rsplit(":", 1)[1])
            self.ca_file = self._line()[len("tls ca: "):]

    def _line(self):
        """One line of the server's stdout, read byte by byte (no buffering past it)."""
        line = b""
        while time.monotonic() < self.deadline and not line.endswith(b"\n"):
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.05)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 1)
                if not chunk:
                    break
                line += chunk
            elif self.proc.poll() is not None:
                break
        return line.decode().strip()

    def stop(self, timeout=15):
        """SIGTERM, then wait; returns the exit status (None if it had to be killed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.tls_dir:
            shutil.rmtree(self.tls_dir, ignore_errors=True)


class Checks:
    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0

    def ok(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL: {what}", flush=True)
        return bool(cond)

    def eq(self, got, want, what):
        return self.ok(got == want, f"{what}: got {got!r}, want {want!r}")

    def skip(self, what, why):
        print(f"SKIP: {what}: {why}", flush=True)

    def run(self, fn, *args):
        """Runs one scenario; an exception fails it and the others still run."""
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - a test harness reports everything
            self.failed += 1
            print(f"FAIL: {fn.__name__} raised:", flush=True)
            traceback.print_exc()

    def finish(self):
        print(f"{self.name}: {self.passed} passed, {self.failed} failed", flush=True)
        return 0 if self.failed == 0 and self.passed > 0 else 1


def server_binary():
    if len(sys.argv) < 2:
        sys.exit(f"usage: {sys.argv[0]} PATH/TO/tributary-server")
    return sys.argv[1]
