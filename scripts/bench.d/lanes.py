#!/usr/bin/env python3
"""Ordered-lane benchmarks for scripts/bench --lanes (issue 17), all on 127.0.0.1.

  lanes.py --bin B --work W --nginx N [--pairs P]
      One nginx answering 204, logging "$msec $http_idempotency_key" per request (the order
      it answered them: a lane has one request out at a time, so this is its arrival order).
      Alternating, --pairs times: outbound drain of 10,000 jobs without orderingKey, and of
      10,000 jobs in 1,000 lanes (10 each, files created in random order). Then --pairs
      drains of one lane of 2,000 jobs. Every lane run is checked: each job delivered once,
      and each lane's jobs answered in file-name order.
      Targets: 1,000 lanes >= 0.7x the unordered rate; one lane >= 1,000 jobs/s.

Exit status 0 when every run verified (a missed target prints NOT MET), 1 otherwise.
"""

import argparse
import os
import random
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import outbound_spool as spools  # noqa: E402
from estate import CLIENT_ID, VerificationError, log, median, small_body, verdict, write_config  # noqa: E402
from processes import Nginx, ProcessError, free_port, run_measured  # noqa: E402

PARALLEL = 64


def start_nginx(binary, folder, port, stamp_log):
    """nginx answering 204 on `port`, logging "$msec $http_idempotency_key" per answer."""
    nginx = Nginx(binary, folder)
    nginx.start([port], stamp_log=stamp_log, log_format="$msec $http_idempotency_key",
                log_buffer="buffer=256k flush=1s")
    return nginx


def make_spool(root, jobs):
    """`jobs`: [(name, job dict)], written in the order given (shuffle it for random order)."""
    spools.make_spool(root, jobs)
    spools.settle()


def lane_jobs(port, count, lanes):
    jobs = []
    for n in range(count):
        job = {"clientId": CLIENT_ID, "url": "http://127.0.0.1:%d/ingest/%d" % (port, n), "body": small_body(n)}
        if lanes:
            job["orderingKey"] = "patient-%05d" % (n % lanes)
        jobs.append(("e-%07d.json" % n, job))
    random.shuffle(jobs)
    return jobs


def answered(stamp_log, since):
    """Idempotency keys nginx answered after offset `since`, in order."""
    with open(stamp_log, "rb") as f:
        f.seek(since)
        return [line.split()[1].decode() for line in f.read().splitlines() if len(line.split()) == 2]


def run(args, port, stamp_log, count, lanes, tag):
    spool = os.path.join(args.work, "spool-" + tag)
    config = os.path.join(args.work, "config")
    make_spool(spool, lane_jobs(port, count, lanes))
    since = os.path.getsize(stamp_log) if os.path.exists(stamp_log) else 0
    m = run_measured([args.bin, "drain", "--quiet", "--spool", spool, "--config", config], args.work)
    if m.rc != 0:
        raise VerificationError("%s: drain exited %d: %s" % (tag, m.rc, m.stderr.decode(errors="replace")[-2000:]))
    delivered = len([n for n in os.listdir(os.path.join(spool, "delivered")) if n.endswith(".json")])
    if delivered != count:
        raise VerificationError("%s: %d of %d delivered" % (tag, delivered, count))
    if lanes:
        time.sleep(1.2)   # nginx flushes its log buffer every second
        keys = answered(stamp_log, since)
        if len(keys) != count or len(set(keys)) != count:
            raise VerificationError("%s: nginx answered %d requests (%d distinct) for %d jobs" % (tag, len(keys), len(set(keys)), count))
        last = {}
        for key in keys:
            n = int(key.split("-")[1])
            lane = n % lanes
            if last.get(lane, -1) > n:
                raise VerificationError("%s: lane %d out of order: %s after e-%07d" % (tag, lane, key, last[lane]))
            last[lane] = n
    shutil.rmtree(spool, ignore_errors=True)
    return count / m.wall, m.maxrss_kib


def lanes_mode(args):
    port = free_port()
    stamp_log = os.path.join(args.work, "lanes-answered.log")
    write_config(os.path.join(args.work, "config"), ["http://127.0.0.1:%d/ingest/" % port],
                 {"concurrency": PARALLEL, "perHostConcurrency": PARALLEL})
    nginx = start_nginx(args.nginx, os.path.join(args.work, "nginx-lanes"), port, stamp_log)
    try:
        log("receiver     nginx on http://127.0.0.1:%d/ingest/ (answers 204, logs each answer's key)" % port)
        log("jobs         10,000 unordered vs 10,000 in 1,000 lanes (files created in random order), then one lane of 2,000")
        log()
        log("%-5s %-17s %12s %12s %8s" % ("pair", "order", "unordered/s", "1000 lanes/s", "ratio"))
        unordered, laned, ratios = [], [], []
        for pair in range(1, args.pairs + 1):
            order = ["unordered", "lanes"] if pair % 2 else ["lanes", "unordered"]
            rates = {}
            for what in order:
                rates[what] = run(args, port, stamp_log, 10000, 1000 if what == "lanes" else 0, "%s-%d" % (what, pair))[0]
            unordered.append(rates["unordered"])
            laned.append(rates["lanes"])
            ratios.append(rates["lanes"] / rates["unordered"])
            log("%-5d %-17s %12.0f %12.0f %7.2fx" % (pair, "-".join(order), rates["unordered"], rates["lanes"], ratios[-1]))
        log("%-5s %-17s %12.0f %12.0f %7.2fx" % ("med.", "", median(unordered), median(laned), median(ratios)))
        log()
        single = []
        for round_ in range(1, args.pairs + 1):
            rate, rss = run(args, port, stamp_log, 2000, 1, "one-lane-%d" % round_)
            single.append(rate)
            log("one lane of 2,000 jobs, round %d: %6.0f jobs/s (peak RSS %.1f MiB)" % (round_, rate, rss / 1024.0))
        log()
        log("all lane runs verified: every job delivered once, every lane answered in file-name order")
        log("target  1,000 lanes >= 0.7x unordered:  %.2fx  %s" % (median(ratios), verdict(median(ratios) >= 0.7)))
        log("target  one lane >= 1,000 jobs/s:       %.0f  %s" % (median(single), verdict(median(single) >= 1000)))
    finally:
        nginx.stop()


def interrupted(signum, frame):
    raise KeyboardInterrupt()


def main(argv):
    parser = argparse.ArgumentParser(prog="lanes.py")
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--nginx", required=True)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=0, help="ignored: the job counts are fixed")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, interrupted)
    try:
        lanes_mode(args)
    except (VerificationError, ProcessError) as error:
        log("bench: %s" % error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
