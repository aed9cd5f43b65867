"""Seed 000 (HL8548 HTTPS thread), end to end against nginx and the echo server.

The user's transcript with its slips, each answered with the documented error,
then the corrected session; Sierra's example (KCERTSTORE ended by +++, POST of
20 bytes); the sec_level 2 / 0 pair with a wrong and a right CA; a 64 MiB
download streamed through the modem with bounded memory.
"""
import datetime as dt
import hashlib
import re
import subprocess
import time

import hl
from framework import timeout
from hl import PATTERN

HOST = "www.coursera.test"
PAGE = (b"<!DOCTYPE html>\n<html><head><title>www.coursera.test</title></head>\n"
        b"<body><h1>Welcome to the coursera test page</h1>\n<p>\xc3\xa9t\xc3\xa9 \xe2\x80\x94 bytes "
        b"must arrive exactly.</p></body></html>\n")


def coursera_nginx(t, big=None):
    """nginx with the www.coursera.test vhost (leaf + intermediate) that rejects
    handshakes without SNI (or with an unknown name)."""
    ng = t.nginx()
    ng.vhost([HOST, "coursera.test"], t.pki.coursera, files={"index.html": PAGE}, big=big,
             misdirected_421=True)
    return ng.start()


def coursera_modem(t, port, **kw):
    return t.modem(resolve=["%s:%d:127.0.0.1" % (HOST, port)], **kw)


