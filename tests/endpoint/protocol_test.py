#!/usr/bin/env python3
"""tributary-server's wire protocol and HTTP behaviour with raw requests:
error shapes for unknown operations, malformed and mistyped JSON, content
types; keep-alive, pipelining, many concurrent connections, 100-continue,
body cap, slow and abandoned connections, malformed HTTP, graceful shutdown.

Usage: protocol_test.py PATH/TO/tributary-server
"""

import base64
import http.client
import json

import cbor2
import socket
import sys
import tempfile
import threading

import harness

checks = harness.Checks("protocol")
JSON = "application/x-amz-json-1.1"


def post(conn, action, body, content_type=JSON, target_prefix="Kinesis_20131202."):
    headers = {"Content-Type": content_type}
    if action is not None:
        headers["X-Amz-Target"] = target_prefix + action
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    conn.request("POST", "/", body=body, headers=headers)
    r = conn.getresponse()
    raw = r.read()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return r, parsed


def expect_error(conn, what, etype, action, body, content_type=JSON, status=400, key="message", **kw):
    """The error as AWS writes it: `key` is the message's key ("message", or
    "Message" for SerializationException's type errors), None where AWS
    sends no message (UnknownOperationException, a body that does not parse)."""
    r, out = post(conn, action, body, content_type, **kw)
    checks.eq((r.status, (out or {}).get("__type")), (status, etype), what)
    if key is None:
        checks.eq(sorted((out or {}).keys()), ["__type"], f"{what}: no message")
    else:
        checks.ok(isinstance((out or {}).get(key), str), f"{what}: has a {key}")
    checks.eq(r.getheader("x-amzn-ErrorType"), etype, f"{what}: x-amzn-ErrorType header")
    return out


def raw_socket(server, timeout=10):
    s = socket.create_connection((server.host, server.port), timeout=timeout)
    return s


def recv_all(s, limit=1 << 20):
    data = b""
    while len(data) < limit:
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not chunk:
            break
        data += chunk
    return data


