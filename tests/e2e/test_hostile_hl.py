"""Hostile servers against the HL dialect (docs/reliability.md, "The network peer").

Each test checks the exact HL codes (+KHTTPS_ERROR / +KTCP_NOTIF: 12 timeout,
4 disconnected by the server, 5 connection error, 13 TLS), the reason at
CMEE=2, and that the modem still answers AT with OK afterwards.  Timeouts are
made short with AT+KCNXTIMER or the --timeout-* options, so every test ends
in a few seconds."""
import re

import hl
import hostile
from framework import quick, timeout
from modem import FINAL_RE, show

HOST = "www.coursera.test"
NOTIF_RE = re.compile(rb"\r\n\+KTCP_NOTIF: (\d+),(\d+)(?:,\"([^\r\n]*)\")?\r\n")
IND_RE = re.compile(rb"\r\n\+KTCP_IND: (\d+),1\r\n")


def https_setup(t, srv, extra=()):
    """Modem at CMEE=2 trusting the test root, session 1 on bearer profile 1."""
    m = t.modem(resolve=["%s:%d:127.0.0.1" % (HOST, srv.port)], extra_args=list(extra))
    hl.start(m, cmee=2)
    assert hl.store_cert(m, t.pki.root.bytes("pem")).ok
    sid, _ = hl.cfg(m, 1, HOST, srv.port, 1)
    return m, sid


def get_cut(m, sid, timeout=15):
    """KHTTPSGET that gets CONNECT, some body, then NO CARRIER + +KHTTPS_ERROR.
    Returns (body bytes, code, reason)."""
    r = m.at('AT+KHTTPSGET=%d,"/"' % sid, timeout)
    assert r.final == b"CONNECT", "expected CONNECT, got %s" % show(r.text, 300)
    body = m.expect(b"\r\nNO CARRIER\r\n", timeout).before
    u = m.expect(hl.ERR_URC_RE, 5)
    assert int(u.group(1)) == sid, u.match
    return body, int(u.group(2)), (u.group(3) or b"").decode()


def alive(m):
    r = m.at("AT")
    assert r.ok and r.text == b"\r\nOK\r\n", "AT after the failure: %r" % r.text


@quick
@timeout(30)
def test_hl_get_stall_after_handshake_idle_timeout_by_kcnxtimer(t):
    srv = hostile.start(t, t.pki.coursera, "stall_after_handshake")
    m, sid = https_setup(t, srv)
    m.at_ok("AT+KCNXTIMER=1,30,2,60,1")           # idle 1 s on profile 1
    r = m.at_ok("AT+KCNXTIMER?")
    assert r.info("+KCNXTIMER: 1,30,2,60,1"), r.text
    got_sid, code, why = hl.get_fails(m, sid, "/")
    assert (got_sid, code) == (sid, 12), (got_sid, code, why)
    assert "sent nothing for 1000 ms while the response head was awaited" in why, why
    alive(m)
    # the session is usable again: the next request opens a new connection
    got_sid, code, why = hl.get_fails(m, sid, "/")
    assert code == 12, why
    alive(m)


@timeout(30)
def test_hl_get_stall_mid_body_idle_timeout_by_cli(t):
    srv = hostile.start(t, t.pki.coursera, "stall_mid_body")
    m, sid = https_setup(t, srv, ["--timeout-idle", "1000"])
    body, code, why = get_cut(m, sid)
    assert body == b"b" * 100, body
    assert code == 12, (code, why)
    assert "sent nothing for 1000 ms in the middle of the body (100 body bytes received)" in why, why
    alive(m)


@timeout(30)
def test_hl_get_drip_body(t):
    # one byte every 2 s with an idle timeout of 1 s: cut after the head
    srv = hostile.start(t, t.pki.coursera, "drip_body", body=b"abcdef", interval=2.0)
    m, sid = https_setup(t, srv, ["--timeout-idle", "1000"])
    body, code, why = get_cut(m, sid)
    assert body == b"" and code == 12, (body, code, why)
    assert "in the middle of the body (0 body bytes received)" in why, why
    alive(m)
    # a byte every 0.3 s stays under the idle timeout: the body completes
    srv2 = hostile.start(t, t.pki.coursera, "drip_body", body=b"abcdef", interval=0.3)
    m2, sid2 = https_setup(t, srv2, ["--timeout-idle", "1000"])
    assert hl.get(m2, sid2, "/") == b"abcdef"
    m2.expect(b'\r\n+KHTTPS_IND: %d,3,6,200,"OK"\r\n' % sid2, 5)
    alive(m2)


