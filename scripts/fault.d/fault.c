/*
 * fault.so: SQLite-style fault injection for outbound's spool I/O, loaded with LD_PRELOAD.
 * No test hook lives in the binary: this library wraps the libc symbols the binary and
 * libswiftGlibc actually import (`nm -D .build/debug/outbound`: open and openat come through
 * libswiftGlibc, renameat2 through syscall(2), the rest directly) and fails the Nth call of
 * one chosen family, on paths under one folder only.
 *
 *   FAULT_ROOT=/abs/spool     only calls on paths (or descriptors) under this folder count
 *   FAULT_CALL=rename         the family: open read write fsync rename link mkdir unlink
 *                             rmdir opendir readdir flock stat
 *   FAULT_N=3                 the Nth call of that family (counted from 1) fails ...
 *   FAULT_PERSIST=1           ... and every later one too (default: that one call only)
 *   FAULT_TIMES=K             ... or the K calls from the Nth on (without FAULT_PERSIST)
 *   FAULT_ERRNO=ENOSPC        the errno it fails with (a name below, or a number)
 *   FAULT_LOG=/abs/file       one line per injected fault: "fault CALL N ERRNO PATH"
 *
 * Order tracing, for the durability-order tests (FAULT_TRACE=/abs/file, FAULT_AUDIT=/abs/log):
 *   "W EVENT JOB"   a line written to the audit log (after the write returned)
 *   "f N"           the Nth fsync (or fdatasync) of the audit log begins (before the call)
 *   "F N"           ... and returned 0 (after the call): it covers every "W" before its "f N"
 *   "C"             a connect(2) to an IPv4/IPv6 address is being made (before the call)
 *   "S KEY"         a request with Idempotency-Key KEY is being sent (before the send)
 *   "R NAME FOLDER" a rename of NAME into FOLDER is being made (before the rename)
 * Lines are appended under one lock in the order the events happened, so a "W" before an
 * "f N" whose "F N" comes before an "S" or "R" was on disk before that send or rename began.
 * FAULT_FSYNC_DELAY_MS=N sleeps before each fsync of the audit log, so a send or a rename
 * that does not wait for the fsync shows up before its "F" every time, not only by luck.
 *
 * Slow disks, without tracing: FAULT_SLOW_FSYNC_UNDER=/abs/folder FAULT_SLOW_FSYNC_MS=N
 * sleeps N ms before every fsync of a file (or folder) under that folder, so a step that
 * waits for it is still under way when a test acts (a signal, say).
 *
 * Another machine's trust store, for the TLS tests: FAULT_CERTS_FROM=/etc/ssl/certs
 * FAULT_CERTS_TO=/abs/folder makes every open, fopen and stat of a path under the first
 * folder look in the second instead, so a test can stand its own CA in for the system's
 * (libcurl's built-in CA bundle and folder) without touching /etc.
 *
 * Built by scripts/fault-test and the tests: cc -shared -fPIC -O2 -o fault.so fault.c -ldl
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static char root[PATH_MAX];
static size_t root_length;
static char family[32];
static long fail_at;
static int persist;
static long times = 1;
static int fail_errno = EIO;
static char log_path[PATH_MAX];
static char trace_path[PATH_MAX];
static char audit_path[PATH_MAX];
static long fsync_delay_ms;
static char slow_root[PATH_MAX];
static size_t slow_root_length;
static long slow_fsync_ms;
static long calls;
static int ready;
static char certs_from[PATH_MAX];
static size_t certs_from_length;
static char certs_to[PATH_MAX];

static void append_line(const char *file, const char *line);

static const struct { const char *name; int value; } errno_names[] = {
    {"EIO", EIO}, {"ENOSPC", ENOSPC}, {"EMFILE", EMFILE}, {"ENFILE", ENFILE}, {"ENOMEM", ENOMEM},
    {"EAGAIN", EAGAIN}, {"EACCES", EACCES}, {"EPERM", EPERM}, {"EROFS", EROFS}, {"EDQUOT", EDQUOT},
    {"EBADF", EBADF}, {"EINVAL", EINVAL}, {"ENOENT", ENOENT}, {"EEXIST", EEXIST}, {"EINTR", EINTR},
    {"EWOULDBLOCK", EWOULDBLOCK}, {"EXDEV", EXDEV}, {NULL, 0},
};

static void setting(const char *name, char *into, size_t size) {
    const char *value = getenv(name);
    if (value) snprintf(into, size, "%s", value);
}

__attribute__((constructor)) static void fault_init(void) {
    setting("FAULT_ROOT", root, sizeof root);
    root_length = strlen(root);
    setting("FAULT_CALL", family, sizeof family);
    setting("FAULT_LOG", log_path, sizeof log_path);
    setting("FAULT_TRACE", trace_path, sizeof trace_path);
    setting("FAULT_AUDIT", audit_path, sizeof audit_path);
    const char *n = getenv("FAULT_N");
    fail_at = n ? atol(n) : 0;
    const char *p = getenv("FAULT_PERSIST");
    persist = p && strcmp(p, "1") == 0;
    const char *k = getenv("FAULT_TIMES");
    if (k && atol(k) > 0) times = atol(k);
    const char *delay = getenv("FAULT_FSYNC_DELAY_MS");
    fsync_delay_ms = delay ? atol(delay) : 0;
    setting("FAULT_SLOW_FSYNC_UNDER", slow_root, sizeof slow_root);
    slow_root_length = strlen(slow_root);
    const char *slow = getenv("FAULT_SLOW_FSYNC_MS");
    slow_fsync_ms = slow ? atol(slow) : 0;
    const char *e = getenv("FAULT_ERRNO");
    if (e) {
        fail_errno = atoi(e);
        for (int i = 0; errno_names[i].name; i++)
            if (strcmp(errno_names[i].name, e) == 0) fail_errno = errno_names[i].value;
    }
    setting("FAULT_CERTS_FROM", certs_from, sizeof certs_from);
    certs_from_length = strlen(certs_from);
    setting("FAULT_CERTS_TO", certs_to, sizeof certs_to);
    ready = 1;
}

/* FAULT_COUNT=/abs/file: the number of calls of FAULT_CALL's family under FAULT_ROOT made
 * before the exit (with FAULT_N past it, for a probe run that injects nothing). */
