#!/usr/bin/env python3
"""SubscribeToShard through tributary-server with boto3 (Debian python3-boto3),
which speaks it over HTTP/1.1 and parses the event stream itself: records,
ContinuationSequenceNumber, resuming, the ACTIVE-consumer and one-subscription
rules, and a read across a split (the parent's last event names its
ChildShards, then the children are read).

Usage: subscribe_test.py PATH/TO/tributary-server
"""

import collections
import http.client
import json
import struct
import sys
import time
import zlib

import boto3
import botocore.config
import botocore.exceptions

import harness

checks = harness.Checks("subscribe")
MID = str(2**127)


def client(server):
    cfg = botocore.config.Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30)
    return boto3.client("kinesis", endpoint_url=server.url, config=cfg)


def error_code(fn, **kwargs):
    try:
        fn(**kwargs)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
    return None


def wait_consumer(kin, arn):
    for _ in range(400):
        if kin.describe_stream_consumer(ConsumerARN=arn)["ConsumerDescription"]["ConsumerStatus"] == "ACTIVE":
            return
        time.sleep(0.01)
    raise RuntimeError("consumer never became ACTIVE")


def collect(events, want, max_events=50):
    """Reads events until `want` records arrived, or the shard ended; returns (records, last event, count)."""
    records, last, n = [], None, 0
    for ev in events:
        n += 1
        e = ev["SubscribeToShardEvent"]
        records += e["Records"]
        last = e
        if len(records) >= want or "ContinuationSequenceNumber" not in e or n >= max_events:
            break
    return records, last, n


def scenario_subscribe(kin):
    kin.create_stream(StreamName="fan", ShardCount=2)
    kin.get_waiter("stream_exists").wait(StreamName="fan", WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})
    stream_arn = kin.describe_stream_summary(StreamName="fan")["StreamDescriptionSummary"]["StreamARN"]
    consumer = kin.register_stream_consumer(StreamARN=stream_arn, ConsumerName="app")["Consumer"]["ConsumerARN"]
    checks.eq(error_code(kin.subscribe_to_shard, ConsumerARN=consumer, ShardId="shardId-000000000000",
                         StartingPosition={"Type": "TRIM_HORIZON"}),
              "ResourceInUseException", "a CREATING consumer cannot subscribe")
    wait_consumer(kin, consumer)
    checks.eq(error_code(kin.subscribe_to_shard, ConsumerARN=consumer, ShardId="shardId-000000000077",
                         StartingPosition={"Type": "TRIM_HORIZON"}),
              "ResourceNotFoundException", "a shard that does not exist")

    # Route everything to shard 0 with an explicit hash key.
    seqs = [kin.put_record(StreamName="fan", Data=f"rec {i}".encode() + b"\x00\xff", PartitionKey=f"k{i}",
                           ExplicitHashKey="1")["SequenceNumber"] for i in range(5)]
    r = kin.subscribe_to_shard(ConsumerARN=consumer, ShardId="shardId-000000000000",
                               StartingPosition={"Type": "TRIM_HORIZON"})
    checks.eq(r["ResponseMetadata"]["HTTPStatusCode"], 200, "SubscribeToShard answers 200")
    events = r["EventStream"]
    records, last, _ = collect(events, 5)
    checks.eq([x["Data"] for x in records], [f"rec {i}".encode() + b"\x00\xff" for i in range(5)],
              "the subscription pushes the shard's records, data intact")
    checks.eq([x["SequenceNumber"] for x in records], seqs, "in sequence-number order")
    checks.eq(last["ContinuationSequenceNumber"], seqs[-1], "ContinuationSequenceNumber is the last record's")
    checks.ok(isinstance(last["MillisBehindLatest"], int), "MillisBehindLatest is a number")
    checks.ok(all("ApproximateArrivalTimestamp" in x and x["PartitionKey"] for x in records), "record fields")

    # While it is open, the same consumer cannot subscribe to the same shard.
    checks.eq(error_code(kin.subscribe_to_shard, ConsumerARN=consumer, ShardId="shardId-000000000000",
                         StartingPosition={"Type": "LATEST"}),
              "ResourceInUseException", "a second subscription to the same shard within 5 s")
    # Records put now are pushed to the open subscription.
    more = [kin.put_record(StreamName="fan", Data=b"live", PartitionKey="k", ExplicitHashKey="1")["SequenceNumber"]
            for _ in range(2)]
    live, last, _ = collect(events, 2)
    checks.eq([x["SequenceNumber"] for x in live], more, "records put during the subscription are pushed")
    events.close()

    # Resume from a continuation on another shard's fresh subscription.
    r1 = kin.subscribe_to_shard(ConsumerARN=consumer, ShardId="shardId-000000000001",
                                StartingPosition={"Type": "LATEST"})
    first = next(iter(r1["EventStream"]))["SubscribeToShardEvent"]
    checks.eq(first["Records"], [], "LATEST on a quiet shard: the first event has no records")
    cont = first["ContinuationSequenceNumber"]
    r1["EventStream"].close()
    high = str(2**128 - 1)
    later = kin.put_record(StreamName="fan", Data=b"later", PartitionKey="z", ExplicitHashKey=high)["SequenceNumber"]
    # The first subscription to shard 1 may still be live for a moment; retry past the 5 s rule if needed.
    for _ in range(80):
        try:
            r2 = kin.subscribe_to_shard(ConsumerARN=consumer, ShardId="shardId-000000000001",
                                        StartingPosition={"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": cont})
            break
        except botocore.exceptions.ClientError as e:
            if e.response["Error"]["Code"] != "ResourceInUseException":
                raise
            time.sleep(0.1)
    got, _, _ = collect(r2["EventStream"], 1)
    checks.eq([x["SequenceNumber"] for x in got], [later], "AFTER_SEQUENCE_NUMBER from a continuation resumes exactly")
    r2["EventStream"].close()
    return stream_arn, consumer


