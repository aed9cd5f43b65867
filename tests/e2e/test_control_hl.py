"""Control-channel network events on the HL dialect (docs/control.md): the
exact URCs each event produces, and that the module still answers and the
host can recover (re-register, bring the bearer up, reconnect) afterwards."""
import os
import re

import hl
import tmctl
from framework import quick
from test_hl_tcp import cfg, connect, peer, rcv, snd, DATA_RE

NOTIF1 = re.compile(rb"\r\n\+KTCP_NOTIF: 1,5\r\n")


def _hl(t, model="hl7800"):
    m, ctl = tmctl.start(t, extra_args=("--model", model))
    hl.start(m)
    return m, ctl


def _echo_session(t, m):
    p = peer(t, "echo")
    sid = cfg(m, '1,0,"127.0.0.1",%d' % p.port)
    connect(m, sid)
    return p, sid


def _echo_ok(m, sid, data=b"ping"):
    snd(m, sid, data)
    m.expect(DATA_RE)
    assert rcv(m, sid, len(data)) == data


@quick
def test_hl_coverage_lost_and_back(t):
    m, ctl = _hl(t)
    m.at_ok("AT+CREG=1")
    m.at_ok("AT+CEREG=2")
    m.at_ok("AT+KCNXUP=1")
    m.expect(b"\r\n+KCNX_IND: 1,1\r\n")
    p, sid = _echo_session(t, m)
    _echo_ok(m, sid)

    ctl.ok("coverage lost")
    exp = b"\r\n+CREG: 2\r\n\r\n+CEREG: 2\r\n\r\n+KCNX_IND: 1,0\r\n\r\n+KTCP_NOTIF: 1,5\r\n"
    got = m.expect(exp).consumed
    assert got == exp, got
    assert m.at_ok("AT+CEREG?").lines == [b"+CEREG: 2,2"]
    assert m.at_ok("AT+CSQ").lines == [b"+CSQ: 99,99"]
    assert m.at_ok("AT+CGATT?").lines == [b"+CGATT: 0"]
    assert m.at_ok("AT+COPS?").lines == [b"+COPS: 0"]
    hl.cme(m, "AT+KTCPCNX=1", text=[r"no network", r"no coverage"])
    hl.cme(m, "AT+KCNXUP=1", text=[r"no network"])
    ctl.error("coverage lost", "TM_E_STATE")

    m.at_ok("AT+CMEE=1")
    ctl.ok("coverage back")
    exp = b'\r\n+CREG: 1\r\n\r\n+CEREG: 1,"A1B2","01A2D001",7\r\n'
    got = m.expect(exp).consumed
    assert got == exp, got
    assert m.at_ok("AT+CSQ").lines == [b"+CSQ: 20,99"]
    # recovery as a host does it: bearer up, reconnect, data flows
    m.at_ok("AT+KCNXUP=1")
    m.expect(b"\r\n+KCNX_IND: 1,1\r\n")
    connect(m, sid)
    _echo_ok(m, sid, b"again")


@quick
def test_hl8548_coverage_lost_no_cereg(t):
    m, ctl = _hl(t, "hl8548")
    m.at_ok("AT+CGREG=2")
    ctl.ok("coverage lost")
    m.expect(b"\r\n+CGREG: 2\r\n")
    ctl.ok("coverage back")
    exp = b'\r\n+CGREG: 1,"1A2B","01A2D001",2\r\n'
    assert m.expect(exp).consumed == exp
    assert m.at_ok("AT+CGATT?").lines == [b"+CGATT: 1"]


@quick
def test_hl_reject_then_back(t):
    m, ctl = _hl(t)
    m.at_ok("AT+CEREG=1")
    m.at_ok("AT+CGEREP=2")
    p, sid = _echo_session(t, m)
    ctl.ok("reject")
    got = m.expect(NOTIF1).consumed
    # the PDP context goes down, then registration: denied (stat 3), the network detached us
    assert got == (b"\r\n+CGEV: NW PDN DEACT 1\r\n\r\n+CEREG: 3\r\n\r\n+CGEV: NW DETACH\r\n"
                   b"\r\n+KTCP_NOTIF: 1,5\r\n"), got
    assert m.at_ok("AT+CEREG?").lines == [b"+CEREG: 1,3"]
    hl.cme(m, "AT+CGATT=1", text=[r"registration denied"])
    m.at_ok("AT+CMEE=1")
    ctl.ok("coverage back")
    got = m.expect(b"\r\n+CGEV: ME PDN ACT 1\r\n").consumed
    assert got == b"\r\n+CEREG: 1\r\n\r\n+CGEV: ME ATTACH\r\n\r\n+CGEV: ME PDN ACT 1\r\n", got
    connect(m, sid)
    _echo_ok(m, sid)


