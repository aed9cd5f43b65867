"""Stored trust that cannot be read must not widen trust (issue 10, items 5 and 10).

A root slot (HL hl/root_ca.<n>) or a TLSCERT CA (SPWF spwf/tls/ca.<ski>) that is empty,
truncated or garbage used to be skipped: with nothing else loaded, the --ca-bundle then
decided, and a server of another CA was accepted.  Now the connection is refused with the
dialect's code and a reason naming the slot and the command that repairs it; no request
reaches the server.  The empty file also used to be undefined behaviour (memcpy into a NULL
buffer, caught by the UBSan build of `make asan`).

Every case runs with a --ca-bundle that holds the server's root, so a fallback would pass.
"""
import os
import re

import hl
from framework import timeout
from test_hl_tcp import NOTIF_RE, cfg as tcp_cfg, peer
from test_spwf_lib import cmd, spwf_modem

HOST = "www.coursera.test"
PAGE = b"stored trust\n"


def corruptions(t):
    """(label, bytes) of unusable stored roots."""
    der = t.pki.wrong_root.bytes("der")
    pem = t.pki.wrong_root.bytes("pem")
    return [
        ("empty", b""),
        ("garbage", b"this is not a certificate\r\n" * 3),
        ("truncated DER", der[:len(der) // 2]),
        ("truncated PEM", pem[:len(pem) // 2]),
        ("DER plus trailing junk", der + b"\x00\x01junk"),
    ]


def server(t):
    ng = t.nginx()
    ng.vhost([HOST], t.pki.coursera, files={"index.html": PAGE})
    return ng.start()


def bundle(t):
    """A CA bundle that trusts the server: what a fallback would use."""
    return t.pki.file("trust-stored-bundle.pem", t.pki.root.bytes("pem"))


def requests_seen(ng):
    return [l for l in ng.access_log() if "GET /" in l]


# ---- HL ----------------------------------------------------------------------------------------


def hl_modem(t, ng, store):
    m = t.modem(resolve=["%s:%d:127.0.0.1" % (HOST, ng.port)], ca_bundle=bundle(t), store=store)
    hl.start(m, cmee=2)
    return m


@timeout(120)
def test_trust_hl_unreadable_root_refuses_khttps(t):
    ng = server(t)
    # the bundle alone is enough: the page is served (the test can fail)
    m = hl_modem(t, ng, t.path("hl-ok-store"))
    sid, _ = hl.cfg(m, 1, HOST, ng.port, 1)
    assert hl.get(m, sid, "/") == PAGE
    m.close()
    for i, (label, data) in enumerate(corruptions(t)):
        store = t.path("hl-store-%d" % i)
        os.makedirs(os.path.join(store, "hl"), exist_ok=True)
        with open(os.path.join(store, "hl", "root_ca.0"), "wb") as f:
            f.write(data)
        before = len(requests_seen(ng))
        m = hl_modem(t, ng, store)
        sid, _ = hl.cfg(m, 1, HOST, ng.port, 1)
        s, code, why = hl.get_fails(m, sid, "/")
        t.log("%s root_ca.0: +KHTTPS_ERROR: %d,%d,\"%s\"" % (label, s, code, why))
        assert (s, code) == (sid, 14), (label, s, code, why)
        assert "stored root certificate 0 (hl/root_ca.0" in why, (label, why)
        assert "AT+KCERTDELETE=0,0" in why and "AT+KCERTSTORE=0" in why, (label, why)
        if label == "empty":
            assert "0 bytes): it is empty" in why, why
        # KHTTPSCNX refuses the same way, at once
        r = m.at("AT+KHTTPSCNX=%d" % sid)
        assert r.final.startswith(b"+CME ERROR: ") and b"hl/root_ca.0" in r.final, (label, r.text)
        assert len(requests_seen(ng)) == before, "no request may reach the server (%s)" % label
        # the repair the reason names works
        m.at_ok("AT+KCERTDELETE=0,0")
        assert hl.store_cert(m, t.pki.root.bytes("pem"), typ=0).ok
        assert hl.get(m, sid, "/") == PAGE, label
        m.close()


@timeout(120)
def test_trust_hl_unreadable_root_refuses_ktcp_tls(t):
    p = peer(t, "echo", cert=t.pki.coursera)
    store = t.path("hl-tcp-store")
    os.makedirs(os.path.join(store, "hl"), exist_ok=True)
    m = t.modem(resolve=["%s:%d:127.0.0.1" % (HOST, p.port)], ca_bundle=bundle(t), store=store)
    hl.start(m, cmee=2)
    # nothing stored: the bundle trusts the peer (the test can fail)
    sid = tcp_cfg(m, '1,3,"%s",%d' % (HOST, p.port))
    m.at_ok("AT+KTCPCNX=%d" % sid)
    m.expect(re.compile(rb"\r\n\+KTCP_IND: %d,1\r\n" % sid), 15)
    m.at_ok("AT+KTCPCLOSE=%d" % sid)
    m.close()
    # the store belongs to the running modem (it reads it again only after its own writes), so
    # damage is what a power loss leaves on disk: found at the next start
    for label, data in corruptions(t):
        with open(os.path.join(store, "hl", "root_ca.2"), "wb") as f:
            f.write(data)
        m = t.modem(resolve=["%s:%d:127.0.0.1" % (HOST, p.port)], ca_bundle=bundle(t), store=store)
        hl.start(m, cmee=2)
        sid = tcp_cfg(m, '1,3,"%s",%d' % (HOST, p.port))
        conns = p.conns
        m.at_ok("AT+KTCPCNX=%d" % sid)
        u = m.expect(NOTIF_RE, 15)
        why = (u.group(3) or b"").decode()
        t.log("%s root_ca.2: %s" % (label, u.match.strip().decode()))
        assert (int(u.group(1)), int(u.group(2))) == (sid, 14), (label, u.match)
        assert "stored root certificate 2 (hl/root_ca.2" in why and "AT+KCERTDELETE=0,2" in why, why
        assert p.conns == conns, "no connection may be made (%s)" % label
        m.close()


@timeout(60)
def test_trust_hl_unreadable_client_key_refuses_sec2(t):
    ng = server(t)
    store = t.path("hl-key-store")
    m = hl_modem(t, ng, store)
    assert hl.store_cert(m, t.pki.root.bytes("pem"), typ=0).ok
    assert hl.store_cert(m, t.pki.coursera.bytes("pem"), typ=1).ok
    with open(os.path.join(store, "hl", "privkey.0"), "wb") as f:
        f.write(b"")
    sid, _ = hl.cfg(m, 1, HOST, ng.port, 2)
    s, code, why = hl.get_fails(m, sid, "/")
    assert (s, code) == (sid, 14), why
    assert "stored private key 0 (hl/privkey.0" in why and "AT+KPRIVKSTORE=0" in why, why


# ---- SPWF --------------------------------------------------------------------------------------


@timeout(120)
def test_trust_spwf_unreadable_tlscert_ca_refuses(t):
    ng = server(t)
    for i, (label, data) in enumerate(corruptions(t)):
        store = t.path("spwf-store-%d" % i)
        os.makedirs(os.path.join(store, "spwf"), exist_ok=True)
        # how TLSCERT=ca stores a CA: spwf/tls/ca.<ski> ('/' escaped in the file name)
        with open(os.path.join(store, "spwf", "tls%2Fca.0123abcd"), "wb") as f:
            f.write(data)
        m = spwf_modem(t, resolve=["%s:%d:127.0.0.1" % (HOST, ng.port)], ca_bundle=bundle(t), store=store)
        r = cmd(m, "AT+S.SOCKON=%s,%d,,s" % (HOST, ng.port))
        t.log("%s ca item: %s" % (label, r.final.decode()))
        assert r.final.startswith(b"AT-S.ERROR:40:"), (label, r.text)
        assert b"item ca.0123abcd" in r.final and b"AT+S.TLSCERT=content,2" in r.final, r.final
        r = cmd(m, "AT+S.HTTPGET=%s,/,%d,2,,,," % (HOST, ng.port))
        assert r.final.startswith(b"AT-S.ERROR:40:") and b"item ca.0123abcd" in r.final, (label, r.text)
        assert not requests_seen(ng), "no request may reach the server (%s)" % label
        # the repair the reason names works
        r = cmd(m, "AT+S.TLSCERT=content,2")
        assert r.ok, r.text
        r = cmd(m, "AT+S.SOCKON=%s,%d,,s" % (HOST, ng.port))
        assert r.ok, (label, r.text)       # the bundle again: nothing is stored any more
        m.close()