def s_client(args, timeout=15):
    p = subprocess.run(["openssl", "s_client"] + args, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace")


def served_to_modem(ng, path, count=1):
    return ng.wait_access_log(lambda l: '"GET %s ' % path in l, count)


# ---- (a) the user's transcript: slips, then the corrected session --------------------


@timeout(90)
def test_seed000_user_transcript_slips_then_corrected_session(t):
    ng = coursera_nginx(t)
    port = ng.port

    # the server is like coursera.org: without SNI the handshake is aborted
    rc, out = s_client(["-connect", "127.0.0.1:%d" % port, "-noservername"])
    assert rc != 0, "nginx accepted a ClientHello without SNI:\n" + out[-1500:]
    rc, out = s_client(["-connect", "127.0.0.1:%d" % port, "-servername", HOST,
                        "-CAfile", t.pki.root.pem, "-verify_return_error"])
    assert rc == 0 and "Verify return code: 0 (ok)" in out, "with SNI it must work:\n" + out[-1500:]

    m = coursera_modem(t, port)
    m.at_ok("ATE0")

    # at+kcnxcfg=1,“GPRS”,“MYAPN”;… : typographic quotes; one error, the chain stops
    hl.cme(m, "at+kcnxcfg=1,“GPRS”,“MYAPN”;+KCNXTIMER=1,30,1,30;+KCNXPROFILE=1;+CGATT=1",
           number=916, text=[r"typographic", r'"GPRS"|ASCII'])
    m.at_ok("AT+CMEE=1")
    r = m.at('AT+KCNXCFG=1,"GPRS","MYAPN";+KCNXTIMER=1,30,1,30;+KCNXPROFILE=1;+CGATT=1')
    assert r.text == b"\r\nOK\r\n", "a chained line answers one OK, got %r" % r.text

    # AT+CCLK=“16/06/19,14:30:54+03” : typographic quotes again
    hl.cme(m, "AT+CCLK=“16/06/19,14:30:54+03”", number=916, text=r"typographic")
    now = hl.clock_now()
    m.at_ok('AT+CCLK="%s"' % now)
    r = m.at_ok("AT+CCLK?")
    c = r.info("+CCLK: ")
    assert c, "no +CCLK: line in %r" % r.text
    mm = re.fullmatch(rb'\+CCLK: "(\d\d/\d\d/\d\d,\d\d:\d\d:\d\d)([+-]\d\d)"', c[0])
    assert mm, "+CCLK? format: %r" % c[0]
    got = dt.datetime.strptime(mm.group(1).decode(), "%y/%m/%d,%H:%M:%S")
    want = dt.datetime.strptime(now[:17], "%y/%m/%d,%H:%M:%S")
    assert abs((got - want).total_seconds()) < 60, "clock set to %s, reads %s" % (now, c[0])

    # AT+KCERTSTORE=1,<len> with the CA exported by a browser (PEM, CRLF):
    # stored as a local certificate -> OK, and at CMEE=2 a warning explains
    m.at_ok("AT+CMEE=2")
    ca_crlf = t.pki.root.bytes("crlf")
    r = hl.store_cert(m, ca_crlf, typ=1, end="count")
    assert r.ok, "a CA stored as type 1 is stored (with a warning): %r" % r.text
    warn = r.info("+TMWARN:")
    assert warn, "at CMEE=2 a CA stored as type 1 gets a +TMWARN: line, got %r" % r.text
    # the corrected load: the root CA as type 0, PEM, ended by the byte count
    r = hl.store_cert(m, t.pki.root.bytes("pem"), typ=0, end="count")
    assert r.ok and not r.info("+TMWARN:"), r

    # AT+KHTTPSCFG=1,"www.coursera.org ",2 : trailing space and port 2
    hl.cme(m, 'AT+KHTTPSCFG=1,"%s ",2' % HOST, number=916)
    hl.cme(m, 'AT+KHTTPSCFG=1,"%s ",%d,2' % (HOST, port), number=916,
           text=r"(trailing|ends? with a) space")
    hl.cme(m, 'AT+KHTTPSCFG=1,"%s",2' % HOST, number=916,
           text=[r"port 2", r"third argument is the port",
                 r'AT\+KHTTPSCFG=1,"[^"]*",443,2'])
    m.at_ok("AT+CMEE=2")
    sid, r = hl.cfg(m, 1, HOST, port, 2)
    assert sid == 1, "failed KHTTPSCFG must not use up session ids: got %d" % sid
    assert r.text == b"\r\n+KHTTPSCFG: 1\r\n\r\nOK\r\n", r.text

    # headers "Accept : text/html" (space before the colon)
    bad = (b"Accept : text/html\r\n"
           b"If-Modified-Since : Saturday, 15-January-2000 14:37:11 GMT\r\n")
    m.at_ok("AT+CMEE=1")
    r = hl.header(m, sid, bad)
    assert r.text == b"\r\n+CME ERROR: 916\r\n", r.text
    m.at_ok("AT+CMEE=2")
    r = hl.header(m, sid, bad)
    assert r.final.startswith(b"+CME ERROR: ") and re.search(rb"(?i)space.*colon", r.final), \
        "at CMEE=2 the error must say to remove the space before the colon: %r" % r.text
    r = hl.header(m, sid, b"Accept: text/html\r\n")
    assert r.ok, r
    r = m.at_ok("AT+KHTTPSHEADER?")
    assert re.search(rb"\+KHTTPSHEADER: %d,\d+" % sid, r.text), r.text
    assert b"Accept: text/html" in r.text, r.text
    assert b"Accept : " not in r.text, "the refused header must not be stored: %r" % r.text

    # AT+KHTTPSGET=1, “/” : typographic quotes
    hl.cme(m, "AT+KHTTPSGET=1, “/”", number=916, text=r"typographic")
    assert not served_to_modem(ng, "/", 0), "a refused command must not reach the server"

    # the corrected request: the exact page
    m.at_ok("AT+CMEE=2")
    body = hl.get(m, sid, "/")
    assert body == PAGE, "page bytes differ:\n got  %r\n want %r" % (body[:300], PAGE[:300])
    log = served_to_modem(ng, "/")
    assert log and 'sni="%s"' % HOST in log[-1] and " 200 " in log[-1], log
    m.at_ok("AT+KHTTPSCLOSE=%d" % sid)


# ---- (b) Sierra's example ------------------------------------------------------------


@timeout(90)
def test_seed000_sierra_example_post_20_bytes(t):
    echo = t.echo_server(t.pki.posttest)
    m = t.modem(resolve=["posttest.test:%d:127.0.0.1" % echo.port])
    m.at_ok("ATE0")
    m.set_guard(5)                      # +++ guard time 100 ms
    m.at_ok('AT+CCLK="%s"' % hl.clock_now())
    m.at_ok("AT+KCNXTIMER=1,30,1,30,10")
    m.at_ok('AT+KCNXCFG=1,"GPRS","uninet"')
    sid, _ = hl.cfg(m, 1, "posttest.test", echo.port, 2)

    before = m.at_ok("AT+KCERTSTORE?").text
    r = hl.store_cert(m, t.pki.root.bytes("pem"), typ=0, end="escape")
    assert r.text == b"\r\nOK\r\n", "KCERTSTORE ended by +++: %r" % r.text
    after = m.at_ok("AT+KCERTSTORE?").text
    assert after != before, "AT+KCERTSTORE? must list the stored certificate:\n%r\n%r" % (before, after)

    body = hl.get(m, sid, "/")
    assert body == echo.GET_BODY, body
    m.at_ok("AT+KHTTPSHEADER?")
    r = hl.header(m, sid, b"Content-Length: 20\r\n")
    assert r.text == b"\r\nOK\r\n", r.text

    payload = b"A" * 18 + b"\r\n"      # "AAAAAAAAAAAAAAAAAA //20 bytes including \r\n"
    assert len(payload) == 20
    resp = hl.post(m, sid, "/post.php", payload)
    assert resp == payload, "the echo server returns the body it received; modem showed %r" % resp
    posts = [q for q in echo.requests() if q.get("method") == "POST"]
    assert len(posts) == 1, posts
    q = posts[0]
    assert q["path"] == "/post.php" and q["sni"] == "posttest.test", q
    assert echo.bodies() == [payload], "server received %r" % echo.bodies()
    hdrs = {k.lower(): v for k, v in q["headers"]}
    assert hdrs.get("content-length") == "20" and "transfer-encoding" not in hdrs, hdrs

    r = m.at_ok("AT+KCGPADDR")
    assert re.search(rb'\r\n\+KCGPADDR: 1,"[0-9A-Fa-f.:]+"\r\n', r.text), r.text
    m.at_ok("AT+KHTTPSCLOSE=%d" % sid)
    m.at_ok("AT+KHTTPSDEL=%d" % sid)
    m.at_ok("AT+KCNXDOWN=1,1")


@timeout(60)
def test_kcertstore_garbage_is_refused_and_nothing_stored(t):
    m = t.modem()
    hl.start(m)
    before = m.at_ok("AT+KCERTSTORE?").text
    junk = b"This is not a certificate, just some text.\r\n" * 3
    r = hl.store_cert(m, junk, typ=0, end="count")
    assert r.text == b"\r\n+CME ERROR: 931\r\n", r.text
    m.at_ok("AT+CMEE=2")
    fake_pem = b"-----BEGIN CERTIFICATE-----\r\nbm90IGEgY2VydGlmaWNhdGU=\r\n-----END CERTIFICATE-----\r\n"
    r = hl.store_cert(m, fake_pem, typ=0, end="pattern")
    assert r.final.startswith(b"+CME ERROR: ") and not r.ok, r.text
    assert m.at_ok("AT+KCERTSTORE?").text == before, "garbage must not be stored"
    # bare base64 of the DER is a certificate
    r = hl.store_cert(m, t.pki.root.bytes("b64"), typ=0, end="pattern")
    assert r.ok, r.text


# ---- (c) sec_level 2 / 0 with a wrong and a right CA -----------------------------------


@timeout(90)
def test_seed000_wrong_ca_sec2_fails_13_sec0_not_verified(t):
    ng = coursera_nginx(t)
    m = coursera_modem(t, ng.port)
    hl.start(m, cmee=1)
    r = hl.store_cert(m, t.pki.wrong_root.bytes("pem"), typ=0, end="pattern")
    assert r.ok, r.text

    sid, _ = hl.cfg(m, 1, HOST, ng.port, 2)
    got = hl.get_fails(m, sid, "/")
    assert got[:2] == (sid, 13) and got[2] is None, \
        "expected +KHTTPS_ERROR: %d,13 (no reason at CMEE=1), got %r" % (sid, got)

    m.at_ok("AT+CMEE=2")
    sid2, _ = hl.cfg(m, 1, HOST, ng.port, 2)
    s, code, why = hl.get_fails(m, sid2, "/")
    assert (s, code) == (sid2, 13), (s, code, why)
    assert why and re.search(r"(?i)trust|issuer", why), \
        "at CMEE=2 the reason must name the certificate problem: %r" % why
    assert not served_to_modem(ng, "/", 0), "no request may be sent over an unverified connection"

    # sec_level 0: encrypt only; announced at CMEE=2 and in the trace
    sid0, r = hl.cfg(m, 1, HOST, ng.port, 0)
    warn = r.info("+TMWARN:")
    assert warn and re.search(rb"(?i)not (be )?verified", b"".join(warn)), \
        "sec_level 0 at CMEE=2 gives +TMWARN: ...not verified... before OK: %r" % r.text
    body = hl.get(m, sid0, "/")
    assert body == PAGE, body[:200]
    assert "NOT VERIFIED" in m.trace_text(), "the trace must say NOT VERIFIED for sec_level 0"


def _right_ca(t, form):
    ng = coursera_nginx(t)
    m = coursera_modem(t, ng.port)
    hl.start(m, cmee=2)
    r = hl.store_cert(m, t.pki.root.bytes(form), typ=0, end="count")
    assert r.ok and not r.info("+TMWARN:"), r.text
    sid2, _ = hl.cfg(m, 1, HOST, ng.port, 2)
    assert hl.get(m, sid2, "/") == PAGE
    sid0, _ = hl.cfg(m, 1, HOST, ng.port, 0)
    assert hl.get(m, sid0, "/") == PAGE
    assert len(served_to_modem(ng, "/", 2)) == 2, ng.access_log()


@timeout(90)
def test_seed000_right_ca_pem_crlf_sec2_and_sec0(t):
    _right_ca(t, "crlf")


@timeout(90)
def test_seed000_right_ca_der_sec2_and_sec0(t):
    _right_ca(t, "der")


# ---- 64 MiB download: streamed, hashed, memory bounded ---------------------------------


@timeout(240)
def test_get_64mib_streams_exact_bytes_with_bounded_rss(t):
    path, sha, size = t.big_file()
    ng = coursera_nginx(t, big=t.big_file())
    m = coursera_modem(t, ng.port)
    hl.start(m, cmee=2)
    assert hl.store_cert(m, t.pki.root.bytes("pem"), typ=0, end="count").ok
    sid, _ = hl.cfg(m, 1, HOST, ng.port, 2)

    rss0 = m.rss_kib()
    assert rss0, "cannot read VmRSS of pid %d" % m.pid
    peak = [rss0]
    last = [0.0]

    def sample():
        now = time.monotonic()
        if now - last[0] >= 0.02:
            last[0] = now
            v = m.rss_kib()
            if v and v > peak[0]:
                peak[0] = v

    h = hashlib.sha256()
    t0 = time.monotonic()
    r = m.at('AT+KHTTPSGET=%d,"/big.bin"' % sid, 30)
    assert r.final == b"CONNECT", r.text
    n = m.stream_until(PATTERN, h.update, idle_timeout=30, total_timeout=200, on_tick=sample)
    fin = m.expect(hl.FINAL_RE, 30)
    sample()
    secs = time.monotonic() - t0
    t.log("64 MiB in %.1fs (%.1f MiB/s); RSS before %d KiB, peak %d KiB (+%d KiB)" % (
        secs, size / secs / 2**20, rss0, peak[0], peak[0] - rss0))
    assert n == size, "received %d body bytes, expected %d" % (n, size)
    assert h.hexdigest() == sha, "sha256 of the received body differs"
    assert fin.group(1) == b"OK" and fin.before == b"", fin.consumed
    assert peak[0] - rss0 < 16 * 1024, "modem RSS grew by %d KiB during the transfer (limit 16 MiB)" % (
        peak[0] - rss0)
    # a long body is not silent in the trace: a progress line at least every 4 MiB, with the rate
    prog = re.findall(r"http\s+GET /big\.bin HTTP/1\.1: body received ([0-9.]+) MiB so far \((\d+) bytes\) "
                      r"in [0-9.]+ s, [0-9.]+ MiB/s now, [0-9.]+ MiB/s average", m.trace_text())
    assert len(prog) >= size // (4 << 20) - 1, "%d progress lines for %d bytes:\n%s" % (
        len(prog), size, m.trace_text()[-3000:])
    counts = [int(b) for _, b in prog]
    assert counts == sorted(counts) and counts[-1] <= size, counts


