#!/usr/bin/env python3
"""The measuring half of scripts/bench: spools, curl configs, timing, receivers, reports.

Run by scripts/bench, which installs and starts nginx, builds outbound and owns the work
folder; this file is not meant to be run by hand. Modes:

  throughput     outbound drain vs curl --parallel over identical requests, alternating
                 (targets 1 and 2); the receiver is the nginx that scripts/bench started
  scaling        outbound drain of 10,000 vs 100,000 jobs, alternating (targets 5 and 2)
  latency        outbound run, jobs renamed into incoming/ one at a time; an in-process
                 receiver stamps arrivals (target 3)
  first-request  outbound drain over N queued jobs; time from process start to the first
                 request at an in-process receiver (target 4)
  baselines      outbound drain beside the README's senders against the same nginx: curl
                 --parallel, one sequential curl, xargs -P 8 curl per file, a shell loop of
                 curl per file, and wrk GET (the raw loopback limit)

Spools, configs, the in-process receiver and the measuring of one command come from
scripts/lib/ (outbound_spool.py, receiver.py, processes.py).

Only 127.0.0.1 is ever contacted. Exit status: 0 every check passed (targets missed are
reported, not failures), 1 a verification failed, 2 bad usage.
"""
import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import outbound_spool as spools  # noqa: E402
from outbound_spool import AuditError, audit_events, counts as census, job_id, json_files, settle  # noqa: E402
from outbound_spool import describe as describe_spool  # noqa: E402
from processes import interrupt_on_sigterm, run_measured, stop_process  # noqa: E402
from receiver import Receiver  # noqa: E402

CLIENT_ID = "b3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
BODY_BYTES = 500
PARALLEL = 64
MIB = 1024 * 1024
RSS_TARGET_MIB = 64


class VerificationError(Exception):
    pass


def log(line=""):
    print(line, flush=True)


def heading(text):
    log()
    log("== %s ==" % text)


def verdict(met):
    return "MET" if met else "NOT MET"


def fmt_rate(x):
    return "%.0f" % x


def percentile(sorted_values, p):
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[rank - 1]


# ---------------------------------------------------------------- config, jobs, spools

def write_config(folder, port):
    spools.write_config(folder, ["http://127.0.0.1:%d/ingest/" % port],
                        {"concurrency": PARALLEL, "perHostConcurrency": PARALLEL},
                        client_id=CLIENT_ID, application="Bench Receiver")


def body_text(n):
    """About 500 bytes of JSON text (exactly BODY_BYTES), different for every job."""
    doc = {
        "messageType": "ADT^A08",
        "sequence": n,
        "patient": {"mrn": "MRN%08d" % n, "family": "Example", "given": "Pat",
                    "birthDate": "1970-01-01", "sex": "U"},
        "encounter": {"id": "ENC%010d" % n, "location": "WARD-7B^Bed-12", "class": "inpatient"},
        "note": "",
    }
    length = len(json.dumps(doc, separators=(",", ":")))
    doc["note"] = "x" * max(0, BODY_BYTES - length)
    return json.dumps(doc, separators=(",", ":"))


def job_url(port, n):
    return "http://127.0.0.1:%d/ingest/%d" % (port, n)


def job_bytes(port, n):
    return spools.job(job_url(port, n), body_text(n), client_id=CLIENT_ID)


def make_spool(root, port, count):
    """A fresh spool at `root` with `count` jobs in incoming/. Built beside it and renamed
    into place whole, so nothing ever sees a half-written job."""
    spools.make_spool(root, ((job_id(n) + ".json", job_bytes(port, n)) for n in range(1, count + 1)))


def curl_quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def curl_entry(port, n, user_agent):
    """A curl config entry for job n: the same method, URL, headers and body outbound sends."""
    return "".join([
        "url = %s\n" % curl_quote(job_url(port, n)),
        "data-binary = %s\n" % curl_quote(body_text(n)),
        "header = %s\n" % curl_quote("Epic-Client-ID: " + CLIENT_ID),
        "header = %s\n" % curl_quote("Idempotency-Key: " + job_id(n)),
        "header = %s\n" % curl_quote("Content-Type: application/json"),
        "user-agent = %s\n" % curl_quote(user_agent),
        'output = "/dev/null"\n',
        'write-out = "%{http_code}\\n"\n',
    ])


def write_curl_config(path, port, count, user_agent):
    """One entry per job, separated by `next`."""
    with open(path, "w") as f:
        for n in range(1, count + 1):
            f.write(curl_entry(port, n, user_agent))
            if n < count:
                f.write("next\n")


