#define _GNU_SOURCE
#include "COutbound.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

size_t outbound_discard_body(char *data, size_t size, size_t count, void *userdata) {
    (void)data;
    (void)userdata;
    return size * count;
}

size_t outbound_collect_body(char *data, size_t size, size_t count, void *userdata) {
    outbound_body_sink *sink = userdata;
    size_t bytes = size * count;
    if (bytes > sink->limit - sink->length) {
        return 0;
    }
    memcpy(sink->bytes + sink->length, data, bytes);
    sink->length += bytes;
    return bytes;
}

/* OpenSSL 3's one-shot SHA256() looks the algorithm up in its provider tables on every call,
 * which costs more than hashing a job's body; the implementation is fetched once instead. */
static EVP_MD *sha256_implementation;
static pthread_once_t sha256_fetched = PTHREAD_ONCE_INIT;

static void sha256_fetch(void) {
    sha256_implementation = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void outbound_sha256_hex(const void *bytes, size_t length, char hex[65]) {
    static const char digits[] = "0123456789abcdef";
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digestLength = 0;
    pthread_once(&sha256_fetched, sha256_fetch);
    if (sha256_implementation == NULL
        || !EVP_Digest(bytes, length, digest, &digestLength, sha256_implementation, NULL)
        || digestLength != SHA256_DIGEST_LENGTH) {
        SHA256((const unsigned char *)bytes, length, digest);
    }
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 0x0f];
    }
    hex[64] = '\0';
}

const char *outbound_x509_verify_error_text(long result) {
    return X509_verify_cert_error_string(result);
}

int outbound_signalfd_open(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) {
        return -1;
    }
    /* A shell starting us in the background sets SIGINT to SIG_IGN, and an ignored signal
       never reaches a signalfd: take the default disposition back (blocked, it kills nothing). */
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int outbound_signalfd_read(int fd) {
    struct signalfd_siginfo info;
    ssize_t got = read(fd, &info, sizeof info);
    if (got == (ssize_t)sizeof info) {
        return (int)info.ssi_signo;
    }
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return 0;
    }
    return -1;
}

int outbound_rename_noreplace(const char *from, const char *to) {
    return outbound_renameat_noreplace(AT_FDCWD, from, AT_FDCWD, to);
}

int outbound_renameat_noreplace(int from_dir, const char *from, int to_dir, const char *to) {
    long result = syscall(SYS_renameat2, from_dir, from, to_dir, to, RENAME_NOREPLACE);
    if (result == 0 || (errno != EINVAL && errno != ENOSYS)) {
        return (int)result;
    }
    /* No RENAME_NOREPLACE here: link(2) refuses an existing target atomically. */
    if (linkat(from_dir, from, to_dir, to, 0) != 0) {
        return -1;
    }
    return unlinkat(from_dir, from, 0);
}

int outbound_thread_set_batch(void) {
    struct sched_param parameters = {0};
    return sched_setscheduler(0, SCHED_BATCH, &parameters);
}

int outbound_thread_set_name(const char *name) {
    return pthread_setname_np(pthread_self(), name);
}

int outbound_o_noatime(void) {
    return O_NOATIME;
}
