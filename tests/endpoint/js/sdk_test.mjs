// tributary-server against the AWS SDK for JavaScript v3 (@aws-sdk/client-kinesis,
// installed by scripts/setup with `npm ci`): StreamARN addressing, CreateStream
// options, waiters, AT_TIMESTAMP, ChildShards, ShardFilter, resource tags,
// UpdateStreamMode, UpdateMaxRecordSize, consumers, SubscribeToShard, error paths.
//
// Usage: node sdk_test.mjs PATH/TO/tributary-server [http1|h2c|h2]
//   http1  the HTTP/1.1 handler (NodeHttpHandler), as with kinesalite (default)
//   h2c    the client's default handler (NodeHttp2Handler) against http://:
//          cleartext HTTP/2 with prior knowledge
//   h2     the default handler against https:// (ALPN h2): the server makes
//          a CA with --tls-self-signed, and the scenarios run in a child node
//          started with NODE_EXTRA_CA_CERTS pointing at it, as a user would
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import process from "node:process";

let kinesis;
let NodeHttpHandler;
try {
  kinesis = await import("@aws-sdk/client-kinesis");
  ({ NodeHttpHandler } = await import("@smithy/node-http-handler"));
} catch (e) {
  console.error(`cannot load @aws-sdk/client-kinesis (${e.message}); run scripts/setup (npm ci in tests/endpoint/js)`);
  console.log("js-sdk: 0 passed, 1 failed");
  process.exit(1);
}
const K = kinesis;

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
    const tls = args.includes("--tls-port");
    let url = null;
    lines.on("line", (line) => {
      if (line.startsWith("listening on http://")) url = line.slice("listening on ".length);
      if (line.startsWith("listening on https://")) var_https = line.slice("listening on ".length);
      if (line.startsWith("tls ca: ")) var_ca = line.slice("tls ca: ".length);
      if (url && (!tls || (var_https && var_ca))) {
        clearTimeout(timer);
        resolve({ proc, url, https: var_https, ca: var_ca });
      }
    });
    let var_https = null;
    let var_ca = null;
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

async function expectError(name, promise, what) {
  const e = await errorOf(promise);
  eq(e.name, name, what);
  eq(e.status, 400, `${what}: HTTP status`);
  return e;
}

const waiter = (client) => ({ client, maxWaitTime: 30, minDelay: 0.05, maxDelay: 0.2 });
const bytes = (s) => new TextEncoder().encode(s);
const text = (b) => new TextDecoder().decode(b);

async function readShard(client, StreamARN, ShardId, type = { ShardIteratorType: "TRIM_HORIZON" }) {
  let { ShardIterator } = await client.send(new K.GetShardIteratorCommand({ StreamARN, ShardId, ...type }));
  const records = [];
  let last;
  for (let i = 0; i < 100 && ShardIterator; i++) {
    last = await client.send(new K.GetRecordsCommand({ ShardIterator, StreamARN }));
    records.push(...last.Records);
    ShardIterator = last.NextShardIterator;
    if (last.Records.length === 0 && last.MillisBehindLatest === 0) break;
  }
  return { records, last };
}

