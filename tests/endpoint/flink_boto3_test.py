#!/usr/bin/env python3
"""tributary-server's Managed Service for Apache Flink API (kinesisanalyticsv2)
against boto3: every served action, every documented error, the rollback
document's two cases, FailOnStart with system rollback, two clients updating
with the same version id, a restart of the server (kill -9) in the middle,
the status page of an application, and bad input that must never be a 500.

Needs a botocore whose model has RuntimeEnvironmentUpdate and the operations
API (pip's boto3 on this machine image; Debian's 1.29 is too old): with an
older one the test fails at once and says so. `--legacy` runs the part an
old client can do (no runtime change, no operations API), for Debian's boto3.

Usage: flink_boto3_test.py PATH/TO/tributary-server [--legacy]
"""

import http.client
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import urllib.parse
import urllib.request

import boto3
import botocore
import botocore.config
import botocore.exceptions

import harness
from flink_util import (ROLE, BUCKET, app_config, counts, create_app, create_streams, describe, job_plan,
                        operations, put, wait_for, wait_status)

LEGACY = "--legacy" in sys.argv
checks = harness.Checks("flink-boto3-legacy" if LEGACY else "flink-boto3")
SERVER_ARGS = ["--create-delay", "0", "--update-delay", "0", "--delete-delay", "0",
               "--app-transition-ms", "100", "--app-restart-delay-ms", "300"]


def clients(server, validate=True):
    """Kinesis and kinesisanalyticsv2 clients; validate=False turns off
    botocore's own parameter checks, so the server's are tested."""
    cfg = botocore.config.Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30,
                                 parameter_validation=validate)
    return (boto3.client("kinesis", endpoint_url=server.url, config=cfg),
            boto3.client("kinesisanalyticsv2", endpoint_url=server.url, config=cfg))


def error_of(fn, **kwargs):
    try:
        fn(**kwargs)
    except botocore.exceptions.ClientError as e:
        return (e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"],
                e.response["Error"].get("Message", ""))
    return (None, 200, "")


def expect(code, fn, what, contains=None, **kwargs):
    got, status, message = error_of(fn, **kwargs)
    checks.eq(got, code, what)
    checks.eq(status, 400, f"{what}: HTTP status")
    if contains is not None:
        checks.ok(contains in message, f"{what}: message {message!r} should contain {contains!r}")
    return message


def client_is_new_enough():
    model = boto3.client("kinesisanalyticsv2", region_name="us-east-1").meta.service_model
    missing = [op for op in ("ListApplicationOperations", "DescribeApplicationOperation")
               if op not in model.operation_names]
    if "RuntimeEnvironmentUpdate" not in model.operation_model("UpdateApplication").input_shape.members:
        missing.append("UpdateApplication.RuntimeEnvironmentUpdate")
    if missing:
        print(f"FAIL: botocore {botocore.__version__} ({botocore.__file__}) is too old for this test: its "
              f"kinesisanalyticsv2 model lacks {', '.join(missing)} (in-place runtime upgrades and the "
              "operations API, 2023-2024); run it with a newer boto3 (pip's, first on PATH on this "
              "machine image), or with --legacy for what an old client can do", flush=True)
        return False
    return True


# ---------------------------------------------------------------- the document's first case

def scenario_failing_upgrade_rollback(server):
    """FLINK-1_15 -> FLINK-1_18 with FailOnStart: RUNNING while the job restarts;
    RollbackApplication brings FLINK-1_15 back from the snapshot, counts exact."""
    k, a = clients(server)
    create_streams(k, "clicks", "counts")
    truth = {}
    create_app(a, "TestApplication", input_stream="clicks", output_stream="counts")
    a.start_application(ApplicationName="TestApplication")
    wait_status(a, "TestApplication", "RUNNING")
    n = put(k, "clicks", 200, truth=truth)
    wait_for("counts of the first records", lambda: counts(k, "counts") == truth)
    a.create_application_snapshot(ApplicationName="TestApplication", SnapshotName="before-upgrade")
    wait_for("snapshot READY", lambda: a.describe_application_snapshot(
        ApplicationName="TestApplication", SnapshotName="before-upgrade")["SnapshotDetails"]["SnapshotStatus"] == "READY")
    n = put(k, "clicks", 50, truth=truth, start=n)
    wait_for("counts before the upgrade", lambda: counts(k, "counts") == truth)

    d = describe(a, "TestApplication")
    up = a.update_application(
        ApplicationName="TestApplication", CurrentApplicationVersionId=d["ApplicationVersionId"],
        RuntimeEnvironmentUpdate="FLINK-1_18",
        ApplicationConfigurationUpdate={"EnvironmentPropertyUpdates": {"PropertyGroups": [
            {"PropertyGroupId": "InputStream0", "PropertyMap": {"stream.name": "clicks"}},
            {"PropertyGroupId": "OutputStream0", "PropertyMap": {"stream.name": "counts"}},
            {"PropertyGroupId": "tributary.faults", "PropertyMap": {"FailOnStart": "true"}}]}})
    checks.eq(up["ApplicationDetail"]["ApplicationStatus"], "UPDATING", "update: UPDATING at once")
    checks.eq(up["ApplicationDetail"]["ApplicationVersionId"], 2, "update: version 2")
    checks.eq(up["ApplicationDetail"]["RuntimeEnvironment"], "FLINK-1_18", "update: FLINK-1_18")
    n = put(k, "clicks", 40, truth=truth, start=n)
    wait_status(a, "TestApplication", "RUNNING")
    op = a.describe_application_operation(ApplicationName="TestApplication", OperationId=up["OperationId"])
    checks.eq(op["ApplicationOperationInfoDetails"]["OperationStatus"], "SUCCESSFUL",
              "the upgrade succeeded as an operation")
    # ... but its job restarts continuously: JobRestart operations with the cause.
    restarts = wait_for("two job restarts", lambda: len(operations(a, "TestApplication", Operation="JobRestart")) >= 2 and
                        operations(a, "TestApplication", Operation="JobRestart"))
    detail = a.describe_application_operation(ApplicationName="TestApplication",
                                              OperationId=restarts[-1]["OperationId"])["ApplicationOperationInfoDetails"]
    checks.eq(detail["OperationStatus"], "FAILED", "JobRestart: FAILED")
    checks.ok("FailOnStart" in detail["OperationFailureDetails"]["ErrorInfo"]["ErrorString"],
              f"JobRestart: the cause names FailOnStart: {detail}")
    plan = job_plan(a, "TestApplication")
    checks.ok(plan["jobStatus"] in ("RESTARTING", "RUNNING", "STARTING"), f"job plan: {plan}")
    checks.ok(plan["restartCount"] >= 1, f"job plan shows restarts: {plan}")
    checks.eq(describe(a, "TestApplication")["ApplicationStatus"], "RUNNING", "RUNNING while restarting")
    checks.ok(counts(k, "counts") != truth, "the 1.18 job counted nothing new")

    # Roll back at once.
    rb = a.rollback_application(ApplicationName="TestApplication", CurrentApplicationVersionId=2)
    checks.eq(rb["ApplicationDetail"]["ApplicationStatus"], "ROLLING_BACK", "rollback: ROLLING_BACK")
    d = wait_status(a, "TestApplication", "RUNNING")
    checks.eq(d["RuntimeEnvironment"], "FLINK-1_15", "rolled back to FLINK-1_15")
    checks.eq(d["ApplicationVersionId"], 3, "rollback makes version 3")
    checks.eq(d.get("ApplicationVersionRolledBackFrom"), 2, "ApplicationVersionRolledBackFrom")
    checks.eq(d.get("ApplicationVersionRolledBackTo"), 1, "ApplicationVersionRolledBackTo")
    n = put(k, "clicks", 30, truth=truth, start=n)
    wait_for("exact counts after the rollback", lambda: counts(k, "counts") == truth)
    checks.eq(counts(k, "counts"), truth, "every record counted once in state")
    versions = a.list_application_versions(ApplicationName="TestApplication")["ApplicationVersionSummaries"]
    checks.eq([(v["ApplicationVersionId"], v["ApplicationStatus"]) for v in versions],
              [(3, "RUNNING"), (2, "ROLLED_BACK"), (1, "RUNNING")], "versions")
    v2 = a.describe_application_version(ApplicationName="TestApplication", ApplicationVersionId=2)
    checks.eq(v2["ApplicationVersionDetail"]["RuntimeEnvironment"], "FLINK-1_18", "version 2 was FLINK-1_18")
    checks.eq(v2["ApplicationVersionDetail"]["ApplicationStatus"], "ROLLED_BACK", "version 2 ROLLED_BACK")
    rbop = a.describe_application_operation(ApplicationName="TestApplication", OperationId=rb["OperationId"])
    checks.eq(rbop["ApplicationOperationInfoDetails"]["ApplicationVersionChangeDetails"],
              {"ApplicationVersionUpdatedFrom": 2, "ApplicationVersionUpdatedTo": 3}, "rollback version change")
    expect("ResourceNotFoundException", a.describe_application_version, "DescribeApplicationVersion 9",
           ApplicationName="TestApplication", ApplicationVersionId=9)
    # A rollback cannot itself be rolled back.
    expect("InvalidRequestException", a.rollback_application, "rollback of a rollback",
           ApplicationName="TestApplication", CurrentApplicationVersionId=3)


