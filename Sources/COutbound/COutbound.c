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
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <zlib.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

static int outbound_meter_prerequest(void *data, char *primary_ip, char *local_ip, int primary_port, int local_port) {
    outbound_transfer_meter *meter = data;
    (void)primary_ip;
    (void)local_ip;
    (void)primary_port;
    (void)local_port;
    if (meter->sends >= meter->max_sends) {
        meter->resend_refused = 1;
        return CURL_PREREQFUNC_ABORT;
    }
    meter->sends += 1;
    return CURL_PREREQFUNC_OK;
}

/* Counts `length` more response bytes; 0 once over the cap (libcurl then ends the transfer). */
static int outbound_meter_take(outbound_transfer_meter *meter, size_t length) {
    meter->received += length;
    if (meter->received > meter->max_response_bytes) {
        meter->capped = 1;
        return 0;
    }
    return 1;
}

int outbound_status_line_code(const char *line, size_t length) {
    size_t at = 0;
    if (length < 12 || line[0] != 'H' || line[1] != 'T' || line[2] != 'T' || line[3] != 'P' || line[4] != '/') {
        return 0;
    }
    while (at < length && line[at] != ' ') at++;
    if (at + 4 > length) return 0;
    int code = 0;
    for (size_t i = at + 1; i < at + 4; i++) {
        if (line[i] < '0' || line[i] > '9') return 0;
        code = code * 10 + (line[i] - '0');
    }
    return code;
}

static size_t outbound_meter_header(char *data, size_t size, size_t count, void *userdata) {
    outbound_transfer_meter *meter = userdata;
    size_t length = size * count;
    int code = outbound_status_line_code(data, length);
    if (code != 0) meter->status = code;
    return outbound_meter_take(meter, length) ? length : 0;
}

static size_t outbound_meter_body(char *data, size_t size, size_t count, void *userdata) {
    outbound_transfer_meter *meter = userdata;
    size_t length = size * count;
    if (!outbound_meter_take(meter, length)) return 0;
    if (meter->body != NULL) {
        if (length > meter->body_capacity - meter->body_length) {
            meter->capped = 1;
            return 0;
        }
        memcpy(meter->body + meter->body_length, data, length);
        meter->body_length += length;
    }
    return length;
}

CURLcode outbound_easy_install_meter(CURL *easy, outbound_transfer_meter *meter) {
    CURLcode code;
    if ((code = curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, outbound_meter_prerequest)) != CURLE_OK) return code;
    if ((code = curl_easy_setopt(easy, CURLOPT_PREREQDATA, meter)) != CURLE_OK) return code;
    if ((code = curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, outbound_meter_header)) != CURLE_OK) return code;
    if ((code = curl_easy_setopt(easy, CURLOPT_HEADERDATA, meter)) != CURLE_OK) return code;
    if ((code = curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, outbound_meter_body)) != CURLE_OK) return code;
    return curl_easy_setopt(easy, CURLOPT_WRITEDATA, meter);
}

/* SHA-256 through OpenSSL's direct routines (SHA256_Init/Update/Final), not EVP: the EVP path
 * first builds OpenSSL 3's provider and algorithm-name tables, which cost an `enqueue` process
 * more CPU than the rest of its start-up together, for one hash. The direct routines are the
 * same OpenSSL code (its SHA extensions where the CPU has them) without that set-up. They are
 * deprecated in OpenSSL 3 in favour of EVP, hence the pragma. OpenSSL's configuration and
 * providers still apply where policy matters: OAuth's signatures (Crypto.c) go through EVP. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
void outbound_sha256_hex(const void *bytes, size_t length, char hex[65]) {
    static const char digits[] = "0123456789abcdef";
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256_CTX context;
    SHA256_Init(&context);
    SHA256_Update(&context, bytes, length);
    SHA256_Final(digest, &context);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 0x0f];
    }
    hex[64] = '\0';
}
#pragma GCC diagnostic pop

void *outbound_gz_open(const char *path) {
    gzFile file = gzopen(path, "rb");
    if (file != NULL) {
        gzbuffer(file, 256 * 1024);
    }
    return file;
}

int outbound_gz_read(void *file, void *buffer, unsigned length) {
    return gzread((gzFile)file, buffer, length);
}

const char *outbound_gz_error(void *file) {
    int code = 0;
    return gzerror((gzFile)file, &code);
}

void outbound_gz_close(void *file) {
    gzclose((gzFile)file);
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

int outbound_eventfd_open(void) {
    return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

int outbound_o_noatime(void) {
    return O_NOATIME;
}
