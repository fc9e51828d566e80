#!/usr/bin/env python3
"""HTTP/2 and TLS at the frame level, with python3-h2 (Debian) driving raw
frames, curl and nghttp (nghttp2-client) as real clients:

- h2c with prior knowledge and h2 over TLS (ALPN) with curl; HTTP/1.1 over
  TLS (ALPN http/1.1); the HTTP/2 preface inside TLS without ALPN (the AWS
  SDK for Java before 2.30.5); TLS 1.1 refused;
- every response header name lower-case, :authority standing for Host in a
  SigV4 signature (verification on);
- a 10 MiB PutRecords split over many DATA frames; a header block over the
  limit answered 431; PING answered;
- flow control: a subscriber that never sends WINDOW_UPDATE gets no more
  than its window, the server's memory stays bounded while records pile up,
  and the subscription resumes when the window opens; nghttp with tiny
  windows (-w 10 -W 16) receives the events;
- floods: RST_STREAM (Rapid Reset) and CONTINUATION frames end that
  connection with GOAWAY while the server goes on answering others;
- an open stream keeps a connection past the idle timeout, an idle one is
  closed; SIGTERM sends GOAWAY and ends a subscription with END_STREAM.

Usage: http2_test.py PATH/TO/tributary-server
"""

import base64
import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.settings
import hpack

import harness

checks = harness.Checks("http2")
JSON = "application/x-amz-json-1.1"


class H2:
    """One HTTP/2 client connection (python3-h2), plain or TLS."""

    def __init__(self, host, port, tls_ca=None, alpn=("h2",), window=None, timeout=20):
        raw = socket.create_connection((host, port), timeout=timeout)
        if tls_ca:
            ctx = ssl.create_default_context(cafile=tls_ca)
            if alpn:
                ctx.set_alpn_protocols(list(alpn))
            raw = ctx.wrap_socket(raw, server_hostname="localhost")
            self.alpn = raw.selected_alpn_protocol()
        self.sock = raw
        self.conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        if window is not None:
            self.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
        self.flush()
        self.responses = {}  # stream id -> dict(status, headers, data, ended, reset)
        self.goaway = None
        self.pings = 0
        self.auto_ack = window is None

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def pump(self, until, deadline=20):
        """Reads and handles frames until until() is true; False on timeout or close."""
        end = time.monotonic() + deadline
        while not until():
            if time.monotonic() > end:
                return False
            self.sock.settimeout(max(0.01, end - time.monotonic()))
            try:
                data = self.sock.recv(1 << 20)
            except (socket.timeout, TimeoutError):
                return False
            except (ConnectionError, ssl.SSLError, OSError):
                return until()
            if not data:
                return until()
            for ev in self.conn.receive_data(data):
                self.handle(ev)
            self.flush()
        return True

    def handle(self, ev):
        r = self.responses.setdefault(getattr(ev, "stream_id", 0) or 0,
                                      {"status": None, "headers": {}, "data": bytearray(), "ended": False,
                                       "reset": None})
        if isinstance(ev, h2.events.ResponseReceived):
            r["headers"] = dict(ev.headers)
            r["status"] = int(r["headers"][":status"])
        elif isinstance(ev, h2.events.DataReceived):
            r["data"] += ev.data
            if self.auto_ack:
                self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        elif isinstance(ev, h2.events.StreamEnded):
            r["ended"] = True
        elif isinstance(ev, h2.events.StreamReset):
            r["reset"] = ev.error_code
        elif isinstance(ev, h2.events.ConnectionTerminated):
            self.goaway = ev.error_code
        elif isinstance(ev, h2.events.PingAckReceived):
            self.pings += 1

    def start(self, action, body, headers=(), end=True):
        sid = self.conn.get_next_available_stream_id()
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs = [(":method", "POST"), (":scheme", "https"), (":authority", "localhost"), (":path", "/"),
                ("x-amz-target", f"Kinesis_20131202.{action}"), ("content-type", JSON),
                ("content-length", str(len(payload))), *headers]
        self.conn.send_headers(sid, hdrs)
        if end:
            self.send_body(sid, payload)
        self.flush()
        return sid

    def send_body(self, sid, payload):
        """Sends `payload` in frames of the peer's max frame size, as the windows allow."""
        off = 0
        while off < len(payload):
            window = min(self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size)
            if window == 0:
                self.pump(lambda: self.conn.local_flow_control_window(sid) > 0, deadline=20)
                continue
            chunk = payload[off:off + window]
            self.conn.send_data(sid, chunk)
            off += len(chunk)
            self.flush()
        self.conn.end_stream(sid)
        self.flush()

    def call(self, action, body, headers=()):
        sid = self.start(action, body, headers)
        self.pump(lambda: self.responses.get(sid, {}).get("ended") or self.responses.get(sid, {}).get("reset") is not None)
        r = self.responses.get(sid, {})
        data = r.get("data", b"")
        return r.get("status"), r.get("headers", {}), json.loads(data) if data else None

    def close(self):
        try:
            self.conn.close_connection()
            self.flush()
        except Exception:  # noqa: BLE001 - the server may be gone already
            pass
        self.sock.close()


