"""Control-channel network events on the ESP-AT dialect (docs/control.md, docs/esp.md
§8): the exact Wi-Fi messages, the +CWJAP failures they cause, and that the module
recovers (joins again by itself when the access point comes back)."""
import re

import tmctl
from framework import Skip, quick
from test_esp_basic import FINAL, READY, cmd, ok
from test_hl_tcp import peer

JOINED = b"WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n"


def _start(t, **kw):
    m, ctl = tmctl.start(t, dialect="esp", **kw)
    m.send(b"ATE0\r\n")
    assert m.expect(FINAL).consumed == b"ATE0\r\n\r\nOK\r\n"
    return m, ctl


@quick
def test_esp_coverage_lost_and_back(t):
    m, ctl = _start(t)
    # not joined: nothing to say, and nothing joins when the access point returns
    ctl.ok("coverage lost")
    ctl.error("coverage lost", "TM_E_STATE")
    assert cmd(m, "AT+CWLAP") == b"\r\nOK\r\n"                          # nothing in range
    assert cmd(m, 'AT+CWJAP="tlsmodem","tlsmodem"') == b"+CWJAP:3\r\n\r\nERROR\r\n"
    ctl.ok("coverage back")
    ctl.error("coverage back", "TM_E_STATE")
    assert cmd(m, "AT+CWJAP?") == b"No AP\r\n\r\nOK\r\n"
    # joined: the station drops, then joins again by itself
    assert cmd(m, 'AT+CWJAP="tlsmodem","tlsmodem"') == JOINED
    ctl.ok("coverage lost")
    assert m.expect(b"WIFI DISCONNECT\r\n").consumed == b"WIFI DISCONNECT\r\n"
    assert cmd(m, "AT+CWSTATE?") == b'+CWSTATE:4,"tlsmodem"\r\n\r\nOK\r\n'    # disconnected, target kept
    assert cmd(m, "AT+CIPSTA?").startswith(b'+CIPSTA:ip:"0.0.0.0"\r\n')
    ctl.ok("coverage back")
    assert m.expect(b"WIFI GOT IP\r\n").consumed == b"WIFI CONNECTED\r\nWIFI GOT IP\r\n"
    assert cmd(m, "AT+CWSTATE?") == b'+CWSTATE:2,"tlsmodem"\r\n\r\nOK\r\n'
    # left by the host (CWQAP): coverage back does not join
    m.send(b"AT+CWQAP\r\n")
    m.expect(b"WIFI DISCONNECT\r\n")
    ctl.ok("coverage lost")
    ctl.ok("coverage back")
    assert cmd(m, "AT+CWJAP?") == b"No AP\r\n\r\nOK\r\n"


@quick
def test_esp_reject_csq_and_unsupported(t):
    m, ctl = _start(t)
    ctl.ok("csq 20")                                     # -113 + 2*20 = -73 dBm
    assert cmd(m, 'AT+CWJAP="tlsmodem","tlsmodem"') == JOINED
    assert cmd(m, "AT+CWJAP?") == b'+CWJAP:"tlsmodem","02:74:6d:00:00:01",1,-73,0,1,3,0,1\r\n\r\nOK\r\n'
    assert cmd(m, "AT+CWLAP").startswith(b'+CWLAP:(3,"tlsmodem",-73,')
    # reject: the access point throws the station out and refuses it
    ctl.ok("reject")
    assert m.expect(b"WIFI DISCONNECT\r\n").consumed == b"WIFI DISCONNECT\r\n"
    ctl.error("reject", "TM_E_STATE")
    ok(m, "AT+SYSLOG=1")
    assert cmd(m, 'AT+CWJAP="tlsmodem","tlsmodem"') == b"+CWJAP:4\r\nERR CODE:0x010a0000\r\n\r\nERROR\r\n"
    assert "refuses the association" in m.trace_text()
    ctl.ok("coverage back")                              # clears the refusal; the host had left
    assert cmd(m, 'AT+CWJAP="tlsmodem","tlsmodem"') == JOINED
    e = ctl.error("pdp drop", "TM_E_NOT_SUPPORTED")
    assert "Wi-Fi" in e["reason"], e
    e = ctl.error("socket reset 3", "TM_E_STATE")
    assert "no open link 3" in e["reason"], e


@quick
def test_esp_reset_ready_volatile_lost_saved_kept(t):
    m, ctl = _start(t)
    ok(m, "AT+SYSLOG=1")
    ok(m, "AT+UART_DEF=460800,8,1,0,3")
    assert cmd(m, 'AT+CWJAP="tlsmodem","tlsmodem"') == JOINED    # saved (SYSSTORE=1)
    ctl.ok("reset")
    got = m.expect(b"WIFI GOT IP\r\n").consumed
    assert got == READY + b"WIFI CONNECTED\r\nWIFI GOT IP\r\n", got       # no OK: nobody asked
    m.send(b"AT+SYSLOG?\r\n")                                      # echo on again, SYSLOG 0
    assert m.expect(FINAL).consumed == b"AT+SYSLOG?\r\n+SYSLOG:0\r\n\r\nOK\r\n"
    m.send(b"ATE0\r\n")
    m.expect(FINAL)
    assert cmd(m, "AT+UART_DEF?") == b"+UART_DEF:460800,8,1,0,3\r\n\r\nOK\r\n"
    # the network's conditions survive a module reset
    ctl.ok("coverage lost")
    m.expect(b"WIFI DISCONNECT\r\n")
    ctl.ok("reset")
    assert m.expect(READY).consumed == READY
    m.send(b"ATE0\r\n")
    assert m.expect(FINAL).consumed == b"ATE0\r\n\r\nOK\r\n"       # no join: out of range
    ctl.ok("coverage back")
    assert m.expect(b"WIFI GOT IP\r\n").consumed == b"WIFI CONNECTED\r\nWIFI GOT IP\r\n"


