#!/usr/bin/env python3
"""Writes Tests/Fixtures/hostile/: job files that must end in corrupt/ or refused/.

Each file is named `<folder>-<reason>--<what>.json`; the part before `--` is the outcome
HostileInputTests expects (`corrupt-invalid_json`, `refused-endpoint_not_allowed`, ...).
`{{BASE}}` is replaced by the loopback receiver's base URL (http://127.0.0.1:PORT) when the
fixtures are replayed, so a file is otherwise valid and only its one defect decides it.
Files holding invalid UTF-8 must not use {{BASE}}: the replay decodes text to substitute it.

Values planted in bodies, header values, query strings and userinfo carry the canary
`HOSTILE-CANARY`, which must never appear in the audit log or a `.reason` sidecar.
The generated files are committed; rerun this script after editing it:

    python3 scripts/fuzz.d/make-hostile-fixtures.py
"""
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "Tests", "Fixtures", "hostile")

CLIENT = "6c12f6ab-2a3e-4f0e-9d7c-1f2e3d4c5b6a"
SERVICE = "ADT.Notify"
CANARY = "HOSTILE-CANARY"
BODY = '{"event":"A01","secret":"%s-body"}' % CANARY

files = {}


def raw(name, data):
    assert name not in files, name
    if isinstance(data, str):
        data = data.encode("utf-8")
    assert len(data) < 64 * 1024, name
    files[name] = data


def job(name, **fields):
    """A job that is valid except for what `fields` overrides (None drops a field)."""
    base = {"clientId": CLIENT, "service": SERVICE, "url": "{{BASE}}/hooks/adt", "body": BODY}
    for key, value in fields.items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = value
    raw(name, json.dumps(base))


def text(name, template):
    """Raw text with C=client, S=service, B=body placeholders (for JSON the encoder won't make)."""
    raw(name, template.replace("@C", CLIENT).replace("@S", SERVICE).replace("@B", json.dumps(BODY)))


GOOD_HEAD = '{"clientId":"@C","service":"@S","url":"{{BASE}}/hooks/adt"'
# No {{BASE}}: for files whose bytes must not be re-encoded by the replay.
RAW_HEAD = '{"clientId":"@C","service":"@S","url":"http://127.0.0.1:9/hooks/adt"'