def scenario_errors(server):
    c = http.client.HTTPConnection(server.host, server.port, timeout=30)
    r, out = post(c, "CreateStream", {"StreamName": "p", "ShardCount": 1})
    # AWS answers an action without output with an empty body.
    checks.eq((r.status, out, r.getheader("Content-Length")), (200, None, "0"), "CreateStream")
    checks.eq(r.getheader("Content-Type"), JSON, "response Content-Type")
    ids = {r.getheader("x-amzn-RequestId")}
    # Observed AWS behaviour: UnknownOperationException and the
    # SerializationException of a body that does not parse carry no message.
    expect_error(c, "unknown action", "UnknownOperationException", "ListTables", {}, key=None)
    expect_error(c, "another service's target", "UnknownOperationException", "ListTables", {},
                 target_prefix="DynamoDB_20120810.", key=None)
    expect_error(c, "no X-Amz-Target", "UnknownOperationException", None, {}, key=None)
    out = expect_error(c, "SubscribeToShard without members", "ValidationException", "SubscribeToShard", {})
    checks.ok("consumerARN" in out["message"], "the message names the missing member")
    expect_error(c, "malformed JSON", "SerializationException", "DescribeStream", '{"StreamName": "p",', key=None)
    expect_error(c, "a JSON array body", "SerializationException", "DescribeStream", "[1,2]", key=None)
    expect_error(c, "an empty body", "SerializationException", "DescribeStream", "", key=None)
    expect_error(c, "invalid UTF-8", "SerializationException", "DescribeStream", b'{"StreamName": "\xff\xfe"}',
                 key=None)
    expect_error(c, "JSON nested 100,000 deep", "SerializationException", "DescribeStream", "[" * 100_000,
                 key=None)
    # A member of the wrong type: SerializationException with AWS's
    # message under a capital-M "Message".
    out = expect_error(c, "a string where an integer goes", "SerializationException", "CreateStream",
                       {"StreamName": "q", "ShardCount": "two"}, key="Message")
    checks.eq(out.get("Message"), "class java.lang.String can not be converted to an Integer",
              "AWS's message for a string where an integer goes")
    expect_error(c, "a number where a string goes", "SerializationException", "DescribeStream", {"StreamName": 5},
                 key="Message")
    # AWS saturates an integer beyond 32 bits, then checks the range.
    out = expect_error(c, "an integer too large for 32 bits", "ValidationException", "CreateStream",
                       {"StreamName": "q", "ShardCount": 2**40})
    checks.eq(out.get("message"), "1 validation error detected: Value '2147483647' at 'shardCount' failed to "
              "satisfy constraint: Member must have value less than or equal to 100000",
              "an integer too large for 32 bits: AWS's message")
    # ... and drops a fraction.
    r, out = post(c, "DescribeStream", {"StreamName": "p", "Limit": 1.5})
    checks.eq((r.status, len(out["StreamDescription"]["Shards"])), (200, 1), "a fractional integer is truncated")
    expect_error(c, "Data that is not base64", "SerializationException", "PutRecord",
                 {"StreamName": "p", "PartitionKey": "k", "Data": "@@@not base64@@@"}, key="Message")
    expect_error(c, "Records that is not a list", "SerializationException", "PutRecords",
                 {"StreamName": "p", "Records": {"Data": "eA=="}}, key="Message")
    expect_error(c, "Tags that is not a map of strings", "SerializationException", "AddTagsToStream",
                 {"StreamName": "p", "Tags": {"a": 1}}, key="Message")
    expect_error(c, "a missing required member", "ValidationException", "PutRecord",
                 {"StreamName": "p", "Data": "eA=="})
    expect_error(c, "a missing required member inside Records", "ValidationException", "PutRecords",
                 {"StreamName": "p", "Records": [{"Data": "eA==", "PartitionKey": "k"}, {"Data": "eA=="}]})
    # Observed AWS behaviour: a content type Kinesis does not serve is
    # answered in CBOR (the body, JSON text, is not a CBOR map).
    c.request("POST", "/", body=json.dumps({"StreamName": "p"}),
              headers={"Content-Type": "text/plain", "X-Amz-Target": "Kinesis_20131202.DescribeStream"})
    r = c.getresponse()
    raw = r.read()
    checks.eq((r.status, r.getheader("Content-Type"), cbor2.loads(raw)),
              (400, "application/x-amz-cbor-1.1", {"__type": "SerializationException"}),
              "an unsupported Content-Type: CBOR SerializationException")
    r, out = post(c, "DescribeStreamSummary", {"StreamName": "p"}, content_type=JSON + "; charset=utf-8")
    checks.eq(r.status, 200, "Content-Type with parameters")
    r, out = post(c, "DescribeStreamSummary", {"StreamName": "p", "UnknownMember": [1, {"x": None}]})
    checks.eq(r.status, 200, "unknown members are ignored")
    r, out = post(c, "DescribeStream", {"StreamName": "p", "Limit": None})
    checks.eq(r.status, 200, "null members count as absent")
    r, out = post(c, "PutRecord", {"StreamName": "p", "PartitionKey": "é" * 256, "Data": ""})
    checks.eq(r.status, 200, "256 two-byte characters are a valid partition key; empty Data is allowed")
    r, out = post(c, "GetShardIterator", {"StreamName": "p", "ShardId": "shardId-000000000000",
                                          "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": 1.5e9})
    checks.eq(r.status, 200, "a fractional epoch-seconds Timestamp")
    r2, recs = post(c, "GetRecords", {"ShardIterator": out["ShardIterator"]})
    rec = recs["Records"][0]
    checks.eq(base64.b64decode(rec["Data"]), b"", "empty Data round-trips")
    checks.ok(isinstance(rec["ApproximateArrivalTimestamp"], float), "ApproximateArrivalTimestamp is epoch seconds")
    ids.add(r.getheader("x-amzn-RequestId"))
    checks.eq(len(ids), 2, "x-amzn-RequestId differs per request")
    c.close()