# ---- sec_level 2 with a stored client certificate (mTLS) -------------------------------


def _client_cert(t, client):
    ng = t.nginx()
    ng.vhost(HOST, t.pki.coursera, files={"index.html": PAGE}, client_ca=t.pki.client_ca,
             mtls_location="/mtls/")
    ng.start()
    m = coursera_modem(t, ng.port)
    hl.start(m, cmee=2)
    assert hl.store_cert(m, t.pki.root.bytes("pem"), typ=0, end="count").ok
    r = hl.store_cert(m, client.bytes("pem"), typ=1, end="count")
    assert r.ok and not r.info("+TMWARN:"), "a client certificate as type 1: %r" % r.text
    key = client.bytes("key")
    r = hl.data_cmd(m, "AT+KPRIVKSTORE=0,%d" % len(key), key, end="count")
    assert r.ok, r.text
    sid, _ = hl.cfg(m, 1, HOST, ng.port, 2)
    body = hl.get(m, sid, "/mtls/")
    assert body == b"client: CN=%s\n" % client.name.encode(), \
        "nginx saw no valid client certificate: %r\n%s" % (body, "\n".join(ng.access_log()))


@timeout(60)
def test_sec2_presents_stored_client_cert_ecdsa_p256(t):
    _client_cert(t, t.pki.client_ec)


