"""Starting, measuring and stopping the processes a benchmark or campaign runs.

Shared by scripts/bench.d/ and the campaigns: `run_measured` (wall time, peak RSS and CPU
of one command, alone), `stop_group`, `stop_process`, `free_port`, `port_answers`, and
`Nginx` (a private nginx answering 204 on the ports asked for). Import it with

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
    import processes

Run as `processes.py rusage OUTFILE -- CMD...` it is the peak-RSS wrapper used when GNU
time is missing.
"""
import os
import signal
import socket
import subprocess
import sys
import time


class ProcessError(Exception):
    """A helper process (nginx) would not start."""


# ---------------------------------------------------------------- ports

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def port_answers(port):
    s = socket.socket()
    s.settimeout(0.2)
    try:
        s.connect(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


# ---------------------------------------------------------------- stopping

def stop_group(proc):
    """SIGTERM to the command's whole process group (it was started with
    start_new_session=True), SIGKILL if it lingers."""
    for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except OSError:
            return
        try:
            proc.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def stop_process(proc, timeout):
    """SIGTERM, then wait; SIGKILL if it will not go. Returns (exit code or None if killed,
    seconds taken)."""
    if proc.poll() is not None:
        return proc.returncode, 0.0
    start = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None, time.monotonic() - start
    return proc.returncode, time.monotonic() - start


def interrupt_on_sigterm():
    """SIGTERM unwinds like Ctrl-C (KeyboardInterrupt), so `finally` blocks stop what the
    script started."""
    def on_term(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, on_term)


# ---------------------------------------------------------------- measuring one command

class Measured:
    """rc, wall (s), maxrss_kib, cpu (user + system s), stdout, stderr (bytes), started
    (wall-clock time.time() at the start)."""

    def __init__(self, rc, wall, maxrss_kib, cpu, stdout, stderr, started):
        self.rc = rc
        self.wall = wall
        self.maxrss_kib = maxrss_kib
        self.cpu = cpu
        self.stdout = stdout
        self.stderr = stderr
        self.started = started


def run_measured(cmd, work, tag="run", rusage_tool="gnu-time"):
    """Runs `cmd` under a small rusage wrapper (GNU time, or `rusage_tool="python"`: a fresh
    python running this file) so that peak RSS belongs to this command alone. Wall time is
    taken here around the whole thing; stdout and stderr go through files in `work`."""
    out_path = os.path.join(work, tag + ".stdout")
    err_path = os.path.join(work, tag + ".stderr")
    ru_path = os.path.join(work, tag + ".rusage")
    if rusage_tool == "gnu-time":
        wrapped = ["/usr/bin/time", "-f", "%M %U %S", "-o", ru_path] + cmd
    else:
        wrapped = [sys.executable, os.path.abspath(__file__), "rusage", ru_path, "--"] + cmd
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.time()
        start = time.monotonic()
        # Its own process group, so an interruption stops the command and not just the wrapper.
        proc = subprocess.Popen(wrapped, stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            rc = proc.wait()
        except BaseException:
            stop_group(proc)
            raise
        wall = time.monotonic() - start
    maxrss, cpu = float("nan"), float("nan")
    try:
        with open(ru_path) as f:
            last = [line for line in f.read().splitlines() if line.strip()][-1].split()
        maxrss, cpu = int(last[0]), float(last[1]) + float(last[2])
    except (OSError, IndexError, ValueError):
        pass
    with open(out_path, "rb") as f:
        stdout = f.read()
    with open(err_path, "rb") as f:
        stderr = f.read()
    for p in (out_path, err_path, ru_path):
        try:
            os.unlink(p)
        except OSError:
            pass
    return Measured(rc, wall, maxrss, cpu, stdout, stderr, started)


def rusage_main(argv):
    """`rusage OUTFILE -- CMD...`: the fallback wrapper when GNU time is missing. A fresh
    interpreter, so the child's peak RSS is at most this small process's, never the driver's."""
    out_path, rest = argv[0], argv[1:]
    if rest and rest[0] == "--":
        rest = rest[1:]
    proc = subprocess.Popen(rest)
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    with open(out_path, "w") as f:
        f.write("%d %.3f %.3f\n" % (ru.ru_maxrss, ru.ru_utime, ru.ru_stime))
    rc = proc.returncode
    return rc if rc >= 0 else 128 - rc


# ---------------------------------------------------------------- nginx

class Nginx:
    """One nginx master with a server block per port, answering 204 to everything.

    start(ports, tls=(cert, key), stamp_log=PATH, log_format="$msec $status",
          log_buffer="buffer=256k flush=1s"): with `stamp_log`, every request is logged there
    in `log_format` when nginx answers it (the one clock both senders are measured by)."""

    def __init__(self, binary, folder):
        self.binary = binary
        self.folder = folder
        self.proc = None

    def start(self, ports, tls=None, stamp_log=None, log_format="$msec $status", log_buffer="", locations=()):
        """Serves 204 on every port; `locations`, nginx `location` blocks (one line each),
        come before that in every server."""
        os.makedirs(self.folder, exist_ok=True)
        # Workers may run as an unprivileged user: let them reach their temp folders.
        os.chmod(os.path.dirname(self.folder), 0o711)
        os.chmod(self.folder, 0o755)
        lines = [
            "daemon off;", "master_process on;", "worker_processes %s;" % os.environ.get("BENCH_NGINX_WORKERS", "1"),
            "pid %s/nginx.pid;" % self.folder, "lock_file %s/nginx.lock;" % self.folder,
            "error_log %s/error.log warn;" % self.folder, "events { worker_connections 4096; }", "http {",
        ]
        if stamp_log:
            lines += ["    log_format stamp '%s';" % log_format,
                      "    access_log %s stamp%s;" % (stamp_log, " " + log_buffer if log_buffer else "")]
        else:
            lines.append("    access_log off;")
        lines += ["    server_tokens off;", "    client_body_temp_path %s/client_body;" % self.folder,
                  "    client_body_buffer_size 64k;", "    keepalive_requests 1000000;", "    keepalive_timeout 300s;"]
        for module in ("proxy", "fastcgi", "uwsgi", "scgi"):
            lines.append("    %s_temp_path %s/%s;" % (module, self.folder, module))
        for port in ports:
            lines.append("    server {")
            if tls:
                lines += ["        listen 127.0.0.1:%d ssl backlog=4096;" % port,
                          "        ssl_certificate %s;" % tls[0], "        ssl_certificate_key %s;" % tls[1],
                          "        ssl_protocols TLSv1.3;", "        ssl_session_cache shared:tls:10m;"]
            else:
                lines.append("        listen 127.0.0.1:%d backlog=4096;" % port)
            lines += ["        %s" % location for location in locations]
            lines += ["        location / { return 204; }", "    }"]
        lines.append("}")
        conf = os.path.join(self.folder, "nginx.conf")
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        base = [self.binary, "-p", self.folder + "/", "-c", conf, "-e", self.folder + "/error.log"]
        check = subprocess.run(base + ["-t", "-q"], capture_output=True, text=True)
        if check.returncode != 0:
            raise ProcessError("nginx rejected its config: %s" % check.stderr.strip())
        self.proc = subprocess.Popen(base, start_new_session=True)
        deadline = time.monotonic() + 5
        for port in ports:
            while not port_answers(port):
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise ProcessError("nginx did not answer on port %d" % port)
                time.sleep(0.05)

    def worker_cpu_seconds(self):
        """User + system CPU seconds its worker processes have used so far (from /proc)."""
        if not self.proc:
            return 0.0
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % entry) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:  # fields[1] is the parent's pid
                total += int(fields[11]) + int(fields[12])
        return total / ticks

    def stop(self):
        if self.proc and self.proc.poll() is None:
            stop_group(self.proc)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "rusage":
        sys.exit(rusage_main(sys.argv[2:]))
    sys.exit("usage: processes.py rusage OUTFILE -- CMD...")