def scenario_http(server):
    # Keep-alive: many requests, one socket.
    c = http.client.HTTPConnection(server.host, server.port, timeout=30)
    post(c, "DescribeLimits", {})
    sock = c.sock
    for i in range(200):
        r, _ = post(c, "PutRecord", {"StreamName": "p", "PartitionKey": f"k{i}", "Data": "eA=="})
        if r.status != 200:
            break
    checks.ok(c.sock is sock and sock is not None, "200 requests over one kept-alive connection")
    c.close()

    # Pipelining: two requests in one write, answered in order.
    s = raw_socket(server)
    body = json.dumps({"StreamName": "p"}).encode()
    req = (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\n"
           b"X-Amz-Target: Kinesis_20131202.DescribeStreamSummary\r\nContent-Length: %d\r\n\r\n%s")
    last = (b"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-amz-json-1.1\r\n"
            b"X-Amz-Target: Kinesis_20131202.DescribeLimits\r\nContent-Length: 2\r\n\r\n{}")
    s.sendall(req % (len(body), body) + last)
    data = recv_all(s)
    checks.eq(data.count(b"HTTP/1.1 200 OK"), 2, "two pipelined requests, two responses")
    checks.ok(data.find(b"StreamDescriptionSummary") < data.find(b"ShardLimit"), "answered in order")
    s.close()

    # Expect: 100-continue.
    s = raw_socket(server)
    s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\n"
              b"X-Amz-Target: Kinesis_20131202.DescribeLimits\r\nExpect: 100-continue\r\n"
              b"Connection: close\r\nContent-Length: 2\r\n\r\n")
    interim = s.recv(1024)
    checks.ok(interim.startswith(b"HTTP/1.1 100 Continue"), f"100 Continue before the body ({interim[:40]!r})")
    s.sendall(b"{}")
    data = recv_all(s)
    checks.ok(b"200 OK" in data and b"ShardLimit" in data, "then the response")
    s.close()

    # HTTP/1.0 without keep-alive: answered, then closed.
    s = raw_socket(server)
    s.sendall(b"POST / HTTP/1.0\r\nContent-Type: application/x-amz-json-1.1\r\n"
              b"X-Amz-Target: Kinesis_20131202.DescribeLimits\r\nContent-Length: 2\r\n\r\n{}")
    data = recv_all(s)
    checks.ok(data.startswith(b"HTTP/1.0 200 OK") and b"ShardLimit" in data, "HTTP/1.0 request answered and closed")
    s.close()

    # Other methods.
    c = http.client.HTTPConnection(server.host, server.port, timeout=30)
    c.request("GET", "/healthcheck")
    r = c.getresponse()
    checks.eq((r.status, r.read()), (200, b"ok\n"), "GET /healthcheck")
    # Observed AWS behaviour: GET (and PUT, DELETE) is a 403 with an XML
    # AccessDeniedException and no Content-Type.
    c.request("GET", "/")
    r = c.getresponse()
    checks.eq((r.status, r.read(), r.getheader("Content-Type")),
              (403, b"<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be "
                    b"authorized</Message>\n</AccessDeniedException>\n", None), "GET / is AWS's 403")
    c.request("OPTIONS", "/", headers={"Origin": "http://localhost", "Access-Control-Request-Headers": "x-amz-target",
                                       "Access-Control-Request-Method": "POST"})
    r = c.getresponse()
    checks.eq((r.status, r.read(), r.getheader("Access-Control-Allow-Origin"),
               r.getheader("Access-Control-Allow-Headers"), r.getheader("Access-Control-Allow-Methods"),
               r.getheader("Access-Control-Max-Age"), r.getheader("Content-Length"), r.getheader("x-amz-id-2")),
              (200, b"", "*", "x-amz-target", "POST", "172800", "0", None), "CORS preflight as AWS answers it")
    c.close()

    # Malformed HTTP: 400 and close.
    s = raw_socket(server)
    s.sendall(b"THIS IS NOT HTTP\r\n\r\n")
    data = recv_all(s)
    checks.ok(data.startswith(b"HTTP/1.1 400"), f"malformed HTTP is answered 400 ({data[:30]!r})")
    s.close()

    # Many concurrent connections, each keeping its connection alive.
    errors = []

    def worker(n):
        try:
            cc = http.client.HTTPConnection(server.host, server.port, timeout=30)
            for i in range(25):
                rr, _ = post(cc, "PutRecord", {"StreamName": "p", "PartitionKey": f"w{n}-{i}", "Data": "eQ=="})
                if rr.status != 200:
                    errors.append(rr.status)
            cc.close()
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(48)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    checks.eq(errors, [], "48 concurrent connections x 25 PutRecord")
    c = http.client.HTTPConnection(server.host, server.port, timeout=30)
    _, it = post(c, "GetShardIterator", {"StreamName": "p", "ShardId": "shardId-000000000000",
                                         "ShardIteratorType": "TRIM_HORIZON"})
    _, recs = post(c, "GetRecords", {"ShardIterator": it["ShardIterator"]})
    keys = [x["PartitionKey"] for x in recs["Records"]]
    checks.eq(sum(1 for k in keys if k.startswith("w")), 48 * 25, "every concurrent record was stored once")
    c.close()


