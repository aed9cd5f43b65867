"""Seed 001 (SPWF04SA + www.ssllabs.com): SOCKON with a 4th-argument name, SOCKW of a raw
HTTP request to two nginx virtual hosts on one address.  The module sent the 4th argument
as SNI and got 400; tlsmodem sends the host as SNI and checks the name against the
certificate: Host: www… gets 200.  A name the certificate lacks: Certificate Error:5 and
the names involved.  Plus the socket machinery: several sockets, +WIND:55/58, SOCKQ/SOCKR,
backpressure without loss."""
import hashlib
import random
import re
import socket
import threading
import time

from framework import timeout
from test_spwf_lib import cmd, err, load_ca, ok, spwf_modem, READING_RE

WWW = "www.ssl.test"
APEX = "ssl.test"


def two_vhosts(t):
    cert = t.pki.make_leaf(t.pki.inter, cn=APEX, sans=["DNS:" + APEX, "DNS:" + WWW])
    ng = t.nginx()
    ng.vhost([WWW], cert, files={"index.html": b"www page\n"}, misdirected_421=True)
    ng.vhost([APEX], cert, files={"index.html": b"apex page\n"}, misdirected_421=True)
    return ng.start()


def read_socket(m, sid, until, limit=30):
    """SOCKQ/SOCKR until `until(data)` is true; returns the bytes."""
    data = b""
    deadline = time.monotonic() + limit
    while not until(data):
        assert time.monotonic() < deadline, "socket %d: only %r" % (sid, data[-300:])
        r = ok(m, "AT+S.SOCKQ=%d" % sid)
        n = int(r.info("AT-S.Query:")[0].split(b":")[1])
        if n == 0:
            m.expect(re.compile(rb"\+WIND:(55|58):[^\r\n]*\r\n"), 10)
            continue
        m.send(b"AT+S.SOCKR=%d,%d\r" % (sid, n))
        h = m.expect(READING_RE)
        k = int(h.group(1))
        assert k == n, h.match
        body = m.expect(b"AT-S.OK\r\n")
        assert len(body.before) == k, "Reading:%d but %d bytes before AT-S.OK" % (k, len(body.before))
        data += body.before
    return data


@timeout(60)
def test_spwf_seed001_sni_follows_host_and_name_argument(t):
    ng = two_vhosts(t)
    res = ["%s:%d:127.0.0.1" % (h, ng.port) for h in (WWW, APEX)]
    m = spwf_modem(t, resolve=res)
    load_ca(m, t.pki.root, "der")
    # the user's command: host www.…, 4th argument the apex name (on the certificate)
    r = ok(m, "AT+S.SOCKON=%s,%d,,%s" % (WWW, ng.port, APEX))
    assert r.info("AT-S.On:127.0.0.1:0"), r.text
    req = b"GET / HTTP/1.1\r\nHost: www.ssl.test\r\n\r\n"
    ok(m, "AT+S.SOCKW=0,%d" % len(req), req)
    m.expect(re.compile(rb"\+WIND:55:Pending Data::0:\d+:\d+\r\n"), 10)
    data = read_socket(m, 0, lambda d: b"www page" in d or b"\r\n\r\n4" in d)
    assert data.startswith(b"HTTP/1.1 200"), data[:200]
    assert b"www page" in data
    log = ng.wait_access_log(lambda l: '"GET / ' in l, 1)
    assert log and 'sni="www.ssl.test"' in log[-1] and " 200 " in log[-1], log
    ok(m, "AT+S.SOCKC=0")
    trace = m.trace_text()
    assert re.search(r"SNI '?www\.ssl\.test", trace), "trace does not show the SNI"
    # mbed style: NULL third argument, s = TLS with the host as the name
    r = ok(m, "AT+S.SOCKON=%s,%d,NULL,s" % (APEX, ng.port))
    assert r.info("AT-S.On:127.0.0.1:0"), r.text
    req = b"GET / HTTP/1.1\r\nHost: ssl.test\r\n\r\n"
    ok(m, "AT+S.SOCKW=0,%d" % len(req), req)
    data = read_socket(m, 0, lambda d: b"apex page" in d)
    assert data.startswith(b"HTTP/1.1 200")
    ok(m, "AT+S.SOCKC=0")
    # a 4th-argument name the certificate lacks: Certificate Error:5 with the names
    r = cmd(m, "AT+S.SOCKON=%s,%d,,other.test" % (WWW, ng.port))
    assert b"AT-S.Certificate Error:5\r\n" in r.text, r.text
    assert r.final.startswith(b"AT-S.ERROR:112:"), r.final
    assert b"other.test" in r.final and b"www.ssl.test" in r.final, r.final
    assert ok(m, "AT+S.SOCKL").info("AT-S.Socket:") == []
    # HTTPGET checks the host against the SANs (the module wanted CN == host exactly)
    from test_spwf_lib import http_get
    status, body, r = http_get(m, WWW, "/", ng.port, 2)
    assert status == 200 and body == b"www page\n", (status, body, r)


class BlastServer:
    """TCP server: each connection gets `size` pseudo-random bytes, then it closes."""

    def __init__(self, size):
        self.data = random.Random(1).randbytes(size)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        try:
            c.recv(100)
            c.sendall(self.data)
        except OSError:
            pass
        c.close()

    def stop(self):
        self.sock.close()


@timeout(60)
def test_spwf_sockets_several_backpressure_no_loss(t):
    srv = BlastServer(300000)
    try:
        m = spwf_modem(t)
        for i in (0, 1):
            r = ok(m, "AT+S.SOCKON=127.0.0.1,%d,,t" % srv.port)
            assert r.info("AT-S.On:127.0.0.1:%d" % i), r.text
        r = ok(m, "AT+S.SOCKL")
        assert len(r.info("AT-S.Socket:")) == 2, r.text
        for i in (0, 1):
            ok(m, "AT+S.SOCKW=%d,4" % i, b"go\r\n")
        time.sleep(1.0)   # let both servers fill the modem's buffers (they must not lose bytes)
        got = {0: b"", 1: b""}
        closed = set()
        deadline = time.monotonic() + 40
        while any(len(got[i]) < len(srv.data) for i in got):
            assert time.monotonic() < deadline, {i: len(v) for i, v in got.items()}
            for i in (0, 1):
                m.send(b"AT+S.SOCKR=%d,8000\r" % i)
                h = m.expect(READING_RE)
                k = int(h.group(1))
                if b"+WIND:58:Socket Closed:%d:0" % i in h.before:
                    closed.add(i)
                body = m.expect(b"AT-S.OK\r\n")
                assert len(body.before) == k
                got[i] += body.before
        for i in (0, 1):
            assert hashlib.sha256(got[i]).digest() == hashlib.sha256(srv.data).digest(), "socket %d differs" % i
        m.expect_no(b"never", 0.2)
        tail = bytes(m.transcript)
        for i in (0, 1):
            assert b"+WIND:58:Socket Closed:%d:0" % i in tail, "no +WIND:58 for socket %d" % i
        r = cmd(m, "AT+S.SOCKW=0,3", b"abc")
        assert r.final.startswith(b"AT-S.ERROR:64:"), r.text
        ok(m, "AT+S.SOCKC=0")
        ok(m, "AT+S.SOCKC=1")
        err(m, "AT+S.SOCKC=1", 10)
        assert "not reading until SOCKR" in m.trace_text(), "no backpressure seen in the trace"
    finally:
        srv.stop()
