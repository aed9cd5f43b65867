"""Trust rules, SPKI pinning (AT+TMPIN), virtual hosts, keep-alive and 8 MiB bodies over TLS.

- default trust: with nothing loaded the --ca-bundle is used; once a root is loaded only
  what was loaded is trusted; deleting it brings the bundle back;
- AT+TMPIN=<id>,"<sha256>" per session: match -> page, mismatch -> +KHTTPS_ERROR: <id>,13
  with both hashes; hex (colons allowed) or base64; "" removes; AT+TMPIN? lists;
- two virtual hosts on one address: SNI and Host agree (nginx answers 421 otherwise);
- keep-alive: two GETs of one session share one TLS connection (nginx $connection, trace);
- 8 MiB bodies with Content-Length and chunked, byte-exact.

One nginx for the module (started once per run), certificates from test_tls_cases.
"""
import hashlib
import os
import re
import subprocess

import hl
import servers as _servers
import test_tls_cases as cases
from framework import timeout
from hl import PATTERN

H = cases.H
BIG = 8 * 1024 * 1024

_NG = {}


def trust_nginx(t):
    ng = _NG.get("ng")
    if ng and ng.proc and ng.proc.alive():
        return ng
    c = cases.cpki(t)
    d = os.path.join(t.session.dir, "tls-trust-nginx")
    os.makedirs(d, exist_ok=True)
    ng = _servers.Nginx(d)
    big = t.big_file(BIG)
    for name, cert in (("pin", c.generic), ("bundle", c.generic), ("vhost-one", c.vh1),
                       ("vhost-two", c.vh2), ("keep-alive", c.keepalive)):
        ng.vhost(H(name), cert, files={"index.html": cases.PAGE + name.encode() + b"\n"},
                 misdirected_421=name.startswith("vhost"))
    ng.vhost(H("bulk"), c.bulk, big=big, locations=[
        # sub_filter drops Content-Length: nginx sends the file with chunked coding
        "location = /chunked.bin { alias %s; sub_filter_types *; "
        "sub_filter 'tlsmodem-never-matches' ''; }" % big[0]])
    ng.start()
    _NG["ng"] = ng
    return ng


def modem(t, ng, names, **kw):
    m = t.modem(resolve=["%s:%d:127.0.0.1" % (H(n), ng.port) for n in names], **kw)
    m.at_ok("ATE0")
    m.at_ok("AT+CMEE=2")
    m.at_ok('AT+CCLK="%s"' % hl.clock_now())
    m.at_ok('AT+KCNXCFG=1,"GPRS","MYAPN"')
    return m


def page(name):
    return cases.PAGE + name.encode() + b"\n"


def spki_sha256(cert):
    pub = subprocess.run(["openssl", "x509", "-in", cert.pem, "-pubkey", "-noout"],
                         stdout=subprocess.PIPE, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                         stdout=subprocess.PIPE, check=True).stdout
    return hashlib.sha256(der).digest()


# ---- default trust -------------------------------------------------------------------------


@timeout(120)
def test_tls_trust_bundle_when_nothing_loaded_then_only_loaded(t):
    ng = trust_nginx(t)
    c = cases.cpki(t)
    bundle = c.p.file("tls-bundle.pem", c.p.wrong_root.bytes("pem") + c.root.bytes("pem"))
    m = modem(t, ng, ["bundle"], ca_bundle=bundle)
    host = H("bundle")
    # nothing loaded: the bundle (which holds the test root) is the trust
    sid, _ = hl.cfg(m, 1, host, ng.port, 2)
    assert hl.get(m, sid, "/") == page("bundle")
    tr = m.trace_text()
    assert "trust: nothing loaded, default bundle %s" % bundle in tr, tr[-2000:]
    assert re.search(r"depth 2: 'CN=Test Root CA' .*\[bundle, anchor\]", tr), tr[-2000:]
    assert "verified by root 'CN=Test Root CA' (CA bundle, sha256 " in tr, tr[-2000:]
    # a different root loaded: only it is trusted, the bundle no longer counts
    assert hl.store_cert(m, c.p.wrong_root.bytes("pem"), typ=0).ok
    sid2, _ = hl.cfg(m, 1, host, ng.port, 2)
    s, code, why = hl.get_fails(m, sid2, "/")
    t.log("bundle, then Wrong Root CA loaded: +KHTTPS_ERROR: %d,%d,\"%s\"" % (s, code, why))
    assert (s, code) == (sid2, 13), (s, code, why)
    assert re.search(r"no stored CA certificate matches the server's issuer: no loaded certificate is "
                     r"'CN=Test Root CA', the issuer of depth 1 'CN=Test Intermediate CA'; trust is the 1 "
                     r"loaded certificate \('CN=Wrong Root CA'\)", why), why
    # deleted again: back to the bundle
    m.at_ok("AT+KCERTDELETE=0,0")
    sid3, _ = hl.cfg(m, 1, host, ng.port, 2)
    assert hl.get(m, sid3, "/") == page("bundle")


