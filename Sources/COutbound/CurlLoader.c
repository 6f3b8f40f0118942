/*
 * libcurl, loaded when first used. The binary is not linked against libcurl: each libcurl
 * function Outbound calls is defined here and forwards to the function of that name in
 * libcurl.so.4, opened with dlopen on the first call. A command that makes no HTTP call
 * (enqueue, list, show, status, audit, validate without --check-auth, and the target URL
 * of a plain job, see PlainURLParser.swift) never loads libcurl and the thirty-odd libraries
 * it needs (TLS, HTTP/2, IDN, SSH, LDAP, Kerberos...): loading them was most of the start-up
 * of `outbound enqueue`, which upstream scripts run once per job. `run` and `drain` start
 * loading it on a thread of their own as they begin (outbound_libcurl_start_loading), so the
 * few milliseconds it takes overlap their own start-up; they wait for it, and learn whether
 * it loaded, in outbound_libcurl_load before their first transfer.
 *
 * A function used from Swift or from COutbound.c that is missing here fails the link
 * (undefined symbol), so this list cannot silently fall out of step.
 *
 * https://man7.org/linux/man-pages/man3/dlopen.3.html
 */
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* The soname Debian's libcurl4-openssl-dev builds against; the libcurl4 package has it. */
#define OUTBOUND_LIBCURL "libcurl.so.4"
/* sysexits EX_UNAVAILABLE: a service the program needs is missing. */
#define OUTBOUND_EX_UNAVAILABLE 69

static void *libcurl_handle;
/* Why libcurl could not be loaded, and what to install, when dlopen failed. */
static char libcurl_failure[640];
static pthread_once_t libcurl_once = PTHREAD_ONCE_INIT;

static void open_libcurl(void) {
    libcurl_handle = dlopen(OUTBOUND_LIBCURL, RTLD_NOW | RTLD_LOCAL);
    if (libcurl_handle == NULL) {
        const char *why = dlerror();
        snprintf(libcurl_failure, sizeof libcurl_failure, "cannot load %s (%s); install libcurl4 (apt-get install libcurl4)",
                 OUTBOUND_LIBCURL, why ? why : "unknown error");
    }
}

static void *load_in_background(void *unused) {
    (void)unused;
    pthread_once(&libcurl_once, open_libcurl);
    return NULL;
}

void outbound_libcurl_start_loading(void) {
    pthread_t thread;
    if (pthread_create(&thread, NULL, load_in_background, NULL) == 0) pthread_detach(thread);
}

const char *outbound_libcurl_load(void) {
    pthread_once(&libcurl_once, open_libcurl);
    return libcurl_handle != NULL ? NULL : libcurl_failure;
}

/* libcurl's own `name`; the program cannot go on without it. */
static void *libcurl_function(const char *name) {
    const char *failure = outbound_libcurl_load();
    if (failure != NULL) {
        fprintf(stderr, "outbound: %s\n", failure);
        exit(OUTBOUND_EX_UNAVAILABLE);
    }
    void *function = dlsym(libcurl_handle, name);
    if (function == NULL) {
        fprintf(stderr, "outbound: %s has no %s: libcurl 7.87 or later is needed\n", OUTBOUND_LIBCURL, name);
        exit(OUTBOUND_EX_UNAVAILABLE);
    }
    return function;
}

/*
 * The function pointer kept in `slot`, looked up by `name` on the first call. Two threads'
 * first calls may both look it up; they store the same value, atomically.
 */
#define RESOLVED(slot, name)                                                              \
    ({                                                                                    \
        __typeof__(slot) found = __atomic_load_n(&(slot), __ATOMIC_ACQUIRE);              \
        if (found == NULL) {                                                              \
            found = (__typeof__(slot))libcurl_function(name);                             \
            __atomic_store_n(&(slot), found, __ATOMIC_RELEASE);                           \
        }                                                                                 \
        found;                                                                            \
    })

/*
 * FORWARD(return type, name, (parameters), (arguments)) defines `name` to call libcurl's.
 * The name is in parentheses so that curl.h's type-checking macros (typecheck-gcc.h) leave
 * it alone.
 */
