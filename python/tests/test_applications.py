"""Managed Flink applications on the session server: the kinesisanalyticsv2
fixture, job faults on demand (applications.fail/hang/recover), restart delays
on the manual clock, fault rules on Flink actions, and reset."""

import json
import time

import pytest

ROLE = "arn:aws:iam::000000000000:role/flink"


def config(input_stream):
    return {
        "ApplicationCodeConfiguration": {
            "CodeContentType": "ZIPFILE",
            "CodeContent": {"S3ContentLocation": {"BucketARN": "arn:aws:s3:::code",
                                                  "FileKey": "counter-1.0.jar"}},
        },
        "EnvironmentProperties": {"PropertyGroups": [
            {"PropertyGroupId": "InputStream0", "PropertyMap": {"stream.name": input_stream}}]},
        "ApplicationSnapshotConfiguration": {"SnapshotsEnabled": True},
    }


def wait_for(what, predicate, timeout=30):
    """Polls `predicate` (the server's background pump does the work) until it
    holds; a wait for an event, not a sleep for synchronisation."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def job(flink, name):
    d = flink.describe_application(ApplicationName=name, IncludeAdditionalDetails=True)["ApplicationDetail"]
    plan = d["ApplicationConfigurationDescription"]["FlinkApplicationConfigurationDescription"]["JobPlanDescription"]
    return d["ApplicationStatus"], json.loads(plan)


@pytest.fixture
def running_app(kinesis, kinesisanalyticsv2):
    kinesis.create_stream(StreamName="clicks", ShardCount=1)
    kinesisanalyticsv2.create_application(ApplicationName="counter", RuntimeEnvironment="FLINK-1_18",
                                          ServiceExecutionRole=ROLE, ApplicationConfiguration=config("clicks"))
    kinesisanalyticsv2.start_application(ApplicationName="counter")
    wait_for("RUNNING", lambda: job(kinesisanalyticsv2, "counter")[0] == "RUNNING")
    return "counter"


def restarts(flink, name):
    return job(flink, name)[1].get("restartCount", 0)


def test_a_job_fails_now_and_restarts_after_the_delay_on_the_manual_clock(kinesisanalyticsv2, applications,
                                                                            clock, running_app):
    applications.fail(running_app)
    wait_for("a job failure", lambda: restarts(kinesisanalyticsv2, running_app) >= 1)
    status, plan = job(kinesisanalyticsv2, running_app)
    assert status == "RUNNING"  # as in Managed Flink: the application runs, its job restarts
    applications.recover(running_app)
    before = restarts(kinesisanalyticsv2, running_app)
    time.sleep(0.3)  # wall time does not move the restart delay on a manual clock
    assert job(kinesisanalyticsv2, running_app)[1].get("jobStatus") != "RUNNING"
    clock.advance(seconds=10)  # the restart delay (--app-restart-delay-ms, 10 s)
    wait_for("the job running again", lambda: job(kinesisanalyticsv2, running_app)[1].get("jobStatus") == "RUNNING")
    assert restarts(kinesisanalyticsv2, running_app) == before


def test_a_hung_job_never_finishes_deploying(kinesisanalyticsv2, applications, running_app):
    applications.hang(running_app)
    wait_for("the job taken down", lambda: job(kinesisanalyticsv2, running_app)[1].get("jobStatus") != "RUNNING")
    applications.recover(running_app)
    wait_for("the job running again", lambda: job(kinesisanalyticsv2, running_app)[1].get("jobStatus") == "RUNNING")


def test_job_faults_on_an_unknown_application_are_not_found(applications):
    from pytest_tributary import ControlError
    with pytest.raises(ControlError) as e:
        applications.fail("nobody")
    assert e.value.status == 404 and e.value.type == "ResourceNotFoundException"


def test_fault_rules_apply_to_managed_flink_actions(kinesisanalyticsv2, faults, running_app):
    faults.fail("DescribeApplication", "ResourceInUseException", application=running_app)
    with pytest.raises(kinesisanalyticsv2.exceptions.ResourceInUseException) as e:
        kinesisanalyticsv2.describe_application(ApplicationName=running_app)
    assert "injected" in str(e.value)
    kinesisanalyticsv2.describe_application(ApplicationName=running_app)


def test_reset_removes_applications_and_snapshots_at_once(tributary, kinesisanalyticsv2, running_app):
    kinesisanalyticsv2.create_application_snapshot(ApplicationName=running_app, SnapshotName="s1")
    wait_for("the snapshot", lambda: kinesisanalyticsv2.list_application_snapshots(
        ApplicationName=running_app)["SnapshotSummaries"])
    tributary.reset()
    assert kinesisanalyticsv2.list_applications()["ApplicationSummaries"] == []
    # The name is free at once, and the new application has no snapshot.
    kinesisanalyticsv2.create_application(ApplicationName=running_app, RuntimeEnvironment="FLINK-1_18",
                                          ServiceExecutionRole=ROLE, ApplicationConfiguration=config("clicks"))
    assert kinesisanalyticsv2.list_application_snapshots(ApplicationName=running_app)["SnapshotSummaries"] == []
