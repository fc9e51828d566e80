#!/usr/bin/env python3
"""Writes the seed corpus of the http2 fuzz target (tests/fuzz/corpus/http2/):
what HTTP/2 clients send after the connection preface, made with python3-h2
(Debian), plus hand-built frames for the floods and limits. Run by hand when
the target's input format changes:

  /usr/bin/python3 tests/fuzz/make_http2_seeds.py tests/fuzz/corpus/http2
"""
import json
import os
import struct
import sys

import h2.config
import h2.connection
import h2.settings
import hpack

JSON = "application/x-amz-json-1.1"
CBOR = "application/x-amz-cbor-1.1"
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def client(window=None):
    c = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    c.initiate_connection()
    if window is not None:
        c.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
    return c


def request(c, action, body, content_type=JSON, extra=(), end=True, method="POST", path="/"):
    sid = c.get_next_available_stream_id()
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    c.send_headers(sid, [(":method", method), (":scheme", "http"), (":authority", "127.0.0.1:4567"),
                         (":path", path), ("x-amz-target", f"Kinesis_20131202.{action}"),
                         ("content-type", content_type), ("content-length", str(len(payload))), *extra])
    if end:
        c.send_data(sid, payload, end_stream=True)
    return sid


def frame(ftype, flags, sid, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", sid) + payload


def take(c):
    data = c.data_to_send()
    assert data.startswith(PREFACE)
    return data[len(PREFACE):]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "http2")
    os.makedirs(out, exist_ok=True)
    seeds = {}

    c = client()
    request(c, "ListStreams", {})
    request(c, "DescribeStreamSummary", {"StreamName": "s"})
    request(c, "PutRecord", {"StreamName": "s", "Data": "aGVsbG8=", "PartitionKey": "k"})
    seeds["requests-json"] = take(c)

    c = client()
    request(c, "ListShards", b"\xa1jStreamNameas", CBOR)
    request(c, "PutRecords", {"StreamName": "s", "Records": [{"Data": "eA==", "PartitionKey": f"k{i}"} for i in range(20)]})
    seeds["requests-cbor-and-batch"] = take(c)

    c = client(window=16)
    request(c, "RegisterStreamConsumer", {"StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/s",
                                          "ConsumerName": "c"})
    request(c, "SubscribeToShard", {"ConsumerARN": "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1",
                                    "ShardId": "shardId-000000000000", "StartingPosition": {"Type": "TRIM_HORIZON"}})
    c.ping(b"12345678")
    seeds["subscribe-small-window"] = take(c)

    c = client()
    sid = request(c, "PutRecord", {}, end=False)
    c.send_data(sid, b'{"StreamName": "s", ')
    c.send_data(sid, b'"Data": "eA==", "PartitionKey": "k"}', end_stream=True)
    request(c, "ListStreams", {}, method="GET", path="/healthcheck")
    request(c, "ListStreams", {}, extra=[("x-padding", "p" * 17000)])
    seeds["split-body-get-big-header"] = take(c)

    c = client()
    for _ in range(50):
        sid = request(c, "ListStreams", {}, end=False)
        c.reset_stream(sid)
    seeds["rst-flood"] = take(c)

    settings = frame(4, 0, 0, b"")
    block = hpack.Encoder().encode([(":method", "POST"), (":scheme", "http"), (":path", "/"), (":authority", "x")])
    cont = frame(1, 0, 1, block) + b"".join(frame(9, 0, 1, b"") for _ in range(20))
    seeds["continuation-flood"] = settings + cont
    seeds["window-update-overflow"] = settings + frame(8, 0, 0, struct.pack(">I", 0x7fffffff)) * 2
    seeds["goaway"] = settings + frame(7, 0, 0, struct.pack(">II", 0, 0))

    for name, data in seeds.items():
        with open(os.path.join(out, f"seed-{name}"), "wb") as f:
            f.write(data)
    print(f"wrote {len(seeds)} seeds to {out}")


if __name__ == "__main__":
    main()