#define FORWARD(type, name, parameters, arguments) \
    type (name) parameters {                       \
        static type (*real) parameters;            \
        return RESOLVED(real, #name) arguments;    \
    }

FORWARD(CURLcode, curl_global_init, (long flags), (flags))
FORWARD(CURL *, curl_easy_init, (void), ())
FORWARD(void, curl_easy_cleanup, (CURL *easy), (easy))
FORWARD(void, curl_easy_reset, (CURL *easy), (easy))
FORWARD(CURLcode, curl_easy_perform, (CURL *easy), (easy))
FORWARD(const char *, curl_easy_strerror, (CURLcode code), (code))
FORWARD(CURLHcode, curl_easy_header, (CURL *easy, const char *name, size_t index, unsigned int origin, int request,
                                      struct curl_header **header), (easy, name, index, origin, request, header))
FORWARD(CURLM *, curl_multi_init, (void), ())
FORWARD(CURLMcode, curl_multi_cleanup, (CURLM *multi), (multi))
FORWARD(CURLMcode, curl_multi_add_handle, (CURLM *multi, CURL *easy), (multi, easy))
FORWARD(CURLMcode, curl_multi_remove_handle, (CURLM *multi, CURL *easy), (multi, easy))
FORWARD(CURLMcode, curl_multi_perform, (CURLM *multi, int *running), (multi, running))
FORWARD(CURLMcode, curl_multi_poll, (CURLM *multi, struct curl_waitfd extra[], unsigned int count, int timeout_ms, int *ready),
        (multi, extra, count, timeout_ms, ready))
FORWARD(CURLMsg *, curl_multi_info_read, (CURLM *multi, int *queued), (multi, queued))
FORWARD(const char *, curl_multi_strerror, (CURLMcode code), (code))
FORWARD(struct curl_slist *, curl_slist_append, (struct curl_slist *list, const char *text), (list, text))
FORWARD(void, curl_slist_free_all, (struct curl_slist *list), (list))
FORWARD(CURLU *, curl_url, (void), ())
FORWARD(void, curl_url_cleanup, (CURLU *url), (url))
FORWARD(CURLUcode, curl_url_get, (CURLU *url, CURLUPart part, char **text, unsigned int flags), (url, part, text, flags))
FORWARD(CURLUcode, curl_url_set, (CURLU *url, CURLUPart part, const char *text, unsigned int flags), (url, part, text, flags))
FORWARD(const char *, curl_url_strerror, (CURLUcode code), (code))
FORWARD(void, curl_free, (void *pointer), (pointer))
FORWARD(CURLSH *, curl_share_init, (void), ())
FORWARD(CURLSHcode, curl_share_cleanup, (CURLSH *share), (share))
FORWARD(const char *, curl_share_strerror, (CURLSHcode code), (code))

/*
 * The three variadic calls take exactly one argument after the option, whose type the
 * option's number gives (curl.h's CURLOPTTYPE_* bases; for curl_easy_getinfo every argument
 * is a pointer to the result). libcurl reads it the same way.
 */
typedef void (*generic_function)(void);

CURLcode (curl_easy_setopt)(CURL *easy, CURLoption option, ...) {
    static CURLcode (*slot)(CURL *, CURLoption, ...);
    CURLcode (*real)(CURL *, CURLoption, ...) = RESOLVED(slot, "curl_easy_setopt");
    va_list arguments;
    va_start(arguments, option);
    CURLcode code;
    if (option < CURLOPTTYPE_OBJECTPOINT) {
        code = real(easy, option, va_arg(arguments, long));
    } else if (option < CURLOPTTYPE_FUNCTIONPOINT) {
        code = real(easy, option, va_arg(arguments, void *));
    } else if (option < CURLOPTTYPE_OFF_T) {
        code = real(easy, option, va_arg(arguments, generic_function));
    } else if (option < CURLOPTTYPE_BLOB) {
        code = real(easy, option, va_arg(arguments, curl_off_t));
    } else {
        code = real(easy, option, va_arg(arguments, void *));
    }
    va_end(arguments);
    return code;
}

CURLMcode (curl_multi_setopt)(CURLM *multi, CURLMoption option, ...) {
    static CURLMcode (*slot)(CURLM *, CURLMoption, ...);
    CURLMcode (*real)(CURLM *, CURLMoption, ...) = RESOLVED(slot, "curl_multi_setopt");
    va_list arguments;
    va_start(arguments, option);
    CURLMcode code;
    if (option < CURLOPTTYPE_OBJECTPOINT) {
        code = real(multi, option, va_arg(arguments, long));
    } else if (option < CURLOPTTYPE_FUNCTIONPOINT) {
        code = real(multi, option, va_arg(arguments, void *));
    } else if (option < CURLOPTTYPE_OFF_T) {
        code = real(multi, option, va_arg(arguments, generic_function));
    } else {
        code = real(multi, option, va_arg(arguments, curl_off_t));
    }
    va_end(arguments);
    return code;
}

/* curl_share_setopt is variadic too; Outbound only ever shares one kind of data, an int. */
CURLSHcode outbound_share_data(CURLSH *share, curl_lock_data data) {
    static CURLSHcode (*slot)(CURLSH *, CURLSHoption, ...);
    return RESOLVED(slot, "curl_share_setopt")(share, CURLSHOPT_SHARE, (int)data);
}

CURLcode (curl_easy_getinfo)(CURL *easy, CURLINFO info, ...) {
    static CURLcode (*slot)(CURL *, CURLINFO, ...);
    CURLcode (*real)(CURL *, CURLINFO, ...) = RESOLVED(slot, "curl_easy_getinfo");
    va_list arguments;
    va_start(arguments, info);
    CURLcode code = real(easy, info, va_arg(arguments, void *));
    va_end(arguments);
    return code;
}
