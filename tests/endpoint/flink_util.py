"""Helpers for the kinesisanalyticsv2 tests (flink_boto3_test.py and friends).

The applications here run tributary-server's built-in processors: counter
(counts per partition key and writes the counts to OutputStream0) and copy.
`counts()` reads the output stream and keeps the last count per key, which
is the application's state: exact after any restart or rollback, since the
state is "snapshot + replay" even though the output is at-least-once.
"""

import time

ROLE = "arn:aws:iam::000000000000:role/flink"
BUCKET = "arn:aws:s3:::code"


def app_config(file_key="counter-1.0.jar", input_stream="in", output_stream=None, snapshots=True,
               faults=None, system_rollback=None, extra_groups=None):
    groups = [{"PropertyGroupId": "InputStream0", "PropertyMap": {"stream.name": input_stream}}]
    if output_stream:
        groups.append({"PropertyGroupId": "OutputStream0", "PropertyMap": {"stream.name": output_stream}})
    if faults:
        groups.append({"PropertyGroupId": "tributary.faults", "PropertyMap": faults})
    groups += extra_groups or []
    cfg = {
        "ApplicationCodeConfiguration": {
            "CodeContentType": "ZIPFILE",
            "CodeContent": {"S3ContentLocation": {"BucketARN": BUCKET, "FileKey": file_key}},
        },
        "EnvironmentProperties": {"PropertyGroups": groups},
        "ApplicationSnapshotConfiguration": {"SnapshotsEnabled": snapshots},
    }
    if system_rollback is not None:
        cfg["ApplicationSystemRollbackConfiguration"] = {"RollbackEnabled": system_rollback}
    return cfg


def create_app(a, name, runtime="FLINK-1_15", **kwargs):
    return a.create_application(ApplicationName=name, RuntimeEnvironment=runtime, ServiceExecutionRole=ROLE,
                                ApplicationConfiguration=app_config(**kwargs))["ApplicationDetail"]


def describe(a, name):
    return a.describe_application(ApplicationName=name)["ApplicationDetail"]


def wait_for(what, predicate, timeout=60, interval=0.05):
    """Polls predicate() until it returns a true value (returned) or timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def wait_status(a, name, status, timeout=60):
    seen = []

    def check():
        d = describe(a, name)
        seen[:] = [d["ApplicationStatus"]]
        return d if d["ApplicationStatus"] == status else None

    try:
        return wait_for(f"{name} {status}", check, timeout)
    except AssertionError as e:
        raise AssertionError(f"{e} (status {seen})") from None


def job_plan(a, name):
    """The job's health (JobPlanDescription with IncludeAdditionalDetails)."""
    import json
    d = a.describe_application(ApplicationName=name, IncludeAdditionalDetails=True)["ApplicationDetail"]
    return json.loads(d["ApplicationConfigurationDescription"]["FlinkApplicationConfigurationDescription"]
                      ["JobPlanDescription"])


def operations(a, name, **filters):
    out, token = [], None
    while True:
        kw = dict(ApplicationName=name, **filters)
        if token:
            kw["NextToken"] = token
        page = a.list_application_operations(**kw)
        out += page["ApplicationOperationInfoList"]
        token = page.get("NextToken")
        if not token:
            return out


def create_streams(k, *names, shards=1):
    for n in names:
        k.create_stream(StreamName=n, ShardCount=shards)
    for n in names:
        k.get_waiter("stream_exists").wait(StreamName=n, WaiterConfig={"Delay": 0.05, "MaxAttempts": 400})


def put(k, stream, n, keys=5, truth=None, start=0):
    """Puts n records over `keys` keys, counting them in `truth`."""
    recs = []
    for i in range(start, start + n):
        key = f"user-{i % keys}"
        recs.append({"Data": f"click {i}".encode(), "PartitionKey": key})
        if truth is not None:
            truth[key] = truth.get(key, 0) + 1
    for j in range(0, len(recs), 500):
        r = k.put_records(StreamName=stream, Records=recs[j:j + 500])
        assert r["FailedRecordCount"] == 0, r
    return start + n


def read_all(k, stream):
    out = []
    shards = k.list_shards(StreamName=stream)["Shards"]
    for s in shards:
        it = k.get_shard_iterator(StreamName=stream, ShardId=s["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it:
            r = k.get_records(ShardIterator=it, Limit=10000)
            out += r["Records"]
            if not r["Records"] and r.get("MillisBehindLatest", 0) == 0:
                break
            it = r.get("NextShardIterator")
    return out


def counts(k, stream):
    """The last count the counter wrote per key."""
    last = {}
    for r in read_all(k, stream):
        last[r["PartitionKey"]] = int(r["Data"].decode())
    return last