# ---------------------------------------------------------------- corrupt/ invalid_json
J = "corrupt-invalid_json--"
raw(J + "empty.json", b"")
raw(J + "whitespace-only.json", b" \r\n\t \n")
text(J + "truncated-in-string.json", GOOD_HEAD + ',"body":"{\\"secret\\":\\"' + CANARY)
text(J + "truncated-after-colon.json", GOOD_HEAD + ',"headers":')
text(J + "truncated-nested.json", GOOD_HEAD + ',"headers":{"X-A":{"b":[1,2,{"c":[')
text(J + "truncated-escape.json", GOOD_HEAD + ',"body":"abc\\u00')
raw(J + "deep-nesting-closed.json", '{"clientId":"' + CLIENT + '","body":' + "[" * 2000 + "]" * 2000 + "}")
raw(J + "deep-nesting-unclosed.json", "[" * 20000)
raw(J + "deep-nesting-objects.json", '{"a":' * 3000 + "1" + "}" * 3000)
raw(J + "bom.json", b"\xef\xbb\xbf" + (GOOD_HEAD + "}").replace("@C", CLIENT).replace("@S", SERVICE).encode())
raw(J + "utf16le.json", ('{"clientId":"%s","url":"http://127.0.0.1:9/hooks/adt"}' % CLIENT).encode("utf-16"))
raw(J + "nul-in-string.json", (RAW_HEAD + ',"body":"a').replace("@C", CLIENT).replace("@S", SERVICE).encode() + b"\x00b\"}")
raw(J + "nul-after-document.json", (RAW_HEAD + "}").replace("@C", CLIENT).replace("@S", SERVICE).encode() + b"\x00")
raw(J + "nul-before-document.json", b"\x00" + (RAW_HEAD + "}").replace("@C", CLIENT).replace("@S", SERVICE).encode())
raw(J + "invalid-utf8-value.json", (RAW_HEAD + ',"body":"caf').replace("@C", CLIENT).replace("@S", SERVICE).encode() + b"\xc3\x28\"}")
raw(J + "invalid-utf8-key.json", (RAW_HEAD + ',"b').replace("@C", CLIENT).replace("@S", SERVICE).encode() + b"\xff\xfe" + b'dy":"x"}')
raw(J + "overlong-utf8-slash.json", (RAW_HEAD.replace("/hooks/adt", "/hooks/") ).replace("@C", CLIENT).replace("@S", SERVICE).encode()[:-1] + b"\xc0\xaf..\xc0\xafadmin\"}")
raw(J + "utf8-encoded-surrogate.json", (RAW_HEAD + ',"body":"').replace("@C", CLIENT).replace("@S", SERVICE).encode() + b"\xed\xa0\x80\"}")
raw(J + "utf8-truncated-sequence.json", (RAW_HEAD + ',"body":"').replace("@C", CLIENT).replace("@S", SERVICE).encode() + b"\xe2\x82\"}")
raw(J + "utf8-above-max.json", (RAW_HEAD + ',"body":"').replace("@C", CLIENT).replace("@S", SERVICE).encode() + b"\xf4\x90\x80\x80\"}")
text(J + "lone-surrogate-escape.json", GOOD_HEAD + ',"body":"\\ud800"}')
text(J + "reversed-surrogate-escape.json", GOOD_HEAD + ',"body":"\\udc00\\ud800"}')
text(J + "duplicate-url.json", GOOD_HEAD + ',"url":"http://127.0.0.1:9/elsewhere"}')
text(J + "duplicate-client-id.json", '{"clientId":"@C","clientId":"0b5e9a1c-7d2f-4c3a-8e6b-2f1d0c9b8a71","service":"@S","url":"{{BASE}}/hooks/adt"}')
text(J + "duplicate-header-name.json", GOOD_HEAD + ',"headers":{"X-Trace":"1","X-Trace":"2"}}')
text(J + "duplicate-key-escaped.json", GOOD_HEAD + ',"u\\u0072l":"http://127.0.0.1:9/elsewhere"}')
raw(J + "raw-crlf-in-header-value.json", (GOOD_HEAD + ',"headers":{"X-Note":"a\r\nInjected: ' + CANARY + '"}}').replace("@C", CLIENT).replace("@S", SERVICE))
raw(J + "raw-tab-in-string.json", (GOOD_HEAD + ',"body":"a\tb"}').replace("@C", CLIENT).replace("@S", SERVICE))
text(J + "trailing-comma.json", GOOD_HEAD + ',}')
text(J + "two-documents.json", GOOD_HEAD + '}' + GOOD_HEAD + '}')
text(J + "single-quotes.json", "{'clientId':'@C','url':'{{BASE}}/hooks/adt'}")
text(J + "comment.json", GOOD_HEAD + ' /* ' + CANARY + ' */ }')
text(J + "nan.json", GOOD_HEAD + ',"maxAttempts":NaN}')
text(J + "hex-number.json", GOOD_HEAD + ',"maxAttempts":0x10}')
text(J + "leading-zero.json", GOOD_HEAD + ',"maxAttempts":007}')
text(J + "plus-number.json", GOOD_HEAD + ',"maxAttempts":+3}')
text(J + "unquoted-key.json", '{clientId:"@C","url":"{{BASE}}/hooks/adt"}')
text(J + "bad-escape.json", GOOD_HEAD + ',"body":"\\x41"}')
text(J + "capital-true.json", GOOD_HEAD + ',"orderingKey":True}')