@timeout(60)
def test_tls_trust_nothing_loaded_no_bundle_refused(t):
    ng = trust_nginx(t)
    m = modem(t, ng, ["bundle"])          # --ca-bundle none
    sid, _ = hl.cfg(m, 1, H("bundle"), ng.port, 2)
    s, code, why = hl.get_fails(m, sid, "/")
    t.log("nothing loaded, no bundle: +KHTTPS_ERROR: %d,%d,\"%s\"" % (s, code, why))
    assert (s, code) == (sid, 13), why
    assert "nothing is loaded and there is no CA bundle" in why, why


# ---- AT+TMPIN -------------------------------------------------------------------------------


@timeout(60)
def test_tls_tmpin_match_mismatch_forms_and_read(t):
    ng = trust_nginx(t)
    c = cases.cpki(t)
    m = modem(t, ng, ["pin"])
    assert hl.store_cert(m, c.root.bytes("pem"), typ=0).ok
    host = H("pin")
    right = spki_sha256(c.generic)
    wrong = spki_sha256(c.root)
    right_hex = right.hex()
    right_colons = ":".join("%02X" % b for b in right)
    import base64
    right_b64 = base64.b64encode(right).decode()

    # pin matches: hex with colons (upper case)
    s1, _ = hl.cfg(m, 1, host, ng.port, 2)
    m.at_ok('AT+TMPIN=%d,"%s"' % (s1, right_colons))
    assert hl.get(m, s1, "/") == page("pin")
    assert "SPKI pin matches" in m.trace_text(), m.trace_text()[-1500:]
    # pin matches: base64 with the sha256// prefix (curl's form)
    s2, _ = hl.cfg(m, 1, host, ng.port, 2)
    m.at_ok('AT+TMPIN=%d,"sha256//%s"' % (s2, right_b64))
    assert hl.get(m, s2, "/") == page("pin")
    # pin differs: 13 with both hashes
    s3, _ = hl.cfg(m, 1, host, ng.port, 2)
    m.at_ok('AT+TMPIN=%d,"%s"' % (s3, wrong.hex()))
    r = m.at_ok("AT+TMPIN?")
    pins = r.info("+TMPIN:")
    assert pins == [b'+TMPIN: %d,"%s"' % (s1, right_hex.encode()),
                    b'+TMPIN: %d,"%s"' % (s2, right_hex.encode()),
                    b'+TMPIN: %d,"%s"' % (s3, wrong.hex().encode())], r.text
    s, code, why = hl.get_fails(m, s3, "/")
    t.log("pin mismatch: +KHTTPS_ERROR: %d,%d,\"%s\"" % (s, code, why))
    assert (s, code) == (s3, 13), why
    assert "the server key does not match the pinned key" in why, why
    assert "(hex %s)" % wrong.hex() in why and "(hex %s)" % right_hex in why, why
    assert "server key is sha256//%s" % right_b64 in why, why
    assert not [l for l in ng.access_log() if 'sni="%s"' % host in l and "conn=" in l][2:], \
        "no request may go out over the mismatching connection"
    # "" removes the pin: the same session now succeeds on chain + name alone
    m.at_ok('AT+TMPIN=%d,""' % s3)
    r = m.at_ok("AT+TMPIN?")
    assert b'+TMPIN: %d,' % s3 not in r.text, r.text
    assert hl.get(m, s3, "/") == page("pin")
    # the pin goes with the session
    m.at_ok("AT+KHTTPSDEL=%d" % s1)
    r = m.at_ok("AT+TMPIN?")
    assert b"+TMPIN: %d," % s1 not in r.text, r.text


@timeout(30)
def test_tls_tmpin_bad_arguments(t):
    m = t.modem()
    hl.start(m, cmee=1)
    sid, _ = hl.cfg(m, 1, "pin.tls.test", 443, 2)
    hl.cme(m, 'AT+TMPIN=%d,"abcd"' % sid, number=916, text=r"has 4 hex digits; a SHA-256 is 64 hex digits")
    hl.cme(m, 'AT+TMPIN=%d,"%s"' % (sid, "ab" * 33), number=916, text=r"66 hex digits")
    hl.cme(m, 'AT+TMPIN=%d,"not a hash!"' % sid, number=916, text=r"neither 64 hex digits")
    hl.cme(m, 'AT+TMPIN=7,"%s"' % ("00" * 32), number=910, text=r"session 7 is not configured")
    hl.cme(m, "AT+TMPIN=%d" % sid, number=917, text=r"missing")
    m.at_ok('AT+TMPIN=%d,"%s"' % (sid, "0A" * 32))
    r = m.at_ok("AT+TMPIN?")
    assert r.info("+TMPIN:") == [b'+TMPIN: %d,"%s"' % (sid, b"0a" * 32)], r.text


# ---- virtual hosts, keep-alive ---------------------------------------------------------------


