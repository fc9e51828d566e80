#!/usr/bin/env python3
"""examples/fleet_consumer under ctest: three consumer processes standing in
for three hosts share one stream at tributary-server (the Kinesis endpoint),
their leases and checkpoints in dynalite (the DynamoDB endpoint), both on
loopback. While a producer writes:

  1. two record rates, 8 s each, nothing else happening: the DynamoDB
     requests per second of the fleet (from each worker's --stats) must not
     follow the record rate (lease renewals and checkpoints cost calls per
     shard and per interval, not per record);
  2. a split, during which worker 1 is killed with SIGKILL and started again;
  3. a merge, during which worker 2 is killed and started again;
  4. the producer stops; once every acknowledged record was delivered the
     workers are stopped (SIGTERM) and `fleet_consumer verify` runs the
     OrderingVerifier over what was acknowledged and what was delivered:
     per-key order, nothing acknowledged lost.

  fleet_test.py FLEET_CONSUMER TRIBUTARY_SERVER NODE DYNALITE_JS WORKDIR
"""
import os
import select
import shutil
import signal
import subprocess
import sys
import time


def start_peer(cmd):
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    line = b""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not line.endswith(b"\n"):
        ready, _, _ = select.select([proc.stdout], [], [], 0.05)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 1)
            if not chunk:
                break
            line += chunk
        elif proc.poll() is not None:
            break
    text = line.decode().strip()
    if not text.startswith("listening on "):
        proc.kill()
        sys.exit(f"{cmd[0]} did not start: {text!r}")
    return proc, text[len("listening on "):]


def delivered_seqs(log):
    seqs = set()
    if os.path.exists(log):
        with open(log) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3:
                    seqs.add(parts[1])
    return seqs


def acked_seqs(acked):
    with open(acked) as f:
        return {line.split()[1] for line in f if len(line.split()) == 2}


def requests_per_second(stats_files, t0, t1):
    """Sum over workers of (requests at t1 - requests at t0) / (t1 - t0)."""
    total = 0
    for path in stats_files:
        rows = []
        with open(path) as f:
            for line in f:
                p = line.split()
                if len(p) == 3:
                    rows.append((int(p[0]) / 1000.0, int(p[1])))
        before = [r for (t, r) in rows if t <= t0]
        after = [r for (t, r) in rows if t <= t1]
        if not before or not after:
            sys.exit(f"{path}: no stats around {t0}..{t1}")
        total += after[-1] - before[-1]
    return total / (t1 - t0)


def main():
    fleet, server, node, dynalite_js, work = sys.argv[1:6]
    if not os.path.isdir(os.path.join(os.path.dirname(dynalite_js), "node_modules", "dynalite")):
        sys.exit("dynalite is not installed: run scripts/setup")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    kinesis, kinesis_url = start_peer([server, "--in-memory", "--host", "127.0.0.1", "--port", "0",
                                       "--create-delay", "200", "--update-delay", "200", "--delete-delay", "200"])
    dynamo, dynamo_url = start_peer([node, dynalite_js, "0"])
    env = dict(os.environ)
    for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KINESIS",
              "AWS_ENDPOINT_URL_DYNAMODB"):
        env.pop(k, None)
    env.update({"AWS_ACCESS_KEY_ID": "AKIDTRIBUTARYTEST", "AWS_SECRET_ACCESS_KEY": "tributary-test-secret",
                "AWS_REGION": "us-east-1", "AWS_CONFIG_FILE": "/dev/null",
                "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_EC2_METADATA_DISABLED": "true"})
    common = ["--kinesis", kinesis_url, "--stream", "fleet"]
    log, acked = os.path.join(work, "delivered.log"), os.path.join(work, "acked.log")
    stats = [os.path.join(work, f"stats-w{i}") for i in (1, 2, 3)]
    procs = {}

    def run(*args):
        subprocess.run([fleet, *args], env=env, check=True, timeout=120)

    def start_worker(i):
        procs[i] = subprocess.Popen([fleet, "consume", *common, "--dynamodb", dynamo_url, "--table", "fleet-leases",
                                     "--worker", f"w{i}", "--log", log, "--lease-seconds", "3",
                                     "--stats", stats[i - 1]], env=env, stdout=subprocess.DEVNULL)

    def start_producer(rate, stop):
        return subprocess.Popen([fleet, "produce", *common, "--acked", acked, "--rate", str(rate),
                                 "--stop-file", stop], env=env)

    ok = False
    try:
        run("setup", *common)
        for i in (1, 2, 3):
            start_worker(i)
        # 1. Two record rates, same run, same shards.
        rates = (50, 1000)
        measured = []
        for n, rate in enumerate(rates):
            stop = os.path.join(work, f"stop-{n}")
            producer = start_producer(rate, stop)
            time.sleep(3)  # settle: leases taken, the new rate flowing
            t0 = time.time()
            time.sleep(8)
            t1 = time.time()
            time.sleep(1.5)  # a stats line after t1 from every worker
            open(stop, "w").close()
            producer.wait(timeout=30)
            measured.append(requests_per_second(stats, t0, t1))
        print(f"DynamoDB requests/s of 3 workers on 2 shards: {measured[0]:.1f} at {rates[0]} records/s, "
              f"{measured[1]:.1f} at {rates[1]} records/s (x{rates[1] // rates[0]} records)")

        # 2.-3. Reshards while workers die.
        stop = os.path.join(work, "stop-final")
        producer = start_producer(200, stop)
        time.sleep(1)
        resharding = subprocess.Popen([fleet, "split", *common], env=env)
        procs[1].send_signal(signal.SIGKILL)
        procs[1].wait()
        resharding.wait(timeout=120)
        time.sleep(1)
        start_worker(1)
        time.sleep(4)
        resharding = subprocess.Popen([fleet, "merge", *common], env=env)
        procs[2].send_signal(signal.SIGKILL)
        procs[2].wait()
        resharding.wait(timeout=120)
        time.sleep(1)
        start_worker(2)
        time.sleep(4)
        open(stop, "w").close()
        producer.wait(timeout=30)

        # 4. Drain, stop, verify.
        want = acked_seqs(acked)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not want <= delivered_seqs(log):
            time.sleep(0.25)
        missing = len(want - delivered_seqs(log))
        for p in procs.values():
            p.send_signal(signal.SIGTERM)
        for p in procs.values():
            p.wait(timeout=60)
        print(f"{len(want)} records acknowledged, {missing} not delivered after the drain")
        verified = subprocess.run([fleet, "verify", "--acked", acked, "--log", log], env=env, timeout=120)
        flat = measured[1] <= 2.0 * measured[0]
        if not flat:
            print("FAIL: DynamoDB requests grew with the record rate")
        ok = verified.returncode == 0 and missing == 0 and flat
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
        for p in (kinesis, dynamo):
            p.terminate()
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
    print(f"fleet: {1 if ok else 0} passed, {0 if ok else 1} failed")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
