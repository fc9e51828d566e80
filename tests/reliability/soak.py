#!/usr/bin/python3
"""Soak test: tributary-server with --data-dir, killed -9 and restarted every
few seconds, under concurrent writers, ordered readers and a resharding loop
(issue 7; docs/RELIABILITY.md "Soak").

Load (all over HTTP on loopback, boto3):
  * writers: W threads; each owns 8 partition keys and writes "key:n" with
    n = 0, 1, 2, ... per key, one PutRecord or a PutRecords batch (a key at
    most once per batch) at a time. A call that fails (the server is down,
    or died mid-call) is retried with the same payloads until acknowledged,
    so a record may be stored twice but n never goes backwards.
  * readers: R ordered readers over the endpoint. Each reads the whole
    lineage parent-before-child (a shard only once every parent listed was
    read to its end, i.e. GetRecords gave no NextShardIterator), keeps
    per-shard checkpoints in a file and, now and then, "crashes": drops its
    state and resumes from the file (at-least-once, re-deliveries counted).
  * resharder: splits the widest open shard or merges the narrowest adjacent
    pair, keeping 2..6 open shards.
  * killer: SIGKILL every 2-5 s, then restart on the same directory and port;
    the restart must succeed (the store always reopens).

Verification, per reader, at the end (after a last clean restart and a
drain):
  * every acknowledged record was delivered at least once (missing = 0);
  * per partition key, no record was delivered for the first time after a
    record of that key with a higher sequence number (order violations = 0);
  * per key, in sequence order, the writers' n never decreases (the store
    kept each key's order; equal n is a retried write);
  * re-deliveries (duplicates) and delivered-but-unacknowledged records (a
    write whose response was lost to a kill) are counted and reported.

Usage: soak.py --server PATH [--minutes N | --seconds N] [--writers W]
               [--readers R] [--seed S] [--data-dir DIR]
Exit status 0 when every check passed.
"""

import argparse
import json
import os
import random
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

os.environ.update({
    "AWS_ACCESS_KEY_ID": "AKIDTRIBUTARYSOAK",
    "AWS_SECRET_ACCESS_KEY": "tributary-soak-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_EC2_METADATA_DISABLED": "true",
})
for _k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_k, None)

import boto3  # noqa: E402
import botocore.config  # noqa: E402

STREAM = "soak"
MAX_HASH = 2 ** 128 - 1


def log(msg):
    print(f"[soak {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class ServerProcess:
    """tributary-server on a fixed loopback port and data directory."""

    def __init__(self, binary, data_dir, port):
        self.binary, self.data_dir, self.port = binary, data_dir, port
        self.url = f"http://127.0.0.1:{port}"
        self.proc = None
        self.starts = 0
        self.lock = threading.Lock()

    def start(self, timeout=60):
        cmd = [self.binary, "--host", "127.0.0.1", "--port", str(self.port),
               "--data-dir", self.data_dir, "--create-delay", "0", "--update-delay", "200",
               "--delete-delay", "0", "--threads", "2"]
        deadline = time.monotonic() + timeout
        while True:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE)
            line = b""
            while time.monotonic() < deadline and not line.endswith(b"\n"):
                ready, _, _ = select.select([proc.stdout], [], [], 0.05)
                if ready:
                    chunk = os.read(proc.stdout.fileno(), 1)
                    if not chunk:
                        break
                    line += chunk
                elif proc.poll() is not None:
                    break
            if line.startswith(b"listening on "):
                with self.lock:
                    self.proc = proc
                    self.starts += 1
                return
            err = proc.stderr.read().decode(errors="replace") if proc.poll() is not None else ""
            proc.kill()
            proc.wait()
            # The port of the killed process may linger for a moment.
            if "in use" in err and time.monotonic() < deadline:
                time.sleep(0.1)
                continue
            raise RuntimeError(f"tributary-server did not start: {line!r} {err.strip()}")

    def kill(self):
        with self.lock:
            proc = self.proc
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()

    def stop(self):
        with self.lock:
            proc = self.proc
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                return proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                return None
        return proc.returncode if proc else None

    def alive(self):
        with self.lock:
            return self.proc is not None and self.proc.poll() is None


