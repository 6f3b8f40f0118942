/*
 * COutbound: the project's only C. Swift cannot call variadic C functions, so each
 * libcurl call that takes "..." gets a typed inline wrapper here (the same approach as
 * swift-corelibs-foundation's _CFURLSessionInterface). It also exposes SHA-256 from
 * OpenSSL's libcrypto and the Linux calls (signalfd, eventfd, renameat2) that Glibc's Swift
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
#include <malloc.h>

/** mallopt(M_MMAP_THRESHOLD, bytes): malloc.h is not in Glibc's Swift module. */
static inline int outbound_set_mmap_threshold(int bytes) {
    return mallopt(M_MMAP_THRESHOLD, bytes);
}

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

/** Makes the easy handles set to `share` (CURLOPT_SHARE) share one kind of data
 * (CURLSHOPT_SHARE; in CurlLoader.c, which resolves libcurl's functions). */
CURLSHcode outbound_share_data(CURLSH *share, curl_lock_data data);

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

/**
 * A request body streamed from memory the caller owns (large bodies are not copied): libcurl
 * calls `read` for the next bytes (CURLOPT_READFUNCTION) and `seek` to rewind before it sends
 * the request again (CURLOPT_SEEKFUNCTION), both with `userdata`.
 */
typedef size_t (*outbound_read_function)(char *buffer, size_t size, size_t count, void *userdata);
typedef int (*outbound_seek_function)(void *userdata, curl_off_t offset, int origin);
static inline CURLcode outbound_easy_install_body_stream(CURL *easy, outbound_read_function read,
                                                         outbound_seek_function seek, void *userdata) {
    CURLcode code = curl_easy_setopt(easy, CURLOPT_READFUNCTION, read);
    if (code == CURLE_OK) code = curl_easy_setopt(easy, CURLOPT_READDATA, userdata);
    if (code == CURLE_OK) code = curl_easy_setopt(easy, CURLOPT_SEEKFUNCTION, seek);
    if (code == CURLE_OK) code = curl_easy_setopt(easy, CURLOPT_SEEKDATA, userdata);
    return code;
}

/* ---- per-transfer meter: sends and response bytes ----------------------------- */

/**
 * What one transfer put on the wire and read back, counted by C callbacks into memory the
 * transfer owns (CURLOPT_PREREQDATA, CURLOPT_HEADERDATA, CURLOPT_WRITEDATA all point here).
 *
 * `sends`: requests that went out. libcurl calls CURLOPT_PREREQFUNCTION before every request
 * it sends, its own silent resends included (a request whose reused connection died before
 * any response is sent again on another connection). Once `sends` reaches `max_sends` a
 * further resend is refused (CURL_PREREQFUNC_ABORT) and `resend_refused` is set: the transfer
 * then ends in CURLE_ABORTED_BY_CALLBACK without that request going out.
 *
 * `status`: the code of the last status line received (0 before one), so a 2xx that arrived
 * before the connection broke is still known. `received` counts header and body bytes; past
 * `max_response_bytes` the header or write callback stops the transfer (CURLE_WRITE_ERROR)
 * and sets `capped`.
 * https://curl.se/libcurl/c/CURLOPT_PREREQFUNCTION.html
 * https://curl.se/libcurl/c/CURLOPT_HEADERFUNCTION.html
 */
typedef struct outbound_transfer_meter {
    long sends;
    long max_sends;
    int resend_refused;
    int status;
    size_t received;
    size_t max_response_bytes;
    int capped;
    /* When `body` is not NULL the response body is also copied there, at most `body_capacity`
       bytes (a token endpoint's JSON); `body_length` says how many. */
    unsigned char *body;
    size_t body_capacity;
    size_t body_length;
} outbound_transfer_meter;

/** Zeroes the counters before a transfer; the limits are kept. */
static inline void outbound_meter_reset(outbound_transfer_meter *meter) {
    meter->sends = 0;
    meter->resend_refused = 0;
    meter->status = 0;
    meter->received = 0;
    meter->capped = 0;
    meter->body_length = 0;
}

/**
 * Installs the meter's callbacks on `easy` (prerequest, header and write functions) with
 * `meter` as their data. The meter must outlive every transfer of the handle.
 */
CURLcode outbound_easy_install_meter(CURL *easy, outbound_transfer_meter *meter);

/*
 * libcurl is opened with dlopen on the first call of any of its functions (CurlLoader.c).
 * outbound_libcurl_start_loading starts opening it now, on a thread of its own, so that a
 * process about to send overlaps the few milliseconds it takes with its own start-up (without
 * a thread, the first call opens it as before). outbound_libcurl_load waits until it is open:
 * NULL, or why it could not be and what to install (a static string). Any other libcurl call
 * in a process that cannot open it prints that and exits 69 (EX_UNAVAILABLE).
 */
void outbound_libcurl_start_loading(void);
const char *outbound_libcurl_load(void);

/** The status code in a status line ("HTTP/1.1 200 OK\r\n", "HTTP/2 204 \r\n"), or 0. */
int outbound_status_line_code(const char *line, size_t length);

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

/* ---- reading gzip files (zlib) --------------------------------------------- */

/**
 * Opens a file for reading through zlib: a gzip file is decompressed, any other file read
 * as it is (rotated audit logs may be either). NULL with errno on error.
 * https://zlib.net/manual.html#Gzip
 */
void *outbound_gz_open(const char *path);

/** Reads up to `length` bytes: the count read, 0 at end of file, -1 on error. */
int outbound_gz_read(void *file, void *buffer, unsigned length);

/** zlib's text for the last error on `file` (a damaged gzip stream, an I/O error). */
const char *outbound_gz_error(void *file);

void outbound_gz_close(void *file);

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
 * A non-blocking, close-on-exec eventfd starting at 0; -1 with errno on error.
 * https://man7.org/linux/man-pages/man2/eventfd.2.html
 */
int outbound_eventfd_open(void);

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
