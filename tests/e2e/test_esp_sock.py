"""ESP-AT links (--dialect esp): TCP, UDP, send and receive, passthrough,
hostile peers.  docs/esp.md §3."""
import hashlib
import random
import re
import socket
import threading
import time

from esp_sock_lib import (IpdReader, TcpServer, cmd, err, esp_modem, ok, send_payload, udp_peer)
from framework import quick, timeout


@quick
@timeout(40)
def test_esp_tcp_echo_single_connection(t):
    srv = TcpServer()
    try:
        m = esp_modem(t)
        r = ok(m, 'AT+CIPSTART="TCP","127.0.0.1",%d' % srv.port)
        assert r.lines[0] == b"CONNECT", r
        r = cmd(m, 'AT+CIPSTART="TCP","127.0.0.1",%d' % srv.port)
        assert r.final == b"ERROR" and b"ALREADY CONNECTED" in r.lines, r
        text = send_payload(m, "AT+CIPSEND=5", b"hello")
        assert b"\r\nRecv 5 bytes\r\n" in text and text.endswith(b"SEND OK\r\n"), text
        assert IpdReader(m).read(5) == b"hello"
        r = ok(m, "AT+CIPSTATUS")
        assert r.info("STATUS:") == [b"STATUS:3"], r
        st = r.info("+CIPSTATUS:")
        assert len(st) == 1 and st[0].startswith(b'+CIPSTATUS:0,"TCP","127.0.0.1",%d,' % srv.port), r
        r = ok(m, "AT+CIPCLOSE")
        assert r.lines == [b"CLOSED", b"OK"], r
        assert srv.received == [bytearray(b"hello")], srv.received
        err(m, "AT+CIPSEND=5")
        assert ok(m, "AT+CIPSTATUS").info("STATUS:") == [b"STATUS:4"]
    finally:
        srv.close()


@quick
@timeout(40)
def test_esp_multi_links_dinfo_and_state(t):
    srv = TcpServer()
    try:
        m = esp_modem(t)
        ok(m, "AT+CIPMUX=1")
        ok(m, "AT+CIPDINFO=1")
        assert ok(m, "AT+CIPDINFO?").info("+CIPDINFO:") == [b"+CIPDINFO:true"]
        r = ok(m, 'AT+CIPSTART=2,"TCP","127.0.0.1",%d,7200' % srv.port)
        assert b"2,CONNECT" in r.lines, r
        r = ok(m, 'AT+CIPSTARTEX="TCP","127.0.0.1",%d' % srv.port)
        assert b"0,CONNECT" in r.lines, r            # the lowest free id
        err(m, 'AT+CIPSTART="TCP","127.0.0.1",%d' % srv.port)   # the link id is required
        send_payload(m, "AT+CIPSEND=2,3", b"two")
        rd = IpdReader(m)
        assert rd.read(3) == b"two"
        link, ln, ip, port = rd.frames[-1]
        assert (link, ln, ip, int(port)) == (b"2", 3, b"127.0.0.1", srv.port), rd.frames
        r = ok(m, "AT+CIPSTATE?")
        ids = sorted(l.split(b",")[0] for l in r.info("+CIPSTATE:"))
        assert ids == [b"+CIPSTATE:0", b"+CIPSTATE:2"], r
        r = ok(m, "AT+CIPCLOSE=5")
        assert b"0,CLOSED" in r.lines and b"2,CLOSED" in r.lines, r
        assert ok(m, "AT+CIPSTATE?").info("+CIPSTATE:") == []
        ok(m, "AT+CIPMUX=0")
    finally:
        srv.close()


@quick
@timeout(40)
def test_esp_udp_local_port_and_peer_change(t):
    peer, got = udp_peer()
    other, other_got = udp_peer()
    try:
        m = esp_modem(t)
        ok(m, "AT+CIPMUX=1")
        ok(m, "AT+CIPDINFO=1")
        r = ok(m, 'AT+CIPSTART=1,"UDP","127.0.0.1",%d,0,2' % peer.getsockname()[1])
        assert b"1,CONNECT" in r.lines, r
        send_payload(m, "AT+CIPSEND=1,4", b"ping")
        rd = IpdReader(m)
        assert rd.read(9) == b"echo:ping"
        assert got[0][0] == b"ping"
        lport = got[0][1][1]
        st = ok(m, "AT+CIPSTATE?").info("+CIPSTATE:1,")
        assert st and st[0].endswith(b",%d,0" % lport), st
        # mode 2: a datagram from another peer makes it the destination
        other.sendto(b"hi from other", ("127.0.0.1", lport))
        assert rd.read(13) == b"hi from other"
        assert int(rd.frames[-1][3]) == other.getsockname()[1], rd.frames
        send_payload(m, "AT+CIPSEND=1,3", b"abc")
        assert rd.read(8) == b"echo:abc"
        assert other_got and other_got[-1][0] == b"abc"
        # a send to an explicit address
        send_payload(m, 'AT+CIPSEND=1,2,"127.0.0.1",%d' % peer.getsockname()[1], b"zz")
        assert rd.read(7) == b"echo:zz"
        ok(m, "AT+CIPCLOSE=1")
    finally:
        peer.close()
        other.close()


