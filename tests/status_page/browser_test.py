#!/usr/bin/env python3
"""The status page of tributary-server (GET /ui) in a real headless browser.

Starts tributary-server, builds two streams with boto3 (a real client):
records, a split, a merge and a registered consumer. Then Debian's chromium
(headless) loads http://.../ui twice: --dump-dom for the document as the
browser built it, and --screenshot for the picture. Checks that the DOM has
every stream, every listed shard row with its record count and the lineage
SVG, and that the screenshot is a real rendering (the right size, many
colours, the green of OPEN shard boxes in the lineage picture), not a blank
or error page. The screenshot stays in the working directory
(status_page.png) for a human to look at.

Usage: browser_test.py PATH/TO/tributary-server OUT_DIR
"""

import io
import os
import re
import shutil
import subprocess
import sys

import boto3
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "endpoint"))
import harness  # noqa: E402  (tests/endpoint/harness.py: server process, checks)

checks = harness.Checks("status_page.browser")
WIDTH, HEIGHT = 1280, 1600


def chromium(*args, timeout=90):
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        raise RuntimeError("chromium is not installed (scripts/setup installs it)")
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--disable-dev-shm-usage", "--no-first-run", "--user-data-dir=" + PROFILE, *args]
    return subprocess.run(cmd, capture_output=True, timeout=timeout, check=True)


def populate(url):
    c = boto3.client("kinesis", endpoint_url=url)
    c.create_stream(StreamName="orders", ShardCount=2)
    c.create_stream(StreamName="clicks", ShardCount=1)
    c.get_waiter("stream_exists").wait(StreamName="orders", WaiterConfig={"Delay": 0.1})
    c.get_waiter("stream_exists").wait(StreamName="clicks", WaiterConfig={"Delay": 0.1})
    entries = [{"Data": b"o" * 40, "PartitionKey": f"customer-{i}"} for i in range(120)]
    for i in range(0, 120, 40):
        r = c.put_records(StreamName="orders", Records=entries[i:i + 40])
        checks.eq(r["FailedRecordCount"], 0, "put_records")
    c.put_record(StreamName="clicks", Data=b"c", PartitionKey="page-1")
    shard0 = c.list_shards(StreamName="orders")["Shards"][0]
    end = int(shard0["HashKeyRange"]["EndingHashKey"])
    c.split_shard(StreamName="orders", ShardToSplit="shardId-000000000000", NewStartingHashKey=str((end + 1) // 2))
    c.get_waiter("stream_exists").wait(StreamName="orders", WaiterConfig={"Delay": 0.1})
    c.merge_shards(StreamName="orders", ShardToMerge="shardId-000000000003",
                   AdjacentShardToMerge="shardId-000000000001")
    c.get_waiter("stream_exists").wait(StreamName="orders", WaiterConfig={"Delay": 0.1})
    c.put_record(StreamName="orders", Data=b"after", PartitionKey="customer-1")
    arn = c.describe_stream_summary(StreamName="orders")["StreamDescriptionSummary"]["StreamARN"]
    c.register_stream_consumer(StreamARN=arn, ConsumerName="billing")
    # What the page must show, from the API itself.
    shards = {s["ShardId"] for s in c.list_shards(StreamName="orders")["Shards"]}
    return shards


def check_dom(dom, orders_shards):
    for stream in ("orders", "clicks"):
        checks.ok(f'data-stream="{stream}"' in dom, f"DOM has a section for stream {stream}")
    rows = dict(re.findall(r'<tr data-shard="(shardId-\d+)">.*?<td class="num">(\d+)</td>', dom))
    for s in orders_shards:
        checks.ok(s in rows, f"DOM has a row for {s}")
    checks.eq(len(orders_shards), 5, "orders lists 5 shards (2 roots, split children, merge child)")
    # 120 records over the two first shards, +1 after the merge in the merge child.
    total = sum(int(v) for k, v in rows.items() if k in orders_shards)
    checks.ok(total >= 121, f"orders' per-shard record counts add up to at least 121 (got {total})")
    checks.ok(dom.count("<svg") >= 2, "one inline lineage SVG per stream")
    # (the browser serializes Graphviz' &#45; back to '-')
    checks.ok(re.search(r">shardId(-|&#45;)000000000004</text>", dom) is not None,
              "the lineage SVG draws the merge child")
    checks.ok(">merge</text>" in dom, "the merge edge is labelled")
    checks.ok('data-consumer="billing"' in dom, "the registered consumer is listed")
    checks.ok("OPEN" in dom and "CLOSED" in dom, "shard states are shown")


def check_png(path):
    data = open(path, "rb").read()
    checks.ok(len(data) > 20000, f"screenshot is not trivial ({len(data)} bytes)")
    img = Image.open(io.BytesIO(data)).convert("RGB")
    checks.eq(img.size, (WIDTH, HEIGHT), "screenshot size")
    small = img.resize((WIDTH // 4, HEIGHT // 4))
    colours = small.getcolors(maxcolors=1 << 16) or []
    checks.ok(len(colours) > 50, f"screenshot has many colours ({len(colours)}), not a blank page")
    # The lineage boxes of OPEN shards are filled with #d8f0d8.
    green = sum(n for n, (r, g, b) in colours if abs(r - 0xd8) < 6 and abs(g - 0xf0) < 6 and abs(b - 0xd8) < 6)
    checks.ok(green > 100, f"screenshot shows the green OPEN shard boxes ({green} pixels at 1/4 scale)")


def main():
    server_bin, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    global PROFILE
    PROFILE = os.path.join(out_dir, "chromium-profile")
    harness.use_dummy_credentials()
    with harness.Server(server_bin, "--create-delay", "0", "--update-delay", "0") as server:
        orders_shards = populate(server.url)
        url = server.url + "/ui"
        dom = chromium("--dump-dom", url).stdout.decode()
        open(os.path.join(out_dir, "status_page.html"), "w").write(dom)
        check_dom(dom, orders_shards)
        png = os.path.join(out_dir, "status_page.png")
        if os.path.exists(png):
            os.remove(png)
        chromium(f"--window-size={WIDTH},{HEIGHT}", f"--screenshot={png}", url)
        checks.ok(os.path.exists(png), "chromium wrote the screenshot")
        if os.path.exists(png):
            check_png(png)
        checks.eq(server.stop(), 0, "server exits 0 on SIGTERM")
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