async function scenarios(client, arnOf) {
  // ---- CreateStream with options; waiter; StreamARN addressing
  await client.send(new K.CreateStreamCommand({
    StreamName: "events", ShardCount: 2, StreamModeDetails: { StreamMode: "PROVISIONED" },
    Tags: { team: "data", env: "test" }, MaxRecordSizeInKiB: 2048,
  }));
  const arn = arnOf("events");
  const creating = await client.send(new K.DescribeStreamSummaryCommand({ StreamARN: arn }));
  eq(creating.StreamDescriptionSummary.StreamStatus, "CREATING", "new stream is CREATING");
  const w = await K.waitUntilStreamExists(waiter(client), { StreamARN: arn });
  eq(w.state, "SUCCESS", "waitUntilStreamExists");
  const sum = (await client.send(new K.DescribeStreamSummaryCommand({ StreamARN: arn }))).StreamDescriptionSummary;
  eq(sum.StreamStatus, "ACTIVE", "ACTIVE after the waiter");
  eq(sum.MaxRecordSizeInKiB, 2048, "MaxRecordSizeInKiB from CreateStream");
  eq(sum.StreamModeDetails, { StreamMode: "PROVISIONED" }, "StreamModeDetails");
  ok(sum.StreamCreationTimestamp instanceof Date, "StreamCreationTimestamp is a Date");
  eq(sum.ConsumerCount, 0, "ConsumerCount");
  const tags = await client.send(new K.ListTagsForStreamCommand({ StreamARN: arn }));
  eq(tags.Tags, [{ Key: "env", Value: "test" }, { Key: "team", Value: "data" }], "Tags from CreateStream");

  // ---- records by ARN, and by name and ARN together (as the KPL sends)
  const before = new Date(Date.now() - 1000);
  const put = await client.send(new K.PutRecordCommand({ StreamARN: arn, StreamName: "events", Data: bytes("first"), PartitionKey: "a" }));
  ok(/^shardId-\d{12}$/.test(put.ShardId) && /^\d+$/.test(put.SequenceNumber), "PutRecord by StreamARN");
  const big = new Uint8Array(1536 * 1024).fill(7);
  const bigPut = await errorOf(client.send(new K.PutRecordCommand({ StreamARN: arn, Data: big, PartitionKey: "a" })));
  eq(bigPut.name, null, "a 1.5 MiB record fits MaxRecordSizeInKiB 2048");
  const batch = await client.send(new K.PutRecordsCommand({
    StreamARN: arn, Records: Array.from({ length: 50 }, (_, i) => ({ Data: bytes(`r${i}`), PartitionKey: `p${i}` })),
  }));
  eq(batch.FailedRecordCount, 0, "PutRecords FailedRecordCount");
  eq(batch.Records.length, 50, "PutRecords entries");

  const shards = (await client.send(new K.ListShardsCommand({ StreamARN: arn }))).Shards;
  let total = 0;
  let sawBig = false;
  for (const s of shards) {
    const { records } = await readShard(client, arn, s.ShardId, { ShardIteratorType: "AT_TIMESTAMP", Timestamp: before });
    total += records.length;
    for (const r of records) {
      ok(r.Data instanceof Uint8Array, "Data is a Uint8Array");
      ok(r.ApproximateArrivalTimestamp instanceof Date, "ApproximateArrivalTimestamp is a Date");
      if (r.Data.length === big.length) sawBig = r.Data.every((b) => b === 7);
    }
  }
  eq(total, 52, "AT_TIMESTAMP before the first put reads every record");
  ok(sawBig, "the 1.5 MiB record round-trips");
  const future = new Date(Date.now() + 3600 * 1000);
  const { records: none } = await readShard(client, arn, shards[0].ShardId, { ShardIteratorType: "AT_TIMESTAMP", Timestamp: future });
  eq(none.length, 0, "AT_TIMESTAMP in the future reads nothing");

  // ---- UpdateMaxRecordSize shrinks what the stream accepts
  await client.send(new K.UpdateMaxRecordSizeCommand({ StreamARN: arn, MaxRecordSizeInKiB: 1024 }));
  await K.waitUntilStreamExists(waiter(client), { StreamARN: arn });
  const s2 = (await client.send(new K.DescribeStreamSummaryCommand({ StreamARN: arn }))).StreamDescriptionSummary;
  eq(s2.MaxRecordSizeInKiB, 1024, "UpdateMaxRecordSize");
  await expectError("InvalidArgumentException",
    client.send(new K.PutRecordCommand({ StreamARN: arn, Data: big, PartitionKey: "a" })),
    "a 1.5 MiB record after UpdateMaxRecordSize 1024");

  // ---- split, read the parent to its end, ChildShards, ShardFilter
  const parent = shards[0];
  const splitAt = (BigInt(parent.HashKeyRange.EndingHashKey) / 2n).toString();
  await client.send(new K.SplitShardCommand({ StreamARN: arn, ShardToSplit: parent.ShardId, NewStartingHashKey: splitAt }));
  await K.waitUntilStreamExists(waiter(client), { StreamARN: arn });
  const { last } = await readShard(client, arn, parent.ShardId);
  ok(last.NextShardIterator === undefined, "closed parent read to the end: no NextShardIterator");
  eq((last.ChildShards ?? []).map((c) => c.ShardId).sort(), ["shardId-000000000002", "shardId-000000000003"], "ChildShards");
  eq(last.ChildShards[0].HashKeyRange.StartingHashKey, "0", "ChildShards HashKeyRange");
  const atLatest = (await client.send(new K.ListShardsCommand({ StreamARN: arn, ShardFilter: { Type: "AT_LATEST" } }))).Shards;
  eq(atLatest.map((s) => s.ShardId), ["shardId-000000000001", "shardId-000000000002", "shardId-000000000003"], "ShardFilter AT_LATEST");
  const roots = (await client.send(new K.ListShardsCommand({ StreamARN: arn, ShardFilter: { Type: "AT_TRIM_HORIZON" } }))).Shards;
  eq(roots.map((s) => s.ShardId), ["shardId-000000000000", "shardId-000000000001"], "ShardFilter AT_TRIM_HORIZON");
  const afterId = (await client.send(new K.ListShardsCommand({ StreamARN: arn, ShardFilter: { Type: "AFTER_SHARD_ID", ShardId: "shardId-000000000001" } }))).Shards;
  eq(afterId.map((s) => s.ShardId), ["shardId-000000000002", "shardId-000000000003"], "ShardFilter AFTER_SHARD_ID");
  const fromTs = (await client.send(new K.ListShardsCommand({ StreamARN: arn, ShardFilter: { Type: "FROM_TIMESTAMP", Timestamp: new Date() } }))).Shards;
  ok(fromTs.length >= 3, "ShardFilter FROM_TIMESTAMP");
  const paged = [];
  let page = await client.send(new K.ListShardsCommand({ StreamARN: arn, MaxResults: 2 }));
  paged.push(...page.Shards);
  while (page.NextToken) {
    page = await client.send(new K.ListShardsCommand({ NextToken: page.NextToken, MaxResults: 2 }));
    paged.push(...page.Shards);
  }
  eq(paged.length, 4, "ListShards NextToken paging");

  // ---- UpdateShardCount and UpdateStreamMode
  const usc = await client.send(new K.UpdateShardCountCommand({ StreamARN: arn, TargetShardCount: 2, ScalingType: "UNIFORM_SCALING" }));
  eq([usc.CurrentShardCount, usc.TargetShardCount, usc.StreamARN], [3, 2, arn], "UpdateShardCount result");
  await K.waitUntilStreamExists(waiter(client), { StreamARN: arn });
  await client.send(new K.UpdateStreamModeCommand({ StreamARN: arn, StreamModeDetails: { StreamMode: "ON_DEMAND" } }));
  await K.waitUntilStreamExists(waiter(client), { StreamARN: arn });
  const s3 = (await client.send(new K.DescribeStreamSummaryCommand({ StreamARN: arn }))).StreamDescriptionSummary;
  eq(s3.StreamModeDetails, { StreamMode: "ON_DEMAND" }, "UpdateStreamMode ON_DEMAND");
  await expectError("ValidationException",
    client.send(new K.UpdateStreamModeCommand({ StreamARN: arn, StreamModeDetails: { StreamMode: "FAST" } })),
    "an unknown StreamMode");

  // ---- resource tags (stream ARNs)
  await client.send(new K.TagResourceCommand({ ResourceARN: arn, Tags: { owner: "me" } }));
  await client.send(new K.UntagResourceCommand({ ResourceARN: arn, TagKeys: ["env"] }));
  const rtags = await client.send(new K.ListTagsForResourceCommand({ ResourceARN: arn }));
  eq(rtags.Tags, [{ Key: "owner", Value: "me" }, { Key: "team", Value: "data" }], "TagResource/UntagResource/ListTagsForResource");
  await expectError("ResourceNotFoundException",
    client.send(new K.ListTagsForResourceCommand({ ResourceARN: `${arn}/consumer/c1:1700000000` })),
    "tags of a consumer ARN that names no consumer");
  await expectError("ResourceNotFoundException",
    client.send(new K.TagResourceCommand({ ResourceARN: arnOf("missing"), Tags: { a: "b" } })),
    "TagResource of a missing stream");

  // ---- ListStreams with NextToken and StreamSummaries
  for (let i = 0; i < 3; i++) await client.send(new K.CreateStreamCommand({ StreamName: `js-${i}`, ShardCount: 1 }));
  const names = [];
  let ls = await client.send(new K.ListStreamsCommand({ Limit: 2 }));
  eq(ls.StreamSummaries.length, ls.StreamNames.length, "StreamSummaries accompany StreamNames");
  ok(ls.StreamSummaries[0].StreamARN === arnOf(ls.StreamNames[0]), "StreamSummaries StreamARN");
  names.push(...ls.StreamNames);
  while (ls.HasMoreStreams) {
    ls = await client.send(new K.ListStreamsCommand({ Limit: 2, NextToken: ls.NextToken }));
    names.push(...ls.StreamNames);
  }
  eq(names, ["events", "js-0", "js-1", "js-2"], "ListStreams NextToken paging");

  // ---- enhanced fan-out consumers, resource policies, account settings, warm throughput
  const reg = await client.send(new K.RegisterStreamConsumerCommand({ StreamARN: arn, ConsumerName: "c" }));
  eq(reg.Consumer.ConsumerStatus, "CREATING", "RegisterStreamConsumer: CREATING");
  ok(reg.Consumer.ConsumerARN.startsWith(`${arn}/consumer/c:`), "consumer ARN shape");
  ok(reg.Consumer.ConsumerCreationTimestamp instanceof Date, "ConsumerCreationTimestamp is a Date");
  const cdesc = await client.send(new K.DescribeStreamConsumerCommand({ ConsumerARN: reg.Consumer.ConsumerARN }));
  eq(cdesc.ConsumerDescription.StreamARN, arn, "DescribeStreamConsumer by ConsumerARN");
  const clist = await client.send(new K.ListStreamConsumersCommand({ StreamARN: arn, MaxResults: 5 }));
  eq(clist.Consumers.map((c) => c.ConsumerName), ["c"], "ListStreamConsumers");
  await expectError("ResourceInUseException",
    client.send(new K.RegisterStreamConsumerCommand({ StreamARN: arn, ConsumerName: "c" })), "a consumer name taken");
  // ---- resource tags on a consumer ARN
  const carn = reg.Consumer.ConsumerARN;
  await client.send(new K.TagResourceCommand({ ResourceARN: carn, Tags: { app: "billing", tier: "gold" } }));
  await client.send(new K.UntagResourceCommand({ ResourceARN: carn, TagKeys: ["tier"] }));
  const ctags = await client.send(new K.ListTagsForResourceCommand({ ResourceARN: carn }));
  eq(ctags.Tags, [{ Key: "app", Value: "billing" }], "TagResource/UntagResource/ListTagsForResource on a consumer ARN");
  const stags = await client.send(new K.ListTagsForResourceCommand({ ResourceARN: arn }));
  ok(!stags.Tags.some((t) => t.Key === "app"), "a consumer's tags are not the stream's");
  await expectError("InvalidArgumentException",
    client.send(new K.TagResourceCommand({ ResourceARN: carn,
      Tags: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, "v"])) })),
    "more than 50 tags on a consumer");
  // ---- SubscribeToShard (an HTTP/1.1 chunked body, or an HTTP/2 stream)
  for (let i = 0; i < 400; i++) {
    const d = await client.send(new K.DescribeStreamConsumerCommand({ ConsumerARN: carn }));
    if (d.ConsumerDescription.ConsumerStatus === "ACTIVE") break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const open = (await client.send(new K.ListShardsCommand({ StreamARN: arn, ShardFilter: { Type: "AT_LATEST" } }))).Shards[0];
  const pushPut = await client.send(new K.PutRecordCommand({ StreamARN: arn, Data: bytes("pushed"), PartitionKey: "p",
    ExplicitHashKey: open.HashKeyRange.StartingHashKey }));
  const sub = await client.send(new K.SubscribeToShardCommand({ ConsumerARN: carn, ShardId: open.ShardId,
    StartingPosition: { Type: "AT_SEQUENCE_NUMBER", SequenceNumber: pushPut.SequenceNumber } }));
  let pushed = null;
  for await (const ev of sub.EventStream) {
    pushed = ev.SubscribeToShardEvent;
    break;
  }
  eq(pushed?.Records?.map((r) => Buffer.from(r.Data).toString()), ["pushed"], "SubscribeToShard pushes the record");
  eq(pushed?.ContinuationSequenceNumber, pushPut.SequenceNumber, "SubscribeToShard ContinuationSequenceNumber");
  ok(pushed?.Records?.[0]?.ApproximateArrivalTimestamp instanceof Date, "SubscribeToShard record timestamp is a Date");
  await expectError("ResourceInUseException",
    client.send(new K.SubscribeToShardCommand({ ConsumerARN: carn, ShardId: open.ShardId, StartingPosition: { Type: "LATEST" } })),
    "a second subscription to the same shard within 5 s");
  // A record put while a subscription waits arrives as its next event.
  const other = (await client.send(new K.ListShardsCommand({ StreamARN: arn, ShardFilter: { Type: "AT_LATEST" } }))).Shards[1];
  if (ok(other !== undefined, "a second open shard to subscribe to")) {
    const live = await client.send(new K.SubscribeToShardCommand({ ConsumerARN: carn, ShardId: other.ShardId,
      StartingPosition: { Type: "LATEST" } }));
    let livePut = null;
    let got = null;
    for await (const ev of live.EventStream) {
      if (livePut === null) {
        livePut = await client.send(new K.PutRecordCommand({ StreamARN: arn, Data: bytes("live"), PartitionKey: "p",
          ExplicitHashKey: other.HashKeyRange.StartingHashKey }));
      }
      if (ev.SubscribeToShardEvent?.Records?.length > 0) {
        got = ev.SubscribeToShardEvent;
        break;
      }
    }
    eq(got?.Records?.map((r) => Buffer.from(r.Data).toString()), ["live"], "a subscription pushes a record put after it started");
    eq(got?.ContinuationSequenceNumber, livePut?.SequenceNumber, "its ContinuationSequenceNumber");
  }
  await expectError("ValidationException",
    client.send(new K.ListStreamConsumersCommand({ StreamARN: arn, MaxResults: 10001 })), "ListStreamConsumers MaxResults 10001");
  const policy = JSON.stringify({ Version: "2012-10-17", Statement: [] });
  await client.send(new K.PutResourcePolicyCommand({ ResourceARN: arn, Policy: policy }));
  eq((await client.send(new K.GetResourcePolicyCommand({ ResourceARN: arn }))).Policy, policy, "Put/GetResourcePolicy");
  await client.send(new K.PutResourcePolicyCommand({ ResourceARN: reg.Consumer.ConsumerARN, Policy: "{}" }));
  await client.send(new K.DeleteResourcePolicyCommand({ ResourceARN: arn }));
  eq((await client.send(new K.GetResourcePolicyCommand({ ResourceARN: arn }))).Policy, "{}", "no policy after DeleteResourcePolicy");
  await expectError("ResourceNotFoundException", client.send(new K.DeleteResourcePolicyCommand({ ResourceARN: arn })),
    "DeleteResourcePolicy without a policy");
  await client.send(new K.DeregisterStreamConsumerCommand({ StreamARN: arn, ConsumerName: "c" }));
  await expectError("ResourceNotFoundException",
    client.send(new K.DescribeStreamConsumerCommand({ StreamARN: arn, ConsumerName: "nope" })), "a missing consumer");
  const acct0 = await client.send(new K.DescribeAccountSettingsCommand({}));
  eq(acct0.MinimumThroughputBillingCommitment?.Status, "DISABLED", "DescribeAccountSettings: DISABLED");
  await expectError("InvalidArgumentException",
    client.send(new K.UpdateStreamWarmThroughputCommand({ StreamARN: arn, WarmThroughputMiBps: 10 })),
    "warm throughput without the account commitment");
  const acct = await client.send(new K.UpdateAccountSettingsCommand({ MinimumThroughputBillingCommitment: { Status: "ENABLED" } }));
  eq(acct.MinimumThroughputBillingCommitment.Status, "ENABLED", "UpdateAccountSettings ENABLED");
  ok(acct.MinimumThroughputBillingCommitment.EarliestAllowedEndAt instanceof Date, "EarliestAllowedEndAt");
  await expectError("InvalidArgumentException",
    client.send(new K.UpdateStreamWarmThroughputCommand({ StreamName: "js-0", WarmThroughputMiBps: 10 })),
    "warm throughput of a PROVISIONED stream");
  await client.send(new K.CreateStreamCommand({ StreamName: "od", StreamModeDetails: { StreamMode: "ON_DEMAND" } }));
  await K.waitUntilStreamExists(waiter(client), { StreamName: "od" });
  const warm = await client.send(new K.UpdateStreamWarmThroughputCommand({ StreamName: "od", WarmThroughputMiBps: 10 }));
  eq(warm.WarmThroughput, { TargetMiBps: 10, CurrentMiBps: 0 }, "UpdateStreamWarmThroughput");
  await K.waitUntilStreamExists(waiter(client), { StreamName: "od" });
  const odsum = await client.send(new K.DescribeStreamSummaryCommand({ StreamName: "od" }));
  eq(odsum.StreamDescriptionSummary.WarmThroughput, { TargetMiBps: 10, CurrentMiBps: 10 }, "summary reports WarmThroughput");
  const off = await client.send(new K.UpdateAccountSettingsCommand({ MinimumThroughputBillingCommitment: { Status: "DISABLED" } }));
  eq(off.MinimumThroughputBillingCommitment.Status, "ENABLED_UNTIL_EARLIEST_ALLOWED_END", "disabling early");

  // ---- request-shape errors
  await expectError("InvalidArgumentException", client.send(new K.DescribeStreamSummaryCommand({})),
    "neither StreamName nor StreamARN");
  await expectError("InvalidArgumentException", client.send(new K.DescribeStreamSummaryCommand({ StreamName: "js-0", StreamARN: arn })),
    "StreamName and StreamARN naming different streams");
  await expectError("ResourceNotFoundException", client.send(new K.DescribeStreamCommand({ StreamARN: arnOf("nope") })),
    "DescribeStream of a missing stream by ARN");
  await expectError("ResourceNotFoundException",
    client.send(new K.DescribeStreamCommand({ StreamARN: "arn:aws:kinesis:eu-west-1:000000000000:stream/events" })),
    "an ARN of another region");
  await expectError("ValidationException", client.send(new K.PutRecordCommand({ StreamARN: arn, Data: bytes("x") })),
    "PutRecord without PartitionKey");

  // ---- delete and waitUntilStreamNotExists
  await client.send(new K.DeleteStreamCommand({ StreamARN: arn, EnforceConsumerDeletion: true }));
  const gone = await K.waitUntilStreamNotExists(waiter(client), { StreamARN: arn });
  eq(gone.state, "SUCCESS", "waitUntilStreamNotExists");
}

