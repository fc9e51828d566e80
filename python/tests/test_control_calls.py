"""Each control call through the plugin's helpers (raw HTTP: tests/endpoint/control_test.py)."""

import pytest

from pytest_tributary import ControlError


def test_a_test_starts_from_an_empty_server_part_1(kinesis, faults):
    kinesis.create_stream(StreamName="left-over", ShardCount=1)
    faults.throttle_puts(5)


def test_a_test_starts_from_an_empty_server_part_2(kinesis, faults):
    assert kinesis.list_streams()["StreamNames"] == []
    assert faults.list() == []


def test_reset_removes_streams_and_consumers_at_once(tributary, kinesis):
    kinesis.create_stream(StreamName="a", ShardCount=2)
    arn = kinesis.describe_stream_summary(StreamName="a")["StreamDescriptionSummary"]["StreamARN"]
    kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="c")
    tributary.reset()
    assert kinesis.list_streams()["StreamNames"] == []
    kinesis.create_stream(StreamName="a", ShardCount=1)  # the name is free at once
    assert kinesis.list_stream_consumers(StreamARN=arn)["Consumers"] == []


def test_clock_reads_and_moves(clock):
    assert clock.is_manual()
    t0 = clock.now_ms()
    assert clock.advance(seconds=1.5) == t0 + 1500
    assert clock.advance(hours=1) == t0 + 1500 + 3_600_000
    assert clock.now_ms() == t0 + 1500 + 3_600_000


def test_fault_rules_list_count_down_and_go(kinesis, faults):
    kinesis.create_stream(StreamName="s", ShardCount=1)
    first = faults.throttle_puts(2, stream="s")
    second = faults.fail("ListShards", "LimitExceededException", count=-1)
    assert [r["id"] for r in faults.list()] == [first, second]
    with pytest.raises(kinesis.exceptions.ProvisionedThroughputExceededException):
        kinesis.put_record(StreamName="s", PartitionKey="k", Data=b"x")
    with pytest.raises(kinesis.exceptions.LimitExceededException):
        kinesis.list_shards(StreamName="s")
    rules = faults.list()
    assert rules[0]["count"] == 1 and rules[0]["fired"] == 1 and rules[0]["stream"] == "s"
    assert rules[1]["count"] == -1
    faults.remove(second)
    kinesis.list_shards(StreamName="s")
    faults.clear()
    kinesis.put_record(StreamName="s", PartitionKey="k", Data=b"x")
    assert faults.list() == []


def test_partial_failure_seen_by_boto3(kinesis, faults):
    kinesis.create_stream(StreamName="s", ShardCount=1)
    faults.fail_records([0, 2])
    out = kinesis.put_records(StreamName="s", Records=[
        {"PartitionKey": "k", "Data": bytes([i])} for i in range(3)])
    assert out["FailedRecordCount"] == 2
    assert [r.get("ErrorCode") for r in out["Records"]] == [
        "ProvisionedThroughputExceededException", None, "ProvisionedThroughputExceededException"]


def test_latency_is_real_time(kinesis, faults):
    import time
    kinesis.create_stream(StreamName="s", ShardCount=1)
    faults.delay("DescribeStreamSummary", latency_ms=300)
    started = time.monotonic()
    kinesis.describe_stream_summary(StreamName="s")
    assert time.monotonic() - started >= 0.3


def test_bad_rules_are_refused(faults):
    with pytest.raises(ControlError) as e:
        faults.fail("PutRecordz", "InternalFailure")
    assert e.value.status == 400 and e.value.type == "ValidationException"
    with pytest.raises(ControlError, match="not an AWS error type"):
        faults.fail("PutRecord", "Oops")


def test_removing_an_unknown_rule_is_not_found(faults):
    with pytest.raises(ControlError) as e:
        faults.remove("fault-999")
    assert e.value.status == 404
