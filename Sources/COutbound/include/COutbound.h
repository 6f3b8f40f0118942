/*
 * COutbound: the project's only C. Swift cannot call variadic C functions, so each
 * libcurl call that takes "..." gets a typed inline wrapper here (the same approach as
 * swift-corelibs-foundation's _CFURLSessionInterface). It also exposes SHA-256 from
 * OpenSSL's libcrypto and the Linux calls (signalfd, renameat2) that Glibc's Swift
 * module does not export. Nothing above OutboundCore/Interop should include this.
 *
 * libcurl: https://curl.se/libcurl/c/curl_easy_setopt.html
 *          https://curl.se/libcurl/c/curl_multi_setopt.html
 *          https://curl.se/libcurl/c/curl_easy_getinfo.html
 */
#ifndef COUTBOUND_H
#define COUTBOUND_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#include "COutboundCrypto.h"

/* ---- curl_easy_setopt, one function per argument type ---------------------- */

/** A long-valued option (CURLOPTTYPE_LONG). */
static inline CURLcode outbound_easy_setopt_long(CURL *easy, CURLoption option, long value) {
    return curl_easy_setopt(easy, option, value);
}

/** A string option; libcurl copies the string (all but CURLOPT_POSTFIELDS). */
static inline CURLcode outbound_easy_setopt_string(CURL *easy, CURLoption option, const char *value) {
    return curl_easy_setopt(easy, option, value);
}

/** A pointer option whose memory the caller keeps alive (CURLOPT_POSTFIELDS, CURLOPT_PRIVATE). */
static inline CURLcode outbound_easy_setopt_pointer(CURL *easy, CURLoption option, const void *value) {
    return curl_easy_setopt(easy, option, value);
}

/** A header list option (CURLOPT_HTTPHEADER); the list must outlive the transfer. */
static inline CURLcode outbound_easy_setopt_slist(CURL *easy, CURLoption option, struct curl_slist *list) {
    return curl_easy_setopt(easy, option, list);
}

/** A curl_off_t option (CURLOPT_POSTFIELDSIZE_LARGE). */
static inline CURLcode outbound_easy_setopt_off(CURL *easy, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(easy, option, value);
}

/** The write callback for response bodies: Outbound never keeps a response body. */
size_t outbound_discard_body(char *data, size_t size, size_t count, void *userdata);

/** Installs outbound_discard_body as the transfer's CURLOPT_WRITEFUNCTION. */
static inline CURLcode outbound_easy_discard_response_body(CURL *easy) {
    return curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, outbound_discard_body);
}

/**
 * Where a response body is collected when it is wanted (a token endpoint's JSON): at most
 * `limit` bytes into `bytes`; a longer body ends the transfer with CURLE_WRITE_ERROR.
 */
typedef struct {
    unsigned char *bytes;
    size_t length;
    size_t limit;
} outbound_body_sink;

size_t outbound_collect_body(char *data, size_t size, size_t count, void *userdata);

/** Installs outbound_collect_body, writing into `sink`, which must outlive the transfer. */
static inline CURLcode outbound_easy_collect_response_body(CURL *easy, outbound_body_sink *sink) {
    CURLcode code = curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, outbound_collect_body);
    return code != CURLE_OK ? code : curl_easy_setopt(easy, CURLOPT_WRITEDATA, (void *)sink);
}

/* ---- curl_easy_getinfo ------------------------------------------------------ */

static inline CURLcode outbound_easy_getinfo_long(CURL *easy, CURLINFO info, long *value) {
    return curl_easy_getinfo(easy, info, value);
}

static inline CURLcode outbound_easy_getinfo_pointer(CURL *easy, CURLINFO info, char **value) {
    return curl_easy_getinfo(easy, info, value);
}

/* ---- curl_multi_setopt ------------------------------------------------------ */

static inline CURLMcode outbound_multi_setopt_long(CURLM *multi, CURLMoption option, long value) {
    return curl_multi_setopt(multi, option, value);
}

/* ---- CURLMsg, whose union Swift imports awkwardly --------------------------- */

/** Reads one finished transfer from curl_multi_info_read; returns 0 when none is left. */
static inline int outbound_multi_next_done(CURLM *multi, CURL **easy, CURLcode *result) {
    int queued = 0;
    CURLMsg *message;
    while ((message = curl_multi_info_read(multi, &queued)) != NULL) {
        if (message->msg == CURLMSG_DONE) {
            *easy = message->easy_handle;
            *result = message->data.result;
            return 1;
        }
    }
    return 0;
}

/* ---- SHA-256 (libcrypto) ---------------------------------------------------- */

/** Writes the 64 lowercase hex digits of SHA-256(bytes) and a NUL into hex[65]. */
void outbound_sha256_hex(const void *bytes, size_t length, char hex[65]);

/**
 * OpenSSL's text for a certificate verification result (CURLINFO_SSL_VERIFYRESULT), such
 * as "certificate has expired": a fixed string that never names a host.
 * https://www.openssl.org/docs/man3.0/man3/X509_verify_cert_error_string.html
 */
const char *outbound_x509_verify_error_text(long result);

/* ---- Linux calls Glibc's Swift module leaves out ---------------------------- */

/**
 * Blocks SIGTERM, SIGINT and SIGHUP for the calling thread (and the threads it starts later)
 * and returns a non-blocking, close-on-exec signalfd that reports them; -1 with errno on error.
 * https://man7.org/linux/man-pages/man2/signalfd.2.html
 */
int outbound_signalfd_open(void);

/** Reads one pending signal from a signalfd: its number, 0 when none is pending, -1 on error. */
int outbound_signalfd_read(int fd);

/**
 * rename(2) that fails with EEXIST instead of replacing an existing target
 * (renameat2 with RENAME_NOREPLACE). Falls back to link(2)+unlink(2) semantics where the
 * file system lacks RENAME_NOREPLACE. https://man7.org/linux/man-pages/man2/rename.2.html
 */
int outbound_rename_noreplace(const char *from, const char *to);

/** The same, with each name relative to a directory descriptor (renameat2's form). */
int outbound_renameat_noreplace(int from_dir, const char *from, int to_dir, const char *to);

/**
 * Puts the calling thread under SCHED_BATCH: it gets its fair share of the CPU but does not
 * preempt a running thread when it wakes. -1 with errno on error.
 * https://man7.org/linux/man-pages/man7/sched.7.html
 */
int outbound_thread_set_batch(void);

/**
 * Names the calling thread (at most 15 bytes), as ps and top show it; an error number on
 * failure. pthread_setname_np needs _GNU_SOURCE, which the Glibc module does not define.
 */
int outbound_thread_set_name(const char *name);

/** O_NOATIME, which the Glibc module does not export (it needs _GNU_SOURCE). */
int outbound_o_noatime(void);

#endif
