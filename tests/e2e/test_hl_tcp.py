"""HL TCP/TLS sockets: AT+KTCPCFG/KTCPCNX/KTCPSND/KTCPRCV/KTCPSTART/ATO/
KTCPSTAT/KTCPCLOSE/KTCPDEL and the URCs +KTCP_IND, +KTCP_DATA, +KTCP_NOTIF.

The peers are small Python servers run in threads of the test process
(plain TCP or TLS with the test PKI): echo, send-a-payload, sink."""
import hashlib
import os
import re
import socket
import ssl
import threading
import time

import hl
from framework import quick, timeout
from modem import FINAL_RE, ModemError, show

PATTERN = hl.PATTERN
CFG_RE = re.compile(rb"\r\n\+KTCPCFG: (\d+)\r\n")
DATA_RE = re.compile(rb"\r\n\+KTCP_DATA: (\d+),(\d+)\r\n")
IND_RE = re.compile(rb"\r\n\+KTCP_IND: (\d+),1\r\n")
NOTIF_RE = re.compile(rb"\r\n\+KTCP_NOTIF: (\d+),(\d+)(?:,\"([^\r\n]*)\")?\r\n")
STAT_RE = re.compile(rb"\+KTCPSTAT: (-?\d+),(-?\d+),(\d+),(\d+)")


# ---- peers -----------------------------------------------------------------------------------

class Peer:
    """A one-port TCP (or TLS) server in threads.

    kind: "echo"  echo everything; a chunk containing b"QUIT" is echoed, then the
                  connection is closed
          "send"  send `payload` at once, then close if close=True, else echo
          "sink"  read everything into self.received (also kept per connection)
    """

    def __init__(self, kind="echo", cert=None, payload=b"", close=False):
        self.kind = kind
        self.payload = payload
        self.close_after = close
        self.received = bytearray()
        self.conns = 0
        self.errors = []
        self.closed = threading.Event()   # a connection ended
        self.ctx = None
        if cert is not None:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(cert.chain, cert.key)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.live = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns += 1
            self.live.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            if self.ctx is not None:
                c = self.ctx.wrap_socket(c, server_side=True)
                self.live.append(c)
            if self.kind == "send":
                c.sendall(self.payload)
                if self.close_after:
                    c.close()
                    return
            while True:
                d = c.recv(65536)
                if not d:
                    break
                if self.kind == "sink":
                    self.received += d
                    continue
                c.sendall(d)
                if b"QUIT" in d:
                    break
            c.close()
        except (OSError, ssl.SSLError) as e:
            self.errors.append(repr(e))
        finally:
            self.closed.set()

    def stop(self):
        self.stopping = True
        for s in [self.sock] + self.live:
            try:
                s.close()
            except OSError:
                pass

    def describe(self):
        return "peer %s :%d conns=%d received=%d errors=%s" % (
            self.kind, self.port, self.conns, len(self.received), self.errors[-3:])


def peer(t, *a, **kw):
    p = Peer(*a, **kw)
    t.servers.append(p)
    return p


# ---- host-side helpers ---------------------------------------------------------------------

def modem(t, **kw):
    m = t.modem(**kw)
    hl.start(m)
    return m


def cfg(m, args):
    r = m.at("AT+KTCPCFG=" + args)
    assert r.ok, "AT+KTCPCFG=%s -> %s" % (args, show(r.text, 300))
    mm = CFG_RE.search(r.text)
    assert mm, "no +KTCPCFG: <id> in %r" % r.text
    return int(mm.group(1))


def connect(m, sid, timeout=15):
    r = m.at("AT+KTCPCNX=%d" % sid)
    assert r.text == b"\r\nOK\r\n", "AT+KTCPCNX=%d -> %r" % (sid, r.text)
    u = m.expect(re.compile(rb"\r\n\+KTCP_(?:IND: %d,1|NOTIF: %d,[^\r\n]*)\r\n" % (sid, sid)), timeout)
    assert u.match.startswith(b"\r\n+KTCP_IND"), "connect failed: %r" % u.match


def stat(m, sid):
    r = m.at_ok("AT+KTCPSTAT=%d" % sid)
    mm = STAT_RE.search(r.text)
    assert mm, "no +KTCPSTAT in %r" % r.text
    return tuple(int(x) for x in mm.groups())




