// Test helpers for tributary-server's test control API (--test-control,
// docs/ENDPOINT.md "Test control"), for tests written with the AWS SDK for
// JavaScript: reset between tests, faults on demand, time travel. The same
// helpers as the pytest plugin (python/pytest_tributary). No dependencies:
// node >= 20 (fetch, node:child_process).
//
//   import { startTributaryServer } from "tributary-control";
//   const server = await startTributaryServer();       // tributary-server on PATH
//   const kinesis = new KinesisClient({ endpoint: server.url, region: "us-east-1",
//                                       credentials: { accessKeyId: "x", secretAccessKey: "x" } });
//   await server.control.reset();
//   await server.control.faults.throttlePuts(2);
//   await server.control.clock.advance({ hours: 25 });
//   await server.stop();
//
// A server that verifies signatures wants control calls signed: pass
// { signer } to TributaryControl, a SignatureV4 of @smithy/signature-v4 (the
// SDK's own) for service "kinesis", e.g.
//   new SignatureV4({ service: "kinesis", region, credentials, sha256: NodeSha256 })
import { spawn } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { createInterface } from "node:readline";

export const ITERATOR_LIFETIME_MS = 5 * 60 * 1000;
export const DEFAULT_RETENTION_HOURS = 24;
const THROTTLED = "ProvisionedThroughputExceededException";
const INTERNAL = "InternalFailure";

/** A control call answered with an error: .status (HTTP), .type (AWS error type). */
export class ControlError extends Error {
  constructor(status, type, message) {
    super(`${status} ${type}: ${message}`);
    this.name = "ControlError";
    this.status = status;
    this.type = type;
  }
}

/** SHA-256 (and HMAC-SHA-256 with a key) for SignatureV4's `sha256` option, on node:crypto. */
export class NodeSha256 {
  constructor(secret) {
    this.hash = secret ? createHmac("sha256", secret) : createHash("sha256");
  }
  update(data) {
    this.hash.update(typeof data === "string" ? Buffer.from(data, "utf8") : data);
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

function withoutUndefined(object) {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined));
}

export class Faults {
  constructor(control) {
    this.control = control;
  }
  /** Adds a rule; returns its id. count -1: until cleared. */
  async add({ call, error, count = 1, stream, shard, partitionKey, application, failRecords,
              recordError, latencyMs, message }) {
    const rule = withoutUndefined({
      call, error, count, stream, shard, partition_key: partitionKey, application,
      fail_records: failRecords, record_error: recordError, latency_ms: latencyMs, message,
    });
    return (await this.control.call("POST", "/_tributary/faults", rule)).id;
  }
  /** Every rule with its remaining "count" and "fired" so far. */
  async list() {
    return (await this.control.call("GET", "/_tributary/faults")).rules;
  }
  async remove(id) {
    await this.control.call("DELETE", `/_tributary/faults/${encodeURIComponent(id)}`);
  }
  async clear() {
    await this.control.call("DELETE", "/_tributary/faults");
  }
  throttlePuts(count = 1, target = {}) {
    return this.add({ call: "PutRecord", error: THROTTLED, count, ...target });
  }
  throttlePutRecords(count = 1, target = {}) {
    return this.add({ call: "PutRecords", error: THROTTLED, count, ...target });
  }
  failPuts(count = 1, { error = INTERNAL, ...target } = {}) {
    return this.add({ call: "PutRecord", error, count, ...target });
  }
  /** PutRecords partial failure: the entries at `indexes` fail; the others are written. */
  failRecords(indexes, { batches = 1, error = THROTTLED, ...target } = {}) {
    return this.add({ call: "PutRecords", count: batches, failRecords: [...indexes], recordError: error, ...target });
  }
  expireIterators(count = 1, target = {}) {
    return this.add({ call: "GetRecords", error: "ExpiredIteratorException", count, ...target });
  }
  throttleGetRecords(count = 1, target = {}) {
    return this.add({ call: "GetRecords", error: THROTTLED, count, ...target });
  }
  failGetShardIterator(count = 1, { error = THROTTLED, ...target } = {}) {
    return this.add({ call: "GetShardIterator", error, count, ...target });
  }
  /** Any Kinesis or Managed Flink action answers `error`. */
  fail(call, error, count = 1, target = {}) {
    return this.add({ call, error, count, ...target });
  }
  /** `call` is answered `latencyMs` later (wall-clock time). */
  delay(call, latencyMs, count = 1, target = {}) {
    return this.add({ call, latencyMs, count, ...target });
  }
}

