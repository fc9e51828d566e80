#!/usr/bin/env python3
"""tributary-server with CBOR requests (application/x-amz-cbor-1.1) built with
cbor2 (Debian python3-cbor2), as the AWS SDK for Java sends them: byte-string
Data, timestamps as tag 1 wrapping integer epoch milliseconds, and CBOR error
bodies. Also malformed and hostile CBOR.

Usage: cbor_test.py PATH/TO/tributary-server
"""

import http.client
import io
import sys
import time

import cbor2
import cbor2.decoder

import harness

checks = harness.Checks("cbor")
CBOR = "application/x-amz-cbor-1.1"

# The pure-Python decoder without its tag-1 handler: cbor2 reads tag 1 as
# epoch *seconds* (RFC 8949), while the AWS CBOR protocol carries epoch
# milliseconds, so keep tag 1 as a CBORTag and check the number ourselves.
cbor2.decoder.semantic_decoders.pop(1, None)
PyCBORTag = cbor2.decoder.CBORTag  # the pure decoder's class (cbor2.CBORTag may be the C one)


def loads(body):
    return cbor2.decoder.CBORDecoder(io.BytesIO(body)).decode()


class Conn:
    def __init__(self, server):
        self.c = http.client.HTTPConnection(server.host, server.port, timeout=30)

    def raw(self, action, body, content_type=CBOR):
        self.c.request("POST", "/", body=body, headers={
            "Content-Type": content_type, "X-Amz-Target": f"Kinesis_20131202.{action}",
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDTRIBUTARYTEST/20240101/us-east-1/kinesis/aws4_request"})
        r = self.c.getresponse()
        return r.status, r.getheader("Content-Type"), r.read()

    def call(self, action, params):
        status, ctype, body = self.raw(action, cbor2.dumps(params))
        checks.eq(ctype, CBOR, f"{action}: response Content-Type")
        return status, loads(body) if body else None


def scenario(server):
    c = Conn(server)
    status, out = c.call("CreateStream", {"StreamName": "cb", "ShardCount": 1})
    checks.eq((status, out), (200, {}), "CreateStream over CBOR")
    status, out = c.call("DescribeStreamSummary", {"StreamName": "cb"})
    checks.eq(status, 200, "DescribeStreamSummary over CBOR")
    created = out["StreamDescriptionSummary"]["StreamCreationTimestamp"]
    checks.ok(isinstance(created, PyCBORTag) and created.tag == 1 and isinstance(created.value, int),
              f"timestamps are tag 1 + integer ({created!r})")
    now_ms = int(time.time() * 1000)
    checks.ok(abs(created.value - now_ms) < 60_000, "the tag-1 integer is epoch milliseconds")

    payload = bytes(range(256)) * 4
    status, out = c.call("PutRecord", {"StreamName": "cb", "PartitionKey": "k", "Data": payload})
    checks.eq(status, 200, "PutRecord with a byte-string Data")
    first_seq = out["SequenceNumber"]
    status, out = c.call("PutRecords", {"StreamName": "cb", "Records": [
        {"PartitionKey": f"k{i}", "Data": f"rec {i}".encode()} for i in range(10)]})
    checks.eq((status, out["FailedRecordCount"], len(out["Records"])), (200, 0, 10), "PutRecords over CBOR")

    # AT_TIMESTAMP with tag 1 + epoch millis, as the Java SDK sends it.
    status, out = c.call("GetShardIterator", {
        "StreamName": "cb", "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP",
        "Timestamp": cbor2.CBORTag(1, now_ms - 60_000)})
    checks.eq(status, 200, "GetShardIterator AT_TIMESTAMP (tag 1, epoch ms)")
    status, out = c.call("GetRecords", {"ShardIterator": out["ShardIterator"], "Limit": 100})
    checks.eq(status, 200, "GetRecords over CBOR")
    recs = out["Records"]
    checks.eq(len(recs), 11, "every record read back")
    checks.eq(recs[0]["Data"], payload, "Data comes back as a byte string, intact")
    checks.eq(recs[0]["SequenceNumber"], first_seq, "SequenceNumber")
    ts = recs[0]["ApproximateArrivalTimestamp"]
    checks.ok(isinstance(ts, PyCBORTag) and ts.tag == 1 and abs(ts.value - now_ms) < 60_000,
              "ApproximateArrivalTimestamp is tag 1 + epoch ms")
    checks.ok(isinstance(out["MillisBehindLatest"], int), "MillisBehindLatest")

    # Untagged millis are accepted too; a timestamp in the future is
    # InvalidArgumentException, as in Kinesis (observed).
    status, out = c.call("GetShardIterator", {
        "StreamName": "cb", "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP",
        "Timestamp": now_ms + 3_600_000})
    checks.eq((status, out.get("__type")), (400, "InvalidArgumentException"),
              "untagged epoch-ms timestamp in the future")

    # Errors come back as CBOR maps with __type and message.
    status, out = c.call("DescribeStream", {"StreamName": "missing"})
    checks.eq(status, 400, "ResourceNotFound over CBOR: 400")
    checks.eq(out["__type"], "ResourceNotFoundException", "ResourceNotFound __type in CBOR")
    checks.ok("missing" in out["message"], "the message names the stream")
    status, out = c.call("PutRecord", {"StreamName": "cb", "PartitionKey": "k", "Data": 42})
    checks.eq((status, out["__type"]), (400, "SerializationException"), "Data of the wrong CBOR type")
    status, out = c.call("PutRecord", {"StreamName": "cb", "Data": b"x"})
    checks.eq((status, out["__type"]), (400, "ValidationException"), "missing PartitionKey")
    status, out = c.call("NoSuchAction", {})
    checks.eq((status, out["__type"]), (400, "UnknownOperationException"), "unknown action over CBOR")

    # Malformed and hostile bodies: answered, never fatal.
    for name, body in [
        ("truncated map", b"\xa2\x6aStreamName"),
        ("not a map", cbor2.dumps([1, 2, 3])),
        ("trailing bytes", cbor2.dumps({"StreamName": "cb"}) + b"\x00"),
        ("an array declaring 2^32 items", b"\xa1\x67Records\x9a\xff\xff\xff\xff"),
        ("a map declaring 2^60 pairs", b"\xbb\x10\x00\x00\x00\x00\x00\x00\x00"),
        ("a byte string longer than the body", b"\xa1\x64Data\x5a\x7f\xff\xff\xff"),
        ("100,000 nested arrays", b"\x81" * 100_000 + b"\x00"),
        ("invalid UTF-8 in a text string", b"\xa1\x6aStreamName\x62\xff\xfe"),
        ("reserved additional info", b"\xa1\x6aStreamName\x1c"),
    ]:
        status, ctype, raw = c.raw("DescribeStream", body)
        decoded = loads(raw) if ctype == CBOR and raw else {}
        checks.ok(status == 400 and decoded.get("__type") in ("SerializationException",),
                  f"{name}: SerializationException ({status} {decoded})")
    status, out = c.call("DescribeStreamSummary", {"StreamName": "cb"})
    checks.eq(status, 200, "the server still answers after hostile CBOR")


def main():
    binary = harness.server_binary()
    harness.use_dummy_credentials()
    with harness.Server(binary, "--create-delay", "0") as srv:
        checks.run(scenario, srv)
        checks.eq(srv.stop(), 0, "tributary-server exits 0 on SIGTERM")
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
