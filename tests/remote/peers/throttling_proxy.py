"""A loopback proxy in front of a DynamoDB implementation (dynalite) that
answers some requests the way DynamoDB throttles: HTTP 400 with
{"__type": "com.amazonaws.dynamodb.v20120810#<error>"}. dynalite does not
throttle; the DynamoDB lease table's retries are tested through this.
Everything else is forwarded unchanged.

POST /__control {"throttle": {"UpdateItem": 3}, "error": "ProvisionedThroughputExceededException"}
makes the next 3 UpdateItem calls fail; GET /__counts returns the calls
seen per action (throttled ones included).

usage: python3 throttling_proxy.py UPSTREAM_URL   (prints "listening on http://127.0.0.1:PORT")
"""
import http.client
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

upstream = urlparse(sys.argv[1])
state = {"throttle": {}, "error": "ProvisionedThroughputExceededException"}
counts = {}
lock = threading.Lock()


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        data = body.encode()
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        with lock:
            self.reply(200, json.dumps(counts), [("Content-Type", "application/json")])

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/__control":
            with lock:
                state.update(json.loads(body))
            return self.reply(200, "{}")
        action = (self.headers.get("X-Amz-Target") or "").split(".")[-1]
        with lock:
            counts[action] = counts.get(action, 0) + 1
            left = state["throttle"].get(action, 0)
            if left > 0:
                state["throttle"][action] = left - 1
        if left > 0:
            err = state["error"]
            return self.reply(400, json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{err}",
                                               "message": "Rate of requests exceeds the allowed throughput."}),
                              [("Content-Type", "application/x-amz-json-1.0")])
        conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        conn.request("POST", self.path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read().decode()
        self.reply(r.status, data, [(k, v) for k, v in r.getheaders()
                                    if k.lower() not in ("content-length", "transfer-encoding", "connection")])
        conn.close()


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    server.daemon_threads = True
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