def _blob_server(data):
    def handler(c):
        c.sendall(data)
        c.shutdown(socket.SHUT_WR)
        while c.recv(4096):
            pass
    return TcpServer(handler)


@timeout(120)
def test_esp_active_receive_1mib_byte_exact_with_slow_host(t):
    data = random.Random(7).randbytes(1 << 20)
    srv = _blob_server(data)
    try:
        m = esp_modem(t)
        ok(m, "AT+CIPMUX=1")
        ok(m, 'AT+CIPSTART=0,"TCP","127.0.0.1",%d' % srv.port)
        rd = IpdReader(m)
        reads = [0]

        def slow():          # the host reads in small bites at first: the modem must hold, not drop
            reads[0] += 1
            if reads[0] < 40:
                time.sleep(0.01)
        got = rd.read(len(data), timeout=60, chunk_cb=slow)
        assert hashlib.sha256(got).hexdigest() == hashlib.sha256(data).hexdigest()
        assert max(f[1] for f in rd.frames) <= 2920, max(f[1] for f in rd.frames)
        m.expect(b"0,CLOSED\r\n", 10)
        assert b"CLOSED" not in bytes(rd.other)      # CLOSED only after the last byte
        assert ok(m, "AT").ok
    finally:
        srv.close()


@timeout(120)
def test_esp_passive_receive_1mib_byte_exact(t):
    data = random.Random(8).randbytes(1 << 20)
    srv = _blob_server(data)
    try:
        m = esp_modem(t)
        ok(m, "AT+CIPMUX=1")
        ok(m, "AT+CIPRECVTYPE=5,1")
        assert ok(m, "AT+CIPRECVTYPE?").info("+CIPRECVTYPE:3,") == [b"+CIPRECVTYPE:3,1"]
        ok(m, 'AT+CIPSTART=3,"TCP","127.0.0.1",%d' % srv.port)
        out = bytearray()
        pending = 0
        while len(out) < len(data):
            if pending == 0:
                mt = m.expect(re.compile(rb"\+IPD,3,(\d+)\r\n"), 30)
                pending = int(mt.group(1))
            m.send(b"AT+CIPRECVDATA=3,2048\r\n")
            mt = m.expect(re.compile(rb"\+CIPRECVDATA:(\d+),"), 20)
            n = int(mt.group(1))
            while len(m.buf) < n:
                m._take(m._read_some(10), record=False)
            out += m.buf[:n]
            del m.buf[:n]
            m.expect(b"\r\nOK\r\n", 10)
            pending = 0          # each read is followed by a fresh +IPD when bytes remain
        assert hashlib.sha256(out).digest() == hashlib.sha256(data).digest()
        m.expect(b"3,CLOSED\r\n", 10)
        r = ok(m, "AT+CIPRECVLEN?")
        assert r.info("+CIPRECVLEN:") == [b"+CIPRECVLEN:-1,-1,-1,-1,-1"], r
        err(m, "AT+CIPRECVDATA=3,10")
    finally:
        srv.close()


@timeout(60)
def test_esp_cipsend_too_short_and_too_long(t):
    srv = TcpServer()
    try:
        m = esp_modem(t)
        ok(m, 'AT+CIPSTART="TCP","127.0.0.1",%d' % srv.port)
        # too long: exactly 5 bytes are sent, the rest is not payload
        text = send_payload(m, "AT+CIPSEND=5", b"12345EXTRA\r\n")
        assert text.endswith(b"SEND OK\r\n"), text
        assert IpdReader(m).read(5) == b"12345"
        r = cmd(m, "AT")          # whatever the extra line got, the modem answers again
        assert r.ok, r
        # too short: abandoned after the payload watchdog, nothing sent
        m.send(b"AT+CIPSEND=5\r\n")
        m.expect(b">", 10)
        m.send(b"abc")
        mt = m.expect(re.compile(rb"\r\n(SEND OK|SEND FAIL)\r\n"), 20)
        assert mt.group(1) == b"SEND FAIL", mt.consumed
        assert "abandoned and nothing was sent" in m.trace_text()
        assert ok(m, "AT").ok
        assert srv.received == [bytearray(b"12345")], srv.received
        ok(m, "AT+CIPCLOSE")
    finally:
        srv.close()