# ---------------------------------------------------------------- corrupt/ invalid_job
V = "corrupt-invalid_job--"
raw(V + "top-level-array.json", "[" + json.dumps({"clientId": CLIENT, "url": "{{BASE}}/hooks/adt"}) + "]")
raw(V + "top-level-string.json", '"{{BASE}}/hooks/adt"')
raw(V + "top-level-null.json", "null")
raw(V + "top-level-number.json", "12345")
raw(V + "empty-object.json", "{}")
job(V + "missing-url.json", url=None)
job(V + "unknown-field.json", priority="high")
job(V + "unknown-field-case.json", Url="{{BASE}}/hooks/other")
job(V + "unknown-field-proto.json", __proto__={"url": "http://127.0.0.1:9/"})
# numbers (and other types) where strings belong
job(V + "client-id-number.json", clientId=6)
job(V + "client-id-null.json", clientId=False)
job(V + "url-number.json", url=127001)
job(V + "url-array.json", url=["{{BASE}}/hooks/adt"])
job(V + "id-number.json", id=42)
job(V + "service-number.json", service=7)
job(V + "method-number.json", method=1)
job(V + "body-object.json", body={"event": "A01", "secret": CANARY})
job(V + "body-null.json", body=False)
job(V + "headers-array.json", headers=[["X-A", CANARY]])
job(V + "header-value-number.json", headers={"X-Count": 5})
job(V + "header-value-null.json", headers={"X-A": None})
job(V + "not-after-number.json", notAfter=1767225600)
# strings and fractions where whole numbers belong
job(V + "max-attempts-string.json", maxAttempts="5")
job(V + "max-attempts-zero.json", maxAttempts=0)
job(V + "max-attempts-negative.json", maxAttempts=-1)
job(V + "max-attempts-fraction.json", maxAttempts=1.5)
text(V + "max-attempts-exponent.json", GOOD_HEAD + ',"maxAttempts":1e3}')
text(V + "timeout-huge-negative.json", GOOD_HEAD + ',"timeoutMs":-' + "9" * 400 + '}')
# bad values
job(V + "method-lowercase.json", method="post")
job(V + "method-connect.json", method="CONNECT")
job(V + "method-trace.json", method="TRACE")
job(V + "method-with-space.json", method="POST /admin HTTP/1.1\r\nX:")
job(V + "get-with-body.json", method="GET")
job(V + "body-and-base64.json", bodyBase64="eyJ4IjoxfQ==")
job(V + "base64-with-newline.json", body=None, bodyBase64="eyJzZWNyZXQiOiJIT1NUSUxF\nLUNBTkFSWSJ9")
job(V + "base64-garbage.json", body=None, bodyBase64="%%%not base64%%%")
job(V + "not-after-garbage.json", notAfter="tomorrow at noon")
job(V + "not-after-no-zone.json", notAfter="2026-11-29T18:00:00")
# header names: RFC 9110 tokens only, CR/LF/NUL never
job(V + "header-name-crlf.json", headers={"X-A\r\nInjected": CANARY})
job(V + "header-name-lf.json", headers={"X-A\nInjected": CANARY})
job(V + "header-name-nul.json", headers={"X-A\u0000B": CANARY})
job(V + "header-name-space.json", headers={"X A": CANARY})
job(V + "header-name-colon.json", headers={"X-A:": CANARY})
job(V + "header-name-empty.json", headers={"": CANARY})
job(V + "header-name-non-ascii.json", headers={"X-\u00c4rger": CANARY})
job(V + "header-name-del.json", headers={"X-A\u007f": CANARY})
# header values: no CR, LF or NUL
job(V + "header-value-crlf.json", headers={"X-Note": "a\r\nInjected: " + CANARY})
job(V + "header-value-lf.json", headers={"X-Note": "a\nInjected: " + CANARY})
job(V + "header-value-cr.json", headers={"X-Note": "a\rInjected: " + CANARY})
job(V + "header-value-nul.json", headers={"X-Note": "a\u0000" + CANARY})
job(V + "header-value-trailing-crlf.json", headers={"X-Note": CANARY + "\r\n"})
job(V + "header-value-crlfcrlf-smuggle.json",
    headers={"X-Note": "a\r\n\r\nGET /admin HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Secret: " + CANARY})
