// tributary-server from a browser page: the AWS SDK for JavaScript v3 in
// headless Chromium (Debian's chromium, as the status page test uses it),
// bundled for the browser with Debian's esbuild from browser_page.mjs.
// The page is served from another origin than the server's, so the browser
// sends CORS preflights and enforces the CORS headers of every answer: the
// test passes only if tributary-server answers them as AWS does (preflight:
// 200 with the requested headers and method allowed; every response:
// Access-Control-Allow-Origin: * and Access-Control-Expose-Headers).
//
// Usage: node browser_test.mjs PATH/TO/tributary-server OUT_DIR
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { createInterface } from "node:readline";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const [binary, outDir] = process.argv.slice(2);
let passed = 0;
let failed = 0;
function eq(got, want, what) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (g === w) passed++;
  else {
    failed++;
    console.log(`FAIL: ${what}: got ${g}, want ${w}`);
  }
}
function finish() {
  console.log(`js-browser: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

function startServer() {
  return new Promise((resolve, reject) => {
    const proc = spawn(binary, ["--host", "127.0.0.1", "--port", "0", "--in-memory", "--create-delay", "0"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const timer = setTimeout(() => reject(new Error("tributary-server did not start in 20 s")), 20000);
    createInterface({ input: proc.stdout }).on("line", (line) => {
      if (line.startsWith("listening on http://")) {
        clearTimeout(timer);
        resolve({ proc, url: line.slice("listening on ".length) });
      }
    });
    proc.on("exit", (code) => reject(new Error(`tributary-server exited early (${code})`)));
  });
}

mkdirSync(outDir, { recursive: true });
const bundle = join(outDir, "browser_bundle.js");
const built = spawnSync(
  "esbuild",
  [join(here, "browser_page.mjs"), "--bundle", "--platform=browser", "--format=iife", `--outfile=${bundle}`,
    "--log-level=warning"],
  { cwd: here, encoding: "utf8" },
);
if (built.status !== 0) {
  console.log(`FAIL: esbuild (Debian package esbuild, scripts/setup): ${built.error ?? built.stderr}`);
  failed++;
  finish();
}

const server = await startServer();
let onResult;
const result = new Promise((resolve) => {
  onResult = resolve;
});
const page = createServer((req, res) => {
  if (req.method === "POST" && req.url === "/result") {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      res.end("ok");
      onResult(JSON.parse(body));
    });
    return;
  }
  if (req.url.startsWith("/bundle.js")) {
    res.setHeader("Content-Type", "text/javascript");
    res.end(readFileSync(bundle));
    return;
  }
  res.setHeader("Content-Type", "text/html");
  res.end('<!doctype html><html><body><script src="/bundle.js"></script></body></html>');
});
await new Promise((r) => page.listen(0, "127.0.0.1", r));
// Another origin: "localhost" for the page, 127.0.0.1 for the server.
const pageUrl = `http://localhost:${page.address().port}/?endpoint=${encodeURIComponent(server.url)}`;

const profile = join(outDir, "chromium-profile");
rmSync(profile, { recursive: true, force: true });
const chrome = spawn(
  "chromium",
  ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
    `--user-data-dir=${profile}`, "--remote-debugging-port=0", pageUrl],
  { stdio: ["ignore", "ignore", "pipe"] },
);
let chromeLog = "";
chrome.stderr.on("data", (d) => (chromeLog += d));
const timeout = new Promise((resolve) => setTimeout(() => resolve({ ok: false, error: "no result in 90 s" }), 90000));
const got = await Promise.race([result, timeout]);
chrome.kill("SIGKILL");
page.close();
server.proc.removeAllListeners("exit");
server.proc.kill("SIGTERM");

if (!got.ok) {
  console.log(`FAIL: the page's calls failed: ${got.error}`);
  if (chromeLog) console.log(chromeLog.slice(-2000));
  failed++;
  finish();
}
const o = got.out;
eq(o.status, "ACTIVE", "CreateStream then DescribeStreamSummary from the page");
eq(o.shardId, "shardId-000000000000", "PutRecord's ShardId");
eq(/^\d{56}$/.test(o.sequenceNumber), true, "PutRecord's 56-digit SequenceNumber");
eq(o.failed, 0, "PutRecords");
eq(o.records, ["hello from a page", "record 1", "record 2", "record 3"], "GetRecords reads them back");
eq(o.error, "ResourceNotFoundException", "an error's type reaches the SDK");
eq(o.errorStatus, 400, "its HTTP status");
eq(/^[0-9a-f-]{36}$/.test(o.requestId ?? ""), true, "x-amzn-RequestId is exposed to the page");
finish();
