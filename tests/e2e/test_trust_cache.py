"""Trust that tlsmodem keeps between requests follows every store write (issue 12).

The HL dialect keeps the certificates it read from the store while the store is unchanged
(a generation counter bumped by every write), and the TLS backend keeps one context per
distinct trust configuration.  Both are caches: each request here first runs with a store
that gives the other answer, so a stale cache, rather than the store, would decide it.
"""
import hl
from framework import timeout

HOST = "www.coursera.test"
PAGE = b"cached trust\n"


def server(t):
    ng = t.nginx()
    ng.vhost([HOST], t.pki.coursera, files={"index.html": PAGE})
    return ng.start()


@timeout(120)
def test_trust_cache_follows_store_writes_hl(t):
    ng = server(t)
    m = t.modem(resolve=["%s:%d:127.0.0.1" % (HOST, ng.port)], ca_bundle="none")
    hl.start(m, cmee=2)
    sid, _ = hl.cfg(m, 1, HOST, ng.port, 1)
    # a wrong root only: refused
    assert hl.store_cert(m, t.pki.wrong_root.bytes("pem"), typ=0, index=0).ok
    s, code, why = hl.get_fails(m, sid, "/")
    t.log("refused: %d,%d,%s" % (s, code, why))
    assert code == 13 and "('CN=Wrong Root CA')" in why, why
    # the right root stored in the same slot: accepted (the same request again, twice:
    # the second one is served by the cached certificates and context)
    assert hl.store_cert(m, t.pki.root.bytes("pem"), typ=0, index=0).ok
    assert hl.get(m, sid, "/") == PAGE
    m.at_ok("AT+KHTTPSCLOSE=%d" % sid)
    assert hl.get(m, sid, "/") == PAGE
    m.at_ok("AT+KHTTPSCLOSE=%d" % sid)
    # the root deleted: nothing is trusted any more (no bundle)
    m.at_ok("AT+KCERTDELETE=0,0")
    s, code, why = hl.get_fails(m, sid, "/")
    t.log("refused: %d,%d,%s" % (s, code, why))
    assert code == 13 and "nothing is loaded and there is no CA bundle" in why, why
    # stored again: accepted again
    assert hl.store_cert(m, t.pki.root.bytes("pem"), typ=0, index=0).ok
    assert hl.get(m, sid, "/") == PAGE
    m.close()