# ---------------------------------------------------------------- the document's second case

def scenario_stuck_updating(server):
    k, a = clients(server)
    create_streams(k, "stuck-in", "stuck-out")
    truth = {}
    create_app(a, "Stuck", input_stream="stuck-in", output_stream="stuck-out")
    a.start_application(ApplicationName="Stuck")
    wait_status(a, "Stuck", "RUNNING")
    n = put(k, "stuck-in", 60, truth=truth)
    wait_for("counts", lambda: counts(k, "stuck-out") == truth)
    runtime = {} if LEGACY else {"RuntimeEnvironmentUpdate": "FLINK-1_18"}
    up = a.update_application(
        ApplicationName="Stuck", ConditionalToken=describe(a, "Stuck")["ConditionalToken"], **runtime,
        ApplicationConfigurationUpdate={"EnvironmentPropertyUpdates": {"PropertyGroups": [
            {"PropertyGroupId": "InputStream0", "PropertyMap": {"stream.name": "stuck-in"}},
            {"PropertyGroupId": "OutputStream0", "PropertyMap": {"stream.name": "stuck-out"}},
            {"PropertyGroupId": "tributary.faults", "PropertyMap": {"HangOnStart": "true"}}]}})
    n = put(k, "stuck-in", 20, truth=truth, start=n)
    # Well past the transition time: still UPDATING, the operation in progress.
    wait_for("a while in UPDATING", lambda: job_plan(a, "Stuck")["millisSinceLastHealthyBatch"] > 1500, timeout=30)
    checks.eq(describe(a, "Stuck")["ApplicationStatus"], "UPDATING", "stuck in UPDATING")
    checks.eq(job_plan(a, "Stuck")["jobStatus"], "STARTING", "the job never finishes deploying")
    expect("ResourceInUseException", a.start_application, "StartApplication while UPDATING", ApplicationName="Stuck")
    expect("ResourceInUseException", a.create_application_snapshot, "snapshot while UPDATING",
           ApplicationName="Stuck", SnapshotName="nope")
    if not LEGACY:
        checks.eq(a.describe_application_operation(ApplicationName="Stuck", OperationId=up["OperationId"])
                  ["ApplicationOperationInfoDetails"]["OperationStatus"], "IN_PROGRESS", "update IN_PROGRESS")
    a.rollback_application(ApplicationName="Stuck", CurrentApplicationVersionId=2)
    d = wait_status(a, "Stuck", "RUNNING")
    checks.eq(d["ApplicationVersionId"], 3, "stuck: rolled back as version 3")
    checks.eq(d["RuntimeEnvironment"], "FLINK-1_15", "stuck: FLINK-1_15 again")
    wait_for("exact counts after the stuck rollback", lambda: counts(k, "stuck-out") == truth)
    if not LEGACY:
        checks.eq(a.describe_application_operation(ApplicationName="Stuck", OperationId=up["OperationId"])
                  ["ApplicationOperationInfoDetails"]["OperationStatus"], "CANCELLED", "stuck update CANCELLED")


def scenario_system_rollback(server):
    """FailOnStart with system rollback on: the update fails, the service rolls back."""
    k, a = clients(server)
    create_streams(k, "sr-in", "sr-out")
    truth = {}
    create_app(a, "SysRollback", input_stream="sr-in", output_stream="sr-out", system_rollback=True)
    a.start_application(ApplicationName="SysRollback")
    wait_status(a, "SysRollback", "RUNNING")
    put(k, "sr-in", 30, truth=truth)
    wait_for("counts", lambda: counts(k, "sr-out") == truth)
    up = a.update_application(
        ApplicationName="SysRollback", CurrentApplicationVersionId=1, RuntimeEnvironmentUpdate="FLINK-1_20",
        ApplicationConfigurationUpdate={"EnvironmentPropertyUpdates": {"PropertyGroups": [
            {"PropertyGroupId": "InputStream0", "PropertyMap": {"stream.name": "sr-in"}},
            {"PropertyGroupId": "OutputStream0", "PropertyMap": {"stream.name": "sr-out"}},
            {"PropertyGroupId": "tributary.faults", "PropertyMap": {"FailOnStart": "true"}}]}})
    op = wait_for("the update fails", lambda: (lambda o: o["OperationStatus"] == "FAILED" and o)(
        a.describe_application_operation(ApplicationName="SysRollback", OperationId=up["OperationId"])
        ["ApplicationOperationInfoDetails"]))
    failure = op["OperationFailureDetails"]
    checks.ok("FailOnStart" in failure["ErrorInfo"]["ErrorString"], f"failure names the cause: {failure}")
    checks.ok("RollbackOperationId" in failure, "the failure names the system rollback")
    rb = a.describe_application_operation(ApplicationName="SysRollback",
                                          OperationId=failure["RollbackOperationId"])["ApplicationOperationInfoDetails"]
    checks.eq(rb["Operation"], "SystemRollbackApplication", "a SystemRollbackApplication operation")
    d = wait_status(a, "SysRollback", "RUNNING")
    checks.eq(d["RuntimeEnvironment"], "FLINK-1_15", "the service rolled back to FLINK-1_15")
    checks.eq(len(operations(a, "SysRollback", OperationStatus="FAILED", Operation="UpdateApplication")), 1,
              "ListApplicationOperations filters by Operation and OperationStatus")


# ---------------------------------------------------------------- concurrency

