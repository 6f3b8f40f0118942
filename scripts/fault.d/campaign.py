#!/usr/bin/env python3
"""The spool fault campaign (scripts/fault-test): SQLite's way of testing I/O errors.

For each syscall family and N = 1, 2, 3, ... (every N at first, then spread over the calls a
clean drain makes), one faulted `outbound drain` over a fresh 200-job spool (deliveries,
retries, refusals, failures, corrupt files) with fault.so failing the Nth call of the family
under the spool (once, or from then on), then one clean drain; after which:

- every job is in exactly one terminal folder (delivered/, failed/, refused/, corrupt/) and
  nowhere else (none lost: `lost`; none left in incoming/, active/, deferred/: `stranded`);
- no job is in delivered/ without a 2xx answer at the receiver, and each job's folder is the
  one its last outcome line in the audit log names (else `mismatched`);
- a faulted drain that exited 0 left nothing behind and its summary line counts what is on
  disk (else `mismatched`: a summary that is not the truth);
- every third delivered or retried job is in one of three ordered lanes (contract 14): no
  lane job reaches the receiver before every earlier job of its lane was answered 2xx (else
  `mismatched`), whichever call failed and however often a job was sent again.

Prints one line per failed check, `runs=R` and `faults=F lost=L stranded=S mismatched=M`.
"""
import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import outbound_spool as spools  # noqa: E402
from receiver import Receiver, Rule  # noqa: E402

CLIENT_ID = spools.TEST_CLIENT_ID
TERMINAL = ("delivered", "failed", "refused", "corrupt")
LIVE = ("incoming", "active", "deferred", "tmp", "hold")
OUTCOMES = {"delivered", "failed", "refused", "corrupt"}
FAMILIES = ["open", "read", "write", "fsync", "rename", "link", "mkdir", "unlink", "rmdir", "opendir", "readdir",
            "flock", "stat"]
TRANSIENT = ["EIO", "ENOSPC", "EMFILE", "ENFILE", "ENOMEM", "EAGAIN"]


LANES = 3


class LaneOrder:
    """The campaign's ordered lanes: which job is in which lane of which run, and each run's
    lane jobs that reached the receiver before an earlier job of their lane had its 2xx."""

    def __init__(self):
        self.lock = threading.Lock()
        self.lane_of = {}
        self.members = {}
        self.violations = {}
        self.receiver = None

    def add(self, run, lane, jid):
        with self.lock:
            self.lane_of[jid] = (run, lane)
            self.members.setdefault((run, lane), []).append(jid)

    def check(self, _method, _path, headers):
        """The receiver's check, called for every request before it is answered."""
        key = headers.get("Idempotency-Key")
        with self.lock:
            where = self.lane_of.get(key)
            earlier = [j for j in self.members.get(where, []) if j < key] if where else []
        missing = [j for j in earlier if not self.receiver.delivered_ok(j)]
        if missing:
            with self.lock:
                self.violations.setdefault(where[0], []).append(
                    "%s (lane %d) reached the receiver before %s had its 2xx" % (key, where[1], missing[0]))
        return None

    def take(self, run):
        with self.lock:
            return self.violations.pop(run, [])


def start_receiver(lanes):
    """127.0.0.1 HTTP/1.1 (scripts/lib/receiver.py): /ok/ answers 204, /retry/ 503 on a key's
    first request then 204, /fail/ 400. Records the keys it answered 2xx (delivered_ok), and
    checks the lanes' order."""
    receiver = Receiver(rules=[Rule("/fail/", status=400), Rule("/retry/", fail_first=1, retry_after="0")],
                        check=lanes.check)
    lanes.receiver = receiver
    return receiver


def write_config(folder, port):
    os.makedirs(folder)
    spools.write_config(folder, ["http://127.0.0.1:%d/" % port], {
        "concurrency": 16, "perHostConcurrency": 16, "connectTimeoutMs": 2000, "timeoutMs": 5000,
        "retry": {"maxAttempts": 3, "baseDelayMs": 20, "maxDelayMs": 50, "maxAgeSeconds": 3600},
    }, client_id=CLIENT_ID, application="Fault campaign")


