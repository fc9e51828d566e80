// tributary-server's kinesisanalyticsv2 API against the current AWS SDK for
// JavaScript v3 (@aws-sdk/client-kinesis-analytics-v2, installed by
// scripts/setup with `npm ci`): the rollback document's first case with an
// in-place runtime upgrade (RuntimeEnvironmentUpdate FLINK-1_15 -> FLINK-1_18
// with FailOnStart), the job's restarts as JobRestart operations, the
// rollback with exact counts, ConditionalToken, and errors.
//
// Usage: node flink_test.mjs PATH/TO/tributary-server
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import process from "node:process";

let KDA;
let K;
let NodeHttpHandler;
try {
  KDA = await import("@aws-sdk/client-kinesis-analytics-v2");
  K = await import("@aws-sdk/client-kinesis");
  ({ NodeHttpHandler } = await import("@smithy/node-http-handler"));
} catch (e) {
  console.error(`cannot load the AWS SDK (${e.message}); run scripts/setup (npm ci in tests/endpoint/flink_js)`);
  console.log("flink-js-sdk: 0 passed, 1 failed");
  process.exit(1);
}

let passed = 0;
let failed = 0;
function ok(cond, what) {
  if (cond) passed++;
  else {
    failed++;
    console.log(`FAIL: ${what}`);
  }
  return cond;
}
function eq(got, want, what) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  return ok(g === w, `${what}: got ${g}, want ${w}`);
}

function startServer(binary, args) {
  return new Promise((resolve, reject) => {
    const proc = spawn(binary, ["--host", "127.0.0.1", "--port", "0", "--in-memory", ...args], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const timer = setTimeout(() => reject(new Error("tributary-server did not start in 20 s")), 20000);
    const lines = createInterface({ input: proc.stdout });
    lines.on("line", (line) => {
      if (line.startsWith("listening on http://")) {
        clearTimeout(timer);
        resolve({ proc, url: line.slice("listening on ".length) });
      }
    });
    proc.on("exit", (code) => reject(new Error(`tributary-server exited early (${code})`)));
  });
}

function stopServer(proc) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve(proc.exitCode);
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      resolve(null);
    }, 15000);
    proc.removeAllListeners("exit");
    proc.on("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    proc.kill("SIGTERM");
  });
}

