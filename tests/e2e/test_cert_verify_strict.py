"""tlsmodem-cert verify decides like the handshake (docs/tls.md "tlsmodem-cert verify equals the
handshake").

- verify runs the modem's own TLS client against a scripted server, so every profile rule applies
  the same way: the reason verify prints is the third field of +KHTTPS_ERROR, byte for byte;
- a DSA leaf is refused by both (rule dsa-key), not VALID offline;
- an explicit --time is believed even before the clock plausibility floor (2024): a certificate
  expired at a 2022 time is "expired", not "clock not set"; the same for a module clock set by
  AT+CCLK that the host clock does not contradict.
"""
import datetime as _dt
import re

import hl
import test_tls_profile as prof
from framework import timeout
from test_cert_tool import run

UTC = _dt.timezone.utc


def old_pki(t):
    """A root valid 2019..2036 and a leaf valid 2021 only."""
    p = t.pki
    root = p.make_ca("TLS Old-Times Root", not_before=_dt.datetime(2019, 1, 1, tzinfo=UTC),
                     not_after=_dt.datetime(2036, 1, 1, tzinfo=UTC), tag="vs:old-root")
    leaf = p.make_leaf(root, sans=["DNS:old-times.tls.test"], tag="vs:old-leaf",
                       not_before=_dt.datetime(2021, 1, 1, tzinfo=UTC), not_after=_dt.datetime(2022, 1, 1, tzinfo=UTC))
    return root, leaf


@timeout(240)
def test_cert_verify_dsa_leaf_refused_like_the_handshake(t):
    p = t.pki
    leaf = p.make_leaf(p.inter, sans=["DNS:dsa.tls.test"], key="dsa:2048", tag="vs:dsa")
    out = run(t, "verify", leaf.chain, "--ca", p.root.pem, "--host", "dsa.tls.test", check_rc=1).stdout.decode()
    assert "NOT VALID: TM_E_CERT_WEAK_KEY (113)" in out, out
    assert re.search(r"depth 0 'CN=dsa\.tls\.test' has a DSA key; tlsmodem uses RSA, ECDSA and Ed25519 "
                     r"certificates only .*\(rule dsa-key, tlsmodem policy\)", out), out


@timeout(240)
def test_cert_verify_same_reason_as_the_handshake(t):
    ng = prof.prof_nginx(t)
    P = prof.ppki(t)
    m = prof.modem(t, ng, [n for n, _, _ in P.refused])
    assert hl.store_cert(m, P.root.bytes("pem"), typ=0).ok
    for name, cert, _ in P.refused[:3]:
        sid, _ = hl.cfg(m, 1, prof.H(name), ng.port, 2)
        s, code, why = hl.get_fails(m, sid, "/")
        m.at_ok("AT+KHTTPSDEL=%d" % sid)
        out = run(t, "verify", cert.chain, "--ca", P.root.pem, "--host", prof.H(name), check_rc=1).stdout.decode()
        line = [l for l in out.splitlines() if l.startswith("NOT VALID: ")]
        assert line, out
        text = re.sub(r"^NOT VALID: \S+ \(\d+\): ", "", line[0])
        assert '"%s"' % text == why, (text, why)


@timeout(240)
def test_cert_verify_explicit_time_before_the_floor_says_expired(t):
    root, leaf = old_pki(t)
    out = run(t, "verify", leaf.pem, "--ca", root.pem, "--host", "old-times.tls.test", "--time",
              "2022-06-01T00:00:00Z", check_rc=1).stdout.decode()
    assert "NOT VALID: TM_E_CERT_EXPIRED (109)" in out, out
    assert "depth 0 'CN=old-times.tls.test' expired on 2022-01-01 00:00:00 UTC (notAfter); the time given is " \
           "2022-06-01 00:00:00 UTC" in out, out
    out = run(t, "verify", leaf.pem, "--ca", root.pem, "--host", "old-times.tls.test", "--time",
              "2021-06-01", check_rc=0).stdout.decode()
    assert "VALID: verified by root 'CN=TLS Old-Times Root' (loaded" in out, out


@timeout(240)
def test_tls_module_clock_set_to_2022_says_expired(t):
    root, leaf = old_pki(t)
    s = t.s_server(leaf, mode="-www")
    m = t.modem(resolve=["old-times.tls.test:%d:127.0.0.1" % s.port])
    m.at_ok("ATE0")
    m.at_ok("AT+CMEE=2")
    m.at_ok('AT+CCLK="22/06/01,00:00:00+00"')
    m.at_ok('AT+KCNXCFG=1,"GPRS","MYAPN"')
    assert hl.store_cert(m, root.bytes("pem"), typ=0).ok
    sid, _ = hl.cfg(m, 1, "old-times.tls.test", s.port, 2)
    _, code, why = hl.get_fails(m, sid, "/")
    t.log("AT+CCLK 2022, leaf expired 2022-01-01: %d %s" % (code, why))
    assert code == 13, why
    assert "a certificate has expired: depth 0 'CN=old-times.tls.test' expired on 2022-01-01 00:00:00 UTC " \
           "(notAfter); module clock is 2022-06-01 00:00:00 UTC" in why, why