@quick
def test_hl_pdp_drop_and_socket_reset(t):
    m, ctl = _hl(t)
    m.at_ok("AT+CGEREP=2")
    m.at_ok("AT+KCNXUP=1")
    m.expect(b"\r\n+KCNX_IND: 1,1\r\n")
    p, sid = _echo_session(t, m)
    ctl.ok("pdp drop")
    exp = b"\r\n+CGEV: NW PDN DEACT 1\r\n\r\n+KCNX_IND: 1,0\r\n\r\n+KTCP_NOTIF: 1,5\r\n"
    got = m.expect(exp).consumed
    assert got == exp, got
    assert m.at_ok("AT+CGACT?").lines == [b"+CGACT: 1,0"]
    assert m.at_ok("AT+CGATT?").lines == [b"+CGATT: 1"]     # still registered
    ctl.error("pdp drop", "TM_E_STATE")
    # recovery: the host reactivates the context, reconnects
    m.at_ok("AT+CGACT=1,1")
    m.expect(b"\r\n+CGEV: ME PDN ACT 1\r\n")
    connect(m, sid)
    _echo_ok(m, sid)
    # a socket reset touches that socket only
    ctl.ok("socket reset 1")
    m.expect(NOTIF1)
    r = m.at_ok("AT+KTCPSTAT=1")
    assert r.lines[0].startswith(b"+KTCPSTAT: 5,5,"), r.text
    ctl.error("socket reset 1", "TM_E_STATE")
    ctl.error("socket reset 7", "TM_E_STATE")
    connect(m, sid)
    _echo_ok(m, sid)


@quick
def test_hl_reset_boot_urc_volatile_lost_store_kept(t):
    m, ctl = _hl(t)
    m.at_ok('AT+KPATTERN="--MYEOF--"')
    m.at_ok("AT+CEREG=2")
    p, sid = _echo_session(t, m)
    ctl.ok("reset")
    m.expect(b"+KSUP: 0\r\n")
    # echo back on (volatile), <n> back to 0 (no +CEREG URC), the session gone
    r = m.at("AT")
    assert r.text.startswith(b"AT"), "echo is on again after the reset: %r" % r.text
    hl.start(m)
    assert m.at_ok("AT+CEREG?").lines == [b'+CEREG: 0,1']
    r = m.at("AT+KTCPSTAT=1")
    assert r.text == b"\r\n+CME ERROR: 910\r\n", r.text
    assert m.at_ok("AT+KPATTERN?").lines == [b'+KPATTERN: "--MYEOF--"']   # the store is kept
    m.at_ok('AT+KPATTERN="%s"' % hl.PATTERN.decode())
    sid = cfg(m, '1,0,"127.0.0.1",%d' % p.port)
    connect(m, sid)
    _echo_ok(m, sid)


@quick
def test_hl_csq_and_dns_fail(t):
    m, ctl = _hl(t)
    ctl.ok("csq 7")
    assert m.at_ok("AT+CSQ").lines == [b"+CSQ: 7,99"]
    assert m.at_ok("AT+CESQ").lines == [b"+CESQ: 99,99,255,255,20,24"]
    ctl.ok("csq 99")
    assert m.at_ok("AT+CSQ").lines == [b"+CSQ: 99,99"]
    ctl.ok("csq 20")
    p = peer(t, "echo")
    sid = cfg(m, '1,0,"echo.test",%d' % p.port)
    assert ctl.ok("dns fail on") == {"dns": "fail"}
    m.at_ok("AT+CMEE=2")
    r = m.at("AT+KTCPCNX=%d" % sid)
    u = m.expect(re.compile(rb'\r\n\+KTCP_NOTIF: 1,3,"([^"\r\n]*)"\r\n'))
    assert b"name server does not answer" in u.group(1), u.match
    assert ctl.ok("dns fail off") == {"dns": "ok"}
    m.at_ok("AT+KTCPCLOSE=1")
    m.at_ok("AT+CMEE=1")


def test_hl_clock_jump_expires_the_certificate_and_back(t):
    from test_hl_tcp import NOTIF_RE
    p = peer(t, "echo", cert=t.pki.coursera)          # valid for a year from now
    path = os.path.join(t.tmp, "c.sock")
    m = t.modem(resolve=["www.coursera.test:%d:127.0.0.1" % p.port], extra_args=("--control", path))
    hl.start(m)
    ctl = tmctl.Control(path)
    assert hl.store_cert(m, t.pki.root.bytes("pem"), 0).ok
    m.at_ok("AT+CMEE=2")
    sid = cfg(m, '1,3,"www.coursera.test",%d' % p.port)
    connect(m, sid)
    m.at_ok("AT+KTCPCLOSE=%d" % sid)
    ctl.ok("clock jump %d" % (400 * 86400))
    m.at_ok("AT+KTCPCNX=%d" % sid)
    u = m.expect(NOTIF_RE, 15)
    assert u.group(2) == b"13" and b"is after notAfter" in u.group(3), u.match
    ctl.ok("clock unset")
    m.at_ok("AT+KTCPCNX=%d" % sid)
    u = m.expect(NOTIF_RE, 15)
    assert u.group(2) == b"13" and b"clock" in u.group(3).lower(), u.match
    ctl.ok("clock host")
    connect(m, sid)
    _echo_ok(m, sid)
