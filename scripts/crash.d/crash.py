#!/usr/bin/env python3
"""The driver of scripts/crash-test: crash-safety trials of `outbound run` under SIGKILL.

Run by scripts/crash-test, which builds outbound (unless given --bin) and passes the binary;
it can also be run by hand: python3 scripts/crash.d/crash.py --bin PATH [options].

Per trial:
  1. a fresh spool and Config in a temporary folder: environment non-production, one active
     client whose endpoint is the receiver's http://127.0.0.1:PORT/hooks/, concurrency 64,
     short retry settings;
  2. N job files (ids job-000001 ...) written to tmp/ and renamed into incoming/; every
     --retry-every'th (default 8th) goes to /hooks/retry/N instead of /hooks/N;
  3. a loopback receiver (this process, threaded, HTTP/1.1 keep-alive) answering 204 after
     a random 0-5 ms (503 to the first request of each job under /hooks/retry/, so those
     are set aside for a retry and delivered by the second), recording every
     Idempotency-Key it receives with a count;
  4. `outbound run`, killed with SIGKILL at a planned moment between 20 ms and the expected
     completion time (measured by an uninterrupted calibration run first). The moments are
     stratified over the trials, so early, middle and late kills all occur;
  5. a snapshot of the spool right after the kill (the process is reaped first);
  6. `outbound drain` to completion (must exit 0 within --drain-timeout seconds);
  7. the checks:
     (a) every job is in exactly one place (incoming, active/*, deferred, hold, delivered,
         failed, refused, corrupt), both right after the kill and after the drain; after the
         drain that place is delivered/;
     (b) every job in delivered/ was received at least once (a retried job twice) at both
         moments, and has a `delivered` audit line (the line is on disk before the move);
     (c) no job vanished (found nowhere), and nothing was never received (a retried job: never
         received a second time);
     (d) jobs received more often than that <= jobs claimed in active/ at the kill;
     (e) active/ is empty after the drain; the audit log is valid JSON Lines (every line an
         object with `ts` and `event`) with exactly one `recovered` line for each claim found
         after the kill, and drain's summary says recovered=<that number>; no .state/ or tmp/
         leftovers. Three kill artefacts are notes rather than failures (unless --strict):
         an empty `.new-*` folder without `.lock`, left by a kill between the mkdir of the
         starting process's claim folder and the creation of its lock (recovery skips such
         folders until they are 60 s old, and no job was ever in one); a `.tmp-*` file in
         .state/, a retry's state the kill cut off before its rename into place (a start
         removes it once it is 60 s old); and a torn last audit line (SIGKILL can cut a
         write(2) of several pages short at a page boundary), as long as it stands on a line
         of its own after the drain. A fragment the next process glued its own first line
         onto fails the trial;
     (f) attempts never go back across the kill: a job's `delivered` line counts more attempts
         than any `deferred` line before it (a deferred job's state is in place before its
         line is written, so the next process finds it). SIGKILL leaves the page cache
         intact, so this checks the order of those steps, not their fsyncs; those are checked
         by DurabilityTraceTests and StateFileFaultTests. A job counts as received more
         often than needed when it got more requests than a 503 and a 2xx (retried jobs) or
         one 2xx (the others).

Only 127.0.0.1 is ever contacted. Prints a line per trial and then
`lost=L duplicated=D trials=T` and `N passed, M failed`.
Exit status: 0 all trials passed, 1 a trial failed, 2 usage, 3 setup failed.
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import outbound_spool as spools  # noqa: E402
from outbound_spool import JOB_FILE as JOB_RE, PLACES, Census, count_files, holds_nothing_but_empty_folders, job_id  # noqa: E402
from receiver import Receiver, Rule  # noqa: E402

CLIENT_ID = spools.TEST_CLIENT_ID
MIN_KILL_MS = 20


class SetupError(Exception):
    pass


def log(line=""):
    print(line, flush=True)


# ---------------------------------------------------------------- the receiver

def is_retried(n, retry_every):
    """Whether job n is answered 503 the first time (0: none is)."""
    return retry_every > 0 and n % retry_every == 0


def job_path(n, retry_every):
    return ("/hooks/retry/%d" if is_retried(n, retry_every) else "/hooks/%d") % n


def expected_requests(jid, retry_every):
    """Requests a job takes without a kill: 2 for a retried one (a 503, then a 204)."""
    return 2 if is_retried(int(jid[4:]), retry_every) else 1


def start_receiver(rng_seed, max_delay_ms, retry_every):
    """The loopback receiver (scripts/lib/receiver.py): 204 to every POST under /hooks/ after
    a random 0..max_delay_ms (503 to the first request of each key under /hooks/retry/),
    counting the Idempotency-Key of each request it received (whole, body read) before it
    answers. It objects to a request without a key, of another client or on another path."""
    def check_request(method, path, headers):
        key = headers.get("Idempotency-Key")
        if not key:
            return "request to %s without an Idempotency-Key" % path
        if headers.get("Epic-Client-ID") != CLIENT_ID:
            return "%s arrived with Epic-Client-ID %r" % (key, headers.get("Epic-Client-ID"))
        if not re.fullmatch(r"job-\d{6}", key) or path != job_path(int(key[4:]), retry_every):
            return "%s arrived at %s" % (key, path)
        return None
    delay = max_delay_ms / 1000.0
    return Receiver(rules=[Rule(method="GET", status=404), Rule(path="/hooks/retry/", fail_first=1, max_delay=delay),
                           Rule(max_delay=delay)], seed=rng_seed, check=check_request)


# ---------------------------------------------------------------- spool and config

def write_config(folder, port):
    spools.write_config(folder, ["http://127.0.0.1:%d/hooks/" % port], {
        "concurrency": 64,
        "perHostConcurrency": 64,
        "connectTimeoutMs": 2000,
        "timeoutMs": 5000,
        "retry": {"maxAttempts": 8, "baseDelayMs": 50, "maxDelayMs": 400, "maxAgeSeconds": 3600},
    }, client_id=CLIENT_ID, application="Crash Test Receiver")


def make_spool(spool, port, jobs, retry_every):
    """Creates the spool's tmp/ and incoming/ and drops the jobs: each written in tmp/ and
    renamed into incoming/."""
    spools.make_spool(spool, ((job_id(n) + ".json", spools.job(
        "http://127.0.0.1:%d%s" % (port, job_path(n, retry_every)),
        json.dumps({"event": "A08", "sequence": n, "patient": "MRN%08d" % n}),
        client_id=CLIENT_ID, id=job_id(n))) for n in range(1, jobs + 1)), staged=False)


class AuditLog:
    """The audit log as read from disk: the parsed records, a description of each bad line,
    and the torn tail (bytes after the last newline) if the file does not end with one."""

    def __init__(self, path, may_be_missing=False, torn_at_kill=None):
        """`torn_at_kill`: the (offset, bytes) of the tail a SIGKILL left; that fragment is
        tolerated where it stands alone on its own line, and reported (as a note)."""
        self.records, self.problems, self.notes = [], [], []
        self.torn = None
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            if not may_be_missing:
                self.problems.append("no audit log at %s" % path)
            return
        end = data.rfind(b"\n") + 1
        if end < len(data):
            self.torn = (end, data[end:])
            data = data[:end]
        offset = 0
        for number, raw in enumerate(data.split(b"\n")[:-1], 1):
            line_offset, offset = offset, offset + len(raw) + 1
            try:
                record = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as error:
                if torn_at_kill and line_offset == torn_at_kill[0] and raw == torn_at_kill[1]:
                    self.notes.append("audit line %d is the fragment the kill tore off (%d bytes), on a line of its own"
                                      % (number, len(raw)))
                elif torn_at_kill and line_offset == torn_at_kill[0] and raw.startswith(torn_at_kill[1]):
                    self.problems.append(
                        "audit line %d is invalid: the kill tore the run's last write after %d bytes of a line "
                        "(ending at file offset %d, a multiple of 4096: %s) and the next process appended "
                        "without starting a new line, gluing %r onto the fragment %r"
                        % (number, len(torn_at_kill[1]), line_offset + len(torn_at_kill[1]),
                           (line_offset + len(torn_at_kill[1])) % 4096 == 0,
                           raw[len(torn_at_kill[1]):][:90], torn_at_kill[1][:90]))
                else:
                    self.problems.append("audit line %d is not valid JSON (%s): %r" % (number, error, raw[:160]))
                continue
            if not isinstance(record, dict) or "ts" not in record or "event" not in record:
                self.problems.append("audit line %d lacks ts/event: %r" % (number, raw[:160]))
                continue
            self.records.append(record)


def describe(places):
    return ", ".join(places) if places else "nowhere"


# ---------------------------------------------------------------- processes

class Children:
    """Every outbound process this script started, so an interrupted campaign kills them."""
    procs = []

    @classmethod
    def start(cls, args, out, err):
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        cls.procs.append(proc)
        return proc

    @classmethod
    def kill_all(cls):
        for proc in cls.procs:
            if proc.poll() is None:
                try:
                    proc.kill()
                    proc.wait(timeout=5)
                except (OSError, subprocess.TimeoutExpired):
                    pass
        cls.procs = [p for p in cls.procs if p.poll() is None]

    @classmethod
    def forget(cls, proc):
        if proc in cls.procs:
            cls.procs.remove(proc)


def outbound_args(binary, command, root, extra=()):
    return [binary, command, "--spool", os.path.join(root, "Outbox"), "--config", os.path.join(root, "Config")] + list(extra)


# ---------------------------------------------------------------- calibration

def calibrate_once(args, work, number):
    """One uninterrupted `outbound run` over the trials' workload: seconds from the start
    until every job is in delivered/, and the number of repeated requests."""
    root = os.path.join(work, "calibration-%d" % number)
    receiver = start_receiver(number, args.max_delay_ms, args.retry_every)
    try:
        write_config(os.path.join(root, "Config"), receiver.port)
        make_spool(os.path.join(root, "Outbox"), receiver.port, args.jobs, args.retry_every)
        delivered = os.path.join(root, "Outbox", "delivered")
        with open(os.path.join(root, "run.out"), "wb") as out, open(os.path.join(root, "run.err"), "wb") as err:
            started = time.monotonic()
            proc = Children.start(outbound_args(args.bin, "run", root), out, err)
            deadline = started + args.drain_timeout
            done = None
            while time.monotonic() < deadline and proc.poll() is None:
                # The receiver's count is free to read; delivered/ is listed only at the end.
                if len(receiver.snapshot()[0]) >= args.jobs and count_files(delivered) >= args.jobs:
                    done = time.monotonic() - started
                    break
                time.sleep(0.002)
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                rc = proc.wait()
            Children.forget(proc)
        if done is None:
            with open(os.path.join(root, "run.err"), "rb") as f:
                err_text = f.read().decode("utf-8", "replace")[-2000:]
            raise SetupError("calibration: outbound run did not deliver %d jobs within %ds (exit %s; %d in delivered/)\n%s"
                             % (args.jobs, args.drain_timeout, rc, count_files(delivered), err_text))
        if rc != 0:
            raise SetupError("calibration: outbound run exited %d on SIGTERM, not 0" % rc)
        counts, total, problems = receiver.snapshot()
        if problems:
            raise SetupError("calibration: the receiver saw bad requests: %s" % "; ".join(problems[:5]))
        if len(counts) != args.jobs:
            raise SetupError("calibration: the receiver saw %d distinct jobs, not %d" % (len(counts), args.jobs))
        expected = sum(expected_requests(jid, args.retry_every) for jid in counts)
        return done, total - expected
    finally:
        receiver.stop()
        shutil.rmtree(root, ignore_errors=True)


def calibrate(args, work):
    """The expected completion time in ms: the median of --calibration-runs uninterrupted
    runs (the first run after a build is often the slowest; one run alone misleads)."""
    times = []
    for number in range(1, args.calibration_runs + 1):
        seconds, repeated = calibrate_once(args, work, number)
        if repeated:
            raise SetupError("calibration: an uninterrupted run sent %d requests twice" % repeated)
        times.append(seconds * 1000)
    times.sort()
    median = times[len(times) // 2] if len(times) % 2 else (times[len(times) // 2 - 1] + times[len(times) // 2]) / 2
    return median, times


# ---------------------------------------------------------------- one trial

class TrialResult:
    def __init__(self):
        self.failures = []
        self.lost = 0
        self.duplicated = 0
        self.in_flight = 0
        self.kill_ms = 0.0
        self.notes = []
        self.phase = "?"
        self.after_completion = False
        self.kept = None
        self.line = ""


def run_trial(args, work, index, seed, kill_ms):
    result = TrialResult()
    result.kill_ms = kill_ms
    fail = result.failures.append
    rng = random.Random(seed)
    root = os.path.join(work, "trial-%03d-seed-%d" % (index, seed))
    spool = os.path.join(root, "Outbox")
    audit_path = os.path.join(spool, "audit.jsonl")
    ids = [job_id(n) for n in range(1, args.jobs + 1)]
    receiver = start_receiver(rng.getrandbits(64), args.max_delay_ms, args.retry_every)
    expected = {jid: expected_requests(jid, args.retry_every) for jid in ids}
    try:
        write_config(os.path.join(root, "Config"), receiver.port)
        make_spool(spool, receiver.port, args.jobs, args.retry_every)

        # ---- run, then SIGKILL at the planned moment
        with open(os.path.join(root, "run.out"), "wb") as out, open(os.path.join(root, "run.err"), "wb") as err:
            started = time.monotonic()
            proc = Children.start(outbound_args(args.bin, "run", root), out, err)
            kill_at = started + kill_ms / 1000.0
            while True:
                left = kill_at - time.monotonic()
                if left <= 0:
                    break
                time.sleep(min(left, 0.01))
            early_exit = proc.poll()
            proc.kill()
            actual_ms = (time.monotonic() - started) * 1000
            rc = proc.wait()
            Children.forget(proc)
        if early_exit is not None:
            fail("outbound run exited by itself (status %d) before the kill" % early_exit)
        elif rc != -signal.SIGKILL:
            fail("outbound run ended with %s, not SIGKILL" % rc)
        with open(os.path.join(root, "run.err"), "rb") as f:
            run_err = f.read().decode("utf-8", "replace").strip()
        if run_err:
            fail("outbound run wrote to stderr before the kill: %s" % run_err[-500:])

        # ---- the spool as the dead process left it
        at_kill = Census(spool)
        received_at_kill, _, _ = receiver.snapshot()
        log_at_kill = AuditLog(audit_path, may_be_missing=True)
        audit_at_kill = log_at_kill.records
        if log_at_kill.torn:
            # SIGKILL can cut a write(2) of several pages short at a page boundary: the run's
            # last group commit may end mid-line. Tolerated here; what the next process does
            # with it is checked after the drain.
            result.notes.append("the kill tore the run's last audit write: %d bytes of a line at offset %d"
                                % (len(log_at_kill.torn[1]), log_at_kill.torn[0]))
        result.in_flight = len(at_kill.active_jobs)
        claimed_names = sorted(name for _, name in at_kill.active_jobs)
        delivered_lines_at_kill = {r.get("job") for r in audit_at_kill if r.get("event") == "delivered"}
        for jid in ids:
            places = at_kill.where.get(jid, [])
            if len(places) != 1:
                fail("at the kill %s is in %s" % (jid, describe(places)))
            elif places[0].startswith("delivered/"):
                if received_at_kill.get(jid, 0) < expected[jid]:
                    fail("at the kill %s is in delivered/ but the receiver never got it (or only its first, answered 503)" % jid)
                if jid not in delivered_lines_at_kill:
                    fail("at the kill %s is in delivered/ without a delivered audit line" % jid)
        for stray in at_kill.strays:
            fail("at the kill an unexpected file: %s" % stray)
        if at_kill.tmp:
            fail("at the kill tmp/ holds %s" % ", ".join(at_kill.tmp[:5]))
        for problem in log_at_kill.problems:
            fail("at the kill: %s" % problem)
        folders_at_kill = {f: at_kill.count(f) for f in PLACES}

        # ---- drain to completion
        with open(os.path.join(root, "drain.out"), "wb") as out, open(os.path.join(root, "drain.err"), "wb") as err:
            drain_started = time.monotonic()
            proc = Children.start(outbound_args(args.bin, "drain", root, ["--quiet"]), out, err)
            try:
                drain_rc = proc.wait(timeout=args.drain_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                drain_rc = None
            Children.forget(proc)
            drain_s = time.monotonic() - drain_started
        with open(os.path.join(root, "drain.out"), "rb") as f:
            drain_out = f.read().decode("utf-8", "replace").strip()
        with open(os.path.join(root, "drain.err"), "rb") as f:
            drain_err = f.read().decode("utf-8", "replace").strip()
        if drain_rc is None:
            fail("outbound drain did not finish within %ds" % args.drain_timeout)
        elif drain_rc != 0:
            fail("outbound drain exited %d, not 0: %s" % (drain_rc, drain_err[-500:]))
        elif drain_err:
            fail("outbound drain wrote to stderr: %s" % drain_err[-500:])

        # Requests still being answered when drain exited have been counted already: the
        # receiver counts before it answers, and drain waits for the answer.
        after = Census(spool)
        received, total_requests, receiver_problems = receiver.snapshot()
        final_log = AuditLog(audit_path, torn_at_kill=log_at_kill.torn)
        audit = final_log.records

        # (a) exactly one place, and that place delivered/; (c) none vanished
        vanished = []
        for jid in ids:
            places = after.where.get(jid, [])
            if not places:
                vanished.append(jid)
                fail("after the drain %s is nowhere (vanished); at the kill it was in %s"
                     % (jid, describe(at_kill.where.get(jid, []))))
            elif len(places) > 1:
                fail("after the drain %s is in %d places: %s" % (jid, len(places), describe(places)))
            elif not places[0].startswith("delivered/"):
                fail("after the drain %s is in %s, not delivered/" % (jid, places[0]))
        for stray in after.strays:
            fail("after the drain an unexpected file: %s" % stray)

        # (b) every job in delivered/ reached the receiver; lost = never received (a retried
        # job: not a second time) or vanished
        never_received = [jid for jid in ids if received.get(jid, 0) < expected[jid]]
        for jid in never_received:
            if any(p.startswith("delivered/") for p in after.where.get(jid, [])):
                fail("%s is in delivered/ but the receiver never got it (at the kill it was in %s)"
                     % (jid, describe(at_kill.where.get(jid, []))))
        result.lost = len(set(never_received) | set(vanished))
        unknown = sorted(set(received) - set(ids))
        if unknown:
            fail("the receiver got keys of no job: %s" % ", ".join(unknown[:5]))
        for problem in receiver_problems[:5]:
            fail("receiver: %s" % problem)

        # (d) duplicates within the number claimed at the kill
        duplicates = sorted(jid for jid, count in received.items() if count > expected.get(jid, 1))
        result.duplicated = len(duplicates)
        if result.duplicated > result.in_flight:
            fail("%d jobs received more than once, but only %d were claimed in active/ at the kill"
                 % (result.duplicated, result.in_flight))
        claimed_ids = {JOB_RE.match(name).group(1) for name in claimed_names if JOB_RE.match(name)}
        outside = [jid for jid in duplicates if jid not in claimed_ids]
        if outside:
            fail("received more than once though not claimed at the kill: %s (at the kill in %s)"
                 % (", ".join(outside[:5]), describe(at_kill.where.get(outside[0], []))))

        # (e) active/ empty; audit valid, a recovered line for each claim found
        # An empty `.new-*` folder is a claim folder whose building the kill interrupted
        # (before its rename into place): it never held a job, and recovery deliberately
        # leaves folders still being built alone until they are 60 s old (a live process's
        # lock file exists a moment before it is locked). A known leftover, reported as a note (a failure with --strict); anything else
        # left in active/ fails the trial.
        for entry in after.active_areas:
            path = os.path.join(spool, "active", entry)
            if (entry.startswith(".new-") and os.path.isdir(path) and not os.path.islink(path)
                    and holds_nothing_but_empty_folders(path) and entry in at_kill.active_areas):
                note = ("active/%s: an empty claim folder still being built, left by a kill during the run's start-up; "
                        "recovery leaves it for 60 s" % entry)
                if args.strict:
                    fail("after the drain " + note)
                else:
                    result.notes.append(note)
            else:
                fail("after the drain active/ still holds %s" % entry)
        if after.tmp:
            fail("after the drain tmp/ holds %s" % ", ".join(after.tmp[:5]))
        # audit.head is the audit chain's head, not job state: it stays.
        state_left = sorted(n for n in os.listdir(os.path.join(spool, ".state")) if n != "audit.head") \
            if os.path.isdir(os.path.join(spool, ".state")) else []
        # A retry's state being written when the kill came: its temporary file stays until a
        # process starts when it is a minute old (StaleTemporaryFiles). A note, like `.new-*`.
        torn_state = [n for n in state_left if n.startswith(".tmp-")]
        for name in torn_state:
            note = ".state/%s: a state file the kill interrupted before its rename into place; removed at a start a minute later" % name
            (fail if args.strict else result.notes.append)("after the drain " + note if args.strict else note)
        state_left = [n for n in state_left if n not in torn_state]
        if state_left:
            fail("after the drain .state/ holds %s" % ", ".join(state_left[:5]))
        for problem in final_log.problems:
            fail(problem)
        if final_log.torn:
            fail("after the drain the audit log does not end with a newline")
        # The audit chain survives a SIGKILL at any moment.
        verify = subprocess.run(outbound_args(args.bin, "audit", root, ["verify"]), capture_output=True, text=True)
        if verify.returncode != 0:
            fail("after the drain outbound audit verify says: %s" % (verify.stderr.strip() or verify.stdout.strip()))
        for note in final_log.notes:
            (fail if args.strict else result.notes.append)(note)
        recovered_files = sorted(r.get("file", "") for r in audit if r.get("event") == "recovered")
        if recovered_files != claimed_names:
            missing = sorted(set(claimed_names) - set(recovered_files))
            extra = sorted(set(recovered_files) - set(claimed_names))
            twice = sorted({f for f in recovered_files if recovered_files.count(f) > 1})
            fail("recovered audit lines do not match the %d claims found after the kill: missing %s; extra %s; repeated %s"
                 % (len(claimed_names), missing[:5], extra[:5], twice[:5]))
        delivered_lines = {r.get("job") for r in audit if r.get("event") == "delivered"}
        no_line = [jid for jid in ids if jid not in delivered_lines]
        if no_line:
            fail("no delivered audit line for %d jobs, e.g. %s" % (len(no_line), ", ".join(no_line[:5])))
        # (f) attempts never go back across the kill
        deferred_attempts = {}
        for record in audit:
            jid, attempt = record.get("job"), record.get("attempt")
            if not isinstance(attempt, int):
                continue
            if record.get("event") == "deferred":
                deferred_attempts[jid] = max(attempt, deferred_attempts.get(jid, 0))
            elif record.get("event") == "delivered" and attempt <= deferred_attempts.get(jid, 0):
                fail("%s was delivered at attempt %d after a deferred line of attempt %d: its attempts went back"
                     % (jid, attempt, deferred_attempts[jid]))
        match = re.search(r"\brecovered=(\d+)", drain_out)
        if drain_rc == 0 and (not match or int(match.group(1)) != result.in_flight):
            fail("drain's summary %r does not report recovered=%d" % (drain_out, result.in_flight))

        fraction = actual_ms / args.expected_ms
        window = (actual_ms - MIN_KILL_MS) / max(1.0, args.expected_ms - MIN_KILL_MS)
        result.phase = "early" if window < 1 / 3.0 else "mid" if window < 2 / 3.0 else "late"
        result.after_completion = folders_at_kill["delivered"] == args.jobs
        result.line = ("trial %*d/%d seed=%d kill=%4.0fms (%3.0f%% %-5s) at kill: delivered=%d incoming=%d in_flight=%d "
                       "deferred=%d | drain %.2fs | received=%d requests=%d lost=%d duplicated=%d (bound %d) %s"
                       % (len(str(args.trials)), index, args.trials, seed, actual_ms, 100.0 * fraction, result.phase,
                          folders_at_kill["delivered"], folders_at_kill["incoming"], result.in_flight,
                          folders_at_kill["deferred"], drain_s, len(received), total_requests, result.lost,
                          result.duplicated, result.in_flight, "PASS" if not result.failures else "FAIL"))
    except Exception as error:  # a broken trial is a failed trial, reported with its cause
        fail("trial error: %r" % (error,))
        if not result.line:
            result.line = "trial %d/%d seed=%d kill=%.0fms FAIL" % (index, args.trials, seed, kill_ms)
    finally:
        Children.kill_all()
        receiver.stop()
    if result.failures:
        result.kept = root
        with open(os.path.join(root, "FAILURES.txt"), "w") as f:
            f.write("\n".join(result.failures) + "\n")
    else:
        result.kept = None
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return result


# ---------------------------------------------------------------- the campaign

def kill_plan(args, base_seed):
    """Kill moments in ms, stratified: trial k of N falls in the k-th of N equal slices of
    [20 ms, expected completion], in a shuffled order, so early, middle and late kills all
    occur whatever N is."""
    if args.kill_ms is not None:
        return [float(args.kill_ms)] * args.trials
    rng = random.Random(base_seed ^ 0x5EED)
    low, high = float(MIN_KILL_MS), max(float(MIN_KILL_MS) + 1, args.expected_ms)
    slots = list(range(args.trials))
    rng.shuffle(slots)
    return [low + (high - low) * (slot + rng.random()) / args.trials for slot in slots]


def main():
    parser = argparse.ArgumentParser(description="Crash-safety trials of outbound run under SIGKILL.")
    parser.add_argument("--bin", required=True, help="the outbound binary")
    parser.add_argument("--trials", type=int, default=25)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=None, help="base seed (trial k uses seed+k); random by default")
    parser.add_argument("--expected-ms", type=float, default=None,
                        help="expected completion time of the run; measured by a calibration run when absent")
    parser.add_argument("--kill-ms", type=float, default=None, help="kill every trial this many ms after the start")
    parser.add_argument("--max-delay-ms", type=float, default=5.0, help="receiver's random delay before answering")
    parser.add_argument("--retry-every", type=int, default=8,
                        help="every Nth job is answered 503 the first time, so it is set aside and retried (0: none)")
    parser.add_argument("--calibration-runs", type=int, default=3)
    parser.add_argument("--drain-timeout", type=int, default=60)
    parser.add_argument("--keep", action="store_true", help="keep every trial's folder (failed ones are always kept)")
    parser.add_argument("--strict", action="store_true",
                        help="fail a trial for an empty, lock-less .new-* claim folder left in active/ (see --help)")
    args = parser.parse_args()
    if args.trials < 1 or not 1 <= args.jobs <= 999999 or args.calibration_runs < 1 or args.retry_every < 0:
        parser.error("--trials and --calibration-runs must be at least 1, --jobs between 1 and 999999 "
                     "and --retry-every 0 or more")
    if not (os.path.isfile(args.bin) and os.access(args.bin, os.X_OK)):
        log("crash-test: %s is not an executable file" % args.bin)
        return 3
    args.bin = os.path.abspath(args.bin)
    sys.setswitchinterval(0.001)   # the receiver's threads must not delay the kill by much

    base_seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(3), "big")
    work = tempfile.mkdtemp(prefix="outbound-crash.")
    log("crash-test: %d trials of %d jobs, base seed %d, binary %s, work %s"
        % (args.trials, args.jobs, base_seed, args.bin, work))
    interrupted = []

    def on_signal(number, _frame):
        interrupted.append(number)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    results = []
    try:
        if args.expected_ms is None:
            args.expected_ms, times = calibrate(args, work)
            log("calibration: uninterrupted runs delivered %d jobs in %s ms; expected completion %.0f ms (median)"
                % (args.jobs, ", ".join("%.0f" % t for t in times), args.expected_ms))
        plan = kill_plan(args, base_seed)
        for index in range(1, args.trials + 1):
            result = run_trial(args, work, index, base_seed + index, plan[index - 1])
            results.append(result)
            log(result.line)
            for note in result.notes:
                log("    note: " + note)
            for failure in result.failures[:20]:
                log("    " + failure)
            if len(result.failures) > 20:
                log("    ... %d more" % (len(result.failures) - 20))
            if result.kept:
                log("    kept %s" % result.kept)
    except SetupError as error:
        log("crash-test: %s" % error)
        Children.kill_all()
        return 3
    except KeyboardInterrupt:
        Children.kill_all()
        log("crash-test: interrupted after %d trials" % len(results))
        return 130 if not interrupted else 143
    finally:
        Children.kill_all()
        if not any(r.kept for r in results) and not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    failed = sum(1 for r in results if r.failures)
    lost = sum(r.lost for r in results)
    duplicated = sum(r.duplicated for r in results)
    phases = {p: sum(1 for r in results if r.phase == p) for p in ("early", "mid", "late")}
    log("kills: early=%d mid=%d late=%d (range %.0f-%.0f ms of an expected %.0f ms); %d with claims in active/, "
        "%d after every job was delivered"
        % (phases["early"], phases["mid"], phases["late"], min(r.kill_ms for r in results),
           max(r.kill_ms for r in results), args.expected_ms, sum(1 for r in results if r.in_flight),
           sum(1 for r in results if r.after_completion)))
    unbuilt = sum(1 for r in results if any(".new-" in n for n in r.notes))
    torn = sum(1 for r in results if any("tore" in n for n in r.notes))
    cut_states = sum(1 for r in results if any(n.startswith(".state/.tmp-") for n in r.notes))
    if unbuilt or torn or cut_states:
        log("notes: %d trials left an empty, lock-less .new-* claim folder in active/ (kill during start-up); "
            "in %d the kill tore the run's last audit write; in %d it cut a retry's state file short"
            % (unbuilt, torn, cut_states))
    log("max duplicated in a trial=%d max in_flight at a kill=%d"
        % (max(r.duplicated for r in results), max(r.in_flight for r in results)))
    log("lost=%d duplicated=%d trials=%d" % (lost, duplicated, len(results)))
    log("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
