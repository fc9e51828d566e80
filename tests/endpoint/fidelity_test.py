#!/usr/bin/env python3
"""tributary-server answers as Amazon Kinesis does, byte for byte, with raw
HTTP requests: the front door's order and bodies (AWS's observed answers,
as kinesalite's suite records them and docs/ENDPOINT.md "Protocol" and
"Signatures" describe), request validation's messages, error precedence,
Kinesis' sequence-number layout and its messages, shard-id leniency, tag
characters, AT_TIMESTAMP in the future, and UpdateShardCount's totals.

Each check names the AWS behaviour it follows: "observed" is an answer of
the real service (kinesalite's test suite records them; moto's tests for
UpdateShardCount); "API reference" the Kinesis API reference.

Usage: fidelity_test.py PATH/TO/tributary-server
"""

import base64
import http.client
import json
import re
import sys
import time

import cbor2

import harness

checks = harness.Checks("fidelity")
JSON = "application/x-amz-json-1.1"
CBOR = "application/x-amz-cbor-1.1"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ACCOUNT = "000000000000"


def request(srv, method="POST", path="/", headers=None, body=b""):
    c = http.client.HTTPConnection(srv.host, srv.port, timeout=30)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    raw = r.read()
    c.close()
    return r, raw


def call(srv, action, body, content_type=JSON, headers=None):
    h = {"Content-Type": content_type, "X-Amz-Target": "Kinesis_20131202." + action}
    h.update(headers or {})
    r, raw = request(srv, headers=h, body=json.dumps(body) if isinstance(body, dict) else body)
    return r, (json.loads(raw) if raw and r.getheader("Content-Type") == JSON else raw)


def expect(srv, what, action, body, status, want):
    r, out = call(srv, action, body)
    checks.eq((r.status, out), (status, want), what)
    return r


def common_headers(r, what, id2=True):
    checks.ok(UUID.match(r.getheader("x-amzn-RequestId") or ""), f"{what}: x-amzn-RequestId is a UUID")
    if id2:
        checks.ok(64 <= len(base64.b64decode(r.getheader("x-amz-id-2") or "")) <= 80,
                  f"{what}: x-amz-id-2 is 64-80 bytes of base64")
    else:
        checks.eq(r.getheader("x-amz-id-2"), None, f"{what}: no x-amz-id-2")


