"""Spools and Config folders for the scripts that drive the `outbound` binary.

Shared by the benchmarks (scripts/bench.d/), the crash test (scripts/crash.d/) and the fault
campaign (scripts/fault.d/), so that they write configs and jobs, and count what a run left,
in one way. Import it with

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
    import outbound_spool as spool

- `write_config(folder, endpoints, settings, ...)`: outbound.json and clients.json;
- `job(...)`, `make_spool(root, jobs)`, `drop_job(spool, name, job)`: job files, either a
  whole spool built beside its place and renamed in, or one job written in tmp/ and renamed
  into incoming/ (the way a producer must);
- `counts(spool)`, `describe(spool)`, `Census(spool)`: where the jobs are;
- `audit_records(spool)`, `audit_events(spool)`: the audit log.
"""
import json
import os
import re
import shutil
import time

FOLDERS = ["tmp", "incoming", "active", "deferred", "hold", "delivered", "failed", "refused", "corrupt"]
PLACES = FOLDERS[1:]   # where a job can be (tmp/ holds only what a producer is writing)
TEST_CLIENT_ID = "6c12f6ab-2a3e-4f0e-9d7c-1f2e3d4c5b6a"


class AuditError(Exception):
    """The audit log is missing or has a line that is not JSON."""


# ---------------------------------------------------------------- config

def write_config(folder, endpoints, settings=None, client_id=TEST_CLIENT_ID, application="Test Receiver",
                 environment="non-production", status="active"):
    """A Config folder: outbound.json (`settings` over environment non-production) and a
    clients.json with one client allowed to call `endpoints` (URL prefixes)."""
    os.makedirs(folder, exist_ok=True)
    outbound = dict({"environment": "non-production"}, **(settings or {}))
    clients = {"clients": [{
        "clientId": client_id,
        "application": application,
        "environment": environment,
        "status": status,
        "endpoints": list(endpoints),
    }]}
    with open(os.path.join(folder, "outbound.json"), "w") as f:
        json.dump(outbound, f, indent=2)
    with open(os.path.join(folder, "clients.json"), "w") as f:
        json.dump(clients, f, indent=2)


# ---------------------------------------------------------------- jobs

def job_id(n):
    return "job-%06d" % n


def is_job_name(name):
    """The dispatcher's rule (Spool.isJobName): *.json, not starting with a dot."""
    return name.endswith(".json") and not name.startswith(".") and len(name) > 5


def job(url, body, client_id=TEST_CLIENT_ID, **fields):
    """A job file's bytes (compact JSON); `fields` adds id, orderingKey, headers, ..."""
    doc = {"clientId": client_id, "url": url, "body": body}
    doc.update(fields)
    return json.dumps(doc, separators=(",", ":")).encode("utf-8")


def _data(content):
    if isinstance(content, dict):
        return json.dumps(content, separators=(",", ":")).encode("utf-8")
    return content.encode("utf-8") if isinstance(content, str) else content


def _write_new(path, content):
    with open(path, "xb") as f:
        f.write(_data(content))


def drop_job(spool, name, content):
    """Writes `content` (bytes, str or a dict) to tmp/NAME and renames it into incoming/NAME.
    Returns the path in incoming/."""
    final = os.path.join(spool, "incoming", name)
    staged = os.path.join(spool, "tmp", name)
    _write_new(staged, content)
    os.rename(staged, final)
    return final


def make_spool(root, jobs, staged=True):
    """A fresh spool at `root` (replacing one there) with `jobs`, [(file name, content)], in
    incoming/, written in the order given. `staged`: built at ROOT.staging and renamed into
    place whole, so nothing sees a half-made spool; else each job is dropped through tmp/."""
    if staged:
        staging = root + ".staging"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(os.path.join(staging, "incoming"))
        os.makedirs(os.path.join(staging, "tmp"))
        incoming = os.path.join(staging, "incoming")
        for name, content in jobs:
            _write_new(os.path.join(incoming, name), content)
        os.rename(staging, root)
    else:
        os.makedirs(os.path.join(root, "tmp"))
        os.makedirs(os.path.join(root, "incoming"))
        for name, content in jobs:
            drop_job(root, name, content)


def settle():
    """Writes back dirty pages (from making a spool) before a timed run, so the run does not
    pay for the generator's writeback."""
    os.sync()
    time.sleep(0.5)


# ---------------------------------------------------------------- where the jobs are

def json_files(folder):
    """Job files below `folder`, at any depth (claim folders, buckets)."""
    found = []
    if not os.path.isdir(folder):
        return found
    for dirpath, _, names in os.walk(folder):
        found.extend(os.path.join(dirpath, n) for n in names if is_job_name(n))
    return found