@timeout(30)
def test_hl_get_drip_head_response_timeout(t):
    # the head dripped every 0.2 s never trips the idle timeout; the response timeout ends it
    srv = hostile.start(t, t.pki.coursera, "drip_head", interval=0.2)
    m, sid = https_setup(t, srv, ["--timeout-response", "1500", "--timeout-idle", "5000"])
    got_sid, code, why = hl.get_fails(m, sid, "/")
    assert code == 12, (code, why)
    assert re.search(r"no complete response head from www\.coursera\.test:\d+ within 1500 ms of the request "
                     r"\(\d+ bytes of it received\)", why), why
    alive(m)


@quick
@timeout(30)
def test_hl_get_fin_without_close_notify_is_truncation(t):
    srv = hostile.start(t, t.pki.coursera, "fin_no_close_notify")
    m, sid = https_setup(t, srv)
    body, code, why = get_cut(m, sid)
    assert body == b"b" * 100, body
    assert code == 4, (code, why)
    assert "body truncated: connection closed without TLS close_notify after 100 bytes" in why, why
    alive(m)
    # the control: the same body ended by close_notify is complete
    srv2 = hostile.start(t, t.pki.coursera, "clean_close")
    m2, sid2 = https_setup(t, srv2)
    assert hl.get(m2, sid2, "/") == b"b" * 100
    m2.expect(b'\r\n+KHTTPS_IND: %d,3,100,200,"OK"\r\n' % sid2, 5)
    alive(m2)


@timeout(30)
def test_hl_get_rst_mid_record(t):
    srv = hostile.start(t, t.pki.coursera, "rst_mid_record")
    m, sid = https_setup(t, srv)
    body, code, why = get_cut(m, sid)
    assert body == b"b" * 100, body
    assert code == 5, (code, why)
    assert re.search(r"reset by peer", why, re.I), why
    alive(m)


@timeout(30)
def test_hl_get_oversized_chain(t):
    path, size = hostile.big_chain(t)
    assert size >= 200 * 1024
    srv = hostile.start(t, t.pki.coursera, "serve", chain=path)
    m, sid = https_setup(t, srv)
    got_sid, code, why = hl.get_fails(m, sid, "/")
    assert code == 13, (code, why)
    assert "certificate chain must stay below 100 KiB" in why, why
    alive(m)


@timeout(30)
def test_hl_khttpscnx_stalled_handshake_abort_and_timeout(t):
    srv = hostile.start(t, t.pki.coursera, "stall_handshake")
    m, sid = https_setup(t, srv)
    # the host gives up: KHTTPSCLOSE abandons the connection being opened
    m.at_ok("AT+KHTTPSCNX=%d" % sid)
    srv.wait("clienthello")
    alive(m)
    m.at_ok("AT+KHTTPSCLOSE=%d" % sid)
    alive(m)
    # the connect timer of KCNXTIMER (1 s) ends it: +KHTTPS_ERROR 12
    m.at_ok("AT+KCNXTIMER=1,1")
    m.at_ok("AT+KHTTPSCNX=%d" % sid)
    u = m.expect(hl.ERR_URC_RE, 10)
    assert (int(u.group(1)), int(u.group(2))) == (sid, 12), u.match
    assert b"TLS handshake with" in u.group(3) and b"not finished within" in u.group(3), u.match
    alive(m)


# ---- KTCP sockets ------------------------------------------------------------------------------

def tcp_setup(t, srv, extra=()):
    m = t.modem(resolve=["%s:%d:127.0.0.1" % (HOST, srv.port)], extra_args=list(extra))
    hl.start(m, cmee=2)
    assert hl.store_cert(m, t.pki.root.bytes("pem")).ok
    r = m.at_ok('AT+KTCPCFG=1,3,"%s",%d' % (HOST, srv.port))
    sid = int(re.search(rb"\+KTCPCFG: (\d+)", r.text).group(1))
    return m, sid


