"""Conformance: the Arduino library WiFiEspAT (JAndrassy/WiFiEspAT, built with
WIFIESPAT2 for AT 2.x firmware) as its sketches drive the module: WiFi.init,
WiFi.firmwareVersion (CheckFirmware.ino), WiFi.status, WiFi.begin,
WiFi.localIP, then a WiFiSSLClient to a TLS echo server moving 1 KiB and
1 MiB byte-exact both ways, and client.stop().  Every answer goes through an
emulation of EspAtDrv::readRX (espemu.WiFiEspAT), including its "?" probe on
1 s of silence.  Command strings and references: ../_brief/esp-drivers.md.

The library has no active receive mode (reset() always sets
AT+CIPRECVMODE=1; Zephyr's test covers +IPD with data) and no TLS commands:
an "SSL" link is verified with what the module holds.  Its users therefore
either rely on the module's default trust (here --ca-bundle = the test root)
or load the CA once with AT+SYSMFG (a SerialPassthrough session; the
Espressif-documented form) — both are tested, and an unverifiable server
must make AT+CIPSTART fail (ERROR) rather than connect."""
import os
import re
import time

import esp
from espemu import DriverFailure, WiFiEspAT
from framework import timeout

HOST = b"www.coursera.test"


class TlsEcho:
    """A TLS echo server (one connection at a time) that records the SNI each
    ClientHello carried and can wait `delay` s after accepting before it
    answers (AT+CIPSTART "SSL" then outlasts the library's 1 s timeout)."""

    def __init__(self, cert, delay=0.0):
        import socket
        import ssl
        import threading
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert.chain, cert.key)
        self.sni = []
        self.ctx.sni_callback = lambda sock, name, ctx: self.sni.append(name) and None
        self.conns = 0
        self.delay = delay
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.live = []
        self.errors = []
        self.stopping = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        import ssl
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.live.append(c)
            self.conns += 1
            if self.stopping.wait(self.delay):
                return
            try:
                s = self.ctx.wrap_socket(c, server_side=True)
                self.live.append(s)
                while True:
                    d = s.recv(65536)
                    if not d:
                        break
                    s.sendall(d)
            except (OSError, ssl.SSLError) as e:
                self.errors.append(repr(e))

    def stop(self):
        self.stopping.set()
        for s in [self.sock] + self.live:
            try:
                s.close()
            except OSError:
                pass

    def describe(self):
        return "TLS echo :%d conns=%d sni=%s errors=%s" % (self.port, self.conns, self.sni, self.errors[-3:])


def _sketch_setup(t, ca_bundle, port, model="esp32"):
    m = esp.modem(t, model=model, ca_bundle=ca_bundle, resolve=["%s:*:127.0.0.1" % HOST.decode()])  # any port: AT+CIPDOMAIN has none
    w = WiFiEspAT(m)
    w.reset()                                   # WiFi.init(Serial1) -> EspAtDrv::reset
    assert w.ready_line, "AT+RST without a 'ready' line (the driver goes on after ~4 s of probes)"
    assert w.wifi_mode in (0, 1, 2, 3), w.wifi_mode
    return m, w


def _check_firmware(w):
    """CheckFirmware.ino: major.minor >= 1.7 and not 2.0 (no passive mode)."""
    ver = w.firmwareVersion()
    mm = re.match(rb"(\d+)\.(\d+)", ver)
    assert mm, "AT version %r" % ver
    major, minor = int(mm.group(1)), int(mm.group(2))
    assert (major, minor) >= (1, 7) and (major, minor) != (2, 0), ver
    assert major >= 2, "an AT 1.x version would need the WIFIESPAT1 build: %r" % ver


def _join(w):
    assert w.staStatus() in (0, 1, 5), "joined before WiFi.begin"     # CIPSTATUS before the join
    w.joinAP(esp.SSID, esp.PSK)                                        # WiFi.begin(ssid, pass)
    assert w.staStatus() in (2, 3, 4), "WiFi.status() != WL_CONNECTED after WiFi.begin"
    ip, gw, nm = w.staIpQuery()                                        # WiFi.localIP() ...
    for a in (ip, gw, nm):
        assert re.fullmatch(rb"\d+\.\d+\.\d+\.\d+", a), (ip, gw, nm)
    assert ip != b"0.0.0.0"


def _transfer(w, link, sizes=(1024, 1 << 20)):
    """A sketch loop: client.write() blocks of 2048 (one AT+CIPSEND each, the
    library's MAX_SEND_LENGTH), and between them `while (client.available())
    client.read(buf, 1024)`."""
    for size in sizes:
        blob = os.urandom(size)
        got = bytearray()

        def drain():
            while w.availData(link):
                d = w.recvData(link, 1024)
                if not d:
                    break
                got.extend(d)
        for i in range(0, size, 2048):
            chunk = blob[i:i + 2048]
            n = w.sendData(link, chunk)
            assert n == len(chunk), "Recv %d bytes for a %d-byte CIPSEND" % (n, len(chunk))
            drain()
        idle_until = time.monotonic() + 60
        while len(got) < size:
            before = len(got)
            drain()
            if len(got) == before:
                if time.monotonic() > idle_until:
                    raise DriverFailure("client.available() stayed 0 for 60 s with %d of %d bytes echoed"
                                        % (len(got), size))
                w.idle(0.1)                     # the sketch's loop() coming round again
            else:
                idle_until = time.monotonic() + 60
        assert bytes(got) == blob, "byte mismatch at %d of %d" % (next(
            (i for i in range(min(len(got), size)) if got[i] != blob[i]), min(len(got), size)), size)


def _echo(t, delay=0.0):
    srv = TlsEcho(t.pki.coursera, delay)
    t.servers.append(srv)
    return srv