def scenario_limits(binary):
    with harness.Server(binary, "--create-delay", "0", "--max-body-bytes", "65536",
                        "--idle-timeout", "300", "--body-timeout", "300") as srv:
        # A body over --max-body-bytes: 413 with a JSON error, then close.
        c = http.client.HTTPConnection(srv.host, srv.port, timeout=30)
        r, out = post(c, "PutRecord", json.dumps({"StreamName": "p", "PartitionKey": "k",
                                                   "Data": base64.b64encode(b"x" * 100_000).decode()}))
        checks.eq((r.status, (out or {}).get("__type")), (413, "SerializationException"), "body over the cap: 413")
        checks.ok("65536" in (out or {}).get("Message", ""), "the message names the limit")
        checks.eq(r.getheader("Connection"), "close", "the connection is closed after a 413")
        c.close()
        # The same with a chunked body (no Content-Length).
        s = raw_socket(srv)
        chunk = b"x" * 40_000
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/x-amz-json-1.1\r\n"
                  b"X-Amz-Target: Kinesis_20131202.PutRecord\r\n\r\n" + (b"%x\r\n%s\r\n" % (len(chunk), chunk)) * 2)
        data = recv_all(s)
        checks.ok(data.startswith(b"HTTP/1.1 413"), f"chunked body over the cap: 413 ({data[:20]!r})")
        s.close()
        # A client that stops in the middle of its header is cut off after --idle-timeout.
        s = raw_socket(srv, timeout=10)
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Le")
        checks.eq(recv_all(s), b"", "a stalled header is closed after the idle timeout")
        s.close()
        # A client that stops in the middle of its body is cut off after --body-timeout.
        s = raw_socket(srv, timeout=10)
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\n"
                  b"X-Amz-Target: Kinesis_20131202.DescribeLimits\r\nContent-Length: 100\r\n\r\n{\"a\":")
        checks.eq(recv_all(s), b"", "a stalled body is closed after the body timeout")
        s.close()
        # An idle kept-alive connection is closed after --idle-timeout too.
        s = raw_socket(srv, timeout=10)
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\n"
                  b"X-Amz-Target: Kinesis_20131202.DescribeLimits\r\nContent-Length: 2\r\n\r\n{}")
        data = recv_all(s)
        checks.ok(data.startswith(b"HTTP/1.1 200") and b"ShardLimit" in data,
                  "a kept-alive connection is answered, then closed when idle")
        s.close()
        c = http.client.HTTPConnection(srv.host, srv.port, timeout=30)
        r, _ = post(c, "DescribeLimits", {})
        checks.eq(r.status, 200, "the server still serves after all that")
        c.close()
        checks.eq(srv.stop(), 0, "exit 0 on SIGTERM")