def scenario_split(kin, stream_arn, consumer):
    kin.create_stream(StreamName="split", ShardCount=1)
    kin.get_waiter("stream_exists").wait(StreamName="split", WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})
    arn = kin.describe_stream_summary(StreamName="split")["StreamDescriptionSummary"]["StreamARN"]
    c = kin.register_stream_consumer(StreamARN=arn, ConsumerName="reader")["Consumer"]["ConsumerARN"]
    wait_consumer(kin, c)
    keys = [f"key-{i}" for i in range(12)]
    for k in keys:
        kin.put_record(StreamName="split", Data=f"{k} before".encode(), PartitionKey=k)
    kin.split_shard(StreamName="split", ShardToSplit="shardId-000000000000", NewStartingHashKey=MID)
    kin.get_waiter("stream_exists").wait(StreamName="split", WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})
    for k in keys:
        kin.put_record(StreamName="split", Data=f"{k} after".encode(), PartitionKey=k)

    r = kin.subscribe_to_shard(ConsumerARN=c, ShardId="shardId-000000000000", StartingPosition={"Type": "TRIM_HORIZON"})
    parent, last, n = collect(r["EventStream"], 10**9)
    checks.eq(len(parent), len(keys), "the parent's records are pushed")
    checks.ok("ContinuationSequenceNumber" not in last, "the event ending the parent has no ContinuationSequenceNumber")
    children = sorted(x["ShardId"] for x in last.get("ChildShards", []))
    checks.eq(children, ["shardId-000000000001", "shardId-000000000002"], "the last event names both children")
    checks.eq(last["ChildShards"][0]["ParentShards"], ["shardId-000000000000"], "ChildShards ParentShards")
    checks.eq(sum(1 for _ in r["EventStream"]), 0, "the event stream ends after the parent's end")

    per_key = collections.defaultdict(list)
    for x in parent:
        per_key[x["PartitionKey"]].append(x["Data"].decode())
    for child in children:
        rc = kin.subscribe_to_shard(ConsumerARN=c, ShardId=child, StartingPosition={"Type": "TRIM_HORIZON"})
        got, _, _ = collect(rc["EventStream"], 1)
        rc["EventStream"].close()
        for x in got:
            per_key[x["PartitionKey"]].append(x["Data"].decode())
    checks.eq({k: v for k, v in per_key.items()}, {k: [f"{k} before", f"{k} after"] for k in keys},
              "reading the parent to its end, then the children, keeps every key in order")


