"""Hostile servers against the SPWF dialect (docs/reliability.md, "The network peer").

HTTPGET failures end with AT-S.Http Client Error:<tm_err> and
AT-S.ERROR:111:Request failed: <reason> (65 timeout, 164 body truncated,
63 network error); SOCKON with AT-S.ERROR:<tm_err>:<sentence>: <reason>.
After each failure the modem must still answer AT with AT-S.OK."""
import re

import hostile
from framework import quick, timeout
from test_spwf_lib import cmd, err, http_fail, http_get, load_ca, ok, spwf_modem, READING_RE

HOST = "www.coursera.test"


def setup(t, srv, extra=()):
    m = spwf_modem(t, resolve=["%s:%d:127.0.0.1" % (HOST, srv.port)], extra_args=list(extra))
    load_ca(m, t.pki.root, "der")
    return m


def sockr(m, sid):
    """AT+S.SOCKR=<sid>: the bytes announced by AT-S.Reading, then AT-S.OK."""
    m.send(b"AT+S.SOCKR=%d\r" % sid)
    n = int(m.expect(READING_RE, 10).group(1))
    body = m.expect(b"AT-S.OK\r\n", 10).before
    assert len(body) == n, (n, body)
    return body


def alive(m):
    r = cmd(m, "AT")
    assert r.ok, "AT after the failure: %r" % r.text


@quick
@timeout(30)
def test_spwf_httpget_stall_after_handshake_recv_timeout(t):
    srv = hostile.start(t, t.pki.coursera, "stall_after_handshake")
    m = setup(t, srv)
    ok(m, "AT+S.SCFG=ip_http_get_recv_timeout,1000")
    r = ok(m, "AT+S.GCFG=ip_http_get_recv_timeout")
    assert b"ip_http_get_recv_timeout = 1" in r.text or b"ip_http_get_recv_timeout=1" in r.text, r.text
    ce, he, final = http_fail(m, HOST, "/", srv.port)
    assert (ce, he) == (None, 65), (ce, he, final)
    assert "sent nothing for 1000 ms while the response head was awaited" in final, final
    alive(m)


@timeout(30)
def test_spwf_httpget_stall_mid_body_and_drip(t):
    srv = hostile.start(t, t.pki.coursera, "stall_mid_body")
    m = setup(t, srv, ["--timeout-idle", "1000"])
    status, body, r = http_get(m, HOST, "/", srv.port)
    assert status == 200 and body == b"b" * 100, (status, body)
    assert b"AT-S.Http Client Error:65\r\n" in r.text, r.text
    assert r.final.startswith(b"AT-S.ERROR:111:Request failed") and \
        b"in the middle of the body (100 body bytes received)" in r.final, r.final
    alive(m)
    # one byte every 2 s, receive timeout 1000 ms: the variable (ms, as on the
    # module) wins over --timeout-idle 30000
    srv2 = hostile.start(t, t.pki.coursera, "drip_body", body=b"xyz", interval=2.0)
    m2 = setup(t, srv2, ["--timeout-idle", "30000"])
    ok(m2, "AT+S.SCFG=ip_http_get_recv_timeout,1000")
    status, body, r = http_get(m2, HOST, "/", srv2.port)
    assert status == 200 and body == b"", (status, body)
    assert b"AT-S.Http Client Error:65\r\n" in r.text, r.text
    assert b"sent nothing for 1000 ms in the middle of the body (0 body bytes received)" in r.final, r.final
    alive(m2)


@quick
@timeout(30)
def test_spwf_httpget_truncated_body_never_stored(t):
    get = "AT+S.HTTPGET=%s,/,%d,2,,,%s"
    # a clean download (close-delimited body ended by close_notify) creates the file
    good = hostile.start(t, t.pki.coursera, "clean_close", body=b"g" * 100)
    m = spwf_modem(t, resolve=["%s:%d:127.0.0.1" % (HOST, good.port)])
    load_ca(m, t.pki.root, "der")
    r = ok(m, get % (HOST, good.port, "update.bin"))
    assert b"AT-S.File:update.bin:100\r\n" in r.text, r.text
    # a FIN without close_notify: truncated, reported, the file keeps its old content
    bad = hostile.start(t, t.pki.coursera, "fin_no_close_notify", body=b"t" * 50)
    m.close()
    m2 = spwf_modem(t, resolve=["%s:%d:127.0.0.1" % (HOST, bad.port)], store=m.store)
    load_ca(m2, t.pki.root, "der")
    r = cmd(m2, get % (HOST, bad.port, "update.bin"))
    assert not r.ok and b"AT-S.Http Client Error:164\r\n" in r.text, r.text
    assert r.final.startswith(b"AT-S.ERROR:111:Request failed") and \
        b"body truncated: connection closed without TLS close_notify after 50 bytes" in r.final, r.final
    assert b"AT-S.File:" not in r.text, r.text
    r = ok(m2, "AT+S.FSL")
    assert b"AT-S.File:update.bin:100\r\n" in r.text, r.text
    m2.send(b"AT+S.FSP=update.bin\r")
    m2.expect(READING_RE, 10)
    assert m2.expect(b"AT-S.OK\r\n", 10).before.rstrip(b"\r\n") == b"g" * 100
    # a new file name that fails is not created at all
    r = cmd(m2, get % (HOST, bad.port, "new.bin"))
    assert b"AT-S.Http Client Error:164\r\n" in r.text, r.text
    r = ok(m2, "AT+S.FSL")
    assert b"new.bin" not in r.text, r.text
    alive(m2)