def scenario_graceful_shutdown(binary):
    with harness.Server(binary, "--create-delay", "0") as srv:
        c = http.client.HTTPConnection(srv.host, srv.port, timeout=30)
        post(c, "CreateStream", {"StreamName": "g", "ShardCount": 1})
        idle = raw_socket(srv)  # a connected client that sends nothing
        busy = raw_socket(srv)  # a request whose body is still arriving
        body = json.dumps({"StreamName": "g", "PartitionKey": "k", "Data": "aGk="}).encode()
        busy.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\n"
                     b"X-Amz-Target: Kinesis_20131202.PutRecord\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:10])
        # Make sure the server has read the header before it is told to stop.
        c2 = http.client.HTTPConnection(srv.host, srv.port, timeout=30)
        post(c2, "DescribeLimits", {})
        srv.proc.send_signal(__import__("signal").SIGTERM)
        checks.eq(recv_all(idle), b"", "SIGTERM closes an idle connection")
        busy.sendall(body[10:])
        data = recv_all(busy)
        checks.ok(data.startswith(b"HTTP/1.1 200") and b"SequenceNumber" in data,
                  f"a request in flight at SIGTERM is still answered ({data[:40]!r})")
        checks.ok(b"Connection: close" in data, "... with Connection: close")
        checks.eq(srv.stop(), 0, "exit 0 after a graceful shutdown")
        for s in (idle, busy):
            s.close()
        c.close()
        c2.close()


def scenario_durable_restart(binary):
    """--data-dir: what was acknowledged before SIGTERM is there after a restart."""
    with tempfile.TemporaryDirectory() as tmp:
        storage = ("--data-dir", tmp)
        with harness.Server(binary, "--create-delay", "0", storage=storage) as srv:
            c = http.client.HTTPConnection(srv.host, srv.port, timeout=30)
            r, _ = post(c, "CreateStream", {"StreamName": "d", "ShardCount": 2})
            checks.eq(r.status, 200, "durable: CreateStream")
            r, out = post(c, "PutRecords", {"StreamName": "d", "Records": [
                {"PartitionKey": f"k{i}", "Data": base64.b64encode(f"v{i}".encode()).decode()} for i in range(100)]})
            checks.eq((r.status, out["FailedRecordCount"]), (200, 0), "durable: PutRecords")
            acked = sorted(x["SequenceNumber"] for x in out["Records"])
            c.close()
            checks.eq(srv.stop(), 0, "durable: exit 0 on SIGTERM")
        with harness.Server(binary, "--create-delay", "0", storage=storage) as srv:
            c = http.client.HTTPConnection(srv.host, srv.port, timeout=30)
            seen = []
            for shard in ("shardId-000000000000", "shardId-000000000001"):
                _, it = post(c, "GetShardIterator", {"StreamName": "d", "ShardId": shard,
                                                     "ShardIteratorType": "TRIM_HORIZON"})
                _, recs = post(c, "GetRecords", {"ShardIterator": it["ShardIterator"]})
                seen += [x["SequenceNumber"] for x in recs["Records"]]
            checks.eq(sorted(seen), acked, "durable: every acknowledged record is there after a restart")
            c.close()
            checks.eq(srv.stop(), 0, "durable: second run exits 0")


def main():
    binary = harness.server_binary()
    with harness.Server(binary, "--create-delay", "0") as srv:
        checks.run(scenario_errors, srv)
        checks.run(scenario_http, srv)
        checks.eq(srv.stop(), 0, "exit 0 on SIGTERM")
    checks.run(scenario_limits, binary)
    checks.run(scenario_graceful_shutdown, binary)
    checks.run(scenario_durable_restart, binary)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