# header names twice (any case) and reserved headers in any case
text(V + "header-twice-other-case.json", GOOD_HEAD + ',"headers":{"X-Trace":"1","x-TRACE":"2"}}')
job(V + "reserved-host-lowercase.json", headers={"host": "evil.example"})
job(V + "reserved-content-length.json", headers={"Content-Length": "0"})
job(V + "reserved-transfer-encoding.json", headers={"TRANSFER-ENCODING": "chunked"})
job(V + "reserved-connection.json", headers={"Connection": "close"})
job(V + "reserved-expect.json", headers={"expect": "100-continue"})
job(V + "reserved-client-id-header.json", headers={"EPIC-CLIENT-ID": "0b5e9a1c-7d2f-4c3a-8e6b-2f1d0c9b8a71"})
job(V + "reserved-idempotency-key.json", headers={"idempotency-key": CANARY})
# ids: [A-Za-z0-9._-]{1,128}
job(V + "id-slash.json", id="a/b")
job(V + "id-traversal.json", id="../../etc/passwd")
job(V + "id-dotdot-slash.json", id="../")
job(V + "id-backslash.json", id="..\\..\\x")
job(V + "id-200-chars.json", id="a" * 200)
job(V + "id-129-chars.json", id="b" * 129)
job(V + "id-empty.json", id="")
job(V + "id-tilde-clash-marker.json", id="job~1")
job(V + "id-nul.json", id="a\u0000b")
job(V + "id-crlf.json", id="a\r\nb")
job(V + "id-space.json", id="a b")
job(V + "id-non-ascii.json", id="caf\u00e9")
job(V + "id-fullwidth-dots.json", id="\uff0e\uff0e")
# URLs: absolute http(s) only, no userinfo, no fragment, no white space or backslash
job(V + "url-userinfo.json", url="http://user:%s@127.0.0.1:9/hooks/adt" % CANARY)
job(V + "url-user-only.json", url="http://%s@127.0.0.1:9/hooks/adt" % CANARY)
job(V + "url-empty-userinfo.json", url="http://:@127.0.0.1:9/hooks/adt")
job(V + "url-host-as-userinfo.json", url="http://127.0.0.1:9@127.0.0.1:9/hooks/adt")
job(V + "url-login-options.json", url="http://user;AUTH=NTLM@127.0.0.1:9/hooks/adt")
job(V + "url-file-scheme.json", url="file:///etc/passwd")
job(V + "url-file-localhost.json", url="file://localhost/etc/passwd")
job(V + "url-gopher-scheme.json", url="gopher://127.0.0.1:9/_POST%20/hooks/adt")
job(V + "url-ftp-scheme.json", url="ftp://127.0.0.1:9/hooks/adt")
job(V + "url-dict-scheme.json", url="dict://127.0.0.1:9/info")
job(V + "url-ldap-scheme.json", url="ldap://127.0.0.1:9/dc=example")
job(V + "url-javascript.json", url="javascript:alert(1)")
job(V + "url-data.json", url="data:text/plain,%s" % CANARY)
job(V + "url-no-scheme.json", url="127.0.0.1:9/hooks/adt")
job(V + "url-scheme-relative.json", url="//127.0.0.1:9/hooks/adt")
job(V + "url-relative-path.json", url="/hooks/adt")
# An empty authority: libcurl would read "http:///hooks/adt" as host "hooks"; refused instead.
job(V + "url-three-slashes-no-host.json", url="http:///hooks/adt")
# An empty fragment is a fragment: libcurl alone reports none.
job(V + "url-empty-fragment.json", url="http://127.0.0.1:9/hooks/adt#")
job(V + "url-empty.json", url="")
job(V + "url-scheme-only.json", url="http://")
job(V + "url-fragment.json", url="{{BASE}}/hooks/adt#" + CANARY)
job(V + "url-space.json", url="{{BASE}}/hooks/adt /admin")
job(V + "url-tab.json", url="{{BASE}}/hooks/adt\t")
job(V + "url-crlf.json", url="{{BASE}}/hooks/adt\r\nX-Injected: " + CANARY)
job(V + "url-nul.json", url="{{BASE}}/hooks/adt\u0000/admin")
job(V + "url-backslash.json", url="{{BASE}}/hooks\\..\\admin")
job(V + "url-del.json", url="{{BASE}}/hooks/adt\u007f")
job(V + "url-bad-ipv6.json", url="http://[::1/hooks/adt")
job(V + "url-port-too-big.json", url="http://127.0.0.1:99999/hooks/adt")
job(V + "url-port-not-number.json", url="http://127.0.0.1:x/hooks/adt")
job(V + "url-leading-space.json", url=" {{BASE}}/hooks/adt")