@quick
@timeout(40)
def test_esp_cipsendex_backslash_zero_ends_early(t):
    srv = TcpServer()
    try:
        m = esp_modem(t)
        ok(m, 'AT+CIPSTART="TCP","127.0.0.1",%d' % srv.port)
        text = send_payload(m, "AT+CIPSENDEX=20", b"ab\\\\c\\0")
        assert b"Recv 7 bytes" in text and text.endswith(b"SEND OK\r\n"), text
        assert IpdReader(m).read(4) == b"ab\\c"
        ok(m, "AT+CIPCLOSE")
    finally:
        srv.close()


@timeout(60)
def test_esp_passthrough_both_ways_and_plus_escape(t):
    srv = TcpServer()
    try:
        m = esp_modem(t)
        m.guard_s = 0.02          # the manual's 20 ms before and after +++ (escape() waits twice that)
        ok(m, "AT+CIPMODE=1")
        err(m, "AT+CIPMUX=1")
        ok(m, 'AT+CIPSTART="TCP","127.0.0.1",%d' % srv.port)
        m.send(b"AT+CIPSEND\r\n")
        m.expect(re.compile(rb"\r\nOK\r\n\r\n>"), 10)
        blob = random.Random(3).randbytes(100000).replace(b"+", b"-")
        m.send(blob, record=False)
        echo = bytearray()
        while len(echo) < len(blob):
            m._take(m._read_some(10), record=False)
            echo += m.buf
            m.buf.clear()
        assert bytes(echo) == blob
        m.escape()
        assert ok(m, "AT").ok
        ok(m, "AT+CIPMODE=0")
        ok(m, "AT+CIPCLOSE")
        assert bytes(srv.received[0]) == blob
    finally:
        srv.close()


@timeout(60)
def test_esp_hostile_servers_stall_and_reset(t):
    # a TLS server that accepts and never speaks: the connect budget ends it
    stall = TcpServer(lambda c: c.recv(65536) and time.sleep(30))
    # a server that resets the connection after a first answer
    def reset(c):
        c.recv(100)
        c.sendall(b"bye")
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        c.close()
    rst = TcpServer(reset)
    try:
        m = esp_modem(t, extra_args=["--timeout-connect", "1500"])
        r = cmd(m, 'AT+CIPSTART="SSL","127.0.0.1",%d' % stall.port)
        assert r.final == b"ERROR", r
        assert re.search(r"reason.*(timed out|timeout)", m.trace_text()), m.trace_text()[-2000:]
        ok(m, 'AT+CIPSTART="TCP","127.0.0.1",%d' % rst.port)
        send_payload(m, "AT+CIPSEND=2", b"hi")
        rd = IpdReader(m)
        assert rd.read(3) == b"bye"
        m.expect(b"CLOSED\r\n", 10)
        assert ok(m, "AT").ok
        err(m, 'AT+CIPSTART="TCP","127.0.0.1",1')      # refused
        assert "refused" in m.trace_text().lower()
    finally:
        stall.close()
        rst.close()


@quick
@timeout(30)
def test_esp_binary_noise_modem_still_answers(t):
    m = esp_modem(t)
    noise = bytes(random.Random(5).randrange(256) for _ in range(3000))
    m.send(noise + b"\r\n", record=False)
    m.send(b"\r\nAT\r\n")
    m.expect(b"\r\nOK\r\n", 10)
    r = cmd(m, "AT+CIPMUX?")
    assert r.ok and r.info("+CIPMUX:") == [b"+CIPMUX:0"], r


