"""The server's manual clock: retention, EXPIRED shards, iterator expiry,
CREATING/UPDATING delays and MillisBehindLatest move without sleeping."""

import time

import botocore.exceptions
import pytest

MID = str(2**127)
PARENT = "shardId-000000000000"


def shard_ids(kinesis, stream):
    return [s["ShardId"] for s in kinesis.list_shards(StreamName=stream)["Shards"]]


def error_code(fn, **kwargs):
    try:
        fn(**kwargs)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
    return None


def test_25_hours_later_the_parent_shard_is_expired_in_under_a_second(kinesis, clock):
    started = time.monotonic()
    kinesis.create_stream(StreamName="orders", ShardCount=1)
    kinesis.put_record(StreamName="orders", PartitionKey="k", Data=b"before the split")
    kinesis.split_shard(StreamName="orders", ShardToSplit=PARENT, NewStartingHashKey=MID)
    assert shard_ids(kinesis, "orders") == [PARENT, "shardId-000000000001", "shardId-000000000002"]
    it = kinesis.get_shard_iterator(StreamName="orders", ShardId=PARENT,
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=it)["Records"]] == [b"before the split"]

    clock.advance(hours=25)

    # EXPIRED: its records are gone and it has left the listings.
    assert shard_ids(kinesis, "orders") == ["shardId-000000000001", "shardId-000000000002"]
    described = kinesis.describe_stream(StreamName="orders")["StreamDescription"]["Shards"]
    assert PARENT not in [s["ShardId"] for s in described]
    assert error_code(kinesis.get_shard_iterator, StreamName="orders", ShardId=PARENT,
                      ShardIteratorType="TRIM_HORIZON") == "ResourceNotFoundException"
    assert time.monotonic() - started < 1.0


def test_advance_past_retention_reads_the_streams_retention(kinesis, clock):
    kinesis.create_stream(StreamName="s", ShardCount=1)
    kinesis.increase_stream_retention_period(StreamName="s", RetentionPeriodHours=48)
    kinesis.put_record(StreamName="s", PartitionKey="k", Data=b"x")
    t0 = clock.now_ms()
    clock.advance(hours=24, ms=1)
    it = kinesis.get_shard_iterator(StreamName="s", ShardId=PARENT, ShardIteratorType="TRIM_HORIZON")
    assert len(kinesis.get_records(ShardIterator=it["ShardIterator"])["Records"]) == 1  # 48 h retention
    assert clock.advance_past_retention("s") == t0 + (24 + 48) * 3600 * 1000 + 2
    it = kinesis.get_shard_iterator(StreamName="s", ShardId=PARENT, ShardIteratorType="TRIM_HORIZON")
    assert kinesis.get_records(ShardIterator=it["ShardIterator"])["Records"] == []


def test_iterators_expire_and_millis_behind_latest_grows_with_the_clock(kinesis, clock):
    kinesis.create_stream(StreamName="s", ShardCount=1)
    it = kinesis.get_shard_iterator(StreamName="s", ShardId=PARENT,
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    kinesis.put_record(StreamName="s", PartitionKey="k", Data=b"x")
    clock.advance(minutes=2)
    page = kinesis.get_records(ShardIterator=it, Limit=1)
    assert page["MillisBehindLatest"] == 0  # read the newest record
    it = page["NextShardIterator"]
    clock.advance_past_iterator_lifetime()
    assert error_code(kinesis.get_records, ShardIterator=it) == "ExpiredIteratorException"


def test_creating_and_updating_last_until_the_clock_moves(tributary_server_factory):
    from pytest_tributary import Control

    server = tributary_server_factory("--create-delay", "500", "--update-delay", "2000")
    import boto3
    kinesis = boto3.client("kinesis", endpoint_url=server.url, region_name="us-east-1",
                           aws_access_key_id="AKIDTEST", aws_secret_access_key="x")
    control = Control(server.url, kinesis=kinesis)
    kinesis.create_stream(StreamName="slow", ShardCount=1)

    def status():
        return kinesis.describe_stream_summary(StreamName="slow")["StreamDescriptionSummary"]["StreamStatus"]

    time.sleep(0.6)  # wall time does not count: the server's clock is manual
    assert status() == "CREATING"
    control.clock.advance(ms=499)
    assert status() == "CREATING"
    control.clock.advance(ms=1)
    assert status() == "ACTIVE"
    kinesis.update_shard_count(StreamName="slow", TargetShardCount=2, ScalingType="UNIFORM_SCALING")
    assert status() == "UPDATING"
    assert control.clock.advance_until_active("slow", step_ms=500) == 2000
    assert len(kinesis.list_shards(StreamName="slow")["Shards"]) == 3
