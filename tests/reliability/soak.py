#!/usr/bin/python3
"""Soak test: tributary-server with --data-dir, killed -9 and restarted every
few seconds, under concurrent writers, ordered checkpointing consumers and a
resharding loop (issue 7; docs/RELIABILITY.md "Soak").

Load (all over HTTP on loopback):
  * writers: W boto3 threads; each owns 8 partition keys and writes "key:n"
    with n = 0, 1, 2, ... per key, one PutRecord or a PutRecords batch (a key
    at most once per batch) at a time. A call that fails (the server is down,
    or died mid-call) is retried with the same payloads until acknowledged,
    so a record may be stored twice but n never goes backwards.
  * consumers: R soak_consumer processes (soak_consumer.cc): each is the
    ordered consumer (tributary/consumer.h) of its own consumer group over
    the remote backend (Store::OpenRemote), with a durable lease table in a
    directory of its own. It appends every delivered record to a file,
    fdatasyncs, then checkpoints every 10..60 records of a shard; it retries
    every error (the server is down) and never exits on one. Now and then
    one is SIGKILLed and started again: it resumes from its durable
    checkpoints (and first writes them to its file, for the verifier).
  * resharder: splits the widest open shard or merges the narrowest adjacent
    pair, keeping 2..6 open shards.
  * killer: SIGKILL of the server every 2-5 s, then a restart on the same
    directory and port; the restart must succeed (the store always reopens).

Verification, per consumer, from its file, at the end (after a last restart
of the server and a drain; the consumers are then stopped with SIGTERM and
must exit 0):
  * every acknowledged record was delivered at least once (missing = 0);
  * per partition key, no record was delivered for the first time after a
    record of that key with a higher sequence number (order violations = 0);
  * at-least-once accounting: a record is delivered again only after a kill
    of the consumer, only if it is past the durable checkpoint of its shard
    that the restarted consumer resumed from, and at most once per kill;
    every record past that checkpoint is delivered again (so re-deliveries
    are exactly the records after the last durable checkpoint); the durable
    checkpoint is never behind a Checkpoint that returned OK;
  * per key, in sequence order, the writers' n never decreases (the store
    kept each key's order; equal n is a retried write);
  * delivered-but-unacknowledged records (a write whose response was lost to
    a kill) are counted and reported.

Usage: soak.py --server PATH --consumer PATH [--minutes N | --seconds N]
               [--writers W] [--readers R] [--seed S] [--data-dir DIR] [--keep]
Exit status 0 when every check passed.
"""

import argparse
import codecs
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