def events_in(data):
    """Decodes AWS event-stream messages: [(headers, payload dict)] and the rest."""
    out = []
    while len(data) >= 12:
        total, hlen, _ = struct.unpack(">III", data[:12])
        if len(data) < total:
            break
        msg, data = data[:total], data[total:]
        headers, p = {}, 12
        while p < 12 + hlen:
            nlen = msg[p]
            name = msg[p + 1:p + 1 + nlen].decode()
            p += 1 + nlen
            vlen = struct.unpack(">H", msg[p + 1:p + 3])[0]
            headers[name] = msg[p + 3:p + 3 + vlen].decode()
            p += 3 + vlen
        out.append((headers, json.loads(msg[12 + hlen:-4])))
    return out, data


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def setup_stream(c, name, shards=1):
    """A stream and an ACTIVE consumer (over h2): returns the consumer ARN."""
    status, _, _ = c.call("CreateStream", {"StreamName": name, "ShardCount": shards})
    checks.eq(status, 200, f"CreateStream {name} over h2")
    for _ in range(400):
        _, _, d = c.call("DescribeStreamSummary", {"StreamName": name})
        if d["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE":
            break
        time.sleep(0.01)
    arn = f"arn:aws:kinesis:us-east-1:000000000000:stream/{name}"
    _, _, reg = c.call("RegisterStreamConsumer", {"StreamARN": arn, "ConsumerName": "h2"})
    carn = reg["Consumer"]["ConsumerARN"]
    for _ in range(400):
        _, _, d = c.call("DescribeStreamConsumer", {"ConsumerARN": carn})
        if d["ConsumerDescription"]["ConsumerStatus"] == "ACTIVE":
            break
        time.sleep(0.01)
    return carn


def subscribe_body(carn, shard="shardId-000000000000", position=None):
    return {"ConsumerARN": carn, "ShardId": shard, "StartingPosition": position or {"Type": "TRIM_HORIZON"}}


# ------------------------------------------------------------------ scenarios

def scenario_curl(srv):
    out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_version} %{http_code}",
                          "--http2-prior-knowledge", "-X", "POST", "-H", "X-Amz-Target: Kinesis_20131202.ListStreams",
                          "-H", f"Content-Type: {JSON}", "-d", "{}", srv.url + "/"],
                         capture_output=True, text=True, timeout=30)
    checks.eq(out.stdout, "2 200", "curl --http2-prior-knowledge ListStreams: HTTP/2 200")
    https = srv.tls_url.replace("127.0.0.1", "localhost")
    out = subprocess.run(["curl", "-sS", "-w", " %{http_version} %{http_code}", "--http2", "--cacert", srv.ca_file,
                          "-X", "POST", "-H", "X-Amz-Target: Kinesis_20131202.ListStreams",
                          "-H", f"Content-Type: {JSON}", "-d", "{}", https + "/"],
                         capture_output=True, text=True, timeout=30)
    checks.ok(out.stdout.endswith(" 2 200") and "StreamNames" in out.stdout,
              f"curl --http2 --cacert over https (localhost): HTTP/2 200, got {out.stdout!r} {out.stderr!r}")
    out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", "--http1.1",
                          "--cacert", srv.ca_file, srv.tls_url + "/healthcheck"],
                         capture_output=True, text=True, timeout=30)
    checks.eq(out.stdout, "1.1 200", "curl --http1.1 over https (127.0.0.1 in the certificate)")
    out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", srv.url + "/healthcheck"],
                         capture_output=True, text=True, timeout=30)
    checks.eq(out.stdout, "200", "HTTP/1.1 on the http port as before")