def scenario_front_door(srv):
    # Observed: GET/PUT/DELETE (the Query protocol Kinesis does not serve)
    # are a 403 XML AccessDeniedException without a Content-Type.
    xml = (b"<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be authorized"
           b"</Message>\n</AccessDeniedException>\n")
    for method in ("GET", "PUT", "DELETE"):
        r, raw = request(srv, method)
        checks.eq((r.status, raw, r.getheader("Content-Type")), (403, xml, None), f"{method} /")
        common_headers(r, method)
    # ... and so is a form-encoded POST (what aws4 signs a body without type as).
    r, raw = request(srv, headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, body=b"{}")
    checks.eq((r.status, raw), (403, xml), "a form-encoded POST")

    # Observed: no Content-Type, or one Kinesis does not serve: answered in CBOR.
    for ctype in (None, "application/x-amz-json-1.0", "application/x-amz-json-1.1asdf"):
        h = {} if ctype is None else {"Content-Type": ctype}
        r, raw = request(srv, headers=h)
        checks.eq((r.status, r.getheader("Content-Type"), cbor2.loads(raw)),
                  (400, CBOR, {"__type": "UnknownOperationException"}), f"POST with Content-Type {ctype}")
    r, raw = request(srv, headers={"X-Amz-Target": "Kinesis_20131202.ListStreams"})
    checks.eq((r.status, cbor2.loads(raw)), (400, {"__type": "SerializationException"}),
              "a valid target, no Content-Type, no body: CBOR SerializationException")

    # Observed: plain application/json is the deprecated protocol.
    r, raw = request(srv, headers={"Content-Type": "application/json",
                                   "X-Amz-Target": "Kinesis_20131202.ListStreams"}, body=b"{}")
    checks.eq((r.status, r.getheader("Content-Type"), json.loads(raw)),
              (404, "application/json",
               {"Output": {"__type": "com.amazon.coral.service#UnknownOperationException"}, "Version": "1.0"}),
              "application/json: the deprecated UnknownOperationException")
    r, raw = request(srv, headers={"Content-Type": "     application/json     ;",
                                   "X-Amz-Target": "Kinesis_20131202.ListStreams"}, body=b"hello")
    checks.eq((r.status, json.loads(raw)),
              (400, {"Output": {"__type": "com.amazon.coral.service#SerializationException"}, "Version": "1.0"}),
              "application/json with a body that is not JSON")

    # Observed: JSON, in this order: body, target, empty body; no message.
    for target, body, want in (
            ("Kinesis_20131202.ListStreams", b"hello", "SerializationException"),
            ("Kinesis_20131202.ListStreams", b"true", "SerializationException"),
            (None, b"", "UnknownOperationException"),
            ("Kinesis_20131202.", b"", "UnknownOperationException"),
            ("Kinesis_20131202.ListStream", b"{}", "UnknownOperationException"),
            ("Whatever.ListStreams", b"{}", "UnknownOperationException"),
            ("Kinesis_20131202.ListStreams", b"", "SerializationException")):
        h = {"Content-Type": JSON}
        if target:
            h["X-Amz-Target"] = target
        r, raw = request(srv, headers=h, body=body)
        checks.eq((r.status, r.getheader("Content-Type"), json.loads(raw), r.getheader("x-amzn-ErrorType")),
                  (400, JSON, {"__type": want}, want), f"target {target}, body {body!r}")
        common_headers(r, f"target {target}")

    # Observed: an action without output answers an empty body.
    r, raw = request(srv, headers={"Content-Type": JSON, "X-Amz-Target": "Kinesis_20131202.CreateStream"},
                     body=json.dumps({"StreamName": "f", "ShardCount": 3}))
    checks.eq((r.status, raw, r.getheader("Content-Length"), r.getheader("Content-Type")), (200, b"", "0", JSON),
              "CreateStream: 200 with an empty body")
    common_headers(r, "CreateStream")

    # Observed: CORS. A preflight, and the headers on every response.
    r, raw = request(srv, "OPTIONS", headers={"Origin": "whatever", "Access-Control-Request-Headers": "a, b, c",
                                              "Access-Control-Request-Method": "d"})
    checks.eq((r.status, raw, r.getheader("Access-Control-Allow-Origin"), r.getheader("Access-Control-Allow-Headers"),
               r.getheader("Access-Control-Allow-Methods"), r.getheader("Access-Control-Max-Age"),
               r.getheader("Content-Length"), r.getheader("Content-Type")),
              (200, b"", "*", "a, b, c", "d", "172800", "0", None), "CORS preflight")
    common_headers(r, "preflight", id2=False)
    r, raw = request(srv, headers={"Origin": "whatever"})
    checks.eq((r.status, r.getheader("Access-Control-Allow-Origin"), r.getheader("Access-Control-Expose-Headers")),
              (400, "*", "x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,x-amzn-ErrorMessage,Date"),
              "CORS headers on an answer to a request with an Origin")


