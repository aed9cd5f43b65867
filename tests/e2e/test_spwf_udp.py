"""SPWF04 SOCKON with kind u: a connected UDP socket. Each SOCKW is one
datagram; received datagrams are buffered and read with SOCKQ/SOCKR."""
import re
import socket
import threading

from framework import quick, timeout
from test_spwf_lib import READING_RE, ok, spwf_modem


def udp_echo():
    """A UDP echo peer on 127.0.0.1 (a thread; stops when the socket closes).
    Replies with b"echo:" + datagram and records what it received."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    got = []

    def run():
        while True:
            try:
                data, peer = s.recvfrom(65536)
            except OSError:
                return
            got.append(data)
            s.sendto(b"echo:" + data, peer)
    threading.Thread(target=run, daemon=True).start()
    return s, got


@quick
@timeout(30)
def test_spwf_udp_socket_datagrams_both_ways(t):
    peer, got = udp_echo()
    try:
        port = peer.getsockname()[1]
        m = spwf_modem(t)
        r = ok(m, "AT+S.SOCKON=127.0.0.1,%d,NULL,u" % port)
        assert re.search(rb"AT-S\.On:127\.0\.0\.1:0\r\n", r.text), r.text
        ok(m, "AT+S.SOCKW=0,5", data=b"hello")
        m.expect(re.compile(rb"\+WIND:55:Pending Data:[^\r\n]*\r\n"), 10)
        m.send(b"AT+S.SOCKR=0,10\r")
        m.expect(READING_RE, 10)
        body = m.expect(b"AT-S.OK\r\n", 10)
        assert body.before == b"echo:hello", body.before
        assert got == [b"hello"], got
        ok(m, "AT+S.SOCKC=0")
    finally:
        peer.close()
