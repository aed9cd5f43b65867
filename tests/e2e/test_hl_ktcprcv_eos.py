"""AT+KTCPRCV at the end of the stream answers an error (+CME ERROR: 922)
as the module does, never a 0-byte CONNECT…EOF that a driver waiting for
data before the pattern cannot handle; bytes that arrived before the close
stay readable; a failed connect is +KTCP_NOTIF with the module's code."""
import hl
from framework import quick, timeout
from test_hl_tcp import DATA_RE, NOTIF_RE, cfg, connect, modem, peer, rcv, stat


@quick
@timeout(60)
def test_ktcprcv_after_peer_close_is_an_error_once_drained(t):
    payload = bytes(range(256)) * 4
    p = peer(t, "send", payload=payload, close=True)
    m = modem(t)
    sid = cfg(m, '1,0,"127.0.0.1",%d' % p.port)
    connect(m, sid)
    u = m.expect(NOTIF_RE, 15)                    # the peer closed
    assert u.group(2) == b"4", u.match
    assert stat(m, sid)[0] == 5
    got = b""
    while len(got) < len(payload):
        d = rcv(m, sid, 300)
        assert d, "a 0-byte read while %d bytes were still expected" % (len(payload) - len(got))
        got += d
    assert got == payload
    hl.cme(m, "AT+KTCPRCV=%d,100" % sid, 922, [r"session %d is closed" % sid, r"no received byte is left",
                                             r"\+KTCP_NOTIF: %d,4" % sid])
    m.at_ok("AT+CMEE=0")
    assert m.at("AT+KTCPRCV=%d,100" % sid).text == b"\r\nERROR\r\n"


@quick
def test_failed_connect_is_ktcp_notif(t):
    m = modem(t)
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                                     # nothing listens there
    sid = cfg(m, '1,0,"127.0.0.1",%d' % port)
    r = m.at("AT+KTCPCNX=%d" % sid)
    assert r.text == b"\r\nOK\r\n", r.text
    u = m.expect(NOTIF_RE, 15)
    assert u.group(1) == b"%d" % sid and u.group(2) == b"5", u.match
    assert stat(m, sid)[:2] == (5, 5)
    hl.cme(m, "AT+KTCPRCV=%d,10" % sid, 922, r"closed")
