"""orders.py's retry logic against injected throttles, partial PutRecords
failures and expired iterators."""

import botocore.exceptions
import pytest

from orders import Consumer, Producer

SHARD = "shardId-000000000000"


@pytest.fixture
def stream(kinesis):
    kinesis.create_stream(StreamName="orders", ShardCount=1)
    return "orders"


def records(n):
    return [(f"customer-{i % 3}", f"order-{i}".encode()) for i in range(n)]


def test_partial_failures_are_resent_and_nothing_is_lost_or_doubled(kinesis, faults, stream):
    faults.fail_records([1, 3], batches=1)
    faults.fail_records([0], batches=1, error="InternalFailure")
    producer = Producer(kinesis, stream)
    seqs = producer.put_all(records(5))
    assert producer.attempts == 3  # 5 sent, 2 resent, 1 resent
    assert producer.resent == 3
    assert all(seqs)
    got = Consumer(kinesis, stream).read_shard(SHARD)
    assert sorted(got) == sorted(d for _, d in records(5))
    assert len(got) == 5
    assert all(rule["count"] == 0 for rule in faults.list())


def test_a_throttled_whole_batch_is_retried(kinesis, faults, stream):
    faults.throttle_put_records(2)
    producer = Producer(kinesis, stream)
    producer.put_all(records(4))
    assert producer.attempts == 3
    assert len(Consumer(kinesis, stream).read_shard(SHARD)) == 4


def test_the_producer_gives_up_when_throttling_never_ends(kinesis, faults, stream):
    faults.throttle_put_records(count=-1)
    with pytest.raises(RuntimeError, match="not written"):
        Producer(kinesis, stream, max_attempts=3).put_all(records(2))
    faults.clear()
    assert Consumer(kinesis, stream).read_shard(SHARD) == []


def test_the_consumer_rides_out_throttles_and_expired_iterators(kinesis, faults, stream):
    Producer(kinesis, stream).put_all(records(6))
    faults.throttle_get_records(2)
    faults.fail_get_shard_iterator(1)
    consumer = Consumer(kinesis, stream)
    assert consumer.read_shard(SHARD) == [d for _, d in records(6)]
    assert consumer.retries == 3



def test_an_expired_iterator_resumes_after_the_last_record_processed(kinesis, faults, stream):
    Producer(kinesis, stream).put_all(records(6))
    # Rules fire in order: the first GetRecords only gets 1 ms slower, the
    # second finds its iterator expired.
    faults.delay("GetRecords", latency_ms=1)
    faults.expire_iterators(1, stream=stream, shard=SHARD)
    consumer = Consumer(kinesis, stream, limit=2)
    assert consumer.read_shard(SHARD) == [d for _, d in records(6)]  # all, once each, in order
    assert consumer.new_iterators == 1
    assert [r["fired"] for r in faults.list()] == [1, 1]


def test_an_error_that_is_not_retryable_surfaces(kinesis, faults, stream):
    faults.fail("PutRecords", "ResourceNotFoundException", stream=stream)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        Producer(kinesis, stream).put_all(records(1))
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert "injected" in e.value.response["Error"]["Message"]