def resharder(shared, url, rng, shards):
    # Keeps shards .. shards + 4 open (2..6 by default).
    min_open, max_open = shards, shards + 4
    kin = make_client(url)
    while not shared.stop.wait(rng.uniform(0.5, 1.5)):
        try:
            listed = list_shards(kin)
            open_ = sorted((s for s in listed if "EndingSequenceNumber" not in s["SequenceNumberRange"]),
                           key=lambda s: int(s["HashKeyRange"]["StartingHashKey"]))

            def width(s):
                return int(s["HashKeyRange"]["EndingHashKey"]) - int(s["HashKeyRange"]["StartingHashKey"])
            if len(open_) < max_open and (len(open_) <= min_open or rng.random() < 0.5):
                s = max(open_, key=width)
                start = int(s["HashKeyRange"]["StartingHashKey"])
                kin.split_shard(StreamName=STREAM, ShardToSplit=s["ShardId"],
                                NewStartingHashKey=str(start + width(s) // 2 + 1))
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


class ConsumerProcess:
    """One soak_consumer process (the ordered consumer over the remote
    backend, checkpoints in a durable lease table), SIGKILLed and restarted
    now and then. Its output file is the record of what it delivered and
    checkpointed (soak_consumer.cc explains the lines)."""

    def __init__(self, binary, url, idx, tmp, checkpoint_every):
        self.binary, self.url, self.idx = binary, url, idx
        self.checkpoint_every = checkpoint_every
        self.out = os.path.join(tmp, f"consumer-{idx}.out")
        self.err = os.path.join(tmp, f"consumer-{idx}.err")
        self.lease_dir = os.path.join(tmp, f"leases-{idx}")
        self.proc = None
        self.crashes = 0
        self.lock = threading.Lock()
        self.seen = set()  # sequence numbers delivered so far (for the drain)
        self.offset = 0

    def start(self):
        cmd = [self.binary, "--endpoint", self.url, "--stream", STREAM, "--consumer", f"soak-{self.idx}",
               "--worker", f"w{self.idx}", "--lease-dir", self.lease_dir, "--out", self.out,
               "--checkpoint-every", str(self.checkpoint_every)]
        with open(self.err, "ab") as err:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        with self.lock:
            self.proc = proc

    def crash(self):
        with self.lock:
            proc = self.proc
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.crashes += 1
        self.start()

    def stop(self):
        with self.lock:
            proc = self.proc
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return None

    def alive(self):
        with self.lock:
            return self.proc.poll() is None

    def catch_up(self):
        """Reads the new complete lines; returns the set of sequence numbers delivered."""
        with open(self.out, "rb") as f:
            f.seek(self.offset)
            chunk = f.read()
        end = chunk.rfind(b"\n") + 1
        for line in chunk[:end].split(b"\n"):
            if line.startswith(b"R\t"):
                self.seen.add(int(line.split(b"\t")[2]))
        self.offset += end
        return self.seen

    def lines(self):
        with open(self.out, "rb") as f:
            data = f.read()
        return data[:data.rfind(b"\n") + 1].split(b"\n")[:-1]


def consumer_crasher(shared, consumers, rng):
    while not shared.stop.wait(rng.uniform(2.0, 6.0)):
        c = rng.choice(consumers)
        if not c.alive():
            shared.problem(f"consumer {c.idx} exited by itself (see {c.err})")
            shared.stop.set()
            return
        c.crash()


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
    ap.add_argument("--consumer", required=True, help="the soak_consumer binary")
    ap.add_argument("--minutes", type=float)
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--writers", type=int, default=3)
    ap.add_argument("--readers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--shards", type=int, default=2,
                    help="shards of the stream at the start (the resharder keeps N..N+4 open)")
    ap.add_argument("--data-dir")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory (consumer output)")
    args = ap.parse_args()
    duration = args.seconds if args.seconds is not None else 60 * (args.minutes or 1)
    log(f"seed {args.seed}, {duration:.0f} s, {args.writers} writers, {args.readers} consumers, "
        f"{args.shards} shards")
    rng = random.Random(args.seed)

    tmp = tempfile.mkdtemp(prefix="tributary-soak-")
    data_dir = args.data_dir or os.path.join(tmp, "store")
    server = ServerProcess(args.server, data_dir, free_port())
    server.start()
    shared = Shared()
    stats = {"kills": 0}
    consumers = []
    ok = False
    try:
        kin = make_client(server.url)
        kin.create_stream(StreamName=STREAM, ShardCount=args.shards)
        kin.get_waiter("stream_exists").wait(StreamName=STREAM,
                                             WaiterConfig={"Delay": 0.1, "MaxAttempts": 300})
        # Checkpoint every 10..60 records of a shard: kills land between
        # checkpoints, so there is something to deliver again.
        consumers = [ConsumerProcess(args.consumer, server.url, i, tmp, rng.randint(10, 60))
                     for i in range(args.readers)]
        for c in consumers:
            c.start()
        threads = [threading.Thread(target=writer, args=(shared, server.url, w, random.Random(rng.random())))
                   for w in range(args.writers)]
        threads.append(threading.Thread(target=resharder,
                                        args=(shared, server.url, random.Random(rng.random()), args.shards)))
        threads.append(threading.Thread(target=consumer_crasher,
                                        args=(shared, consumers, random.Random(rng.random()))))
        kill_thread = threading.Thread(target=killer, args=(shared, server, random.Random(rng.random()), stats))
        for t in threads + [kill_thread]:
            t.start()
        shared.stop.wait(duration)
        shared.stop.set()
        for t in threads + [kill_thread]:
            t.join()

        # A last restart of the server, then let every consumer drain.
        server.kill()
        server.start()
        acked = dict(shared.acked)
        want = {int(s) for s in acked}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if all(want <= c.catch_up() for c in consumers):
                break
            if not all(c.alive() for c in consumers):
                shared.problem("a consumer exited during the drain")
                break
            time.sleep(0.2)
        for c in consumers:
            code = c.stop()
            if code != 0:
                shared.problem(f"consumer {c.idx}: exited with {code} on SIGTERM (see {c.err})")
        code = server.stop()
        if code != 0:
            shared.problem(f"SIGTERM: tributary-server exited with {code}")

        ok = verify(shared, consumers, acked)
        retried = 0
        for c in consumers:
            with open(c.err, "rb") as f:
                retried += sum(1 for line in f if line.startswith(b"soak_consumer["))
        log(f"{stats['kills']} kills, {server.starts} starts, {shared.write_calls} write calls "
            f"({shared.write_failures} failed and retried), {len(acked)} records acknowledged, "
            f"{shared.reshards} reshards ({shared.reshard_failures} refused or failed), "
            f"{sum(c.crashes for c in consumers)} consumer kills, {retried} consumer errors retried")
        ok = ok and not shared.problems and stats["kills"] >= 1 and len(acked) > 0
    finally:
        for c in consumers:
            if c.proc and c.proc.poll() is None:
                c.proc.kill()
                c.proc.wait()
        server.kill()
        if not ok or args.keep:
            log(f"scratch directory kept: {tmp}")
        elif not args.data_dir:
            shutil.rmtree(tmp, ignore_errors=True)
    if shared.problems:
        log(f"{len(shared.problems)} problem(s); first: {shared.problems[:5]}")
    log("PASSED" if ok else "FAILED")
    return 0 if ok else 1


class Replay:
    """What one consumer's output file says, checked line by line."""

    def __init__(self, shared, c):
        self.idx = c.idx
        self.delivered = {}  # seq -> times delivered
        self.payload = {}  # seq -> (key, n) as written
        self.order_violations = 0
        self.bad_redeliveries = 0
        self.redeliveries = 0
        self.exposed = 0  # records delivered past the last checkpoint at a crash (each counted once)
        self.starts = 0
        self.lost_checkpoints = 0  # durable checkpoints behind one that returned OK
        max_seq_by_key = {}
        ckpt = {}  # shard -> last durable checkpoint (seq)
        ended = set()  # shards at SHARD_END
        shard_seqs = {}  # shard -> sequence numbers delivered from it
        at_crash_ckpt, at_crash_ended = None, set()
        this_run = set()
        resumed = False
        owed = set()  # delivered past the checkpoint at a crash, not delivered again yet
        for line in c.lines():
            f = line.split(b"\t")
            if f[0] == b"S":
                self.starts += 1
                resumed = self.starts > 1  # after a crash: D lines, then what may come again
                this_run = set()
                continue
            if f[0] == b"D":
                # The durable checkpoint this run resumes from: never behind
                # a checkpoint that returned OK; from now on the truth.
                shard, where = f[1], f[2]
                logged = ckpt.get(shard)
                if where == b"END":
                    ended.add(shard)
                elif where == b"START":
                    if logged is not None or shard in ended:
                        self.lost_checkpoints += 1
                        shared.problem(f"consumer {self.idx}: shard {shard.decode()}: checkpoint lost")
                else:
                    d = int(where)
                    if shard in ended or (logged is not None and d < logged):
                        self.lost_checkpoints += 1
                        shared.problem(f"consumer {self.idx}: shard {shard.decode()}: durable checkpoint {d} "
                                       f"behind the one that returned OK ({logged})")
                    ckpt[shard] = d
                continue
            if resumed:  # the first line after the D lines of a restart
                resumed = False
                at_crash_ckpt, at_crash_ended = dict(ckpt), set(ended)
                for shard, seqs in shard_seqs.items():
                    if shard not in ended:
                        now_owed = {q for q in seqs if q > ckpt.get(shard, -1)}
                        self.exposed += len(now_owed - owed)
                        owed |= now_owed
            if f[0] == b"C":
                ckpt[f[1]] = int(f[2])
            elif f[0] == b"E":
                ended.add(f[1])
            elif f[0] == b"R":
                shard, seq = f[1], int(f[2])
                key = codecs.escape_decode(f[3])[0].decode()
                data = codecs.escape_decode(f[4])[0].decode()
                k, _, n = data.rpartition(":")
                if k != key:
                    shared.problem(f"consumer {self.idx}: {seq} has key {key} but data {data}")
                self.payload[seq] = (k, int(n))
                shard_seqs.setdefault(shard, set()).add(seq)
                if seq in self.delivered:
                    self.redeliveries += 1
                    owed.discard(seq)
                    if (seq in this_run or at_crash_ckpt is None or shard in at_crash_ended
                            or seq <= at_crash_ckpt.get(shard, -1)):
                        self.bad_redeliveries += 1
                        shared.problem(f"consumer {self.idx}: {seq} (shard {shard.decode()}) delivered "
                                       f"again, but it was not after the last checkpoint before a crash")
                else:
                    top = max_seq_by_key.get(key)
                    if top is not None and top > seq:
                        self.order_violations += 1
                        shared.problem(f"consumer {self.idx}: {key} {seq} (shard {shard.decode()}) "
                                       f"delivered after {top}")
                    if top is None or seq > top:
                        max_seq_by_key[key] = seq
                this_run.add(seq)
                self.delivered[seq] = self.delivered.get(seq, 0) + 1
            else:
                shared.problem(f"consumer {self.idx}: unexpected line {line[:80]!r}")
        # Owed but never delivered again: the consumer skipped records after
        # the checkpoint it resumed from (at-least-once broken).
        self.not_redelivered = len(owed)
        if owed:
            shared.problem(f"consumer {self.idx}: {len(owed)} records past the checkpoint at a crash "
                           f"never delivered again: {sorted(owed)[:5]}")


def verify(shared, consumers, acked):
    ok = True
    replays = [Replay(shared, c) for c in consumers]
    acked = {int(s): kn for s, kn in acked.items()}
    # Per key, in sequence order, the writers' n never decreases: over every
    # record stored (acknowledged or not: a retried write whose first
    # response was lost is stored twice, with the same n).
    stored = {}
    for r in replays:
        stored.update(r.payload)
    for seq, kn in acked.items():
        if seq in stored and stored[seq] != kn:
            shared.problem(f"{seq}: acknowledged as {kn}, read back as {stored[seq]}")
    by_key = {}
    for seq, (k, n) in stored.items():
        by_key.setdefault(k, []).append((seq, n))
    regressions = 0
    for k, recs in by_key.items():
        recs.sort()
        for (s1, n1), (s2, n2) in zip(recs, recs[1:]):
            if n2 < n1:
                regressions += 1
                shared.problem(f"key {k}: n={n2} stored after n={n1} ({s2} > {s1})")
    for r in replays:
        missing = [s for s in acked if s not in r.delivered]
        unacked = sum(1 for s in r.delivered if s not in acked)
        log(f"consumer {r.idx}: {len(r.delivered)} distinct records delivered, {r.redeliveries} re-deliveries "
            f"after {r.starts - 1} kills ({r.exposed} records were past the last checkpoint at a kill, "
            f"{r.not_redelivered} of them not delivered again; {r.bad_redeliveries} re-deliveries "
            f"not allowed), {unacked} delivered but never acknowledged "
            f"(responses lost to a kill), {len(missing)} acknowledged but missing, "
            f"{r.order_violations} order violations")
        if missing:
            shared.problem(f"consumer {r.idx}: acknowledged records never delivered: {missing[:5]}")
            ok = False
        if r.order_violations or r.bad_redeliveries or r.not_redelivered or r.lost_checkpoints:
            ok = False
    if regressions:
        ok = False
    return ok


if __name__ == "__main__":
    sys.exit(main())
