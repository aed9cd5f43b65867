"""Link shaping (--link, control "link", docs/control.md "Link shaping"):
rate, latency and UDP loss measured through a real HL session.

Bounds: the lower one is physics (the shaper never delivers early), the upper
one allows 20 % (the issue's tolerance) plus the few tens of ms the test's
own polling adds; sizes are chosen so a run takes 2-3 s and CPU load does
not matter."""
import re
import subprocess
import time

import hl
import tmctl
from framework import quick
from test_hl_tcp import cfg, connect, peer, rcv, snd, stat, DATA_RE
from test_hl_udp import UdpEcho

SIZE = 20000            # bytes
RATE = 64000            # bit/s -> 8000 B/s -> 2.5 s


def _wait_bytes(m, sid, n, timeout=20):
    """Polls AT+KTCPSTAT until n bytes are buffered; returns the monotonic time."""
    deadline = time.monotonic() + timeout
    while stat(m, sid)[3] < n:
        assert time.monotonic() < deadline, "fewer than %d bytes after %ss" % (n, timeout)
        d = m._read_some(0.01)
        if d:
            m._take(d)
    return time.monotonic()


@quick
def test_link_rate_download_within_20pct(t):
    payload = bytes(range(256)) * (SIZE // 256) + b"x" * (SIZE % 256)
    p = peer(t, "send", payload=payload)
    m, ctl = tmctl.start(t, link="rate=64k")
    hl.start(m)
    assert ctl.link() == {"link": "custom", "down_bps": "64000", "up_bps": "64000",
                              "latency_ms": "0", "loss_pct": "0"}
    sid = cfg(m, '1,0,"127.0.0.1",%d' % p.port)
    connect(m, sid)
    t0 = time.monotonic()
    t1 = _wait_bytes(m, sid, SIZE)
    ideal = SIZE * 8 / RATE
    took = t1 - t0
    assert took >= ideal * 0.98, "faster than the link: %.2f s for %.2f s of data" % (took, ideal)
    assert took <= ideal * 1.2, "%.2f s for %d bytes at %d bit/s (ideal %.2f s)" % (took, SIZE, RATE, ideal)
    got = bytearray()
    while len(got) < SIZE:
        got += rcv(m, sid, SIZE - len(got))
    assert bytes(got) == payload


@quick
def test_link_latency_round_trip_and_connect(t):
    p = peer(t, "echo")
    m, ctl = tmctl.start(t)
    hl.start(m)
    assert ctl.ok("link")["link"] == "off"
    # a profile changed by an item, set at run time
    a = ctl.link("lte-m latency=300ms")
    assert a == {"link": "lte-m+", "down_bps": "300000", "up_bps": "375000", "latency_ms": "300",
                 "loss_pct": "0.5"}, a
    ctl.ok("link latency=300ms")             # no loss: the round trip is exact
    sid = cfg(m, '1,0,"127.0.0.1",%d' % p.port)
    t0 = time.monotonic()
    connect(m, sid)                          # SYN, SYN-ACK: one round trip
    took = time.monotonic() - t0
    assert 0.6 <= took <= 0.6 * 1.2 + 0.1, "connect took %.3f s over a 300 ms link" % took
    t0 = time.monotonic()
    m.send_line("AT+KTCPSND=%d,4" % sid)
    m.expect(b"\r\nCONNECT\r\n")
    m.send(b"ping" + hl.PATTERN)
    m.expect(b"\r\nOK\r\n")
    m.expect(DATA_RE, 5)
    took = time.monotonic() - t0
    assert 0.6 <= took <= 0.6 * 1.2 + 0.1, "echo round trip %.3f s over a 300 ms link" % took
    assert rcv(m, sid, 4) == b"ping"
    # off again: the same connection is fast at once
    assert ctl.ok("link off") == {"link": "off"}
    t0 = time.monotonic()
    snd(m, sid, b"pong")
    m.expect(DATA_RE, 5)
    assert time.monotonic() - t0 < 0.3
    assert rcv(m, sid, 4) == b"pong"


@quick
def test_link_udp_loss_drops_datagrams(t):
    srv = UdpEcho()
    t.servers.append(srv)
    m, ctl = tmctl.start(t, extra_args=("--model", "hl7800", "--link", "wifi,loss=100%"))
    hl.start(m, cmee=2)
    r = m.at("AT+KUDPCFG=1,0,,0,,,0,0")
    assert r.ok, r.text
    m.expect(b"\r\n+KUDP_IND: 1,1\r\n", 5)

    def send(data):
        r = m.at('AT+KUDPSND=1,"127.0.0.1",%d,%d' % (srv.port, len(data)))
        assert r.final == b"CONNECT", r.text
        m.send(data + hl.PATTERN)
        m.expect(b"\r\nOK\r\n")

    send(b"lost one")
    time.sleep(0.3)                          # no event to wait for: the datagram is gone
    assert srv.got == []
    ctl.ok("link wifi,loss=0%")
    send(b"arrives")
    m.expect(re.compile(rb"\r\n\+KUDP_DATA: 1,7\r\n"), 5)
    assert srv.got == [b"arrives"]


@quick
def test_link_option_and_command_errors(t):
    for spec, text in (("rate=fast", b'--link "rate=fast": expected bit/s'),
                       ("edge", b'--link "edge": unknown profile (profiles: gprs, lte-m, nb-iot, wifi')):
        r = subprocess.run([t.bin, "--stdio", "--store", t.tmp + "/st", "--link", spec], input=b"",
                           capture_output=True, timeout=10)
        assert r.returncode == 2 and text in r.stderr, (spec, r.returncode, r.stderr)
    m, ctl = tmctl.start(t, extra_args=("--link", "nb-iot"))
    assert ctl.ok("link") == {"link": "nb-iot", "down_bps": "26000", "up_bps": "16900", "latency_ms": "800",
                              "loss_pct": "1"}
    a = ctl.error("link loss=200%", "TM_E_ARG_BAD")
    assert "percentage" in a["reason"], a
    assert ctl.ok("link")["link"] == "nb-iot"          # an error changes nothing
    assert ctl.ok("status")["link"] == "nb-iot"


@quick
def test_link_shapes_tls_records_https_get(t):
    """KHTTPSGET over a shaped link: TLS sits on the shaper's pair, so the
    handshake and the records cross the link like any byte."""
    host = "www.coursera.test"
    body = bytes((i * 7) & 0xFF for i in range(16000))
    ng = t.nginx()
    ng.vhost([host], t.pki.coursera, files={"blob.bin": body})
    ng.start()
    m, ctl = tmctl.start(t, resolve=["%s:%d:127.0.0.1" % (host, ng.port)],
                         extra_args=("--link", "rate=128k,latency=50ms"))
    hl.start(m)
    assert hl.store_cert(m, t.pki.root.bytes("pem"), typ=0, end="count").ok
    sid, _ = hl.cfg(m, 1, host, ng.port, 2)
    t0 = time.monotonic()
    got = hl.get(m, sid, "/blob.bin")
    took = time.monotonic() - t0
    assert got == body
    # physics: the body alone is 1 s at 16000 B/s, plus the TCP and TLS round trips
    assert took >= 1.0 + 3 * 0.1, "HTTPS GET took %.2f s" % took


@quick
def test_link_shapes_spwf_sockets(t):
    """The shaping is below every dialect: an SPWF socket's connect and echo
    each cost a round trip."""
    from test_control_spwf import _sock, _echo_ok
    p = peer(t, "echo")
    m, ctl = tmctl.start(t, dialect="spwf", link="latency=150ms")
    t0 = time.monotonic()
    sid = _sock(m, p.port)
    assert time.monotonic() - t0 >= 0.3
    t0 = time.monotonic()
    _echo_ok(m, sid, b"shaped")
    assert time.monotonic() - t0 >= 0.3
