#!/usr/bin/env python3
"""Operator-command benchmarks for scripts/bench --operator (issue 15). No receiver: the
commands only read and move files.

  operator.py --bin B --work W [--jobs N] [--enqueue-jobs M] [--parallel P]
      1. `outbound list --json` over N jobs (default 100,000) in failed/ with their sidecars,
         its output read through a pipe line by line as a script would: wall time and the
         process's peak RSS. Targets: <= 2 s, <= 64 MiB.
      2. `outbound requeue --from failed` of the same N jobs: wall time, then a check that
         all N are in incoming/ with one `requeued` line each. Target: <= 10 s.
      3. `outbound enqueue FILE` of M jobs (default 10,000), one process per job, P at a
         time (default 4, as `xargs -P 4` would), then a check that all M are in incoming/
         with one `enqueued` line each; also the same for M/10 jobs one after another
         (P = 1). Target: >= 500 jobs/s.

Exit status 0 when every run verified (a missed target prints NOT MET), 1 otherwise.
"""

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import outbound_spool as spools  # noqa: E402

ENDPOINT = "http://127.0.0.1:9/hooks/"


class VerificationError(Exception):
    pass


def log(text):
    print(text, flush=True)


def verdict(ok):
    return "met" if ok else "NOT MET"


def run_measured(argv, read_lines=False):
    """Runs argv; returns (seconds, peak RSS in KiB, exit status, lines read)."""
    start = time.monotonic()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE if read_lines else subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    lines = 0
    if read_lines:
        for _ in child.stdout:
            lines += 1
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.monotonic() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    stderr = child.stderr.read().decode(errors="replace")
    if child.returncode != 0:
        raise VerificationError("%s exited %d: %s" % (" ".join(argv), child.returncode, stderr.strip()))
    return seconds, usage.ru_maxrss, lines


def job_bytes(n):
    return json.dumps({"clientId": spools.TEST_CLIENT_ID, "url": ENDPOINT + "op/%d" % n,
                       "body": json.dumps({"event": "A08", "seq": n, "pad": "x" * 200})}).encode()


def build_failed(spool, count):
    failed = os.path.join(spool, "failed")
    for folder in spools.FOLDERS:
        os.makedirs(os.path.join(spool, folder), exist_ok=True)
    os.makedirs(os.path.join(spool, ".state"), exist_ok=True)
    sidecar = json.dumps({"reason": "http_status", "message": "the server answered HTTP 404, which is not retried",
                          "at": "2026-12-05T12:00:00.000Z", "attempts": 1, "status": 404}).encode() + b"\n"
    for n in range(count):
        name = spools.job_id(n) + ".json"
        with open(os.path.join(failed, name), "wb") as f:
            f.write(job_bytes(n))
        with open(os.path.join(failed, name + ".reason"), "wb") as f:
            f.write(sidecar)


def audit_count(spool, event):
    count = 0
    with open(os.path.join(spool, "audit.jsonl"), "rb") as f:
        needle = b'"event":"%s"' % event.encode()
        for line in f:
            if needle in line:
                count += 1
    return count


def enqueue_many(binary, spool, config, files, parallel):
    """Runs one `outbound enqueue FILE` per file, `parallel` at a time; returns seconds."""
    start = time.monotonic()
    running = []
    pending = list(files)
    failures = []
    while pending or running:
        while pending and len(running) < parallel:
            path = pending.pop()
            running.append(subprocess.Popen([binary, "enqueue", path, "--spool", spool, "--config", config],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        child = running.pop(0)
        if child.wait() != 0:
            failures.append(child.stderr.read().decode(errors="replace").strip())
        child.stderr.close()
    if failures:
        raise VerificationError("%d enqueue(s) failed, first: %s" % (len(failures), failures[0]))
    return time.monotonic() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--jobs", type=int, default=100000)
    parser.add_argument("--enqueue-jobs", type=int, default=10000)
    parser.add_argument("--parallel", type=int, default=4)
    args = parser.parse_args()
    config = os.path.join(args.work, "Config")
    spools.write_config(config, [ENDPOINT])
    ok = True
    try:
        spool = os.path.join(args.work, "Outbox-list")
        log("building a spool of %d failed jobs with sidecars ..." % args.jobs)
        build_failed(spool, args.jobs)
        os.sync()
        seconds, rss, lines = run_measured([args.bin, "list", "--json", "--spool", spool, "--config", config], read_lines=True)
        if lines != args.jobs:
            raise VerificationError("list printed %d lines for %d jobs" % (lines, args.jobs))
        mib = rss / 1024
        log("list --json     %d jobs: %.2f s, peak RSS %.1f MiB  (targets <= 2 s: %s; <= 64 MiB: %s)"
            % (args.jobs, seconds, mib, verdict(seconds <= 2), verdict(mib <= 64)))
        ok = ok and seconds <= 2 and mib <= 64

        seconds, rss, _ = run_measured([args.bin, "requeue", "--from", "failed", "--spool", spool, "--config", config])
        moved = len([n for n in os.listdir(os.path.join(spool, "incoming")) if spools.is_job_name(n)])
        lines = audit_count(spool, "requeued")
        if moved != args.jobs or lines != args.jobs or os.listdir(os.path.join(spool, "failed")):
            raise VerificationError("requeue: %d in incoming/, %d requeued lines, for %d jobs" % (moved, lines, args.jobs))
        log("requeue --from failed  %d jobs: %.2f s, peak RSS %.1f MiB  (target <= 10 s: %s)"
            % (args.jobs, seconds, rss / 1024, verdict(seconds <= 10)))
        ok = ok and seconds <= 10

        for count, parallel in ((args.enqueue_jobs, args.parallel), (max(1, args.enqueue_jobs // 10), 1)):
            spool = os.path.join(args.work, "Outbox-enqueue-%d" % parallel)
            sources = os.path.join(args.work, "upstream-%d" % parallel)
            os.makedirs(sources)
            files = []
            for n in range(count):
                path = os.path.join(sources, spools.job_id(n) + ".json")
                with open(path, "wb") as f:
                    f.write(job_bytes(n))
                files.append(path)
            seconds = enqueue_many(args.bin, spool, config, files, parallel)
            moved = len([n for n in os.listdir(os.path.join(spool, "incoming")) if spools.is_job_name(n)])
            lines = audit_count(spool, "enqueued")
            if moved != count or lines != count:
                raise VerificationError("enqueue: %d in incoming/, %d enqueued lines, for %d jobs" % (moved, lines, count))
            rate = count / seconds
            judged = parallel == args.parallel
            log("enqueue, one process per job, %d at a time: %d jobs in %.2f s = %.0f jobs/s  (%s)"
                % (parallel, count, seconds, rate,
                   "target >= 500/s: %s" % verdict(rate >= 500) if judged
                   else "for reference: one after another, each waiting for its own fsyncs; not the target"))
            if judged:
                ok = ok and rate >= 500
    except VerificationError as error:
        log("VERIFICATION FAILED: %s" % error)
        return 1
    log("all targets met" if ok else "some targets NOT MET (see above)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
