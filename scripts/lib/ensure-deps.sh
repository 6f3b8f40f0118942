#!/usr/bin/env bash
# shellcheck shell=bash
# Sourced by scripts/test and scripts/demo: makes sure the system libraries Outbound
# builds against (libcurl, OpenSSL and zlib headers) and python3 are present, installing the
# Debian/Ubuntu packages when they are not. Prints one line saying what it did.
# Also runnable on its own: scripts/lib/ensure-deps.sh
set -euo pipefail

_outbound_have_curl_headers() {
    if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists libcurl 2>/dev/null; then
        return 0
    fi
    [ -f /usr/include/x86_64-linux-gnu/curl/curl.h ] || [ -f /usr/include/curl/curl.h ] \
        || [ -f "/usr/include/$(uname -m)-linux-gnu/curl/curl.h" ]
}

_outbound_have_openssl_headers() {
    [ -f /usr/include/openssl/sha.h ]
}

_outbound_have_zlib_headers() {
    [ -f /usr/include/zlib.h ]
}

_outbound_apt_install() {
    local runner=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            runner=(sudo -n)
        else
            echo "ensure-deps: need to install $* but am not root and sudo is missing; install them and retry" >&2
            return 1
        fi
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "ensure-deps: need $* but apt-get is not available; install the libcurl and OpenSSL development packages by hand" >&2
        return 1
    fi
    "${runner[@]}" apt-get update -qq >&2
    "${runner[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

ensure_deps() {
    local missing=()
    _outbound_have_curl_headers || missing+=(libcurl4-openssl-dev)
    _outbound_have_openssl_headers || missing+=(libssl-dev)
    _outbound_have_zlib_headers || missing+=(zlib1g-dev)
    if [ "${#missing[@]}" -gt 0 ]; then
        _outbound_apt_install "${missing[@]}" || return 1
    fi
    if ! command -v python3 >/dev/null 2>&1; then
        echo "ensure-deps: python3 is required (the demo receiver and JSON pretty-printing use it); install python3 and retry" >&2
        return 1
    fi
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "ensure-deps: installed ${missing[*]}"
    else
        echo "ensure-deps: deps present (libcurl, OpenSSL and zlib headers, python3)"
    fi
}

ensure_deps
