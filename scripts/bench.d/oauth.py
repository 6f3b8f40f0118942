#!/usr/bin/env python3
"""OAuth benchmark for scripts/bench --oauth (issue 14), all on 127.0.0.1.

  oauth.py --bin B --work W --nginx N [--pairs P] [--jobs J]
      One nginx answering 204 (the target) and a small token endpoint in this process
      (answers every client-credentials request with a 300-second bearer token; it does not
      check the assertion: the integration tests do that). Alternating, --pairs times:
      outbound drain of --jobs (10,000) jobs of one client with header-only auth, and of the
      same jobs of the same client with OAuth `auth` (private key JWT, RS384). Every run is
      checked: every job delivered; an OAuth run made exactly one token request and wrote
      one `token` audit line.
      Target: the OAuth rate >= 0.95x the header-only rate (medians).

Exit status 0 when every run verified (a missed target prints NOT MET), 1 otherwise.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import outbound_spool as spools  # noqa: E402
from estate import CLIENT_ID, VerificationError, log, median, small_body, verdict  # noqa: E402
from processes import Nginx, ProcessError, free_port, run_measured  # noqa: E402

PARALLEL = 64


class TokenEndpoint:
    """A token endpoint on 127.0.0.1 that hands out a fresh bearer token per request."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with endpoint.lock:
                    endpoint.requests += 1
                    number = endpoint.requests
                body = json.dumps({"access_token": "bench-token-%d" % number, "token_type": "Bearer",
                                   "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/oauth2/token" % self.server.server_address[1]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def write_configs(work, port, token_url):
    """Config folders `config-header` and `config-oauth`: the same client, settings and
    endpoint; the second with OAuth auth and an RS384 key made with openssl genpkey."""
    endpoint = "http://127.0.0.1:%d/ingest/" % port
    settings = {"concurrency": PARALLEL, "perHostConcurrency": PARALLEL}
    header = os.path.join(work, "config-header")
    oauth = os.path.join(work, "config-oauth")
    spools.write_config(header, [endpoint], settings, application="Bench OAuth")
    spools.write_config(oauth, [endpoint], settings, application="Bench OAuth")
    key = os.path.join(oauth, "client.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key],
                   check=True, capture_output=True)
    os.chmod(key, 0o600)
    path = os.path.join(oauth, "clients.json")
    with open(path) as f:
        clients = json.load(f)
    clients["clients"][0]["auth"] = {
        "type": "oauth2", "tokenUrl": token_url, "scope": "system/Patient.read",
        "assertion": {"keyFile": "client.pem", "alg": "RS384", "keyId": "bench-2026"},
    }
    with open(path, "w") as f:
        json.dump(clients, f, indent=2)
    return header, oauth


def run(args, port, config, tag, tokens):
    spool = os.path.join(args.work, "spool-" + tag)
    jobs = (("job-%06d.json" % n, spools.job("http://127.0.0.1:%d/ingest/%d" % (port, n), small_body(n), client_id=CLIENT_ID))
            for n in range(args.jobs))
    spools.make_spool(spool, jobs)
    spools.settle()
    before = tokens.requests
    m = run_measured([args.bin, "drain", "--quiet", "--spool", spool, "--config", config], args.work)
    if m.rc != 0:
        raise VerificationError("%s: drain exited %d: %s" % (tag, m.rc, m.stderr.decode(errors="replace")[-2000:]))
    delivered = spools.count_files(os.path.join(spool, "delivered"))
    if delivered != args.jobs:
        raise VerificationError("%s: %d of %d delivered" % (tag, delivered, args.jobs))
    requested = tokens.requests - before
    token_lines = sum(1 for record in spools.audit_records(spool) if record.get("event") == "token")
    expected = 1 if tag.startswith("oauth") else 0
    if requested != expected or token_lines != expected:
        raise VerificationError("%s: %d token requests and %d token lines, expected %d" % (tag, requested, token_lines, expected))
    shutil.rmtree(spool, ignore_errors=True)
    return args.jobs / m.wall, m.maxrss_kib, m.cpu


def oauth_mode(args):
    port = free_port()
    tokens = TokenEndpoint()
    nginx = Nginx(args.nginx, os.path.join(args.work, "nginx-oauth"))
    try:
        nginx.start([port])
        header, oauth = write_configs(args.work, port, tokens.url)
        log("receiver     nginx on http://127.0.0.1:%d/ingest/ (answers 204); token endpoint %s" % (port, tokens.url))
        log("jobs         %d per run, one client: header-only vs OAuth (RS384 assertion, 300 s token)" % args.jobs)
        log()
        log("%-5s %-13s %12s %12s %8s %9s %9s %10s" % ("pair", "order", "header/s", "oauth/s", "ratio",
                                                       "header s", "oauth s", "oauth RSS"))
        plain, authed, ratios = [], [], []
        cpu = {"header": [], "oauth": []}
        for pair in range(1, args.pairs + 1):
            order = ["header", "oauth"] if pair % 2 else ["oauth", "header"]
            rates = {}
            rss = 0
            for what in order:
                rate, peak, seconds = run(args, port, oauth if what == "oauth" else header, "%s-%d" % (what, pair), tokens)
                rates[what] = rate
                cpu[what].append(seconds)
                if what == "oauth":
                    rss = peak
            plain.append(rates["header"])
            authed.append(rates["oauth"])
            ratios.append(rates["oauth"] / rates["header"])
            log("%-5d %-13s %12.0f %12.0f %7.2fx %9.2f %9.2f %6.1f MiB" % (
                pair, "-".join(order), rates["header"], rates["oauth"], ratios[-1], cpu["header"][-1], cpu["oauth"][-1], rss / 1024.0))
        log("%-5s %-13s %12.0f %12.0f %7.2fx %9.2f %9.2f" % ("med.", "", median(plain), median(authed), median(ratios),
                                                            median(cpu["header"]), median(cpu["oauth"])))
        log("(header s, oauth s: CPU seconds, user + system, of each drain process: less swayed by the")
        log(" machine's other work than the wall-clock rates)")
        log()
        log("all runs verified: every job delivered; each OAuth run made 1 token request (1 token line)")
        log("target  OAuth >= 0.95x header-only:  %.2fx  %s" % (median(ratios), verdict(median(ratios) >= 0.95)))
    finally:
        nginx.stop()
        tokens.stop()


def interrupted(signum, frame):
    raise KeyboardInterrupt()


def main(argv):
    parser = argparse.ArgumentParser(prog="oauth.py")
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--nginx", required=True)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=10000)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, interrupted)
    try:
        oauth_mode(args)
    except (VerificationError, ProcessError, subprocess.CalledProcessError) as error:
        log("bench: %s" % error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