@quick
@timeout(30)
def test_hl_ktcp_stalled_handshake_connect_timeout(t):
    srv = hostile.start(t, t.pki.coursera, "stall_handshake")
    m, sid = tcp_setup(t, srv)
    m.at_ok("AT+KCNXTIMER=1,1")
    m.at_ok("AT+KTCPCNX=%d" % sid)
    srv.wait("clienthello")
    alive(m)                                      # the loop answers while the handshake hangs
    u = m.expect(NOTIF_RE, 10)
    assert (int(u.group(1)), int(u.group(2))) == (sid, 12), u.match
    assert b"not finished within" in u.group(3), u.match
    alive(m)
    r = m.at_ok("AT+KTCPSTAT=%d" % sid)
    assert b"+KTCPSTAT: 5,12,0,0" in r.text, r.text


@timeout(30)
def test_hl_ktcp_stalled_server_host_aborts(t):
    srv = hostile.start(t, t.pki.coursera, "stall_after_handshake")
    m, sid = tcp_setup(t, srv)
    m.at_ok("AT+KTCPCNX=%d" % sid)
    m.expect(IND_RE, 10)
    # transparent mode on a server that never sends: +++ returns to command mode
    m.set_guard(5)
    r = m.at("AT+KTCPSTART=%d" % sid)
    assert r.final == b"CONNECT", r.text
    m.escape()
    m.expect(b"\r\nOK\r\n", 5)
    alive(m)
    # KTCPRCV does not wait for data that never comes
    r = m.at("AT+KTCPRCV=%d,100" % sid)
    assert r.final == b"CONNECT"
    assert m.expect(hl.PATTERN, 5).before == b""
    m.expect(FINAL_RE, 5)
    m.at_ok("AT+KTCPCLOSE=%d" % sid)
    alive(m)


@timeout(30)
def test_hl_ktcp_fin_without_close_notify_and_rst(t):
    srv = hostile.start(t, t.pki.coursera, "send_fin_raw", payload=b"hello")
    m, sid = tcp_setup(t, srv)
    m.at_ok("AT+KTCPCNX=%d" % sid)
    m.expect(IND_RE, 10)
    u = m.expect(NOTIF_RE, 10)
    assert (int(u.group(1)), int(u.group(2))) == (sid, 4), u.match
    assert b"without TLS close_notify" in u.group(3), u.match
    r = m.at("AT+KTCPRCV=%d,100" % sid)
    assert r.final == b"CONNECT"
    assert m.expect(hl.PATTERN, 5).before == b"hello"
    m.expect(FINAL_RE, 5)
    alive(m)
    # a reset in the middle of a record: connection error 5, the bytes before it stay readable
    srv2 = hostile.start(t, t.pki.coursera, "send_rst_raw", payload=b"first")
    m2, sid2 = tcp_setup(t, srv2)
    m2.at_ok("AT+KTCPCNX=%d" % sid2)
    m2.expect(IND_RE, 10)
    m2.expect(b"\r\n+KTCP_DATA: %d,5\r\n" % sid2, 10)
    r = m2.at("AT+KTCPRCV=%d,100" % sid2)
    assert r.final == b"CONNECT"
    assert m2.expect(hl.PATTERN, 5).before == b"first"
    m2.expect(FINAL_RE, 5)
    r = hl.data_cmd(m2, "AT+KTCPSND=%d,2" % sid2, b"go", "pattern")     # the server resets after this
    assert r.ok, r.text
    u = m2.expect(NOTIF_RE, 10)
    assert (int(u.group(1)), int(u.group(2))) == (sid2, 5), u.match
    assert re.search(rb"reset by peer", u.group(3), re.I), u.match
    alive(m2)
    r = m2.at_ok("AT+KTCPSTAT=%d" % sid2)
    assert b"+KTCPSTAT: 5,5,0,0" in r.text, r.text


# ---- DNS ---------------------------------------------------------------------------------------

