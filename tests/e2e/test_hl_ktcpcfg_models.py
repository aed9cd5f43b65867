"""AT+KTCPCFG argument lists per model (--model): a command written for one
module never lowers verification on another.

The Zephyr hl78xx driver sends AT+KTCPCFG=1,3,"<host>",<port>,,,,<af>,0,0:
its 8th argument is the address family (0 = IPv4).  tlsmodem once read
position 8 as <sec_level>, so that command connected without verifying the
server.  Regression tests: the wrong host fails verification (+KTCP_NOTIF 13)
with the HL78 form on --model hl7800, the 8-argument form on the default
HL8548 (its 8th argument is <cipher_suite>), and the 10-argument form is
refused on the HL8548 with a reason naming --model."""
import re

import hl
from framework import quick, timeout
from test_hl_tcp import CFG_RE, IND_RE, NOTIF_RE, peer, rcv_all, snd, stat


def _modem(t, p, model=None):
    extra = ("--model", model) if model else ()
    m = t.modem(resolve=["www.coursera.test:%d:127.0.0.1" % p.port, "wrong.test:%d:127.0.0.1" % p.port],
                extra_args=extra)
    hl.start(m, cmee=2)
    r = hl.store_cert(m, t.pki.root.bytes("pem"), 0)
    assert r.ok, r.text
    return m


def _cfg(m, args):
    r = m.at("AT+KTCPCFG=" + args)
    assert r.ok, "AT+KTCPCFG=%s -> %r" % (args, r.text)
    return int(CFG_RE.search(r.text).group(1))


def _connect_fails_13(m, sid):
    r = m.at("AT+KTCPCNX=%d" % sid)
    assert r.ok and b"not be verified" not in r.text, r.text
    u = m.expect(NOTIF_RE, 15)
    assert u.group(1) == b"%d" % sid and u.group(2) == b"13", u.match
    assert b"wrong.test" in (u.group(3) or b""), "the reason should name the host: %r" % u.match
    assert "NOT VERIFIED" not in m.trace_text()


@quick
@timeout(60)
def test_zephyr_ktcpcfg_form_verifies_on_hl7800(t):
    p = peer(t, "echo", cert=t.pki.coursera)
    m = _modem(t, p, "hl7800")
    sid = _cfg(m, '1,3,"wrong.test",%d,,,,0,0,0' % p.port)      # Zephyr hl78xx, IPv4
    _connect_fails_13(m, sid)
    assert stat(m, sid)[:2] == (5, 13)
    # the same form with the right name connects, verified, and moves data
    sid2 = _cfg(m, '1,3,"www.coursera.test",%d,,,,0,0,0' % p.port)
    assert m.at_ok("AT+KTCPCNX=%d" % sid2)
    m.expect(IND_RE, 15)
    snd(m, sid2, b"zephyr form")
    assert rcv_all(m, sid2, 11) == b"zephyr form"
    assert "verified by root" in m.trace_text()
    r = m.at_ok("AT+KTCPCFG?")
    assert r.info('+KTCPCFG: %d,3,1,3,"www.coursera.test",%d,0,0,0,0,0' % (sid2, p.port)), r.text


@quick
@timeout(60)
def test_eight_argument_form_verifies_on_hl8548(t):
    """The brief's example: AT+KTCPCFG=1,3,"wrong.host",port,,,,0 on the default model."""
    p = peer(t, "echo", cert=t.pki.coursera)
    m = _modem(t, p)
    sid = _cfg(m, '1,3,"wrong.test",%d,,,,0' % p.port)
    _connect_fails_13(m, sid)
    r = m.at_ok("AT+KTCPCFG?")
    assert r.info('+KTCPCFG: %d,5,1,3,"wrong.test",%d,0,0,0,0,1' % (sid, p.port)), r.text


@quick
def test_hl78_list_refused_on_hl8548_and_too_many_on_hl7800(t):
    p = peer(t, "echo", cert=t.pki.coursera)
    m = _modem(t, p)
    hl.cme(m, 'AT+KTCPCFG=1,3,"wrong.test",%d,,,,0,0,0' % p.port, 915, [r"HL8548", r"--model hl7800"])
    # 9 arguments "…,0,0" = HL78 <af>=0,<cipher_suite_index>=0: never read as sec_level 0
    hl.cme(m, 'AT+KTCPCFG=1,3,"wrong.test",%d,,,,0,0' % p.port, 916, [r"sec_level 0", r"leave cipher_suite empty"])
    assert m.at_ok("AT+KTCPCFG?").lines == []        # nothing was created
    m7 = _modem(t, p, "hl7800")
    hl.cme(m7, 'AT+KTCPCFG=1,3,"wrong.test",%d,,,,0,0,0,1' % p.port, 915, r"at most 10")
    hl.cme(m7, 'AT+KTCPCFG=1,3,"wrong.test",%d,,,,2' % p.port, 916, r"\baf\b")
    hl.cme(m7, 'AT+KTCPCFG=1,3,"wrong.test",%d,,,,0,8' % p.port, 916, r"cipher_suite_index")
    assert m7.at_ok("AT+KTCPCFG?").lines == []


@timeout(60)
def test_ksslcrypto_profile_gives_the_verification(t):
    """HL78: the session's profile decides.  Zephyr's profile (auth 3) verifies;
    auth 2 (client only) is refused and leaves the profile unchanged; auth 0
    is an announced encrypt-only session."""
    p = peer(t, "echo", cert=t.pki.coursera)
    m = _modem(t, p, "hl7800")
    m.at_ok("AT+KSSLCRYPTO=0,8,1,8192,4,4,3,0")
    hl.cme(m, "AT+KSSLCRYPTO=1,8,1,8192,4,4,2,0", 4, r"auth_mode 2")
    hl.cme(m, "AT+KSSLCRYPTO=1,8,1,16,4,4,1,0", 4, r"CCM")
    hl.cme(m, "AT+KSSLCRYPTO=1,8,1,8192,4,3,1,0", 4, r"TLS 1\.2")
    r = m.at_ok("AT+KSSLCRYPTO?")
    assert b"+KSSLCRYPTO: 0,8,1,8192,4,4,3,0" in r.text, r.text
    assert b"+KSSLCRYPTO: 1,8,3,25392,12,4,1,0" in r.text, r.text
    sid = _cfg(m, '1,3,"wrong.test",%d,,,,0,0,0' % p.port)
    _connect_fails_13(m, sid)
    m.at_ok("AT+KSSLCRYPTO=2,8,1,8192,4,4,0")
    sid0 = _cfg(m, '1,3,"wrong.test",%d,,,,0,2,0' % p.port)
    r = m.at("AT+KTCPCNX=%d" % sid0)
    assert r.ok and b"+TMWARN" in r.text and b"not be verified" in r.text, r.text
    m.expect(IND_RE, 15)
    # the HL8548 has no KSSLCRYPTO
    m8 = t.modem()
    hl.start(m8)
    hl.cme(m8, "AT+KSSLCRYPTO=0,8,1,8192,4,4,3,0", 4, r"HL78xx command")