def scenario_tls_protocols(srv):
    c = H2("127.0.0.1", srv.tls_port, tls_ca=srv.ca_file, alpn=("h2", "http/1.1"))
    checks.eq(c.alpn, "h2", "ALPN picks h2 when offered with http/1.1")
    status, headers, body = c.call("ListStreams", {})
    checks.eq(status, 200, "ListStreams over h2 (ALPN)")
    checks.ok(all(k == k.lower() for k in headers), f"response header names are lower-case: {list(headers)}")
    checks.ok("x-amzn-requestid" in headers and "content-length" in headers, "x-amzn-requestid and content-length")
    c.close()
    # The AWS SDK for Java before 2.30.5: TLS without ALPN, then the preface.
    c = H2("127.0.0.1", srv.tls_port, tls_ca=srv.ca_file, alpn=None)
    checks.eq(c.alpn, None, "no ALPN negotiated")
    status, _, body = c.call("ListStreams", {})
    checks.eq(status, 200, "the HTTP/2 preface inside TLS without ALPN is served as HTTP/2")
    c.close()
    # ALPN http/1.1 only: HTTP/1.1 over TLS.
    ctx = ssl.create_default_context(cafile=srv.ca_file)
    ctx.set_alpn_protocols(["http/1.1"])
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", srv.tls_port), timeout=10),
                         server_hostname="localhost") as s:
        checks.eq(s.selected_alpn_protocol(), "http/1.1", "ALPN http/1.1 when only that is offered")
        s.sendall(b"GET /healthcheck HTTP/1.1\r\nHost: localhost\r\n\r\n")
        checks.ok(s.recv(4096).startswith(b"HTTP/1.1 200"), "HTTP/1.1 over TLS")
    # TLS 1.1 is refused by the server (the client allows it at security level 0).
    out = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{srv.tls_port}", "-tls1_1",
                          "-cipher", "DEFAULT@SECLEVEL=0", "-CAfile", srv.ca_file],
                         input="", capture_output=True, text=True, timeout=30)
    checks.ok(out.returncode != 0 and ("alert" in out.stderr or "Cipher is (NONE)" in out.stdout),
              f"TLS 1.1 is refused: rc {out.returncode} {out.stderr[-200:]!r}")
    ctx = ssl.create_default_context(cafile=srv.ca_file)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_alpn_protocols(["h2"])
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", srv.tls_port), timeout=10),
                         server_hostname="localhost") as s:
        checks.ok(s.version() == "TLSv1.2" and s.selected_alpn_protocol() == "h2",
                  f"TLS 1.2 with ALPN h2 verifies against the CA ({s.version()})")


