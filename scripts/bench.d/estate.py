#!/usr/bin/env python3
"""Partner-estate benchmarks for scripts/bench (issue 13), all on 127.0.0.1.

  estate.py estate --bin B --work W --nginx N [--pairs P]
      Five destinations: four nginx ports answering 204 and one listener that accepts and
      never answers. 6,000 healthy and 300 hung jobs interleaved, timeoutMs 3000, one try.
      Alternating, --pairs times: outbound drain of the mix, outbound drain of the 6,000
      healthy jobs alone, curl --parallel over the mix. Prints the healthy rate (healthy
      deliveries per second until the last one) of each, their medians and ratios.
      Targets: mixed >= 0.95x all-healthy; outbound >= 10x curl on the mix.
  estate.py tls --bin B --work W --nginx N [--pairs P] [--jobs N]
      nginx over TLS 1.3 with a test CA (tls.caFile), N jobs (default 10,000): outbound drain
      vs curl --parallel --cacert, alternating, with each sender's CPU time and nginx's
      beside it. Target: drain >= 1.0x curl, as the median of the pairs' ratios (the ratio
      of the medians is printed beside it).
  estate.py big --bin B --work W --nginx N
      100 jobs of 9 MiB to a receiver answering 2 s after reading each request, default
      concurrency (64): peak RSS of the drain (GNU time). Then the same burst through
      `outbound run`: its RSS from /proc while idle afterwards. Then 100,000 small jobs to
      nginx: peak RSS. Targets: <= 320 MiB, <= 64 MiB within 10 s after the burst, <= 64 MiB.
  estate.py backlog --bin B --work W --nginx N [--pairs P] [--jobs N]
      One nginx and one listener that accepts and never answers, N jobs for each (default
      2,000), alternating, timeoutMs 3000, one try: when half and the last of the healthy jobs
      were answered, per round and as medians. No target: it shows how long a hung
      partner's backlog holds up the others (HISTORY.md, 2026-12-06).
  estate.py storm --bin B --work W --nginx N [--pairs P] [--jobs N]
      Two nginx ports answering 204 and a third answering 503 with Retry-After: 60, N
      healthy jobs (default 4,000) with and without N/2 interleaved jobs for the 503 partner,
      alternating, maxAttempts 3: the healthy jobs' rate beside the 503s, per round and as
      medians. No target: it shows what a partner's 503s cost the others (HISTORY.md,
      2026-12-06, fifth session).
  estate.py steady --bin B --work W --nginx N [--pairs P] [--jobs N]
      The drain against curl --parallel split in two, over plain HTTP and over TLS 1.3: each
      sender's start (until nginx answers its first request) and its rate from the first
      answer to the last, from nginx's own clock ($msec). Alternating, --pairs rounds,
      medians. No target: it shows how much of a whole-run ratio is curl's start (reading a
      config of N entries) rather than the rate of sending (HISTORY.md, 2026-12-06, seventh
      session).

Exit status 0 when every run verified (a missed target prints NOT MET), 1 when a run did
not deliver what it should have.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import outbound_spool as spools  # noqa: E402
from outbound_spool import audit_records as audit  # noqa: E402
from processes import Nginx, ProcessError, free_port, run_measured, stop_group  # noqa: E402
from receiver import HungListener, Receiver, Rule  # noqa: E402

CLIENT_ID = spools.TEST_CLIENT_ID
PARALLEL = 64
MIB = 1024 * 1024


class VerificationError(Exception):
    pass


def log(line=""):
    print(line, flush=True)


def verdict(met):
    return "met" if met else "NOT MET"


# ---------------------------------------------------------------- config, jobs

def write_config(folder, endpoints, settings):
    spools.write_config(folder, endpoints, settings, application="Bench Estate")


def small_body(n):
    return json.dumps({"messageType": "ADT^A08", "sequence": n, "note": "x" * 440}, separators=(",", ":"))


def make_spool(root, jobs):
    """A fresh spool with `jobs` ([(url, body)]) in incoming/, built beside it and renamed in."""
    spools.make_spool(root, (("job-%06d.json" % n, spools.job(url, body)) for n, (url, body) in enumerate(jobs, 1)))
    spools.settle()


def curl_config(path, jobs, extra=""):
    """One entry per job, separated by `next`; `extra` goes into every entry (options given on
    curl's command line apply to the first entry only)."""
    with open(path, "w") as f:
        for n, (url, body) in enumerate(jobs, 1):
            if n > 1:
                f.write("next\n")
            f.write('url = "%s"\ndata-binary = "%s"\n' % (url, body.replace("\\", "\\\\").replace('"', '\\"')))
            f.write('header = "Epic-Client-ID: %s"\nheader = "Idempotency-Key: job-%06d"\n' % (CLIENT_ID, n))
            f.write('header = "Content-Type: application/json"\noutput = "/dev/null"\n')
            f.write('write-out = "%%{http_code} %%{url_effective}\\n"\n%s' % extra)


# ---------------------------------------------------------------- running and reading

def drain(args, spool, config):
    m = run_measured([args.bin, "drain", "--quiet", "--spool", spool, "--config", config], args.work)
    if m.rc != 0:
        raise VerificationError("drain exited %d: %s" % (m.rc, m.stderr.decode(errors="replace")[-2000:]))
    return m


def delivered_count(spool):
    """The `delivered` lines in the spool's audit log."""
    return sum(1 for r in audit(spool) if r.get("event") == "delivered")


def curl_parallel(curl_file):
    """curl --parallel over a config of `curl_config`'s entries, as many at once as outbound."""
    return ["curl", "--parallel", "--parallel-max", str(PARALLEL), "-s", "-K", curl_file]


def median(values):
    return statistics.median(values) if values else float("nan")


# ---------------------------------------------------------------- --estate

def estate(args):
    healthy_count, hung_count, timeout_ms = 6000, 300, 3000
    nginx = Nginx(args.nginx, os.path.join(args.work, "nginx"))
    ports = [free_port() for _ in range(4)]
    stamp_log = os.path.join(args.work, "answered.log")
    nginx.start(ports, stamp_log=stamp_log)
    hung = HungListener()
    try:
        bases = ["http://127.0.0.1:%d/ingest/" % p for p in ports]
        hung_base = "http://127.0.0.1:%d/ingest/" % hung.port
        mixed, healthy = [], []
        every = (healthy_count + hung_count) // hung_count
        h = 0
        for n in range(healthy_count + hung_count):
            if n % every == every - 1 and len(mixed) - h < hung_count:
                mixed.append((hung_base + str(n), small_body(n)))
            else:
                job = (bases[h % 4] + str(n), small_body(n))
                mixed.append(job)
                healthy.append(job)
                h += 1
        config = os.path.join(args.work, "config")
        write_config(config, bases + [hung_base], {"timeoutMs": timeout_ms, "retry": {"maxAttempts": 1}})
        curl_mixed = os.path.join(args.work, "mixed.curl")
        curl_config(curl_mixed, mixed, 'max-time = %g\n' % (timeout_ms / 1000))
        spool = os.path.join(args.work, "spool")
        log("five destinations: nginx on %s, hung listener on %d; %d healthy + %d hung jobs interleaved, "
            "timeoutMs %d, maxAttempts 1" % (", ".join(map(str, ports)), hung.port, healthy_count, hung_count, timeout_ms))
        curl_healthy = os.path.join(args.work, "healthy.curl")
        curl_config(curl_healthy, healthy, 'max-time = %g\n' % (timeout_ms / 1000))
        rates = {"outbound mixed": [], "outbound healthy": [], "curl mixed": [], "curl healthy": []}

        def measure(name, cmd, spool_jobs=None, allowed=(0,)):
            if spool_jobs is not None:
                make_spool(spool, spool_jobs)
            open(stamp_log, "w").close()
            m = run_measured(cmd, args.work)
            if spool_jobs is not None and m.rc not in allowed:
                raise VerificationError("%s: drain exited %d: %s" % (name, m.rc, m.stderr.decode(errors="replace")[-2000:]))
            count, last = answered(stamp_log, m.started)
            if name.startswith("outbound"):
                delivered = delivered_count(spool)
                if delivered != healthy_count or count != healthy_count:
                    raise VerificationError("%s: %d delivered, nginx answered %d, expected %d"
                                            % (name, delivered, count, healthy_count))
            rate = count / last
            rates[name].append(rate)
            spent = ""
            if name == "outbound mixed":
                # Attempts that went to the hung destination: what a circuit breaker saves.
                # Jobs set aside while it is down (deferred, reason destination_down) carry
                # their attempt count so far but made no attempt: counted apart.
                hung_lines = [r for r in audit(spool) if str(hung.port) in r.get("url", "")]
                set_aside = len({r.get("job") for r in hung_lines if r.get("reason") == "destination_down"})
                attempted = sum(1 for r in hung_lines if r.get("event") in ("failed", "deferred")
                                and r.get("reason") != "destination_down")
                spent = ", %d attempts to the hung host, %d jobs set aside while it was down" % (attempted, set_aside)
            return "%s %d in %.2f s = %.0f/s (run %.2f s%s)" % (name, count, last, rate, m.wall, spent)

        drain_cmd = [args.bin, "drain", "--quiet", "--spool", spool, "--config", config]
        # With the hung host down (contract 13) its jobs wait in deferred/ for the next probe
        # instead of failing: the mixed drain stops waiting for them after 10 s (exit 75).
        mixed_drain_cmd = drain_cmd + ["--max-wait", "10"]
        for pair in range(1, args.pairs + 1):
            # The two outbound runs swap places every round, so neither always follows the
            # same thing (curl's long wait on the hung host, or the other drain).
            outbound_runs = [lambda: measure("outbound mixed", mixed_drain_cmd, mixed, allowed=(0, 75)),
                             lambda: measure("outbound healthy", drain_cmd, healthy)]
            if pair % 2 == 0:
                outbound_runs.reverse()
            parts = [run() for run in outbound_runs]
            parts += [measure("curl mixed", curl_parallel(curl_mixed)), measure("curl healthy", curl_parallel(curl_healthy))]
            log("round %d: %s" % (pair, "; ".join(parts)))
        med = {name: median(values) for name, values in rates.items()}
        log()
        log("healthy requests answered per second, from process start to the last healthy answer (nginx's clock), medians:")
        for name, value in med.items():
            log("  %-17s %7.0f/s" % (name, value))
        ratio = med["outbound mixed"] / med["outbound healthy"]
        log("outbound, healthy rate with the hung host: %.2fx the all-healthy rate (target >= 0.95x): %s"
            % (ratio, verdict(ratio >= 0.95)))
        log("curl --parallel, the same: %.2fx" % (med["curl mixed"] / med["curl healthy"]))
        versus = med["outbound mixed"] / med["curl mixed"]
        log("outbound vs curl --parallel on the mix: %.1fx (target >= 10x): %s" % (versus, verdict(versus >= 10)))
    finally:
        hung.stop()
        nginx.stop()


def answered(stamp_log, started):
    """Requests nginx answered 204 since the log was emptied, and the seconds from `started`
    to the last of them; the log is emptied again."""
    times = answer_times(stamp_log, started)
    return len(times), (times[-1] if times else float("nan"))


def answer_times(stamp_log, started):
    """The seconds from `started` to each 204 nginx answered since the log was emptied, in
    order; the log is emptied again."""
    with open(stamp_log) as f:
        stamps = [float(line.split()[0]) for line in f if line.split()[1:2] == ["204"]]
    open(stamp_log, "w").close()
    return sorted(stamp - started for stamp in stamps)


# ---------------------------------------------------------------- --backlog

def backlog(args):
    """A hung partner with half the backlog: how long the healthy partner's jobs wait.

    No target. Without the stalled-destination rule (HISTORY.md, 2026-12-06) the hung
    partner's jobs filled the claim window and the healthy ones were claimed only once its
    attempts timed out and its circuit opened; with it they wait about a second, until the
    partner counts as stalled."""
    each, timeout_ms = args.jobs or 2000, 3000
    nginx = Nginx(args.nginx, os.path.join(args.work, "nginx"))
    port = free_port()
    stamp_log = os.path.join(args.work, "answered.log")
    nginx.start([port], stamp_log=stamp_log)
    hung = HungListener()
    try:
        base = "http://127.0.0.1:%d/ingest/" % port
        hung_base = "http://127.0.0.1:%d/ingest/" % hung.port
        jobs = [((hung_base if n % 2 == 0 else base) + str(n), small_body(n)) for n in range(2 * each)]
        config = os.path.join(args.work, "config")
        write_config(config, [base, hung_base], {"timeoutMs": timeout_ms, "retry": {"maxAttempts": 1}})
        spool = os.path.join(args.work, "spool")
        log("one nginx on %d and a listener on %d that accepts and never answers; %d jobs for each, "
            "alternating; timeoutMs %d, maxAttempts 1, concurrency and perHostConcurrency at their defaults"
            % (port, hung.port, each, timeout_ms))
        halves, lasts = [], []
        for round_number in range(1, args.pairs + 1):
            make_spool(spool, jobs)
            open(stamp_log, "w").close()
            m = run_measured([args.bin, "drain", "--quiet", "--spool", spool, "--config", config, "--max-wait", "1"], args.work)
            if m.rc not in (0, 75):
                raise VerificationError("backlog: drain exited %d: %s" % (m.rc, m.stderr.decode(errors="replace")[-2000:]))
            times = answer_times(stamp_log, m.started)
            delivered = delivered_count(spool)
            if len(times) != each or delivered != each:
                raise VerificationError("backlog: %d delivered, nginx answered %d, expected %d" % (delivered, len(times), each))
            halves.append(times[len(times) // 2])
            lasts.append(times[-1])
            log("round %d: half of the healthy jobs answered %.2f s after the start, the last %.2f s after; "
                "%d answered after the hung partner's timeout" % (round_number, halves[-1], lasts[-1],
                                                                 sum(1 for t in times if t > timeout_ms / 1000)))
        log()
        log("medians: half of the healthy jobs answered by %.2f s, the last by %.2f s (the hung partner's "
            "attempts time out at %.1f s)" % (median(halves), median(lasts), timeout_ms / 1000))
    finally:
        hung.stop()
        nginx.stop()


def storm(args):
    """A partner answering 503 (Retry-After: 60) to a third of the jobs: the other partners'
    rate beside it, against the same jobs without it.

    No target. A third of the requests are the 503 partner's, so about 0.67x is what sharing
    the connections and cores with them costs; each job set aside also costs the filing
    thread a `.state/` file created and fsynced (HISTORY.md, 2026-12-06, fifth and sixth
    sessions)."""
    healthy_count = args.jobs or 4000
    nginx = Nginx(args.nginx, os.path.join(args.work, "nginx"))
    ports = [free_port() for _ in range(3)]
    stamp_log = os.path.join(args.work, "answered.log")
    nginx.start(ports, stamp_log=stamp_log, locations=['location /storm/ { add_header Retry-After 60 always; return 503; }'])
    try:
        bases = ["http://127.0.0.1:%d/ingest/" % p for p in ports[:2]]
        storm_base = "http://127.0.0.1:%d/storm/" % ports[2]
        healthy = [(bases[n % 2] + str(n), small_body(n)) for n in range(healthy_count)]
        mixed = []
        for n, job in enumerate(healthy):
            mixed.append(job)
            if n % 2 == 1:
                mixed.append((storm_base + str(n), small_body(n)))
        storm_count = len(mixed) - healthy_count
        config = os.path.join(args.work, "config")
        write_config(config, bases + [storm_base], {"timeoutMs": 3000, "retry": {"maxAttempts": 3, "baseDelayMs": 60000, "maxDelayMs": 60000}})
        spool = os.path.join(args.work, "spool")
        log("two nginx ports answering 204, a third answering 503 with Retry-After: 60 on /storm/; "
            "%d healthy jobs, with and without %d interleaved jobs for the 503 partner; maxAttempts 3"
            % (healthy_count, storm_count))
        rates = {"with": [], "without": []}
        for round_number in range(1, args.pairs + 1):
            runs = [("with", mixed), ("without", healthy)]
            if round_number % 2 == 0:
                runs.reverse()
            parts = []
            for name, jobs in runs:
                make_spool(spool, jobs)
                open(stamp_log, "w").close()
                # The set-aside jobs are due again in a minute: the drain stops waiting at once.
                m = run_measured([args.bin, "drain", "--quiet", "--spool", spool, "--config", config, "--max-wait", "0.2"],
                                 args.work)
                if m.rc not in (0, 75):
                    raise VerificationError("storm: drain exited %d: %s" % (m.rc, m.stderr.decode(errors="replace")[-2000:]))
                count, last = answered(stamp_log, m.started)
                records = audit(spool)
                delivered = sum(1 for r in records if r.get("event") == "delivered")
                deferred = sum(1 for r in records if r.get("event") == "deferred")
                expected_deferred = storm_count if name == "with" else 0
                if count != healthy_count or delivered != healthy_count or deferred != expected_deferred:
                    raise VerificationError("storm: %d delivered, nginx answered %d, %d deferred; expected %d and %d"
                                            % (delivered, count, deferred, healthy_count, expected_deferred))
                rates[name].append(count / last)
                parts.append("%s the 503 partner %.0f/s" % (name, rates[name][-1]))
            log("round %d: healthy jobs answered per second %s" % (round_number, "; ".join(parts)))
        with_storm, without = median(rates["with"]), median(rates["without"])
        log()
        log("medians: the healthy jobs' rate beside a partner answering 503 to %d jobs is %.2fx their rate without it "
            "(%.0f against %.0f per second)" % (storm_count, with_storm / without, with_storm, without))
    finally:
        nginx.stop()


# ---------------------------------------------------------------- --tls

def make_test_ca(folder):
    """A CA and a server certificate for 127.0.0.1 and localhost, with the openssl CLI."""
    os.makedirs(folder, exist_ok=True)
    ca_key, ca_cert = os.path.join(folder, "ca.key"), os.path.join(folder, "ca.pem")
    key, csr, cert = os.path.join(folder, "server.key"), os.path.join(folder, "server.csr"), os.path.join(folder, "server.pem")
    ext = os.path.join(folder, "server.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
                "extendedKeyUsage=serverAuth\n")
    run = lambda *a: subprocess.run(["openssl"] + list(a), check=True, capture_output=True)
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", ca_key, "-out", ca_cert,
        "-days", "2", "-subj", "/CN=Outbound bench CA")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr,
        "-subj", "/CN=127.0.0.1")
    run("x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial", "-out", cert, "-days", "2",
        "-extfile", ext)
    os.chmod(key, 0o644)
    return ca_cert, cert, key


def tls(args):
    count = args.jobs or 10000
    ca, cert, key = make_test_ca(os.path.join(args.work, "ca"))
    nginx = Nginx(args.nginx, os.path.join(args.work, "nginx"))
    port = free_port()
    nginx.start([port], tls=(cert, key))
    try:
        base = "https://127.0.0.1:%d/ingest/" % port
        probe = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{ssl_verify_result}", "--tlsv1.3",
                                "--cacert", ca, "--data-binary", "{}", base + "probe"], capture_output=True, text=True)
        if probe.stdout != "204 0":
            raise VerificationError("TLS probe answered %r: %s" % (probe.stdout, probe.stderr))
        jobs = [(base + str(n), small_body(n)) for n in range(1, count + 1)]
        config = os.path.join(args.work, "config")
        write_config(config, [base], {"concurrency": PARALLEL, "perHostConcurrency": PARALLEL, "tls": {"caFile": ca}})
        curl_file = os.path.join(args.work, "tls.curl")
        curl_config(curl_file, jobs, 'cacert = "%s"\n' % ca)
        spool = os.path.join(args.work, "spool")
        log("nginx TLS 1.3 (test CA, P-256) on 127.0.0.1:%d; %d jobs; concurrency %d" % (port, count, PARALLEL))
        drains, curls = [], []
        cpu = {"drain": [], "curl": [], "nginx with drain": [], "nginx with curl": []}
        for pair in range(1, args.pairs + 1):
            make_spool(spool, jobs)
            before = nginx.worker_cpu_seconds()
            m = drain(args, spool, config)
            cpu["nginx with drain"].append(nginx.worker_cpu_seconds() - before)
            delivered = delivered_count(spool)
            if delivered != count:
                raise VerificationError("drain delivered %d of %d" % (delivered, count))
            before = nginx.worker_cpu_seconds()
            c = run_measured(curl_parallel(curl_file), args.work)
            cpu["nginx with curl"].append(nginx.worker_cpu_seconds() - before)
            ok = sum(1 for line in c.stdout.decode(errors="replace").split("\n") if line.startswith("204 "))
            if ok != count:
                raise VerificationError("curl got %d 204s of %d" % (ok, count))
            drains.append(count / m.wall)
            curls.append(count / c.wall)
            cpu["drain"].append(m.cpu)
            cpu["curl"].append(c.cpu)
            log("pair %d: drain %.2f s (%.0f/s, peak %d MiB, CPU %.2f s, nginx %.2f s), "
                "curl --parallel %.2f s (%.0f/s, CPU %.2f s, nginx %.2f s)"
                % (pair, m.wall, count / m.wall, m.maxrss_kib // 1024, m.cpu, cpu["nginx with drain"][-1],
                   c.wall, count / c.wall, c.cpu, cpu["nginx with curl"][-1]))
        # Judged like scripts/bench's own target 1: the median of the pairs' ratios, each pair
        # run back to back, so a drift in the machine's load weighs on both sides of a ratio.
        ratios = [d / c for d, c in zip(drains, curls)]
        ratio = median(ratios)
        log()
        log("CPU (medians, user + system): drain %.2f s with nginx %.2f s; curl --parallel %.2f s with nginx %.2f s"
            % tuple(median(cpu[k]) for k in ("drain", "nginx with drain", "curl", "nginx with curl")))
        log("pair ratios: " + "  ".join("%.2fx" % r for r in ratios))
        log("medians: drain %.0f/s, curl --parallel --cacert %.0f/s (ratio of medians %.2fx); "
            "median of pair ratios %.2fx (target >= 1.0x): %s"
            % (median(drains), median(curls), median(drains) / median(curls), ratio, verdict(ratio >= 1.0)))
    finally:
        nginx.stop()


