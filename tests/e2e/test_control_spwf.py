"""Control-channel network events on the SPWF04 dialect (docs/control.md):
the exact +WIND indications, and that the module still answers and the host
can reconnect afterwards."""
import re

import tmctl
from framework import quick
from test_hl_tcp import peer
from test_spwf_lib import cmd, err, ok

BOOT = (b"+WIND:1:Poweron:", b"+WIND:0:Console active\r\n", b"+WIND:32:WiFi Hardware Started\r\n")


def _sock(m, port):
    r = ok(m, "AT+S.SOCKON=127.0.0.1,%d,NULL,t" % port)
    return int(r.info("AT-S.On:")[0].split(b":")[-1])


def _echo_ok(m, sid, data=b"hello"):
    ok(m, "AT+S.SOCKW=%d,%d" % (sid, len(data)), data=data)
    m.expect(b"+WIND:55:Pending Data::%d:%d:%d\r\n" % (sid, len(data), len(data)), 10)
    m.send(b"AT+S.SOCKR=%d\r" % sid)
    exp = b"AT-S.Reading:%d:%d\r\n%sAT-S.OK\r\n" % (len(data), len(data), data)
    got = m.expect(exp, 10).consumed
    assert got == exp, got


@quick
def test_spwf_coverage_lost_and_back(t):
    srv = peer(t, "echo")
    m, ctl = tmctl.start(t, dialect="spwf")
    sid = _sock(m, srv.port)
    _echo_ok(m, sid)
    ctl.ok("coverage lost")
    exp = b"+WIND:33:WiFi BSS Lost\r\n+WIND:58:Socket Closed:%d:1\r\n" % sid
    got = m.expect(exp).consumed
    assert got.endswith(exp) and got.strip(b"\r\n") == exp.strip(b"\r\n"), got
    assert ok(m, "AT+S.STS=wifi_state").info("AT-S.Var:wifi_state=2"), "idle, not associated"
    assert ok(m, "AT+S.STS=ip_ipaddr").info("AT-S.Var:ip_ipaddr=0.0.0.0")
    err(m, "AT+S.SOCKON=127.0.0.1,%d,NULL,t" % srv.port, text=[r"access point is lost"])
    ctl.error("coverage lost", "TM_E_STATE")
    ctl.ok("coverage back")
    m.expect(b"+WIND:24:WiFi Up:0:127.0.0.1\r\n")
    assert ok(m, "AT+S.STS=wifi_state").info("AT-S.Var:wifi_state=10")
    ok(m, "AT+S.SOCKC=%d" % sid)
    sid = _sock(m, srv.port)
    _echo_ok(m, sid, b"again")


@quick
def test_spwf_socket_reset_and_unsupported_events(t):
    srv = peer(t, "echo")
    m, ctl = tmctl.start(t, dialect="spwf")
    sid = _sock(m, srv.port)
    ctl.ok("socket reset %d" % sid)
    m.expect(b"+WIND:58:Socket Closed:%d:1\r\n" % sid)
    ctl.error("socket reset %d" % sid, "TM_E_STATE")
    for c in ("reject", "pdp drop", "csq 10"):
        e = ctl.error(c, "TM_E_NOT_SUPPORTED")
        assert "SPWF04" in e["reason"], e
    ok(m, "AT+S.SOCKC=%d" % sid)
    sid = _sock(m, srv.port)
    _echo_ok(m, sid)


@quick
def test_spwf_reset_boot_winds_volatile_lost_saved_kept(t):
    srv = peer(t, "echo")
    m, ctl = tmctl.start(t, dialect="spwf")
    ok(m, "AT+S.SCFG=ip_hostname,saved-name")
    ok(m, "AT+S.WCFG")
    ok(m, "AT+S.SCFG=ip_hostname,volatile-name")
    sid = _sock(m, srv.port)
    ctl.ok("reset")
    boot = m.expect(b"+WIND:24:WiFi Up:0:127.0.0.1\r\n", 10).consumed
    for w in BOOT:
        assert w in boot, boot
    assert b"AT-S.OK" not in boot, "a reset nobody asked for has no AT-S.OK: %r" % boot
    assert ok(m, "AT+S.GCFG=ip_hostname").info("AT-S.Var:ip_hostname=saved-name")
    err(m, "AT+S.SOCKQ=%d" % sid, text=[r"socket %d" % sid])          # the socket is gone
    sid = _sock(m, srv.port)
    _echo_ok(m, sid)


@quick
def test_spwf_dns_fail_and_clock(t):
    srv = peer(t, "echo")
    m, ctl = tmctl.start(t, dialect="spwf", resolve=["echo.test:%d:127.0.0.1" % srv.port])
    ctl.ok("dns fail on")
    err(m, "AT+S.SOCKON=echo.test,%d,NULL,t" % srv.port, text=[r"cannot resolve 'echo.test'",
                                                               r"name server does not answer"])
    ctl.ok("dns fail off")
    r = ok(m, "AT+S.SOCKON=echo.test,%d,NULL,t" % srv.port)
    sid = int(r.info("AT-S.On:")[0].split(b":")[-1])
    _echo_ok(m, sid)
    ctl.ok("clock set 2030-01-01T00:00:00Z")
    v = ok(m, "AT+S.STS=current_time").info("AT-S.Var:current_time=")[0].split(b"=")[1]
    assert 1893456000 <= int(v) < 1893456000 + 60, v
    ctl.ok("clock unset")
    assert ok(m, "AT+S.STS=current_time").info("AT-S.Var:current_time=not set")