@timeout(30)
def test_spwf_httpget_rst_and_oversized_chain(t):
    srv = hostile.start(t, t.pki.coursera, "rst_mid_record")
    m = setup(t, srv)
    status, body, r = http_get(m, HOST, "/", srv.port)
    assert status == 200 and body == b"b" * 100, (status, body)
    assert b"AT-S.Http Client Error:63\r\n" in r.text and re.search(rb"reset by peer", r.final, re.I), r.text
    alive(m)
    path, size = hostile.big_chain(t)
    big = hostile.start(t, t.pki.coursera, "serve", chain=path)
    m2 = setup(t, big)
    ce, he, final = http_fail(m2, HOST, "/", big.port)
    assert he == 2 and "certificate chain must stay below 100 KiB" in final, (ce, he, final)
    alive(m2)
    err(m2, "AT+S.SOCKON=%s,%d,,s" % (HOST, big.port), 101, [r"certificate chain must stay below 100 KiB"])
    alive(m2)


@quick
@timeout(30)
def test_spwf_sockon_stalled_handshake_timeout(t):
    srv = hostile.start(t, t.pki.coursera, "stall_handshake")
    m = setup(t, srv, ["--timeout-connect", "1000"])
    err(m, "AT+S.SOCKON=%s,%d,,s" % (HOST, srv.port), 65, [r"TLS handshake with .* not finished within"])
    alive(m)
    r = ok(m, "AT+S.SOCKL")
    assert b"AT-S.Socket:" not in r.text, r.text


@timeout(30)
def test_spwf_socket_stalled_server_host_closes(t):
    srv = hostile.start(t, t.pki.coursera, "stall_after_handshake")
    m = setup(t, srv)
    r = ok(m, "AT+S.SOCKON=%s,%d,,s" % (HOST, srv.port))
    assert b"AT-S.On:127.0.0.1:0" in r.text, r.text
    r = ok(m, "AT+S.SOCKQ=0")
    assert b"AT-S.Query:0" in r.text, r.text
    assert sockr(m, 0) == b""                 # nothing pending: answers at once
    # a write shorter than announced: after 5 s of host silence AT-S.ERROR:14,
    # the bytes received went to the server, the modem serves on
    m.send(b"AT+S.SOCKW=0,10\r1234")
    r = m.expect(re.compile(rb"AT-S\.ERROR[^\r\n]*\r\n"), 15)
    assert r.match.startswith(b"AT-S.ERROR:14:"), r.match
    assert b"announced 10 bytes after AT+S.SOCKW, received 4, then nothing for 5 s" in r.match, r.match
    assert b"the 4 bytes received were sent" in r.match, r.match
    alive(m)
    ok(m, "AT+S.SOCKC=0")
    alive(m)


@timeout(30)
def test_spwf_socket_fin_without_close_notify_and_rst(t):
    srv = hostile.start(t, t.pki.coursera, "send_rst_raw", payload=b"first")
    m = setup(t, srv)
    ok(m, "AT+S.SOCKON=%s,%d,,s" % (HOST, srv.port))
    m.expect(re.compile(rb"\+WIND:55:Pending Data::0:5:5\r\n"), 10)
    assert sockr(m, 0) == b"first"
    ok(m, "AT+S.SOCKW=0,2", data=b"go")
    m.expect(re.compile(rb"\+WIND:58:Socket Closed:0:1\r\n"), 10)
    alive(m)
    ok(m, "AT+S.SOCKC=0")
    # FIN without close_notify: the socket reports closed (0), the data stays readable
    srv2 = hostile.start(t, t.pki.coursera, "send_fin_raw", payload=b"hello")
    m2 = setup(t, srv2)
    ok(m2, "AT+S.SOCKON=%s,%d,,s" % (HOST, srv2.port))
    m2.expect(re.compile(rb"\+WIND:58:Socket Closed:0:0\r\n"), 10)
    assert sockr(m2, 0) == b"hello"
    assert "without TLS close_notify" in m2.trace_text()
    alive(m2)


@timeout(30)
def test_spwf_sockon_name_through_the_background_resolver(t):
    # "localhost" is not a --resolve entry: the system resolver runs in the
    # background (getaddrinfo_a); the certificate name is given as the 4th argument
    srv = hostile.start(t, t.pki.coursera, "stall_after_handshake", payload=b"hi")
    m = spwf_modem(t)
    load_ca(m, t.pki.root, "der")
    r = ok(m, "AT+S.SOCKON=localhost,%d,,%s" % (srv.port, HOST))
    assert re.search(rb"AT-S\.On:(127\.0\.0\.1|::1):0", r.text), r.text
    assert "system resolver, in the background" in m.trace_text()
    alive(m)
