#!/usr/bin/env python3
"""tributary-server against boto3 (Debian python3-boto3): streams, records,
resharding read parent-before-child, retention, tags, paging, error paths.

Usage: boto3_test.py PATH/TO/tributary-server
"""

import collections
import datetime
import sys
import time

import boto3
import botocore.config
import botocore.exceptions

import harness

checks = harness.Checks("boto3")
MID = str(2**127)  # the middle of the hash-key space


def client(server, attempts=3):
    cfg = botocore.config.Config(
        retries={"total_max_attempts": attempts, "mode": "standard"},
        connect_timeout=5,
        read_timeout=30,
    )
    return boto3.client("kinesis", endpoint_url=server.url, config=cfg)


def error_code(fn, **kwargs):
    try:
        fn(**kwargs)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, 200


def expect_error(code, fn, what, **kwargs):
    got, status = error_code(fn, **kwargs)
    checks.eq(got, code, what)
    checks.eq(status, 400, f"{what}: HTTP status")


def wait_active(kin, name):
    kin.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})


def read_shard(kin, name, shard_id):
    """All records of a shard from TRIM_HORIZON, and the final response."""
    it = kin.get_shard_iterator(StreamName=name, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records, last = [], None
    for _ in range(100):
        last = kin.get_records(ShardIterator=it, Limit=1000)
        records += last["Records"]
        it = last.get("NextShardIterator")
        if it is None or (not last["Records"] and last["MillisBehindLatest"] == 0):
            break
    return records, last


def scenario_lifecycle(kin):
    kin.create_stream(StreamName="orders", ShardCount=2)
    status = kin.describe_stream_summary(StreamName="orders")["StreamDescriptionSummary"]["StreamStatus"]
    checks.eq(status, "CREATING", "a new stream is CREATING (--create-delay 200)")
    expect_error("ResourceNotFoundException", kin.put_record, "PutRecord on a CREATING stream",
                 StreamName="orders", Data=b"x", PartitionKey="k")
    expect_error("ResourceInUseException", kin.create_stream, "CreateStream of an existing name",
                 StreamName="orders", ShardCount=1)
    wait_active(kin, "orders")
    d = kin.describe_stream(StreamName="orders")["StreamDescription"]
    checks.eq(d["StreamStatus"], "ACTIVE", "the stream_exists waiter waits until ACTIVE")
    checks.eq(len(d["Shards"]), 2, "two shards")
    checks.eq(d["StreamARN"], "arn:aws:kinesis:us-east-1:000000000000:stream/orders", "StreamARN")
    checks.eq(d["RetentionPeriodHours"], 24, "default retention")
    checks.ok(isinstance(d["StreamCreationTimestamp"], datetime.datetime), "StreamCreationTimestamp parses as a datetime")
    checks.eq(d["Shards"][0]["HashKeyRange"]["StartingHashKey"], "0", "first shard starts at 0")
    checks.eq(d["Shards"][1]["HashKeyRange"]["EndingHashKey"], str(2**128 - 1), "last shard ends at 2^128-1")
    checks.eq(d["EncryptionType"], "NONE", "EncryptionType")
    s = kin.describe_stream_summary(StreamName="orders")["StreamDescriptionSummary"]
    checks.eq(s["OpenShardCount"], 2, "DescribeStreamSummary OpenShardCount")
    lim = kin.describe_limits()
    checks.eq(lim["ShardLimit"], 20, "DescribeLimits ShardLimit (--shard-limit 20)")
    checks.ok(lim["OpenShardCount"] >= 2, "DescribeLimits OpenShardCount")


def scenario_records_and_resharding(kin):
    # Binary data round-trips through base64, including NUL and 0xff bytes.
    payloads = {f"key-{i}": bytes([i, 0, 255, i]) + f"order {i}".encode() for i in range(20)}
    for key, data in payloads.items():
        r = kin.put_record(StreamName="orders", Data=data, PartitionKey=key)
        checks.ok(r["ShardId"].startswith("shardId-") and r["SequenceNumber"].isdigit(), "PutRecord result")
    batch = kin.put_records(StreamName="orders", Records=[
        {"Data": f"batch {i}".encode(), "PartitionKey": f"key-{i % 20}"} for i in range(100)])
    checks.eq(batch["FailedRecordCount"], 0, "PutRecords FailedRecordCount")
    checks.eq(len(batch["Records"]), 100, "PutRecords returns one entry per record")
    # ExplicitHashKey routes to the shard holding that key.
    r = kin.put_record(StreamName="orders", Data=b"explicit", PartitionKey="any", ExplicitHashKey=str(2**128 - 1))
    checks.eq(r["ShardId"], "shardId-000000000001", "ExplicitHashKey 2^128-1 goes to the last shard")
    # SequenceNumberForOrdering
    r2 = kin.put_record(StreamName="orders", Data=b"after", PartitionKey="any", ExplicitHashKey=str(2**128 - 1),
                        SequenceNumberForOrdering=r["SequenceNumber"])
    checks.ok(int(r2["SequenceNumber"]) > int(r["SequenceNumber"]), "SequenceNumberForOrdering")

    got = {}
    for shard in ("shardId-000000000000", "shardId-000000000001"):
        records, last = read_shard(kin, "orders", shard)
        seqs = [int(x["SequenceNumber"]) for x in records]
        checks.eq(seqs, sorted(seqs), f"{shard}: sequence numbers increase")
        checks.ok(all(isinstance(x["ApproximateArrivalTimestamp"], datetime.datetime) for x in records),
                  f"{shard}: ApproximateArrivalTimestamp parses")
        checks.eq(last["MillisBehindLatest"], 0, f"{shard}: caught up")
        checks.ok("NextShardIterator" in last, f"{shard}: an open shard always has a next iterator")
        for x in records:
            got.setdefault(x["PartitionKey"], []).append(x["Data"])
    for key, data in payloads.items():
        checks.eq(got.get(key, [None])[0], data, f"record {key} round-trips")
    checks.eq(sum(len(v) for v in got.values()), 20 + 100 + 2, "every record read back")

    # GetRecords Limit and AFTER_SEQUENCE_NUMBER
    it = kin.get_shard_iterator(StreamName="orders", ShardId="shardId-000000000000",
                                ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    one = kin.get_records(ShardIterator=it, Limit=1)
    checks.eq(len(one["Records"]), 1, "GetRecords Limit=1")
    checks.ok(one["MillisBehindLatest"] >= 0, "MillisBehindLatest present")
    it = kin.get_shard_iterator(StreamName="orders", ShardId="shardId-000000000000",
                                ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                                StartingSequenceNumber=one["Records"][0]["SequenceNumber"])["ShardIterator"]
    nxt = kin.get_records(ShardIterator=it, Limit=1)
    checks.ok(int(nxt["Records"][0]["SequenceNumber"]) > int(one["Records"][0]["SequenceNumber"]),
              "AFTER_SEQUENCE_NUMBER starts after the record")
    it = kin.get_shard_iterator(StreamName="orders", ShardId="shardId-000000000000",
                                ShardIteratorType="LATEST")["ShardIterator"]
    checks.eq(kin.get_records(ShardIterator=it)["Records"], [], "LATEST sees no old record")

    # Split shard 0 in the middle of its range, then write keys that route to the children.
    lo_end = 2**127 - 1
    kin.split_shard(StreamName="orders", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**126))
    st = kin.describe_stream_summary(StreamName="orders")["StreamDescriptionSummary"]["StreamStatus"]
    checks.eq(st, "UPDATING", "a split leaves the stream UPDATING (--update-delay 200)")
    expect_error("ResourceInUseException", kin.split_shard, "a second reshard while UPDATING",
                 StreamName="orders", ShardToSplit="shardId-000000000001", NewStartingHashKey=str(2**127 + 5))
    wait_active(kin, "orders")
    for i in range(20):
        kin.put_record(StreamName="orders", Data=f"late {i}".encode(), PartitionKey=f"key-{i}")
    shards = kin.list_shards(StreamName="orders")["Shards"]
    by_id = {s["ShardId"]: s for s in shards}
    checks.eq(sorted(by_id), [f"shardId-00000000000{i}" for i in range(4)], "ListShards after the split")
    checks.ok("EndingSequenceNumber" in by_id["shardId-000000000000"]["SequenceNumberRange"], "the parent is CLOSED")
    checks.eq(by_id["shardId-000000000002"].get("ParentShardId"), "shardId-000000000000", "child 2's parent")
    checks.eq(by_id["shardId-000000000003"]["HashKeyRange"]["EndingHashKey"], str(lo_end), "child 3 ends where the parent did")

    # Read the parent to its end: no next iterator, and the child shards.
    parent_records, last = read_shard(kin, "orders", "shardId-000000000000")
    checks.ok("NextShardIterator" not in last, "a closed shard read to its end has no NextShardIterator")
    children = sorted(c["ShardId"] for c in last.get("ChildShards", []))
    checks.eq(children, ["shardId-000000000002", "shardId-000000000003"], "ChildShards name both children")
    checks.eq(last["ChildShards"][0]["ParentShards"], ["shardId-000000000000"], "ChildShards ParentShards")
    # Parent before child: each key's records stay in order across the split.
    per_key = collections.defaultdict(list)
    for x in parent_records:
        per_key[x["PartitionKey"]].append(int(x["SequenceNumber"]))
    for child in children:
        for x in read_shard(kin, "orders", child)[0]:
            per_key[x["PartitionKey"]].append(int(x["SequenceNumber"]))
    checks.ok(all(v == sorted(v) for v in per_key.values()), "per-key order holds reading parent then children")
    checks.ok(any(len(v) > 1 for v in per_key.values()), "some key has records in parent and child")

    # Merge the two children back; errors first.
    expect_error("InvalidArgumentException", kin.merge_shards, "merging non-adjacent shards",
                 StreamName="orders", ShardToMerge="shardId-000000000002", AdjacentShardToMerge="shardId-000000000001")
    expect_error("InvalidArgumentException", kin.split_shard, "a split key outside the shard",
                 StreamName="orders", ShardToSplit="shardId-000000000002", NewStartingHashKey=MID)
    expect_error("ResourceInUseException", kin.split_shard, "splitting a CLOSED shard",
                 StreamName="orders", ShardToSplit="shardId-000000000000", NewStartingHashKey="5")
    expect_error("ResourceNotFoundException", kin.split_shard, "splitting a shard that does not exist",
                 StreamName="orders", ShardToSplit="shardId-000000000099", NewStartingHashKey="5")
    kin.merge_shards(StreamName="orders", ShardToMerge="shardId-000000000002", AdjacentShardToMerge="shardId-000000000003")
    wait_active(kin, "orders")
    shards = kin.list_shards(StreamName="orders", ShardFilter={"Type": "AT_LATEST"})["Shards"]
    checks.eq([s["ShardId"] for s in shards], ["shardId-000000000001", "shardId-000000000004"], "open shards after the merge")
    merged = shards[1]
    checks.eq((merged.get("ParentShardId"), merged.get("AdjacentParentShardId")),
              ("shardId-000000000002", "shardId-000000000003"), "merge child's parents")
    _, last = read_shard(kin, "orders", "shardId-000000000003")
    checks.eq([c["ShardId"] for c in last.get("ChildShards", [])], ["shardId-000000000004"], "merge ChildShards")
    checks.eq(sorted(last["ChildShards"][0]["ParentShards"]), ["shardId-000000000002", "shardId-000000000003"],
              "merge ChildShards lists both parents")

    r = kin.update_shard_count(StreamName="orders", TargetShardCount=4, ScalingType="UNIFORM_SCALING")
    checks.eq((r["CurrentShardCount"], r["TargetShardCount"]), (2, 4), "UpdateShardCount result")
    wait_active(kin, "orders")
    checks.eq(kin.describe_stream_summary(StreamName="orders")["StreamDescriptionSummary"]["OpenShardCount"], 4,
              "UpdateShardCount reached 4 open shards")


def scenario_retention_and_tags(kin):
    kin.increase_stream_retention_period(StreamName="orders", RetentionPeriodHours=48)
    wait_active(kin, "orders")
    checks.eq(kin.describe_stream(StreamName="orders")["StreamDescription"]["RetentionPeriodHours"], 48,
              "IncreaseStreamRetentionPeriod")
    expect_error("InvalidArgumentException", kin.increase_stream_retention_period,
                 "an increase to a lower value", StreamName="orders", RetentionPeriodHours=30)
    kin.decrease_stream_retention_period(StreamName="orders", RetentionPeriodHours=24)
    wait_active(kin, "orders")
    checks.eq(kin.describe_stream(StreamName="orders")["StreamDescription"]["RetentionPeriodHours"], 24,
              "DecreaseStreamRetentionPeriod")
    got, _ = error_code(kin.decrease_stream_retention_period, StreamName="orders", RetentionPeriodHours=23)
    checks.ok(got in ("InvalidArgumentException", "ValidationException"), f"retention below 24 h rejected ({got})")

    kin.add_tags_to_stream(StreamName="orders", Tags={f"k{i}": f"v{i}" for i in range(5)})
    page = kin.list_tags_for_stream(StreamName="orders", Limit=2)
    checks.eq([t["Key"] for t in page["Tags"]], ["k0", "k1"], "ListTagsForStream first page")
    checks.eq(page["HasMoreTags"], True, "HasMoreTags")
    rest = kin.list_tags_for_stream(StreamName="orders", ExclusiveStartTagKey="k1")
    checks.eq([t["Key"] for t in rest["Tags"]], ["k2", "k3", "k4"], "ListTagsForStream ExclusiveStartTagKey")
    checks.eq(rest["HasMoreTags"], False, "HasMoreTags at the end")
    kin.remove_tags_from_stream(StreamName="orders", TagKeys=["k0", "k4"])
    tags = kin.list_tags_for_stream(StreamName="orders")["Tags"]
    checks.eq({t["Key"]: t["Value"] for t in tags}, {"k1": "v1", "k2": "v2", "k3": "v3"}, "RemoveTagsFromStream")
    got, _ = error_code(kin.add_tags_to_stream, StreamName="orders", Tags={"x" * 129: "v"})
    checks.ok(got in ("InvalidArgumentException", "ValidationException"), f"a tag key over 128 chars ({got})")


def scenario_paging(kin):
    for i in range(5):
        kin.create_stream(StreamName=f"page-{i}", ShardCount=1)
    names, start = [], None
    for _ in range(10):
        kw = {"Limit": 2}
        if start:
            kw["ExclusiveStartStreamName"] = start
        r = kin.list_streams(**kw)
        names += r["StreamNames"]
        if not r["HasMoreStreams"]:
            break
        start = r["StreamNames"][-1]
    checks.eq(names, sorted(["orders"] + [f"page-{i}" for i in range(5)]), "ListStreams paged by ExclusiveStartStreamName")
    pages = list(kin.get_paginator("list_streams").paginate(PaginationConfig={"PageSize": 2}))
    checks.eq(sum(len(p["StreamNames"]) for p in pages), 6, "ListStreams paginator")

    # ListShards: 1 shard per page through NextToken.
    ids, token = [], None
    for _ in range(20):
        r = kin.list_shards(NextToken=token, MaxResults=1) if token else kin.list_shards(StreamName="orders", MaxResults=1)
        ids += [s["ShardId"] for s in r["Shards"]]
        token = r.get("NextToken")
        if not token:
            break
    all_ids = [s["ShardId"] for s in kin.list_shards(StreamName="orders")["Shards"]]
    checks.eq(ids, all_ids, "ListShards paged by NextToken")
    expect_error("InvalidArgumentException", kin.list_shards, "NextToken combined with StreamName",
                 StreamName="orders", NextToken=token or "x")
    expect_error("InvalidArgumentException", kin.list_shards, "a NextToken that does not decode", NextToken="garbage")
    after = kin.list_shards(StreamName="orders", ExclusiveStartShardId="shardId-000000000002")["Shards"]
    checks.ok(all(s["ShardId"] > "shardId-000000000002" for s in after) and after, "ListShards ExclusiveStartShardId")

    d = kin.describe_stream(StreamName="orders", Limit=2)["StreamDescription"]
    checks.eq((len(d["Shards"]), d["HasMoreShards"]), (2, True), "DescribeStream Limit")
    d2 = kin.describe_stream(StreamName="orders", ExclusiveStartShardId=d["Shards"][-1]["ShardId"])["StreamDescription"]
    checks.ok(d2["Shards"][0]["ShardId"] > d["Shards"][-1]["ShardId"], "DescribeStream ExclusiveStartShardId")


def scenario_errors(kin):
    expect_error("ResourceNotFoundException", kin.describe_stream, "DescribeStream of a missing stream", StreamName="nope")
    expect_error("ResourceNotFoundException", kin.put_record, "PutRecord to a missing stream",
                 StreamName="nope", Data=b"x", PartitionKey="k")
    expect_error("ValidationException", kin.put_record, "a partition key over 256 characters",
                 StreamName="orders", Data=b"x", PartitionKey="p" * 257)
    expect_error("ValidationException", kin.describe_stream, "a stream name outside [a-zA-Z0-9_.-]",
                 StreamName="bad name!")
    expect_error("ValidationException", kin.get_records, "GetRecords Limit 0 (> 10000 checked server-side)",
                 ShardIterator="AAAA", Limit=10001)
    expect_error("InvalidArgumentException", kin.get_records, "an iterator that does not decode",
                 ShardIterator="not-an-iterator")
    expect_error("ValidationException", kin.get_shard_iterator, "a ShardIteratorType that does not exist",
                 StreamName="orders", ShardId="shardId-000000000001", ShardIteratorType="SOMEWHERE")
    expect_error("ResourceNotFoundException", kin.get_shard_iterator, "GetShardIterator of a missing shard",
                 StreamName="orders", ShardId="shardId-000000000077", ShardIteratorType="LATEST")
    expect_error("LimitExceededException", kin.create_stream, "more shards than --shard-limit",
                 StreamName="too-big", ShardCount=50)
    expect_error("ValidationException", kin.put_records, "PutRecords with 501 records",
                 StreamName="orders", Records=[{"Data": b"x", "PartitionKey": "k"}] * 501)
    expect_error("InvalidArgumentException", kin.put_record, "a record larger than the stream's maximum",
                 StreamName="orders", Data=b"x" * (1024 * 1024), PartitionKey="k")
    checks.skip("ExpiredIteratorException", "needs clock control; the library's iterator expiry is "
                "tested with ManualClock in tests/stream, the server runs on the system clock")


def scenario_consumers(kin):
    kin.create_stream(StreamName="fan", ShardCount=1)
    wait_active(kin, "fan")
    arn = kin.describe_stream_summary(StreamName="fan")["StreamDescriptionSummary"]["StreamARN"]
    c = kin.register_stream_consumer(StreamARN=arn, ConsumerName="app")["Consumer"]
    checks.eq(c["ConsumerName"], "app", "RegisterStreamConsumer returns the consumer")
    checks.ok(c["ConsumerARN"].startswith(arn + "/consumer/app:"), f"consumer ARN shape ({c['ConsumerARN']})")
    checks.eq(c["ConsumerStatus"], "CREATING", "a new consumer is CREATING (--create-delay 200)")
    checks.ok(isinstance(c["ConsumerCreationTimestamp"], datetime.datetime), "ConsumerCreationTimestamp is a timestamp")
    for _ in range(200):
        d = kin.describe_stream_consumer(ConsumerARN=c["ConsumerARN"])["ConsumerDescription"]
        if d["ConsumerStatus"] == "ACTIVE":
            break
        time.sleep(0.01)
    checks.eq(d["ConsumerStatus"], "ACTIVE", "the consumer becomes ACTIVE")
    checks.eq(d["StreamARN"], arn, "ConsumerDescription.StreamARN")
    d2 = kin.describe_stream_consumer(StreamARN=arn, ConsumerName="app")["ConsumerDescription"]
    checks.eq(d2["ConsumerARN"], c["ConsumerARN"], "DescribeStreamConsumer by StreamARN + ConsumerName")
    for n in ("b", "c"):
        kin.register_stream_consumer(StreamARN=arn, ConsumerName=n)
    checks.eq(kin.describe_stream_summary(StreamName="fan")["StreamDescriptionSummary"]["ConsumerCount"], 3,
              "DescribeStreamSummary.ConsumerCount")
    page = kin.list_stream_consumers(StreamARN=arn, MaxResults=2)
    checks.eq([x["ConsumerName"] for x in page["Consumers"]], ["app", "b"], "ListStreamConsumers first page")
    page2 = kin.list_stream_consumers(StreamARN=arn, NextToken=page["NextToken"])
    checks.eq([x["ConsumerName"] for x in page2["Consumers"]], ["c"], "ListStreamConsumers second page")
    checks.ok("NextToken" not in page2, "no NextToken on the last page")
    names = [x["ConsumerName"] for p in kin.get_paginator("list_stream_consumers").paginate(
        StreamARN=arn, PaginationConfig={"PageSize": 1}) for x in p["Consumers"]]
    checks.eq(names, ["app", "b", "c"], "the boto3 paginator walks every consumer")
    expect_error("ResourceInUseException", kin.register_stream_consumer, "a consumer name taken",
                 StreamARN=arn, ConsumerName="app")
    expect_error("ResourceNotFoundException", kin.describe_stream_consumer, "a consumer that does not exist",
                 StreamARN=arn, ConsumerName="nope")
    expect_error("InvalidArgumentException", kin.describe_stream_consumer, "ConsumerName without StreamARN",
                 ConsumerName="app")
    expect_error("InvalidArgumentException", kin.list_stream_consumers, "a NextToken that does not decode",
                 StreamARN=arn, NextToken="garbage")
    expect_error("ResourceNotFoundException", kin.register_stream_consumer, "a consumer of a missing stream",
                 StreamARN=arn.replace("stream/fan", "stream/nope"), ConsumerName="x")
    expect_error("ResourceInUseException", kin.delete_stream, "DeleteStream of a stream with consumers",
                 StreamName="fan")
    kin.deregister_stream_consumer(ConsumerARN=c["ConsumerARN"])
    st = kin.describe_stream_consumer(ConsumerARN=c["ConsumerARN"])["ConsumerDescription"]["ConsumerStatus"]
    checks.eq(st, "DELETING", "a deregistered consumer is DELETING (--delete-delay 200)")
    kin.deregister_stream_consumer(StreamARN=arn, ConsumerName="b")
    for _ in range(200):
        got, _status = error_code(kin.describe_stream_consumer, ConsumerARN=c["ConsumerARN"])
        if got == "ResourceNotFoundException":
            break
        time.sleep(0.01)
    checks.eq(got, "ResourceNotFoundException", "a deregistered consumer is gone after --delete-delay")
    kin.delete_stream(StreamName="fan", EnforceConsumerDeletion=True)
    kin.get_waiter("stream_not_exists").wait(StreamName="fan", WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})


