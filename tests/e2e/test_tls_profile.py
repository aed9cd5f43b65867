"""The strict certificate profile (src/tls/profile.c), end to end through the HL dialect.

A representative subset of the rules, each with a certificate made by the test PKI with
the offending extension (the unit test tests/unit/test_policy.c has one row per rule):
refused at AT+CMEE=2 with +KHTTPS_ERROR: <id>,13 and a reason naming the certificate and
the rule.  Then the private-CA vs Web PKI decision, both sides: the same certificates are
refused when the trust is the default CA bundle (--ca-bundle) and accepted when the host
loaded the root (AT+KCERTSTORE).

One nginx (one vhost per case, chosen by SNI), started once per run.
"""
import os
import re

import hl
import servers as _servers
import test_tls_cases as cases
from framework import timeout

H = cases.H
_NG = {}
_PKI = {}


def ppki(t):
    """The profile cases' certificates, on the run's PKI."""
    if "c" in _PKI:
        return _PKI["c"]
    c = cases.cpki(t)
    p, root, inter = c.p, c.root, c.inter

    def leaf(name, issuer=inter, **kw):
        kw.setdefault("sans", ["DNS:" + H(name)])
        kw.setdefault("tag", "prof:" + name)
        return p.make_leaf(issuer, **kw)

    class P:
        pass
    P.root, P.inter = root, inter
    # refused under a loaded private root (RFC 5280 rules apply to every chain)
    P.refused = [
        ("prof-aki-missing", leaf("prof-aki-missing", extra_ext=["authorityKeyIdentifier = none"]),
         [r"depth 0 'CN=prof-aki-missing\.tls\.test' has no authorityKeyIdentifier \(keyIdentifier\); "
          r"every certificate except a self-signed root must identify its issuer's key "
          r"\(rule aki-missing, RFC 5280 4\.2\.1\.1\)"]),
        ("prof-keycertsign-leaf", leaf("prof-keycertsign-leaf",
                                       extra_ext=["keyUsage = critical,digitalSignature,keyCertSign"]),
         [r"depth 0 'CN=prof-keycertsign-leaf\.tls\.test' asserts keyUsage keyCertSign but is not a CA "
          r".*\(rule keycertsign-non-ca, RFC 5280 4\.2\.1\.3\)"]),
        ("prof-nc-leaf", leaf("prof-nc-leaf", extra_ext=["nameConstraints = critical,permitted;DNS:tls.test"]),
         [r"depth 0 'CN=prof-nc-leaf\.tls\.test' has nameConstraints but is not a CA.*"
          r"\(rule name-constraints-in-leaf, RFC 5280 4\.2\.1\.10\)"]),
        ("prof-san-dot", leaf("prof-san-dot", sans=["DNS:" + H("prof-san-dot"), "DNS:.tls.test"]),
         [r"depth 0 'CN=prof-san-dot\.tls\.test' has subjectAltName DNS:\.tls\.test, which is not a valid "
          r"DNS name .*\(rule san-dns-syntax, RFC 5280 4\.2\.1\.6\)"]),
        ("prof-aia-critical", leaf("prof-aia-critical",
                                   extra_ext=["authorityInfoAccess = critical,caIssuers;URI:http://ca.tls.test/i.der"]),
         [r"depth 0 'CN=prof-aia-critical\.tls\.test' has a malformed extension: Authority Information "
          r"Access is critical; it must be non-critical \(rule malformed-extension, RFC 5280 4\.2\)"]),
        ("prof-bc-not-critical", leaf("prof-bc-not-critical", p.make_intermediate(
            "TLS Profile BC Not Critical CA", root, tag="prof:bc-int", extra_ext=["basicConstraints = CA:TRUE"])),
         [r"depth 1 'CN=TLS Profile BC Not Critical CA' is a CA certificate whose basicConstraints is not "
          r"critical \(rule ca-basic-constraints-not-critical, RFC 5280 4\.2\.1\.9\)"]),
    ]
    # a private root whose AKI carries issuer+serial: loaded itself, so a separate trust
    P.aki_root = p.make_ca("TLS Profile AKI Issuer Root", tag="prof:aki-root",
                           extra_ext=["authorityKeyIdentifier = keyid:always,issuer:always"])
    P.aki_root_leaf = leaf("prof-root-aki", P.aki_root)
    # Web PKI vs private CA
    P.eku_root = p.make_ca("TLS Profile EKU Root", tag="prof:eku-root", extra_ext=["extendedKeyUsage = serverAuth"])
    P.web = [
        ("prof-no-eku", leaf("prof-no-eku", eku=None), root, 13,
         r"depth 0 'CN=prof-no-eku\.tls\.test' has no extendedKeyUsage; a Web PKI server certificate must list "
         r"serverAuth \(rule web-pki-leaf-eku, CA/Browser Forum BR 7\.1\.2\.7\)"),
        ("prof-any-eku", leaf("prof-any-eku", eku="anyExtendedKeyUsage"), root, 13,
         r"depth 0 'CN=prof-any-eku\.tls\.test' has extendedKeyUsage anyExtendedKeyUsage without serverAuth; "
         r"the Web PKI requires serverAuth \(rule web-pki-leaf-eku"),
        ("prof-root-eku", leaf("prof-root-eku", p.make_intermediate("TLS Profile Under EKU Root", P.eku_root,
                                                                    tag="prof:eku-int")), P.eku_root, 13,
         r"depth 2 'CN=TLS Profile EKU Root' is a root with an extendedKeyUsage; Web PKI roots carry none "
         r"\(rule web-pki-root-eku, CA/Browser Forum BR 7\.1\.2\.1\)"),
    ]
    _PKI["c"] = P
    return P