@timeout(40)
def test_hl_dns_silent_server_keeps_answering_and_times_out(t):
    """The system resolver points at a DNS server that never answers (a private
    mount namespace with its own /etc/resolv.conf): the modem keeps answering AT
    while the name resolves in the background, and the DNS timeout ends it."""
    import os
    import shutil
    import socket
    import subprocess
    if os.geteuid() != 0 or not shutil.which("unshare"):
        t.skip("needs root and unshare(1) for a private /etc/resolv.conf")
    dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        dns.bind(("127.0.0.2", 53))                   # reads nothing, answers nothing
    except OSError as e:
        t.skip("cannot bind 127.0.0.2:53: %s" % e)
    t.servers.append(type("Silent", (), {"stop": lambda self: dns.close(),
                                         "describe": lambda self: "silent DNS on 127.0.0.2:53"})())
    rc = t.path("resolv.conf")
    with open(rc, "w") as f:
        f.write("nameserver 127.0.0.2\noptions timeout:30 attempts:1\n")
    wrap = t.path("in-ns.sh")
    with open(wrap, "w") as f:
        f.write("#!/bin/sh\nexec unshare -m sh -c 'mount --bind \"$0\" /etc/resolv.conf && exec \"$@\"' "
                "%s %s \"$@\"\n" % (rc, os.path.abspath(t.bin)))
    os.chmod(wrap, 0o755)
    if subprocess.run(["unshare", "-m", "true"]).returncode != 0:
        t.skip("unshare -m is not permitted here")
    from modem import Modem
    m = Modem(wrap, t.tmp, name="modem-ns", extra_args=["--timeout-dns", "1500"])
    t.modems.append(m)
    hl.start(m, cmee=2)
    r = m.at_ok('AT+KTCPCFG=1,0,"silent.example.test",80')
    sid = int(re.search(rb"\+KTCPCFG: (\d+)", r.text).group(1))
    m.at_ok("AT+KTCPCNX=%d" % sid)
    for _ in range(3):                                # the loop is not blocked by the resolver
        alive(m)
    assert "resolving silent.example.test (system resolver, in the background)" in m.trace_text()
    u = m.expect(NOTIF_RE, 10)
    assert (int(u.group(1)), int(u.group(2))) == (sid, 3), u.match
    assert b"no answer from the DNS within 1500 ms (DNS timeout)" in u.group(3), u.match
    alive(m)


@timeout(40)
def test_hl_get_abandoned_by_host_with_escape(t):
    """A server that drips its body just under the idle timeout: the host gives
    up with +++ (guard times as in data mode).  NO CARRIER, +KHTTPS_ERROR with
    the reason, the modem answers at once and the session works again; '+'
    typed without the guard times are not an escape."""
    srv = hostile.start(t, t.pki.coursera, "stall_mid_body")
    m, sid = https_setup(t, srv, ["--timeout-idle", "60000"])
    m.set_guard(10)                                  # 200 ms
    m.guard_s = 0.2
    r = m.at('AT+KHTTPSGET=%d,"/"' % sid, 15)
    assert r.final == b"CONNECT", show(r.text, 300)
    m.expect(b"b" * 100, 10)                         # the body so far, then the server stalls
    m.escape()
    cut = m.expect(b"\r\nNO CARRIER\r\n", 5)
    assert cut.before == b"", cut.consumed
    u = m.expect(hl.ERR_URC_RE, 5)
    assert (int(u.group(1)), int(u.group(2))) == (sid, 6), u.match
    assert b"abandoned the request with +++ after 100 body bytes" in u.group(3), u.match
    alive(m)
    # pipelined '+' (no guard) behind a running GET are command input, not an escape
    r = m.at('AT+KHTTPSGET=%d,"/"' % sid, 15)
    assert r.final == b"CONNECT", show(r.text, 300)
    m.expect(b"b" * 100, 10)
    m.send(b"AT+++\r")                               # a malformed line, held until the GET ends
    m.escape()
    m.expect(b"\r\nNO CARRIER\r\n", 5)
    m.expect(hl.ERR_URC_RE, 5)
    bad = m.expect(FINAL_RE, 5)                      # then the held line runs: an error, not an abort
    assert bad.group(1) != b"OK" and bad.group(1).startswith(b"+CME ERROR"), bad.consumed
    alive(m)