def write_curl_files(folder, port, count, user_agent):
    """One curl config file per job (job-000001.curl, ...), each a single entry."""
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    for n in range(1, count + 1):
        with open(os.path.join(folder, job_id(n) + ".curl"), "w") as f:
            f.write(curl_entry(port, n, user_agent))


# ---------------------------------------------------------------- verifying a spool

def verify_all_delivered(spool, count, what):
    """Every job in delivered/, nothing anywhere else, one `delivered` audit line each."""
    counts = census(spool)
    problems = []
    if counts["delivered"] != count:
        problems.append("delivered/ holds %d jobs, expected %d" % (counts["delivered"], count))
    strays = {k: v for k, v in counts.items() if k != "delivered" and v}
    if strays:
        problems.append("jobs left elsewhere: %s" % ", ".join("%s/ %d" % kv for kv in strays.items()))
    durations = []
    events = audit_events(spool, durations)
    delivered = events.get("delivered", [])
    unique = set(delivered)
    if len(delivered) != count or len(unique) != count:
        problems.append("audit log has %d 'delivered' lines for %d distinct jobs, expected %d"
                        % (len(delivered), len(unique), count))
    expected = {job_id(n) for n in range(1, count + 1)}
    if unique and unique != expected and len(unique) == count:
        problems.append("audit 'delivered' jobs differ from the queued ids")
    on_disk = {os.path.basename(p)[:-5] for p in json_files(os.path.join(spool, "delivered"))}
    missing_lines = on_disk - unique
    if missing_lines:
        problems.append("%d jobs in delivered/ without a 'delivered' audit line (e.g. %s)"
                        % (len(missing_lines), sorted(missing_lines)[0]))
    for other in ("failed", "refused", "corrupt", "deferred"):
        if events.get(other):
            problems.append("audit log has %d '%s' lines" % (len(events[other]), other))
    if problems:
        raise VerificationError("%s: %s" % (what, "; ".join(problems)))
    return sorted(durations)


def describe_durations(durations):
    """The audit log's per-attempt `ms`, summarised: slow outliers show up here."""
    if not durations:
        return "no ms in audit"
    slow = sum(1 for d in durations if d > 500)
    return "attempt ms p50 %d max %d, %d over 500 ms" % (percentile(durations, 50), durations[-1], slow)


def tail(data, lines=15):
    text = data.decode("utf-8", "replace").rstrip("\n")
    return "\n".join("    | " + line for line in text.splitlines()[-lines:])


# ---------------------------------------------------------------- throughput (targets 1, 2)

def outbound_version(binary):
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
        return out.split()[-1] if out else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def run_curl(args, curl_config, count, tag):
    cmd = ["curl", "--parallel", "--parallel-max", str(PARALLEL), "-s", "-K", curl_config]
    m = run_measured(cmd, args.work, tag, args.rusage)
    check_204s(m, count, "curl run %s" % tag)
    return m


def run_drain(args, spool, config, count, tag):
    cmd = [args.bin, "drain", "--quiet", "--spool", spool, "--config", config]
    m = run_measured(cmd, args.work, tag, args.rusage)
    if m.rc != 0:
        raise VerificationError("outbound drain %s exited %d; spool: %s\n  stdout:\n%s\n  stderr:\n%s"
                                % (tag, m.rc, describe_spool(spool), tail(m.stdout), tail(m.stderr)))
    m.durations = verify_all_delivered(spool, count, "outbound drain %s" % tag)
    return m


