// The AWS SDK for JavaScript v3 as a load generator for bench/endpoint/http2.
// It uses the SDK installed for the tests (tests/endpoint/js/node_modules).
//
//   node js_sdk_load.mjs put URL HANDLER SECONDS CONCURRENCY STREAM
//     PutRecords of 500 x 100 B in CONCURRENCY closed loops for SECONDS
//     (after 1 s of warm-up); HANDLER is "default" (the client's own,
//     NodeHttp2Handler: h2c for http://, h2 for https://) or "http1"
//     (NodeHttpHandler) or "h2-shared" (NodeHttp2Handler keeping and
//     sharing its sessions). Prints {"records", "seconds", "requests"}.
//   node js_sdk_load.mjs subscribe URL default SAMPLES 1 STREAM
//     one SubscribeToShard (LATEST, shard 0, the default handler), then
//     SAMPLES times: a PutRecord (HTTP/1.1, another connection) and the time
//     from the call until the event holding it arrives. Prints
//     {"samples", "p50_ms", "p99_ms", "max_ms"}.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "../../tests/endpoint/js/package.json"));
const K = require("@aws-sdk/client-kinesis");
const { NodeHttpHandler, NodeHttp2Handler } = require("@smithy/node-http-handler");

const [phase, url, handler, amount, concurrency, stream] = process.argv.slice(2);
const options = {
  endpoint: url,
  region: "us-east-1",
  credentials: { accessKeyId: "AKIDBENCHMARK", secretAccessKey: "bench" },
  maxAttempts: 1,
};
if (handler === "http1") options.requestHandler = new NodeHttpHandler({ connectionTimeout: 5000, requestTimeout: 30000 });
// The Kinesis client's default handler is NodeHttp2Handler with
// disableConcurrentStreams: true (its runtimeConfig), which opens an HTTP/2
// session per call and closes it with GOAWAY after the response. "h2-shared"
// is the same handler with sessions kept and shared, as NodeHttpHandler
// keeps its HTTP/1.1 connections alive.
if (handler === "h2-shared") options.requestHandler = new NodeHttp2Handler({ disableConcurrentStreams: false });
const client = new K.KinesisClient(options);

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

if (phase === "put") {
  const records = Array.from({ length: 500 }, (_, i) => ({ Data: new Uint8Array(100).fill(97), PartitionKey: `k${i}` }));
  const seconds = Number(amount);
  let counting = false;
  let requests = 0;
  const loop = async (end) => {
    while (Date.now() < end) {
      const r = await client.send(new K.PutRecordsCommand({ StreamName: stream, Records: records }));
      if (r.FailedRecordCount !== 0) throw new Error(`FailedRecordCount ${r.FailedRecordCount}`);
      if (counting) requests++;
    }
  };
  const warmEnd = Date.now() + 1000;
  const end = warmEnd + seconds * 1000;
  const loops = Array.from({ length: Number(concurrency) }, () => loop(end));
  await new Promise((r) => setTimeout(r, 1000));
  counting = true;
  const t0 = process.hrtime.bigint();
  await Promise.all(loops);
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ records: requests * 500, seconds: elapsed, requests }));
} else if (phase === "subscribe") {
  const summary = await client.send(new K.DescribeStreamSummaryCommand({ StreamName: stream }));
  const arn = summary.StreamDescriptionSummary.StreamARN;
  const reg = await client.send(new K.RegisterStreamConsumerCommand({ StreamARN: arn, ConsumerName: `bench${Date.now()}` }));
  for (let i = 0; i < 500; i++) {
    const d = await client.send(new K.DescribeStreamConsumerCommand({ ConsumerARN: reg.Consumer.ConsumerARN }));
    if (d.ConsumerDescription.ConsumerStatus === "ACTIVE") break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const shards = await client.send(new K.ListShardsCommand({ StreamName: stream }));
  const shard = shards.Shards[0];
  const sub = await client.send(new K.SubscribeToShardCommand({ ConsumerARN: reg.Consumer.ConsumerARN,
    ShardId: shard.ShardId, StartingPosition: { Type: "LATEST" } }));
  const samples = [];
  const wanted = Number(amount);
  // Puts go over HTTP/1.1 on a connection of their own (NodeHttpHandler sets
  // TCP_NODELAY), so the figure is the server's put-to-event path, not the
  // client's Nagle delay between a request's HEADERS and DATA frames.
  const putter = new K.KinesisClient({ ...options,
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5000, requestTimeout: 30000 }) });
  let pending = null;  // { tag, t0 }
  const putNext = () => {
    const tag = `s${samples.length}`;
    pending = { tag, t0: process.hrtime.bigint() };
    putter.send(new K.PutRecordCommand({ StreamName: stream, Data: new TextEncoder().encode(tag), PartitionKey: "p",
      ExplicitHashKey: shard.HashKeyRange.StartingHashKey })).catch((e) => { console.error(e); process.exit(1); });
  };
  putNext();
  for await (const ev of sub.EventStream) {
    const now = process.hrtime.bigint();
    const recs = ev.SubscribeToShardEvent?.Records ?? [];
    if (pending && recs.some((r) => new TextDecoder().decode(r.Data) === pending.tag)) {
      samples.push(Number(now - pending.t0) / 1e6);
      if (samples.length >= wanted) break;
      putNext();
    }
  }
  samples.sort((a, b) => a - b);
  console.log(JSON.stringify({ samples: samples.length, p50_ms: percentile(samples, 50), p99_ms: percentile(samples, 99),
    max_ms: samples[samples.length - 1] }));
}
client.destroy();
process.exit(0);
