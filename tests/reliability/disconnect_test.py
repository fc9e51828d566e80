#!/usr/bin/env python3
"""tributary-server under clients that disconnect mid-request (issue 7).

While boto3 writers put records, "chaos" threads open raw sockets and, over
and over, send part of a request and go away: half a request line, headers
without their end, a Content-Length body cut in half (JSON and CBOR), half a
chunk of a chunked body, a whole request closed before the answer is read,
a pipelined second request cut short, garbage, or nothing at all; some close
with a FIN, some with a RST (SO_LINGER 0). Others stay half-open for the whole
run (slow clients). Then:

  - the server is still up and answers new requests;
  - every record a writer got a sequence number for is readable, exactly
    once, with its data (in memory, and with --data-dir also after a
    SIGKILL and restart);
  - SIGTERM still shuts it down cleanly (exit 0) despite the half-open
    connections.

Usage: disconnect_test.py PATH/TO/tributary-server [MAX_SECONDS]

Each scenario runs until the writers have 300 records acknowledged and 600
chaos connections went away, or MAX_SECONDS (default 120) passed.
"""

import os
import random
import shutil
import socket
import struct
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "endpoint"))
import harness  # noqa: E402  (tests/endpoint/harness.py: Server, Checks)

import boto3  # noqa: E402
import botocore.config  # noqa: E402
import cbor2  # noqa: E402

STREAM = "chaos"


def client(url):
    cfg = botocore.config.Config(retries={"max_attempts": 0}, connect_timeout=5, read_timeout=30)
    return boto3.client("kinesis", endpoint_url=url, config=cfg)


def request_bytes(host, port, target, body, content_type="application/x-amz-json-1.1",
                  extra_headers=""):
    head = (f"POST / HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"X-Amz-Target: Kinesis_20131202.{target}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
            f"{extra_headers}\r\n").encode()
    return head, body