__attribute__((destructor)) static void fault_report(void) {
    const char *file = getenv("FAULT_COUNT");
    if (!file) return;
    char line[64];
    snprintf(line, sizeof line, "%ld\n", __atomic_load_n(&calls, __ATOMIC_SEQ_CST));
    append_line(file, line);
}

#define REAL(name) \
    static __typeof__(&name) real_##name; \
    if (!real_##name) real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

/* ------------------------------------------------------------------ paths */

static int fd_path(int fd, char *out, size_t size) {
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t got = readlink(link, out, size - 1);
    if (got < 0) return -1;
    out[got] = 0;
    return 0;
}

/* The absolute path of NAME relative to the folder open as DIRFD. */
static void resolve(int dirfd, const char *name, char *out, size_t size) {
    if (!name) { out[0] = 0; return; }
    if (name[0] == '/') { snprintf(out, size, "%s", name); return; }
    char base[PATH_MAX];
    if (dirfd == AT_FDCWD) {
        if (!getcwd(base, sizeof base)) base[0] = 0;
    } else if (fd_path(dirfd, base, sizeof base) != 0) {
        base[0] = 0;
    }
    snprintf(out, size, "%s/%s", base, name);
}

static int under_root(const char *path) {
    return root_length > 0 && strncmp(path, root, root_length) == 0
        && (path[root_length] == '/' || path[root_length] == 0);
}

/* ------------------------------------------------------------------ faults */

static void append_line(const char *file, const char *line) {
    REAL(open);
    REAL(write);
    REAL(close);
    int fd = real_open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return;
    real_write(fd, line, strlen(line));
    real_close(fd);
}

/* Whether this call (of family NAME, on PATH) is to fail; sets errno when it is. */
static int should_fail(const char *name, const char *path) {
    if (!ready || fail_at <= 0 || strcmp(family, name) != 0 || !under_root(path)) return 0;
    long n = __atomic_add_fetch(&calls, 1, __ATOMIC_SEQ_CST);
    if (n < fail_at || (!persist && n >= fail_at + times)) return 0;
    if (log_path[0]) {
        char line[PATH_MAX + 128];
        snprintf(line, sizeof line, "fault %s %ld %d %s\n", name, n, fail_errno, path);
        append_line(log_path, line);
    }
    errno = fail_errno;
    return 1;
}

static int wanted(const char *name) { return ready && fail_at > 0 && strcmp(family, name) == 0; }

static int path_fails(const char *name, int dirfd, const char *path) {
    if (!wanted(name)) return 0;
    char full[PATH_MAX];
    resolve(dirfd, path, full, sizeof full);
    return should_fail(name, full);
}

static int fd_fails(const char *name, int fd) {
    if (!wanted(name)) return 0;
    char full[PATH_MAX];
    if (fd_path(fd, full, sizeof full) != 0) return 0;
    return should_fail(name, full);
}

/* ------------------------------------------------------------------ order tracing */

static pthread_mutex_t trace_lock = PTHREAD_MUTEX_INITIALIZER;

static void trace(const char *line) {
    if (!trace_path[0]) return;
    pthread_mutex_lock(&trace_lock);
    append_line(trace_path, line);
    pthread_mutex_unlock(&trace_lock);
}

static int is_audit(int fd) {
    if (!trace_path[0] || !audit_path[0]) return 0;
    char full[PATH_MAX];
    return fd_path(fd, full, sizeof full) == 0 && strcmp(full, audit_path) == 0;
}

/* Copies the JSON string value after KEY (e.g. "\"job\":\"") in [start, end) into OUT. */
static void field(const char *start, const char *end, const char *key, char *out, size_t size) {
    out[0] = 0;
    size_t key_length = strlen(key);
    for (const char *p = start; p + key_length < end; p++) {
        if (memcmp(p, key, key_length) != 0) continue;
        p += key_length;
        size_t i = 0;
        while (p < end && *p != '"' && i + 1 < size) out[i++] = *p++;
        out[i] = 0;
        return;
    }
}

static void trace_audit_lines(const char *buffer, size_t count) {
    const char *line = buffer, *end = buffer + count;
    while (line < end) {
        const char *stop = memchr(line, '\n', (size_t)(end - line));
        if (!stop) stop = end;
        char event[64], job[256], text[400];
        field(line, stop, "\"event\":\"", event, sizeof event);
        field(line, stop, "\"job\":\"", job, sizeof job);
        if (event[0]) {
            snprintf(text, sizeof text, "W %s %s\n", event, job[0] ? job : "-");
            trace(text);
        }
        line = stop + 1;
    }
}

static void trace_send(const void *buffer, size_t count) {
    if (!trace_path[0]) return;
    const char *start = buffer, *end = start + count;
    char key[256], text[300];
    field(start, end, "Idempotency-Key: ", key, sizeof key);
    char *cr = strchr(key, '\r');
    if (cr) *cr = 0;
    if (!key[0]) return;
    snprintf(text, sizeof text, "S %s\n", key);
    trace(text);
}

static void trace_rename(int to_dir, const char *to) {
    if (!trace_path[0] || !to) return;
    char full[PATH_MAX], text[PATH_MAX + 8];
    resolve(to_dir, to, full, sizeof full);
    char *slash = strrchr(full, '/');
    if (!slash) return;
    *slash = 0;
    const char *folder = strrchr(full, '/');
    snprintf(text, sizeof text, "R %s %s\n", slash + 1, folder ? folder + 1 : full);
    trace(text);
}

/* `path`, or where FAULT_CERTS_FROM/FAULT_CERTS_TO send it (written into `buffer`). */
static const char *redirected(const char *path, char *buffer, size_t size) {
    if (!path || !certs_from_length || !certs_to[0] || strncmp(path, certs_from, certs_from_length) != 0) return path;
    if (path[certs_from_length] != '/' && path[certs_from_length] != 0) return path;
    snprintf(buffer, size, "%s%s", certs_to, path + certs_from_length);
    return buffer;
}

/* ------------------------------------------------------------------ the wrappers */

int open(const char *path, int flags, ...) {
    REAL(open);
    mode_t mode = 0;
    if (flags & (O_CREAT | __O_TMPFILE)) { va_list a; va_start(a, flags); mode = va_arg(a, mode_t); va_end(a); }
    char moved[PATH_MAX];
    path = redirected(path, moved, sizeof moved);
    if (path_fails("open", AT_FDCWD, path)) return -1;
    return real_open(path, flags, mode);
}

int open64(const char *path, int flags, ...) {
    REAL(open64);
    mode_t mode = 0;
    if (flags & (O_CREAT | __O_TMPFILE)) { va_list a; va_start(a, flags); mode = va_arg(a, mode_t); va_end(a); }
    char moved[PATH_MAX];
    path = redirected(path, moved, sizeof moved);
    if (path_fails("open", AT_FDCWD, path)) return -1;
    return real_open64(path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...) {
    REAL(openat);
    mode_t mode = 0;
    if (flags & (O_CREAT | __O_TMPFILE)) { va_list a; va_start(a, flags); mode = va_arg(a, mode_t); va_end(a); }
    char moved[PATH_MAX];
    path = redirected(path, moved, sizeof moved);
    if (path_fails("open", dirfd, path)) return -1;
    return real_openat(dirfd, path, flags, mode);
}

ssize_t read(int fd, void *buffer, size_t count) {
    REAL(read);
    if (fd_fails("read", fd)) return -1;
    return real_read(fd, buffer, count);
}

ssize_t pread(int fd, void *buffer, size_t count, off_t offset) {
    REAL(pread);
    if (fd_fails("read", fd)) return -1;
    return real_pread(fd, buffer, count, offset);
}

ssize_t write(int fd, const void *buffer, size_t count) {
    REAL(write);
    if (fd_fails("write", fd)) return -1;
    ssize_t written = real_write(fd, buffer, count);
    if (written > 0 && is_audit(fd)) trace_audit_lines(buffer, (size_t)written);
    return written;
}

static long audit_syncs;

/* Numbers an fsync of the audit log ("f N"), and sleeps FAULT_FSYNC_DELAY_MS; 0 for others. */
static long audit_sync_begins(int fd) {
    if (!is_audit(fd)) return 0;
    long number = __atomic_add_fetch(&audit_syncs, 1, __ATOMIC_SEQ_CST);
    char text[48];
    snprintf(text, sizeof text, "f %ld\n", number);
    trace(text);
    if (fsync_delay_ms > 0) {
        struct timespec pause = {fsync_delay_ms / 1000, (fsync_delay_ms % 1000) * 1000000L};
        nanosleep(&pause, NULL);
    }
    return number;
}

static void audit_sync_ended(long number, int result) {
    if (number == 0 || result != 0) return;
    char text[48];
    snprintf(text, sizeof text, "F %ld\n", number);
    trace(text);
}

/* Sleeps FAULT_SLOW_FSYNC_MS before an fsync of a file under FAULT_SLOW_FSYNC_UNDER. */
static void slow_sync(int fd) {
    if (!slow_root_length || slow_fsync_ms <= 0) return;
    char full[PATH_MAX];
    if (fd_path(fd, full, sizeof full) != 0 || strncmp(full, slow_root, slow_root_length) != 0) return;
    if (full[slow_root_length] != '/' && full[slow_root_length] != 0) return;
    struct timespec pause = {slow_fsync_ms / 1000, (slow_fsync_ms % 1000) * 1000000L};
    nanosleep(&pause, NULL);
}

int fsync(int fd) {
    REAL(fsync);
    if (fd_fails("fsync", fd)) return -1;
    slow_sync(fd);
    long number = audit_sync_begins(fd);
    int result = real_fsync(fd);
    audit_sync_ended(number, result);
    return result;
}

int fdatasync(int fd) {
    REAL(fdatasync);
    if (fd_fails("fsync", fd)) return -1;
    slow_sync(fd);
    long number = audit_sync_begins(fd);
    int result = real_fdatasync(fd);
    audit_sync_ended(number, result);
    return result;
}

int rename(const char *from, const char *to) {
    REAL(rename);
    if (path_fails("rename", AT_FDCWD, from)) return -1;
    trace_rename(AT_FDCWD, to);
    return real_rename(from, to);
}

int renameat(int from_dir, const char *from, int to_dir, const char *to) {
    REAL(renameat);
    if (path_fails("rename", from_dir, from)) return -1;
    trace_rename(to_dir, to);
    return real_renameat(from_dir, from, to_dir, to);
}

int renameat2(int from_dir, const char *from, int to_dir, const char *to, unsigned int flags) {
    REAL(renameat2);
    if (path_fails("rename", from_dir, from)) return -1;
    trace_rename(to_dir, to);
    return real_renameat2(from_dir, from, to_dir, to, flags);
}

/* The binary reaches renameat2 through syscall(2) (COutbound.c). */
long syscall(long number, ...) {
    REAL(syscall);
    va_list a;
    va_start(a, number);
    long x1 = va_arg(a, long), x2 = va_arg(a, long), x3 = va_arg(a, long);
    long x4 = va_arg(a, long), x5 = va_arg(a, long), x6 = va_arg(a, long);
    va_end(a);
    if (number == SYS_renameat2) {
        if (path_fails("rename", (int)x1, (const char *)x2)) return -1;
        trace_rename((int)x3, (const char *)x4);
    }
    return real_syscall(number, x1, x2, x3, x4, x5, x6);
}

int linkat(int from_dir, const char *from, int to_dir, const char *to, int flags) {
    REAL(linkat);
    if (path_fails("link", from_dir, from)) return -1;
    return real_linkat(from_dir, from, to_dir, to, flags);
}

int mkdir(const char *path, mode_t mode) {
    REAL(mkdir);
    if (path_fails("mkdir", AT_FDCWD, path)) return -1;
    return real_mkdir(path, mode);
}

int unlink(const char *path) {
    REAL(unlink);
    if (path_fails("unlink", AT_FDCWD, path)) return -1;
    return real_unlink(path);
}

int unlinkat(int dirfd, const char *path, int flags) {
    REAL(unlinkat);
    if (path_fails((flags & AT_REMOVEDIR) ? "rmdir" : "unlink", dirfd, path)) return -1;
    return real_unlinkat(dirfd, path, flags);
}

int rmdir(const char *path) {
    REAL(rmdir);
    if (path_fails("rmdir", AT_FDCWD, path)) return -1;
    return real_rmdir(path);
}

DIR *opendir(const char *path) {
    REAL(opendir);
    if (path_fails("opendir", AT_FDCWD, path)) return NULL;
    return real_opendir(path);
}

struct dirent *readdir(DIR *dir) {
    REAL(readdir);
    if (fd_fails("readdir", dirfd(dir))) return NULL;
    return real_readdir(dir);
}

int flock(int fd, int operation) {
    REAL(flock);
    if (fd_fails("flock", fd)) return -1;
    return real_flock(fd, operation);
}

int lstat(const char *path, struct stat *info) {
    REAL(lstat);
    if (path_fails("stat", AT_FDCWD, path)) return -1;
    return real_lstat(path, info);
}

int stat(const char *path, struct stat *info) {
    REAL(stat);
    char moved[PATH_MAX];
    return real_stat(redirected(path, moved, sizeof moved), info);
}

FILE *fopen(const char *path, const char *mode) {
    REAL(fopen);
    char moved[PATH_MAX];
    return real_fopen(redirected(path, moved, sizeof moved), mode);
}

FILE *fopen64(const char *path, const char *mode) {
    REAL(fopen64);
    char moved[PATH_MAX];
    return real_fopen64(redirected(path, moved, sizeof moved), mode);
}

int fstat(int fd, struct stat *info) {
    REAL(fstat);
    if (fd_fails("stat", fd)) return -1;
    return real_fstat(fd, info);
}

int connect(int fd, const struct sockaddr *to, socklen_t length) {
    REAL(connect);
    if (trace_path[0] && to && (to->sa_family == AF_INET || to->sa_family == AF_INET6)) trace("C\n");
    return real_connect(fd, to, length);
}

ssize_t send(int fd, const void *buffer, size_t count, int flags) {
    REAL(send);
    trace_send(buffer, count);
    return real_send(fd, buffer, count, flags);
}

ssize_t sendto(int fd, const void *buffer, size_t count, int flags, const struct sockaddr *to, socklen_t length) {
    REAL(sendto);
    trace_send(buffer, count);
    return real_sendto(fd, buffer, count, flags, to, length);
}
