"""--uart-rate (docs/ports.md): the host port carries --baud / 10 bytes a
second each way, as a real UART at that baud does (8N1: 10 bits a byte).

Measured on a long answer (KTCPRCV of 12 KB) and a long command (KTCPSND of
12 KB) at 57600 baud = 5760 B/s: ~2.1 s each.  Lower bound physics, upper
20 %."""
import time

import hl
from framework import quick
from test_hl_tcp import cfg, connect, peer, snd, DATA_RE, wait_buffered
from hl import PATTERN
from modem import FINAL_RE

BAUD = 57600
SIZE = 12000


@quick
def test_uart_rate_long_command_and_long_answer(t):
    p = peer(t, "echo")
    m = t.modem(extra_args=("--uart-rate", "--baud", str(BAUD)))
    hl.start(m)
    sid = cfg(m, '1,0,"127.0.0.1",%d' % p.port)
    connect(m, sid)
    blob = bytes((i * 13) & 0xFF for i in range(SIZE))
    blob = blob.replace(b"-", b"_")           # no EOF pattern inside (--EOF--Pattern--)
    rate = BAUD / 10

    # host -> module: the data of KTCPSND
    r = m.at("AT+KTCPSND=%d,%d" % (sid, len(blob)))
    assert r.final == b"CONNECT", r.text
    t0 = time.monotonic()
    m.send(blob + PATTERN)
    m.expect(b"\r\nOK\r\n", 20)
    took = time.monotonic() - t0
    ideal = (len(blob) + len(PATTERN)) / rate
    assert ideal * 0.98 <= took <= ideal * 1.2, "sent %d bytes in %.2f s at %d baud (ideal %.2f s)" % (
        len(blob), took, BAUD, ideal)
    m.expect(DATA_RE, 10)
    wait_buffered(m, sid, len(blob))

    # module -> host: the answer of KTCPRCV
    t0 = time.monotonic()
    m.send_line("AT+KTCPRCV=%d,%d" % (sid, len(blob)))
    m.expect(b"\r\nCONNECT\r\n", 10)
    data = m.expect(PATTERN, 20).before
    took = time.monotonic() - t0
    fin = m.expect(FINAL_RE, 5)
    assert fin.group(1) == b"OK"
    assert data == blob
    ideal = (len(blob) + len(PATTERN)) / rate
    assert ideal * 0.98 <= took <= ideal * 1.2, "received %d bytes in %.2f s at %d baud (ideal %.2f s)" % (
        len(blob), took, BAUD, ideal)


@quick
def test_uart_rate_set_from_the_control_channel(t):
    import tmctl
    p = peer(t, "echo")
    m, ctl = tmctl.start(t)
    hl.start(m)
    assert ctl.uart() == {"uart": "off"}
    ctl.error("uart 12", "TM_E_ARG_BAD")
    sid = cfg(m, '1,0,"127.0.0.1",%d' % p.port)
    connect(m, sid)
    blob = bytes((i * 5) & 0xFF for i in range(4000)).replace(b"-", b"_")
    snd(m, sid, blob)                                   # at full speed
    m.expect(DATA_RE, 10)
    wait_buffered(m, sid, len(blob))
    assert ctl.uart(38400) == {"uart": "38400", "bytes_per_s": "3840"}
    t0 = time.monotonic()
    m.send_line("AT+KTCPRCV=%d,%d" % (sid, len(blob)))
    m.expect(b"\r\nCONNECT\r\n", 10)
    assert m.expect(PATTERN, 10).before == blob
    took = time.monotonic() - t0
    assert took >= (len(blob) + len(PATTERN)) / 3840 * 0.98, "%.2f s at 3840 B/s" % took
    assert m.expect(FINAL_RE, 5).group(1) == b"OK"
    assert ctl.ok("uart off") == {"uart": "off"}
    snd(m, sid, blob)
    m.expect(DATA_RE, 10)
    wait_buffered(m, sid, len(blob))
    t0 = time.monotonic()
    m.send_line("AT+KTCPRCV=%d,%d" % (sid, len(blob)))
    assert m.expect(PATTERN, 10).before.endswith(blob)
    assert time.monotonic() - t0 < 0.5