def raw_event_stream(server, consumer):
    """The framing itself, read with a plain HTTP client: prelude, headers, CRCs."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    body = json.dumps({"ConsumerARN": consumer, "ShardId": "shardId-000000000000",
                       "StartingPosition": {"Type": "TRIM_HORIZON"}})
    # Another shard-0 subscription of this consumer may have ended moments
    # ago; it frees its slot when the server notices, within about a second.
    for _ in range(80):
        conn.request("POST", "/", body=body, headers={"X-Amz-Target": "Kinesis_20131202.SubscribeToShard",
                                                      "Content-Type": "application/x-amz-json-1.1"})
        resp = conn.getresponse()
        if resp.status == 200:
            break
        resp.read()
        time.sleep(0.1)
    checks.eq(resp.status, 200, "raw SubscribeToShard: 200")
    checks.eq(resp.getheader("Content-Type"), "application/vnd.amazon.eventstream", "event stream content type")
    checks.eq(resp.getheader("Transfer-Encoding"), "chunked", "sent in HTTP/1.1 chunks")
    messages = []
    buf = b""
    while len(messages) < 2:
        buf += resp.read1(65536)
        while len(buf) >= 12:
            total, hlen, pcrc = struct.unpack(">III", buf[:12])
            if len(buf) < total:
                break
            msg, buf = buf[:total], buf[total:]
            checks.eq(pcrc, zlib.crc32(msg[:8]), "prelude CRC")
            checks.eq(struct.unpack(">I", msg[-4:])[0], zlib.crc32(msg[:-4]), "message CRC")
            headers, p = {}, 12
            while p < 12 + hlen:
                nlen = msg[p]
                name = msg[p + 1:p + 1 + nlen].decode()
                p += 1 + nlen
                checks.eq(msg[p], 7, f"header {name} is a string")
                vlen = struct.unpack(">H", msg[p + 1:p + 3])[0]
                headers[name] = msg[p + 3:p + 3 + vlen].decode()
                p += 3 + vlen
            messages.append((headers, json.loads(msg[12 + hlen:-4])))
    conn.close()
    checks.eq(messages[0][0].get(":event-type"), "initial-response", "the first message is the initial response")
    checks.eq(messages[0][0].get(":message-type"), "event", ":message-type event")
    checks.eq(messages[1][0].get(":event-type"), "SubscribeToShardEvent", "then SubscribeToShardEvent")
    checks.eq(messages[1][0].get(":content-type"), "application/x-amz-json-1.1", "event payloads are JSON 1.1")
    checks.ok("ContinuationSequenceNumber" in messages[1][1], "the event payload carries the continuation")


def main():
    binary = harness.server_binary()
    harness.use_dummy_credentials()
    with harness.Server(binary, "--create-delay", "100", "--update-delay", "0", "--delete-delay", "0") as srv:
        kin = client(srv)
        result = {}
        checks.run(lambda: result.update(zip(("arn", "consumer"), scenario_subscribe(kin))))
        if result:
            checks.run(scenario_split, kin, result["arn"], result["consumer"])
            checks.run(raw_event_stream, srv, result["consumer"])
        checks.eq(srv.stop(), 0, "tributary-server exits 0 on SIGTERM with subscriptions served")
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