@quick
def test_esp_coverage_lost_closes_links(t):
    """With the links of esp-sock (sock.c): each open link says <id>,CLOSED after
    WIFI DISCONNECT, and the host can connect again once the station is back."""
    srv = peer(t, "echo")
    m, ctl = _start(t)
    if cmd(m, "AT+CIPMUX=1") != b"\r\nOK\r\n":
        raise Skip("the links (AT+CIPMUX, esp-sock) are not in this build")
    assert cmd(m, 'AT+CWJAP="tlsmodem","tlsmodem"') == JOINED
    out = cmd(m, 'AT+CIPSTART=0,"TCP","127.0.0.1",%d' % srv.port)
    assert out == b"0,CONNECT\r\n\r\nOK\r\n", out
    ctl.ok("coverage lost")
    got = m.expect(b"0,CLOSED\r\n").consumed
    assert got == b"WIFI DISCONNECT\r\n0,CLOSED\r\n", got
    assert cmd(m, 'AT+CIPSTART=0,"TCP","127.0.0.1",%d' % srv.port) == b"\r\nERROR\r\n"
    ctl.ok("coverage back")
    m.expect(b"WIFI GOT IP\r\n")
    assert cmd(m, 'AT+CIPSTART=0,"TCP","127.0.0.1",%d' % srv.port) == b"0,CONNECT\r\n\r\nOK\r\n"
    ctl.ok("socket reset 0")
    assert m.expect(re.compile(rb"0,CLOSED\r\n")).consumed == b"0,CLOSED\r\n"


@quick
def test_esp_reset_in_the_middle_of_a_send_abandons_it(t):
    """A reset while AT+CIPSEND waits for its payload: no SEND OK / SEND FAIL / ERROR
    for it (the module lost power), "ready", the link gone, and the modem answers."""
    srv = peer(t, "echo")
    m, ctl = _start(t)
    assert cmd(m, 'AT+CWJAP="tlsmodem","tlsmodem"') == JOINED
    assert cmd(m, 'AT+CIPSTART="TCP","127.0.0.1",%d' % srv.port) == b"CONNECT\r\n\r\nOK\r\n"
    m.send(b"AT+CIPSEND=10\r\n")
    m.expect(b">")
    m.send(b"abc")                                    # 3 of the 10 bytes, then the module resets
    ctl.ok("reset")
    got = m.expect(b"WIFI GOT IP\r\n").consumed
    assert got.endswith(READY + b"WIFI CONNECTED\r\nWIFI GOT IP\r\n"), got
    assert b"SEND" not in got and b"ERROR" not in got and b"CLOSED" not in got, got
    m.send(b"ATE0\r\n")
    m.expect(FINAL)
    assert cmd(m, "AT+CIPSTATUS").startswith(b"STATUS:2\r\n"), "link gone, IP kept"
    assert cmd(m, 'AT+CIPSTART="TCP","127.0.0.1",%d' % srv.port) == b"CONNECT\r\n\r\nOK\r\n"


@quick
def test_esp_coverage_lost_cuts_a_running_http_request(t):
    """AT+HTTPCGET waiting for a server that never answers: coverage lost ends it at
    once as a failed connection (ERR CODE 0x010a7000, ERROR), WIFI DISCONNECT follows,
    and after coverage back the module rejoins and answers."""
    from test_esp_http import RawServer
    silent = RawServer(None)
    try:
        m, ctl = _start(t)
        ok(m, "AT+SYSLOG=1")
        assert cmd(m, 'AT+CWJAP="tlsmodem","tlsmodem"') == JOINED
        m.send(b'AT+HTTPCGET="http://127.0.0.1:%d/"\r\n' % silent.port)
        assert silent.got_request.wait(10), "the request never reached the server"
        ctl.ok("coverage lost")
        got = m.expect(b"WIFI DISCONNECT\r\n").consumed
        # SYSLOG=1: the ERR CODE of a failed HTTP connection, then +ERRNO (socket errno: connection reset)
        assert got == b"ERR CODE:0x010a7000\r\n+ERRNO:0x68\r\n\r\nERROR\r\nWIFI DISCONNECT\r\n", got
        ctl.ok("coverage back")
        m.expect(b"WIFI GOT IP\r\n")
        assert cmd(m, "AT") == b"\r\nOK\r\n"
    finally:
        silent.stop()
