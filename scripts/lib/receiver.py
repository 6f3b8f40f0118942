"""The one Python test receiver of the scripts: an HTTP/1.1 server on 127.0.0.1.

Used by the demo (scripts/demo-receiver.py), the benchmarks (scripts/bench.d/) and the
crash and fault campaigns (scripts/crash.d/, scripts/fault.d/), so that a new campaign
configures a receiver instead of writing another one. Import it with

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
    from receiver import Receiver, Rule

What it answers is set per path by `Rule`s (the first rule whose `path` is in the request's
path, and whose `method` matches if given, wins; without one, 204):

    Receiver(rules=[Rule("/flaky/", fail_first=2, retry_after="1"),     # 503 twice per key
                    Rule("/fail/", status=400),
                    Rule("/slow/", delay=2.0),                           # answer after 2 s
                    Rule("", max_delay=0.005)])                          # 0-5 ms, seeded

`HungListener` is the other kind of destination: it accepts connections and never answers.

What it records, under one lock, before it answers (so a sender that saw its answer has been
counted): `counts` (requests per Idempotency-Key), `arrived` (the monotonic time of each
key's first request line), `ok` (keys answered 2xx), `requests` (all requests), `first`
and `first_event` (the first request line), `problems` (what `check` objected to, and
connection errors other than resets). `wait_for(key, timeout)` blocks until a key arrived.

It never prints a body or a header value other than the client ID. Only 127.0.0.1.
"""
import random
import selectors
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Rule:
    """What to answer on the paths containing `path` (and, if given, to `method` only).

    status       the answer (default 204)
    fail_first   answer `fail_status` to the first N requests of each Idempotency-Key
    fail_status  the status of those failures (default 503)
    retry_after  a Retry-After value sent with every answer >= 300
    delay        seconds to wait, after reading the body, before answering
    max_delay    a further random 0..max_delay seconds (the receiver's seeded generator)
    """

    def __init__(self, path="", method=None, status=204, fail_first=0, fail_status=503, retry_after=None,
                 delay=0.0, max_delay=0.0):
        self.path = path
        self.method = method
        self.status = status
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.retry_after = retry_after
        self.delay = delay
        self.max_delay = max_delay

    def matches(self, method, path):
        return self.path in path and (self.method is None or self.method == method)