def snd(m, sid, data):
    r = hl.data_cmd(m, "AT+KTCPSND=%d,%d" % (sid, len(data)), data, "pattern", timeout=30)
    assert r.ok, "KTCPSND of %d bytes -> %s" % (len(data), show(r.text, 300))


def rcv(m, sid, n, timeout=30):
    """AT+KTCPRCV=<sid>,<n>: the bytes between CONNECT and the EOF pattern;
    the pattern must be followed by exactly \\r\\nOK\\r\\n."""
    r = m.at("AT+KTCPRCV=%d,%d" % (sid, n), timeout)
    if r.final != b"CONNECT":
        raise ModemError("AT+KTCPRCV=%d,%d -> %s" % (sid, n, show(r.text, 300)))
    data = m.expect(PATTERN, timeout).before
    fin = m.expect(FINAL_RE, timeout)
    assert fin.group(1) == b"OK" and fin.before == b"", \
        "after the EOF pattern expected \\r\\nOK\\r\\n, got %r" % fin.consumed
    return data


def wait_buffered(m, sid, n, timeout=10):
    """Poll AT+KTCPSTAT until <rcv_data> >= n (one +KTCP_DATA announces only the
    first segment; later ones add to the count silently)."""
    deadline = time.monotonic() + timeout
    while stat(m, sid)[3] < n:
        if time.monotonic() > deadline:
            raise ModemError("fewer than %d bytes buffered after %ss" % (n, timeout))
        d = m._read_some(0.02)
        if d:
            m._take(d)


def rcv_all(m, sid, total, chunk=32768, check=None):
    """KTCPRCV until `total` bytes came; waits for +KTCP_DATA when nothing is buffered."""
    got = bytearray()
    while len(got) < total:
        d = rcv(m, sid, min(chunk, total - len(got)))
        if check:
            check(d)
        got += d
        if not d:
            m.expect(DATA_RE, 20)
    return bytes(got)


# ---- tests -----------------------------------------------------------------------------------

@quick
def test_tcp_plain_echo_full_cycle(t):
    p = peer(t, "echo")
    m = modem(t)
    sid = cfg(m, '1,0,"127.0.0.1",%d' % p.port)
    assert sid == 1
    r = m.at_ok("AT+KTCPCFG?")
    assert r.info("+KTCPCFG: 1,1,1,0,\"127.0.0.1\",%d," % p.port), r.text
    assert stat(m, sid) == (1, -1, 0, 0)

    connect(m, sid)
    assert stat(m, sid) == (3, -1, 0, 0)

    snd(m, sid, b"hello")
    u = m.expect(DATA_RE)
    assert u.group(1) == b"1" and u.group(2) == b"5", u.match
    assert stat(m, sid) == (3, -1, 0, 5)
    # exact bytes: CONNECT, 5 bytes, the pattern, OK
    m.send_line("AT+KTCPRCV=1,5")
    exp = b"\r\nCONNECT\r\nhello" + PATTERN + b"\r\nOK\r\n"
    got = m.expect(exp, 10).consumed
    assert got == exp, "KTCPRCV bytes: %r" % got
    assert stat(m, sid) == (3, -1, 0, 0)

    # all 256 byte values, CR/LF included, survive both ways
    blob = bytes(range(256)) * 8
    snd(m, sid, blob)
    m.expect(DATA_RE)
    back = rcv_all(m, sid, len(blob))
    assert back == blob

    # partial read: the rest is announced again after the OK
    snd(m, sid, b"0123456789")
    m.expect(DATA_RE)
    wait_buffered(m, sid, 10)
    assert rcv(m, sid, 4) == b"0123"
    u = m.expect(DATA_RE)
    assert u.group(2) == b"6", u.match
    assert rcv(m, sid, 100) == b"456789"
    # nothing buffered: CONNECT, pattern, OK
    assert rcv(m, sid, 10) == b""

    # KTCPSND ended by +++ instead of the pattern
    m.set_guard(5)
    r = hl.data_cmd(m, "AT+KTCPSND=1,4", b"abcd", "escape")
    assert r.text == b"\r\nOK\r\n", r.text
    m.expect(DATA_RE)
    assert rcv_all(m, sid, 4) == b"abcd"

    r = m.at("AT+KTCPDEL=1")
    assert r.text == b"\r\n+CME ERROR: 911\r\n", "delete while connected: %r" % r.text
    m.at_ok("AT+KTCPCLOSE=1")
    assert stat(m, sid)[0] == 5
    m.at_ok("AT+KTCPDEL=1")
    r = m.at("AT+KTCPSTAT=1")
    assert r.text == b"\r\n+CME ERROR: 910\r\n", r.text