def throughput(args):
    count, pairs, port = args.jobs, args.pairs, args.port
    config = os.path.join(args.work, "config")
    write_config(config, port)
    version = outbound_version(args.bin)
    curl_config = os.path.join(args.work, "curl.config")
    log("receiver     nginx on http://127.0.0.1:%d/ingest/ (answers 204)" % port)
    log("requests     %d POSTs, %d-byte JSON bodies, Epic-Client-ID + Idempotency-Key headers" % (count, BODY_BYTES))
    log("outbound     %s drain --quiet (concurrency %d, perHostConcurrency %d, audit durable)"
        % (args.bin, PARALLEL, PARALLEL))
    log("baseline     curl --parallel --parallel-max %d -s -K curl.config (one process, no files, no audit)" % PARALLEL)
    log("peak RSS by  %s" % ("GNU time" if args.rusage == "gnu-time" else "a python wait4 wrapper (upper bound)"))
    t = time.monotonic()
    write_curl_config(curl_config, port, count, "outbound/" + version)
    log("curl config  %d entries written in %.1f s" % (count, time.monotonic() - t))

    rows = []
    spool = os.path.join(args.work, "spool")
    for pair in range(1, pairs + 1):
        order = ["curl", "outbound"] if pair % 2 == 1 else ["outbound", "curl"]
        result = {}
        for side in order:
            if side == "outbound":
                t = time.monotonic()
                make_spool(spool, port, count)
                gen = time.monotonic() - t
                settle()
                m = run_drain(args, spool, config, count, "drain-%d" % pair)
                summary = m.stdout.decode("utf-8", "replace").strip().splitlines()
                result["outbound"] = m
                log("pair %d  outbound drain  %7.2f s  %8s jobs/s  peak RSS %6.1f MiB  CPU %6.2f s  (%s; spool made in %.1f s)"
                    % (pair, m.wall, fmt_rate(count / m.wall), m.maxrss_kib / 1024.0, m.cpu,
                       describe_durations(m.durations), gen))
                log("        %s" % (summary[-1] if summary else "(no summary line)"))
                shutil.rmtree(spool, ignore_errors=True)
            else:
                settle()
                m = run_curl(args, curl_config, count, "curl-%d" % pair)
                result["curl"] = m
                log("pair %d  curl --parallel %7.2f s  %8s req/s   peak RSS %6.1f MiB  CPU %6.2f s"
                    % (pair, m.wall, fmt_rate(count / m.wall), m.maxrss_kib / 1024.0, m.cpu))
        rows.append((pair, "-".join(order), result["curl"], result["outbound"]))

    heading("Results: %d jobs, %d pairs" % (count, pairs))
    log("%-5s %-14s %12s %15s %8s %13s %10s" % ("pair", "order", "curl req/s", "outbound jobs/s", "ratio",
                                                 "outbound RSS", "outb. CPU"))
    ratios, curl_rates, out_rates, rss = [], [], [], []
    for pair, order, c, o in rows:
        cr, orate = count / c.wall, count / o.wall
        ratios.append(orate / cr)
        curl_rates.append(cr)
        out_rates.append(orate)
        rss.append(o.maxrss_kib)
        log("%-5d %-14s %12s %15s %7.2fx %9.1f MiB %8.2f s" % (pair, order, fmt_rate(cr), fmt_rate(orate),
                                                                 orate / cr, o.maxrss_kib / 1024.0, o.cpu))
    med_curl, med_out, med_ratio = statistics.median(curl_rates), statistics.median(out_rates), statistics.median(ratios)
    peak = max(rss) / 1024.0
    log("%-5s %-14s %12s %15s %7.2fx %9.1f MiB" % ("med.", "", fmt_rate(med_curl), fmt_rate(med_out), med_ratio,
                                                   statistics.median(rss) / 1024.0))
    log()
    log("median curl --parallel   %s req/s" % fmt_rate(med_curl))
    log("median outbound drain    %s jobs/s" % fmt_rate(med_out))
    log("median of pair ratios    %.2fx   (ratio of medians %.2fx)" % (med_ratio, med_out / med_curl))
    log("outbound peak RSS        %.1f MiB (max over %d drains of %d jobs)" % (peak, pairs, count))
    log()
    note1 = "" if count == 10000 else "   [target is stated for 10,000 jobs; this run used %d]" % count
    log("target 1  drain >= 1.0x curl --parallel:   %.2fx  %s%s" % (med_ratio, verdict(med_ratio >= 1.0), note1))
    if count >= 100000:
        log("target 2  peak RSS <= %d MiB at 100,000:   %.1f MiB  %s" % (RSS_TARGET_MIB, peak, verdict(peak <= RSS_TARGET_MIB)))
    else:
        log("target 2  peak RSS <= %d MiB at 100,000:   not judged at %d jobs (%.1f MiB here); run --jobs 100000"
            % (RSS_TARGET_MIB, count, peak))
    if pairs < 3:
        log("note: targets call for at least 3 pairs; this run used %d" % pairs)
    log("all %d drains verified: every job in delivered/ with its 'delivered' audit line; "
        "all %d curl runs got %d x 204" % (pairs, pairs, count))
    return 0


# ---------------------------------------------------------------- scaling (targets 5, 2)