def scenario_big_body_and_limits(srv):
    c = H2("127.0.0.1", srv.port)
    c.call("CreateStream", {"StreamName": "big", "ShardCount": 1})
    for _ in range(400):
        _, _, d = c.call("DescribeStreamSummary", {"StreamName": "big"})
        if d["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE":
            break
        time.sleep(0.01)
    # 10 MiB of records (10 x (1 MiB - 16 bytes) plus keys): 13.4 MiB of JSON.
    rec = base64.b64encode(b"x" * ((1 << 20) - 16)).decode()
    body = json.dumps({"StreamName": "big", "Records": [{"Data": rec, "PartitionKey": f"k{i}"} for i in range(10)]}).encode()
    sid = c.start("PutRecords", body, end=False)
    frames_before = c.conn.outbound_flow_control_window
    c.send_body(sid, body)
    c.pump(lambda: c.responses.get(sid, {}).get("ended"), deadline=60)
    r = c.responses.get(sid, {})
    checks.eq(r.get("status"), 200, f"a {len(body) >> 20} MiB PutRecords body over many DATA frames")
    checks.ok(len(body) // c.conn.max_outbound_frame_size > 100, "it took more than 100 DATA frames")
    checks.ok(frames_before >= 10 << 20, f"the server's connection window takes it without waiting ({frames_before})")
    if r.get("data"):
        checks.eq(json.loads(r["data"]).get("FailedRecordCount"), 0, "every record stored")
    # A header block over 16 KiB: 431, and the connection goes on.
    status, _, body = c.call("ListStreams", {}, headers=[("x-padding", "p" * 20000)])
    checks.eq(status, 431, "a 20 KiB header block is answered 431")
    status, _, _ = c.call("ListStreams", {})
    checks.eq(status, 200, "the connection goes on after a 431")
    c.conn.ping(b"12345678")
    c.flush()
    checks.ok(c.pump(lambda: c.pings > 0, deadline=10), "PING answered")
    # SETTINGS the server announced.
    remote = c.conn.remote_settings
    checks.ok(remote.max_concurrent_streams >= 500, f"MAX_CONCURRENT_STREAMS {remote.max_concurrent_streams} >= 500")
    checks.ok(remote.initial_window_size >= 10 << 20, f"INITIAL_WINDOW_SIZE {remote.initial_window_size} >= 10 MiB")
    c.close()


def scenario_authority_signs(binary):
    with harness.Server(binary, "--access-key", "AKIDH2", "--secret-key", "h2secret") as srv:
        creds = botocore.credentials.Credentials("AKIDH2", "h2secret")
        for authority, want in ((f"127.0.0.1:{srv.port}", 200), ("elsewhere:1", 400)):
            req = botocore.awsrequest.AWSRequest(method="POST", url=f"http://127.0.0.1:{srv.port}/", data=b"{}",
                                                 headers={"X-Amz-Target": "Kinesis_20131202.ListStreams",
                                                          "Content-Type": JSON})
            botocore.auth.SigV4Auth(creds, "kinesis", "us-east-1").add_auth(req)
            c = H2("127.0.0.1", srv.port)
            sid = c.conn.get_next_available_stream_id()
            hdrs = [(":method", "POST"), (":scheme", "http"), (":authority", authority), (":path", "/")]
            hdrs += [(k.lower(), v) for k, v in req.headers.items() if k.lower() != "host"]
            c.conn.send_headers(sid, hdrs)
            c.conn.send_data(sid, b"{}", end_stream=True)
            c.flush()
            c.pump(lambda: c.responses.get(sid, {}).get("ended"))
            checks.eq(c.responses.get(sid, {}).get("status"), want,
                      f"SigV4 over h2 with :authority {authority} (signed for 127.0.0.1:{srv.port})")
            c.close()
        checks.eq(srv.stop(), 0, "server with signatures exits 0")


def scenario_flow_control(srv):
    c = H2("127.0.0.1", srv.port)
    carn = setup_stream(c, "flow")
    # A subscriber that never sends WINDOW_UPDATE: a 1 KiB stream window.
    sub = H2("127.0.0.1", srv.port, window=1024)
    sid = sub.start("SubscribeToShard", subscribe_body(carn))
    sub.pump(lambda: sub.responses.get(sid, {}).get("status") is not None)
    checks.eq(sub.responses[sid]["status"], 200, "SubscribeToShard over h2: 200")
    checks.eq(sub.responses[sid]["headers"].get("content-type"), "application/vnd.amazon.eventstream",
              "event stream content type")
    checks.ok("content-length" not in sub.responses[sid]["headers"], "no content-length on the event stream")
    rec = base64.b64encode(b"y" * ((1 << 20) - 64)).decode()
    n = 96

    def put_and_measure(stream):
        """Puts n records of 1 MiB into `stream`; the server's RSS growth in MiB
        (its peak over the puts and 2 s after, the time a pump without a
        bound would take to read the shard into memory)."""
        rss0 = rss_kib(srv.proc.pid)
        peak = rss0
        for i in range(n):
            status, _, _ = c.call("PutRecord", {"StreamName": stream, "Data": rec, "PartitionKey": f"k{i}"})
            if status != 200:
                checks.eq(status, 200, f"PutRecord {i} into {stream}")
                break
        end = time.monotonic() + 2
        while time.monotonic() < end:
            sub.pump(lambda: False, deadline=0.1)
            peak = max(peak, rss_kib(srv.proc.pid))
        return (peak - rss0) >> 10

    # The same puts into a stream nobody subscribes to, first: what storing
    # them costs this build (sanitizers and their allocators included).
    c.call("CreateStream", {"StreamName": "flow-base", "ShardCount": 1})
    for _ in range(400):
        _, _, d = c.call("DescribeStreamSummary", {"StreamName": "flow-base"})
        if d["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE":
            break
        time.sleep(0.01)
    base = put_and_measure("flow-base")
    growth = put_and_measure("flow")
    got = len(sub.responses[sid]["data"])
    checks.ok(got <= 1024, f"the stalled subscriber got no more than its window: {got} bytes")
    # An unbounded queue would hold the records' JSON again (4/3 n MiB on
    # top of the n the store keeps); the bound allows one event (<= 10 MiB).
    checks.ok(growth < base * 1.25 + 32,
              f"server memory grew {growth} MiB for {n} MiB of records behind a stalled subscriber, "
              f"{base} MiB without one (bounded queue)")
    # Open the window: the subscription resumes from where it paused.
    sub.auto_ack = True
    sub.conn.increment_flow_control_window(64 << 20)
    sub.conn.increment_flow_control_window(64 << 20, stream_id=sid)
    sub.conn.acknowledge_received_data(got, sid)
    sub.flush()
    records = []
    done = [0]  # bytes of the stream already decoded

    def enough():
        data = sub.responses[sid]["data"]
        evs, rest = events_in(data[done[0]:])
        done[0] = len(data) - len(rest)
        records.extend(r for h, p in evs if h.get(":event-type") == "SubscribeToShardEvent" for r in p.get("Records", []))
        return len(records) >= 3

    checks.ok(sub.pump(enough, deadline=60), f"records flow once the window opens ({len(records)} so far)")
    sub.close()
    c.close()
    return carn


def scenario_nghttp(srv, carn):
    if not shutil.which("nghttp"):
        checks.ok(False, "nghttp (nghttp2-client) is installed")
        return
    c = H2("127.0.0.1", srv.port)
    c.call("PutRecord", {"StreamName": "flow", "Data": base64.b64encode(b"tiny").decode(), "PartitionKey": "t",
                         "ExplicitHashKey": "0"})
    c.close()
    body = json.dumps(subscribe_body(carn, position={"Type": "LATEST"})).encode()
    # Tiny windows: 2^10 for the stream, 2^16 for the connection. The
    # subscription lives 5 minutes; nghttp stops after its timeout.
    for _ in range(60):  # the previous subscription of this consumer may still hold the slot
        path = os.path.join(srv.tls_dir or "/tmp", "sub.json")
        with open(path, "wb") as f:
            f.write(body)
        # It would read for the subscription's 5 minutes: stop it after 4 s.
        proc = subprocess.Popen(["nghttp", "-n", "-w", "10", "-W", "16", "-d", path,
                                 "-H", "x-amz-target: Kinesis_20131202.SubscribeToShard", "-H", f"content-type: {JSON}",
                                 "-v", srv.url + "/"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            raw, _ = proc.communicate(timeout=4)
        except subprocess.TimeoutExpired:
            proc.terminate()
            raw, _ = proc.communicate()
        text = raw.decode(errors="replace")
        if ":status: 200" in text or "ResourceInUse" not in text:
            break
        time.sleep(0.1)
    checks.ok(":status: 200" in text, "nghttp -w 10 -W 16: SubscribeToShard 200")
    sizes = [int(line.split("length=")[1].split(",")[0]) for line in text.splitlines()
             if "recv DATA frame" in line and "length=" in line]
    checks.ok(len(sizes) >= 2 and max(sizes) <= 1024,
              f"nghttp received the event stream in DATA frames within its 1 KiB window: {sizes[:8]}")
    checks.ok("send WINDOW_UPDATE" in text, "and opened its window as it read")


def scenario_floods(srv):
    # Rapid Reset: HEADERS then RST_STREAM, thousands of times.
    c = H2("127.0.0.1", srv.port)
    for i in range(3000):
        sid = c.conn.get_next_available_stream_id()
        c.conn.send_headers(sid, [(":method", "POST"), (":scheme", "http"), (":authority", "x"), (":path", "/"),
                                  ("x-amz-target", "Kinesis_20131202.ListStreams"), ("content-type", JSON)])
        c.conn.reset_stream(sid, h2.errors.ErrorCodes.CANCEL)
        if i % 100 == 0:
            try:
                c.flush()
            except OSError:
                break
    try:
        c.flush()
    except OSError:
        pass
    c.pump(lambda: c.goaway is not None, deadline=10)
    # nghttp2's Rapid Reset limit says INTERNAL_ERROR.
    checks.ok(c.goaway not in (None, 0), f"a RST_STREAM flood gets GOAWAY with an error (code {c.goaway})")
    c.sock.close()
    other = H2("127.0.0.1", srv.port)
    checks.eq(other.call("ListStreams", {})[0], 200, "the server answers others after a RST_STREAM flood")
    other.close()
    # CONTINUATION flood: a header block that never ends.
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + struct.pack(">I", 0)[1:] + b"\x04\x00" + struct.pack(">I", 0))
    block = hpack.Encoder().encode([(":method", "POST"), (":scheme", "http"), (":path", "/"), (":authority", "x")])

    def frame(ftype, flags, sid, payload):
        return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", sid) + payload

    data = frame(1, 0, 1, block)  # HEADERS without END_HEADERS
    goaway = None
    try:
        for i in range(5000):
            data += frame(9, 0, 1, hpack.Encoder().encode([(f"x-h{i}", "v")]) if i < 3 else b"")
            if len(data) > 8192:
                s.sendall(data)
                data = b""
        s.sendall(data)
    except OSError:
        pass
    buf = b""
    end = time.monotonic() + 10
    while time.monotonic() < end:
        try:
            chunk = s.recv(65536)
        except (OSError, socket.timeout):
            break
        if not chunk:
            break
        buf += chunk
    p = 0
    while p + 9 <= len(buf):
        length = int.from_bytes(buf[p:p + 3], "big")
        if buf[p + 3] == 7 and p + 17 <= len(buf):
            goaway = struct.unpack(">I", buf[p + 13:p + 17])[0]
        p += 9 + length
    s.close()
    checks.ok(goaway is not None and goaway != 0, f"a CONTINUATION flood gets GOAWAY with an error (code {goaway})")
    other = H2("127.0.0.1", srv.port)
    checks.eq(other.call("ListStreams", {})[0], 200, "the server answers others after a CONTINUATION flood")
    other.close()
    checks.ok(srv.proc.poll() is None, "the server is still running")


def frames_of(buf):
    """Complete raw frames at the front of buf: [(type, flags, stream, payload)], rest."""
    out, p = [], 0
    while p + 9 <= len(buf):
        length = int.from_bytes(buf[p:p + 3], "big")
        if p + 9 + length > len(buf):
            break
        out.append((buf[p + 3], buf[p + 4], int.from_bytes(buf[p + 5:p + 9], "big") & 0x7fffffff,
                    buf[p + 9:p + 9 + length]))
        p += 9 + length
    return out, buf[p:]


def raw_subscribe(port, body):
    """A raw HTTP/2 client (python-h2 treats GOAWAY as the end of everything,
    which the frames after a graceful GOAWAY are not): preface, large
    windows, one SubscribeToShard request. Returns the socket."""
    s = socket.create_connection(("127.0.0.1", port), timeout=20)

    def frame(ftype, flags, sid, payload):
        return len(payload).to_bytes(3, "big") + bytes([ftype, flags]) + sid.to_bytes(4, "big") + payload

    payload = json.dumps(body).encode()
    block = hpack.Encoder().encode([(":method", "POST"), (":scheme", "http"), (":path", "/"), (":authority", "x"),
                                    ("x-amz-target", "Kinesis_20131202.SubscribeToShard"), ("content-type", JSON)])
    s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0, struct.pack(">HI", 4, 1 << 30)) +
              frame(8, 0, 0, struct.pack(">I", 1 << 30)) + frame(1, 4, 1, block) + frame(0, 1, 1, payload))
    return s


def wait_closed(sock, deadline):
    """Seconds until the peer closed the connection (None if it did not)."""
    t0 = time.monotonic()
    sock.settimeout(deadline)
    try:
        while sock.recv(65536):
            pass
    except (socket.timeout, TimeoutError):
        return None
    except OSError:
        pass
    return time.monotonic() - t0


def scenario_idle_and_shutdown(binary):
    with harness.Server(binary, "--idle-timeout", "300", "--create-delay", "0") as srv:
        c = H2("127.0.0.1", srv.port)
        carn = setup_stream(c, "idle")
        c.close()
        idle = H2("127.0.0.1", srv.port)
        checks.eq(idle.call("ListStreams", {})[0], 200, "a request on a fresh connection")
        took = wait_closed(idle.sock, 10)
        checks.ok(took is not None and took < 5, f"an idle HTTP/2 connection is closed after --idle-timeout ({took} s)")
        idle.sock.close()
        sub = raw_subscribe(srv.port, subscribe_body(carn))
        buf, frames = b"", []

        def read_until(cond, deadline):
            nonlocal buf
            end = time.monotonic() + deadline
            while not cond() and time.monotonic() < end:
                sub.settimeout(max(0.01, end - time.monotonic()))
                try:
                    chunk = sub.recv(65536)
                except (OSError, socket.timeout):
                    break
                if not chunk:
                    break
                got, buf = frames_of(buf + chunk)
                frames.extend(got)
            return cond()

        def data_on_1():
            return b"".join(p for t, _, sid, p in frames if t == 0 and sid == 1)

        checks.ok(read_until(lambda: len(events_in(data_on_1())[0]) >= 4, 15),
                  f"a subscription's stream keeps its connection past --idle-timeout "
                  f"({len(events_in(data_on_1())[0])} events)")
        # SIGTERM: GOAWAY, and the subscription ends with END_STREAM.
        srv.proc.send_signal(15)
        ended = lambda: any(t == 0 and sid == 1 and flags & 1 for t, flags, sid, _ in frames)  # noqa: E731
        goaway = lambda: [struct.unpack(">II", p[:8]) for t, _, _, p in frames if t == 7]  # noqa: E731
        read_until(lambda: ended() and goaway(), 15)
        checks.ok(goaway() and goaway()[0][1] == 0, f"GOAWAY NO_ERROR on shutdown: {goaway()}")
        checks.ok(ended() and not any(t == 3 for t, _, _, _ in frames),
                  "the subscription ends with END_STREAM, not RST_STREAM")
        sub.close()
        checks.eq(srv.stop(), 0, "tributary-server exits 0")


def scenario_stalled_subscriber_shutdown(binary):
    """A subscriber that never opens its window, with more queued for it than
    the stream's buffer: SIGTERM still ends the server (after its 10 s grace)."""
    with harness.Server(binary, "--create-delay", "0") as srv:
        c = H2("127.0.0.1", srv.port)
        carn = setup_stream(c, "stall")
        sub = H2("127.0.0.1", srv.port, window=1024)
        sid = sub.start("SubscribeToShard", subscribe_body(carn))
        sub.pump(lambda: sub.responses.get(sid, {}).get("status") is not None)
        rec = base64.b64encode(b"z" * ((1 << 20) - 64)).decode()
        for i in range(3):
            c.call("PutRecord", {"StreamName": "stall", "Data": rec, "PartitionKey": f"k{i}"})
        c.close()
        sub.pump(lambda: False, deadline=1)  # the pump fills the stream's buffer meanwhile
        t0 = time.monotonic()
        code = srv.stop(timeout=40)
        checks.eq(code, 0, "SIGTERM ends a server whose subscriber never opens its window")
        checks.ok(time.monotonic() - t0 < 30, f"within the shutdown grace ({time.monotonic() - t0:.1f} s)")
        sub.sock.close()


def main():
    binary = harness.server_binary()
    harness.use_dummy_credentials()
    with harness.Server(binary, "--create-delay", "0", "--update-delay", "0", "--delete-delay", "0", tls=True) as srv:
        checks.run(scenario_curl, srv)
        checks.run(scenario_tls_protocols, srv)
        checks.run(scenario_big_body_and_limits, srv)
        carn = []
        checks.run(lambda: carn.append(scenario_flow_control(srv)))
        if carn:
            checks.run(scenario_nghttp, srv, carn[0])
        checks.run(scenario_floods, srv)
        checks.eq(srv.stop(), 0, "tributary-server exits 0 on SIGTERM")
    checks.run(scenario_authority_signs, binary)
    checks.run(scenario_idle_and_shutdown, binary)
    checks.run(scenario_stalled_subscriber_shutdown, binary)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