export class Clock {
  constructor(control) {
    this.control = control;
  }
  async nowMs() {
    return (await this.control.call("GET", "/_tributary/clock")).now_ms;
  }
  async isManual() {
    return (await this.control.call("GET", "/_tributary/clock")).manual;
  }
  /** Moves the server's clock forward (needs --manual-clock); returns the new now_ms. */
  async advance({ ms = 0, seconds = 0, minutes = 0, hours = 0 } = {}) {
    const total = Math.round(ms + 1000 * (seconds + 60 * (minutes + 60 * hours)));
    return (await this.control.call("POST", "/_tributary/clock", { advance_ms: total })).now_ms;
  }
  /** Every record written so far expires: the retention period (`hours`, default
   *  24) plus 1 ms. */
  advancePastRetention({ hours = DEFAULT_RETENTION_HOURS } = {}) {
    return this.advance({ hours, ms: 1 });
  }
  /** Every shard iterator issued so far expires (5 minutes plus 1 ms). */
  advancePastIteratorLifetime() {
    return this.advance({ ms: ITERATOR_LIFETIME_MS + 1 });
  }
}

export class Applications {
  constructor(control) {
    this.control = control;
  }
  job(name, job) {
    return this.control.call("POST", `/_tributary/applications/${encodeURIComponent(name)}`, { job });
  }
  /** The application's job fails now. */
  fail(name) {
    return this.job(name, "fail");
  }
  /** The application's job hangs (never finishes deploying). */
  hang(name) {
    return this.job(name, "hang");
  }
  /** The job fault is lifted. */
  recover(name) {
    return this.job(name, "recover");
  }
}

export class TributaryControl {
  /** `url`: the server's URL; `signer`: a SignatureV4 (service "kinesis") for a
   *  server that verifies signatures. */
  constructor(url, { signer } = {}) {
    this.url = url.replace(/\/+$/, "");
    this.signer = signer;
    this.faults = new Faults(this);
    this.clock = new Clock(this);
    this.applications = new Applications(this);
  }

  /** One control call; resolves to the decoded JSON answer, rejects with ControlError. */
  async call(method, path, body) {
    const data = body === undefined ? undefined : JSON.stringify(body);
    let headers = { "content-type": "application/json" };
    if (this.signer) {
      const u = new URL(this.url + path);
      headers.host = u.host;
      const signed = await this.signer.sign({
        method, protocol: u.protocol, hostname: u.hostname, port: u.port ? Number(u.port) : undefined,
        path: u.pathname, headers, body: data ?? "",
      });
      headers = signed.headers;
      delete headers.host;  // fetch sets it (the same value)
    }
    const response = await fetch(this.url + path, { method, headers, body: data });
    const text = await response.text();
    let out = {};
    try {
      out = text ? JSON.parse(text) : {};
    } catch {
      out = { message: text };
    }
    if (!response.ok) throw new ControlError(response.status, out.__type ?? "", out.message ?? "");
    return out;
  }

  /** Every stream, consumer, application and snapshot gone; fault rules cleared. */
  reset() {
    return this.call("POST", "/_tributary/reset");
  }
}

/** Starts tributary-server on loopback with the control API and a manual clock
 *  (and zero CREATING/UPDATING/DELETING delays; `args` may change them).
 *  `binary`: default $TRIBUTARY_SERVER, then tributary-server on PATH. */
export function startTributaryServer({ binary, args = [], stderr = "inherit" } = {}) {
  const bin = binary ?? process.env.TRIBUTARY_SERVER ?? "tributary-server";
  const argv = ["--host", "127.0.0.1", "--port", "0", "--test-control", "--manual-clock", "--in-memory",
                "--create-delay", "0", "--update-delay", "0", "--delete-delay", "0",
                "--app-transition-ms", "0", ...args];
  return new Promise((resolve, reject) => {
    const proc = spawn(bin, argv, { stdio: ["ignore", "pipe", stderr] });
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error("tributary-server did not start in 20 s"));
    }, 20000);
    proc.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${bin}: ${e.message} (set TRIBUTARY_SERVER or put it on PATH)`));
    });
    proc.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`tributary-server exited (${code}) before it listened`));
    });
    createInterface({ input: proc.stdout }).on("line", (line) => {
      if (!line.startsWith("listening on ")) return;
      clearTimeout(timer);
      proc.removeAllListeners("exit");
      const url = line.slice("listening on ".length);
      resolve({
        url,
        proc,
        control: new TributaryControl(url),
        stop: () => new Promise((done) => {
          if (proc.exitCode !== null) return done(proc.exitCode);
          const kill = setTimeout(() => proc.kill("SIGKILL"), 15000);
          proc.on("exit", (code) => {
            clearTimeout(kill);
            done(code);
          });
          proc.kill("SIGTERM");
        }),
      });
    });
  });
}