def _verified(m, srv):
    """The module verified the server (trace verdict) and sent the host name as SNI."""
    assert "verified by root 'CN=Test Root CA'" in m.trace_text(), "no verification verdict in the trace"
    assert srv.sni and srv.sni[-1] == HOST.decode(), "SNI %r (the library never sends AT+CIPSSLCSNI)" % srv.sni


def _default_bundle_1k_1m(t, model):
    srv = _echo(t)
    m, w = _sketch_setup(t, t.pki.root.pem, srv.port, model)
    _check_firmware(w)
    _join(w)
    assert w.resolve(HOST) == b"127.0.0.1"      # WiFi.hostByName (AT+CIPDOMAIN, AT2 quoted)
    link = w.connect(b"SSL", HOST, srv.port)    # WiFiSSLClient::connect(host, port)
    assert link == 4, "freeLinkId picks the highest free link"
    _verified(m, srv)
    _transfer(w, link)
    t.log("CIPSEND %d, CIPRECVDATA %d, CIPRECVLEN? %d, +IPD notices %d" % (
        sum(1 for l in w.log if l == b"SEND OK"), sum(1 for l in w.log if l == b"+CIPRECVDATA"),
        sum(1 for l in w.log if l.startswith(b"+CIPRECVLEN:")), sum(1 for l in w.log if l.startswith(b"+IPD,"))))
    w.close(link)                               # client.stop()
    assert w.staStatus() in (2, 3, 4)
    assert srv.conns == 1 and not srv.errors, srv.describe()
    t.log("'?' probes: %d" % w.probes)


@timeout(240)
def test_wifiespat_ssl_client_default_bundle_1k_1m(t):
    _default_bundle_1k_1m(t, "esp32")


@timeout(240)
def test_wifiespat_esp8266_ssl_client_1k_1m(t):
    """The library's usual module: an ESP8266 (AT 2.2.x; smaller +IPD and buffers)."""
    _default_bundle_1k_1m(t, "esp8266")


@timeout(120)
def test_wifiespat_ssl_client_ca_loaded_with_sysmfg(t):
    """The CA loaded once with AT+SYSMFG=2,"client_ca","client_ca.0",8,<len>
    (prompt '>', the PEM, OK), no default bundle; then the library as usual."""
    srv = _echo(t)
    m, w = _sketch_setup(t, "none", srv.port)
    root = t.pki.root.bytes("pem")
    w.sendCommand(b'AT+SYSMFG=2,"client_ca","client_ca.0",8,%d' % len(root), b">")
    w.b.write(root)
    w.readOK()
    _join(w)
    link = w.connect(b"SSL", HOST, srv.port)
    _verified(m, srv)
    _transfer(w, link, sizes=(1024, 64 * 1024))
    w.close(link)


@timeout(90)
def test_wifiespat_ssl_unverified_server_is_refused(t):
    """No CA for the server (no bundle, nothing loaded): the library's
    AT+CIPSTART=<id>,"SSL",... must end in ERROR (connect() returns false),
    not OK, and the library's next calls keep working."""
    srv = _echo(t)
    m, w = _sketch_setup(t, "none", srv.port)
    _join(w)
    try:
        w.connect(b"SSL", HOST, srv.port)
    except DriverFailure as e:
        assert "got b'ERROR'" in str(e), e
    else:
        raise AssertionError("AT+CIPSTART \"SSL\" to an unverifiable server answered OK")
    assert w.staStatus() in (2, 3, 4)
    assert srv.conns <= 1
    link = w.freeLinkId()
    assert link == 4, "the failed link must be free again (AT+CIPSTART ERROR leaves no link open)"


@timeout(90)
def test_wifiespat_busy_while_ssl_connects(t):
    """readRX sends "?" after each second of silence (EspAtDrv.cpp:1670) and
    fails the command on an ERROR (1777-1792); ESP-AT answers a line that
    arrives while a command runs with "busy p...".  A TLS handshake that takes
    2.5 s must therefore produce busy p... for the probes, then OK."""
    srv = _echo(t, 2.5)
    m, w = _sketch_setup(t, t.pki.root.pem, srv.port)
    _join(w)
    link = w.connect(b"SSL", HOST, srv.port)
    assert w.probes >= 1, "the handshake did not outlast the 1 s stream timeout"
    assert any(l.startswith(b"busy p...") for l in w.log), "no busy p... for the probes: %r" % w.log[-8:]
    _transfer(w, link, sizes=(1024,))
    w.close(link)


@timeout(60)
def test_wifiespat_server_closes_after_data(t):
    """WiFiSSLClient.ino's loop: read while client.available(), stop when
    !client.connected().  The server sends 64 KiB and closes; the library
    zeroes a link's count on <id>,CLOSED (EspAtDrv.cpp:1771, "AT2 sends
    CLOSED only after all data are read"), so CLOSED must wait until the
    passive buffer is drained or the tail is lost."""
    from test_hl_tcp import peer
    payload = os.urandom(64 * 1024)
    p = peer(t, "send", cert=t.pki.coursera, payload=payload, close=True)
    m, w = _sketch_setup(t, t.pki.root.pem, p.port)
    _join(w)
    link = w.connect(b"SSL", HOST, p.port)
    got = bytearray()
    deadline = time.monotonic() + 30
    while True:
        if w.availData(link):
            got += w.recvData(link, 1024)
            continue
        if not w.connected[link]:              # client.connected() false and nothing available
            break
        assert time.monotonic() < deadline, "neither data nor CLOSED for 30 s (%d bytes)" % len(got)
        w.idle(0.1)
    assert bytes(got) == payload, "got %d of %d bytes before the link closed" % (len(got), len(payload))
