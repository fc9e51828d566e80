#!/usr/bin/env python3
"""boto3 (Debian python3-boto3) and the AWS CLI v2 against tributary-server's
https listener, trusting the run's --tls-self-signed CA through
AWS_CA_BUNDLE as a user would. Both speak HTTP/1.1 over TLS (ALPN
http/1.1). Records, a reshard, a subscription, and the CLI's own calls.

Usage: tls_clients_test.py PATH/TO/tributary-server PATH/TO/aws
"""

import json
import os
import subprocess
import sys
import time

import boto3
import botocore.config
import botocore.exceptions

import harness

checks = harness.Checks("tls-clients")


def scenario_boto3(srv):
    url = srv.tls_url.replace("127.0.0.1", "localhost")
    cfg = botocore.config.Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30)
    kin = boto3.session.Session().client("kinesis", endpoint_url=url, config=cfg)
    kin.create_stream(StreamName="tls", ShardCount=1)
    kin.get_waiter("stream_exists").wait(StreamName="tls", WaiterConfig={"Delay": 0.05, "MaxAttempts": 400})
    put = kin.put_record(StreamName="tls", Data=b"over https", PartitionKey="a")
    it = kin.get_shard_iterator(StreamName="tls", ShardId=put["ShardId"], ShardIteratorType="TRIM_HORIZON")
    got = kin.get_records(ShardIterator=it["ShardIterator"])
    checks.eq([r["Data"] for r in got["Records"]], [b"over https"], "boto3 over https: put and get")
    kin.split_shard(StreamName="tls", ShardToSplit=put["ShardId"], NewStartingHashKey=str(2**127))
    kin.get_waiter("stream_exists").wait(StreamName="tls", WaiterConfig={"Delay": 0.05, "MaxAttempts": 400})
    checks.eq(len(kin.list_shards(StreamName="tls")["Shards"]), 3, "boto3 over https: split, ListShards")
    arn = kin.describe_stream_summary(StreamName="tls")["StreamDescriptionSummary"]["StreamARN"]
    carn = kin.register_stream_consumer(StreamARN=arn, ConsumerName="c")["Consumer"]["ConsumerARN"]
    for _ in range(400):
        if kin.describe_stream_consumer(ConsumerARN=carn)["ConsumerDescription"]["ConsumerStatus"] == "ACTIVE":
            break
        time.sleep(0.01)
    sub = kin.subscribe_to_shard(ConsumerARN=carn, ShardId=put["ShardId"], StartingPosition={"Type": "TRIM_HORIZON"})
    records = []
    for ev in sub["EventStream"]:
        records += ev["SubscribeToShardEvent"]["Records"]
        if records:
            break
    checks.eq([r["Data"] for r in records], [b"over https"], "boto3 over https: SubscribeToShard")
    # Without the CA the certificate is refused.
    os.environ["AWS_CA_BUNDLE"] = "/etc/ssl/certs/ca-certificates.crt"
    strict = boto3.session.Session().client("kinesis", endpoint_url=url, config=cfg)
    try:
        strict.list_streams()
        checks.ok(False, "an untrusted certificate is refused")
    except botocore.exceptions.SSLError:
        checks.ok(True, "an untrusted certificate is refused")
    os.environ["AWS_CA_BUNDLE"] = srv.ca_file


def scenario_cli(srv, aws):
    url = srv.tls_url.replace("127.0.0.1", "localhost")
    env = dict(os.environ, AWS_CA_BUNDLE=srv.ca_file)

    def cli(*args):
        out = subprocess.run([aws, "--endpoint-url", url, "--output", "json", "kinesis", *args], env=env,
                             capture_output=True, text=True, timeout=120)
        checks.ok(out.returncode == 0, f"aws kinesis {args[0]} over https: {out.stderr[-500:]}")
        return json.loads(out.stdout) if out.stdout.strip() else {}

    cli("create-stream", "--stream-name", "cli-tls", "--shard-count", "1")
    cli("wait", "stream-exists", "--stream-name", "cli-tls")
    put = cli("put-record", "--stream-name", "cli-tls", "--partition-key", "k", "--data", "aGVsbG8=")
    checks.ok(put.get("SequenceNumber"), "aws kinesis put-record over https returns a sequence number")
    names = cli("list-streams").get("StreamNames", [])
    checks.ok("cli-tls" in names, f"aws kinesis list-streams over https: {names}")


def main():
    binary = harness.server_binary()
    aws = sys.argv[2] if len(sys.argv) > 2 else "aws"
    harness.use_dummy_credentials()
    with harness.Server(binary, "--create-delay", "0", "--update-delay", "0", "--delete-delay", "0", tls=True) as srv:
        os.environ["AWS_CA_BUNDLE"] = srv.ca_file
        checks.run(scenario_boto3, srv)
        checks.run(scenario_cli, srv, aws)
        checks.eq(srv.stop(), 0, "tributary-server exits 0 on SIGTERM")
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
