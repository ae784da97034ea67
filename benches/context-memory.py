#!/usr/bin/env python3
"""Memory of an oxion process flooded with large @contexts (issue 14, defect 1).

Starts the given oxion binary on a fresh data directory and a free loopback port, serves
@context documents from a loopback HTTP server, and prints the broker's resident memory (VmRSS)
after each phase:

  inline:  N POSTs of an entity with a unique inline @context of ~3.5 MB each, every one
           refused (its id is not a URI), then N more that are accepted;
  linked:  M GETs with a Link header to distinct URLs serving ~0.9 MB contexts.

    python3 benches/context-memory.py --oxion target/release/oxion [--extra '--max-inline-context-bytes 8000000']

Standard library only; every loop is bounded by its count.
"""

import argparse
import http.server
import json
import os
import shlex
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def context_text(tag, target_bytes):
    # Terms of ~60 bytes each, until the document is about target_bytes long.
    n = max(1, target_bytes // 60)
    terms = {f"t{i}": f"https://example.org/{tag}/terms/t{i}" for i in range(n)}
    return terms


class Contexts(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        tag = self.path.strip("/").replace("/", "_")
        body = json.dumps({"@context": context_text(tag, 900_000)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/ld+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def request(method, url, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--oxion", required=True, help="the oxion binary")
    ap.add_argument("--extra", default="", help="more oxion flags, one string")
    ap.add_argument("--inline", type=int, default=10, help="inline POSTs per phase")
    ap.add_argument("--linked", type=int, default=100, help="Link GETs")
    args = ap.parse_args()

    ctx_port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", ctx_port), Contexts)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        cmd = [args.oxion, "--host", "127.0.0.1", "--port", str(port), "--data-dir", data,
               "--log", "error", "--max-body", "16000000"] + shlex.split(args.extra)
        broker = subprocess.Popen(cmd)
        try:
            for _ in range(200):
                try:
                    if request("GET", base + "/health") == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.05)
            print(f"start: {rss_mb(broker.pid):.0f} MB")
            statuses = {}
            for accepted in (False, True):
                for i in range(args.inline):
                    tag = f"{'ok' if accepted else 'bad'}{i}-{time.time_ns()}"
                    entity = {
                        "id": f"urn:ngsi-ld:Car:{tag}" if accepted else "not a URI",
                        "type": "Car",
                        "speed": {"type": "Property", "value": i},
                        "@context": context_text(tag, 3_500_000),
                    }
                    status = request("POST", base + "/ngsi-ld/v1/entities", entity,
                                     {"Content-Type": "application/ld+json"})
                    statuses[status] = statuses.get(status, 0) + 1
                phase = "accepted" if accepted else "refused"
                print(f"after {args.inline} {phase} inline POSTs: {rss_mb(broker.pid):.0f} MB")
            print(f"  statuses: {statuses}")
            statuses = {}
            for i in range(args.linked):
                link = f'<http://127.0.0.1:{ctx_port}/c{i}/{time.time_ns()}>; ' \
                       'rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
                status = request("GET", base + "/ngsi-ld/v1/entities?type=Car",
                                 headers={"Link": link})
                statuses[status] = statuses.get(status, 0) + 1
            print(f"after {args.linked} Link GETs: {rss_mb(broker.pid):.0f} MB")
            print(f"  statuses: {statuses}")
        finally:
            broker.kill()
            broker.wait()
            server.shutdown()


if __name__ == "__main__":
    main()