async function errorOf(promise) {
  try {
    await promise;
    return { name: null, status: 200, message: "" };
  } catch (e) {
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, fn, seconds = 60) {
  const deadline = Date.now() + seconds * 1000;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

async function story(kda, kin) {
  const describe = async () => (await kda.send(new KDA.DescribeApplicationCommand({ ApplicationName: "TestApplication" }))).ApplicationDetail;
  const status = async (s) => {
    const d = await describe();
    return d.ApplicationStatus === s ? d : null;
  };
  for (const StreamName of ["clicks", "counts"]) await kin.send(new K.CreateStreamCommand({ StreamName, ShardCount: 1 }));
  for (const StreamName of ["clicks", "counts"]) {
    await K.waitUntilStreamExists({ client: kin, maxWaitTime: 30, minDelay: 0.05, maxDelay: 0.2 }, { StreamName });
  }
  const truth = {};
  let sent = 0;
  const put = async (n) => {
    const Records = [];
    for (let i = 0; i < n; i++, sent++) {
      const key = `user-${sent % 4}`;
      truth[key] = (truth[key] ?? 0) + 1;
      Records.push({ PartitionKey: key, Data: new TextEncoder().encode(`click ${sent}`) });
    }
    const r = await kin.send(new K.PutRecordsCommand({ StreamName: "clicks", Records }));
    eq(r.FailedRecordCount, 0, "PutRecords");
  };
  const counts = async () => {
    let { ShardIterator } = await kin.send(new K.GetShardIteratorCommand({
      StreamName: "counts", ShardId: "shardId-000000000000", ShardIteratorType: "TRIM_HORIZON" }));
    const last = {};
    for (let i = 0; i < 50 && ShardIterator; i++) {
      const r = await kin.send(new K.GetRecordsCommand({ ShardIterator }));
      for (const rec of r.Records) last[rec.PartitionKey] = Number(new TextDecoder().decode(rec.Data));
      ShardIterator = r.NextShardIterator;
      if (r.Records.length === 0 && r.MillisBehindLatest === 0) break;
    }
    return last;
  };
  const exact = async () => JSON.stringify(await counts(), Object.keys(truth).sort()) ===
    JSON.stringify(truth, Object.keys(truth).sort());
  const groups = (fault) => [
    { PropertyGroupId: "InputStream0", PropertyMap: { "stream.name": "clicks" } },
    { PropertyGroupId: "OutputStream0", PropertyMap: { "stream.name": "counts" } },
    ...(fault ? [{ PropertyGroupId: "tributary.faults", PropertyMap: { [fault]: "true" } }] : []),
  ];

  const created = await kda.send(new KDA.CreateApplicationCommand({
    ApplicationName: "TestApplication", RuntimeEnvironment: "FLINK-1_15",
    ServiceExecutionRole: "arn:aws:iam::000000000000:role/flink",
    ApplicationConfiguration: {
      ApplicationCodeConfiguration: { CodeContentType: "ZIPFILE", CodeContent: { S3ContentLocation: {
        BucketARN: "arn:aws:s3:::code", FileKey: "counter-1.0.jar" } } },
      EnvironmentProperties: { PropertyGroups: groups() },
      ApplicationSnapshotConfiguration: { SnapshotsEnabled: true },
    },
    Tags: [{ Key: "team", Value: "data" }],
  }));
  eq(created.ApplicationDetail.ApplicationStatus, "READY", "created READY");
  ok(created.ApplicationDetail.CreateTimestamp instanceof Date, "CreateTimestamp parses as a Date");
  await kda.send(new KDA.StartApplicationCommand({ ApplicationName: "TestApplication" }));
  await waitFor("RUNNING", () => status("RUNNING"));
  await put(120);
  await waitFor("counts", exact);
  await kda.send(new KDA.CreateApplicationSnapshotCommand({ ApplicationName: "TestApplication", SnapshotName: "before-upgrade" }));
  await waitFor("snapshot READY", async () => (await kda.send(new KDA.DescribeApplicationSnapshotCommand({
    ApplicationName: "TestApplication", SnapshotName: "before-upgrade" }))).SnapshotDetails.SnapshotStatus === "READY");

  // The in-place runtime upgrade, with the ConditionalToken.
  const token = (await describe()).ConditionalToken;
  const up = await kda.send(new KDA.UpdateApplicationCommand({
    ApplicationName: "TestApplication", ConditionalToken: token, RuntimeEnvironmentUpdate: "FLINK-1_18",
    ApplicationConfigurationUpdate: { EnvironmentPropertyUpdates: { PropertyGroups: groups("FailOnStart") } },
  }));
  eq([up.ApplicationDetail.ApplicationStatus, up.ApplicationDetail.RuntimeEnvironment], ["UPDATING", "FLINK-1_18"],
    "UpdateApplication with RuntimeEnvironmentUpdate");
  const stale = await errorOf(kda.send(new KDA.UpdateApplicationCommand({
    ApplicationName: "TestApplication", ConditionalToken: token, RuntimeEnvironmentUpdate: "FLINK-1_19" })));
  eq([stale.name, stale.status], ["ConcurrentModificationException", 400], "a stale ConditionalToken");
  await put(40);
  await waitFor("RUNNING on 1.18", () => status("RUNNING"));
  const restarts = await waitFor("two JobRestart operations", async () => {
    const r = await kda.send(new KDA.ListApplicationOperationsCommand({ ApplicationName: "TestApplication", Operation: "JobRestart" }));
    return r.ApplicationOperationInfoList.length >= 2 ? r.ApplicationOperationInfoList : null;
  });
  const detail = (await kda.send(new KDA.DescribeApplicationOperationCommand({
    ApplicationName: "TestApplication", OperationId: restarts[0].OperationId }))).ApplicationOperationInfoDetails;
  eq(detail.OperationStatus, "FAILED", "JobRestart FAILED");
  ok(detail.OperationFailureDetails.ErrorInfo.ErrorString.includes("FailOnStart"), "the restart's cause");
  eq((await describe()).ApplicationStatus, "RUNNING", "RUNNING while the job restarts");
  const upOp = (await kda.send(new KDA.DescribeApplicationOperationCommand({
    ApplicationName: "TestApplication", OperationId: up.OperationId }))).ApplicationOperationInfoDetails;
  eq(upOp.OperationStatus, "SUCCESSFUL", "the upgrade succeeded as an operation");

  const rb = await kda.send(new KDA.RollbackApplicationCommand({ ApplicationName: "TestApplication", CurrentApplicationVersionId: 2 }));
  eq(rb.ApplicationDetail.ApplicationStatus, "ROLLING_BACK", "ROLLING_BACK");
  const back = await waitFor("RUNNING again", () => status("RUNNING"));
  eq([back.RuntimeEnvironment, back.ApplicationVersionId, back.ApplicationVersionRolledBackFrom, back.ApplicationVersionRolledBackTo],
    ["FLINK-1_15", 3, 2, 1], "rolled back to FLINK-1_15");
  await put(20);
  await waitFor("exact counts", exact);
  eq(await counts(), truth, "every click counted once");
  const versions = (await kda.send(new KDA.ListApplicationVersionsCommand({ ApplicationName: "TestApplication" }))).ApplicationVersionSummaries;
  eq(versions.map((v) => [v.ApplicationVersionId, v.ApplicationStatus]), [[3, "RUNNING"], [2, "ROLLED_BACK"], [1, "RUNNING"]], "versions");

  const e1 = await errorOf(kda.send(new KDA.RollbackApplicationCommand({ ApplicationName: "TestApplication", CurrentApplicationVersionId: 2 })));
  eq(e1.name, "ConcurrentModificationException", "a rollback with a stale version id");
  const e2 = await errorOf(kda.send(new KDA.CreateApplicationCommand({
    ApplicationName: "Other", RuntimeEnvironment: "FLINK-1_15", ServiceExecutionRole: "arn:aws:iam::000000000000:role/flink",
    ApplicationConfiguration: { ApplicationCodeConfiguration: { CodeContentType: "ZIPFILE", CodeContent: {
      S3ContentLocation: { BucketARN: "arn:aws:s3:::code", FileKey: "wordcount-1.0.jar" } } } } })));
  eq(e2.name, "InvalidArgumentException", "an unknown FileKey");
  ok(e2.message.includes("counter-1.0.jar"), `the message names the known ones: ${e2.message}`);
  const e3 = await errorOf(kda.send(new KDA.AddApplicationInputCommand({
    ApplicationName: "TestApplication", CurrentApplicationVersionId: 3, Input: { NamePrefix: "p",
      KinesisStreamsInput: { ResourceARN: "arn:aws:kinesis:us-east-1:000000000000:stream/clicks" },
      InputSchema: { RecordFormat: { RecordFormatType: "JSON" }, RecordColumns: [{ Name: "c", SqlType: "INT" }] } } })));
  eq(e3.name, "UnsupportedOperationException", "a SQL-application action");
  const tags = (await kda.send(new KDA.ListTagsForResourceCommand({ ResourceARN: back.ApplicationARN }))).Tags;
  eq(tags, [{ Key: "team", Value: "data" }], "tags");
}

async function main() {
  const binary = process.argv[2];
  if (!binary) {
    console.error("usage: node flink_test.mjs PATH/TO/tributary-server");
    process.exit(2);
  }
  const { proc, url } = await startServer(binary, ["--create-delay", "0", "--app-transition-ms", "100",
    "--app-restart-delay-ms", "300"]);
  const config = { endpoint: url, region: "us-east-1", requestHandler: new NodeHttpHandler(),
    credentials: { accessKeyId: "AKIDTRIBUTARYTEST", secretAccessKey: "tributary-test-secret" }, maxAttempts: 1 };
  try {
    await story(new KDA.KinesisAnalyticsV2Client(config), new K.KinesisClient(config));
  } catch (e) {
    failed++;
    console.log(`FAIL: the story threw: ${e.stack}`);
  }
  eq(await stopServer(proc), 0, "graceful shutdown");
  console.log(`flink-js-sdk: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

await main();