@timeout(60)
def test_sec2_presents_stored_client_cert_rsa2048(t):
    _client_cert(t, t.pki.client_rsa)


# ---- HL result framing and error numbers ------------------------------------------------


@timeout(30)
def test_hl_echo_default_error_levels_and_numbers(t):
    m = t.modem()
    r = m.at("AT")
    assert r.text == b"AT\r\r\nOK\r\n", "echo is on by default: %r" % r.text
    m.at_ok("ATE0")
    for level in (0, 1):
        m.at_ok("AT+CMEE=%d" % level)
        r = m.at("AT+NOSUCHCMD")
        assert r.text == b"\r\nERROR\r\n", "unknown command at CMEE=%d: %r" % (level, r.text)
    m.at_ok("AT+CMEE=2")
    r = m.at("AT+NOSUCHCMD")
    assert r.final.startswith(b"+CME ERROR: ") and re.search(rb"[A-Za-z]{3}", r.final), r.text
    hl.cme(m, "AT+KHTTPSCFG=1", number=917, text=r"missing")
    hl.cme(m, 'AT+KHTTPSCFG=1,"a.test",443,0,0,1,"u","p",1,2,3,4', number=915, text=r"too many")
    hl.cme(m, 'AT+KHTTPSGET=5,"/"', number=910, text=r"session")
    hl.cme(m, 'AT+KHTTPSCFG=1,"bad host!",443', number=916, text=r"host")


