#!/usr/bin/env python3
"""A C++ host with its own processor behind tributary-server's wire API
(tributary/server.h, tests/endpoint/flink_host.cc), driven by boto3: the
host's processor is the only code there is (no built-ins), runs, and writes.

Usage: flink_host_test.py PATH/TO/flink_host
"""

import sys

import boto3
import botocore.exceptions

import harness
from flink_util import ROLE, app_config, create_streams, put, read_all, wait_for, wait_status

checks = harness.Checks("flink-host")


def main():
    binary = harness.server_binary()
    harness.use_dummy_credentials()
    with harness.Server(binary) as server:
        k = boto3.client("kinesis", endpoint_url=server.url)
        a = boto3.client("kinesisanalyticsv2", endpoint_url=server.url)
        create_streams(k, "in", "out")
        try:
            a.create_application(ApplicationName="Counting", RuntimeEnvironment="FLINK-1_15",
                                 ServiceExecutionRole=ROLE, ApplicationConfiguration=app_config())
            checks.ok(False, "counter is not built into this host")
        except botocore.exceptions.ClientError as e:
            checks.eq(e.response["Error"]["Code"], "InvalidArgumentException", "an unknown FileKey")
            checks.ok("known: shout-1.0.jar" in e.response["Error"]["Message"], e.response["Error"]["Message"])
        a.create_application(ApplicationName="Shouting", RuntimeEnvironment="FLINK-1_19", ServiceExecutionRole=ROLE,
                             ApplicationConfiguration=app_config(file_key="shout-1.0.jar", output_stream="out"))
        a.start_application(ApplicationName="Shouting")
        wait_status(a, "Shouting", "RUNNING")
        put(k, "in", 10)
        out = wait_for("ten records out", lambda: (lambda r: len(r) == 10 and r)(read_all(k, "out")))
        checks.eq(sorted(r["Data"].decode() for r in out), sorted(f"CLICK {i}" for i in range(10)),
                  "the host's processor ran")
        checks.eq(server.stop(), 0, "the host shuts down")
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