@quick
def test_tcp_snd_count_mismatch_sends_nothing(t):
    p = peer(t, "sink")
    m = modem(t)
    sid = cfg(m, '1,0,"127.0.0.1",%d' % p.port)
    connect(m, sid)
    # more bytes than announced
    r = hl.data_cmd(m, "AT+KTCPSND=%d,5" % sid, b"hello!!", "pattern")
    assert r.text == b"\r\n+CME ERROR: 916\r\n", r.text
    u = m.expect(NOTIF_RE)
    assert u.group(1) == b"%d" % sid and u.group(2) == b"8", u.match
    assert stat(m, sid) == (3, 8, 0, 0)
    # fewer bytes, verbose: the reason says both numbers
    m.at_ok("AT+CMEE=2")
    r = hl.data_cmd(m, "AT+KTCPSND=%d,5" % sid, b"hel", "pattern")
    assert r.final.startswith(b"+CME ERROR: ") and b"announced 5 bytes, received 3" in r.final, r.text
    u = m.expect(NOTIF_RE)
    assert u.group(2) == b"8" and u.group(3) and b"announced 5" in u.group(3), u.match
    m.at_ok("AT+CMEE=1")
    # a mangled pattern: nothing sent, an error naming the real pattern
    m.at_ok("AT+CMEE=2")
    r = hl.data_cmd(m, "AT+KTCPSND=%d,5" % sid, b"hello\xe2\x80\x93EOF\xe2\x80\x93Pattern--", "count")
    assert r.final.startswith(b"+CME ERROR: ") and PATTERN in r.final, r.text
    m.at_ok("AT+CMEE=1")
    # a correct one goes through alone
    snd(m, sid, b"abc")
    m.at_ok("AT+KTCPCLOSE=%d,1" % sid)
    assert p.closed.wait(10)
    assert bytes(p.received) == b"abc", "the server got %r" % bytes(p.received)


@quick
def test_tcp_argument_and_state_errors(t):
    p = peer(t, "echo")
    m = modem(t)
    hl.cme(m, 'AT+KTCPCFG=1,1,"127.0.0.1",80', 4, r"mode 1 .*not supported")
    hl.cme(m, 'AT+KTCPCFG=1,0,"127.0.0.1"', 917, r"remote_port.*missing")
    hl.cme(m, 'AT+KTCPCFG=1,0,"127.0.0.1",70000', 916, r"remote_port")
    hl.cme(m, 'AT+KTCPCFG=1,0,"127.0.0.1 ",80', 916, r"space")
    hl.cme(m, 'AT+KTCPCFG=1,3,"127.0.0.1",80,,,,0,3', 916, r"sec_level")
    hl.cme(m, 'AT+KTCPCFG=1,3,"127.0.0.1",80,,,,2', 916, r"cipher_suite")
    hl.cme(m, 'AT+KTCPCFG=1,0,"127.0.0.1",80,,1', 4, r"data_mode")
    hl.cme(m, "AT+KTCPCNX=3", 910, r"session 3")
    hl.cme(m, "AT+KTCPSND=1,5", 910)
    sid = cfg(m, '1,0,"127.0.0.1",%d' % p.port)
    hl.cme(m, "AT+KTCPSND=%d,5" % sid, 922, r"not connected")
    hl.cme(m, "AT+KTCPRCV=%d,5" % sid, 922, r"KTCPCNX")
    hl.cme(m, "AT+KTCPSTART=%d" % sid, 922)
    hl.cme(m, "AT+KTCPSND=%d" % sid, 917, r"ndata")
    hl.cme(m, "AT+KTCPSND=%d,0" % sid, 916)
    hl.cme(m, "AT+KTCPSND=%d,x" % sid, 916)
    hl.cme(m, "AT+KTCPSND=%d,5,1" % sid, 915)
    hl.cme(m, "ATO%d" % sid, 922, r"KTCPSTART")
    m.at_ok("AT+CMEE=1")
    assert stat(m, sid) == (1, -1, 0, 0)     # unchanged
    connect(m, sid)
    hl.cme(m, "AT+KTCPCNX=%d" % sid, 911, r"already connected")
    hl.cme(m, "AT+KTCPDEL=%d" % sid, 911, r"close it first")
    m.at_ok("AT+CMEE=1")
    assert stat(m, sid) == (3, -1, 0, 0)
    # sessions run out: the pool is shared (8)
    ids = [sid] + [cfg(m, '1,0,"127.0.0.1",%d' % p.port) for _ in range(7)]
    assert sorted(ids) == list(range(1, 9)), ids
    hl.cme(m, 'AT+KTCPCFG=1,0,"127.0.0.1",%d' % p.port, 912, r"sessions are in use")
    for i in ids[1:]:
        m.at_ok("AT+KTCPDEL=%d" % i)
    m.at_ok("AT+KTCPCLOSE=%d" % sid)
    m.at_ok("AT+KTCPCLOSE=%d" % sid)        # closing twice is fine
    m.at_ok("AT+KTCPDEL=%d" % sid)