@timeout(60)
def test_khttpscnx_connects_verifies_and_the_get_reuses_it(t):
    """AT+KHTTPSCNX answers OK, then +KHTTPS_IND: <id>,1 once the TLS
    connection is up and verified; the next KHTTPSGET runs on it. With the
    wrong CA the connect reports +KHTTPS_ERROR: <id>,13 and its reason."""
    ng = coursera_nginx(t)
    m = coursera_modem(t, ng.port)
    hl.start(m, cmee=2)
    assert hl.store_cert(m, t.pki.root.bytes("pem"), typ=0, end="count").ok
    sid, _ = hl.cfg(m, 1, HOST, ng.port, 2)
    m.at_ok("AT+KHTTPSCNX=%d" % sid)
    m.expect(b"\r\n+KHTTPS_IND: %d,1\r\n" % sid, 10)
    assert hl.get(m, sid, "/") == PAGE
    assert "reused connection" in m.trace_text(), "the GET must reuse the KHTTPSCNX connection"
    conns = [l.rsplit("conn=", 1)[-1] for l in served_to_modem(ng, "/", 1)]
    assert len(conns) == 1, conns
    # wrong CA: the connect itself fails, with the module's code and our reason
    m.at_ok("AT+KCERTDELETE=0")
    assert hl.store_cert(m, t.pki.wrong_root.bytes("pem"), typ=0, end="count").ok
    sid2, _ = hl.cfg(m, 1, HOST, ng.port, 2)
    m.at_ok("AT+KHTTPSCNX=%d" % sid2)
    u = m.expect(hl.ERR_URC_RE, 10)
    assert int(u.group(1)) == sid2 and int(u.group(2)) == 13, u.match
    assert re.search(rb"(?i)trusted|issuer|CA", u.group(3) or b""), u.match
