"""The example of README.md "Testing from Python, Java, JavaScript or Go", verbatim
in its test function (my_producer and orders stand for the user's code)."""

from types import SimpleNamespace

from orders import Producer

my_producer = SimpleNamespace(send_all=lambda kinesis, stream, records: Producer(kinesis, stream).put_all(records))
orders = [(f"customer-{i}", f"order-{i}".encode()) for i in range(5)]
MID = str(2**127)


def test_my_producer_retries_and_the_parent_shard_expires(kinesis, faults, clock):
    kinesis.create_stream(StreamName="orders", ShardCount=1)
    faults.throttle_put_records(2)        # the next 2 PutRecords: ProvisionedThroughputExceeded
    faults.fail_records([1, 3])           # the next PutRecords: entries 1 and 3 fail
    my_producer.send_all(kinesis, "orders", orders)          # your code, with its retries
    assert all(rule["count"] == 0 for rule in faults.list()) # every fault was hit

    kinesis.split_shard(StreamName="orders", ShardToSplit="shardId-000000000000",
                        NewStartingHashKey=MID)
    clock.advance(hours=25)               # no sleeping: the server's clock jumps
    shards = [s["ShardId"] for s in kinesis.list_shards(StreamName="orders")["Shards"]]
    assert "shardId-000000000000" not in shards              # the parent is EXPIRED