# ---------------------------------------------------------------- refused/
job("refused-missing_client_id--empty-client-id.json", clientId="")
job("refused-missing_client_id--no-client-id.json", clientId=None, headers={"Authorization": "Bearer " + CANARY})
job("refused-unknown_client_id--client-id-uppercase.json", clientId=CLIENT.upper())
job("refused-unknown_client_id--client-id-trailing-space.json", clientId=CLIENT + " ")
job("refused-unknown_client_id--client-id-crlf.json", clientId=CLIENT + "\r\nX-Injected: yes")
job("refused-unknown_client_id--client-id-nul.json", clientId=CLIENT + "\u0000")
job("refused-inactive_client_id--with-secrets.json", clientId="0b5e9a1c-7d2f-4c3a-8e6b-2f1d0c9b8a71",
    headers={"Authorization": "Bearer " + CANARY})
job("refused-wrong_environment--production-client.json", clientId="9f8e7d6c-5b4a-4392-8170-6e5d4c3b2a19")
job("refused-out_of_scope--service-lowercase.json", service=SERVICE.lower())
job("refused-out_of_scope--service-empty.json", service="")
job("refused-out_of_scope--service-crlf.json", service=SERVICE + "\r\n")
job("refused-out_of_scope--no-service.json", service=None)
N = "refused-endpoint_not_allowed--"
job(N + "percent-dots.json", url="{{BASE}}/hooks/%2e%2e/admin?q=" + CANARY)
job(N + "percent-dots-upper.json", url="{{BASE}}/hooks/%2E%2E/admin")
job(N + "percent-dot-mixed.json", url="{{BASE}}/hooks/.%2e/admin")
job(N + "percent-single-dot.json", url="{{BASE}}/hooks/%2e/adt")
job(N + "percent-slash.json", url="{{BASE}}/hooks/..%2fadmin")
job(N + "percent-slash-upper.json", url="{{BASE}}/hooks%2F..%2Fadmin")
job(N + "percent-backslash.json", url="{{BASE}}/hooks/..%5cadmin")
job(N + "percent-nul.json", url="{{BASE}}/hooks/adt%00.json")
job(N + "dotdot-semicolon.json", url="{{BASE}}/hooks/..;/admin")
job(N + "dotdot-encoded-semicolon.json", url="{{BASE}}/hooks/..%3bjsessionid=x/admin")
job(N + "encoded-dots-semicolon.json", url="{{BASE}}/hooks/%2e%2e;x=1/admin")
job(N + "plain-dotdot.json", url="{{BASE}}/hooks/../admin")
job(N + "dot-then-dotdot.json", url="{{BASE}}/hooks/./../admin")
job(N + "dotdot-at-end.json", url="{{BASE}}/hooks/adt/../..")
job(N + "truncated-percent.json", url="{{BASE}}/hooks/adt%2")
job(N + "endpoint-without-slash.json", url="{{BASE}}/hooks")
job(N + "look-alike-path.json", url="{{BASE}}/hooks-evil/adt")
job(N + "path-case.json", url="{{BASE}}/HOOKS/adt")
job(N + "ipv6-loopback.json", url="http://[::1]:9/hooks/adt")
job(N + "ipv6-v4-mapped.json", url="http://[::ffff:127.0.0.1]:9/hooks/adt")
job(N + "ipv6-unspecified.json", url="http://[::]:9/hooks/adt")
job(N + "localhost-name.json", url="http://localhost:9/hooks/adt")
job(N + "other-port.json", url="http://127.0.0.1:9/hooks/adt")
job(N + "https-instead-of-http.json", url="https://127.0.0.1:9/hooks/adt")
# The zone id is not part of the host libcurl reports; the host still differs.
job(N + "ipv6-zone-id.json", url="http://[fe80::1%25lo]:9/hooks/adt")
job(N + "trailing-dot-host.json", url="http://127.0.0.1.:9/hooks/adt")
job(N + "query-hides-path.json", url="{{BASE}}?/hooks/adt")

if os.path.isdir(OUT):
    shutil.rmtree(OUT)
os.makedirs(OUT)
for name, data in sorted(files.items()):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print("wrote %d files to %s" % (len(files), os.path.normpath(OUT)))
