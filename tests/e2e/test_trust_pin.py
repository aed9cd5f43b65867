"""AT+TMPIN is enforced always (issue 10, item 6).

- sec_level 0 ("encrypt only") sessions check the pin too (HTTPS and KTCP mode 3): a wrong
  pin refuses the connection (13, both hashes, no request sent); the right one is accepted
  and the trace says "NOT VERIFIED (encrypt only), SPKI pin matches";
- a kept-alive HTTPS connection is re-checked at every request: a pin set or changed after
  the connection was verified closes it, and the request is made on a new connection
  verified with the pin as it is now (a wrong pin: refused, nothing sent);
- a TCP session's pin cannot change while it is connected, nor be set on a plain TCP session.
"""
import re

import hl
import test_tls_cases as cases
import test_tls_trust as tt
from framework import timeout
from test_hl_tcp import IND_RE, NOTIF_RE, cfg as tcp_cfg, peer

H = cases.H


def conns_of(ng, host, start):
    log = [l for l in ng.access_log()[start:] if 'sni="%s"' % host in l]
    return [re.search(r"conn=(\d+)", l).group(1) for l in log]


@timeout(240)
def test_trust_pin_enforced_at_sec_level_0_https(t):
    ng = tt.trust_nginx(t)
    c = cases.cpki(t)
    m = tt.modem(t, ng, ["pin"])
    host = H("pin")
    right, wrong = tt.spki_sha256(c.generic), tt.spki_sha256(c.root)
    # only a foreign root is loaded: sec_level 0 without a pin connects (nothing is checked)
    assert hl.store_cert(m, c.p.wrong_root.bytes("pem"), typ=0).ok
    s0, _ = hl.cfg(m, 1, host, ng.port, 0)
    assert hl.get(m, s0, "/") == tt.page("pin")
    # sec_level 0 with a wrong pin: refused, with both hashes, no request sent
    s1, _ = hl.cfg(m, 1, host, ng.port, 0)
    m.at_ok('AT+TMPIN=%d,"%s"' % (s1, wrong.hex()))
    start = len(ng.access_log())
    s, code, why = hl.get_fails(m, s1, "/")
    t.log("sec_level 0, wrong pin: +KHTTPS_ERROR: %d,%d,\"%s\"" % (s, code, why))
    assert (s, code) == (s1, 13), why
    assert "the server key does not match the pinned key" in why and "(hex %s)" % right.hex() in why, why
    assert "encrypt only" in why, why
    assert not conns_of(ng, host, start), "no request may be sent over a refused connection"
    # KHTTPSCNX: the same refusal as a URC
    r = m.at("AT+KHTTPSCNX=%d" % s1)
    assert r.ok, r.text
    u = m.expect(hl.ERR_URC_RE, 15)
    assert (int(u.group(1)), int(u.group(2))) == (s1, 13), u.match
    # the right pin: accepted, and said so
    m.at_ok('AT+TMPIN=%d,"%s"' % (s1, right.hex()))
    assert hl.get(m, s1, "/") == tt.page("pin")
    assert "NOT VERIFIED (encrypt only), SPKI pin matches" in m.trace_text(), m.trace_text()[-2000:]


