#!/usr/bin/python3
"""Writes the endpoint fuzz target's seed corpus (tests/fuzz/corpus/endpoint).

Each seed is one or more requests in endpoint_fuzz.cc's input format
(action line, content-type line, body; requests separated by "--next--"),
once as JSON 1.1 and once as CBOR 1.1 (cbor2: blobs as byte strings,
timestamps as tag 1). Run it when actions change:

    /usr/bin/python3 tests/fuzz/make_endpoint_seeds.py tests/fuzz/corpus/endpoint

Seeds are named seed-*; crash-* files (inputs that once crashed the target)
are left alone.
"""
import base64
import datetime
import json
import os
import sys

import cbor2

ITER_LEN = 204  # base64 of a 152-byte iterator token (Kinesis' shape) for stream "s"


def iterator(i):
    return ("@ITER%d@" % i).ljust(ITER_LEN, "@")


ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/s"
TS = 1704067200  # 2024-01-01T00:00:00Z, the fixture's clock


def kinesis_sequence(created_s, shard, counter, record_s):
    """A sequence number in Kinesis' layout (docs/CONCEPTS.md), as the
    fixture's streams issue them."""
    h = "2%09x%x%016x00%09x%08x2" % (created_s, shard & 0xF, counter, record_s, shard)
    return str(int(h, 16))

