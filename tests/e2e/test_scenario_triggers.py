"""Scenario triggers and events that cut work in flight (docs/control.md
"Scenarios", "Work in flight"): --scenario FILE at start, "after <N> bytes"
of an HTTPS body (HL KHTTPSGET, SPWF HTTPGET), "on <K> <COMMAND>" (HL
KTCPSND, KUDPSND, KHTTPSPOST, SPWF AT+S.SOCKW), coverage lost / pdp drop /
socket reset during a download, an upload or a UDP exchange, a module reset
while a command runs; each checks the exact URCs / codes and that the module
answers and recovers afterwards."""
import os
import re
import subprocess

import hl
import tmctl
from framework import quick
from modem import FINAL_RE
from test_hl_tcp import cfg, connect, peer, rcv, snd, DATA_RE
from test_spwf_lib import cmd, ok, load_ca, http_get

HOST = "www.coursera.test"
BODY = bytes((i * 7 + 3) & 0xFF for i in range(20000)).replace(b"-", b"_")


def _nginx(t):
    ng = t.nginx()
    ng.vhost([HOST], t.pki.coursera, files={"blob.bin": BODY})
    return ng.start()


def _scn(t, text, name="s.scn"):
    path = os.path.join(t.tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def _hl_https(t, ng, extra=()):
    m, ctl = tmctl.start(t, resolve=["%s:%d:127.0.0.1" % (HOST, ng.port)], extra_args=extra)
    hl.start(m)
    assert hl.store_cert(m, t.pki.root.bytes("pem"), typ=0, end="count").ok
    sid, _ = hl.cfg(m, 1, HOST, ng.port, 2)
    return m, ctl, sid


@quick
def test_scenario_option_plays_timed_steps_and_bad_file_exits_2(t):
    path = _scn(t, "# start-up scenario\n0 csq 7\n300 coverage lost\n")
    m = t.modem(extra_args=("--scenario", path, "--model", "hl7800"))
    hl.start(m)
    m.at_ok("AT+CREG=1")
    m.expect(b"\r\n+CREG: 2\r\n", 5)          # the 300 ms step
    assert m.at_ok("AT+CSQ").lines == [b"+CSQ: 99,99"]   # no coverage now
    bad = _scn(t, "0 csq 7\nafter many bytes reset\n", "bad.scn")
    r = subprocess.run([t.bin, "--stdio", "--store", t.tmp + "/st2", "--scenario", bad], input=b"",
                       capture_output=True, timeout=10)
    assert r.returncode == 2, r
    assert b'bad.scn:2: expected "after <N> bytes <command>" (N >= 1)' in r.stderr, r.stderr


@quick
def test_hl_after_n_body_bytes_coverage_lost_cuts_khttpsget(t):
    ng = _nginx(t)
    m, ctl, sid = _hl_https(t, ng)
    assert ctl.ok("play " + _scn(t, "after 5000 bytes coverage lost\n")) == {"steps": "1"}
    m.send_line('AT+KHTTPSGET=%d,"/blob.bin"' % sid)
    m.expect(b"\r\nCONNECT\r\n", 10)
    u = m.expect(re.compile(rb"\r\nNO CARRIER\r\n"), 10)
    assert u.before == BODY[:5000], "body before the cut: %d bytes" % len(u.before)
    exp = b"\r\n+KHTTPS_ERROR: %d,5\r\n" % sid
    assert m.expect(exp, 5).consumed == exp
    # still answers; recovers once the network is back
    assert m.at_ok("AT+CGATT?").lines == [b"+CGATT: 0"]
    hl.cme(m, 'AT+KHTTPSGET=%d,"/blob.bin"' % sid, text=[r"no network", r"no coverage"])  # refused at once
    ctl.ok("coverage back")
    assert hl.get(m, sid, "/blob.bin") == BODY


@quick
def test_spwf_after_n_body_bytes_coverage_lost_cuts_httpget(t):
    ng = _nginx(t)
    m, ctl = tmctl.start(t, dialect="spwf", resolve=["%s:%d:127.0.0.1" % (HOST, ng.port)])
    load_ca(m, t.pki.root)
    ctl.ok("play " + _scn(t, "after 3000 bytes coverage lost\n"))
    status, body, r = http_get(m, HOST, "/blob.bin", ng.port, 2)
    assert status == 200 and body == BODY[:3000], (status, len(body))
    assert r.text.endswith(b"\r\nAT-S.Http Client Error:63\r\nAT-S.ERROR:111:Request failed: network error: "
                           b"the network connection was lost (access point out of range)\r\n"), r.text[-300:]
    assert m.expect(b"+WIND:33:WiFi BSS Lost\r\n", 5).before == b""
    status, body, r = http_get(m, HOST, "/blob.bin", ng.port, 2)      # refused while the AP is gone
    assert status is None and r.final == b"AT-S.ERROR:63:Network error: no network: the access point is lost " \
        b"(+WIND:33); wait for +WIND:24 (WiFi Up)", r
    ctl.ok("coverage back")
    m.expect(b"+WIND:24:WiFi Up:0:127.0.0.1\r\n", 5)
    status, body, r = http_get(m, HOST, "/blob.bin", ng.port, 2)
    assert status == 200 and body == BODY, (status, len(body))


@quick
def test_hl_on_kth_ktcpsnd_socket_reset_cuts_the_send(t):
    p = peer(t, "echo")
    m, ctl = tmctl.start(t)
    hl.start(m)
    sid = cfg(m, '1,0,"127.0.0.1",%d' % p.port)
    connect(m, sid)
    assert ctl.play("on 2 +KTCPSND socket reset 1", t.tmp) == 1
    snd(m, sid, b"one")                       # the 1st send: untouched
    m.expect(DATA_RE)
    assert rcv(m, sid, 3) == b"one"
    r = m.at("AT+KTCPSND=%d,3" % sid)         # the 2nd: the network resets the socket in its data mode
    assert r.final == b"CONNECT", r.text
    m.send(b"two" + hl.PATTERN)
    # the send fails (nothing was sent), then the session's notification
    exp = b"\r\n+CME ERROR: 100\r\n\r\n+KTCP_NOTIF: 1,5\r\n"
    assert m.expect(exp, 5).consumed == exp
    assert p.received == b"" and p.conns == 1
    assert m.at_ok("AT").text == b"\r\nOK\r\n"
    connect(m, sid)                           # recovery: reconnect, data flows
    snd(m, sid, b"three")
    m.expect(DATA_RE)
    assert rcv(m, sid, 5) == b"three"


@quick
def test_hl_socket_reset_during_khttpsget(t):
    ng = _nginx(t)
    m, ctl, sid = _hl_https(t, ng)
    ctl.ok("play " + _scn(t, "after 4000 bytes socket reset %d\n" % sid))
    m.send_line('AT+KHTTPSGET=%d,"/blob.bin"' % sid)
    m.expect(b"\r\nCONNECT\r\n", 10)
    u = m.expect(b"\r\nNO CARRIER\r\n", 10)
    assert u.before == BODY[:4000], len(u.before)
    exp = b"\r\n+KHTTPS_ERROR: %d,5\r\n" % sid
    assert m.expect(exp, 5).consumed == exp
    assert hl.get(m, sid, "/blob.bin") == BODY    # the next request connects again


@quick
def test_hl_coverage_lost_during_kudp_exchange(t):
    from test_hl_udp import UdpEcho
    srv = UdpEcho()
    t.servers.append(srv)
    m, ctl = tmctl.start(t, extra_args=("--model", "hl7800"))
    hl.start(m)
    assert m.at("AT+KUDPCFG=1,0,,0,,,0,0").ok
    m.expect(b"\r\n+KUDP_IND: 1,1\r\n", 5)
    ctl.ok("play " + _scn(t, "on 2 KUDPSND coverage lost\n"))

    def send(data):
        r = m.at('AT+KUDPSND=1,"127.0.0.1",%d,%d' % (srv.port, len(data)))
        assert r.final == b"CONNECT", r.text
        m.send(data + hl.PATTERN)
        return m.expect(FINAL_RE, 5)

    assert send(b"first").group(1) == b"OK"
    m.expect(re.compile(rb"\r\n\+KUDP_DATA: 1,5\r\n"), 5)
    r = m.at('AT+KUDPSND=1,"127.0.0.1",%d,6' % srv.port)
    assert r.final == b"CONNECT", r.text
    m.send(b"second" + hl.PATTERN)
    exp = b"\r\n+CME ERROR: 100\r\n\r\n+KUDP_NOTIF: 1,5\r\n"     # not sent; the socket is gone
    assert m.expect(exp, 5).consumed == exp
    hl.cme(m, 'AT+KUDPSND=1,"127.0.0.1",%d,5' % srv.port, text=[r"no network"])
    assert srv.got == [b"first"]
    ctl.ok("coverage back")
    assert send(b"third").group(1) == b"OK"
    m.expect(re.compile(rb"\r\n\+KUDP_DATA: 1,"), 5)
    assert srv.got == [b"first", b"third"]


@quick
def test_spwf_on_kth_sockw_coverage_lost(t):
    from test_control_spwf import _sock, _echo_ok
    srv = peer(t, "echo")
    m, ctl = tmctl.start(t, dialect="spwf", scenario="on 2 AT+S.SOCKW coverage lost")   # --scenario
    sid = _sock(m, srv.port)
    _echo_ok(m, sid, b"first")
    # the 2nd write: the host sends command and data at once (no prompt); the
    # access point goes once the module took them
    r = cmd(m, "AT+S.SOCKW=%d,6" % sid, b"second")
    assert r.final == b"AT-S.OK", r
    exp = b"+WIND:33:WiFi BSS Lost\r\n+WIND:58:Socket Closed:%d:1\r\n" % sid
    got = m.expect(exp, 5).consumed
    assert got.strip(b"\r\n").endswith(exp.strip(b"\r\n")), got
    ctl.ok("coverage back")
    m.expect(b"+WIND:24:WiFi Up:0:127.0.0.1\r\n", 5)
    ok(m, "AT+S.SOCKC=%d" % sid)
    sid = _sock(m, srv.port)                     # recovery: a new socket, data flows
    _echo_ok(m, sid, b"again")


@quick
def test_hl_reset_while_ktcpsnd_runs_aborts_it(t):
    p = peer(t, "echo")
    m, ctl = tmctl.start(t, extra_args=("--model", "hl7800"))
    hl.start(m)
    sid = cfg(m, '1,0,"127.0.0.1",%d' % p.port)
    connect(m, sid)
    assert ctl.play("on 1 KTCPSND reset", t.tmp) == 1
    r = m.at("AT+KTCPSND=%d,5" % sid)
    assert r.final == b"CONNECT", r.text
    # no result for the abandoned command: the boot URC of the restarted module
    u = m.expect(b"\r\n+KSUP: 0\r\n", 5)
    assert u.before == b"", u.before
    r = m.at("AT")                                  # echo is on again after a reset
    assert r.text == b"AT\r\r\nOK\r\n", r.text
    hl.start(m)                                     # the host's start-up sequence
    hl.cme(m, "AT+KTCPSTAT=1", text=[r"session"])   # sessions are gone
    sid = cfg(m, '1,0,"127.0.0.1",%d' % p.port)
    connect(m, sid)
    snd(m, sid, b"after")
    m.expect(DATA_RE)
    assert rcv(m, sid, 5) == b"after"


@quick
def test_spwf_reset_during_httpget_aborts_it(t):
    ng = _nginx(t)
    m, ctl = tmctl.start(t, dialect="spwf", resolve=["%s:%d:127.0.0.1" % (HOST, ng.port)])
    load_ca(m, t.pki.root)
    ctl.ok("play " + _scn(t, "after 2000 bytes reset\n"))
    m.send(b"AT+S.HTTPGET=%s,/blob.bin,%d,2,,,,\r" % (HOST.encode(), ng.port))
    m.expect(b"AT-S.Http Server Status Code:200\r\n", 10)
    u = m.expect(b"+WIND:1:Poweron:", 5)
    assert u.before == BODY[:2000], len(u.before)     # no AT-S.OK, no error: the module restarted
    m.expect(b"+WIND:24:WiFi Up:0:127.0.0.1\r\n", 5)
    status, body, r = http_get(m, HOST, "/blob.bin", ng.port, 2)
    assert status == 200 and body == BODY, (status, len(body))


@quick
def test_hl_coverage_lost_during_khttpspost_body(t):
    echo = t.echo_server(t.pki.posttest)
    m, ctl = tmctl.start(t, resolve=["posttest.test:%d:127.0.0.1" % echo.port])
    hl.start(m)
    assert hl.store_cert(m, t.pki.root.bytes("pem"), typ=0, end="count").ok
    sid, _ = hl.cfg(m, 1, "posttest.test", echo.port, 2)
    # the scenario's step runs at once: KHTTPSPOST is still connecting (no CONNECT yet)
    assert ctl.play("on 1 KHTTPSPOST coverage lost", t.tmp) == 1
    r = m.at('AT+KHTTPSPOST=%d,"/post.php"' % sid)
    assert r.text == b"\r\nNO CARRIER\r\n", r.text
    exp = b"\r\n+KHTTPS_ERROR: %d,5\r\n" % sid
    assert m.expect(exp, 5).consumed == exp
    ctl.ok("coverage back")
    # the network goes while the host sends the body: taken, discarded, then the failure
    r = m.at('AT+KHTTPSPOST=%d,"/post.php"' % sid)
    assert r.final == b"CONNECT", r.text
    m.send(b"x" * 500)
    ctl.ok("coverage lost")
    m.send(b"y" * 500 + hl.PATTERN)
    exp = b"\r\nNO CARRIER\r\n\r\n+KHTTPS_ERROR: %d,5\r\n" % sid
    assert m.expect(exp, 10).consumed == exp
    assert m.at_ok("AT").text == b"\r\nOK\r\n"
    ctl.ok("coverage back")
    assert hl.post(m, sid, "/post.php", b"again\r\n") == b"again\r\n"


@quick
def test_hl_pdp_drop_during_khttpsget_reason_at_cmee2(t):
    ng = _nginx(t)
    m, ctl, sid = _hl_https(t, ng)
    m.at_ok("AT+CMEE=2")
    ctl.play("after 1000 bytes pdp drop", t.tmp)
    m.send_line('AT+KHTTPSGET=%d,"/blob.bin"' % sid)
    m.expect(b"\r\nCONNECT\r\n", 10)
    assert m.expect(b"\r\nNO CARRIER\r\n", 10).before == BODY[:1000]
    exp = b'\r\n+KHTTPS_ERROR: %d,5,"network error: the network deactivated the bearer (PDP context 1)"\r\n' % sid
    assert m.expect(exp, 5).consumed == exp
    m.at_ok("AT+CGACT=1,1")                       # the host brings the context back
    assert hl.get(m, sid, "/blob.bin") == BODY


@quick
def test_spwf_coverage_lost_closes_udp_socket(t):
    from test_spwf_udp import udp_echo
    from test_spwf_lib import READING_RE
    peer_sock, got = udp_echo()
    try:
        port = peer_sock.getsockname()[1]
        m, ctl = tmctl.start(t, dialect="spwf")
        ok(m, "AT+S.SOCKON=127.0.0.1,%d,NULL,u" % port)
        ok(m, "AT+S.SOCKW=0,5", data=b"hello")
        m.expect(re.compile(rb"\+WIND:55:Pending Data:[^\r\n]*\r\n"), 10)
        ctl.ok("coverage lost")
        exp = b"+WIND:33:WiFi BSS Lost\r\n+WIND:58:Socket Closed:0:1\r\n"
        assert m.expect(exp, 5).consumed.strip(b"\r\n").endswith(exp.strip(b"\r\n"))
        m.send(b"AT+S.SOCKR=0,10\r")                  # the datagram received before stays readable
        m.expect(READING_RE, 10)
        assert m.expect(b"AT-S.OK\r\n", 10).before == b"echo:hello"
        ctl.ok("coverage back")
        m.expect(b"+WIND:24:WiFi Up:0:127.0.0.1\r\n", 5)
        ok(m, "AT+S.SOCKC=0")
        ok(m, "AT+S.SOCKON=127.0.0.1,%d,NULL,u" % port)
        ok(m, "AT+S.SOCKW=0,5", data=b"again")
        m.expect(re.compile(rb"\+WIND:55:Pending Data:[^\r\n]*\r\n"), 10)
        assert got == [b"hello", b"again"]
    finally:
        peer_sock.close()