# ---------------------------------------------------------------- --steady

def steady(args):
    """Each sender's start and steady rate, from nginx's stamps, over plain HTTP and TLS."""
    count = args.jobs or 10000
    ca, cert, key = make_test_ca(os.path.join(args.work, "ca"))
    transports = []
    try:
        for name in ("plain", "tls"):
            nginx = Nginx(args.nginx, os.path.join(args.work, "nginx-" + name))
            port = free_port()
            stamp_log = os.path.join(args.work, "stamps-%s.log" % name)
            nginx.start([port], tls=(cert, key) if name == "tls" else None, stamp_log=stamp_log)
            transports.append((name, nginx, port, stamp_log))
        log("nginx on 127.0.0.1 over plain HTTP and TLS 1.3 (test CA), each request stamped ($msec); "
            "%d jobs; concurrency %d" % (count, PARALLEL))
        results = {}
        for round_number in range(1, args.pairs + 1):
            for name, _, port, stamp_log in transports:
                base = "%s://127.0.0.1:%d/ingest/" % ("https" if name == "tls" else "http", port)
                jobs = [(base + str(n), small_body(n)) for n in range(1, count + 1)]
                folder = os.path.join(args.work, name)
                config, curl_file, spool = (os.path.join(folder, part) for part in ("config", "curl", "spool"))
                if round_number == 1:
                    os.makedirs(folder, exist_ok=True)
                    settings = {"concurrency": PARALLEL, "perHostConcurrency": PARALLEL}
                    if name == "tls":
                        settings["tls"] = {"caFile": ca}
                    write_config(config, [base], settings)
                    curl_config(curl_file, jobs, 'cacert = "%s"\n' % ca if name == "tls" else "")
                order = ("drain", "curl") if round_number % 2 else ("curl", "drain")
                parts = []
                for sender in order:
                    if sender == "drain":
                        make_spool(spool, jobs)
                        open(stamp_log, "w").close()
                        m = drain(args, spool, config)
                        delivered = delivered_count(spool)
                        if delivered != count:
                            raise VerificationError("%s drain delivered %d of %d" % (name, delivered, count))
                    else:
                        spools.settle()
                        open(stamp_log, "w").close()
                        m = run_measured(curl_parallel(curl_file), args.work)
                    times = answer_times(stamp_log, m.started)
                    if len(times) != count:
                        raise VerificationError("%s %s: nginx answered %d of %d" % (name, sender, len(times), count))
                    run = (m.wall, times[0], (count - 1) / max(times[-1] - times[0], 1e-6))
                    results.setdefault((name, sender), []).append(run)
                    parts.append("%s %.2f s (first answer after %.0f ms, then %.0f/s)"
                                 % (sender, run[0], run[1] * 1000, run[2]))
                log("round %d, %s: %s" % (round_number, name, "; ".join(parts)))
        log()
        for name, _, _, _ in transports:
            drains, curls = results[(name, "drain")], results[(name, "curl")]
            wall = [median([r[0] for r in runs]) for runs in (drains, curls)]
            first = [median([r[1] for r in runs]) * 1000 for runs in (drains, curls)]
            rate = [median([r[2] for r in runs]) for runs in (drains, curls)]
            log("medians, %s: whole run %.2fx curl (%.3f against %.3f s); first answer after %.0f ms (curl %.0f ms); "
                "from the first answer to the last %.2fx curl (%.0f against %.0f per second)"
                % (name, wall[1] / wall[0], wall[0], wall[1], first[0], first[1], rate[0] / rate[1], rate[0], rate[1]))
    finally:
        for _, nginx, _, _ in transports:
            nginx.stop()