@quick
@timeout(40)
def test_esp_cipdomain_ping_and_server(t):
    m = esp_modem(t, resolve=["svc.example.test:*:127.0.0.1"])
    r = ok(m, 'AT+CIPDOMAIN="svc.example.test"')
    assert r.info("+CIPDOMAIN:") == [b'+CIPDOMAIN:"127.0.0.1"'], r
    r = ok(m, 'AT+PING="127.0.0.1"')
    assert re.match(rb"\+PING:\d+$", r.info("+PING:")[0]), r
    ok(m, "AT+CIPMUX=1")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    ok(m, "AT+CIPSERVER=1,%d" % port)
    assert ok(m, "AT+CIPSERVER?").info("+CIPSERVER:") == [b'+CIPSERVER:1,%d,"TCP",0' % port]
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        m.expect(re.compile(rb"(\d),CONNECT\r\n"), 10)
        c.sendall(b"from client")
        rd = IpdReader(m)
        assert rd.read(11) == b"from client"
        lid = rd.frames[-1][0].decode()
        send_payload(m, "AT+CIPSEND=%s,6" % lid, b"answer")
        got = b""
        while len(got) < 6:
            got += c.recv(100)
        assert got == b"answer"
    finally:
        c.close()
    m.expect(re.compile(rb"\d,CLOSED\r\n"), 10)
    ok(m, "AT+CIPSERVER=0,1")


@quick
@timeout(40)
def test_esp_links_need_wifi_and_close_when_it_drops(t):
    srv = TcpServer()
    try:
        m = esp_modem(t, join=False)
        if not cmd(m, "AT+CWQAP").ok:
            t.skip("no simulated Wi-Fi in this build")
        r = cmd(m, 'AT+CIPSTART="TCP","127.0.0.1",%d' % srv.port)
        assert r.final == b"ERROR", r
        assert "no IP address" in m.trace_text()
        ok(m, 'AT+CWJAP="tlsmodem-lab","correct horse"')
        ok(m, "AT+CIPMUX=1")
        ok(m, "AT+CIPRECVMODE=1")
        ok(m, 'AT+CIPSTART=1,"TCP","127.0.0.1",%d' % srv.port)
        send_payload(m, "AT+CIPSEND=1,4", b"keep")
        m.expect(b"+IPD,1,4\r\n", 10)
        ok(m, "AT+CWQAP")
        m.expect(b"WIFI DISCONNECT\r\n", 10)
        # the unread bytes stay readable; CLOSED only once they are read
        r = ok(m, "AT+CIPRECVLEN?")
        assert r.info("+CIPRECVLEN:") == [b"+CIPRECVLEN:-1,4,-1,-1,-1"], r
        r = cmd(m, 'AT+CIPSTART=1,"TCP","127.0.0.1",%d' % srv.port)   # the id still holds unread data
        assert r.final == b"ERROR" and b"ALREADY CONNECTED" in r.lines, r
        r = ok(m, "AT+CIPRECVDATA=1,100")
        assert b"+CIPRECVDATA:4,keep" in r.text, r
        m.expect(b"1,CLOSED\r\n", 10)
        assert ok(m, "AT+CIPSTATUS").info("STATUS:") == [b"STATUS:5"]
    finally:
        srv.close()


@timeout(60)
def test_esp_server_that_never_reads_send_fails(t):
    hold = threading.Event()
    srv = TcpServer(lambda c: hold.wait(50))
    try:
        m = esp_modem(t, extra_args=["--timeout-idle", "1000"])
        ok(m, 'AT+CIPSTART="TCP","127.0.0.1",%d' % srv.port)
        chunk = bytes(8192)
        for i in range(5000):
            text = send_payload(m, "AT+CIPSEND=8192", chunk, timeout=30)
            if text.endswith(b"SEND FAIL\r\n"):
                break
        else:
            raise AssertionError("the kernel buffers never filled")
        m.expect(b"CLOSED\r\n", 10)
        assert "does not read" in m.trace_text()
        assert ok(m, "AT").ok
    finally:
        hold.set()
        srv.close()


@quick
@timeout(40)
def test_esp_closemode_rst_and_ipv6(t):
    seen = []

    def reader(c):
        try:
            while c.recv(100):
                pass
            seen.append("fin")
        except ConnectionResetError:
            seen.append("rst")
    srv = TcpServer(reader)
    s6 = socket.socket(socket.AF_INET6)
    s6.bind(("::1", 0))
    s6.listen(1)
    try:
        m = esp_modem(t)
        ok(m, "AT+CIPMUX=1")
        ok(m, "AT+CIPCLOSEMODE=0,1")
        ok(m, 'AT+CIPSTART=0,"TCP","127.0.0.1",%d' % srv.port)
        ok(m, "AT+CIPCLOSE=0")
        srv.done.wait(10)
        assert seen == ["rst"], seen
        err(m, 'AT+CIPSTART=1,"TCPv6","::1",%d' % s6.getsockname()[1])
        assert "AT+CIPV6=1" in m.trace_text()
        ok(m, "AT+CIPV6=1")
        assert ok(m, "AT+CIPV6?").info("+CIPV6:") == [b"+CIPV6:1"]
        r = ok(m, 'AT+CIPSTART=1,"TCPv6","::1",%d' % s6.getsockname()[1])
        assert b"1,CONNECT" in r.lines
        st = ok(m, "AT+CIPSTATE?").info("+CIPSTATE:1,")
        assert st and st[0].startswith(b'+CIPSTATE:1,"TCPv6","::1",'), st
        ok(m, "AT+CIPCLOSE=1")
    finally:
        srv.close()
        s6.close()