DEFAULT_RULE = Rule()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    sys_version = ""

    def parse_request(self):
        # handle_one_request has just read the request line: this is its arrival.
        self._arrived = time.monotonic()
        return super().parse_request()

    def _read_body(self):
        """Reads the whole body (Content-Length or chunked). False for a bad Content-Length."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return True
                self.rfile.read(size + 2)
        length = self.headers.get("Content-Length")
        try:
            remaining = int(length) if length else 0
        except ValueError:
            return False
        if remaining < 0:
            return False
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                break
            remaining -= len(chunk)
        return True

    def _handle(self):
        receiver = self.server.receiver
        if not self._read_body():
            self._answer(400, None, close=True)
            return
        path = self.path.split("?", 1)[0]
        rule, status, delay = receiver.decide(self, path)
        if delay:
            time.sleep(delay)
        self._answer(status, rule)

    def _answer(self, status, rule, close=False):
        self.send_response(status)
        if rule is not None and rule.retry_after is not None and status >= 300:
            self.send_header("Retry-After", rule.retry_after)
        if status != 204:
            self.send_header("Content-Length", "0")
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        log = self.server.receiver.log
        if log:
            client_id = self.headers.get("Epic-Client-ID", "-") if self.headers else "-"
            path = self.path.split("?", 1)[0] if self.path else "-"
            log("%s %s client=%s -> %d" % (self.command, path, client_id, status))

    def log_message(self, *args):
        pass  # the receiver's `log`, if any, is the log

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 1024  # 64 connections may open at once; the default backlog is 5

    def handle_error(self, request, client_address):
        # A killed or timed-out sender resets its connections: expected, not a problem.
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return
        self.receiver.problem("receiver error on a connection from %s: %r" % (client_address, error))


class Receiver:
    """A threaded loopback HTTP/1.1 server, serving from its own thread once made.

    rules          [Rule]; the first that matches decides, else 204
    port           0 picks a free port (see .port)
    check          check(method, path, headers) -> a problem (str) or None, per request
    log            log(line): one line per request (method, path, client ID, status)
    seed           for the random part of the delays
    server_version the Server header's product
    """

    def __init__(self, rules=(), port=0, check=None, log=None, seed=None, server_version="outbound-test-receiver",
                 poll_interval=0.05):
        self.rules = list(rules)
        self.check = check
        self.log = log
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.arrival = threading.Condition(self.lock)
        self.counts = {}
        self.arrived = {}
        self.ok = set()
        self.requests = 0
        self.problems = []
        self.first = None
        self.first_event = threading.Event()
        handler = type("Handler", (_Handler,), {"server_version": server_version})
        self.server = _Server(("127.0.0.1", port), handler)
        self.server.receiver = self
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": poll_interval},
                                       daemon=True)
        self.thread.start()

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def rule_for(self, method, path):
        for rule in self.rules:
            if rule.matches(method, path):
                return rule
        return DEFAULT_RULE

    def decide(self, request, path):
        """Records the request and returns (rule, status, delay)."""
        rule = self.rule_for(request.command, path)
        key = request.headers.get("Idempotency-Key")
        problem = self.check(request.command, path, request.headers) if self.check else None
        with self.lock:
            seen = self.counts.get(key, 0) if key else 0
            status = rule.fail_status if seen < rule.fail_first else rule.status
            if key:
                self.counts[key] = seen + 1
                self.arrived.setdefault(key, request._arrived)
                if status < 300:
                    self.ok.add(key)
            self.requests += 1
            if problem:
                self.problems.append(problem)
            if self.first is None:
                self.first = request._arrived
                self.first_event.set()
            delay = rule.delay + (self.rng.uniform(0, rule.max_delay) if rule.max_delay > 0 else 0)
            self.arrival.notify_all()
        return rule, status, delay

    def problem(self, text):
        with self.lock:
            self.problems.append(text)
        if self.log:
            self.log(text)

    def snapshot(self):
        """(requests per key, requests in all, problems), copied under the lock."""
        with self.lock:
            return dict(self.counts), self.requests, list(self.problems)

    def delivered_ok(self, key):
        with self.lock:
            return key in self.ok

    def wait_for(self, key, timeout):
        """The monotonic arrival of `key`'s first request line, or None after `timeout` s."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while key not in self.arrived:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.arrival.wait(left)
            return self.arrived[key]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class HungListener:
    """Accepts connections and never answers, holding each open until its client closes it
    (requests are read and dropped) or the listener is stopped. Closing what the clients
    closed keeps one benchmark round's thousands of dead connections out of the next."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4096)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.accepted = 0
        self.stopped = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        with selectors.DefaultSelector() as selector:
            selector.register(self.sock, selectors.EVENT_READ)
            while not self.stopped:
                try:
                    ready = selector.select(timeout=0.5)
                except OSError:
                    return
                for key, _ in ready:
                    if key.fileobj is self.sock:
                        try:
                            conn, _ = self.sock.accept()
                        except OSError:
                            return
                        self.accepted += 1
                        self.held.append(conn)
                        selector.register(conn, selectors.EVENT_READ)
                        continue
                    conn = key.fileobj
                    try:
                        data = conn.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        selector.unregister(conn)
                        conn.close()
                        try:
                            self.held.remove(conn)
                        except ValueError:
                            pass

    def stop(self):
        self.stopped = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.thread.join(timeout=2)
        self.sock.close()
        for conn in self.held:
            conn.close()
        self.held = []
