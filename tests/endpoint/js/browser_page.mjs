// Runs in headless Chromium (browser_test.mjs bundles it with esbuild): the
// AWS SDK for JavaScript v3 with its browser defaults (fetch, HTTP/1.1)
// calls tributary-server, which is another origin than the page's, so
// every call needs the CORS answers (a preflight, then
// Access-Control-Allow-Origin and -Expose-Headers on the response), as AWS
// gives them to a browser page. The results go back to the page's origin
// (POST /result) for the driver to check.
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  PutRecordCommand,
  PutRecordsCommand,
} from "@aws-sdk/client-kinesis";

async function run(endpoint) {
  const client = new KinesisClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDBROWSER", secretAccessKey: "browser-secret" },
  });
  const out = {};
  await client.send(new CreateStreamCommand({ StreamName: "from-browser", ShardCount: 1 }));
  for (let i = 0; i < 100; i++) {
    const d = await client.send(new DescribeStreamSummaryCommand({ StreamName: "from-browser" }));
    out.status = d.StreamDescriptionSummary.StreamStatus;
    if (out.status === "ACTIVE") break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const enc = new TextEncoder();
  const put = await client.send(
    new PutRecordCommand({ StreamName: "from-browser", PartitionKey: "k", Data: enc.encode("hello from a page") }),
  );
  out.shardId = put.ShardId;
  out.sequenceNumber = put.SequenceNumber;
  const batch = await client.send(
    new PutRecordsCommand({
      StreamName: "from-browser",
      Records: [1, 2, 3].map((i) => ({ PartitionKey: `k${i}`, Data: enc.encode(`record ${i}`) })),
    }),
  );
  out.failed = batch.FailedRecordCount;
  const it = await client.send(
    new GetShardIteratorCommand({
      StreamName: "from-browser",
      ShardId: "shardId-000000000000",
      ShardIteratorType: "TRIM_HORIZON",
    }),
  );
  const got = await client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }));
  const dec = new TextDecoder();
  out.records = got.Records.map((r) => dec.decode(r.Data));
  // An error: its type reaches the SDK through the exposed headers and body.
  try {
    await client.send(new DescribeStreamSummaryCommand({ StreamName: "no-such-stream" }));
    out.error = "none";
  } catch (e) {
    out.error = e.name;
    out.errorStatus = e.$metadata?.httpStatusCode;
    out.requestId = e.$metadata?.requestId;
  }
  return out;
}

const endpoint = new URLSearchParams(location.search).get("endpoint");
run(endpoint)
  .then((out) => fetch("/result", { method: "POST", body: JSON.stringify({ ok: true, out }) }))
  .catch((e) => fetch("/result", { method: "POST", body: JSON.stringify({ ok: false, error: `${e.name}: ${e.message}` }) }));