@quick
def test_tcp_refused_gives_notif_5(t):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                               # nothing listens there now
    m = modem(t)
    sid = cfg(m, '1,0,"127.0.0.1",%d' % port)
    r = m.at("AT+KTCPCNX=%d" % sid)
    assert r.ok
    u = m.expect(NOTIF_RE, 15)
    assert u.group(1) == b"%d" % sid and u.group(2) == b"5", u.match
    assert stat(m, sid)[:2] == (5, 5)
    m.at_ok("AT+KTCPDEL=%d" % sid)


@quick
def test_tcp_peer_close_keeps_buffered_data(t):
    p = peer(t, "send", payload=b"bye from server", close=True)
    m = modem(t)
    sid = cfg(m, '1,0,"127.0.0.1",%d' % p.port)
    connect(m, sid)
    u = m.expect(NOTIF_RE, 10)
    assert u.group(2) == b"4", u.match
    assert DATA_RE.search(u.before), "+KTCP_DATA must come before +KTCP_NOTIF: %r" % u.before
    assert stat(m, sid) == (5, 4, 0, 15)
    assert rcv(m, sid, 100) == b"bye from server"
    hl.cme(m, "AT+KTCPSND=%d,3" % sid, 922, r"closed")
    m.at_ok("AT+CMEE=1")
    m.at_ok("AT+KTCPDEL=%d" % sid)


@timeout(120)
def test_tcp_1mib_through_ktcprcv_byte_exact(t):
    payload = os.urandom(1 << 20)
    while PATTERN in payload:
        payload = os.urandom(1 << 20)
    p = peer(t, "send", payload=payload)
    m = modem(t)
    sid = cfg(m, '1,0,"127.0.0.1",%d' % p.port)
    connect(m, sid)
    m.expect(DATA_RE, 10)
    # the ring never holds more than 32 KiB: the socket is not read meanwhile
    st = stat(m, sid)
    assert st[3] <= 32768, st

    def check(d):
        assert len(d) <= 32768
    got = rcv_all(m, sid, len(payload), check=check)
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(payload).hexdigest(), \
        "1 MiB differs (%d bytes received)" % len(got)
    assert stat(m, sid) == (3, -1, 0, 0)
    m.at_ok("AT+KTCPCLOSE=%d" % sid)


@timeout(120)
def test_tcp_upload_256k_in_ktcpsnd_chunks(t):
    p = peer(t, "sink")
    m = modem(t)
    sid = cfg(m, '1,0,"127.0.0.1",%d' % p.port)
    connect(m, sid)
    data = os.urandom(256 * 1024)
    while PATTERN in data:
        data = os.urandom(256 * 1024)
    # chunks may start with LF: a LF sent after CONNECT is payload (docs/hl.md)
    data = b"".join(data[off:off + 32768] for off in range(0, len(data), 32768))
    for off in range(0, len(data), 32768):
        snd(m, sid, data[off:off + 32768])
    m.at_ok("AT+KTCPCLOSE=%d,1" % sid)
    assert p.closed.wait(20)
    assert bytes(p.received) == data, "server got %d bytes" % len(p.received)


