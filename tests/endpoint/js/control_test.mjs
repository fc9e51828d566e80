// js/tributary-control (the JavaScript helpers of the test control API) with
// the AWS SDK for JavaScript v3, under node's test runner:
//   TRIBUTARY_SERVER=PATH/TO/tributary-server node --test control_test.mjs
// Each test gets a reset server; faults and time travel are seen through the SDK.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";

import {
  CreateStreamCommand, DescribeStreamSummaryCommand, GetRecordsCommand, GetShardIteratorCommand,
  KinesisClient, ListShardsCommand, ListStreamsCommand, PutRecordCommand, PutRecordsCommand,
  SplitShardCommand,
} from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { SignatureV4 } from "@smithy/signature-v4";

import {
  ControlError, NodeSha256, TributaryControl, startTributaryServer,
} from "../../../js/tributary-control/index.mjs";

const credentials = { accessKeyId: "AKIDTRIBUTARYTEST", secretAccessKey: "tributary-test-secret" };
const region = "us-east-1";
const SHARD0 = "shardId-000000000000";

function client(url) {
  // HTTP/1.1: this client defaults to HTTP/2, which this server may not speak.
  return new KinesisClient({ endpoint: url, region, credentials, maxAttempts: 1,
                             requestHandler: new NodeHttpHandler() });
}

async function errorName(promise) {
  try {
    await promise;
    return null;
  } catch (e) {
    return e.name;
  }
}

describe("tributary-control with the JS SDK", () => {
  let server;
  let kinesis;
  let control;

  before(async () => {
    server = await startTributaryServer({ stderr: "ignore" });
    kinesis = client(server.url);
    control = server.control;
  });
  after(async () => {
    kinesis?.destroy();
    assert.equal(await server.stop(), 0);
  });
  beforeEach(() => control.reset());

  test("reset leaves no stream and no rule", async () => {
    await kinesis.send(new CreateStreamCommand({ StreamName: "left-over", ShardCount: 1 }));
    await control.faults.throttlePuts(3);
    await control.reset();
    assert.deepEqual((await kinesis.send(new ListStreamsCommand({}))).StreamNames, []);
    assert.deepEqual(await control.faults.list(), []);
  });

  test("throttled puts, then the put goes through", async () => {
    await kinesis.send(new CreateStreamCommand({ StreamName: "orders", ShardCount: 1 }));
    const id = await control.faults.throttlePuts(2, { stream: "orders" });
    const put = () => kinesis.send(new PutRecordCommand({ StreamName: "orders", PartitionKey: "k", Data: Buffer.from("x") }));
    assert.equal(await errorName(put()), "ProvisionedThroughputExceededException");
    assert.equal(await errorName(put()), "ProvisionedThroughputExceededException");
    assert.equal(await errorName(put()), null);
    const [rule] = await control.faults.list();
    assert.deepEqual([rule.id, rule.count, rule.fired], [id, 0, 2]);
  });

  test("a PutRecords partial failure", async () => {
    await kinesis.send(new CreateStreamCommand({ StreamName: "orders", ShardCount: 1 }));
    await control.faults.failRecords([1], { error: "InternalFailure" });
    const out = await kinesis.send(new PutRecordsCommand({
      StreamName: "orders",
      Records: [0, 1, 2].map((i) => ({ PartitionKey: "k", Data: Buffer.from([i]) })),
    }));
    assert.equal(out.FailedRecordCount, 1);
    assert.deepEqual(out.Records.map((r) => r.ErrorCode ?? null), [null, "InternalFailure", null]);
  });

  test("expired iterators and any action failing on demand", async () => {
    await kinesis.send(new CreateStreamCommand({ StreamName: "orders", ShardCount: 1 }));
    const { ShardIterator } = await kinesis.send(new GetShardIteratorCommand({
      StreamName: "orders", ShardId: SHARD0, ShardIteratorType: "TRIM_HORIZON" }));
    await control.faults.expireIterators(1, { shard: SHARD0 });
    assert.equal(await errorName(kinesis.send(new GetRecordsCommand({ ShardIterator }))), "ExpiredIteratorException");
    await control.faults.fail("ListShards", "LimitExceededException");
    assert.equal(await errorName(kinesis.send(new ListShardsCommand({ StreamName: "orders" }))), "LimitExceededException");
    await control.faults.clear();
    await kinesis.send(new ListShardsCommand({ StreamName: "orders" }));
  });

  test("25 hours later the parent shard is EXPIRED, in well under a second", async () => {
    const started = performance.now();
    await kinesis.send(new CreateStreamCommand({ StreamName: "orders", ShardCount: 1 }));
    await kinesis.send(new PutRecordCommand({ StreamName: "orders", PartitionKey: "k", Data: Buffer.from("x") }));
    await kinesis.send(new SplitShardCommand({
      StreamName: "orders", ShardToSplit: SHARD0, NewStartingHashKey: (2n ** 127n).toString() }));
    const ids = async () => (await kinesis.send(new ListShardsCommand({ StreamName: "orders" }))).Shards.map((s) => s.ShardId);
    assert.equal((await ids()).length, 3);
    const t0 = await control.clock.nowMs();
    assert.equal(await control.clock.advance({ hours: 25 }), t0 + 25 * 3600 * 1000);
    assert.deepEqual(await ids(), ["shardId-000000000001", "shardId-000000000002"]);
    assert.ok(performance.now() - started < 1000);
  });

  test("iterator lifetime and retention helpers", async () => {
    await kinesis.send(new CreateStreamCommand({ StreamName: "s", ShardCount: 1 }));
    await kinesis.send(new PutRecordCommand({ StreamName: "s", PartitionKey: "k", Data: Buffer.from("x") }));
    const { ShardIterator } = await kinesis.send(new GetShardIteratorCommand({
      StreamName: "s", ShardId: SHARD0, ShardIteratorType: "TRIM_HORIZON" }));
    await control.clock.advancePastIteratorLifetime();
    assert.equal(await errorName(kinesis.send(new GetRecordsCommand({ ShardIterator }))), "ExpiredIteratorException");
    await control.clock.advancePastRetention();
    const fresh = await kinesis.send(new GetShardIteratorCommand({
      StreamName: "s", ShardId: SHARD0, ShardIteratorType: "TRIM_HORIZON" }));
    assert.deepEqual((await kinesis.send(new GetRecordsCommand({ ShardIterator: fresh.ShardIterator }))).Records, []);
    const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: "s" }));
    assert.equal(summary.StreamDescriptionSummary.StreamStatus, "ACTIVE");
  });

  test("bad rules reject with ControlError", async () => {
    await assert.rejects(control.faults.fail("PutRecordz", "InternalFailure"),
      (e) => e instanceof ControlError && e.status === 400 && e.type === "ValidationException");
  });
});

test("control calls are signed for a server that verifies signatures", async () => {
  const server = await startTributaryServer({
    stderr: "ignore", args: ["--access-key", credentials.accessKeyId, "--secret-key", credentials.secretAccessKey],
  });
  try {
    await assert.rejects(server.control.reset(), (e) => e.status === 403);
    const signer = new SignatureV4({ service: "kinesis", region, credentials, sha256: NodeSha256 });
    const signed = new TributaryControl(server.url, { signer });
    assert.deepEqual(await signed.reset(), {});
    await signed.faults.throttlePuts(1);
    assert.equal((await signed.faults.list()).length, 1);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
