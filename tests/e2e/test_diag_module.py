"""Module-side diagnostics (vendor extensions): HL AT+TMPROBE / AT+TMCERTLIST and,
when the SPWF dialect has them, AT+S.TMPROBE / AT+S.TMCERTLIST.

The probe runs from the modem (its --resolve, its store, its clock): against an
SNI-only nginx (the report says SNI is needed), an nginx sending the leaf only
(incomplete chain, and the verdict is the reason AT+KHTTPSGET gives), a TLS
1.3-only openssl s_server; the store listing after storing roots, a local
certificate and its key; a probe that fails at TCP level changes nothing.
"""
import re

import hl
from framework import timeout
from modem import FINAL_RE
from pki import Served
from servers import free_port

HOST = "www.coursera.test"
PAGE = b"<html><body>diag page</body></html>\n"


def std(t):
    return t.pki


def sni_nginx(t, cert, name=HOST):
    ng = t.nginx()
    ng.vhost([name], cert, files={"index.html": PAGE})
    return ng.start()


def probe(m, cmd, timeout=40):
    """Runs AT+TMPROBE; returns (AtResult, [report texts])."""
    r = m.at(cmd, timeout)
    return r, [l.decode("utf-8", "replace")[len("+TMPROBE: "):] for l in r.info("+TMPROBE: ")]


def find(lines, rx):
    for l in lines:
        if re.search(rx, l):
            return l
    raise AssertionError("no report line matches /%s/:\n%s" % (rx, "\n".join(lines)))


def certlist(m):
    r = m.at_ok("AT+TMCERTLIST")
    return [l.decode("utf-8", "replace") for l in r.info("+TMCERTLIST: ")]


# ---- HL AT+TMPROBE ------------------------------------------------------------------------------


@timeout(90)
def test_diag_hl_probe_sni_nginx(t):
    pki = std(t)
    ng = sni_nginx(t, pki.coursera)
    m = t.modem(resolve=["%s:%d:127.0.0.1" % (HOST, ng.port), "default.test:443:127.0.0.1"])
    hl.start(m, cmee=2)
    assert hl.store_cert(m, pki.root.bytes("pem")).ok
    r, rep = probe(m, 'AT+TMPROBE="%s",%d' % (HOST, ng.port))
    t.log("\n".join(rep))
    assert r.ok, r
    assert rep[0] == "probe %s:%d (127.0.0.1:%d)" % (HOST, ng.port, ng.port), rep
    find(rep, r"^trust: 1 stored certificate \(only these\); module clock 20\d\d-")
    find(rep, r"^TLS: TLSv1\.[23] TLS_\w+.*, SNI www\.coursera\.test$")
    find(rep, r"^chain: 2 certificates sent$")
    find(rep, r"^\[0\] leaf CN=www\.coursera\.test; issuer CN=Test Intermediate CA; RSA-2048; "
              r"sha256WithRSAEncryption; until 20\d\d-\d\d-\d\d \d\d:\d\d:\d\d UTC; DNS:www\.coursera\.test, DNS:coursera\.test$")
    find(rep, r"^\[1\] intermediate CN=Test Intermediate CA; issuer CN=Test Root CA; RSA-2048; ")
    find(rep, r"^server needs SNI: yes \(without SNI: .*alert 112")
    find(rep, r"^verdict: verified by root 'CN=Test Root CA' \(loaded")
    find(rep, r"^problem: the server needs SNI")
    # the port defaults to 443
    r = m.at('AT+TMPROBE="default.test"', 40)
    assert r.info("+TMPROBE: probe default.test:443 (127.0.0.1:443)"), r


@timeout(90)
def test_diag_hl_probe_incomplete_chain_same_reason_as_get(t):
    pki = std(t)
    leaf = pki.make_leaf(pki.inter, sans=["DNS:inc.test"], tag="cert-tool-incomplete")
    ng = sni_nginx(t, Served(t.pki, "leaf-only", leaf, []), name="inc.test")     # leaf only
    m = t.modem(resolve=["inc.test:%d:127.0.0.1" % ng.port])
    hl.start(m, cmee=2)
    assert hl.store_cert(m, pki.root.bytes("pem")).ok
    r, rep = probe(m, 'AT+TMPROBE="inc.test",%d' % ng.port)
    t.log("\n".join(rep))
    assert r.ok, r
    find(rep, r"^chain: 1 certificate sent$")
    find(rep, r"^\[0\] leaf CN=inc\.test; issuer CN=Test Intermediate CA; ")
    v = find(rep, r"^verdict: refused: the server sent an incomplete certificate chain: ")
    find(rep, r"^problem: incomplete chain: the issuer 'CN=Test Intermediate CA' of \[0\] 'CN=inc\.test' "
              r"was not sent and is not in the stored certificates")
    # the verdict is what the real connection says (+KHTTPS_ERROR third field at CMEE=2)
    sid, _ = hl.cfg(m, 1, "inc.test", ng.port, 1)
    _, code, third = hl.get_fails(m, sid, "/")
    assert code == 13, code
    assert third.strip('"') == v[len("verdict: refused: "):].replace('"', "'"), (third, v)


