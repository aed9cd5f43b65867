"""ESP-AT "SSL" links, the tlsmodem way: verified by default (CAs loaded with
AT+SYSMFG, else the bundle), name checked, SNI from the host; AT+CIPSSLCCONF
auth modes, CIPSSLCCN, CIPSSLCSNI, CIPSSLCALPN, PSK refused.  docs/esp.md §4."""
import json
import os
import re
import socket
import ssl
import threading

from esp_sock_lib import IpdReader, cmd, err, esp_modem, load_mfg, ok, send_payload
from framework import quick, timeout

HOST = "www.coursera.test"


def _get(m, link_prefix, host=HOST):
    req = ("GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % host).encode()
    send_payload(m, "AT+CIPSEND=%s%d" % (link_prefix, len(req)), req)
    rd = IpdReader(m)
    body = bytearray()
    while b"echo server: hello" not in body:
        body += rd.read(1, timeout=20)
    return bytes(body)


def _sni_seen(echo):
    with open(os.path.join(echo.dir, "requests.jsonl")) as f:
        entries = [json.loads(l) for l in f if l.strip()]
    return [e.get("sni") for e in entries]


@quick
@timeout(60)
def test_esp_ssl_verified_with_loaded_ca(t):
    echo = t.echo_server(t.pki.coursera)
    m = esp_modem(t, resolve=["%s:%d:127.0.0.1" % (HOST, echo.port)])
    load_mfg(m, "client_ca", "client_ca.0", t.pki.root.bytes("pem"))
    r = ok(m, 'AT+CIPSTART="SSL","%s",%d' % (HOST, echo.port), timeout=30)
    assert r.lines[0] == b"CONNECT", r
    body = _get(m, "")
    assert body.startswith(b"HTTP/1.1 200"), body[:100]
    trace = m.trace_text()
    assert "trust 1 CA certificate(s) from AT+SYSMFG" in trace, trace[-3000:]
    assert "verified" in trace
    assert HOST in _sni_seen(echo)
    m.expect(b"CLOSED\r\n", 10)


@quick
@timeout(60)
def test_esp_ssl_bundle_when_nothing_loaded_and_untrusted_without(t):
    echo = t.echo_server(t.pki.coursera)
    res = ["%s:%d:127.0.0.1" % (HOST, echo.port)]
    m = esp_modem(t, resolve=res, ca_bundle=t.pki.root.pem)
    ok(m, "AT+CIPMUX=1")
    ok(m, 'AT+CIPSTART=4,"SSL","%s",%d' % (HOST, echo.port), timeout=30)
    assert _get(m, "4,").startswith(b"HTTP/1.1 200")
    assert "default bundle" in m.trace_text()
    # another modem without a bundle and without a CA: refused, with the reason
    m2 = esp_modem(t, resolve=res, ca_bundle="none", name="nobundle")
    r = cmd(m2, 'AT+CIPSTART="SSL","%s",%d' % (HOST, echo.port), timeout=30)
    assert r.final == b"ERROR", r
    assert re.search(r"reason.*(trusted|untrusted|root)", m2.trace_text()), m2.trace_text()[-2000:]
    # the advice names this dialect's loading command, not the HL/SPWF ones
    assert 'AT+SYSMFG=2,"client_ca"' in m2.trace_text(), m2.trace_text()[-2000:]


@quick
@timeout(60)
def test_esp_ssl_wrong_name_refused_with_reason(t):
    echo = t.echo_server(t.pki.coursera)
    m = esp_modem(t, resolve=["other.test:%d:127.0.0.1" % echo.port], ca_bundle=t.pki.root.pem)
    r = cmd(m, 'AT+CIPSTART="SSL","other.test",%d' % echo.port, timeout=30)
    assert r.final == b"ERROR", r
    trace = m.trace_text()
    assert re.search(r"reason.*other\.test.*www\.coursera\.test", trace), trace[-2000:]
    # AT+CIPSSLCCN names the certificate to expect; still matched by RFC 6125
    ok(m, 'AT+CIPSSLCCN="%s"' % HOST)
    assert ok(m, "AT+CIPSSLCCN?").info("+CIPSSLCCN:") == [b'+CIPSSLCCN:0,"%s"' % HOST.encode()]
    ok(m, 'AT+CIPSTART="SSL","other.test",%d' % echo.port, timeout=30)
    ok(m, "AT+CIPCLOSE")
    ok(m, 'AT+CIPSSLCCN="coursera.test.evil"')
    err(m, 'AT+CIPSTART="SSL","other.test",%d' % echo.port, timeout=30)


@quick
@timeout(60)
def test_esp_ssl_auth_mode_0_announced_unverified(t):
    echo = t.echo_server(t.pki.coursera)
    m = esp_modem(t, resolve=["%s:%d:127.0.0.1" % (HOST, echo.port)])
    load_mfg(m, "client_ca", "client_ca.0", t.pki.wrong_root.bytes("pem"))
    err(m, 'AT+CIPSTART="SSL","%s",%d' % (HOST, echo.port), timeout=30)      # wrong CA: refused
    ok(m, "AT+CIPSSLCCONF=0")
    assert ok(m, "AT+CIPSSLCCONF?").info("+CIPSSLCCONF:0,") == [b"+CIPSSLCCONF:0,0,0,0"]
    ok(m, 'AT+CIPSTART="SSL","%s",%d' % (HOST, echo.port), timeout=30)
    assert _get(m, "").startswith(b"HTTP/1.1 200")
    assert "NOT VERIFIED" in m.trace_text()


@timeout(60)
def test_esp_ssl_sni_alpn_and_psk(t):
    echo = t.echo_server(t.pki.coursera)
    m = esp_modem(t, ca_bundle=t.pki.root.pem)
    ok(m, 'AT+CIPSSLCSNI="%s"' % HOST)
    ok(m, 'AT+CIPSSLCCN="%s"' % HOST)
    ok(m, 'AT+CIPSSLCALPN=1,"http/1.1"')
    assert ok(m, "AT+CIPSSLCALPN?").info("+CIPSSLCALPN:") == [b'+CIPSSLCALPN:0,"http/1.1"']
    ok(m, 'AT+CIPSTART="SSL","127.0.0.1",%d' % echo.port, timeout=30)     # an IP, SNI from CIPSSLCSNI
    assert _get(m, "").startswith(b"HTTP/1.1 200")
    assert HOST in _sni_seen(echo)
    err(m, 'AT+CIPSSLCPSK="id","hint"')
    assert "TLS-PSK is not supported" in m.trace_text()


@timeout(60)
def test_esp_ssl_mutual_auth_mode_3(t):
    echo = t.echo_server(t.pki.coursera, client_ca=t.pki.client_ca)
    m = esp_modem(t, resolve=["%s:%d:127.0.0.1" % (HOST, echo.port)])
    load_mfg(m, "client_ca", "client_ca.0", t.pki.root.bytes("der"))
    ok(m, "AT+CIPSSLCCONF=3,0,0")
    r = cmd(m, 'AT+CIPSTART="SSL","%s",%d' % (HOST, echo.port), timeout=30)
    assert r.final == b"ERROR" and "client_cert/client_cert.0 is not loaded" in m.trace_text(), r
    load_mfg(m, "client_cert", "client_cert.0", t.pki.client_ec.bytes("pem"))
    load_mfg(m, "client_key", "client_key.0", t.pki.client_ec.bytes("key"))
    ok(m, 'AT+CIPSTART="SSL","%s",%d' % (HOST, echo.port), timeout=30)
    assert _get(m, "").startswith(b"HTTP/1.1 200")
    assert "client certificate" in m.trace_text()


@quick
@timeout(60)
def test_esp_ssl_failure_codes_with_syslog(t):
    echo = t.echo_server(t.pki.coursera)
    m = esp_modem(t, resolve=["other.test:%d:127.0.0.1" % echo.port], ca_bundle=t.pki.root.pem)
    ok(m, "AT+SYSLOG=1")
    r = cmd(m, 'AT+CIPSTART="SSL","other.test",%d' % echo.port, timeout=30)
    assert r.final == b"ERROR", r
    assert r.info("ERR CODE:0x010a") and r.info("+ERRNO:0x4"), r      # exec failed; BADCERT_CN_MISMATCH
    assert ok(m, "AT").ok


@timeout(60)
def test_esp_ssl_alpn_reaches_the_server(t):
    cert = t.pki.coursera
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert.chain, cert.key)
    ctx.set_alpn_protocols(["http/1.1"])
    lsn = socket.socket()
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(1)
    port = lsn.getsockname()[1]
    chosen = []

    def serve():
        c, _ = lsn.accept()
        with ctx.wrap_socket(c, server_side=True) as tc:
            chosen.append(tc.selected_alpn_protocol())
            tc.sendall(b"hi")
            tc.recv(10)
    th = threading.Thread(target=serve, daemon=True)
    th.start()
    try:
        m = esp_modem(t, resolve=["%s:%d:127.0.0.1" % (HOST, port)], ca_bundle=t.pki.root.pem)
        ok(m, 'AT+CIPSSLCALPN=2,"h2","http/1.1"')
        ok(m, 'AT+CIPSTART="SSL","%s",%d' % (HOST, port), timeout=30)
        assert IpdReader(m).read(2, timeout=20) == b"hi"
        assert chosen == ["http/1.1"], chosen
        ok(m, "AT+CIPCLOSE")
    finally:
        lsn.close()