def scaling(args):
    sizes = (10000, 100000)
    port = args.port
    config = os.path.join(args.work, "config")
    write_config(config, port)
    spool = os.path.join(args.work, "spool")
    log("receiver     nginx on http://127.0.0.1:%d/ingest/ (answers 204)" % port)
    log("outbound     %s drain --quiet, %d and %d jobs alternately, %d rounds" % (args.bin, sizes[0], sizes[1], args.pairs))
    walls = {s: [] for s in sizes}
    rss = {s: [] for s in sizes}
    for round_ in range(1, args.pairs + 1):
        order = sizes if round_ % 2 == 1 else tuple(reversed(sizes))
        for size in order:
            t = time.monotonic()
            make_spool(spool, port, size)
            gen = time.monotonic() - t
            settle()
            m = run_drain(args, spool, config, size, "scale-%d-%d" % (round_, size))
            walls[size].append(m.wall)
            rss[size].append(m.maxrss_kib)
            log("round %d  %6d jobs  %7.2f s  %8s jobs/s  peak RSS %6.1f MiB  CPU %6.2f s  (%s; spool made in %.1f s)"
                % (round_, size, m.wall, fmt_rate(size / m.wall), m.maxrss_kib / 1024.0, m.cpu,
                   describe_durations(m.durations), gen))
            shutil.rmtree(spool, ignore_errors=True)
    heading("Results: scaling")
    small, big = statistics.median(walls[sizes[0]]), statistics.median(walls[sizes[1]])
    factor = big / small
    peak = max(rss[sizes[1]]) / 1024.0
    log("median %6d jobs  %7.2f s" % (sizes[0], small))
    log("median %6d jobs  %7.2f s" % (sizes[1], big))
    log("target 5  time(100,000) <= 12x time(10,000):  %.2fx  %s" % (factor, verdict(factor <= 12.0)))
    log("target 2  peak RSS <= %d MiB at 100,000:     %.1f MiB  %s" % (RSS_TARGET_MIB, peak, verdict(peak <= RSS_TARGET_MIB)))
    return 0


# ---------------------------------------------------------------- baselines (the README's table)

XARGS_PROCS = 8
WRK_CONNECTIONS = 32
WRK_SECONDS = 5


def check_204s(m, count, what):
    """Every request of a curl-based sender must have been answered 204, and curl (or the
    shell around it) must have exited 0."""
    codes = m.stdout.decode("ascii", "replace").split()
    ok = codes.count("204")
    if m.rc != 0 or ok != count:
        others = {}
        for c in codes:
            if c != "204":
                others[c] = others.get(c, 0) + 1
        raise VerificationError("%s: exit %d, %d of %d responses were 204 (others: %s)\n%s"
                                % (what, m.rc, ok, count, others or "none", tail(m.stderr)))


def run_sequential_curl(args, curl_config, count):
    m = run_measured(["curl", "-s", "-K", curl_config], args.work, "curl-seq", args.rusage)
    check_204s(m, count, "sequential curl")
    return m


def run_xargs_curl(args, folder, count):
    script = 'cd "$1" && printf "%%s\\n" *.curl | xargs -P %d -n 1 curl -s -K' % XARGS_PROCS
    m = run_measured(["sh", "-c", script, "sh", folder], args.work, "curl-xargs", args.rusage)
    check_204s(m, count, "xargs -P %d curl" % XARGS_PROCS)
    return m


def run_loop_curl(args, folder, count):
    script = 'cd "$1" && for f in *.curl; do curl -s -K "$f" || exit 1; done'
    m = run_measured(["sh", "-c", script, "sh", folder], args.work, "curl-loop", args.rusage)
    check_204s(m, count, "shell loop of curl")
    return m


def run_wrk(args, port, threads):
    """wrk GET against the same nginx. Returns (requests, seconds, rate, notes)."""
    url = "http://127.0.0.1:%d/ingest/1" % port
    cmd = [args.wrk, "-t", str(threads), "-c", str(WRK_CONNECTIONS), "-d", "%ds" % WRK_SECONDS, url]
    m = run_measured(cmd, args.work, "wrk", args.rusage)
    text = m.stdout.decode("utf-8", "replace")
    requests, seconds, notes = None, None, []
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 4 and words[1] == "requests" and words[2] == "in":
            requests = int(words[0])
            span = words[3].rstrip(",")
            factor = {"ms": 0.001, "us": 0.000001, "m": 60.0, "s": 1.0}
            for unit in ("ms", "us", "m", "s"):
                if span.endswith(unit):
                    seconds = float(span[:-len(unit)]) * factor[unit]
                    break
        elif line.strip().startswith(("Socket errors", "Non-2xx")):
            notes.append(line.strip())
    if m.rc != 0 or not requests or not seconds:
        raise VerificationError("wrk: exit %d, could not read its request count\n%s\n%s"
                                % (m.rc, tail(m.stdout), tail(m.stderr)))
    return requests, seconds, requests / seconds, notes, m


