"""HL UDP sessions (AT+KUDPCFG/KUDPSND/KUDPRCV/KUDPCLOSE/KUDPDEL, +KUDP_IND,
+KUDP_DATA): the Zephyr hl78xx driver's 8-argument KUDPCFG on the HL7800,
a datagram out and its echo back byte-exact, argument lists per model,
refusals with reasons."""
import re
import socket
import threading

import hl
from framework import quick

PATTERN = hl.PATTERN


class UdpEcho:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.got = []
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            try:
                d, addr = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            self.got.append(d)
            self.sock.sendto(d[::-1], addr)

    def stop(self):
        self.stopping = True
        self.thread.join(2)
        self.sock.close()

    def describe(self):
        return "UDP echo :%d got %d datagrams" % (self.port, len(self.got))


def _udp_modem(t, model):
    srv = UdpEcho()
    t.servers.append(srv)
    m = t.modem(extra_args=("--model", model))
    hl.start(m, cmee=2)
    return m, srv


@quick
def test_kudp_zephyr_form_datagram_round_trip(t):
    m, srv = _udp_modem(t, "hl7800")
    r = m.at("AT+KUDPCFG=1,0,,0,,,0,0")
    assert r.ok and r.info("+KUDPCFG: 1"), r.text
    m.expect(b"\r\n+KUDP_IND: 1,1\r\n", 5)
    assert m.at_ok("AT+KUDPCFG?").info("+KUDPCFG: 1,1,0")
    for payload in (b"hello\r\n\x00\xff", bytes(range(256)) * 4):
        r = m.at('AT+KUDPSND=1,"127.0.0.1",%d,%d' % (srv.port, len(payload)))
        assert r.final == b"CONNECT", r.text
        m.send(payload + PATTERN)
        m.expect(b"\r\nOK\r\n", 5)
        u = m.expect(re.compile(rb"\r\n\+KUDP_DATA: 1,(\d+)\r\n"), 5)
        assert int(u.group(1)) == len(payload)
        r = m.at("AT+KUDPRCV=1,%d" % (len(payload) + 100))
        assert r.final == b"CONNECT", r.text
        data = m.expect(PATTERN, 5).before
        m.expect(b"\r\nOK\r\n", 5)
        assert data == payload[::-1]
    assert srv.got[0] == b"hello\r\n\x00\xff"
    # nothing buffered: an error, never a 0-byte CONNECT
    hl.cme(m, "AT+KUDPRCV=1,10", 922, r"no datagram is buffered")
    m.at_ok("AT+KUDPCLOSE=1")                      # closes and deletes (keep_cfg 0)
    hl.cme(m, "AT+KUDPRCV=1,10", 910, r"not a configured UDP session")


@quick
def test_kudpcfg_argument_lists_per_model(t):
    m, srv = _udp_modem(t, "hl8548")
    hl.cme(m, "AT+KUDPCFG=1,0,,0,,,0,0", 915, [r"HL8548", r"--model hl7800"])
    hl.cme(m, "AT+KUDPCFG=1,1", 4, r"server")
    hl.cme(m, "AT+KUDPCFG=1,0,,2", 4, r"data_mode 2")
    assert m.at_ok("AT+KUDPCFG?").lines == []
    r = m.at("AT+KUDPCFG=1,0")
    assert r.ok and r.info("+KUDPCFG: 1"), r.text
    m7, _ = _udp_modem(t, "hl7800")
    hl.cme(m7, "AT+KUDPCFG=1,0,,0,,,2,0", 916, r"\baf\b")
    hl.cme(m7, "AT+KUDPCFG=1,0,,0,5", 916, r"reserved")
    hl.cme(m7, 'AT+KUDPSND=3,"127.0.0.1",9,4', 910, r"UDP")