def chaos_once(host, port, rng, counts):
    """One connection that sends part of a request and goes away."""
    json_body = b'{"StreamName":"chaos","PartitionKey":"zz","Data":"aGVsbG8="}'
    cbor_body = cbor2.dumps({"StreamName": STREAM, "PartitionKey": "zz", "Data": b"hello"})
    kind = rng.randrange(9)
    counts[kind] = counts.get(kind, 0) + 1
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect((host, port))
        if kind == 0:  # nothing at all
            pass
        elif kind == 1:  # half a request line
            s.sendall(b"POST / HT")
        elif kind == 2:  # headers, no blank line
            head, _ = request_bytes(host, port, "PutRecord", json_body)
            s.sendall(head[: len(head) - 2])
        elif kind == 3:  # half a JSON body: this record must not appear
            head, body = request_bytes(host, port, "PutRecord", json_body)
            s.sendall(head + body[: len(body) // 2])
        elif kind == 4:  # half a CBOR body
            head, body = request_bytes(host, port, "PutRecord", cbor_body,
                                       content_type="application/x-amz-cbor-1.1")
            s.sendall(head + body[: len(body) // 2])
        elif kind == 5:  # chunked, half a chunk
            head = (f"POST / HTTP/1.1\r\nHost: {host}:{port}\r\n"
                    "X-Amz-Target: Kinesis_20131202.PutRecord\r\n"
                    "Content-Type: application/x-amz-json-1.1\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n").encode()
            s.sendall(head + b"%x\r\n" % len(json_body) + json_body[:10])
        elif kind == 6:  # a whole read-only request, closed before the answer
            head, body = request_bytes(host, port, "DescribeStreamSummary",
                                       b'{"StreamName":"chaos"}')
            s.sendall(head + body)
        elif kind == 7:  # one whole request, then half of a pipelined second
            h1, b1 = request_bytes(host, port, "ListStreams", b"{}")
            h2, b2 = request_bytes(host, port, "PutRecord", json_body)
            s.sendall(h1 + b1 + h2 + b2[:7])
        else:  # garbage
            s.sendall(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))))
        if rng.random() < 0.5:
            # RST instead of FIN.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        counts["oserror"] = counts.get("oserror", 0) + 1
    finally:
        s.close()


def run_scenario(checks, binary, max_seconds, data_dir):
    storage = ("--data-dir", data_dir) if data_dir else ("--in-memory",)
    # Short timeouts so the half-open connections are also reaped by the
    # server during the run.
    args = ("--create-delay", "0", "--update-delay", "0", "--delete-delay", "0",
            "--threads", "2", "--idle-timeout", "2000", "--body-timeout", "1000")
    acked = []  # (shard id, sequence number, partition key, data)
    acked_lock = threading.Lock()
    errors = []
    with harness.Server(binary, *args, storage=storage) as srv:
        kin = client(srv.url)
        kin.create_stream(StreamName=STREAM, ShardCount=3)
        kin.get_waiter("stream_exists").wait(StreamName=STREAM,
                                             WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
        stop = threading.Event()

        def writer(w):
            c = client(srv.url)
            i = 0
            while not stop.is_set():
                key = f"w{w}-{i % 11}"
                data = f"w{w}-{i}".encode()
                try:
                    if i % 4 == 3:
                        recs = [{"PartitionKey": f"{key}-{j}", "Data": data + b"-%d" % j}
                                for j in range(5)]
                        r = c.put_records(StreamName=STREAM, Records=recs)
                        with acked_lock:
                            for rec, res in zip(recs, r["Records"]):
                                if "SequenceNumber" in res:
                                    acked.append((res["ShardId"], res["SequenceNumber"],
                                                  rec["PartitionKey"], rec["Data"]))
                    else:
                        r = c.put_record(StreamName=STREAM, PartitionKey=key, Data=data)
                        with acked_lock:
                            acked.append((r["ShardId"], r["SequenceNumber"], key, data))
                except Exception as e:  # noqa: BLE001 - every failure is a finding
                    errors.append(f"writer {w}: {e!r}")
                    return
                i += 1

        counts = {}

        def chaos(seed):
            rng = random.Random(seed)
            while not stop.is_set():
                chaos_once(srv.host, srv.port, rng, counts)

        # Slow clients: half a request each, held open for the whole run.
        slow = []
        for i in range(20):
            s = socket.create_connection((srv.host, srv.port))
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"Str")
            slow.append(s)

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(2)]
        threads += [threading.Thread(target=chaos, args=(seed,)) for seed in range(3)]
        for t in threads:
            t.start()
        # Run until enough of both happened (bounded by counts, with a
        # generous deadline for slow sanitizer builds).
        deadline = time.monotonic() + max_seconds
        while time.monotonic() < deadline and not errors:
            with acked_lock:
                n_acked = len(acked)
            if n_acked >= 300 and sum(v for k, v in counts.items() if k != "oserror") >= 600:
                break
            time.sleep(0.05)
        stop.set()
        for t in threads:
            t.join()
        for s in slow:
            s.close()

        where = f"({'--data-dir' if data_dir else '--in-memory'})"
        checks.eq(errors, [], f"writers saw no error while clients disconnected {where}")
        checks.ok(srv.proc.poll() is None, f"the server is still up {where}")
        checks.ok(sum(v for k, v in counts.items() if k != "oserror") > 50,
                  f"enough disconnecting clients ran {where}: {counts}")
        checks.ok(len(acked) > 20, f"the writers got records in {where}: {len(acked)}")
        print(f"{where}: {len(acked)} records acknowledged, chaos connections by kind: "
              f"{dict(sorted(counts.items(), key=str))}", flush=True)
        check_all_present(checks, kin, acked, where)
        if data_dir:
            # Durable: SIGKILL, restart on the same directory, read again.
            srv.proc.kill()
            srv.proc.wait()
        else:
            checks.eq(srv.stop(), 0, f"SIGTERM shuts the server down cleanly {where}")
    if data_dir:
        with harness.Server(binary, *args, storage=storage) as srv:
            check_all_present(checks, client(srv.url), acked, where + " after SIGKILL and restart")
            checks.eq(srv.stop(), 0, f"SIGTERM shuts the restarted server down {where}")


def check_all_present(checks, kin, acked, where):
    seen = {}
    shards = kin.list_shards(StreamName=STREAM)["Shards"]
    for sh in shards:
        it = kin.get_shard_iterator(StreamName=STREAM, ShardId=sh["ShardId"],
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it:
            r = kin.get_records(ShardIterator=it, Limit=10000)
            for rec in r["Records"]:
                k = (sh["ShardId"], rec["SequenceNumber"])
                checks.ok(k not in seen, f"{k} read once {where}")
                seen[k] = (rec["PartitionKey"], rec["Data"])
            if not r["Records"] and r.get("MillisBehindLatest", 0) == 0:
                break
            it = r.get("NextShardIterator")
    missing = [a for a in acked if (a[0], a[1]) not in seen]
    checks.eq(missing[:5], [], f"every acknowledged record is readable {where}")
    wrong = [a for a in acked if (a[0], a[1]) in seen and seen[(a[0], a[1])] != (a[2], a[3])]
    checks.eq(wrong[:5], [], f"acknowledged records hold their key and data {where}")
    # Half-sent PutRecords (partition key "zz") never became records.
    checks.eq([k for k, v in seen.items() if v[0] == "zz"][:5], [],
              f"no record from a request whose body was cut short {where}")


def main():
    harness.use_dummy_credentials()
    binary = harness.server_binary()
    max_seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 120.0
    checks = harness.Checks("disconnect_test")
    checks.run(run_scenario, checks, binary, max_seconds, None)
    tmp = tempfile.mkdtemp(prefix="tributary-disconnect-")
    try:
        checks.run(run_scenario, checks, binary, max_seconds, os.path.join(tmp, "store"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