@quick
def test_tcp_transparent_ktcpstart_escape_ato(t):
    p = peer(t, "echo")
    m = modem(t)
    m.set_guard(5)                           # 100 ms guard time
    sid = cfg(m, '1,0,"127.0.0.1",%d' % p.port)
    connect(m, sid)
    r = m.at("AT+KTCPSTART=%d" % sid)
    assert r.text == b"\r\nCONNECT\r\n", r.text
    msg = b"transparent \r\n\x00\xff bytes --EOF--Pattern-- stay data"
    m.send(msg)
    got = m.expect(msg, 10)
    assert got.before == b"", "unexpected bytes before the echo: %r" % got.before
    m.escape()
    m.expect(b"\r\nOK\r\n", 5)
    # command mode works, the connection is still up
    assert m.at("AT").text == b"\r\nOK\r\n"
    assert stat(m, sid)[0] == 3
    r = m.at("ATO%d" % sid)
    assert r.text == b"\r\nCONNECT\r\n", r.text
    m.send(b"second round")
    m.expect(b"second round", 10)
    m.escape()
    m.expect(b"\r\nOK\r\n", 5)
    # the peer closes during transparent mode: its last bytes, NO CARRIER, +KTCP_NOTIF 4
    r = m.at("ATO%d" % sid)
    assert r.final == b"CONNECT"
    m.send(b"QUIT now")
    m.expect(b"QUIT now", 10)
    m.expect(b"\r\nNO CARRIER\r\n", 10)
    u = m.expect(NOTIF_RE, 10)
    assert u.group(1) == b"%d" % sid and u.group(2) == b"4", u.match
    assert m.at("AT").text == b"\r\nOK\r\n"
    assert stat(m, sid)[:2] == (5, 4)
    m.at_ok("AT+KTCPDEL=%d" % sid)


def read_exact(m, n, timeout=30):
    """n raw bytes from the modem (transparent mode), not kept in the transcript."""
    m.transcript += b"<raw read of %d bytes>" % n
    while len(m.buf) < n:
        d = m._read_some(timeout)
        if not d:
            raise ModemError("raw read: %d of %d bytes after a %ss silence" % (len(m.buf), n, timeout))
        m._take(d, record=False)
    data = bytes(m.buf[:n])
    del m.buf[:n]
    return data


@timeout(120)
def test_tcp_transparent_1mib_download_paced_by_host(t):
    payload = os.urandom(1 << 20)
    p = peer(t, "send", payload=payload)
    m = modem(t)
    m.set_guard(5)
    sid = cfg(m, '1,0,"127.0.0.1",%d' % p.port)
    connect(m, sid)
    m.expect(DATA_RE, 10)
    r = m.at("AT+KTCPSTART=%d" % sid)
    assert r.final == b"CONNECT", r.text
    got = read_exact(m, len(payload))
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(payload).hexdigest(), "1 MiB differs"
    m.escape()
    m.expect(b"\r\nOK\r\n", 5)
    assert m.buf == b"", "stray bytes: %r" % bytes(m.buf[:100])
    assert stat(m, sid) == (3, -1, 0, 0)
    m.at_ok("AT+KTCPCLOSE=%d" % sid)


def _tls_modem(t, p, root):
    m = modem(t, resolve=["www.coursera.test:%d:127.0.0.1" % p.port,
                          "wrong.test:%d:127.0.0.1" % p.port])
    r = hl.store_cert(m, root.bytes("pem"), 0)
    assert r.ok, "KCERTSTORE: %s" % show(r.text, 300)
    return m


@timeout(90)
def test_tls_mode3_echo_verified(t):
    p = peer(t, "echo", cert=t.pki.coursera)
    m = _tls_modem(t, p, t.pki.root)
    sid = cfg(m, '1,3,"www.coursera.test",%d' % p.port)
    connect(m, sid)
    snd(m, sid, b"over TLS\r\n")
    m.expect(DATA_RE, 10)
    assert rcv_all(m, sid, 10) == b"over TLS\r\n"
    blob = b"\n" + os.urandom(20000).replace(b"-", b"_")   # a leading LF is payload
    snd(m, sid, blob)
    assert rcv_all(m, sid, len(blob)) == blob
    m.at_ok("AT+KTCPCLOSE=%d" % sid)
    m.at_ok("AT+KTCPDEL=%d" % sid)
    assert "www.coursera.test" in m.trace_text()