# (seed name, [(action, body dict), ...]); "Data" values are raw bytes.
SEEDS = [
    ("create", [("CreateStream", {"StreamName": "n", "ShardCount": 2})]),
    ("create-ondemand", [("CreateStream", {"StreamName": "n", "StreamModeDetails": {"StreamMode": "ON_DEMAND"}})]),
    ("delete", [("DeleteStream", {"StreamName": "t", "EnforceConsumerDeletion": True})]),
    ("describe", [("DescribeStream", {"StreamName": "s", "Limit": 1, "ExclusiveStartShardId": "shardId-000000000000"})]),
    ("describe-arn", [("DescribeStreamSummary", {"StreamARN": ARN})]),
    ("list-streams", [("ListStreams", {"Limit": 1, "ExclusiveStartStreamName": "a"})]),
    ("list-shards", [("ListShards", {"StreamName": "s", "MaxResults": 1,
                                     "ShardFilter": {"Type": "AT_TRIM_HORIZON"}})]),
    ("list-shards-ts", [("ListShards", {"StreamName": "s", "StreamCreationTimestamp": TS,
                                        "ShardFilter": {"Type": "FROM_TIMESTAMP", "Timestamp": TS}})]),
    ("put", [("PutRecord", {"StreamName": "s", "PartitionKey": "k", "Data": b"hello"})]),
    ("put-ehk", [("PutRecord", {"StreamName": "s", "PartitionKey": "k", "Data": b"\x00\xff",
                                "ExplicitHashKey": "340282366920938463463374607431768211455",
                                "SequenceNumberForOrdering": "1"})]),
    ("put-batch", [("PutRecords", {"StreamName": "s", "Records": [
        {"PartitionKey": "a", "Data": b"1"}, {"PartitionKey": "b", "Data": b"2",
                                              "ExplicitHashKey": "0"}]})]),
    ("iterator-seq", [("GetShardIterator", {"StreamName": "s", "ShardId": "shardId-000000000001",
                                            "ShardIteratorType": "AT_SEQUENCE_NUMBER",
                                            "StartingSequenceNumber": kinesis_sequence(TS, 1, 1, TS)})]),
    ("iterator-seq-other-shard", [("GetShardIterator", {"StreamName": "s", "ShardId": "shard-0",
                                                        "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                                                        "StartingSequenceNumber": kinesis_sequence(TS, 1, 1, TS)})]),
    ("iterator-ts", [("GetShardIterator", {"StreamName": "s", "ShardId": "shardId-000000000000",
                                           "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": TS})]),
    ("get-records", [("GetRecords", {"ShardIterator": iterator(0), "Limit": 5})]),
    ("get-records-1", [("GetRecords", {"ShardIterator": iterator(1)})]),
    ("split-then-read", [
        ("SplitShard", {"StreamName": "s", "ShardToSplit": "shardId-000000000000",
                        "NewStartingHashKey": "85070591730234615865843651857942052864"}),
        ("GetRecords", {"ShardIterator": iterator(0), "Limit": 100}),
        ("ListShards", {"StreamName": "s"})]),
    ("merge", [("MergeShards", {"StreamName": "s", "ShardToMerge": "shardId-000000000000",
                                "AdjacentShardToMerge": "shardId-000000000001"})]),
    ("scale", [("UpdateShardCount", {"StreamName": "s", "TargetShardCount": 3,
                                     "ScalingType": "UNIFORM_SCALING"}),
               ("DescribeStream", {"StreamName": "s"})]),
    ("mode", [("UpdateStreamMode", {"StreamARN": ARN, "StreamModeDetails": {"StreamMode": "ON_DEMAND"}})]),
    ("max-record", [("UpdateMaxRecordSize", {"StreamARN": ARN, "MaxRecordSizeInKiB": 2048})]),
    ("retention", [("IncreaseStreamRetentionPeriod", {"StreamName": "s", "RetentionPeriodHours": 48}),
                   ("DecreaseStreamRetentionPeriod", {"StreamName": "s", "RetentionPeriodHours": 24})]),
    ("tags", [("AddTagsToStream", {"StreamName": "s", "Tags": {"a": "1", "b": ""}}),
              ("ListTagsForStream", {"StreamName": "s", "Limit": 1, "ExclusiveStartTagKey": "a"}),
              ("RemoveTagsFromStream", {"StreamName": "s", "TagKeys": ["a"]})]),
    ("tag-resource", [("TagResource", {"ResourceARN": ARN, "Tags": {"x": "y"}}),
                      ("ListTagsForResource", {"ResourceARN": ARN}),
                      ("UntagResource", {"ResourceARN": ARN, "TagKeys": ["x"]})]),
    ("consumers", [("RegisterStreamConsumer", {"StreamARN": ARN, "ConsumerName": "c"}),
                   ("ListStreamConsumers", {"StreamARN": ARN, "MaxResults": 1}),
                   ("DescribeStreamConsumer", {"StreamARN": ARN, "ConsumerName": "c"}),
                   ("DeregisterStreamConsumer", {"StreamARN": ARN, "ConsumerName": "c"})]),
    ("encryption", [("StartStreamEncryption", {"StreamName": "s", "EncryptionType": "KMS", "KeyId": "alias/k"}),
                    ("StopStreamEncryption", {"StreamName": "s", "EncryptionType": "KMS", "KeyId": "alias/k"})]),
    ("monitoring", [("EnableEnhancedMonitoring", {"StreamName": "s", "ShardLevelMetrics": ["ALL"]}),
                    ("DisableEnhancedMonitoring", {"StreamName": "s", "ShardLevelMetrics": ["IncomingBytes"]})]),
    ("policy", [("PutResourcePolicy", {"ResourceARN": ARN, "Policy": "{\"Version\":\"2012-10-17\"}"}),
                ("GetResourcePolicy", {"ResourceARN": ARN}),
                ("DeleteResourcePolicy", {"ResourceARN": ARN})]),
    ("account", [("DescribeLimits", {}), ("DescribeAccountSettings", {}),
                 ("UpdateAccountSettings", {"MinimumThroughputBillingCommitment": {"Status": "ENABLED"}}),
                 ("UpdateStreamWarmThroughput", {"StreamName": "s", "WarmThroughputMiBps": 10})]),
    ("unknown", [("SubscribeToShard", {"ConsumerARN": ARN + "/consumer/c:1", "ShardId": "shardId-000000000000",
                                       "StartingPosition": {"Type": "LATEST"}})]),
]


def to_json(body):
    def conv(v):
        if isinstance(v, bytes):
            return base64.b64encode(v).decode()
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, list):
            return [conv(x) for x in v]
        return v
    return json.dumps(conv(body), separators=(",", ":")).encode()


def to_cbor(body):
    def conv(k, v):
        if k in ("Timestamp", "StreamCreationTimestamp") and isinstance(v, int):
            return cbor2.CBORTag(1, v)
        if isinstance(v, dict):
            return {kk: conv(kk, x) for kk, x in v.items()}
        if isinstance(v, list):
            return [conv(None, x) for x in v]
        return v
    return cbor2.dumps({k: conv(k, v) for k, v in body.items()})


def signed_seed(action, body, ct, key="AKIDFUZZ", secret="fuzz-secret"):
    """A request SigV4-signed at the fixture's time (2024-01-01T00:00:00Z),
    in the input format with its headers, as botocore signs it."""
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials

    class FixedNow(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return datetime.datetime(2024, 1, 1, 0, 0, 0)

    real = botocore.auth.datetime.datetime
    botocore.auth.datetime.datetime = FixedNow
    try:
        ctype = {"json": "application/x-amz-json-1.1", "cbor": "application/x-amz-cbor-1.1"}[ct]
        req = botocore.awsrequest.AWSRequest(
            method="POST", url="http://127.0.0.1:4567/", data=body,
            headers={"X-Amz-Target": "Kinesis_20131202." + action, "Content-Type": ctype,
                     "Host": "127.0.0.1:4567"})
        botocore.auth.SigV4Auth(botocore.credentials.Credentials(key, secret), "kinesis",
                                "us-east-1").add_auth(req)
    finally:
        botocore.auth.datetime.datetime = real
    lines = [action.encode(), ct.encode(), b"M POST", b"P /"]
    for name, value in req.headers.items():
        if name in ("X-Amz-Target", "Content-Type"):
            continue  # the target adds these two itself
        lines.append(b"H " + name.encode() + b": " + (value if isinstance(value, bytes) else value.encode()))
    return b"\n".join(lines) + b"\n" + body


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_endpoint_seeds.py tests/fuzz/corpus/endpoint")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, reqs in SEEDS:
        for enc, ct, conv in (("json", b"json", to_json), ("cbor", b"cbor", to_cbor)):
            parts = [action.encode() + b"\n" + ct + b"\n" + conv(body) for action, body in reqs]
            path = os.path.join(out, "seed-%s-%s" % (name, enc))
            with open(path, "wb") as f:
                f.write(b"\n--next--\n".join(parts))
            print(path)
    # Signed requests (#signed: the endpoint checks SigV4 for AKIDFUZZ) and
    # account selection by access key (#accounts).
    for enc, conv in (("json", to_json), ("cbor", to_cbor)):
        put = signed_seed("PutRecord", conv({"StreamName": "s", "PartitionKey": "k", "Data": b"x"}), enc)
        lst = signed_seed("ListShards", conv({"StreamName": "s"}), enc)
        with open(os.path.join(out, "seed-signed-%s" % enc), "wb") as f:
            f.write(b"#signed\n" + put + b"\n--next--\n" + lst)
        bad = signed_seed("ListStreams", conv({}), enc, secret="wrong-secret")
        with open(os.path.join(out, "seed-signed-bad-%s" % enc), "wb") as f:
            f.write(b"#signed\n" + bad)
        acct = signed_seed("CreateStream", conv({"StreamName": "a", "ShardCount": 1}), enc,
                           key="AKIAIOSFODNN7EXAMPLE")
        with open(os.path.join(out, "seed-accounts-%s" % enc), "wb") as f:
            f.write(b"#accounts\n" + acct + b"\n--next--\nListStreams\n" + enc.encode() +
                    b"\nH Authorization: AWS4-HMAC-SHA256 Credential=123456789012/20240101/"
                    b"us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=00\n" + conv({}))
    # Edges of the envelope: raw targets, content types, empty and odd bodies.
    extra = {
        "seed-raw-target": b"!Kinesis_20131202.ListStreams\njson\n{}",
        "seed-bad-target": b"!DynamoDB_20120810.ListTables\njson\n{}",
        "seed-json-10": b"ListStreams\napplication/x-amz-json-1.0; charset=utf-8\n{}",
        "seed-bad-content-type": b"ListStreams\ntext/plain\n{}",
        "seed-empty-body": b"ListStreams\njson\n",
        "seed-cbor-empty": b"ListStreams\ncbor\n",
        "seed-json-array": b"PutRecords\njson\n[1,2,3]",
        "seed-deep-json": b"ListStreams\njson\n" + b"{\"a\":" * 64 + b"1" + b"}" * 64,
        "seed-cbor-indefinite": b"ListStreams\ncbor\n\xbf\x65Limit\x01\xff",
        # AWS's front door (docs/ENDPOINT.md "Protocol"): other methods, CORS,
        # the Query and deprecated JSON protocols, presigned query strings.
        "seed-get": b"ListStreams\njson\nM GET\n",
        "seed-preflight": b"ListStreams\njson\nM OPTIONS\nH Origin: http://page\n"
                          b"H Access-Control-Request-Headers: x-amz-target\nH Access-Control-Request-Method: POST\n",
        "seed-origin": b"ListStreams\njson\nH Origin: http://page\n{}",
        "seed-form": b"ListStreams\napplication/x-www-form-urlencoded\nAction=ListStreams",
        "seed-deprecated-json": b"ListStreams\napplication/json\n{}",
        "seed-presigned": b"#signed\n!\njson\nP /?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDFUZZ%2F20240101"
                          b"%2Fus-east-1%2Fkinesis%2Faws4_request&X-Amz-Date=20240101T000000Z&X-Amz-Expires=300"
                          b"&X-Amz-SignedHeaders=host&X-Amz-Signature=00&x-amz-target=Kinesis_20131202.ListStreams\n{}",
    }
    for name, data in extra.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        print(os.path.join(out, name))


if __name__ == "__main__":
    main()