def scenario_two_clients_same_version(server):
    k, a = clients(server)
    _, a2 = clients(server)
    create_streams(k, "race-in")
    create_app(a, "Race", input_stream="race-in")
    barrier = threading.Barrier(2)
    results = [None, None]

    def update(i, client, runtime):
        barrier.wait()
        results[i] = error_of(client.update_application, ApplicationName="Race", CurrentApplicationVersionId=1,
                              **({} if LEGACY else {"RuntimeEnvironmentUpdate": runtime}),
                              ServiceExecutionRoleUpdate=f"arn:aws:iam::000000000000:role/client{i}")

    threads = [threading.Thread(target=update, args=(0, a, "FLINK-1_18")),
               threading.Thread(target=update, args=(1, a2, "FLINK-1_19"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(str(r[0]) for r in results)
    checks.eq(codes, ["ConcurrentModificationException", "None"], "one update wins, the other is refused")
    wait_status(a, "Race", "READY")
    d = describe(a, "Race")
    checks.eq(d["ApplicationVersionId"], 2, "exactly one new version")
    winner = 0 if results[0][0] is None else 1
    checks.eq(d["ServiceExecutionRole"], f"arn:aws:iam::000000000000:role/client{winner}", "the winner's change")
    # The loser retries with the version it reads now, and wins.
    a2.update_application(ApplicationName="Race", CurrentApplicationVersionId=2,
                          ServiceExecutionRoleUpdate="arn:aws:iam::000000000000:role/retry")
    wait_status(a, "Race", "READY")
    checks.eq(describe(a, "Race")["ApplicationVersionId"], 3, "the retry makes version 3")
    # A stale ConditionalToken is refused the same way.
    token = describe(a, "Race")["ConditionalToken"]
    a.update_application(ApplicationName="Race", ConditionalToken=token,
                         ServiceExecutionRoleUpdate="arn:aws:iam::000000000000:role/token")
    wait_status(a, "Race", "READY")
    expect("ConcurrentModificationException", a.update_application, "stale ConditionalToken",
           ApplicationName="Race", ConditionalToken=token, ServiceExecutionRoleUpdate=ROLE)
    expect("InvalidArgumentException", a.update_application, "neither version id nor token",
           ApplicationName="Race", ServiceExecutionRoleUpdate=ROLE)
    checks.eq(describe(a, "Race")["ApplicationVersionId"], 4, "refused updates change nothing")


# ---------------------------------------------------------------- the actions, one by one

def scenario_create_describe_list_delete(server):
    k, a = clients(server)
    create_streams(k, "cd-in")
    cfg = app_config(input_stream="cd-in", extra_groups=[
        {"PropertyGroupId": "FlinkApplicationProperties", "PropertyMap": {"window.seconds": "60"}}])
    cfg["FlinkApplicationConfiguration"] = {
        "CheckpointConfiguration": {"ConfigurationType": "CUSTOM", "CheckpointingEnabled": True,
                                    "CheckpointInterval": 2000, "MinPauseBetweenCheckpoints": 700},
        "MonitoringConfiguration": {"ConfigurationType": "CUSTOM", "MetricsLevel": "TASK", "LogLevel": "WARN"},
        "ParallelismConfiguration": {"ConfigurationType": "CUSTOM", "Parallelism": 2, "ParallelismPerKPU": 2,
                                     "AutoScalingEnabled": False}}
    cfg["VpcConfigurations"] = [{"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}]
    if not LEGACY:
        cfg["ApplicationSystemRollbackConfiguration"] = {"RollbackEnabled": True}
    d = a.create_application(
        ApplicationName="Full", ApplicationDescription="every member", RuntimeEnvironment="FLINK-1_19",
        ServiceExecutionRole=ROLE, ApplicationConfiguration=cfg,
        CloudWatchLoggingOptions=[{"LogStreamARN": "arn:aws:logs:us-east-1:000000000000:log-group:g:log-stream:s"}],
        Tags=[{"Key": "team", "Value": "data"}], ApplicationMode="STREAMING")["ApplicationDetail"]
    checks.eq(d["ApplicationStatus"], "READY", "created READY")
    checks.eq(d["ApplicationARN"], "arn:aws:kinesisanalytics:us-east-1:000000000000:application/Full", "ARN")
    checks.eq(d["ApplicationVersionId"], 1, "version 1")
    checks.eq(d["ApplicationDescription"], "every member", "description")
    checks.eq(d["ServiceExecutionRole"], ROLE, "role")
    c = d["ApplicationConfigurationDescription"]
    checks.eq(c["ApplicationCodeConfigurationDescription"]["CodeContentDescription"]
              ["S3ApplicationCodeLocationDescription"], {"BucketARN": BUCKET, "FileKey": "counter-1.0.jar"}, "code")
    f = c["FlinkApplicationConfigurationDescription"]
    checks.eq(f["CheckpointConfigurationDescription"], {"ConfigurationType": "CUSTOM", "CheckpointingEnabled": True,
                                                        "CheckpointInterval": 2000, "MinPauseBetweenCheckpoints": 700},
              "checkpoints")
    checks.eq(f["MonitoringConfigurationDescription"]["MetricsLevel"], "TASK", "monitoring")
    checks.eq(f["ParallelismConfigurationDescription"]["Parallelism"], 2, "parallelism")
    checks.eq(f["ParallelismConfigurationDescription"]["AutoScalingEnabled"], False, "autoscaling")
    groups = {g["PropertyGroupId"]: g["PropertyMap"] for g in c["EnvironmentPropertyDescriptions"]["PropertyGroupDescriptions"]}
    checks.eq(groups["FlinkApplicationProperties"], {"window.seconds": "60"}, "property groups")
    checks.eq(c["ApplicationSnapshotConfigurationDescription"], {"SnapshotsEnabled": True}, "snapshots")
    checks.eq(c["VpcConfigurationDescriptions"][0]["SubnetIds"], ["subnet-1"], "VPC")
    checks.ok(c["VpcConfigurationDescriptions"][0]["VpcId"].startswith("vpc-"), "VpcId")
    checks.eq(d["CloudWatchLoggingOptionDescriptions"][0]["CloudWatchLoggingOptionId"], "1.1", "logging option id")
    checks.eq(d["ApplicationMaintenanceConfigurationDescription"],
              {"ApplicationMaintenanceWindowStartTime": "03:00", "ApplicationMaintenanceWindowEndTime": "11:00"},
              "maintenance window")
    checks.ok(d["ConditionalToken"], "ConditionalToken")
    # DEFAULT configuration types get Managed Flink's defaults.
    dd = create_app(a, "Defaults", input_stream="cd-in", snapshots=False)
    fd = dd["ApplicationConfigurationDescription"]["FlinkApplicationConfigurationDescription"]
    checks.eq(fd["CheckpointConfigurationDescription"], {"ConfigurationType": "DEFAULT", "CheckpointingEnabled": True,
                                                         "CheckpointInterval": 60000, "MinPauseBetweenCheckpoints": 5000},
              "default checkpoints")
    checks.eq(fd["ParallelismConfigurationDescription"]["AutoScalingEnabled"], True, "default autoscaling")

    expect("ResourceInUseException", a.create_application, "CreateApplication of a taken name",
           ApplicationName="Full", RuntimeEnvironment="FLINK-1_15", ServiceExecutionRole=ROLE,
           ApplicationConfiguration=app_config())
    # Paging by name.
    for name in ("page-a", "page-b", "page-c"):
        create_app(a, name, input_stream="cd-in")
    names, token = [], None
    while True:
        kw = {"Limit": 2} | ({"NextToken": token} if token else {})
        page = a.list_applications(**kw)
        checks.ok(len(page["ApplicationSummaries"]) <= 2, "ListApplications honours Limit")
        names += [s["ApplicationName"] for s in page["ApplicationSummaries"]]
        token = page.get("NextToken")
        if not token:
            break
    everything = [s["ApplicationName"] for s in a.list_applications(Limit=50)["ApplicationSummaries"]]
    checks.eq(names, everything, "ListApplications pages through every application, by name")
    checks.ok({"Full", "Defaults", "page-a", "page-b", "page-c"} <= set(names), "the new ones are listed")
    summary = a.list_applications()["ApplicationSummaries"][0]
    checks.eq(set(summary) >= {"ApplicationName", "ApplicationARN", "ApplicationStatus", "ApplicationVersionId",
                               "RuntimeEnvironment"}, True, "ApplicationSummary members")

    expect("InvalidArgumentException", a.delete_application, "DeleteApplication with a wrong CreateTimestamp",
           ApplicationName="page-a", CreateTimestamp=d["CreateTimestamp"].replace(year=2000))
    a.delete_application(ApplicationName="page-a", CreateTimestamp=describe(a, "page-a")["CreateTimestamp"])
    checks.eq(describe(a, "page-a")["ApplicationStatus"], "DELETING", "DELETING")
    expect("ResourceInUseException", a.delete_application, "DeleteApplication while DELETING",
           ApplicationName="page-a", CreateTimestamp=describe(a, "page-a")["CreateTimestamp"])
    wait_for("page-a gone", lambda: error_of(a.describe_application, ApplicationName="page-a")[0] ==
             "ResourceNotFoundException")
    expect("ResourceNotFoundException", a.describe_application, "DescribeApplication of an unknown name",
           ApplicationName="nope")
    expect("ResourceNotFoundException", a.start_application, "StartApplication of an unknown name",
           ApplicationName="nope")


def scenario_create_errors(server):
    k, a = clients(server)
    base = dict(RuntimeEnvironment="FLINK-1_15", ServiceExecutionRole=ROLE)
    m = expect("InvalidArgumentException", a.create_application, "unknown FileKey", contains="counter-1.0.jar",
               ApplicationName="bad", ApplicationConfiguration=app_config(file_key="wordcount-3.1.jar"), **base)
    for known in ("counter-2.0.jar", "copy-1.0.jar", "copy-2.0.jar"):
        checks.ok(known in m, f"the message names {known}: {m}")
    expect("InvalidArgumentException", a.create_application, "FileKey without a version",
           ApplicationName="bad", ApplicationConfiguration=app_config(file_key="counter.jar"), **base)
    expect("InvalidArgumentException", a.create_application, "FLINK-1_13 is refused", contains="FLINK-1_15",
           ApplicationName="bad", ApplicationConfiguration=app_config(), RuntimeEnvironment="FLINK-1_13",
           ServiceExecutionRole=ROLE)
    expect("InvalidArgumentException", a.create_application, "SQL-1_0 is refused",
           ApplicationName="bad", ApplicationConfiguration=app_config(), RuntimeEnvironment="SQL-1_0",
           ServiceExecutionRole=ROLE)
    expect("ValidationException", a.create_application, "a name outside [a-zA-Z0-9_.-]",
           ApplicationName="bad name", ApplicationConfiguration=app_config(), **base)
    expect("ValidationException", a.create_application, "a name of 129 characters",
           ApplicationName="a" * 129, ApplicationConfiguration=app_config(), **base)
    expect("UnsupportedOperationException", a.create_application, "INTERACTIVE (Studio)",
           ApplicationName="bad", ApplicationConfiguration=app_config(), ApplicationMode="INTERACTIVE", **base)
    sql = app_config()
    sql["SqlApplicationConfiguration"] = {"Inputs": []}
    expect("UnsupportedOperationException", a.create_application, "SqlApplicationConfiguration",
           ApplicationName="bad", ApplicationConfiguration=sql, **base)
    inline = app_config()
    inline["ApplicationCodeConfiguration"] = {"CodeContentType": "PLAINTEXT", "CodeContent": {"TextContent": "SELECT 1"}}
    expect("InvalidArgumentException", a.create_application, "inline code", ApplicationName="bad",
           ApplicationConfiguration=inline, **base)
    no_code = app_config()
    del no_code["ApplicationCodeConfiguration"]
    expect("InvalidArgumentException", a.create_application, "no code", ApplicationName="bad",
           ApplicationConfiguration=no_code, **base)
    faults = app_config(faults={"FailOnStart": "yes"})
    expect("InvalidArgumentException", a.create_application, "a malformed tributary.faults group",
           contains="FailOnStart", ApplicationName="bad", ApplicationConfiguration=faults, **base)
    expect("TooManyTagsException", a.create_application, "51 tags", ApplicationName="bad",
           ApplicationConfiguration=app_config(), Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)], **base)
    checks.eq(a.list_applications()["ApplicationSummaries"], [], "no refused create left anything")


def raw(server, target, body, content_type="application/x-amz-json-1.1"):
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    conn.request("POST", "/", body=body, headers={"X-Amz-Target": "KinesisAnalytics_20180523." + target,
                                                  "Content-Type": content_type})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    try:
        return r.status, json.loads(data)
    except ValueError:
        return r.status, {"raw": data}


def scenario_bad_bodies(server):
    """Bad input gets AWS's error type, changes nothing, and is never a 500."""
    cases = [
        ("CreateApplication", b"{not json", "SerializationException"),
        ("CreateApplication", b"[]", "SerializationException"),
        ("CreateApplication", b"", "SerializationException"),
        ("CreateApplication", json.dumps({"ApplicationName": 7, "RuntimeEnvironment": "FLINK-1_15",
                                          "ServiceExecutionRole": ROLE}).encode(), "SerializationException"),
        ("DescribeApplication", json.dumps({"ApplicationName": ["x"]}).encode(), "SerializationException"),
        ("DescribeApplication", b"{}", "ValidationException"),
        ("UpdateApplication", json.dumps({"ApplicationName": "x", "CurrentApplicationVersionId": "one"}).encode(),
         "SerializationException"),
        ("StartApplication", json.dumps({"ApplicationName": "x", "RunConfiguration": {
            "ApplicationRestoreConfiguration": {"ApplicationRestoreType": "SOMETIMES"}}}).encode(), "ValidationException"),
        ("StopApplication", json.dumps({"ApplicationName": "x", "Force": "yes"}).encode(), "SerializationException"),
        ("ListApplications", json.dumps({"Limit": 0}).encode(), "ValidationException"),
        ("NoSuchAction", b"{}", "UnknownOperationException"),
        ("DescribeApplication", b'{"ApplicationName": "x"}', "SerializationException", "application/x-amz-cbor-1.1"),
    ]
    for case in cases:
        target, body, want = case[:3]
        status, answer = raw(server, target, body, *case[3:])
        checks.eq((status, answer.get("__type")), (400, want), f"{target} {body[:60]!r}")
    _, a = clients(server)
    checks.eq(a.list_applications()["ApplicationSummaries"], [], "bad bodies created nothing")


def scenario_start_stop_restore_types(server):
    k, a = clients(server)
    create_streams(k, "ss-in", "ss-out")
    truth = {}
    create_app(a, "Restore", input_stream="ss-in", output_stream="ss-out")
    expect("ResourceInUseException", a.stop_application, "StopApplication while READY", ApplicationName="Restore")
    expect("ResourceInUseException", a.rollback_application, "RollbackApplication while READY",
           ApplicationName="Restore", CurrentApplicationVersionId=1)
    op = a.start_application(ApplicationName="Restore").get("OperationId")  # not in Debian's 1.29 model
    checks.eq(describe(a, "Restore")["ApplicationStatus"], "STARTING", "STARTING at once")
    wait_status(a, "Restore", "RUNNING")
    expect("ResourceInUseException", a.start_application, "StartApplication while RUNNING", ApplicationName="Restore")
    expect("InvalidRequestException", a.rollback_application, "RollbackApplication without a version to go back to",
           ApplicationName="Restore", CurrentApplicationVersionId=1)
    expect("ConcurrentModificationException", a.rollback_application, "RollbackApplication with a stale version",
           ApplicationName="Restore", CurrentApplicationVersionId=7)
    n = put(k, "ss-in", 40, truth=truth)
    wait_for("counts", lambda: counts(k, "ss-out") == truth)
    a.create_application_snapshot(ApplicationName="Restore", SnapshotName="s1")
    wait_for("s1 READY", lambda: a.describe_application_snapshot(ApplicationName="Restore", SnapshotName="s1")
             ["SnapshotDetails"]["SnapshotStatus"] == "READY")
    n = put(k, "ss-in", 10, truth=truth, start=n)
    wait_for("counts", lambda: counts(k, "ss-out") == truth)
    # Stop: a snapshot is taken on stop (snapshots enabled).
    a.stop_application(ApplicationName="Restore")
    checks.eq(describe(a, "Restore")["ApplicationStatus"], "STOPPING", "STOPPING")
    wait_status(a, "Restore", "READY")
    snaps = a.list_application_snapshots(ApplicationName="Restore")["SnapshotSummaries"]
    checks.eq(len(snaps), 2, "s1 and the snapshot on stop")
    # RESTORE_FROM_LATEST_SNAPSHOT (the one on stop): nothing counted again.
    a.start_application(ApplicationName="Restore", RunConfiguration={
        "ApplicationRestoreConfiguration": {"ApplicationRestoreType": "RESTORE_FROM_LATEST_SNAPSHOT"}})
    wait_status(a, "Restore", "RUNNING")
    n = put(k, "ss-in", 5, truth=truth, start=n)
    wait_for("latest: exact", lambda: counts(k, "ss-out") == truth)
    d = describe(a, "Restore")
    checks.eq(d["ApplicationConfigurationDescription"]["RunConfigurationDescription"]
              ["ApplicationRestoreConfigurationDescription"]["ApplicationRestoreType"], "RESTORE_FROM_LATEST_SNAPSHOT",
              "RunConfigurationDescription")
    # Force stop: no snapshot.
    a.stop_application(ApplicationName="Restore", Force=True)
    wait_status(a, "Restore", "READY")
    checks.eq(len(a.list_application_snapshots(ApplicationName="Restore")["SnapshotSummaries"]), 2, "no snapshot on force stop")
    # RESTORE_FROM_CUSTOM_SNAPSHOT s1: the state of s1 plus everything after it.
    expect("ResourceNotFoundException", a.start_application, "a custom snapshot that does not exist",
           ApplicationName="Restore", RunConfiguration={"ApplicationRestoreConfiguration": {
               "ApplicationRestoreType": "RESTORE_FROM_CUSTOM_SNAPSHOT", "SnapshotName": "nope"}})
    expect("InvalidArgumentException", a.start_application, "RESTORE_FROM_CUSTOM_SNAPSHOT without a name",
           ApplicationName="Restore", RunConfiguration={"ApplicationRestoreConfiguration": {
               "ApplicationRestoreType": "RESTORE_FROM_CUSTOM_SNAPSHOT"}})
    a.start_application(ApplicationName="Restore", RunConfiguration={
        "ApplicationRestoreConfiguration": {"ApplicationRestoreType": "RESTORE_FROM_CUSTOM_SNAPSHOT", "SnapshotName": "s1"},
        "FlinkRunConfiguration": {"AllowNonRestoredState": True}})
    wait_status(a, "Restore", "RUNNING")
    wait_for("custom: exact", lambda: counts(k, "ss-out") == truth)
    a.stop_application(ApplicationName="Restore", Force=True)
    wait_status(a, "Restore", "READY")
    # SKIP_RESTORE_FROM_SNAPSHOT: fresh state, the stream from TRIM_HORIZON: the same counts again.
    a.start_application(ApplicationName="Restore", RunConfiguration={
        "ApplicationRestoreConfiguration": {"ApplicationRestoreType": "SKIP_RESTORE_FROM_SNAPSHOT"}})
    wait_status(a, "Restore", "RUNNING")
    wait_for("skip: counted from the start", lambda: counts(k, "ss-out") == truth)
    # A force stop from STARTING (a hanging job).
    create_app(a, "Hang", input_stream="ss-in", faults={"HangOnStart": "true"})
    a.start_application(ApplicationName="Hang")
    wait_for("Hang stays STARTING", lambda: job_plan(a, "Hang")["millisSinceLastHealthyBatch"] > 500)
    checks.eq(describe(a, "Hang")["ApplicationStatus"], "STARTING", "HangOnStart: STARTING")
    expect("ResourceInUseException", a.rollback_application, "RollbackApplication from STARTING",
           ApplicationName="Hang", CurrentApplicationVersionId=1)
    expect("ResourceInUseException", a.stop_application, "StopApplication without Force from STARTING",
           ApplicationName="Hang")
    a.stop_application(ApplicationName="Hang", Force=True)
    checks.eq(describe(a, "Hang")["ApplicationStatus"], "FORCE_STOPPING", "FORCE_STOPPING")
    wait_status(a, "Hang", "READY")
    # No input stream: refused at start.
    no_input = app_config()
    no_input["EnvironmentProperties"] = {"PropertyGroups": []}
    a.create_application(ApplicationName="NoInput", RuntimeEnvironment="FLINK-1_15", ServiceExecutionRole=ROLE,
                         ApplicationConfiguration=no_input)
    expect("InvalidApplicationConfigurationException", a.start_application, "no InputStream0",
           contains="InputStream0", ApplicationName="NoInput")
    checks.eq(describe(a, "NoInput")["ApplicationStatus"], "READY", "a refused start changes nothing")
    if not LEGACY:
        ops = operations(a, "Restore")
        checks.ok(any(o["OperationId"] == op and o["Operation"] == "StartApplication" for o in ops), "start operation")
        checks.ok(any(o["Operation"] == "ForceStopApplication" for o in ops), "ForceStopApplication operation")


def scenario_update_members(server):
    k, a = clients(server)
    create_streams(k, "up-in", "up-out", "up-other")
    create_app(a, "Upd", input_stream="up-in", output_stream="up-out")
    a.start_application(ApplicationName="Upd")
    wait_status(a, "Upd", "RUNNING")
    a.update_application(
        ApplicationName="Upd", CurrentApplicationVersionId=1, ServiceExecutionRoleUpdate="arn:aws:iam::000000000000:role/new",
        ApplicationConfigurationUpdate={
            "ApplicationCodeConfigurationUpdate": {"CodeContentTypeUpdate": "ZIPFILE", "CodeContentUpdate": {
                "S3ContentLocationUpdate": {"FileKeyUpdate": "counter-2.0.jar", "ObjectVersionUpdate": "7"}}},
            "FlinkApplicationConfigurationUpdate": {
                "CheckpointConfigurationUpdate": {"ConfigurationTypeUpdate": "CUSTOM", "CheckpointIntervalUpdate": 1000},
                "ParallelismConfigurationUpdate": {"ConfigurationTypeUpdate": "CUSTOM", "ParallelismUpdate": 2}},
            "ApplicationSnapshotConfigurationUpdate": {"SnapshotsEnabledUpdate": True}},
        RunConfigurationUpdate={"ApplicationRestoreConfiguration": {"ApplicationRestoreType": "RESTORE_FROM_LATEST_SNAPSHOT"}})
    expect("ResourceInUseException", a.update_application, "UpdateApplication while UPDATING",
           ApplicationName="Upd", CurrentApplicationVersionId=2, ServiceExecutionRoleUpdate=ROLE)
    d = wait_status(a, "Upd", "RUNNING")
    c = d["ApplicationConfigurationDescription"]
    checks.eq(d["ServiceExecutionRole"], "arn:aws:iam::000000000000:role/new", "role updated")
    checks.eq(c["ApplicationCodeConfigurationDescription"]["CodeContentDescription"]["S3ApplicationCodeLocationDescription"],
              {"BucketARN": BUCKET, "FileKey": "counter-2.0.jar", "ObjectVersion": "7"}, "code updated")
    f = c["FlinkApplicationConfigurationDescription"]
    checks.eq(f["CheckpointConfigurationDescription"]["CheckpointInterval"], 1000, "checkpoint interval updated")
    checks.eq(f["ParallelismConfigurationDescription"]["Parallelism"], 2, "parallelism updated")
    checks.eq(d.get("ApplicationVersionUpdatedFrom"), 1, "ApplicationVersionUpdatedFrom")
    expect("InvalidArgumentException", a.update_application, "an unknown FileKey in an update",
           ApplicationName="Upd", CurrentApplicationVersionId=2, ApplicationConfigurationUpdate={
               "ApplicationCodeConfigurationUpdate": {"CodeContentUpdate": {"S3ContentLocationUpdate": {
                   "FileKeyUpdate": "counter-9.jar"}}}})
    expect("InvalidArgumentException", a.update_application, "an unknown CloudWatchLoggingOptionId",
           ApplicationName="Upd", CurrentApplicationVersionId=2, CloudWatchLoggingOptionUpdates=[
               {"CloudWatchLoggingOptionId": "9.9", "LogStreamARNUpdate": "arn:aws:logs:x"}])
    expect("ConcurrentModificationException", a.update_application, "a stale version id",
           ApplicationName="Upd", CurrentApplicationVersionId=1, ServiceExecutionRoleUpdate=ROLE)
    if not LEGACY:
        expect("InvalidArgumentException", a.update_application, "RuntimeEnvironmentUpdate FLINK-1_13",
               ApplicationName="Upd", CurrentApplicationVersionId=2, RuntimeEnvironmentUpdate="FLINK-1_13")
    checks.eq(describe(a, "Upd")["ApplicationVersionId"], 2, "refused updates change nothing")


def scenario_snapshots(server):
    k, a = clients(server)
    create_streams(k, "sn-in")
    create_app(a, "Snaps", input_stream="sn-in")
    expect("ResourceInUseException", a.create_application_snapshot, "snapshot of a READY application",
           ApplicationName="Snaps", SnapshotName="s0")
    a.start_application(ApplicationName="Snaps")
    wait_status(a, "Snaps", "RUNNING")
    for name in ("s1", "s2", "s3"):
        a.create_application_snapshot(ApplicationName="Snaps", SnapshotName=name)
        wait_for(f"{name} READY", lambda: a.describe_application_snapshot(ApplicationName="Snaps", SnapshotName=name)
                 ["SnapshotDetails"]["SnapshotStatus"] == "READY")
    expect("InvalidArgumentException", a.create_application_snapshot, "a snapshot name taken",
           ApplicationName="Snaps", SnapshotName="s1")
    expect("ValidationException", a.create_application_snapshot, "a snapshot name with a space",
           ApplicationName="Snaps", SnapshotName="s 1")
    s1 = a.describe_application_snapshot(ApplicationName="Snaps", SnapshotName="s1")["SnapshotDetails"]
    checks.eq((s1["SnapshotStatus"], s1["ApplicationVersionId"]), ("READY", 1), "DescribeApplicationSnapshot")
    if not LEGACY:  # RuntimeEnvironment is newer than Debian's 1.29 model
        checks.eq(s1["RuntimeEnvironment"], "FLINK-1_15", "DescribeApplicationSnapshot RuntimeEnvironment")
    names, token = [], None
    while True:
        page = a.list_application_snapshots(ApplicationName="Snaps", Limit=1, **({"NextToken": token} if token else {}))
        names += [s["SnapshotName"] for s in page["SnapshotSummaries"]]
        token = page.get("NextToken")
        if not token:
            break
    checks.eq(names, ["s1", "s2", "s3"], "ListApplicationSnapshots pages")
    expect("InvalidArgumentException", a.delete_application_snapshot, "delete with a wrong creation time",
           ApplicationName="Snaps", SnapshotName="s2", SnapshotCreationTimestamp=s1["SnapshotCreationTimestamp"].replace(year=2001))
    a.delete_application_snapshot(ApplicationName="Snaps", SnapshotName="s2",
                                  SnapshotCreationTimestamp=a.describe_application_snapshot(
                                      ApplicationName="Snaps", SnapshotName="s2")["SnapshotDetails"]["SnapshotCreationTimestamp"])
    wait_for("s2 gone", lambda: error_of(a.describe_application_snapshot, ApplicationName="Snaps",
                                         SnapshotName="s2")[0] == "ResourceNotFoundException")
    expect("ResourceNotFoundException", a.describe_application_snapshot, "a missing snapshot",
           ApplicationName="Snaps", SnapshotName="nope")
    expect("ResourceNotFoundException", a.delete_application_snapshot, "deleting a missing snapshot",
           ApplicationName="Snaps", SnapshotName="nope", SnapshotCreationTimestamp=s1["SnapshotCreationTimestamp"])
    create_app(a, "NoSnaps", input_stream="sn-in", snapshots=False)
    a.start_application(ApplicationName="NoSnaps")
    wait_status(a, "NoSnaps", "RUNNING")
    expect("InvalidRequestException", a.create_application_snapshot, "snapshots disabled",
           ApplicationName="NoSnaps", SnapshotName="s1")


def scenario_versions_and_operations(server):
    k, a = clients(server)
    create_streams(k, "vo-in")
    create_app(a, "Vers", input_stream="vo-in")
    for i in range(3):
        a.update_application(ApplicationName="Vers", CurrentApplicationVersionId=i + 1,
                             ServiceExecutionRoleUpdate=f"arn:aws:iam::000000000000:role/r{i}")
        wait_status(a, "Vers", "READY")
    ids, token = [], None
    while True:
        page = a.list_application_versions(ApplicationName="Vers", Limit=3, **({"NextToken": token} if token else {}))
        ids += [v["ApplicationVersionId"] for v in page["ApplicationVersionSummaries"]]
        token = page.get("NextToken")
        if not token:
            break
    checks.eq(ids, [4, 3, 2, 1], "ListApplicationVersions pages, newest first")
    v1 = a.describe_application_version(ApplicationName="Vers", ApplicationVersionId=1)["ApplicationVersionDetail"]
    checks.eq(v1["ServiceExecutionRole"], ROLE, "version 1 keeps its role")
    expect("ResourceNotFoundException", a.list_application_versions, "versions of an unknown application",
           ApplicationName="nope")
    ops = operations(a, "Vers")
    checks.eq([o["Operation"] for o in ops], ["CreateApplication"] + ["UpdateApplication"] * 3, "operations")
    checks.ok(all(o["OperationStatus"] == "SUCCESSFUL" for o in ops), "all SUCCESSFUL")
    page = a.list_application_operations(ApplicationName="Vers", Limit=2)
    checks.eq(len(page["ApplicationOperationInfoList"]), 2, "ListApplicationOperations Limit")
    checks.ok("NextToken" in page, "ListApplicationOperations NextToken")
    checks.eq(a.list_application_operations(ApplicationName="Vers", Operation="NoSuchOperation")
              ["ApplicationOperationInfoList"], [], "an Operation filter nothing matches")
    d = a.describe_application_operation(ApplicationName="Vers", OperationId=ops[-1]["OperationId"])
    checks.eq(d["ApplicationOperationInfoDetails"]["ApplicationVersionChangeDetails"],
              {"ApplicationVersionUpdatedFrom": 3, "ApplicationVersionUpdatedTo": 4}, "version change details")
    expect("ResourceNotFoundException", a.describe_application_operation, "an unknown operation",
           ApplicationName="Vers", OperationId="op-999999")


def scenario_tags(server):
    k, a = clients(server)
    create_streams(k, "tg-in")
    arn = create_app(a, "Tagged", input_stream="tg-in")["ApplicationARN"]
    a.tag_resource(ResourceARN=arn, Tags=[{"Key": "team", "Value": "data"}, {"Key": "env", "Value": "test"}])
    a.untag_resource(ResourceARN=arn, TagKeys=["env"])
    checks.eq(a.list_tags_for_resource(ResourceARN=arn)["Tags"], [{"Key": "team", "Value": "data"}], "tags")
    checks.eq(describe(a, "Tagged")["ApplicationVersionId"], 1, "tags make no version")
    expect("TooManyTagsException", a.tag_resource, "more than 50 tags", ResourceARN=arn,
           Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    expect("InvalidArgumentException", a.tag_resource, "an aws: tag key", ResourceARN=arn,
           Tags=[{"Key": "aws:x", "Value": "v"}])
    other = arn.replace("Tagged", "Nope")
    expect("ResourceNotFoundException", a.tag_resource, "an unknown ARN", ResourceARN=other, Tags=[{"Key": "a", "Value": "b"}])
    expect("ResourceNotFoundException", a.list_tags_for_resource, "tags of an unknown ARN", ResourceARN=other)
    expect("ResourceNotFoundException", a.untag_resource, "untag an unknown ARN", ResourceARN=other, TagKeys=["a"])
    checks.eq(len(a.list_tags_for_resource(ResourceARN=arn)["Tags"]), 1, "refused tag calls change nothing")


def scenario_logging_vpc_maintenance_url(server):
    k, a = clients(server)
    create_streams(k, "lv-in")
    create_app(a, "Extras", input_stream="lv-in")
    lsa = "arn:aws:logs:us-east-1:000000000000:log-group:g:log-stream:a"
    r = a.add_application_cloud_watch_logging_option(ApplicationName="Extras", CurrentApplicationVersionId=1,
                                                     CloudWatchLoggingOption={"LogStreamARN": lsa})
    checks.eq(r["ApplicationVersionId"], 2, "adding a logging option makes version 2")
    checks.eq(r["CloudWatchLoggingOptionDescriptions"][0]["LogStreamARN"], lsa, "the option")
    option_id = r["CloudWatchLoggingOptionDescriptions"][0]["CloudWatchLoggingOptionId"]
    checks.eq(option_id, "2.1", "option id")
    wait_status(a, "Extras", "READY")
    expect("InvalidArgumentException", a.add_application_cloud_watch_logging_option, "the same log stream twice",
           ApplicationName="Extras", CurrentApplicationVersionId=2, CloudWatchLoggingOption={"LogStreamARN": lsa})
    expect("ConcurrentModificationException", a.add_application_cloud_watch_logging_option, "a stale version",
           ApplicationName="Extras", CurrentApplicationVersionId=1,
           CloudWatchLoggingOption={"LogStreamARN": lsa + "b"})
    expect("ResourceNotFoundException", a.delete_application_cloud_watch_logging_option, "an unknown option id",
           ApplicationName="Extras", CurrentApplicationVersionId=2, CloudWatchLoggingOptionId="7.7")
    r = a.delete_application_cloud_watch_logging_option(ApplicationName="Extras",
                                                        ConditionalToken=describe(a, "Extras")["ConditionalToken"],
                                                        CloudWatchLoggingOptionId=option_id)
    checks.eq((r["ApplicationVersionId"], r.get("CloudWatchLoggingOptionDescriptions", [])), (3, []), "option deleted")
    wait_status(a, "Extras", "READY")
    r = a.add_application_vpc_configuration(ApplicationName="Extras", CurrentApplicationVersionId=3,
                                            VpcConfiguration={"SubnetIds": ["subnet-a", "subnet-b"],
                                                              "SecurityGroupIds": ["sg-a"]})
    vpc = r["VpcConfigurationDescription"]
    checks.eq((r["ApplicationVersionId"], vpc["SubnetIds"], vpc["VpcConfigurationId"]), (4, ["subnet-a", "subnet-b"], "4.1"),
              "VPC configuration added")
    wait_status(a, "Extras", "READY")
    expect("ResourceNotFoundException", a.delete_application_vpc_configuration, "an unknown VPC id",
           ApplicationName="Extras", CurrentApplicationVersionId=4, VpcConfigurationId="1.9")
    r = a.delete_application_vpc_configuration(ApplicationName="Extras", CurrentApplicationVersionId=4,
                                               VpcConfigurationId=vpc["VpcConfigurationId"])
    checks.eq(r["ApplicationVersionId"], 5, "VPC configuration deleted")
    wait_status(a, "Extras", "READY")
    checks.ok("VpcConfigurationDescriptions" not in describe(a, "Extras")["ApplicationConfigurationDescription"],
              "no VPC left")

    r = a.update_application_maintenance_configuration(
        ApplicationName="Extras", ApplicationMaintenanceConfigurationUpdate={"ApplicationMaintenanceWindowStartTimeUpdate": "21:30"})
    checks.eq(r["ApplicationMaintenanceConfigurationDescription"],
              {"ApplicationMaintenanceWindowStartTime": "21:30", "ApplicationMaintenanceWindowEndTime": "05:30"},
              "maintenance window")
    checks.eq(describe(a, "Extras")["ApplicationVersionId"], 5, "the window makes no version")
    expect("ValidationException", a.update_application_maintenance_configuration, "a window start of 25:00",
           ApplicationName="Extras", ApplicationMaintenanceConfigurationUpdate={"ApplicationMaintenanceWindowStartTimeUpdate": "25:00"})
    create_app(a, "Hangs", input_stream="lv-in", faults={"HangOnStart": "true"})
    a.start_application(ApplicationName="Hangs")
    expect("ResourceInUseException", a.update_application_maintenance_configuration, "the window while STARTING",
           ApplicationName="Hangs", ApplicationMaintenanceConfigurationUpdate={"ApplicationMaintenanceWindowStartTimeUpdate": "01:00"})

    url = a.create_application_presigned_url(ApplicationName="Hangs", UrlType="FLINK_DASHBOARD_URL",
                                             SessionExpirationDurationInSeconds=1800)["AuthorizedUrl"]
    checks.ok(url.startswith(server.url + "/ui/applications/Hangs?"), f"presigned URL: {url}")
    page = urllib.request.urlopen(url, timeout=10).read().decode()
    checks.ok("data-application=\"Hangs\"" in page and "STARTING" in page, "the URL shows the application")
    expect("InvalidArgumentException", a.create_application_presigned_url, "ZEPPELIN_UI_URL",
           ApplicationName="Hangs", UrlType="ZEPPELIN_UI_URL")
    _, unchecked = clients(server, validate=False)
    expect("ValidationException", unchecked.create_application_presigned_url, "a session of 100 s",
           contains="sessionExpirationDurationInSeconds", ApplicationName="Hangs", UrlType="FLINK_DASHBOARD_URL",
           SessionExpirationDurationInSeconds=100)
    expect("ResourceNotFoundException", a.create_application_presigned_url, "an unknown application",
           ApplicationName="nope", UrlType="FLINK_DASHBOARD_URL")


def scenario_sql_only_actions(server):
    _, a = clients(server)
    stream = "arn:aws:kinesis:us-east-1:000000000000:stream/in"
    calls = [
        ("add_application_input", dict(ApplicationName="x", CurrentApplicationVersionId=1, Input={
            "NamePrefix": "p", "KinesisStreamsInput": {"ResourceARN": stream},
            "InputSchema": {"RecordFormat": {"RecordFormatType": "JSON"}, "RecordColumns": [{"Name": "c", "SqlType": "INT"}]}})),
        ("add_application_input_processing_configuration", dict(
            ApplicationName="x", CurrentApplicationVersionId=1, InputId="1.1",
            InputProcessingConfiguration={"InputLambdaProcessor": {"ResourceARN": "arn:aws:lambda:x"}})),
        ("add_application_output", dict(ApplicationName="x", CurrentApplicationVersionId=1, Output={
            "Name": "o", "DestinationSchema": {"RecordFormatType": "JSON"}, "KinesisStreamsOutput": {"ResourceARN": stream}})),
        ("add_application_reference_data_source", dict(
            ApplicationName="x", CurrentApplicationVersionId=1, ReferenceDataSource={
                "TableName": "t", "S3ReferenceDataSource": {"BucketARN": BUCKET, "FileKey": "f"},
                "ReferenceSchema": {"RecordFormat": {"RecordFormatType": "JSON"},
                                    "RecordColumns": [{"Name": "c", "SqlType": "INT"}]}})),
        ("delete_application_input_processing_configuration", dict(ApplicationName="x", CurrentApplicationVersionId=1,
                                                                   InputId="1.1")),
        ("delete_application_output", dict(ApplicationName="x", CurrentApplicationVersionId=1, OutputId="1.1")),
        ("delete_application_reference_data_source", dict(ApplicationName="x", CurrentApplicationVersionId=1,
                                                          ReferenceId="1.1")),
        ("discover_input_schema", dict(ServiceExecutionRole=ROLE, ResourceARN=stream,
                                       InputStartingPositionConfiguration={"InputStartingPosition": "NOW"})),
    ]
    for method, kwargs in calls:
        expect("UnsupportedOperationException", getattr(a, method), method, **kwargs)


def scenario_status_page(server):
    k, a = clients(server)
    create_streams(k, "sp-in")
    create_app(a, "Paged", input_stream="sp-in", faults={"FailOnStart": "true"})
    a.start_application(ApplicationName="Paged")
    wait_status(a, "Paged", "RUNNING")
    wait_for("a restart", lambda: job_plan(a, "Paged")["restartCount"] >= 1)
    overview = urllib.request.urlopen(server.url + "/ui", timeout=10).read().decode()
    checks.ok("data-application=\"Paged\"" in overview, "the overview lists the application")
    page = urllib.request.urlopen(server.url + "/ui/applications/Paged", timeout=10).read().decode()
    for what in ("FLINK-1_15", "FailOnStart", "JobRestart", "counter 1.0", "data-restarts"):
        checks.ok(what in page, f"the application page shows {what}")
    try:
        urllib.request.urlopen(server.url + "/ui/applications/nope", timeout=10)
        checks.ok(False, "an unknown application's page is 404")
    except urllib.error.HTTPError as e:
        checks.eq(e.code, 404, "an unknown application's page is 404")


# ---------------------------------------------------------------- restart of the server

def scenario_kill_9_in_the_middle(binary):
    """With --data-dir, applications, versions, operations and snapshots survive
    kill -9; the running application resumes from its checkpoint, counts exact."""
    workdir = tempfile.mkdtemp(prefix="tributary-flink-")
    try:
        args = SERVER_ARGS
        storage = ("--data-dir", workdir)
        with harness.Server(binary, *args, storage=storage) as s:
            k, a = clients(s)
            create_streams(k, "kin", "kout")
            truth = {}
            cfg = app_config(input_stream="kin", output_stream="kout")
            cfg["FlinkApplicationConfiguration"] = {"CheckpointConfiguration": {
                "ConfigurationType": "CUSTOM", "CheckpointInterval": 200}}
            a.create_application(ApplicationName="Durable", RuntimeEnvironment="FLINK-1_15",
                                 ServiceExecutionRole=ROLE, ApplicationConfiguration=cfg)
            a.start_application(ApplicationName="Durable")
            wait_status(a, "Durable", "RUNNING")
            n = put(k, "kin", 100, truth=truth)
            wait_for("counts", lambda: counts(k, "kout") == truth)
            a.create_application_snapshot(ApplicationName="Durable", SnapshotName="before")
            wait_for("snapshot", lambda: a.describe_application_snapshot(ApplicationName="Durable", SnapshotName="before")
                     ["SnapshotDetails"]["SnapshotStatus"] == "READY")
            up = a.update_application(ApplicationName="Durable", CurrentApplicationVersionId=1,
                                      **({} if LEGACY else {"RuntimeEnvironmentUpdate": "FLINK-1_18"}),
                                      ApplicationConfigurationUpdate={"EnvironmentPropertyUpdates": {"PropertyGroups": [
                                          {"PropertyGroupId": "InputStream0", "PropertyMap": {"stream.name": "kin"}},
                                          {"PropertyGroupId": "OutputStream0", "PropertyMap": {"stream.name": "kout"}},
                                          {"PropertyGroupId": "tributary.faults", "PropertyMap": {"FailOnStart": "true"}}]}})
            wait_status(a, "Durable", "RUNNING")
            n = put(k, "kin", 20, truth=truth, start=n)
            s.proc.send_signal(signal.SIGKILL)
            s.proc.wait()
        with harness.Server(binary, *args, storage=storage) as s:
            k, a = clients(s)
            d = describe(a, "Durable")
            checks.eq((d["ApplicationStatus"], d["ApplicationVersionId"]), ("RUNNING", 2), "after kill -9: RUNNING version 2")
            checks.eq([v["ApplicationVersionId"] for v in a.list_application_versions(ApplicationName="Durable")
                       ["ApplicationVersionSummaries"]], [2, 1], "versions survive")
            checks.eq(len(a.list_application_snapshots(ApplicationName="Durable")["SnapshotSummaries"]), 2,
                      "snapshots survive (before + before the update)")
            if not LEGACY:
                checks.eq(a.describe_application_operation(ApplicationName="Durable", OperationId=up["OperationId"])
                          ["ApplicationOperationInfoDetails"]["OperationStatus"], "SUCCESSFUL", "operations survive")
                wait_for("the job restarts again after the restart",
                         lambda: len(operations(a, "Durable", Operation="JobRestart")) >= 2)
            a.rollback_application(ApplicationName="Durable", CurrentApplicationVersionId=2)
            wait_status(a, "Durable", "RUNNING")
            n = put(k, "kin", 10, truth=truth, start=n)
            wait_for("exact counts after kill -9 and rollback", lambda: counts(k, "kout") == truth)
            # A running application resumes from its checkpoint after another kill -9.
            n = put(k, "kin", 30, truth=truth, start=n)
            wait_for("counts", lambda: counts(k, "kout") == truth)
            s.proc.send_signal(signal.SIGKILL)
            s.proc.wait()
        with harness.Server(binary, *args, storage=storage) as s:
            k, a = clients(s)
            wait_status(a, "Durable", "RUNNING")
            n = put(k, "kin", 10, truth=truth, start=n)
            wait_for("exact counts after resuming", lambda: counts(k, "kout") == truth)
            checks.eq(counts(k, "kout"), truth, "resumed from the checkpoint: nothing lost, nothing counted twice")
            checks.eq(s.stop(), 0, "clean shutdown")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def scenario_signatures_and_accounts(binary):
    """With signatures verified, kinesisanalyticsv2 requests are signed for
    the service name kinesisanalytics; with --account-from-access-key, only
    the default account has applications."""
    with harness.Server(binary, *SERVER_ARGS, "--access-key", "AKIDFLINK", "--secret-key", "flink-secret") as s:
        def client(secret):
            return boto3.client("kinesisanalyticsv2", endpoint_url=s.url, aws_access_key_id="AKIDFLINK",
                                aws_secret_access_key=secret,
                                config=botocore.config.Config(retries={"total_max_attempts": 1}))
        checks.eq(client("flink-secret").list_applications()["ApplicationSummaries"], [],
                  "a request signed for kinesisanalytics is accepted")
        expect("InvalidSignatureException", client("wrong").list_applications, "a wrong secret")
    with harness.Server(binary, *SERVER_ARGS, "--account-from-access-key", "--account-id", "111111111111") as s:
        def client(key):
            return boto3.client("kinesisanalyticsv2", endpoint_url=s.url, aws_access_key_id=key,
                                aws_secret_access_key="x", config=botocore.config.Config(retries={"total_max_attempts": 1}))
        checks.eq(client("111111111111").list_applications()["ApplicationSummaries"], [], "the default account")
        expect("AccessDeniedException", client("222222222222").list_applications, "another account",
               contains="default account")


def main():
    binary = harness.server_binary()
    harness.use_dummy_credentials()
    if not LEGACY and not client_is_new_enough():
        checks.failed += 1
        return checks.finish()
    if LEGACY:
        print(f"legacy client (botocore {botocore.__version__}): the runtime upgrade and the operations API "
              "are tested by flink.boto3 with a newer botocore", flush=True)
    with harness.Server(binary, *SERVER_ARGS) as server:
        scenarios = [scenario_stuck_updating, scenario_two_clients_same_version, scenario_create_describe_list_delete,
                     scenario_start_stop_restore_types, scenario_update_members, scenario_snapshots, scenario_tags,
                     scenario_logging_vpc_maintenance_url, scenario_sql_only_actions]
        if not LEGACY:
            scenarios = [scenario_failing_upgrade_rollback, scenario_system_rollback, scenario_versions_and_operations,
                         scenario_status_page] + scenarios
        for fn in scenarios:
            checks.run(fn, server)
        checks.eq(server.stop(), 0, "graceful shutdown")
    with harness.Server(binary, *SERVER_ARGS) as server:
        checks.run(scenario_create_errors, server)
        checks.run(scenario_bad_bodies, server)
    checks.run(scenario_kill_9_in_the_middle, binary)
    checks.run(scenario_signatures_and_accounts, binary)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
