#!/usr/bin/env python3
"""The Outbound demo's receiver: scripts/lib/receiver.py, set up for the demo. 127.0.0.1 only.

Usage: scripts/demo-receiver.py [PORT]   (default 8787)

Any method, any path: reads the body (by Content-Length) and answers 204 No Content.
Paths containing /flaky/ answer 503 with Retry-After: 1 to the first two requests for each
distinct Idempotency-Key, then 204, to show the dispatcher's retries.

Prints one line per request: method, path (query removed), the Epic-Client-ID header and
the status sent. Never prints bodies or other header values (they may hold credentials).
Exits cleanly on SIGTERM or SIGINT.
"""
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from receiver import Receiver, Rule  # noqa: E402

FLAKY_FAILURES = 2

_log_lock = threading.Lock()


def log(line):
    # One write per line under a lock, so lines from concurrent requests never interleave.
    with _log_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8787
    try:
        receiver = Receiver(rules=[Rule("/flaky/", fail_first=FLAKY_FAILURES, retry_after="1")], port=port, log=log,
                            server_version="outbound-demo-receiver", poll_interval=0.2)
    except OSError as error:
        print(f"demo-receiver: cannot listen on 127.0.0.1:{port}: {error.strerror}", file=sys.stderr)
        sys.exit(1)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stopping.set())
    log(f"demo-receiver: listening on http://127.0.0.1:{port}/")
    while not stopping.wait(0.2):
        pass
    receiver.stop()
    log("demo-receiver: stopped")


if __name__ == "__main__":
    main()