def make_spool(spool, port, run, jobs, lanes):
    """Drops the jobs through tmp/: most delivered, some retried once, some failed (400), some
    refused (unknown client), some corrupt (not JSON); every third delivered or retried job
    in an ordered lane."""
    for folder in ("tmp", "incoming"):
        os.makedirs(os.path.join(spool, folder))
    ids = []
    for n in range(jobs):
        jid = "r%05d-j%04d" % (run, n)
        kind = "ok"
        if n % 20 == 1:
            kind = "retry"
        elif n % 40 == 3:
            kind = "fail"
        if n % 25 == 7:
            job = {"id": jid, "clientId": "not-a-client", "url": "http://127.0.0.1:%d/ok/%s" % (port, jid), "body": "x"}
            data = json.dumps(job).encode()
        elif n % 30 == 11:
            data = b'{"id": "' + jid.encode() + b'", "clientId": '
        else:
            job = {"id": jid, "clientId": CLIENT_ID, "url": "http://127.0.0.1:%d/%s/%s" % (port, kind, jid),
                   "body": json.dumps({"n": n})}
            if kind != "fail" and n % 3 == 0:
                lane = (n // 3) % LANES
                job["orderingKey"] = "lane-%d" % lane
                lanes.add(run, lane, jid)
            data = json.dumps(job).encode()
        spools.drop_job(spool, jid + ".json", data)
        ids.append(jid)
    # A corrupt file written "long ago", so the 1-second grace for young files does not wait.
    for name in os.listdir(os.path.join(spool, "incoming")):
        os.utime(os.path.join(spool, "incoming", name), (1_000_000_000, 1_000_000_000))
    return ids


def job_of(name):
    stem = name[:-5] if name.endswith(".json") else name
    return re.sub(r"~\d+$", "", stem)


def places(spool):
    """job id -> list of (folder, name) where a file of it is."""
    found = {}
    for folder in TERMINAL + LIVE:
        top = os.path.join(spool, folder)
        for path, _dirs, files in os.walk(top):
            for name in files:
                if name.endswith(".json") and not name.startswith("."):
                    found.setdefault(job_of(name), []).append((folder, name))
    return found


def last_outcomes(audit):
    last = {}
    try:
        with open(audit, "rb") as f:
            for raw in f:
                try:
                    line = json.loads(raw)
                except ValueError:
                    continue
                if line.get("event") in OUTCOMES and line.get("job"):
                    last[line["job"]] = line["event"]
    except FileNotFoundError:
        pass
    return last


def drain(args, root, env=None, timeout=90):
    command = [args.bin, "drain", "--spool", os.path.join(root, "spool"), "--config", os.path.join(root, "config"),
               "--max-wait", "30"]
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    if env:
        base.update(env)
    try:
        done = subprocess.run(command, env=base, capture_output=True, timeout=timeout, text=True)
        return done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as expired:
        return None, expired.stdout or "", expired.stderr or ""


def fault_env(args, root, family, n, persist, errno_name):
    return {
        "LD_PRELOAD": args.so, "FAULT_ROOT": os.path.realpath(os.path.join(root, "spool")), "FAULT_CALL": family,
        "FAULT_N": str(n), "FAULT_PERSIST": "1" if persist else "0", "FAULT_ERRNO": errno_name,
        "FAULT_LOG": os.path.join(root, "faults.log"), "FAULT_COUNT": os.path.join(root, "count"),
    }


def one_run(args, receiver, lanes, run, family, n, persist, errno_name):
    """Returns (faults injected, calls made, problems: list of (kind, text))."""
    root = tempfile.mkdtemp(prefix="fault-%s-%d-" % (family, n), dir=args.work)
    spool = os.path.join(root, "spool")
    write_config(os.path.join(root, "config"), receiver.port)
    ids = make_spool(spool, receiver.port, run, args.jobs, lanes)
    tag = "%s N=%d %s %s" % (family, n, "persistent" if persist else "once", errno_name)
    problems = []
    status, out, err = drain(args, root, fault_env(args, root, family, n, persist, errno_name))
    faults = 0
    if os.path.exists(os.path.join(root, "faults.log")):
        with open(os.path.join(root, "faults.log")) as f:
            faults = sum(1 for _ in f)
    calls = 0
    if os.path.exists(os.path.join(root, "count")):
        with open(os.path.join(root, "count")) as f:
            calls = max([int(x) for x in f.read().split()] or [0])
    if status is None:
        problems.append(("mismatched", "%s: the faulted drain hung (killed after 90 s)" % tag))
    elif status == 0:
        # A drain that says it finished must have: nothing left, and its counts on disk.
        found = places(spool)
        left = sorted(j for j, p in found.items() if any(folder in LIVE for folder, _ in p))
        if left:
            problems.append(("mismatched", "%s: drain exited 0 with %d jobs not filed (%s)" % (tag, len(left), left[:3])))
        summary = dict(re.findall(r"(\w+)=(\d+)", out))
        for folder in TERMINAL:
            on_disk = sum(1 for p in found.values() for f, _ in p if f == folder)
            if int(summary.get(folder, -1)) != on_disk:
                problems.append(("mismatched", "%s: summary says %s=%s, %d on disk" % (tag, folder, summary.get(folder), on_disk)))
    elif status == 73 and "cannot prepare the spool" in err:
        pass   # refused to start (spool folders or claim folder): nothing was claimed
    elif status not in (74, 75):
        problems.append(("mismatched", "%s: the faulted drain exited %s: %s" % (tag, status, err.strip()[-300:])))
    clean_status, _out, clean_err = drain(args, root)
    if clean_status != 0:
        problems.append(("mismatched", "%s: the clean drain exited %s: %s" % (tag, clean_status, clean_err.strip()[-300:])))
    found = places(spool)
    last = last_outcomes(os.path.join(spool, "audit.jsonl"))
    for jid in ids:
        where = found.get(jid, [])
        if not where:
            problems.append(("lost", "%s: %s is in no folder" % (tag, jid)))
            continue
        if len(where) > 1 or where[0][0] not in TERMINAL:
            problems.append(("stranded", "%s: %s is in %s" % (tag, jid, where)))
            continue
        folder = where[0][0]
        if folder == "delivered" and not receiver.delivered_ok(jid):
            problems.append(("mismatched", "%s: %s is in delivered/ without a 2xx at the receiver" % (tag, jid)))
        if last.get(jid) != folder:
            problems.append(("mismatched", "%s: %s is in %s/, its last outcome line says %s" % (tag, jid, folder, last.get(jid))))
    for text in lanes.take(run):
        problems.append(("mismatched", "%s: %s" % (tag, text)))
    if problems and args.keep:
        problems.append(("note", "%s: kept %s" % (tag, root)))
    else:
        shutil.rmtree(root, ignore_errors=True)
    return faults, calls, problems


def schedule(calls, quick):
    """Which N to try for a family whose clean drain makes `calls` calls: every N up to a
    bound, then spread evenly over the rest."""
    dense = 6 if quick else 12
    spread = 4 if quick else 22
    ns = list(range(1, min(calls, dense) + 1))
    if calls > dense:
        step = max(1, (calls - dense) // spread)
        ns += list(range(dense + step, calls + 1, step))
    return ns


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--so", required=True)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    args.work = tempfile.mkdtemp(prefix="outbound-faults-")
    lanes = LaneOrder()
    receiver = start_receiver(lanes)
    families = args.families.split(",")
    totals = {"faults": 0, "lost": 0, "stranded": 0, "mismatched": 0, "runs": 0}
    run_number = [0]
    lock = threading.Lock()

    def next_run():
        with lock:
            run_number[0] += 1
            return run_number[0]

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.parallel) as pool:
        # A probe per family: how many calls a drain makes (FAULT_N past the end injects none).
        probes = {f: pool.submit(one_run, args, receiver, lanes, next_run(), f, 10**9, False, "EIO") for f in families}
        plan = []
        for index, family in enumerate(families):
            _faults, calls, problems = probes[family].result()
            for kind, text in problems:
                print("probe %s" % text, flush=True)
                if kind in totals:
                    totals[kind] += 1
            for n in schedule(calls, args.quick):
                errno_name = TRANSIENT[(n + index) % len(TRANSIENT)]
                plan.append((family, n, False, errno_name))
                if n % 2 == 0 or n <= 3:
                    plan.append((family, n, True, TRANSIENT[(n + index + 1) % len(TRANSIENT)]))
            print("%s: %d calls in a clean drain" % (family, calls), flush=True)
        futures = [pool.submit(one_run, args, receiver, lanes, next_run(), *item) for item in plan]
        for future in concurrent.futures.as_completed(futures):
            faults, _calls, problems = future.result()
            totals["faults"] += faults
            totals["runs"] += 1
            for kind, text in problems:
                print(text, flush=True)
                if kind in totals:
                    totals[kind] += 1
    shutil.rmtree(args.work, ignore_errors=True)
    print("runs=%d" % totals["runs"])
    print("faults=%d lost=%d stranded=%d mismatched=%d" % (totals["faults"], totals["lost"], totals["stranded"],
                                                         totals["mismatched"]))
    sys.exit(0 if totals["lost"] == totals["stranded"] == totals["mismatched"] == 0 else 1)


if __name__ == "__main__":
    main()