def make_client(url):
    cfg = botocore.config.Config(retries={"max_attempts": 0}, connect_timeout=2, read_timeout=15,
                                 max_pool_connections=4)
    return boto3.client("kinesis", endpoint_url=url, config=cfg)


class Shared:
    """Everything the threads share, behind one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.acked = {}  # sequence number -> (key, n)
        self.write_calls = 0
        self.write_failures = 0
        self.reshards = 0
        self.reshard_failures = 0
        self.problems = []

    def problem(self, what):
        with self.lock:
            if len(self.problems) < 50:
                self.problems.append(what)
        log("PROBLEM: " + what)


def writer(shared, url, w, rng):
    kin = make_client(url)
    keys = [f"w{w}-k{i}" for i in range(8)]
    nxt = {k: 0 for k in keys}
    while not shared.stop.is_set():
        if rng.random() < 0.3:
            batch = rng.sample(keys, rng.randint(2, len(keys)))
        else:
            batch = [rng.choice(keys)]
        pending = {k: nxt[k] for k in batch}
        while pending and not shared.stop.is_set():
            try:
                with shared.lock:
                    shared.write_calls += 1
                if len(pending) == 1:
                    (k, n), = pending.items()
                    r = kin.put_record(StreamName=STREAM, PartitionKey=k, Data=f"{k}:{n}".encode())
                    results = [(k, n, r.get("SequenceNumber"))]
                else:
                    items = list(pending.items())
                    r = kin.put_records(StreamName=STREAM, Records=[
                        {"PartitionKey": k, "Data": f"{k}:{n}".encode()} for k, n in items])
                    results = [(k, n, e.get("SequenceNumber")) for (k, n), e in zip(items, r["Records"])]
                for k, n, seq in results:
                    if seq is None:
                        continue
                    with shared.lock:
                        shared.acked[seq] = (k, n)
                    del pending[k]
                    nxt[k] = n + 1
                if pending:
                    time.sleep(0.01)
            except Exception:  # noqa: BLE001 - the server is down or died mid-call: retry
                with shared.lock:
                    shared.write_failures += 1
                time.sleep(0.05)


def list_shards(kin):
    shards, token = [], None
    while True:
        r = kin.list_shards(NextToken=token) if token else kin.list_shards(StreamName=STREAM)
        shards += r["Shards"]
        token = r.get("NextToken")
        if not token:
            return shards


def resharder(shared, url, rng):
    kin = make_client(url)
    while not shared.stop.wait(rng.uniform(0.5, 1.5)):
        try:
            shards = list_shards(kin)
            open_ = sorted((s for s in shards if "EndingSequenceNumber" not in s["SequenceNumberRange"]),
                           key=lambda s: int(s["HashKeyRange"]["StartingHashKey"]))

            def width(s):
                return int(s["HashKeyRange"]["EndingHashKey"]) - int(s["HashKeyRange"]["StartingHashKey"])
            if len(open_) < 6 and (len(open_) <= 2 or rng.random() < 0.5):
                s = max(open_, key=width)
                lo = int(s["HashKeyRange"]["StartingHashKey"])
                kin.split_shard(StreamName=STREAM, ShardToSplit=s["ShardId"],
                                NewStartingHashKey=str(lo + width(s) // 2 + 1))
            else:
                pairs = list(zip(open_, open_[1:]))
                a, b = min(pairs, key=lambda p: width(p[0]) + width(p[1]))
                kin.merge_shards(StreamName=STREAM, ShardToMerge=a["ShardId"],
                                 AdjacentShardToMerge=b["ShardId"])
            with shared.lock:
                shared.reshards += 1
        except Exception:  # noqa: BLE001 - UPDATING, or the server is down
            with shared.lock:
                shared.reshard_failures += 1


class Reader:
    """An ordered, checkpointing reader of the whole stream over the endpoint."""

    def __init__(self, shared, url, idx, ckpt_dir, rng):
        self.shared, self.url, self.idx, self.rng = shared, url, idx, rng
        self.ckpt_path = os.path.join(ckpt_dir, f"reader-{idx}.json")
        self.kin = make_client(url)
        # Verification state (survives the reader's simulated crashes).
        self.delivered = {}  # seq -> times delivered
        self.payload = {}  # seq -> (key, n) as written
        self.max_seq_by_key = {}  # key -> highest seq delivered so far
        self.order_violations = 0
        self.unacked_seen = set()
        self.crashes = 0
        self.load()

    # -- checkpoints: shard id -> last delivered seq (str), or "END"
    def load(self):
        try:
            with open(self.ckpt_path) as f:
                self.ckpt = json.load(f)
        except FileNotFoundError:
            self.ckpt = {}
        self.pos = dict(self.ckpt)  # in-memory position, ahead of the checkpoint
        self.iters = {}

    def save(self):
        self.ckpt = dict(self.pos)
        tmp = self.ckpt_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.ckpt, f)
        os.replace(tmp, self.ckpt_path)

    def crash(self):
        self.crashes += 1
        self.load()

    def deliver(self, shard_id, rec):
        seq = rec["SequenceNumber"]
        key = rec["PartitionKey"]
        first = seq not in self.delivered
        data = rec["Data"].decode()
        k, _, n = data.rpartition(":")
        self.payload[seq] = (k, int(n))
        if k != key:
            self.shared.problem(f"reader {self.idx}: {seq} has key {key} but data {data}")
        self.delivered[seq] = self.delivered.get(seq, 0) + 1
        if first:
            top = self.max_seq_by_key.get(key)
            if top is not None and int(top) > int(seq):
                self.order_violations += 1
                self.shared.problem(f"reader {self.idx}: {key} {seq} (shard {shard_id}) delivered "
                                    f"after {top}")
            if top is None or int(seq) > int(top):
                self.max_seq_by_key[key] = seq
        self.pos[shard_id] = seq

    def readable(self, shards):
        ids = {s["ShardId"] for s in shards}
        out = []
        for s in shards:
            if self.pos.get(s["ShardId"]) == "END":
                continue
            parents = [p for p in (s.get("ParentShardId"), s.get("AdjacentParentShardId")) if p]
            if all(p not in ids or self.pos.get(p) == "END" for p in parents):
                out.append(s["ShardId"])
        return out

    def iterator(self, shard_id):
        p = self.pos.get(shard_id)
        if p:
            return self.kin.get_shard_iterator(StreamName=STREAM, ShardId=shard_id,
                                               ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                                               StartingSequenceNumber=p)["ShardIterator"]
        return self.kin.get_shard_iterator(StreamName=STREAM, ShardId=shard_id,
                                           ShardIteratorType="TRIM_HORIZON")["ShardIterator"]

    def step(self):
        """One pass over the readable shards. Returns records delivered."""
        n = 0
        shards = list_shards(self.kin)
        for sid in self.readable(shards):
            it = self.iters.get(sid) or self.iterator(sid)
            for _ in range(20):
                r = self.kin.get_records(ShardIterator=it, Limit=1000)
                for rec in r["Records"]:
                    self.deliver(sid, rec)
                n += len(r["Records"])
                it = r.get("NextShardIterator")
                if it is None:
                    self.pos[sid] = "END"
                    self.iters.pop(sid, None)
                    break
                self.iters[sid] = it
                if not r["Records"]:
                    break
        if self.rng.random() < 0.5:
            self.save()
        if self.rng.random() < 0.02:
            self.crash()
        return n

    def run(self):
        while not self.shared.stop.is_set():
            try:
                if self.step() == 0:
                    time.sleep(0.05)
            except Exception:  # noqa: BLE001 - the server is down: iterators may be stale
                self.iters.clear()
                time.sleep(0.05)


def killer(shared, server, rng, stats):
    while not shared.stop.wait(rng.uniform(2.0, 5.0)):
        server.kill()
        try:
            server.start()
        except Exception as e:  # noqa: BLE001
            shared.problem(f"restart after SIGKILL failed: {e}")
            shared.stop.set()
            return
        stats["kills"] += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", required=True)
    ap.add_argument("--minutes", type=float)
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--writers", type=int, default=3)
    ap.add_argument("--readers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--data-dir")
    args = ap.parse_args()
    duration = args.seconds if args.seconds is not None else 60 * (args.minutes or 1)
    log(f"seed {args.seed}, {duration:.0f} s, {args.writers} writers, {args.readers} readers")
    rng = random.Random(args.seed)

    tmp = tempfile.mkdtemp(prefix="tributary-soak-")
    data_dir = args.data_dir or os.path.join(tmp, "store")
    server = ServerProcess(args.server, data_dir, free_port())
    server.start()
    shared = Shared()
    stats = {"kills": 0}
    ok = False
    try:
        kin = make_client(server.url)
        kin.create_stream(StreamName=STREAM, ShardCount=2)
        kin.get_waiter("stream_exists").wait(StreamName=STREAM,
                                             WaiterConfig={"Delay": 0.1, "MaxAttempts": 300})
        readers = [Reader(shared, server.url, i, tmp, random.Random(rng.random()))
                   for i in range(args.readers)]
        threads = [threading.Thread(target=writer, args=(shared, server.url, w, random.Random(rng.random())))
                   for w in range(args.writers)]
        threads += [threading.Thread(target=r.run) for r in readers]
        threads.append(threading.Thread(target=resharder, args=(shared, server.url, random.Random(rng.random()))))
        kill_thread = threading.Thread(target=killer, args=(shared, server, random.Random(rng.random()), stats))
        for t in threads + [kill_thread]:
            t.start()
        shared.stop.wait(duration)
        shared.stop.set()
        for t in threads + [kill_thread]:
            t.join()

        # A last clean restart, then drain every reader.
        server.kill()
        server.start()
        for r in readers:
            r.kin = make_client(server.url)
            r.iters.clear()
        acked = dict(shared.acked)
        deadline = time.monotonic() + 120
        for r in readers:
            while time.monotonic() < deadline:
                try:
                    got = r.step()
                except Exception as e:  # noqa: BLE001
                    shared.problem(f"reader {r.idx} drain: {e!r}")
                    break
                if got == 0 and all(s in r.delivered for s in acked):
                    break
        code = server.stop()
        if code != 0:
            shared.problem(f"SIGTERM: tributary-server exited with {code}")

        ok = verify(shared, readers, acked)
        log(f"{stats['kills']} kills, {server.starts} starts, {shared.write_calls} write calls "
            f"({shared.write_failures} failed and retried), {len(acked)} records acknowledged, "
            f"{shared.reshards} reshards ({shared.reshard_failures} refused or failed)")
        ok = ok and not shared.problems and stats["kills"] >= 1 and len(acked) > 0
    finally:
        server.kill()
        if not args.data_dir:
            shutil.rmtree(tmp, ignore_errors=True)
    if shared.problems:
        log(f"{len(shared.problems)} problem(s); first: {shared.problems[:5]}")
    log("PASSED" if ok else "FAILED")
    return 0 if ok else 1


def verify(shared, readers, acked):
    ok = True
    # Per key, in sequence order, the writers' n never decreases: over every
    # record stored (acknowledged or not: a retried write whose first
    # response was lost is stored twice, with the same n).
    stored = {}
    for r in readers:
        stored.update(r.payload)
    for seq, kn in acked.items():
        if seq in stored and stored[seq] != kn:
            shared.problem(f"{seq}: acknowledged as {kn}, read back as {stored[seq]}")
    by_key = {}
    for seq, (k, n) in stored.items():
        by_key.setdefault(k, []).append((int(seq), n))
    regressions = 0
    for k, recs in by_key.items():
        recs.sort()
        for (s1, n1), (s2, n2) in zip(recs, recs[1:]):
            if n2 < n1:
                regressions += 1
                shared.problem(f"key {k}: n={n2} stored after n={n1} ({s2} > {s1})")
    for r in readers:
        missing = [s for s in acked if s not in r.delivered]
        dups = sum(c - 1 for c in r.delivered.values())
        unacked = sum(1 for s in r.delivered if s not in acked)
        log(f"reader {r.idx}: {len(r.delivered)} distinct records delivered, {dups} re-deliveries "
            f"({r.crashes} simulated crashes), {unacked} delivered but never acknowledged "
            f"(responses lost to a kill), {len(missing)} acknowledged but missing, "
            f"{r.order_violations} order violations")
        if missing:
            shared.problem(f"reader {r.idx}: acknowledged records never delivered: {missing[:5]}")
            ok = False
        if r.order_violations:
            ok = False
    if regressions:
        ok = False
    return ok


if __name__ == "__main__":
    sys.exit(main())