@timeout(90)
def test_tls_mode3_wrong_host_and_untrusted_give_13(t):
    p = peer(t, "echo", cert=t.pki.coursera)
    m = _tls_modem(t, p, t.pki.root)
    # the certificate does not name wrong.test
    m.at_ok("AT+CMEE=2")
    sid = cfg(m, '1,3,"wrong.test",%d' % p.port)
    m.at_ok("AT+KTCPCNX=%d" % sid)
    u = m.expect(NOTIF_RE, 15)
    assert u.group(2) == b"13", u.match
    assert u.group(3) and b"wrong.test" in u.group(3), "the reason should name the host: %r" % u.match
    assert stat(m, sid)[:2] == (5, 13)
    m.at_ok("AT+KTCPDEL=%d" % sid)
    m.at_ok("AT+CMEE=1")
    # only a foreign root loaded: untrusted
    m2 = _tls_modem(t, p, t.pki.wrong_root)
    sid = cfg(m2, '1,3,"www.coursera.test",%d' % p.port)
    m2.at_ok("AT+KTCPCNX=%d" % sid)
    u = m2.expect(NOTIF_RE, 15)
    assert u.group(2) == b"13", u.match
    # sec_level 0: encrypt only works with the foreign root, and is announced
    m2.at_ok("AT+CMEE=2")
    sid0 = cfg(m2, '1,3,"www.coursera.test",%d,,,,,0' % p.port)
    r = m2.at("AT+KTCPCNX=%d" % sid0)
    assert r.ok and b"+TMWARN:" in r.text and b"not be verified" in r.text, r.text
    m2.expect(IND_RE, 15)
    snd(m2, sid0, b"unverified")
    assert rcv_all(m2, sid0, 10) == b"unverified"


@timeout(90)
def test_tls_mode3_sec2_presents_the_client_certificate(t):
    """KTCPCFG mode 3 with sec_level 2: local certificate 0 and private key 0
    are presented when the server asks (openssl s_server -Verify), ECDSA P-256
    and RSA-2048; data flows both ways afterwards."""
    for client, cn in ((t.pki.client_ec, "client-ec"), (t.pki.client_rsa, "client-rsa")):
        s = t.s_server(t.pki.coursera, mode="-rev", verify=1, ca=t.pki.client_ca)
        m = modem(t, resolve=["www.coursera.test:%d:127.0.0.1" % s.port])
        assert hl.store_cert(m, t.pki.root.bytes("pem"), 0).ok
        assert hl.store_cert(m, client.bytes("pem"), 1).ok
        key = client.bytes("key")
        assert hl.data_cmd(m, "AT+KPRIVKSTORE=0,%d" % len(key), key, "count").ok
        sid = cfg(m, '1,3,"www.coursera.test",%d,,,,,2' % s.port)
        connect(m, sid)
        snd(m, sid, b"hello\n")
        m.expect(DATA_RE, 10)
        got = rcv_all(m, sid, 6, check=None)
        assert got == b"olleh\n", got
        log = s.log()
        assert "Peer certificate: CN = %s" % cn in log, "s_server saw no client certificate:\n%s" % log[-800:]
        m.at_ok("AT+KTCPCLOSE=%d" % sid)
        m.close()
        s.stop()


@timeout(60)
def test_tls_mode3_transparent_ktcpstart_escape_ato(t):
    """KTCPSTART on a verified TLS socket: bytes both ways unchanged (the EOF
    pattern is data here), +++ back to command mode, ATO resumes."""
    p = peer(t, "echo", cert=t.pki.coursera)
    m = _tls_modem(t, p, t.pki.root)
    m.set_guard(5)
    sid = cfg(m, '1,3,"www.coursera.test",%d' % p.port)
    connect(m, sid)
    r = m.at("AT+KTCPSTART=%d" % sid)
    assert r.text == b"\r\nCONNECT\r\n", r.text
    msg = b"tls transparent \r\n\x00\xff --EOF--Pattern-- " + os.urandom(3000).replace(b"+", b"_")
    m.send(msg)
    got = m.expect(msg, 10)
    assert got.before == b"", got.before[:200]
    m.escape()
    m.expect(b"\r\nOK\r\n", 5)
    assert stat(m, sid)[0] == 3
    assert m.at("ATO%d" % sid).final == b"CONNECT"
    m.send(b"again")
    m.expect(b"again", 10)
    m.escape()
    m.expect(b"\r\nOK\r\n", 5)
    m.at_ok("AT+KTCPCLOSE=%d" % sid)