@quick
@timeout(60)
def test_esp_ssl_cconf_saved_but_never_mode_0(t):
    """AT+CIPSSLCCONF modes that authenticate are saved as the firmware saves
    them (a new process on the same store keeps them, AT+RESTORE forgets
    them); mode 0 (encrypt only) is not: after a restart the link verifies."""
    m = esp_modem(t)
    ok(m, "AT+CIPSSLCCONF=3,1,2")
    store = m.store
    m.close()
    m = esp_modem(t, store=store)
    assert ok(m, "AT+CIPSSLCCONF?").info("+CIPSSLCCONF:0,") == [b"+CIPSSLCCONF:0,3,1,2"]
    ok(m, "AT+CIPSSLCCONF=0")
    assert ok(m, "AT+CIPSSLCCONF?").info("+CIPSSLCCONF:0,") == [b"+CIPSSLCCONF:0,0,0,0"]
    m.close()
    m = esp_modem(t, store=store)
    assert ok(m, "AT+CIPSSLCCONF?").info("+CIPSSLCCONF:0,") == [b"+CIPSSLCCONF:0,2,0,0"]   # verifies again
    ok(m, "AT+CIPSSLCCONF=1,2,3")
    m.send(b"AT+RESTORE\r\n")
    m.expect(b"ready\r\n", 10)
    ok(m, "ATE0")
    assert ok(m, "AT+CIPSSLCCONF?").info("+CIPSSLCCONF:0,") == [b"+CIPSSLCCONF:0,2,0,0"]   # forgotten
