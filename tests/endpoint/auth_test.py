#!/usr/bin/env python3
"""tributary-server signatures and accounts, with boto3 (Debian python3-boto3).

Signatures: with --credentials, boto3 signed with the right secret is served;
a wrong secret, an unknown key, an unsigned request and a malformed
Authorization header get the AWS errors a client expects.
Accounts: with --account-from-access-key, two access keys are two accounts:
separate streams, ARNs with their account ids, durable under
<data-dir>/accounts/<id>/ across a restart.

Usage: auth_test.py PATH/TO/tributary-server
"""

import http.client
import json
import os
import sys
import tempfile

import boto3
import botocore
import botocore.config
import botocore.exceptions

import harness

checks = harness.Checks("auth")


def client(server, key, secret, signed=True):
    cfg = botocore.config.Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30)
    if not signed:
        cfg = cfg.merge(botocore.config.Config(signature_version=botocore.UNSIGNED))
    return boto3.client("kinesis", endpoint_url=server.url, config=cfg,
                        aws_access_key_id=key, aws_secret_access_key=secret)


def error_of(fn, **kwargs):
    try:
        fn(**kwargs)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"].get("Message", "")
    return None, 200, ""


def raw_post(server, headers, body=b"{}"):
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    h = {"X-Amz-Target": "Kinesis_20131202.ListStreams", "Content-Type": "application/x-amz-json-1.1"}
    h.update(headers)
    conn.request("POST", "/", body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, json.loads(data)


def scenario_signatures(binary, tmp):
    creds = os.path.join(tmp, "credentials")
    with open(creds, "w") as f:
        f.write("# test keys\nAKIDALICE alice-secret\n\nAKIDBOB bob-secret  # trailing comment\n")
    with harness.Server(binary, "--create-delay", "0", "--credentials", creds,
                        "--access-key", "AKIDCAROL", "--secret-key", "carol-secret") as srv:
        alice = client(srv, "AKIDALICE", "alice-secret")
        alice.create_stream(StreamName="signed", ShardCount=1)
        checks.eq(alice.list_streams()["StreamNames"], ["signed"], "a request signed with the right secret is served")
        r = alice.put_record(StreamName="signed", Data=b"x" * 1000, PartitionKey="k")
        checks.ok(r["SequenceNumber"].isdigit(), "a signed PutRecord with a body is served")
        for key, secret, what in (("AKIDBOB", "bob-secret", "a second key of the file"),
                                  ("AKIDCAROL", "carol-secret", "the --access-key pair")):
            checks.eq(client(srv, key, secret).list_streams()["StreamNames"], ["signed"], what)

        code, status, msg = error_of(client(srv, "AKIDALICE", "wrong-secret").list_streams)
        checks.eq((code, status), ("InvalidSignatureException", 400), "a wrong secret")
        checks.ok("does not match" in msg, f"the wrong-secret message says so ({msg[:80]!r})")
        code, status, _ = error_of(client(srv, "AKIDALICE", "wrong-secret").put_record,
                                   StreamName="signed", Data=b"x", PartitionKey="k")
        checks.eq((code, status), ("InvalidSignatureException", 400), "a wrong secret cannot write")
        code, status, msg = error_of(client(srv, "AKIDMALLORY", "whatever").list_streams)
        checks.eq((code, status), ("UnrecognizedClientException", 400), "an unknown access key id")
        checks.eq(msg, "The security token included in the request is invalid.", "UnrecognizedClient message")
        code, status, _ = error_of(client(srv, "AKIDALICE", "alice-secret", signed=False).list_streams)
        # Observed AWS behaviour: 400 in the JSON protocol (403 only in its XML answers).
        checks.eq((code, status), ("MissingAuthenticationTokenException", 400), "an unsigned request")
        status, body = raw_post(srv, {"Authorization": "AWS4-HMAC-SHA256 Signature=abc", "X-Amz-Date": "20240101T000000Z"})
        checks.eq((body.get("__type"), status), ("IncompleteSignatureException", 400), "a malformed Authorization header")
        status, body = raw_post(srv, {"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDALICE/20240101/us-east-1/kinesis/aws4_request, "
                                                       "SignedHeaders=host;x-amz-date, Signature=00"})
        checks.eq((body.get("__type"), status), ("IncompleteSignatureException", 400), "no X-Amz-Date")
        status, body = raw_post(srv, {"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDALICE/20200101/us-east-1/kinesis/aws4_request, "
                                                       "SignedHeaders=host;x-amz-date, Signature=00",
                                      "X-Amz-Date": "20200101T000000Z"})
        checks.eq(body.get("__type"), "InvalidSignatureException", "a request signed in 2020 has expired")
        checks.ok("Signature expired" in body.get("message", ""), "the expiry message")
        checks.eq(alice.list_streams()["StreamNames"], ["signed"], "rejected requests changed nothing")
        checks.eq(srv.stop(), 0, "the verifying server exits 0 on SIGTERM")


def scenario_accounts(binary, tmp):
    data = os.path.join(tmp, "data")
    args = ("--create-delay", "0", "--account-from-access-key", "--data-dir", data)
    with harness.Server(binary, *args, storage=()) as srv:
        a = client(srv, "111111111111", "x")
        b = client(srv, "222222222222", "y")
        real = client(srv, "AKIAIOSFODNN7EXAMPLE", "z")
        default = client(srv, "AKIDTRIBUTARYTEST", "z", signed=False)  # no Authorization header
        for c in (a, b, real, default):
            c.create_stream(StreamName="orders", ShardCount=1)
        a.create_stream(StreamName="only-a", ShardCount=1)
        arn = lambda c: c.describe_stream_summary(StreamName="orders")["StreamDescriptionSummary"]["StreamARN"]
        checks.eq(arn(a), "arn:aws:kinesis:us-east-1:111111111111:stream/orders", "a 12-digit key is the account id")
        checks.eq(arn(b), "arn:aws:kinesis:us-east-1:222222222222:stream/orders", "another key, another account")
        checks.eq(arn(real), "arn:aws:kinesis:us-east-1:581039954779:stream/orders",
                  "an AWS-format key carries its account id")
        checks.eq(arn(default), "arn:aws:kinesis:us-east-1:000000000000:stream/orders",
                  "no Authorization header: the default account")
        checks.eq(a.list_streams()["StreamNames"], ["only-a", "orders"], "account A lists its streams")
        checks.eq(b.list_streams()["StreamNames"], ["orders"], "account B does not see A's streams")
        code, _, _ = error_of(b.describe_stream, StreamName="only-a")
        checks.eq(code, "ResourceNotFoundException", "A's stream does not exist for B")
        code, _, _ = error_of(b.register_stream_consumer, StreamARN=arn(a), ConsumerName="c")
        checks.eq(code, "ResourceNotFoundException", "B cannot reach A's stream by its ARN")
        a.put_record(StreamName="orders", Data=b"for a", PartitionKey="k")
        b.put_record(StreamName="orders", Data=b"for b", PartitionKey="k")

        def read(c):
            it = c.get_shard_iterator(StreamName="orders", ShardId="shardId-000000000000",
                                      ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            return [r["Data"] for r in c.get_records(ShardIterator=it)["Records"]]
        checks.eq(read(a), [b"for a"], "account A reads its own record only")
        checks.eq(read(b), [b"for b"], "account B reads its own record only")
        checks.ok(os.path.isdir(os.path.join(data, "accounts", "222222222222")),
                  "account B's store lives in <data-dir>/accounts/222222222222")
        checks.ok(not os.path.exists(os.path.join(data, "accounts", "000000000000")),
                  "the default account stays in the data directory itself")
        checks.eq(srv.stop(), 0, "the accounts server exits 0 on SIGTERM")
    with harness.Server(binary, *args, storage=()) as srv:
        b = client(srv, "222222222222", "y")
        checks.eq(read(b), [b"for b"], "account B's record survives a restart")
        checks.eq(client(srv, "111111111111", "x").list_streams()["StreamNames"], ["only-a", "orders"],
                  "account A's streams survive a restart")
        checks.eq(srv.stop(), 0, "the restarted server exits 0")


def scenario_signed_accounts(binary, tmp):
    creds = os.path.join(tmp, "two-keys")
    with open(creds, "w") as f:
        f.write("333333333333 s3\n444444444444 s4\n")
    with harness.Server(binary, "--create-delay", "0", "--account-from-access-key", "--credentials", creds) as srv:
        c3, c4 = client(srv, "333333333333", "s3"), client(srv, "444444444444", "s4")
        c3.create_stream(StreamName="x", ShardCount=1)
        checks.eq((c3.list_streams()["StreamNames"], c4.list_streams()["StreamNames"]), (["x"], []),
                  "verified keys select their accounts")
        code, _, _ = error_of(client(srv, "333333333333", "s4").list_streams)
        checks.eq(code, "InvalidSignatureException", "another account's secret does not sign for it")
        checks.eq(srv.stop(), 0, "exits 0")


def main():
    binary = harness.server_binary()
    harness.use_dummy_credentials()
    with tempfile.TemporaryDirectory() as tmp:
        checks.run(scenario_signatures, binary, tmp)
        checks.run(scenario_accounts, binary, tmp)
        checks.run(scenario_signed_accounts, binary, tmp)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
