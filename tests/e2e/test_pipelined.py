"""Pipelined commands (issue 10, item 1): a host that writes its next command
before the previous one has answered.  The engine holds those bytes and runs
them only once the running command has finished reporting, from the loop,
never from inside the completion of the command before (which used to free a
session whose GET was still building its +KHTTPS_IND: a heap use-after-free
under ASan, a garbage session id in release builds).

Every case checks the exact order and content of the answers, so it fails
both on the crash (ASan build of the suite) and on a wrong report."""
import re

import hl
from framework import timeout
from hl import PATTERN
from test_spwf_lib import FINAL_RE as SPWF_FINAL_RE, load_ca, spwf_modem

HOST = "www.pipeline.test"
SMALL = b"small page\n"
LARGE = b"L" * 5000 + b"\n"


def pipeline_nginx(t):
    leaf = t.pki.make_leaf(t.pki.inter, sans=["DNS:" + HOST])
    ng = t.nginx()
    ng.vhost([HOST], leaf, files={"index.html": SMALL, "large.txt": LARGE})
    return ng.start()


def hl_modem(t, ng):
    m = t.modem(resolve=["%s:%d:127.0.0.1" % (HOST, ng.port)])
    hl.start(m)
    assert hl.store_cert(m, t.pki.root.bytes("pem")).ok
    sid, _ = hl.cfg(m, 1, HOST, ng.port, 2)
    return m, sid


def expect_get(m, sid, body):
    """CONNECT, the body, the EOF pattern, OK, then +KHTTPS_IND for this GET."""
    m.expect(b"\r\nCONNECT\r\n", 20)
    got = m.expect(PATTERN, 20).before
    assert got == body, "body %r, want %r" % (got[-300:], body[-300:])
    fin = m.expect(b"\r\nOK\r\n", 10)
    assert fin.before == b"", "after the EOF pattern expected OK, got %r" % fin.consumed
    ind = m.expect(re.compile(rb"\r\n\+KHTTPS_IND: ([^\r\n]*)\r\n"), 10)
    assert ind.before == b"", "between OK and +KHTTPS_IND: %r" % ind.before
    want = b'%d,3,%d,200,"OK"' % (sid, len(body))
    assert ind.group(1) == want, "+KHTTPS_IND: %r, want %r" % (ind.group(1), want)


@timeout(60)
def test_hl_get_then_delete_in_one_write(t):
    ng = pipeline_nginx(t)
    m, sid = hl_modem(t, ng)
    m.send(b'AT+KHTTPSGET=%d,"/"\rAT+KHTTPSDEL=%d\r' % (sid, sid))
    expect_get(m, sid, SMALL)
    fin = m.expect(b"\r\nOK\r\n", 10)          # the DEL, run after the GET's report
    assert fin.before == b"", fin.consumed
    r = m.at("AT+KHTTPSCFG?")
    assert r.ok and b"+KHTTPSCFG: %d" % sid not in r.text, r.text
    assert m.at("AT").text == b"\r\nOK\r\n"


@timeout(60)
def test_hl_two_gets_in_one_write_report_each_their_own(t):
    ng = pipeline_nginx(t)
    m, sid = hl_modem(t, ng)
    sid2, _ = hl.cfg(m, 1, HOST, ng.port, 2)
    m.send(b'AT+KHTTPSGET=%d,"/large.txt"\rAT+KHTTPSGET=%d,"/"\rAT\r' % (sid, sid2))
    expect_get(m, sid, LARGE)
    expect_get(m, sid2, SMALL)
    fin = m.expect(b"\r\nOK\r\n", 10)
    assert fin.before == b"", fin.consumed
    # the same session twice in one write: the second runs after the first ended
    m.send(b'AT+KHTTPSGET=%d,"/"\rAT+KHTTPSGET=%d,"/large.txt"\r' % (sid, sid))
    expect_get(m, sid, SMALL)
    expect_get(m, sid, LARGE)


@timeout(60)
def test_hl_chain_behind_pending_command_and_pipelined_lines(t):
    """A chained line whose first command is pending (KHTTPSCNX waits for the
    handshake) and more lines behind it: one final result per line, in order."""
    ng = pipeline_nginx(t)
    m, sid = hl_modem(t, ng)
    m.send(b"AT+KHTTPSCNX=%d;+KPATTERN?\rAT+KPATTERN=\"##END##\"\rAT+KPATTERN?\r" % sid)
    a = m.expect(b"\r\nOK\r\n", 20)               # CNX;KPATTERN? -> the old pattern, one OK
    assert a.before == b'\r\n+KPATTERN: "--EOF--Pattern--"\r\n', a.consumed
    m.expect(b"\r\nOK\r\n", 10)                   # KPATTERN=
    c = m.expect(b"\r\nOK\r\n", 10)               # KPATTERN? -> the new one
    assert c.before == b'\r\n+KPATTERN: "##END##"\r\n', c.consumed
    m.expect(b"\r\n+KHTTPS_IND: %d,1\r\n" % sid, 20)
    assert m.at("AT").text == b"\r\nOK\r\n"


@timeout(60)
def test_spwf_pipelined_httpget_and_socket_commands(t):
    ng = pipeline_nginx(t)
    m = spwf_modem(t, resolve=["%s:%d:127.0.0.1" % (HOST, ng.port)])
    load_ca(m, t.pki.root, "der")
    # two GETs and a status query in one write: each answers in order, complete
    m.send(b"AT+S.HTTPGET=%s,/large.txt,%d,2,,,,\rAT+S.HTTPGET=%s,/,%d,2,,,,\rAT+S.SOCKL\r"
           % (HOST.encode(), ng.port, HOST.encode(), ng.port))
    for body in (LARGE, SMALL):
        m.expect(b"AT-S.Http Server Status Code:200\r\n", 20)
        end = m.expect(SPWF_FINAL_RE, 20)
        assert end.group(1) == b"AT-S.OK" and end.before == body + b"\r\n", end.consumed[-200:]
    end = m.expect(SPWF_FINAL_RE, 10)
    assert end.group(1) == b"AT-S.OK", end.consumed
    # open, write and close a TLS socket in one write
    req = b"GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % HOST.encode()
    m.send(b"AT+S.SOCKON=%s,%d,,s\rAT+S.SOCKW=0,%d\r%sAT+S.SOCKQ=0\r"
           % (HOST.encode(), ng.port, len(req), req))
    on = m.expect(SPWF_FINAL_RE, 20)
    assert on.group(1) == b"AT-S.OK" and b"AT-S.On:127.0.0.1:0" in on.consumed, on.consumed
    w = m.expect(SPWF_FINAL_RE, 20)
    assert w.group(1) == b"AT-S.OK", w.consumed
    q = m.expect(SPWF_FINAL_RE, 20)
    assert q.group(1) == b"AT-S.OK" and b"AT-S.Query:" in q.consumed, q.consumed
    ng.wait_access_log(lambda l: '"GET / ' in l, 1)
    m.send(b"AT+S.SOCKC=0\rAT\r")
    for _ in range(2):
        assert m.expect(SPWF_FINAL_RE, 20).group(1) == b"AT-S.OK"