def scenario_state_only(kin):
    kin.create_stream(StreamName="enc", ShardCount=1)
    wait_active(kin, "enc")
    kin.start_stream_encryption(StreamName="enc", EncryptionType="KMS", KeyId="alias/aws/kinesis")
    checks.eq(kin.describe_stream_summary(StreamName="enc")["StreamDescriptionSummary"]["StreamStatus"], "UPDATING",
              "StartStreamEncryption makes the stream UPDATING")
    wait_active(kin, "enc")
    d = kin.describe_stream(StreamName="enc")["StreamDescription"]
    checks.eq((d["EncryptionType"], d.get("KeyId")), ("KMS", "alias/aws/kinesis"), "DescribeStream reports encryption")
    expect_error("ValidationException", kin.start_stream_encryption, "an EncryptionType that does not exist",
                 StreamName="enc", EncryptionType="ROT13", KeyId="k")
    expect_error("InvalidArgumentException", kin.start_stream_encryption, "StartStreamEncryption with NONE",
                 StreamName="enc", EncryptionType="NONE", KeyId="k")
    kin.stop_stream_encryption(StreamName="enc", EncryptionType="KMS", KeyId="alias/aws/kinesis")
    expect_error("ResourceInUseException", kin.enable_enhanced_monitoring, "monitoring change while UPDATING",
                 StreamName="enc", ShardLevelMetrics=["IncomingBytes"])
    wait_active(kin, "enc")
    s = kin.describe_stream_summary(StreamName="enc")["StreamDescriptionSummary"]
    checks.eq((s["EncryptionType"], s.get("KeyId")), ("NONE", None), "StopStreamEncryption clears it")
    r = kin.enable_enhanced_monitoring(StreamName="enc", ShardLevelMetrics=["IncomingBytes", "OutgoingBytes"])
    checks.eq((r["CurrentShardLevelMetrics"], r["DesiredShardLevelMetrics"]), ([], ["IncomingBytes", "OutgoingBytes"]),
              "EnableEnhancedMonitoring: current and desired")
    r = kin.disable_enhanced_monitoring(StreamName="enc", ShardLevelMetrics=["IncomingBytes"])
    checks.eq(r["DesiredShardLevelMetrics"], ["OutgoingBytes"], "DisableEnhancedMonitoring")
    em = kin.describe_stream_summary(StreamName="enc")["StreamDescriptionSummary"]["EnhancedMonitoring"]
    checks.eq(em, [{"ShardLevelMetrics": ["OutgoingBytes"]}], "DescribeStreamSummary reports the metrics")
    expect_error("ValidationException", kin.enable_enhanced_monitoring, "an unknown metric",
                 StreamName="enc", ShardLevelMetrics=["Bogus"])