@timeout(90)
def test_diag_hl_probe_tls13_only_s_server(t):
    pki = std(t)
    s = t.s_server(pki.coursera, args=["-tls1_3"])
    m = t.modem(resolve=["%s:%d:127.0.0.1" % (HOST, s.port)])
    hl.start(m, cmee=2)
    assert hl.store_cert(m, pki.root.bytes("pem")).ok
    r, rep = probe(m, 'AT+TMPROBE="%s",%d' % (HOST, s.port))
    t.log("\n".join(rep))
    assert r.ok, r
    find(rep, r"^TLS: TLSv1\.3 TLS_\w+")
    find(rep, r"^server needs SNI: no")
    find(rep, r"^verdict: verified by root 'CN=Test Root CA'")
    # s_server's -cert_chain repeats the leaf: named as a duplicate
    find(rep, r"^problem: duplicate: \[1\] is the same certificate as \[0\]")


# ---- HL AT+TMCERTLIST -----------------------------------------------------------------------------


@timeout(90)
def test_diag_hl_certlist_summaries(t):
    pki = std(t)
    m = t.modem()
    hl.start(m, cmee=2)
    assert certlist(m) == []
    assert hl.store_cert(m, pki.root.bytes("der")).ok
    assert hl.store_cert(m, pki.coursera.bytes("chain"), index=3).ok          # leaf + intermediate
    c = pki.client_ec
    assert hl.store_cert(m, c.bytes("pem"), typ=1).ok
    assert hl.data_cmd(m, "AT+KPRIVKSTORE=0,%d" % len(c.bytes("key")), c.bytes("key"), end="count").ok
    lines = certlist(m)
    t.log("\n".join(lines))
    date = r"20\d\d-\d\d-\d\d \d\d:\d\d:\d\d UTC"
    want = [
        r'^\+TMCERTLIST: root_cert,0,1/1,"root CN=Test Root CA; issuer CN=Test Root CA; RSA-2048; '
        r'sha256WithRSAEncryption; until %s"$' % date,
        r'^\+TMCERTLIST: root_cert,3,1/2,"leaf CN=www\.coursera\.test; issuer CN=Test Intermediate CA; RSA-2048; '
        r'sha256WithRSAEncryption; until %s"$' % date,
        r'^\+TMCERTLIST: root_cert,3,2/2,"intermediate CN=Test Intermediate CA; issuer CN=Test Root CA; ',
        r'^\+TMCERTLIST: local_cert,0,1/1,"leaf CN=client-ec; issuer CN=Test Client CA; EC P-256; '
        r'ecdsa-with-SHA256; until %s"$' % date,
        r'^\+TMCERTLIST: privkey,0,"EC P-256"$',
    ]
    assert len(lines) == len(want), lines
    for l, rx in zip(lines, want):
        assert re.search(rx, l), "%r does not match /%s/" % (l, rx)
    # an RSA key in the traditional form is named too
    k = pki.coursera.key_rsa_pem
    with open(k, "rb") as f:
        key = f.read()
    assert hl.data_cmd(m, "AT+KPRIVKSTORE=1,%d" % len(key), key, end="count").ok
    assert certlist(m)[-1] == '+TMCERTLIST: privkey,1,"RSA-2048"', certlist(m)


# ---- a failing probe changes nothing -------------------------------------------------------------