def scenario_validation(srv):
    # Observed: member types first, AWS's words, capital-M Message.
    r = expect(srv, "a string where an integer goes", "CreateStream", {"StreamName": "x", "ShardCount": "23"}, 400,
               {"__type": "SerializationException", "Message": "class java.lang.String can not be converted to an Integer"})
    checks.eq(r.getheader("x-amzn-ErrorType"), "SerializationException", "x-amzn-ErrorType of a type error")
    expect(srv, "a list where a string goes", "DescribeStream", {"StreamName": []}, 400,
           {"__type": "SerializationException", "Message": "Start of list found where not expected"})
    expect(srv, "invalid base64", "PutRecord", {"StreamName": "f", "PartitionKey": "a", "Data": "+/+="}, 400,
           {"__type": "SerializationException",
            "Message": "'+/+=' can not be converted to a Blob: Invalid last non-pad Base64 character dectected"})
    # Observed: then every constraint at once (members in model order).
    expect(srv, "all constraints of the request at once", "CreateStream", {"StreamName": "", "ShardCount": 0}, 400,
           {"__type": "ValidationException", "message":
            "3 validation errors detected: Value '' at 'streamName' failed to satisfy constraint: Member must "
            "satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value '' at 'streamName' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1; Value '0' at 'shardCount' failed to "
            "satisfy constraint: Member must have value greater than or equal to 1"})
    # Observed: an integer beyond 32 bits is its largest value.
    expect(srv, "integers beyond 32 bits", "CreateStream", {"StreamName": "x", "ShardCount": 100000000000}, 400,
           {"__type": "ValidationException", "message":
            "1 validation error detected: Value '2147483647' at 'shardCount' failed to satisfy constraint: Member "
            "must have value less than or equal to 100000"})
    # Observed: 501 identical records print the same hashCode as AWS's.
    r, out = call(srv, "PutRecords", {"StreamName": "", "Records": [{"PartitionKey": "", "Data": ""}] * 501})
    checks.ok(out.get("message", "").startswith(
        "10 validation errors detected: Value '[com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@c965e310, "),
        "the request class's hashCode, as AWS prints it")
    # Observed: validation comes before the stream lookup (a 129-character tag key).
    expect(srv, "a 129-character tag key of an unknown stream", "AddTagsToStream",
           {"StreamName": "nope", "Tags": {"k" * 129: "v"}}, 400,
           {"__type": "ValidationException", "message":
            "1 validation error detected: Value '{" + "k" * 129 + "=v}' at 'tags' failed to satisfy constraint: "
            "Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must "
            "have length greater than or equal to 1]"})
    # CBOR gets the same answers, CBOR-encoded.
    r, raw = call(srv, "CreateStream", cbor2.dumps({"StreamName": "x", "ShardCount": "1"}), content_type=CBOR)
    checks.eq((r.status, cbor2.loads(raw)),
              (400, {"__type": "SerializationException",
                     "Message": "class java.lang.String can not be converted to an Integer"}), "CBOR: a type error")