# ---------------------------------------------------------------- --big

def big(args):
    receiver = Receiver(rules=[Rule(delay=2.0)])
    nginx = Nginx(args.nginx, os.path.join(args.work, "nginx"))
    port = free_port()
    nginx.start([port])
    try:
        slow_base = "http://127.0.0.1:%d/ingest/" % receiver.port
        fast_base = "http://127.0.0.1:%d/ingest/" % port
        config = os.path.join(args.work, "config")
        write_config(config, [slow_base, fast_base], {})
        spool = os.path.join(args.work, "spool")
        body = "y" * (9 * MIB)
        big_jobs = [(slow_base + str(n), body) for n in range(1, 101)]
        log("100 jobs of 9 MiB to a receiver answering 2 s after each request; default settings (concurrency 64)")
        make_spool(spool, big_jobs)
        m = drain(args, spool, config)
        delivered = delivered_count(spool)
        if delivered != 100:
            raise VerificationError("drain delivered %d of 100 big jobs" % delivered)
        peak_big = m.maxrss_kib / 1024
        log("drain: %.2f s, peak RSS %.0f MiB (target <= 320 MiB): %s" % (m.wall, peak_big, verdict(peak_big <= 320)))

        idle = run_burst(args, spool, config, big_jobs)
        log("run: RSS %.0f MiB at the last delivery, %.0f MiB 10 s later (target < 64 MiB): %s"
            % (idle[0], idle[1], verdict(idle[1] < 64)))

        small = [(fast_base + str(n), small_body(n)) for n in range(1, 100001)]
        make_spool(spool, small)
        m = drain(args, spool, config)
        delivered = delivered_count(spool)
        if delivered != 100000:
            raise VerificationError("drain delivered %d of 100,000 small jobs" % delivered)
        peak_small = m.maxrss_kib / 1024
        log("100,000 small jobs to nginx: drain %.2f s, peak RSS %.0f MiB (target <= 64 MiB): %s"
            % (m.wall, peak_small, verdict(peak_small <= 64)))
    finally:
        nginx.stop()
        receiver.stop()


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_burst(args, spool, config, jobs):
    """`outbound run` on an empty spool; the jobs renamed in at once; RSS at the last delivery
    and 10 s later."""
    make_spool(spool, [])
    staging = os.path.join(spool, "tmp")
    for n, (url, body) in enumerate(jobs, 1):
        with open(os.path.join(staging, "burst-%06d.json" % n), "w") as f:
            json.dump({"clientId": CLIENT_ID, "url": url, "body": body}, f, separators=(",", ":"))
    proc = subprocess.Popen([args.bin, "run", "--spool", spool, "--config", config], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        time.sleep(1)
        for n in range(1, len(jobs) + 1):
            name = "burst-%06d.json" % n
            os.rename(os.path.join(staging, name), os.path.join(spool, "incoming", name))
        deadline = time.monotonic() + 300
        while len(os.listdir(os.path.join(spool, "delivered"))) < len(jobs):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise VerificationError("run delivered %d of %d" % (len(os.listdir(os.path.join(spool, "delivered"))), len(jobs)))
            time.sleep(0.1)
        at_end = rss_mib(proc.pid)
        time.sleep(10)
        return at_end, rss_mib(proc.pid)
    finally:
        stop_group(proc)


def interrupted(signum, frame):
    raise KeyboardInterrupt()


def main(argv):
    parser = argparse.ArgumentParser(prog="estate.py")
    parser.add_argument("mode", choices=["estate", "tls", "big", "backlog", "storm", "steady"])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--nginx", required=True)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=0)
    args = parser.parse_args(argv)
    # SIGTERM from scripts/bench unwinds like Ctrl-C, so the receivers started here stop.
    signal.signal(signal.SIGTERM, interrupted)
    try:
        {"estate": estate, "tls": tls, "big": big, "backlog": backlog, "storm": storm,
         "steady": steady}[args.mode](args)
    except (VerificationError, ProcessError, spools.AuditError) as error:
        log("bench: %s" % error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