@timeout(90)
def test_diag_hl_probe_failure_leaves_state(t):
    pki = std(t)
    ng = sni_nginx(t, pki.coursera)
    closed = free_port()
    m = t.modem(resolve=["%s:%d:127.0.0.1" % (HOST, ng.port), "down.test:%d:127.0.0.1" % closed])
    hl.start(m, cmee=1)
    assert hl.store_cert(m, pki.root.bytes("pem")).ok
    sid, _ = hl.cfg(m, 1, HOST, ng.port, 1)
    before_list = certlist(m)
    before_cfg = m.at_ok("AT+KHTTPSCFG?").text
    # refused at TCP level: +CME ERROR, the report's first lines came before it
    r = m.at('AT+TMPROBE="down.test",%d' % closed, 40)
    assert r.final == b"+CME ERROR: 100", r
    m.at_ok("AT+CMEE=2")
    r = m.at('AT+TMPROBE="down.test",%d' % closed, 40)
    assert r.final.startswith(b"+CME ERROR: the server refused the TCP connection: "), r
    assert r.info("+TMPROBE: probe down.test:%d (127.0.0.1:%d)" % (closed, closed)), r
    # bad arguments are refused before anything runs
    hl.cme(m, 'AT+TMPROBE="%s",0' % HOST, number=916)
    hl.cme(m, 'AT+TMPROBE="%s",443,1' % HOST, number=915)
    hl.cme(m, "AT+TMPROBE=", number=917)
    # nothing changed: store, sessions, and the session still works
    assert certlist(m) == before_list
    assert m.at_ok("AT+KHTTPSCFG?").text == before_cfg
    assert hl.get(m, sid, "/").endswith(PAGE)
    # and a probe that works after the failed ones
    m.at_ok("AT+CMEE=2")
    r, rep = probe(m, 'AT+TMPROBE="%s",%d' % (HOST, ng.port))
    assert r.ok and find(rep, r"^verdict: verified by root"), r


# ---- SPWF AT+S.TMPROBE / AT+S.TMCERTLIST -----------------------------------------------------------


def spwf_or_skip(t, **kw):
    from test_spwf_lib import cmd, spwf_modem
    m = spwf_modem(t, **kw)
    r = cmd(m, "AT+S.TMCERTLIST")
    if not r.ok and re.search(rb"(?i)unknown command", r.final):
        t.skip("the SPWF dialect has no AT+S.TMCERTLIST row yet")
    return m


@timeout(90)
def test_diag_spwf_probe_and_certlist(t):
    from test_spwf_lib import cmd, ok
    pki = std(t)
    ng = sni_nginx(t, pki.coursera)
    m = spwf_or_skip(t, resolve=["%s:%d:127.0.0.1" % (HOST, ng.port)])
    root = pki.root.bytes("der")
    r = ok(m, "AT+S.TLSCERT=ca,%d" % len(root), data=root)
    inter = pki.inter.bytes("pem")
    ok(m, "AT+S.FSC=/inter.ca,%d" % len(inter), data=inter)
    lines = [l.decode() for l in ok(m, "AT+S.TMCERTLIST").info("AT-S.TMCertList:")]
    t.log("\n".join(lines))
    assert len(lines) == 2, lines
    assert re.match(r"^AT-S\.TMCertList:tlscert:ca\.\w+:1/1:root CN=Test Root CA; issuer CN=Test Root CA; "
                    r"RSA-2048; sha256WithRSAEncryption; until 20\d\d-", lines[0]), lines
    assert re.match(r"^AT-S\.TMCertList:fs:inter\.ca:1/1:intermediate CN=Test Intermediate CA; "
                    r"issuer CN=Test Root CA; RSA-2048; ", lines[1]), lines
    r = cmd(m, "AT+S.TMPROBE=%s,%d" % (HOST, ng.port), timeout=40)
    rep = [l.decode()[len("AT-S.TMProbe:"):] for l in r.info("AT-S.TMProbe:")]
    t.log("\n".join(rep))
    assert r.ok, r
    assert rep[0] == "probe %s:%d (127.0.0.1:%d)" % (HOST, ng.port, ng.port), rep
    find(rep, r"^trust: 2 stored certificates \(only these\)")
    find(rep, r"^\[0\] leaf CN=www\.coursera\.test; issuer CN=Test Intermediate CA; ")
    find(rep, r"^server needs SNI: yes")
    find(rep, r"^verdict: verified by ")
    # unreachable: AT-S.ERROR, and the modem goes on
    r = cmd(m, "AT+S.TMPROBE=127.0.0.1,%d" % free_port(), timeout=40)
    assert r.final.startswith(b"AT-S.ERROR:61:"), r
    ok(m, "AT")
