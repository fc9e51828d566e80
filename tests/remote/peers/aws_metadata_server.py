"""A loopback server that plays the credential endpoints AWS hosts offer,
for tests/remote/credentials_test.cc (STS is moto's; these three have no
server one could install):

  * EC2 instance metadata, IMDSv2: PUT /latest/api/token (the
    X-aws-ec2-metadata-token-ttl-seconds header is required, 1..21600, and
    echoed back), GET /latest/meta-data/iam/security-credentials/ (the role)
    and .../<role> (expiring credentials), each GET requiring a valid token
    unless IMDSv1 is allowed;
  * the container credentials endpoint (ECS, EKS Pod Identity):
    GET /container/credentials, checking the Authorization header when a
    token is configured;
  * SSO's GetRoleCredentials: GET /federation/credentials?account_id=&role_name=
    with the x-amz-sso_bearer_token header;
  * SSO-OIDC's CreateToken with the refresh_token grant: POST /token (JSON
    clientId, clientSecret, grantType, refreshToken, checked against
    state["oidc"]); it answers a new access token (which becomes the only
    one GetRoleCredentials accepts), expiresIn and a new refresh token.

Every set of credentials it hands out is new (AccessKeyId <PREFIX><n>) and
expires `lifetime` seconds after it was issued. Tests steer it through
POST /control (JSON: imds_v1 "required"|"optional"|"only", token_status, lifetime,
container_token, sso_token, fail_credentials, now: the Unix time expirations
count from, to follow a test's simulated clock) and read GET /control/counts
(requests per endpoint).

usage: python3 aws_metadata_server.py    (prints "listening on http://127.0.0.1:PORT")
"""
import datetime
import json
import signal
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

ROLE = "tributary-role"

state = {
    # "required": GETs need a token (IMDSv2 required); "optional": GETs
    # without one work too; "only": the token PUT answers 403 (IMDSv1 only).
    "imds_v1": "required",
    "token_status": 200,
    "lifetime": 3600,
    "container_token": "",
    "sso_token": "sso-access-token",
    # What CreateToken expects and answers; "fail": answer 400 invalid_grant.
    "oidc": {"client_id": "client-1", "client_secret": "client-secret-1", "refresh_token": "refresh-1",
             "access_token": "sso-access-token-2", "next_refresh_token": "refresh-2", "expires_in": 28800,
             "fail": False},
    "fail_credentials": False,
    # The server's "now" in Unix seconds (a test's ManualClock); None: real time.
    "now": None,
}
tokens = set()
counts = {}
issued = {"n": 0}
lock = threading.Lock()


def count(name):
    with lock:
        counts[name] = counts.get(name, 0) + 1


def new_credentials(prefix):
    with lock:
        issued["n"] += 1
        n = issued["n"]
    now = (datetime.datetime.fromtimestamp(state["now"], datetime.timezone.utc) if state["now"] is not None
           else datetime.datetime.now(datetime.timezone.utc))
    expires = now + datetime.timedelta(seconds=state["lifetime"])
    return {
        "AccessKeyId": f"{prefix}{n:04d}",
        "SecretAccessKey": f"secret-{n}",
        "Token": f"token-{n}",
        "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "expires_ms": int(expires.timestamp() * 1000),
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="text/plain", headers=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def token_ok(self):
        t = self.headers.get("X-aws-ec2-metadata-token")
        if t is not None:
            return t in tokens
        return state["imds_v1"] in ("optional", "only")

    def do_PUT(self):
        self.body()
        if self.path != "/latest/api/token":
            return self.reply(404, "not found")
        count("imds-token")
        if state["imds_v1"] == "only":
            return self.reply(403, "IMDSv2 is not enabled")
        if state["token_status"] != 200:
            return self.reply(state["token_status"], "token refused")
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        if ttl is None or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return self.reply(400, "X-aws-ec2-metadata-token-ttl-seconds is missing or out of range")
        token = uuid.uuid4().hex
        tokens.add(token)
        self.reply(200, token, headers={"X-aws-ec2-metadata-token-ttl-seconds": ttl})

    def do_POST(self):
        data = self.body()
        if self.path == "/control":
            state.update(json.loads(data or b"{}"))
            return self.reply(200, "{}", "application/json")
        if self.path == "/token":
            count("oidc")
            req = json.loads(data or b"{}")
            o = state["oidc"]
            if (o["fail"] or req.get("grantType") != "refresh_token" or req.get("clientId") != o["client_id"]
                    or req.get("clientSecret") != o["client_secret"]
                    or req.get("refreshToken") != o["refresh_token"]):
                return self.reply(400, json.dumps({"error": "invalid_grant",
                                                   "error_description": "Invalid refresh token provided"}),
                                  "application/json")
            state["sso_token"] = o["access_token"]
            return self.reply(200, json.dumps({"accessToken": o["access_token"], "tokenType": "Bearer",
                                               "expiresIn": o["expires_in"],
                                               "refreshToken": o["next_refresh_token"]}), "application/json")
        self.reply(404, "not found")

    def do_GET(self):
        url = urlparse(self.path)
        path = url.path
        if path == "/control/counts":
            with lock:
                return self.reply(200, json.dumps(counts), "application/json")
        prefix = "/latest/meta-data/iam/security-credentials/"
        if path.startswith(prefix):
            count("imds-role" if path == prefix else "imds-credentials")
            if not self.token_ok():
                return self.reply(401, "missing or invalid IMDSv2 token")
            if path == prefix:
                return self.reply(200, ROLE + "\n")
            if path != prefix + ROLE:
                return self.reply(404, "no such role")
            if state["fail_credentials"]:
                return self.reply(500, "credentials are not available")
            c = new_credentials("ASIAIMDS")
            c.pop("expires_ms")
            c.update({"Code": "Success", "Type": "AWS-HMAC",
                      "LastUpdated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")})
            return self.reply(200, json.dumps(c), "application/json")
        if path == "/container/credentials":
            count("container")
            want = state["container_token"]
            if want and self.headers.get("Authorization") != want:
                return self.reply(401, json.dumps({"message": "bad Authorization"}), "application/json")
            if state["fail_credentials"]:
                return self.reply(500, "credentials are not available")
            c = new_credentials("ASIACONT")
            c.pop("expires_ms")
            c["RoleArn"] = "arn:aws:iam::000000000000:role/" + ROLE
            return self.reply(200, json.dumps(c), "application/json")
        if path == "/federation/credentials":
            count("sso")
            q = parse_qs(url.query)
            if self.headers.get("x-amz-sso_bearer_token") != state["sso_token"]:
                return self.reply(401, json.dumps({"message": "Session token not found or invalid"}),
                                  "application/json")
            if q.get("account_id") != ["111122223333"] or q.get("role_name") != ["Reader"]:
                return self.reply(403, json.dumps({"message": "No access"}), "application/json")
            c = new_credentials("ASIASSO")
            return self.reply(200, json.dumps({"roleCredentials": {
                "accessKeyId": c["AccessKeyId"], "secretAccessKey": c["SecretAccessKey"],
                "sessionToken": c["Token"], "expiration": c["expires_ms"]}}), "application/json")
        self.reply(404, "not found")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
    server.daemon_threads = True
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()


if __name__ == "__main__":
    main()
