#!/usr/bin/env python3
"""A tiny HTTP/1.1 receiver for the Outbound demo. Listens on 127.0.0.1 only.

Usage: scripts/demo-receiver.py [PORT]   (default 8787)

Any method, any path: reads the body (by Content-Length) and answers 204 No Content.
Paths containing /flaky/ answer 503 with Retry-After: 1 to the first two requests for each
distinct Idempotency-Key, then 204, to show the dispatcher's retries.

Prints one line per request: method, path (query removed), the Epic-Client-ID header and
the status sent. Never prints bodies or other header values (they may hold credentials).
Exits cleanly on SIGTERM or SIGINT.
"""
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FLAKY_FAILURES = 2

_lock = threading.Lock()
_flaky_seen = {}
_log_lock = threading.Lock()


def log(line):
    # One write per line under a lock, so lines from concurrent requests never interleave.
    with _log_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "outbound-demo-receiver"
    sys_version = ""

    def _handle(self):
        length = self.headers.get("Content-Length")
        try:
            remaining = int(length) if length else 0
        except ValueError:
            remaining = -1
        if remaining < 0:
            self._answer(400, close=True)
            return
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 65536))
            if not chunk:
                break
            remaining -= len(chunk)

        path = self.path.split("?", 1)[0]
        status = 204
        extra = {}
        if "/flaky/" in path:
            key = self.headers.get("Idempotency-Key", "")
            with _lock:
                seen = _flaky_seen.get(key, 0)
                _flaky_seen[key] = seen + 1
            if seen < FLAKY_FAILURES:
                status = 503
                extra["Retry-After"] = "1"
        self._answer(status, extra)

    def _answer(self, status, extra=None, close=False):
        self.send_response(status)
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        if status != 204:
            self.send_header("Content-Length", "0")
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        client_id = self.headers.get("Epic-Client-ID", "-") if self.headers else "-"
        path = self.path.split("?", 1)[0] if self.path else "-"
        log(f"{self.command} {path} client={client_id} -> {status}")

    def log_message(self, format, *args):
        pass  # the one line per request above is the log

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8787
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    except OSError as error:
        print(f"demo-receiver: cannot listen on 127.0.0.1:{port}: {error.strerror}", file=sys.stderr)
        sys.exit(1)
    server.daemon_threads = True

    def stop(signum, frame):
        # shutdown() waits for serve_forever() to return, so call it from another thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log(f"demo-receiver: listening on http://127.0.0.1:{port}/")
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    log("demo-receiver: stopped")


if __name__ == "__main__":
    main()