def scenario_delete(kin):
    kin.delete_stream(StreamName="page-0")
    st = kin.describe_stream_summary(StreamName="page-0")["StreamDescriptionSummary"]["StreamStatus"]
    checks.eq(st, "DELETING", "a deleted stream is DELETING (--delete-delay 200)")
    expect_error("ResourceInUseException", kin.split_shard, "a reshard while DELETING",
                 StreamName="page-0", ShardToSplit="shardId-000000000000", NewStartingHashKey=MID)
    kin.get_waiter("stream_not_exists").wait(StreamName="page-0", WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})
    expect_error("ResourceNotFoundException", kin.describe_stream, "the stream is gone after the waiter", StreamName="page-0")


def scenario_throughput(binary):
    # A manual clock that never moves: the per-shard buckets do not refill
    # while the test runs, however slow the machine (a sanitizer build).
    with harness.Server(binary, "--create-delay", "0", "--throughput-limits", "--manual-clock") as srv:
        kin = client(srv, attempts=1)
        kin.create_stream(StreamName="hot", ShardCount=1)
        results = []
        for _ in range(3):  # 1,500 records at once: more than one second of 1,000 records/s
            r = kin.put_records(StreamName="hot", Records=[{"Data": b"x", "PartitionKey": "k"}] * 500)
            results += r["Records"]
        failed = [x for x in results if "ErrorCode" in x]
        checks.ok(failed, "PutRecords over the per-shard rate fails some entries")
        checks.ok(all(x["ErrorCode"] == "ProvisionedThroughputExceededException" for x in failed),
                  "failed entries carry ProvisionedThroughputExceededException")
        checks.ok(all("ErrorMessage" in x and "SequenceNumber" not in x for x in failed), "failed entry shape")
        it = kin.get_shard_iterator(StreamName="hot", ShardId="shardId-000000000000",
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        codes = []
        for _ in range(8):  # 5 GetRecords per second per shard
            got, status = error_code(kin.get_records, ShardIterator=it, Limit=1)
            codes.append(got)
        checks.ok("ProvisionedThroughputExceededException" in codes, f"GetRecords over 5 calls/s is throttled ({codes})")
        checks.eq(srv.stop(), 0, "throughput server exits 0 on SIGTERM")


def main():
    binary = harness.server_binary()
    harness.use_dummy_credentials()
    with harness.Server(binary, "--create-delay", "200", "--update-delay", "200", "--delete-delay", "200",
                        "--shard-limit", "20") as srv:
        kin = client(srv)
        checks.run(scenario_lifecycle, kin)
        checks.run(scenario_records_and_resharding, kin)
        checks.run(scenario_retention_and_tags, kin)
        checks.run(scenario_paging, kin)
        checks.run(scenario_errors, kin)
        checks.run(scenario_delete, kin)
        checks.run(scenario_consumers, kin)
        checks.run(scenario_state_only, kin)
        checks.eq(srv.stop(), 0, "tributary-server exits 0 on SIGTERM")
    checks.run(scenario_throughput, binary)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