def count_files(folder):
    """Job files directly in `folder` (0 if it does not exist): cheap enough to poll."""
    try:
        with os.scandir(folder) as it:
            return sum(1 for e in it if is_job_name(e.name))
    except FileNotFoundError:
        return 0


def counts(spool):
    """{folder: number of job files in it, at any depth}, for every folder of FOLDERS."""
    return {folder: len(json_files(os.path.join(spool, folder))) for folder in FOLDERS}


def describe(spool):
    """"delivered 10000" or "incoming 3, active 2": the folders that hold jobs."""
    return ", ".join("%s %d" % (k, v) for k, v in counts(spool).items() if v) or "empty"


def holds_nothing_but_empty_folders(path):
    """True for a claim folder whose building a kill interrupted: no job, at most its empty
    bucket subfolders and its lock file (a kill between the lock file's creation and the
    folder's rename into place leaves it, unlocked, since the kernel dropped the flock)."""
    for name in os.listdir(path):
        inner = os.path.join(path, name)
        if name == ".lock" and os.path.isfile(inner) and not os.path.islink(inner):
            continue
        if os.path.islink(inner) or not os.path.isdir(inner) or os.listdir(inner):
            return False
    return True


JOB_FILE = re.compile(r"^(job-\d{6})(?:~\d+)?\.json$")


class Census:
    """Where every file of the spool is: job id -> list of places (folder/name, or
    active/<claim folder>/name), plus anything unexpected. `job_file` is a pattern whose
    group 1 is the job id (a file put aside as NAME~2.json is the same job); a job file that
    does not match it is a stray."""

    def __init__(self, spool, job_file=JOB_FILE):
        self.job_file = job_file
        self.where = {}
        self.active_areas = []      # entries of active/ (claim folders and stray files)
        self.active_jobs = []       # (area, file name) of each claimed job
        self.strays = []            # files that look like no job of ours
        self.tmp = []
        for folder in FOLDERS:
            path = os.path.join(spool, folder)
            try:
                entries = sorted(os.listdir(path))
            except FileNotFoundError:
                continue
            if folder == "tmp":
                self.tmp = entries
            elif folder == "active":
                self._active(path, entries)
            else:
                for name in entries:
                    if name.endswith(".json.reason"):
                        continue
                    if is_job_name(name):
                        self.note(folder, name)
                    else:
                        self.strays.append("%s/%s" % (folder, name))

    def _active(self, path, entries):
        self.active_areas = entries
        for entry in entries:
            sub = os.path.join(path, entry)
            if os.path.isdir(sub) and not os.path.islink(sub):
                for name in sorted(os.listdir(sub)):
                    inner = os.path.join(sub, name)
                    if is_job_name(name):
                        self.note("active/" + entry, name)
                        self.active_jobs.append((entry, name))
                    elif not name.startswith(".") and os.path.isdir(inner) and not os.path.islink(inner):
                        # A claim folder's bucket subfolder.
                        for job_name in sorted(os.listdir(inner)):
                            if is_job_name(job_name):
                                self.note("active/" + entry, job_name)
                                self.active_jobs.append((entry, job_name))
            elif is_job_name(entry):
                self.note("active", entry)
                self.active_jobs.append(("", entry))

    def note(self, place, name):
        match = self.job_file.match(name)
        if not match:
            self.strays.append("%s/%s" % (place, name))
            return
        self.where.setdefault(match.group(1), []).append("%s/%s" % (place, name))

    def count(self, folder):
        return sum(1 for places in self.where.values() for p in places if p.split("/", 1)[0] == folder)


# ---------------------------------------------------------------- the audit log

def audit_records(spool):
    """Every line of the spool's audit log, parsed; AuditError if it is missing or a line is
    not JSON."""
    path = os.path.join(spool, "audit.jsonl")
    if not os.path.exists(path):
        raise AuditError("no audit log at %s" % path)
    records = []
    with open(path, "rb") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except ValueError:
                raise AuditError("audit line %d is not JSON: %r" % (number, line[:200]))
    return records


def audit_events(spool, durations=None):
    """{event: [job, ...]} from the audit log. With `durations` (a list), appends each
    `delivered` line's `ms` to it."""
    events = {}
    for record in audit_records(spool):
        events.setdefault(record.get("event"), []).append(record.get("job"))
        if durations is not None and record.get("event") == "delivered" and isinstance(record.get("ms"), (int, float)):
            durations.append(record["ms"])
    return events