def prof_nginx(t):
    ng = _NG.get("ng")
    if ng and ng.proc and ng.proc.alive():
        return ng
    P = ppki(t)
    d = os.path.join(t.session.dir, "tls-profile-nginx")
    os.makedirs(d, exist_ok=True)
    ng = _servers.Nginx(d)
    certs = [(n, cert) for n, cert, _ in P.refused] + [("prof-root-aki", P.aki_root_leaf)] + \
            [(n, cert) for n, cert, _, _, _ in P.web]
    for name, cert in certs:
        ng.vhost(H(name), cert, files={"index.html": cases.PAGE + name.encode() + b"\n"})
    ng.start()
    _NG["ng"] = ng
    return ng


def modem(t, ng, names, **kw):
    m = t.modem(resolve=["%s:%d:127.0.0.1" % (H(n), ng.port) for n in names], **kw)
    m.at_ok("ATE0")
    m.at_ok("AT+CMEE=2")
    m.at_ok('AT+CCLK="%s"' % hl.clock_now())
    m.at_ok('AT+KCNXCFG=1,"GPRS","MYAPN"')
    return m


def refused(t, m, ng, name, rx):
    sid, _ = hl.cfg(m, 1, H(name), ng.port, 2)
    s, code, why = hl.get_fails(m, sid, "/")
    t.log("%s: +KHTTPS_ERROR: %d,%d,\"%s\"" % (name, s, code, why))
    assert (s, code) == (sid, 13), (s, code, why)
    assert re.search(rx, why), "reason %r does not match /%s/" % (why, rx)
    m.at_ok("AT+KHTTPSDEL=%d" % sid)


@timeout(240)
def test_tls_profile_rfc5280_rules_refuse_under_a_loaded_root(t):
    ng = prof_nginx(t)
    P = ppki(t)
    m = modem(t, ng, [n for n, _, _ in P.refused] + ["prof-root-aki"])
    assert hl.store_cert(m, P.root.bytes("pem"), typ=0).ok
    for name, _, rxs in P.refused:
        for rx in rxs:
            refused(t, m, ng, name, rx)
    # the root's own structure counts too when the host loaded it
    m.at_ok("AT+KCERTDELETE=0,0")
    assert hl.store_cert(m, P.aki_root.bytes("pem"), typ=0).ok
    refused(t, m, ng, "prof-root-aki",
            r"depth 1 'CN=TLS Profile AKI Issuer Root' is a root whose authorityKeyIdentifier carries "
            r"authorityCertIssuer/authorityCertSerialNumber; .*\(rule root-aki, RFC 5280 4\.2\.1\.1\)")


@timeout(240)
def test_tls_profile_web_pki_eku_rules_only_for_the_ca_bundle(t):
    ng = prof_nginx(t)
    P = ppki(t)
    names = [n for n, _, _, _, _ in P.web]
    c = cases.cpki(t)
    bundle = c.p.file("tls-profile-bundle.pem", P.root.bytes("pem") + P.eku_root.bytes("pem"))
    # trust = the default CA bundle: Web PKI rules
    m = modem(t, ng, names, ca_bundle=bundle)
    for name, _, _, code, rx in P.web:
        refused(t, m, ng, name, rx)
    # the same certificates under the same roots, loaded by the host: RFC 5280, accepted
    for i, (name, _, root, _, _) in enumerate(P.web):
        m2 = modem(t, ng, [name], ca_bundle=bundle)
        assert hl.store_cert(m2, root.bytes("pem"), typ=0).ok
        sid, _ = hl.cfg(m2, 1, H(name), ng.port, 2)
        assert hl.get(m2, sid, "/") == cases.PAGE + name.encode() + b"\n"
        tr = m2.trace_text()
        assert "verified by root '%s' (loaded" % ("CN=" + root.name) in tr, tr[-2000:]
        t.log("%s, root loaded by the host: accepted" % name)
        m2.close()