@timeout(240)
def test_trust_pin_rechecked_on_kept_alive_connection(t):
    ng = tt.trust_nginx(t)
    c = cases.cpki(t)
    m = tt.modem(t, ng, ["keep-alive"])
    host = H("keep-alive")
    assert hl.store_cert(m, c.root.bytes("pem"), typ=0).ok
    right, wrong = tt.spki_sha256(c.keepalive), tt.spki_sha256(c.root)
    sid, _ = hl.cfg(m, 1, host, ng.port, 1)
    start = len(ng.access_log())
    assert hl.get(m, sid, "/") == tt.page("keep-alive")          # connection A, no pin
    # a wrong pin set on the kept-alive session: the next request is refused
    m.at_ok('AT+TMPIN=%d,"%s"' % (sid, wrong.hex()))
    s, code, why = hl.get_fails(m, sid, "/")
    t.log("kept-alive connection, pin changed to a wrong one: +KHTTPS_ERROR: %d,%d,\"%s\"" % (s, code, why))
    assert (s, code) == (sid, 13) and "does not match the pinned key" in why, why
    conns = tt.cases.wait_log(ng, start, lambda l: 'sni="%s"' % host in l, 1)
    assert len(conns_of(ng, host, start)) == 1, "the refused request must not reach the server: %s" % conns
    # the right pin: a new connection, verified with it; then kept alive while the pin stays
    m.at_ok('AT+TMPIN=%d,"%s"' % (sid, right.hex()))
    assert hl.get(m, sid, "/") == tt.page("keep-alive")          # connection B
    assert hl.get(m, sid, "/") == tt.page("keep-alive")          # B again
    # same pin written again in another form: no reconnect needed
    m.at_ok('AT+TMPIN=%d,"%s"' % (sid, ":".join("%02X" % b for b in right)))
    assert hl.get(m, sid, "/") == tt.page("keep-alive")          # B again
    cases.wait_log(ng, start, lambda l: 'sni="%s"' % host in l, 4)
    conns = conns_of(ng, host, start)
    assert len(conns) == 4 and conns[0] != conns[1] and conns[1] == conns[2] == conns[3], conns
    tr = m.trace_text()
    assert "the SPKI pin changed since the kept-alive connection was verified" in tr, tr[-3000:]
    assert "SPKI pin matches" in tr


@timeout(240)
def test_trust_pin_tcp_sec0_and_no_change_while_connected(t):
    p = peer(t, "echo", cert=t.pki.coursera)
    m = t.modem(resolve=["www.coursera.test:%d:127.0.0.1" % p.port])
    hl.start(m, cmee=2)
    right, wrong = tt.spki_sha256(t.pki.coursera), tt.spki_sha256(t.pki.root)
    # mode 3, sec_level 0, nothing loaded, wrong pin: refused (13)
    sid = tcp_cfg(m, '1,3,"www.coursera.test",%d,,,,,0' % p.port)
    m.at_ok('AT+TMPIN=%d,"%s"' % (sid, wrong.hex()))
    conns = p.conns
    m.at_ok("AT+KTCPCNX=%d" % sid)
    u = m.expect(NOTIF_RE, 15)
    t.log("KTCP sec_level 0, wrong pin: %s" % u.match.strip().decode())
    assert (int(u.group(1)), int(u.group(2))) == (sid, 13), u.match
    assert b"does not match the pinned key" in (u.group(3) or b""), u.match
    # the right pin: connected
    m.at_ok('AT+TMPIN=%d,"%s"' % (sid, right.hex()))
    m.at_ok("AT+KTCPCNX=%d" % sid)
    m.expect(IND_RE, 15)
    assert p.conns > conns
    # connected: the pin cannot change under the connection
    for arg in ('"%s"' % wrong.hex(), '""'):
        r = m.at('AT+TMPIN=%d,%s' % (sid, arg))
        assert r.final.startswith(b"+CME ERROR: ") and b"AT+KTCPCLOSE=%d" % sid in r.final, r.text
    r = m.at_ok("AT+TMPIN?")
    assert r.info("+TMPIN:") == [b'+TMPIN: %d,"%s"' % (sid, right.hex().encode())], r.text
    m.at_ok("AT+KTCPCLOSE=%d" % sid)
    m.at_ok('AT+TMPIN=%d,"%s"' % (sid, wrong.hex()))
    # a plain TCP session cannot carry a pin (nothing could check it)
    plain = tcp_cfg(m, '1,0,"www.coursera.test",%d' % p.port)
    r = m.at('AT+TMPIN=%d,"%s"' % (plain, right.hex()))
    assert r.final.startswith(b"+CME ERROR: ") and b"needs TLS" in r.final, r.text