@timeout(60)
def test_tls_vhosts_sni_and_host_agree_421_otherwise(t):
    ng = trust_nginx(t)
    c = cases.cpki(t)
    m = modem(t, ng, ["vhost-one", "vhost-two"])
    assert hl.store_cert(m, c.root.bytes("pem"), typ=0).ok
    s1, _ = hl.cfg(m, 1, H("vhost-one"), ng.port, 2)
    s2, _ = hl.cfg(m, 1, H("vhost-two"), ng.port, 2)
    assert hl.get(m, s1, "/") == page("vhost-one")
    m.expect(b"+KHTTPS_IND: %d,3,%d,200," % (s1, len(page("vhost-one"))))
    assert hl.get(m, s2, "/") == page("vhost-two")
    log = cases.wait_log(ng, 0, lambda l: "vhost-" in l, 2)
    for name in ("vhost-one", "vhost-two"):
        assert [l for l in log if 'sni="%s" host="%s"' % (H(name), H(name)) in l and " 200 " in l], log
    # a Host header naming the other vhost: nginx refuses the misdirected request (421)
    s3, _ = hl.cfg(m, 1, H("vhost-one"), ng.port, 2)
    assert hl.header(m, s3, b"Host: %s\r\n" % H("vhost-two").encode()).ok
    hl.get(m, s3, "/")
    m.expect(re.compile(rb"\+KHTTPS_IND: %d,3,\d+,421," % s3))
    log = cases.wait_log(ng, 0, lambda l: " 421 " in l)
    assert log and 'sni="%s" host="%s"' % (H("vhost-one"), H("vhost-two")) in log[-1], log


@timeout(60)
def test_tls_keepalive_two_gets_one_connection(t):
    ng = trust_nginx(t)
    c = cases.cpki(t)
    m = modem(t, ng, ["keep-alive"])
    assert hl.store_cert(m, c.root.bytes("pem"), typ=0).ok
    sid, _ = hl.cfg(m, 1, H("keep-alive"), ng.port, 2)
    start = len(ng.access_log())
    assert hl.get(m, sid, "/") == page("keep-alive")
    assert hl.get(m, sid, "/index.html") == page("keep-alive")
    log = cases.wait_log(ng, start, lambda l: 'sni="%s"' % H("keep-alive") in l, 2)
    conns = [re.search(r"conn=(\d+)", l).group(1) for l in log]
    assert len(conns) == 2 and conns[0] == conns[1], "two GETs must share one connection: %s" % log
    tr = m.trace_text()
    assert len(re.findall(r"tls\s+ClientHello", tr)) == 1, "one handshake expected:\n" + tr[-3000:]
    assert "reused" in tr or "keep-alive" in tr or len(re.findall(r"verdict", tr)) == 1, tr[-3000:]


# ---- 8 MiB bodies -----------------------------------------------------------------------------


def _get_big(m, sid, uri, show_header):
    h = hashlib.sha256()
    state = {"head": b"", "in_body": not show_header, "n": 0}

    def on_data(b):
        if not state["in_body"]:
            state["head"] += b
            i = state["head"].find(b"\r\n\r\n")
            if i < 0:
                return
            rest = state["head"][i + 4:]
            state["head"] = state["head"][:i + 4]
            state["in_body"] = True
            b = rest
        h.update(b)
        state["n"] += len(b)

    r = m.at('AT+KHTTPSGET=%d,"%s"%s' % (sid, uri, ",1" if show_header else ""), 30)
    assert r.final == b"CONNECT", r.text
    m.stream_until(PATTERN, on_data, idle_timeout=30, total_timeout=120)
    fin = m.expect(hl.FINAL_RE, 30)
    assert fin.group(1) == b"OK" and fin.before == b"", fin.consumed
    return state["head"], state["n"], h.hexdigest()


@timeout(120)
def test_tls_8mib_content_length_and_chunked(t):
    ng = trust_nginx(t)
    c = cases.cpki(t)
    path, sha, size = t.big_file(BIG)
    m = modem(t, ng, ["bulk"])
    assert hl.store_cert(m, c.root.bytes("pem"), typ=0).ok
    sid, _ = hl.cfg(m, 1, H("bulk"), ng.port, 2)
    head, n, got = _get_big(m, sid, "/big.bin", True)
    assert re.search(rb"(?i)\r\ncontent-length: %d\r\n" % size, head), head
    assert (n, got) == (size, sha), "Content-Length body: %d bytes, sha256 %s" % (n, got)
    head, n, got = _get_big(m, sid, "/chunked.bin", True)
    assert re.search(rb"(?i)\r\ntransfer-encoding: chunked\r\n", head), head
    assert (n, got) == (size, sha), "chunked body: %d bytes, sha256 %s (de-chunked expected)" % (n, got)
    m.expect(re.compile(rb"\+KHTTPS_IND: %d,3,%d,200," % (sid, size)))