def baselines(args):
    count, pairs, port = args.jobs, args.pairs, args.port
    xargs_jobs, loop_jobs = args.xargs_jobs, args.loop_jobs
    config = os.path.join(args.work, "config")
    write_config(config, port)
    version = outbound_version(args.bin)
    user_agent = "outbound/" + version
    threads = max(1, min(os.cpu_count() or 1, WRK_CONNECTIONS))
    log("receiver     nginx on http://127.0.0.1:%d/ingest/ (answers 204)" % port)
    log("requests     POSTs, %d-byte JSON bodies, Epic-Client-ID + Idempotency-Key headers, the same for every sender"
        % BODY_BYTES)
    log("repeated     outbound drain and curl --parallel: %d jobs, alternately, %d pairs (medians)" % (count, pairs))
    log("once         curl -K sequential (%d jobs), xargs -P %d (%d jobs), shell loop (%d jobs), wrk GET %d s; "
        "run after pair %d" % (count, XARGS_PROCS, xargs_jobs, loop_jobs, WRK_SECONDS, (pairs + 1) // 2))
    t = time.monotonic()
    curl_config = os.path.join(args.work, "curl.config")
    write_curl_config(curl_config, port, count, user_agent)
    xargs_dir = os.path.join(args.work, "curl-xargs")
    loop_dir = os.path.join(args.work, "curl-loop")
    write_curl_files(xargs_dir, port, xargs_jobs, user_agent)
    write_curl_files(loop_dir, port, loop_jobs, user_agent)
    log("curl input   one config of %d entries, %d + %d one-entry files, written in %.1f s"
        % (count, xargs_jobs, loop_jobs, time.monotonic() - t))

    once = []  # (label, jobs text, seconds, rate)
    spool = os.path.join(args.work, "spool")

    def run_once_baselines():
        settle()
        m = run_sequential_curl(args, curl_config, count)
        log("once    curl -K sequential   %7.2f s  %8s req/s   (%d requests, CPU %.2f s)"
            % (m.wall, fmt_rate(count / m.wall), count, m.cpu))
        once.append(("one curl process, sequential, keep-alive", str(count), m.wall, count / m.wall))
        settle()
        m = run_xargs_curl(args, xargs_dir, xargs_jobs)
        log("once    xargs -P %d curl      %7.2f s  %8s req/s   (%d requests, one curl each)"
            % (XARGS_PROCS, m.wall, fmt_rate(xargs_jobs / m.wall), xargs_jobs))
        once.append(("xargs -P %d curl, one process per file" % XARGS_PROCS, str(xargs_jobs), m.wall, xargs_jobs / m.wall))
        settle()
        m = run_loop_curl(args, loop_dir, loop_jobs)
        log("once    shell loop of curl   %7.2f s  %8s req/s   (%d requests, one curl each)"
            % (m.wall, fmt_rate(loop_jobs / m.wall), loop_jobs))
        once.append(("shell loop, one curl per file", str(loop_jobs), m.wall, loop_jobs / m.wall))
        if args.wrk:
            settle()
            requests, seconds, rate, notes, _ = run_wrk(args, port, threads)
            log("once    wrk GET              %7.2f s  %8s req/s   (%d requests, %d connections, %d threads)%s"
                % (seconds, fmt_rate(rate), requests, WRK_CONNECTIONS, threads,
                   ("; " + "; ".join(notes)) if notes else ""))
            once.append(("raw loopback: wrk GET, %d connections, %d threads" % (WRK_CONNECTIONS, threads),
                         str(requests), seconds, rate))
        else:
            log("once    wrk                  skipped: %s" % (args.wrk_missing or "not installed"))

    rows = []
    for pair in range(1, pairs + 1):
        order = ["curl", "outbound"] if pair % 2 == 1 else ["outbound", "curl"]
        result = {}
        for side in order:
            if side == "outbound":
                make_spool(spool, port, count)
                settle()
                m = run_drain(args, spool, config, count, "drain-%d" % pair)
                result["outbound"] = m
                log("pair %d  outbound drain      %7.2f s  %8s jobs/s  (peak RSS %.1f MiB, CPU %.2f s; %s)"
                    % (pair, m.wall, fmt_rate(count / m.wall), m.maxrss_kib / 1024.0, m.cpu,
                       describe_durations(m.durations)))
                shutil.rmtree(spool, ignore_errors=True)
            else:
                settle()
                m = run_curl(args, curl_config, count, "curl-%d" % pair)
                result["curl"] = m
                log("pair %d  curl --parallel     %7.2f s  %8s req/s   (CPU %.2f s)"
                    % (pair, m.wall, fmt_rate(count / m.wall), m.cpu))
        rows.append((result["curl"], result["outbound"]))
        if pair == (pairs + 1) // 2:
            run_once_baselines()

    curl_walls = [c.wall for c, _ in rows]
    out_walls = [o.wall for _, o in rows]
    ratios = [(count / o.wall) / (count / c.wall) for c, o in rows]
    med_curl = statistics.median(count / w for w in curl_walls)
    med_out = statistics.median(count / w for w in out_walls)
    med_ratio = statistics.median(ratios)

    heading("Results: baselines (outbound drain %d jobs, median of %d)" % (count, pairs))
    table = [("curl --parallel --parallel-max %d -K config" % PARALLEL, "%d x%d" % (count, pairs),
              statistics.median(curl_walls), med_curl, med_ratio, "*")]
    table += [(label, jobs, secs, rate, med_out / rate, "") for label, jobs, secs, rate in once]
    table.append(("outbound drain (durable audit, files moved)", "%d x%d" % (count, pairs),
                  statistics.median(out_walls), med_out, 1.0, ""))
    width = max(len(r[0]) for r in table)
    log("%-*s  %12s  %8s  %9s  %10s" % (width, "sender", "jobs", "seconds", "rate/s", "outbound"))
    for label, jobs, secs, rate, ratio, mark in table:
        log("%-*s  %12s  %8.2f  %9s  %9.2fx%s" % (width, label, jobs, secs, fmt_rate(rate), ratio, mark))
    log()
    log("rate: requests (jobs) per second; seconds and rate of the repeated rows are medians.")
    log("outbound: outbound drain's median jobs/s divided by the sender's rate;")
    log("  * for curl --parallel, the median of the %d pair ratios (ratio of medians %.2fx)" % (pairs, med_out / med_curl))
    log("pair ratios  " + "  ".join("%.2fx" % r for r in ratios))
    log("outbound peak RSS %.1f MiB (max over %d drains of %d jobs)" % (max(o.maxrss_kib for _, o in rows) / 1024.0,
                                                                       pairs, count))
    note1 = "" if count == 10000 else "   [target is stated for 10,000 jobs; this run used %d]" % count
    log("target 1  drain >= 1.0x curl --parallel:   %.2fx  %s%s" % (med_ratio, verdict(med_ratio >= 1.0), note1))
    log("verified: every drain put all %d jobs in delivered/ with their 'delivered' audit lines; "
        "every curl-based sender got 204 for each request" % count)
    return 0


# ---------------------------------------------------------------- processes

def wait_for_audit_event(spool, event, timeout, proc):
    path = os.path.join(spool, "audit.jsonl")
    needle = ('"event":"%s"' % event).encode()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with open(path, "rb") as f:
                if needle in f.read().replace(b" ", b""):
                    return True
        except OSError:
            pass
        time.sleep(0.01)
    return False


def read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


# ---------------------------------------------------------------- latency (target 3)

def write_job_into(spool, n, port, name=None):
    name = name or job_id(n)
    tmp_path = os.path.join(spool, "tmp", name + ".json")
    with open(tmp_path, "wb") as f:
        f.write(job_bytes(port, n))
    return tmp_path, os.path.join(spool, "incoming", name + ".json")


def latency(args):
    receiver = Receiver(poll_interval=0.2, server_version="outbound-bench-receiver")
    proc = None
    try:
        port = receiver.port
        config = os.path.join(args.work, "config")
        write_config(config, port)
        spool = os.path.join(args.work, "spool")
        shutil.rmtree(spool, ignore_errors=True)
        os.makedirs(os.path.join(spool, "tmp"))
        os.makedirs(os.path.join(spool, "incoming"))
        count, interval, warmup = args.jobs, args.interval_ms / 1000.0, args.warmup
        log("receiver     python in-process on http://127.0.0.1:%d/ingest/ (answers 204, stamps request lines)" % port)
        log("outbound     %s run (concurrency %d, perHostConcurrency %d)" % (args.bin, PARALLEL, PARALLEL))
        log("jobs         %d measured, one every %d ms, after %d warm-up jobs (not counted); "
            "stamp taken just before rename(tmp/ -> incoming/)" % (count, args.interval_ms, warmup))
        out_path, err_path = os.path.join(args.work, "run.stdout"), os.path.join(args.work, "run.stderr")
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen([args.bin, "run", "--spool", spool, "--config", config],
                                    stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        if not wait_for_audit_event(spool, "started", 15, proc):
            raise VerificationError("outbound run did not write 'started' within 15 s (exit %s)\n%s"
                                    % (proc.poll(), tail(read_text(err_path))))

        warm = []
        for w in range(1, warmup + 1):
            n = 900000 + w
            tmp_path, final = write_job_into(spool, n, port, name="warm-%03d" % w)
            t0 = time.monotonic()
            os.rename(tmp_path, final)
            arrived = receiver.wait_for("warm-%03d" % w, 10)
            if arrived is None:
                raise VerificationError("warm-up job %d never reached the receiver within 10 s; spool: %s"
                                        % (w, describe_spool(spool)))
            warm.append((arrived - t0) * 1000)
            time.sleep(interval)

        # Measured jobs: renamed into incoming/ on a fixed schedule, not waiting for arrivals.
        sent = {}
        start = time.monotonic()
        for n in range(1, count + 1):
            tmp_path, final = write_job_into(spool, n, port)
            t0 = time.monotonic()
            os.rename(tmp_path, final)
            sent[job_id(n)] = t0
            due = start + n * interval
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        deadline = time.monotonic() + 10
        missing = list(sent)
        while missing and time.monotonic() < deadline:
            missing = [k for k in missing if receiver.wait_for(k, 0) is None]
            if missing:
                time.sleep(0.05)

        latencies = sorted((receiver.arrived[k] - t0) * 1000 for k, t0 in sent.items()
                           if k in receiver.arrived)
        time.sleep(0.3)  # let the last outcomes reach delivered/
        rc, took = stop_process(proc, 30)
        stop_err = read_text(err_path)

        heading("Results: latency, %d jobs one at a time" % count)
        if warm:
            log("warm-up      " + "  ".join("%.2f" % w for w in warm) + " ms (not counted)")
        if latencies:
            p50, p90, p99 = percentile(latencies, 50), percentile(latencies, 90), percentile(latencies, 99)
            log("rename -> request line at receiver, over %d jobs:" % len(latencies))
            log("  min %.2f  p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  mean %.2f ms"
                % (latencies[0], p50, p90, p99, latencies[-1], statistics.fmean(latencies)))
            slow = sum(1 for x in latencies if x > 50)
            if slow:
                log("  %d jobs took over 50 ms" % slow)
            log("target 3  p50 <= 5 ms, p99 <= 50 ms:  p50 %.2f ms %s, p99 %.2f ms %s  -> %s"
                % (p50, "ok" if p50 <= 5 else "over", p99, "ok" if p99 <= 50 else "over",
                   verdict(p50 <= 5 and p99 <= 50)))
        log("outbound run stopped by SIGTERM in %.2f s, exit %s" % (took, rc))

        problems = []
        if missing:
            problems.append("%d of %d jobs never reached the receiver within 10 s (e.g. %s); spool: %s"
                            % (len(missing), count, missing[0], describe_spool(spool)))
        if rc != 0:
            problems.append("outbound run exited %s after SIGTERM, expected 0\n%s" % (rc, tail(stop_err)))
        if not missing:
            try:
                total = count + warmup
                counts = census(spool)
                events = audit_events(spool)
                if counts["delivered"] != total or sum(counts.values()) != total:
                    problems.append("expected %d jobs in delivered/, spool has: %s" % (total, describe_spool(spool)))
                if len(set(events.get("delivered", []))) != total:
                    problems.append("audit log has %d distinct 'delivered' jobs, expected %d"
                                    % (len(set(events.get("delivered", []))), total))
                if "stopped" not in events:
                    problems.append("audit log has no 'stopped' line after SIGTERM")
            except AuditError as e:
                problems.append(str(e))
        if problems:
            raise VerificationError("latency run: " + "\n  ".join(problems))
        log("verified: all %d jobs in delivered/ with 'delivered' audit lines, 'stopped' written, exit 0"
            % (count + warmup))
        return 0
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        receiver.stop()


# ---------------------------------------------------------------- first request (target 4)

def first_request(args):
    receiver = Receiver(poll_interval=0.2, server_version="outbound-bench-receiver")
    proc = None
    try:
        port = receiver.port
        count = args.jobs
        config = os.path.join(args.work, "config")
        write_config(config, port)
        spool = os.path.join(args.work, "spool")
        log("receiver     python in-process on http://127.0.0.1:%d/ingest/ (answers 204)" % port)
        log("outbound     %s drain --quiet over %d queued jobs" % (args.bin, count))
        t = time.monotonic()
        make_spool(spool, port, count)
        log("spool        %d jobs in incoming/, made in %.1f s" % (count, time.monotonic() - t))
        settle()
        out_path, err_path = os.path.join(args.work, "drain.stdout"), os.path.join(args.work, "drain.stderr")
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            t0 = time.monotonic()
            proc = subprocess.Popen([args.bin, "drain", "--quiet", "--spool", spool, "--config", config],
                                    stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        limit = args.first_timeout
        seen = False
        while time.monotonic() - t0 < limit:
            if receiver.first_event.wait(0.05):
                seen = True
                break
            if proc.poll() is not None:
                seen = receiver.first_event.is_set()
                break
        first_ms = (receiver.first - t0) * 1000 if seen else None
        if not seen and proc.poll() is not None:
            raise VerificationError("outbound drain exited %d before sending anything\n%s"
                                    % (proc.returncode, tail(read_text(err_path))))
        at_stop = receiver.requests
        rc, took = stop_process(proc, 60)
        received = len(receiver.arrived)

        heading("Results: first request, %d jobs queued" % count)
        if first_ms is None:
            log("no request reached the receiver within %d s" % limit)
            log("target 4  first request within 1 s:  > %d s  NOT MET" % limit)
        else:
            log("process start -> first request line at receiver: %.1f ms" % first_ms)
            log("target 4  first request within 1 s:  %.0f ms  %s%s"
                % (first_ms, verdict(first_ms <= 1000),
                   "" if count == 100000 else "   [target is stated for 100,000 jobs; this run used %d]" % count))
        log("then SIGTERM: drain stopped in %.2f s, exit %s; %d requests had arrived when it was signalled, "
            "%d distinct jobs in all" % (took, rc, at_stop, received))

        problems = []
        if rc not in (0, 75):
            problems.append("outbound drain exited %s after SIGTERM, expected 75 (stopped) or 0 (finished)\n%s"
                            % (rc, tail(read_text(err_path))))
        counts = census(spool)
        log("spool after the stop: %s" % describe_spool(spool))
        if sum(counts.values()) != count:
            problems.append("the spool holds %d jobs, %d were queued" % (sum(counts.values()), count))
        if counts["active"]:
            problems.append("%d claims left in active/ after a clean stop" % counts["active"])
        for bad in ("failed", "refused", "corrupt", "deferred"):
            if counts[bad]:
                problems.append("%d jobs in %s/" % (counts[bad], bad))
        try:
            events = audit_events(spool)
            lines = set(events.get("delivered", []))
            on_disk = {os.path.basename(p)[:-5] for p in json_files(os.path.join(spool, "delivered"))}
            if on_disk - lines:
                problems.append("%d jobs in delivered/ without a 'delivered' audit line" % len(on_disk - lines))
            if lines - on_disk:
                problems.append("%d 'delivered' audit lines for jobs not in delivered/" % len(lines - on_disk))
            if on_disk - set(receiver.arrived):
                problems.append("%d jobs in delivered/ never reached the receiver" % len(on_disk - set(receiver.arrived)))
            if "stopped" not in events:
                problems.append("audit log has no 'stopped' line")
        except AuditError as e:
            problems.append(str(e))
        if problems:
            raise VerificationError("first-request run: " + "\n  ".join(problems))
        log("verified: no job lost or duplicated across folders, active/ empty, delivered/ matches the audit log")
        return 0
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        receiver.stop()


# ---------------------------------------------------------------- main

def main(argv):
    parser = argparse.ArgumentParser(prog="bench.py")
    parser.add_argument("mode", choices=["throughput", "scaling", "latency", "first-request", "baselines"])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=10000)
    parser.add_argument("--pairs", type=int, required=True)  # scripts/bench picks the default
    parser.add_argument("--interval-ms", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--first-timeout", type=int, default=120)
    parser.add_argument("--rusage", choices=["gnu-time", "python"], default="gnu-time")
    parser.add_argument("--xargs-jobs", type=int, default=1000)
    parser.add_argument("--loop-jobs", type=int, default=300)
    parser.add_argument("--wrk", default="", help="wrk binary for --baselines; empty skips wrk")
    parser.add_argument("--wrk-missing", default="", help="why wrk is skipped, for the report")
    args = parser.parse_args(argv)

    interrupt_on_sigterm()

    modes = {"throughput": throughput, "scaling": scaling, "latency": latency, "first-request": first_request,
             "baselines": baselines}
    try:
        return modes[args.mode](args)
    except (VerificationError, AuditError) as e:
        log()
        log("VERIFICATION FAILED: %s" % e)
        return 1
    except KeyboardInterrupt:
        log()
        log("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