def wait_active(srv, name):
    for _ in range(200):
        _, out = call(srv, "DescribeStreamSummary", {"StreamName": name})
        if out["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE":
            return
        time.sleep(0.05)


def scenario_shards_and_sequences(srv):
    wait_active(srv, "f")
    # Observed: lenient shard ids.
    for sid in ("shard-1", "anything-1", "shardId-1", "1"):
        r, out = call(srv, "GetShardIterator", {"StreamName": "f", "ShardId": sid, "ShardIteratorType": "LATEST"})
        checks.eq(r.status, 200, f"ShardId {sid!r} reads as shardId-000000000001")
    # Observed: a shard id that does not read comes first; then an unknown
    # stream reads as an unknown shard.
    expect(srv, "an unreadable shard id", "GetShardIterator",
           {"StreamName": "nope", "ShardId": "ABKLFD8", "ShardIteratorType": "LATEST"}, 400,
           {"__type": "ResourceNotFoundException",
            "message": f"Could not find shard ABKLFD8 in stream nope under account {ACCOUNT}."})
    expect(srv, "the shard of an unknown stream", "GetShardIterator",
           {"StreamName": "nope", "ShardId": "shard-7", "ShardIteratorType": "LATEST"}, 400,
           {"__type": "ResourceNotFoundException",
            "message": f"Shard shardId-000000000007 in stream nope under account {ACCOUNT} does not exist"})
    expect(srv, "an unknown stream, whatever the shard", "MergeShards",
           {"StreamName": "nope", "ShardToMerge": "shard-0", "AdjacentShardToMerge": "shard-1"}, 400,
           {"__type": "ResourceNotFoundException", "message": f"Stream nope under account {ACCOUNT} not found."})
    # Observed: Kinesis' 56-digit layout, parsed back to its shard.
    r, put = call(srv, "PutRecord", {"StreamName": "f", "PartitionKey": "a", "Data": "aGk="})
    seq = put["SequenceNumber"]
    checks.ok(re.match(r"^\d{56}$", seq), f"56-digit sequence number ({seq})")
    h = format(int(seq), "x")
    shard = int(put["ShardId"][-12:])
    checks.ok(h.startswith("2") and h.endswith("2") and int(h[38:46], 16) == shard and h[10] == format(shard, "x"),
              "version 2, the shard index in its two places")
    checks.ok(abs(int(h[29:38], 16) - time.time()) < 60, "the record's arrival time in seconds")
    other = "shardId-00000000000%d" % ((shard + 1) % 3)
    expect(srv, "a number of another shard", "GetShardIterator",
           {"StreamName": "f", "ShardId": other, "ShardIteratorType": "AT_SEQUENCE_NUMBER",
            "StartingSequenceNumber": seq}, 400,
           {"__type": "InvalidArgumentException",
            "message": f"Invalid StartingSequenceNumber. It encodes {put['ShardId']}, while it was used in a call "
                       f"to a shard with {other}"})
    expect(srv, "an old (version 0) number of the right shard", "GetShardIterator",
           {"StreamName": "f", "ShardId": "shardId-0", "ShardIteratorType": "AT_SEQUENCE_NUMBER",
            "StartingSequenceNumber": "0"}, 500, {"__type": "InternalFailure"})
    expect(srv, "a number Kinesis cannot read", "GetShardIterator",
           {"StreamName": "f", "ShardId": "shardId-0", "ShardIteratorType": "AT_SEQUENCE_NUMBER",
            "StartingSequenceNumber": str(int("20000000000800000000000000000000000000000000002", 16))}, 400,
           {"__type": "InvalidArgumentException",
            "message": f"StartingSequenceNumber {int('20000000000800000000000000000000000000000000002', 16)} used in "
                       f"GetShardIterator on shard shardId-000000000000 in stream f under account {ACCOUNT} is invalid."})
    r, it = call(srv, "GetShardIterator", {"StreamName": "f", "ShardId": put["ShardId"],
                                           "ShardIteratorType": "AT_SEQUENCE_NUMBER", "StartingSequenceNumber": seq})
    r, got = call(srv, "GetRecords", {"ShardIterator": it["ShardIterator"]})
    checks.eq([x["SequenceNumber"] for x in got["Records"]][:1], [seq], "AT_SEQUENCE_NUMBER reads that record")
    raw = base64.b64decode(it["ShardIterator"])
    checks.eq((raw[:8], (len(raw) - 152) % 16), (b"\0" * 7 + b"\1", 0), "a shard iterator of Kinesis' shape")
    # Observed: AT_TIMESTAMP in the future.
    future = time.time() + 60
    r, out = call(srv, "GetShardIterator", {"StreamName": "f", "ShardId": "shard-0",
                                            "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": future})
    checks.ok(r.status == 400 and re.match(
        r"^The timestampInMillis parameter cannot be greater than the currentTimestampInMillis\. "
        r"timestampInMillis: \d+, currentTimestampInMillis: \d+$", out.get("message", "")),
        f"AT_TIMESTAMP in the future ({out})")


def scenario_tags(srv):
    # Observed: Kinesis' tag character rules and messages.
    bad = ("Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, "
           "_ . / = + - % @.")
    for tags in ({"abc;def": "1"}, {"a": "abc\tdef"}, {"abc,def": "1"}):
        expect(srv, f"tags {tags!r}", "AddTagsToStream", {"StreamName": "f", "Tags": tags}, 400,
               {"__type": "InvalidArgumentException", "message": bad})
    expect(srv, "a % in a tag", "AddTagsToStream", {"StreamName": "f", "Tags": {"a": "abc%def"}}, 400,
           {"__type": "InvalidArgumentException", "message":
            f"Failed to add tags to stream f under account {ACCOUNT} because some tags contained illegal characters. "
            "The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@'."})
    expect(srv, "a % in a tag key to remove", "RemoveTagsFromStream", {"StreamName": "f", "TagKeys": ["a%b"]}, 400,
           {"__type": "InvalidArgumentException", "message":
            f"Failed to remove tags from stream f under account {ACCOUNT} because some tags contained illegal "
            "characters. The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@'."})
    r, out = call(srv, "AddTagsToStream", {"StreamName": "f", "Tags": {"ü0 _.": "a", "/=+-@": "b"}})
    checks.eq((r.status, out), (200, b""), "Unicode letters and the allowed symbols")


def scenario_update_shard_count(srv):
    # Observed (moto's test_update_shard_count, "verified against AWS"): the
    # shards, open and closed, that UNIFORM_SCALING leaves.
    for initial, target, total in ((2, 4, 6), (4, 5, 15), (10, 13, 37), (4, 2, 6), (5, 3, 7)):
        name = f"usc-{initial}-{target}"
        call(srv, "CreateStream", {"StreamName": name, "ShardCount": initial})
        wait_active(srv, name)
        r, out = call(srv, "UpdateShardCount", {"StreamName": name, "TargetShardCount": target,
                                                "ScalingType": "UNIFORM_SCALING"})
        checks.eq((r.status, out.get("CurrentShardCount"), out.get("TargetShardCount")), (200, initial, target),
                  f"UpdateShardCount {initial} -> {target}")
        wait_active(srv, name)
        _, d = call(srv, "DescribeStream", {"StreamName": name})
        shards = d["StreamDescription"]["Shards"]
        open_ = [s for s in shards if "EndingSequenceNumber" not in s["SequenceNumberRange"]]
        checks.eq((len(shards), len(open_)), (total, target), f"{initial} -> {target} leaves {total} shards as AWS")


def scenario_signatures(binary):
    # Observed: with signatures required, AWS's checks and messages, in order.
    with harness.Server(binary, "--require-signatures") as srv:
        base = {"Content-Type": JSON, "X-Amz-Target": "Kinesis_20131202.ListStreams"}

        def ask(path="/", **headers):
            r, raw = request(srv, path=path, headers={**base, **headers}, body=b"{}")
            return r.status, json.loads(raw)

        checks.eq(ask(), (400, {"__type": "MissingAuthenticationTokenException",
                                "message": "Missing Authentication Token"}), "no signature")
        checks.eq(ask(Authorization="X"), (400, {"__type": "IncompleteSignatureException", "message":
            "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' "
            "parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires "
            "existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=X"}), "a malformed header")
        checks.eq(ask(Authorization="AWS4- Signature=b, Credential=a", Date="a"),
                  (400, {"__type": "IncompleteSignatureException", "message":
                         "Authorization header requires 'SignedHeaders' parameter. "
                         "Authorization=AWS4- Signature=b, Credential=a"}), "a header lacking SignedHeaders")
        checks.eq(ask(path="/?X-Amz-Algorithm", Authorization="X"),
                  (400, {"__type": "InvalidSignatureException", "message":
                         "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."}),
                  "both forms")
        checks.eq(ask(path="/?X-Amz-Algorithm=a&X-Amz-Credential=b&X-Amz-Signature=c&X-Amz-Date=d"),
                  (400, {"__type": "IncompleteSignatureException", "message":
                         "AWS query-string parameters must include 'X-Amz-SignedHeaders'. "
                         "Re-examine the query-string parameters."}), "a presigned request lacking a parameter")
        checks.eq(ask(path="/?X-Amz-Credential=a&X-Amz-Signature=b&X-Amz-SignedHeaders=c&X-Amz-Date=d"),
                  (400, {"__type": "MissingAuthenticationTokenException",
                         "message": "Missing Authentication Token"}), "query parameters without X-Amz-Algorithm")
        r, raw = request(srv, "GET")
        checks.eq((r.status, raw), (403, b"<MissingAuthenticationTokenException>\n  <Message>Missing Authentication "
                                    b"Token</Message>\n</MissingAuthenticationTokenException>\n"), "an unsigned GET")
        # A body that does not parse and an unknown target come first.
        r, raw = request(srv, headers={"Content-Type": JSON})
        checks.eq((r.status, json.loads(raw)), (400, {"__type": "UnknownOperationException"}),
                  "no target: UnknownOperation before the signature")
        checks.eq(srv.stop(), 0, "exit 0")


def main():
    binary = harness.server_binary()
    with harness.Server(binary, "--create-delay", "0", "--update-delay", "0", "--shard-limit", "200") as srv:
        checks.run(scenario_front_door, srv)
        checks.run(scenario_validation, srv)
        checks.run(scenario_shards_and_sequences, srv)
        checks.run(scenario_tags, srv)
        checks.run(scenario_update_shard_count, srv)
        checks.eq(srv.stop(), 0, "exit 0 on SIGTERM")
    checks.run(scenario_signatures, binary)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
