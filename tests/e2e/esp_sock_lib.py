"""ESP-AT helpers for the socket / TLS / SYSMFG e2e tests (no tests here).

    m = esp_modem(t, resolve=[...])          # --dialect esp, 'ready' consumed, ATE0, joined to Wi-Fi
    r = cmd(m, 'AT+CIPSTART="TCP","127.0.0.1",80')  -> Res (.final b"OK"/b"ERROR", .lines, .text)
    send_payload(m, "AT+CIPSEND=0,5", b"hello")    -> text up to SEND OK / SEND FAIL
    IpdReader(m).read(n)                           -> bytes of +IPD frames (active receive)
"""
import re
import socket
import subprocess
import threading

from modem import ModemError, show
from test_spwf_lib import Res as _SpwfRes

FINAL_RE = re.compile(rb"(?<![^\n])(OK|ERROR|SEND OK|SEND FAIL)\r\n")
SSID = "tlsmodem-lab"
PSK = "correct horse"

_HELP = {}


def _has_option(bin, opt):
    if bin not in _HELP:
        p = subprocess.run([bin, "--help"], capture_output=True)
        _HELP[bin] = (p.stdout + p.stderr).decode(errors="replace")
    return opt in _HELP[bin]


class Res(_SpwfRes):
    """One command's answer (test_spwf_lib.Res); ESP's success word is OK."""

    @property
    def ok(self):
        return self.final == b"OK"


def esp_modem(t, resolve=(), ca_bundle="none", extra_args=(), store=None, join=True, name=None):
    """Start --dialect esp, consume 'ready', ATE0; with esp-basic's simulated
    Wi-Fi (--wifi), join the access point so links may open."""
    args = list(extra_args)
    wifi = _has_option(t.bin, "--wifi")
    if wifi:
        args += ["--wifi", "%s:%s" % (SSID, PSK)]
    kw = {}
    if store:
        kw["store"] = store
    if name:
        kw["name"] = name
    m = t.modem(dialect="esp", resolve=list(resolve), ca_bundle=ca_bundle, extra_args=args, **kw)
    m.expect(b"ready\r\n", 10)
    ok(m, "ATE0")
    if wifi and join:
        ok(m, 'AT+CWJAP="%s","%s"' % (SSID, PSK), timeout=20)
    return m


def cmd(m, line, timeout=20):
    if isinstance(line, str):
        line = line.encode()
    m.send(line + b"\r\n")
    mt = m.expect(FINAL_RE, timeout)
    return Res(line, mt.consumed, mt.group(1))


def ok(m, line, timeout=20):
    r = cmd(m, line, timeout)
    if not r.ok:
        raise ModemError("%r -> %r (expected OK)\n%s\ntrace tail:\n%s" % (
            line, r.final, show(r.text, 1200), m.trace_text()[-3000:]))
    return r


def err(m, line, timeout=20):
    r = cmd(m, line, timeout)
    if r.final != b"ERROR":
        raise ModemError("%r -> %r (expected ERROR)\n%s" % (line, r.final, show(r.text, 1200)))
    return r


def send_payload(m, line, data, timeout=20):
    """AT+CIPSEND-style: the command, OK, '>', the bytes; returns the text up to SEND OK/FAIL."""
    if isinstance(line, str):
        line = line.encode()
    m.send(line + b"\r\n")
    m.expect(re.compile(rb"\r\nOK\r\n\r\n>"), timeout)
    m.send(data, record=len(data) < 200)
    mt = m.expect(re.compile(rb"\r\n(SEND OK|SEND FAIL)\r\n"), timeout)
    return mt.consumed


IPD_RE = re.compile(rb"\r\n\+IPD,(?:(\d),)?(\d+)(?:,\"([^\"]*)\",(\d+))?:")


class IpdReader:
    """Collects the data of +IPD frames (active mode) from the modem's output,
    byte-exact, leaving other lines in `other`."""

    def __init__(self, m):
        self.m = m
        self.other = bytearray()
        self.frames = []          # (link, len, ip, port)

    def read(self, n, timeout=60, chunk_cb=None):
        out = bytearray()
        while len(out) < n:
            mt = self.m.expect(IPD_RE, timeout)
            self.other += mt.before
            ln = int(mt.group(2))
            self.frames.append((mt.group(1), ln, mt.group(3), mt.group(4)))
            while len(self.m.buf) < ln:
                data = self.m._read_some(timeout)
                if not data:
                    raise ModemError("timeout inside a +IPD frame (%d of %d bytes)" % (len(self.m.buf), ln))
                self.m._take(data, record=False)
                if chunk_cb:
                    chunk_cb()
            out += self.m.buf[:ln]
            del self.m.buf[:ln]
        return bytes(out)


class TcpServer:
    """A TCP server on 127.0.0.1 (thread per connection).  handler(conn) runs
    for each accepted connection; `conns` keeps what each one received."""

    def __init__(self, handler=None):
        self.s = socket.socket()
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.s.bind(("127.0.0.1", 0))
        self.s.listen(8)
        self.port = self.s.getsockname()[1]
        self.handler = handler or self.echo
        self.received = []
        self.done = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                c, _ = self.s.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(c,), daemon=True).start()

    def _one(self, c):
        try:
            self.handler(c)
        except OSError:
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass
            self.done.set()

    def echo(self, c):
        got = bytearray()
        self.received.append(got)
        while True:
            d = c.recv(65536)
            if not d:
                return
            got += d
            c.sendall(d)

    def close(self):
        self.s.close()


def udp_peer():
    """A UDP echo peer: replies b"echo:" + datagram to the sender; records (data, addr)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    got = []

    def run():
        while True:
            try:
                data, peer = s.recvfrom(65536)
            except OSError:
                return
            got.append((data, peer))
            s.sendto(b"echo:" + data, peer)
    threading.Thread(target=run, daemon=True).start()
    return s, got


def load_mfg(m, ns, key, data, expect_ok=True):
    """AT+SYSMFG=2,"ns","key",8,<len>, then the bytes; returns Res of the final answer."""
    line = ('AT+SYSMFG=2,"%s","%s",8,%d' % (ns, key, len(data))).encode()
    m.send(line + b"\r\n")
    m.expect(re.compile(rb"\r\nOK\r\n\r\n>"), 10)
    m.send(data, record=False)
    mt = m.expect(FINAL_RE, 20)
    r = Res(line, mt.consumed, mt.group(1))
    if expect_ok and not r.ok:
        raise ModemError("%r -> %r\n%s\ntrace:\n%s" % (line, r.final, show(r.text, 800), m.trace_text()[-2000:]))
    return r