function makeClient(url, protocol) {
  const options = {
    endpoint: url,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDTRIBUTARYTEST", secretAccessKey: "tributary-test-secret" },
    maxAttempts: 2,
  };
  // http1: the HTTP/1.1 handler, as with kinesalite. h2c and h2: the
  // client's default, NodeHttp2Handler (docs/ENDPOINT.md "Clients").
  if (protocol === "http1") {
    options.requestHandler = new NodeHttpHandler({ connectionTimeout: 5000, requestTimeout: 30000 });
  }
  return new K.KinesisClient(options);
}

async function runScenarios(url, protocol) {
  const client = makeClient(url, protocol);
  const arnOf = (name) => `arn:aws:kinesis:us-east-1:000000000000:stream/${name}`;
  try {
    await scenarios(client, arnOf);
  } catch (e) {
    failed++;
    console.log(`FAIL: scenario threw: ${e.stack ?? e}`);
  }
  client.destroy();
}

async function main() {
  // The child of an h2 run: scenarios only, against a running server.
  if (process.argv[2] === "--scenarios") {
    await runScenarios(process.argv[3], process.argv[4]);
    console.log(`js-sdk child: ${passed} passed, ${failed} failed`);
    process.exit(failed === 0 && passed > 0 ? 0 : 1);
  }
  const binary = process.argv[2];
  const protocol = process.argv[3] ?? "http1";
  if (!binary || !["http1", "h2c", "h2"].includes(protocol)) {
    console.error("usage: node sdk_test.mjs PATH/TO/tributary-server [http1|h2c|h2]");
    process.exit(2);
  }
  const args = ["--create-delay", "200", "--update-delay", "200", "--delete-delay", "200"];
  let tlsDir = null;
  if (protocol === "h2") {
    tlsDir = mkdtempSync(join(tmpdir(), "tributary-js-tls-"));
    args.push("--tls-port", "0", "--tls-self-signed", "--tls-dir", tlsDir);
  }
  const server = await startServer(binary, args);
  if (protocol === "h2") {
    // NODE_EXTRA_CA_CERTS is read when node starts: a child runs the scenarios.
    const child = spawnSync(process.execPath, [process.argv[1], "--scenarios", server.https, protocol], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: server.ca },
      stdio: ["ignore", "pipe", "inherit"],
      encoding: "utf8",
      timeout: 240000,
    });
    process.stdout.write(child.stdout ?? "");
    const m = /(\d+) passed, (\d+) failed/.exec(child.stdout ?? "");
    passed += m ? Number(m[1]) : 0;
    failed += m ? Number(m[2]) : 1;
    ok(child.status === 0, `the scenarios over https exit 0 (got ${child.status})`);
  } else {
    await runScenarios(server.url, protocol);
  }
  eq(await stopServer(server.proc), 0, "tributary-server exits 0 on SIGTERM");
  if (tlsDir) rmSync(tlsDir, { recursive: true, force: true });
  console.log(`js-sdk (${protocol}): ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

await main();