@quick
@timeout(40)
def test_esp8266_ipd_chunks_and_recvmode(t):
    data = random.Random(9).randbytes(10000)
    srv = _blob_server(data)
    try:
        m = esp_modem(t, extra_args=["--model", "esp8266"])
        ok(m, 'AT+CIPSTART="TCP","127.0.0.1",%d' % srv.port)
        rd = IpdReader(m)
        assert rd.read(len(data)) == data
        assert max(f[1] for f in rd.frames) <= 1460, rd.frames
        assert all(f[0] is None for f in rd.frames)          # CIPMUX=0: no link id
        m.expect(b"CLOSED\r\n", 10)
        ok(m, "AT+CIPRECVMODE=1")
        assert ok(m, "AT+CIPRECVMODE?").info("+CIPRECVMODE:") == [b"+CIPRECVMODE:1"]
    finally:
        srv.close()


@quick
@timeout(40)
def test_esp_sysmsg_link_conn_and_quitt(t):
    """AT+SYSMSG bit 1: '+LINK_CONN:0,<id>,"<type>",<0 client|1 server>,"<ip>",<port>,<local port>'
    in place of '<id>,CONNECT' (for CIPSTART and for a client of CIPSERVER, the
    firmware's format, which drivers parse with sscanf); bit 0: '+QUITT' when
    passthrough ends with +++."""
    srv = TcpServer()
    try:
        m = esp_modem(t)
        ok(m, "AT+SYSMSG=3")
        assert ok(m, "AT+SYSMSG?").info("+SYSMSG:") == [b"+SYSMSG:3"]
        ok(m, "AT+CIPMUX=1")
        r = ok(m, 'AT+CIPSTART=1,"TCP","127.0.0.1",%d' % srv.port)
        lc = [l for l in r.lines if l.startswith(b"+LINK_CONN:")]
        assert len(lc) == 1 and not any(l.endswith(b",CONNECT") for l in r.lines), r
        mt = re.match(rb'\+LINK_CONN:0,1,"TCP",0,"127\.0\.0\.1",%d,(\d+)$' % srv.port, lc[0])
        assert mt and 0 < int(mt.group(1)) < 65536, lc
        # a client of the module's server: terminal type 1
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        ok(m, "AT+CIPSERVER=1,%d" % port)
        c = socket.create_connection(("127.0.0.1", port), timeout=10)
        try:
            mt = m.expect(re.compile(rb'\+LINK_CONN:0,(\d),"TCP",1,"127\.0\.0\.1",(\d+),%d\r\n' % port), 10)
            assert int(mt.group(2)) == c.getsockname()[1], mt.match
        finally:
            c.close()
        m.expect(re.compile(rb"\d,CLOSED\r\n"), 10)
        ok(m, "AT+CIPSERVER=0,1")
        ok(m, "AT+CIPCLOSE=5")
        ok(m, "AT+CIPMUX=0")
        # passthrough ends with +++: +QUITT
        m.guard_s = 0.02
        ok(m, "AT+CIPMODE=1")
        ok(m, 'AT+CIPSTART="TCP","127.0.0.1",%d' % srv.port)
        m.send(b"AT+CIPSEND\r\n")
        m.expect(re.compile(rb"\r\nOK\r\n\r\n>"), 10)
        m.send(b"data")
        m.escape()
        m.expect(b"+QUITT\r\n", 10)
        assert ok(m, "AT").ok
        ok(m, "AT+CIPMODE=0")
        ok(m, "AT+CIPCLOSE")
        # bit 1 off again: the short form
        ok(m, "AT+SYSMSG=0")
        r = ok(m, 'AT+CIPSTART="TCP","127.0.0.1",%d' % srv.port)
        assert r.lines[0] == b"CONNECT", r
        ok(m, "AT+CIPCLOSE")
    finally:
        srv.close()
