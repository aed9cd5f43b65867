"""Every certificate/TLS case, decided like a careful browser, end to end through the HL dialect.

One test per case, generated from the table CASES below.  Each case loads trust with
AT+KCERTSTORE, configures a session with AT+KHTTPSCFG and fetches with AT+KHTTPSGET at
AT+CMEE=2.  Accepted cases check the page; refused cases check NO CARRIER, the
+KHTTPS_ERROR code (13 certificate, 4 server aborted, 12 version/cipher) and a
distinctive piece of the reason (third field).

Servers: ONE nginx per run hosts every case that nginx can serve (one vhost per case
name, chosen by SNI; unknown names and ClientHellos without SNI are rejected); cases
that need protocol edge cases (versions, suites, DH, Ed25519, IP literal, client
certificates) start their own `openssl s_server`.  The PKI is generated once per run.

docs/tls.md lists the same cases with the reason texts copied from real runs
(`python3 tests/e2e/run.py --bin … -k tls_ -v` prints them: t.log).
"""
import os
import re
import select
import time

import hl
import pki as _pki
import servers as _servers
from framework import timeout

DOMAIN = "tls.test"
PAGE = b"tlsmodem TLS case page\n"


def H(name):
    return "%s.%s" % (name, DOMAIN)


# ---- the PKI of the cases (generated lazily, once per run) ------------------------------


class CasePKI:
    """All certificates the cases use, built on the run's PKI."""

    def __init__(self, p):
        self.p = p
        root, inter = p.root, p.inter
        L = p.make_leaf
        self.root, self.inter = root, inter

        def leaf(name, issuer=inter, **kw):
            kw.setdefault("sans", ["DNS:" + H(name)])
            kw.setdefault("tag", "tls:" + name)
            return L(issuer, **kw)

        self.leaf = leaf
        # --- accepted
        self.int4096 = p.make_intermediate("TLS RSA-4096 Intermediate", root, key="rsa:4096")
        self.rsa2048_int4096 = leaf("rsa2048-int4096", self.int4096)
        self.root8192 = p.make_ca("TLS RSA-8192 Root", key="rsa:8192")
        self.rsa4096_root8192 = leaf("rsa4096-root8192", self.root8192, key="rsa:4096")
        self.ec256_root = p.make_ca("TLS ECDSA P-256 Root", key="ec:P-256")
        self.ec256_int = p.make_intermediate("TLS ECDSA P-256 Intermediate", self.ec256_root, key="ec:P-256")
        self.ec256 = leaf("ecdsa-p256", self.ec256_int, key="ec:P-256",
                          sans=["DNS:" + H("ecdsa-p256"), "DNS:" + H("mtls-ec")])
        self.ec384_root = p.make_ca("TLS ECDSA P-384 Root", key="ec:P-384", md="sha384")
        self.ec384_int = p.make_intermediate("TLS ECDSA P-384 Intermediate", self.ec384_root,
                                             key="ec:P-384", md="sha384")
        self.ec384 = leaf("ecdsa-p384", self.ec384_int, key="ec:P-384", md="sha384")
        self.int512 = p.make_intermediate("TLS SHA-512 Intermediate", root, md="sha512")
        self.sha512 = leaf("sha512", self.int512, md="sha512")
        self.sha384 = leaf("sha384", md="sha384")
        self.ed25519 = leaf("ed25519", key="ed25519")
        self.wild = leaf("wild", sans=["DNS:*.wild." + DOMAIN])
        self.san_only = leaf("san-only", subj="/O=tlsmodem tests")
        self.ip = leaf("ip", sans=["IP:127.0.0.1", "DNS:" + H("ip")])
        self.many = leaf("many-sans", sans=["DNS:n%04d.many.%s" % (i, DOMAIN) for i in range(1000)],
                         cn="n0000.many." + DOMAIN)
        self.sni = leaf("sni-required")
        self.vh1 = leaf("vhost-one")
        self.vh2 = leaf("vhost-two")
        self.extra = leaf("extra-cert")
        self.order_i2 = p.make_intermediate("TLS Order CA 2", root)
        self.order_i1 = p.make_intermediate("TLS Order CA 1", self.order_i2)
        self.order = leaf("out-of-order", self.order_i1)
        self.new_root = p.make_ca("TLS New Root")
        self.old_root = p.make_ca("TLS Old Root")
        self.cross = p.make_cross(self.new_root, self.old_root)
        self.cross_int = p.make_intermediate("TLS Cross-signed Intermediate", self.new_root)
        self.cross_leaf = leaf("cross-signed", self.cross_int,
                               sans=["DNS:" + H("cross-new"), "DNS:" + H("cross-old")])
        self.self_signed = p.make_self_signed(["DNS:" + H("self-signed")], tag="tls:self-signed")
        self.own_leaf = leaf("own-leaf")
        self.tls12 = leaf("tls12-only")
        self.tls13 = leaf("tls13-only")
        self.bulk = leaf("bulk")
        self.keepalive = leaf("keep-alive")
        # --- refused
        self.expired = leaf("expired", not_before=-30, not_after=-1)
        self.int_expired = p.make_intermediate("TLS Expired Intermediate", root, not_before=-400,
                                               not_after=-2, tag="tls:ca-int-expired")
        self.under_expired = leaf("int-expired", self.int_expired)
        self.future = leaf("not-yet-valid", not_before=10, not_after=40)
        self.cn_not_san = leaf("cn-not-san", cn=H("cn-not-san"), sans=["DNS:" + H("san-only-name")])
        self.wrong_inter = p.make_intermediate("Wrong Intermediate CA", p.wrong_root)
        self.untrusted = leaf("untrusted-root", self.wrong_inter)
        self.untrusted_sent = leaf("untrusted-root-sent", self.wrong_inter)
        self.incomplete = leaf("incomplete-chain")
        self.rsa1024 = leaf("rsa1024", key="rsa:1024")
        self.sha1 = leaf("sha1", md="sha1")
        self.md5 = leaf("md5", md="md5")
        self.eku_client = leaf("eku-client", eku="clientAuth")
        self.leaf_ca = leaf("leaf-ca", ca=True)
        self.not_ca = p.make_leaf(root, cn="TLS Not-A-CA Intermediate", eku=None, tag="tls:not-ca-int")
        self.under_not_ca = leaf("int-not-ca", self.not_ca)
        self.nc_int = p.make_intermediate(
            "TLS Name-Constrained CA", root, tag="tls:nc-int",
            extra_ext=["nameConstraints = critical,permitted;DNS:allowed.%s,excluded;DNS:bad.allowed.%s"
                       % (DOMAIN, DOMAIN)])
        self.nc_excluded = leaf("nc-excluded", self.nc_int, sans=["DNS:host.bad.allowed." + DOMAIN])
        self.nc_not_permitted = leaf("nc-not-permitted", self.nc_int)
        self.clock = leaf("clock")
        self.generic = leaf("generic", sans=["DNS:" + H("generic"), "DNS:" + H("tls10-only"),
                                             "DNS:" + H("tls11-only"), "DNS:" + H("null-only"),
                                             "DNS:" + H("anon-only"), "DNS:" + H("dh1024"),
                                             "DNS:" + H("client-cert-12"), "DNS:" + H("client-cert-13"),
                                             "DNS:" + H("mtls-rsa"), "DNS:" + H("pin"),
                                             "DNS:" + H("bundle")])

    def served(self, name, leaf, extra):
        return _pki.Served(self.p, name, leaf, extra)


_CPKI = {}


def cpki(t):
    if "x" not in _CPKI:
        _CPKI["x"] = CasePKI(t.pki)
    return _CPKI["x"]


# ---- the case table ------------------------------------------------------------------------
# served(c): what nginx presents (Cert: leaf + its intermediates; or pki.Served);
# s_server(c): (cert, args, verify, ca) for an openssl s_server instead of nginx.
# load(c): certificates stored with AT+KCERTSTORE=0 (one index each).
# want: "ok" or (code, [regexes over the reason]).


class Case:
    def __init__(self, name, want, served=None, s_server=None, load=lambda c: [c.root], host=None,
                 client=None, clock=None, repeat=1, check=None, note=""):
        self.name = name
        self.want = want
        self.served = served
        self.s_server = s_server
        self.load = load
        self.host = host or H(name)
        self.client = client
        self.clock = clock
        self.repeat = repeat
        self.check = check
        self.note = note


OK = "ok"
LEGACY = "DEFAULT@SECLEVEL=0"


def check_trace_chain(t, m, case, body):
    """The trace shows version, suite, SNI, the chain with key/signature/validity and the anchor."""
    tr = m.trace_text()
    assert re.search(r"TLSv1\.[23] \S+, group \S+, SNI " + re.escape(case.host), tr), tr[-3000:]
    assert re.search(r"depth 0: 'CN=%s' issuer 'CN=TLS RSA-4096 Intermediate' RSA-2048 "
                     r"sha256WithRSAEncryption \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\.\.\d{4}" % re.escape(case.host),
                     tr), tr[-3000:]
    assert re.search(r"depth 1: 'CN=TLS RSA-4096 Intermediate' issuer 'CN=Test Root CA' RSA-4096", tr), tr[-3000:]
    assert re.search(r"depth 2: 'CN=Test Root CA' .* \[loaded, anchor\]", tr), tr[-3000:]
    assert re.search(r"verified by root 'CN=Test Root CA' \(loaded, sha256 ", tr), tr[-3000:]


def check_trace_pinned(t, m, case, body):
    tr = m.trace_text()
    assert "verified: pinned leaf 'CN=%s'" % case.host in tr, tr[-2000:]


def check_no_sni(t, m, case, body):
    tr = m.trace_text()
    assert "no SNI (IP literal)" in tr, tr[-2000:]


def check_version(v):
    def chk(t, m, case, body):
        assert re.search(r"\b%s\b" % re.escape(v), body.decode(errors="replace")), body[-600:]
        assert re.search(r"tls\s+%s \S+" % re.escape(v), m.trace_text()), m.trace_text()[-2000:]
    return chk


def check_cipher(suite, version, client_cn):
    def chk(t, m, case, body):
        text = body.decode(errors="replace")
        assert "%s, Cipher is %s" % (version, suite) in text, text[-1500:]
        assert "CN=%s" % client_cn in text or "CN = %s" % client_cn in text or \
            client_cn in text, "s_server saw no client certificate:\n" + text[-1500:]
    return chk


def check_cross_path(anchor):
    def chk(t, m, case, body):
        tr = m.trace_text()
        assert re.search(r"verified by root 'CN=%s' \(loaded" % re.escape(anchor), tr), tr[-3000:]
    return chk


CASES = [
    # ---------------- accepted
    Case("rsa2048-int4096", OK, served=lambda c: c.rsa2048_int4096, check=check_trace_chain,
         note="RSA-2048 leaf under an RSA-4096 intermediate"),
    Case("rsa4096-root8192", OK, served=lambda c: c.rsa4096_root8192, load=lambda c: [c.root8192],
         note="RSA-4096 leaf under an RSA-8192 root"),
    Case("ecdsa-p256", OK, served=lambda c: c.ec256, load=lambda c: [c.ec256_root],
         note="ECDSA P-256 chain (root, intermediate, leaf)"),
    Case("ecdsa-p384", OK, served=lambda c: c.ec384, load=lambda c: [c.ec384_root],
         note="ECDSA P-384 chain signed with SHA-384"),
    Case("sha384", OK, served=lambda c: c.sha384, note="RSA leaf signed with SHA-384"),
    Case("sha512", OK, served=lambda c: c.sha512, note="RSA intermediate and leaf signed with SHA-512"),
    Case("ed25519", OK, s_server=lambda c: (c.ed25519, [], None, None),
         note="Ed25519 leaf (openssl s_server)"),
    Case("wildcard-one-label", OK, served=lambda c: c.wild, host="a.wild." + DOMAIN,
         note="*.wild.tls.test matches a.wild.tls.test"),
    Case("san-only", OK, served=lambda c: c.san_only, note="SAN only, no CN in the subject"),
    Case("ip-literal", OK, s_server=lambda c: (c.ip, [], None, None), host="127.0.0.1",
         check=check_no_sni, note="iPAddress SAN 127.0.0.1 reached by IP literal (no SNI)"),
    Case("many-sans", OK, served=lambda c: c.many, host="n0999.many." + DOMAIN,
         note="1000 SANs, the name asked is the last"),
    Case("sni-required", OK, served=lambda c: c.sni,
         note="nginx aborts handshakes without SNI (ssl_reject_handshake); tlsmodem sends it"),
    Case("extra-cert", OK, served=lambda c: c.served("extra", c.extra, [c.inter, c.p.client_ca]),
         note="the server sends an extra unrelated CA certificate"),
    Case("out-of-order", OK, served=lambda c: c.served("order", c.order, [c.order_i2, c.order_i1]),
         note="leaf, then the intermediates in the wrong order"),
    Case("cross-new", OK, served=lambda c: c.served("cross", c.cross_leaf, [c.cross_int, c.cross]),
         load=lambda c: [c.new_root], check=check_cross_path("TLS New Root"),
         note="cross-signed chain, only the new root is trusted"),
    Case("cross-old", OK, served=lambda c: c.served("cross", c.cross_leaf, [c.cross_int, c.cross]),
         load=lambda c: [c.old_root], check=check_cross_path("TLS Old Root"),
         note="cross-signed chain, only the old root is trusted"),
    Case("self-signed", OK, served=lambda c: c.self_signed, load=lambda c: [c.self_signed],
         check=check_trace_pinned, note="self-signed server certificate loaded by the host (a pin)"),
    Case("own-leaf", OK, served=lambda c: c.own_leaf, load=lambda c: [c.own_leaf],
         check=check_trace_pinned, note="the host loaded the server's own leaf (not its CA)"),
    Case("tls12-only", OK, s_server=lambda c: (c.tls12, ["-tls1_2"], None, None),
         check=check_version("TLSv1.2"), note="server speaks only TLS 1.2"),
    Case("tls13-only", OK, s_server=lambda c: (c.tls13, ["-tls1_3"], None, None),
         check=check_version("TLSv1.3"), note="server speaks only TLS 1.3"),
    Case("mtls-ec", OK, host=H("mtls-ec"),
         s_server=lambda c: (c.ec256, ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"], 1, c.p.client_ca),
         load=lambda c: [c.ec256_root], client=lambda c: c.p.client_ec, repeat=16,
         check=check_cipher("ECDHE-ECDSA-AES128-GCM-SHA256", "TLSv1.2", "client-ec"),
         note="mutual TLS 1.2, ECDSA P-256 client key, ECDHE-ECDSA-AES128-GCM-SHA256, 16 handshakes"),
    Case("mtls-ec-tls13", OK, host=H("mtls-ec"),
         s_server=lambda c: (c.ec256, ["-tls1_3"], 1, c.p.client_ca),
         load=lambda c: [c.ec256_root], client=lambda c: c.p.client_ec, repeat=16,
         check=check_cipher("TLS_AES_256_GCM_SHA384", "TLSv1.3", "client-ec"),
         note="mutual TLS 1.3, ECDSA P-256 client key, 16 handshakes"),
    Case("mtls-rsa", OK, s_server=lambda c: (c.generic, ["-tls1_3"], 1, c.p.client_ca),
         client=lambda c: c.p.client_rsa, repeat=2,
         check=check_cipher("TLS_AES_256_GCM_SHA384", "TLSv1.3", "client-rsa"),
         note="mutual TLS 1.3, RSA-2048 client key"),
    # ---------------- refused
    Case("expired", (13, [r"a certificate has expired: depth 0 'CN=expired\.tls\.test' expired on "
                          r"\d{4}-\d\d-\d\d .*UTC \(notAfter\); module clock is "]),
         served=lambda c: c.expired, note="expired leaf"),
    Case("int-expired", (13, [r"has expired: depth 1 'CN=TLS Expired Intermediate' expired on"]),
         served=lambda c: c.under_expired, note="expired intermediate"),
    Case("not-yet-valid", (13, [r"not yet valid: depth 0 'CN=not-yet-valid\.tls\.test' is valid only from "
                                r".* \(notBefore\); module clock is"]),
         served=lambda c: c.future, note="leaf not yet valid"),
    Case("wrong-host", (13, [r"names do not include the requested host: asked for wrong-host\.tls\.test; "
                             r"certificate has DNS:www\.coursera\.test, DNS:coursera\.test"]),
         served=lambda c: c.p.coursera, note="certificate for another name"),
    Case("wildcard-two-labels", (13, [r"asked for a\.b\.wild\.tls\.test; certificate has DNS:\*\.wild\.tls\.test"]),
         served=lambda c: c.wild, host="a.b.wild." + DOMAIN, note="*.wild.tls.test against a.b.wild.tls.test"),
    Case("wildcard-apex", (13, [r"asked for wild\.tls\.test; certificate has DNS:\*\.wild\.tls\.test"]),
         served=lambda c: c.wild, host="wild." + DOMAIN, note="*.wild.tls.test against wild.tls.test"),
    Case("cn-not-san", (13, [r"asked for cn-not-san\.tls\.test; certificate has DNS:san-only-name\.tls\.test",
                             r"the subject CN 'cn-not-san\.tls\.test' is not used because the certificate "
                             r"has subjectAltNames"]),
         served=lambda c: c.cn_not_san, note="CN matches, SAN does not"),
    Case("self-signed-not-loaded", (13, [r"self-signed and not loaded: depth 0 'CN=self-signed\.tls\.test' "
                                         r"is self-signed and is not among the 1 loaded certificate \('CN=Test Root CA'\)"]),
         served=lambda c: c.self_signed, host=H("self-signed"), note="self-signed, the host loaded another root"),
    Case("untrusted-root", (13, [r"no stored CA certificate matches the server's issuer: no loaded certificate "
                                 r"is 'CN=Wrong Root CA', the issuer of depth 1 'CN=Wrong Intermediate CA'"]),
         served=lambda c: c.untrusted, note="chain to a root that is not loaded (root not sent)"),
    Case("untrusted-root-sent", (13, [r"does not lead to a trusted root: the chain ends at root 'CN=Wrong Root CA' "
                                      r"\(depth 2, sent by the server\), which is not among"]),
         served=lambda c: c.served("untrusted-sent", c.untrusted_sent, [c.wrong_inter, c.p.wrong_root]),
         note="chain to a root that is not loaded (the server sends that root)"),
    Case("incomplete-chain", (13, [r"incomplete certificate chain: the server sent 1 certificate; the issuer "
                                   r"'CN=Test Intermediate CA' of depth 0 'CN=incomplete-chain\.tls\.test' was not sent"]),
         served=lambda c: c.served("incomplete", c.incomplete, []), note="the server omits its intermediate"),
    Case("rsa1024", (13, [r"key is too weak: depth 0 'CN=rsa1024\.tls\.test' has a RSA-1024 key; at least 2048 bits"]),
         s_server=lambda c: (c.rsa1024, ["-cipher", LEGACY], None, None), note="RSA-1024 leaf"),
    Case("sha1", (13, [r"weak algorithm: depth 0 'CN=sha1\.tls\.test' is signed with sha1WithRSAEncryption; "
                       r"SHA-256 or better is required"]),
         s_server=lambda c: (c.sha1, ["-cipher", LEGACY], None, None), note="leaf signed with SHA-1"),
    Case("md5", (13, [r"weak algorithm: depth 0 'CN=md5\.tls\.test' is signed with md5WithRSAEncryption"]),
         s_server=lambda c: (c.md5, ["-cipher", LEGACY], None, None), note="leaf signed with MD5"),
    Case("tls10-only", (12, [r"no common TLS version \(tlsmodem requires TLS 1\.2 or 1\.3\): alert received: "
                            r"protocol_version \(70\): the server accepts none of TLSv1\.2\.\.TLSv1\.3"]),
         s_server=lambda c: (c.generic, ["-tls1", "-cipher", LEGACY], None, None), note="server offers only TLS 1.0"),
    Case("tls11-only", (12, [r"no common TLS version .*protocol_version \(70\): the server accepts none of "
                             r"TLSv1\.2\.\.TLSv1\.3 \(it probably offers only TLSv1\.0/1\.1\)"]),
         s_server=lambda c: (c.generic, ["-tls1_1", "-cipher", LEGACY], None, None), note="server offers only TLS 1.1"),
    Case("null-only", (12, [r"no common cipher suite: alert received: handshake_failure \(40\) in answer to the "
                            r"ClientHello", r"never NULL, anonymous"]),
         s_server=lambda c: (c.generic, ["-tls1_2", "-cipher", "NULL-SHA256:" + "@SECLEVEL=0"], None, None),
         note="server offers only NULL (unencrypted) suites"),
    Case("anon-only", (12, [r"no common cipher suite: alert received: handshake_failure \(40\)", r"anonymous"]),
         s_server=lambda c: (c.generic, ["-tls1_2", "-cipher", "ADH-AES128-GCM-SHA256:@SECLEVEL=0"], None, None),
         note="server offers only anonymous (unauthenticated) suites"),
    Case("dh1024", (12, [r"Diffie-Hellman group is too small: the server's DHE group is smaller than 2048 bits"]),
         s_server=lambda c: (c.generic, ["-tls1_2", "-cipher", "DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0",
                                         "-dhparam", c.p.dhparam(1024)], None, None),
         note="DHE with a 1024-bit group"),
    Case("eku-client", (13, [r"not for TLS server use \(EKU\): depth 0 'CN=eku-client\.tls\.test'",
                             r"clientAuth"]),
         served=lambda c: c.eku_client, note="leaf EKU is clientAuth only"),
    Case("leaf-ca", (13, [r"is a CA certificate: depth 0 'CN=leaf-ca\.tls\.test' has basicConstraints CA:TRUE"]),
         served=lambda c: c.leaf_ca, note="leaf with CA:TRUE"),
    Case("int-not-ca", (13, [r"intermediate certificate is not a CA: depth 1 'CN=TLS Not-A-CA Intermediate'"]),
         served=lambda c: c.under_not_ca, note="intermediate without CA:TRUE"),
    Case("nc-excluded", (13, [r"violates an issuer's name constraints: depth 0 'CN=host\.bad\.allowed\.tls\.test'",
                              r"excluded"]),
         served=lambda c: c.nc_excluded, host="host.bad.allowed." + DOMAIN,
         note="name in an excluded subtree of the intermediate's name constraints"),
    Case("nc-not-permitted", (13, [r"violates an issuer's name constraints: depth 0 'CN=nc-not-permitted\.tls\.test'",
                                   r"permitted"]),
         served=lambda c: c.nc_not_permitted, note="name outside the permitted subtree"),
    Case("client-cert-12", (13, [r"requires a client certificate and none is stored: the server asked for a client "
                                 r"certificate \(CertificateRequest\) and none is configured"]),
         s_server=lambda c: (c.generic, ["-tls1_2"], 1, c.p.client_ca),
         note="TLS 1.2 server demands a client certificate, none stored"),
    Case("client-cert-13", (13, [r"requires a client certificate and none is stored: the server asked for a client "
                                 r"certificate \(CertificateRequest\) and none is configured",
                                 r"certificate_required \(116\)"]),
         s_server=lambda c: (c.generic, ["-tls1_3"], 1, c.p.client_ca),
         note="TLS 1.3 server demands a client certificate, none stored (seen at the first read)"),
    Case("clock", (13, [r"module clock is not set or implausible: module clock 2016-06-19 14:30:54 UTC is before "
                        r"notBefore \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC of depth \d '[^']*' \(the host clock "
                        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC would pass\); set the clock \(AT\+CCLK\)"]),
         served=lambda c: c.clock, clock="16/06/19,14:30:54+00",
         note="module clock (AT+CCLK) before the validity period"),
]


# ---- the shared nginx -----------------------------------------------------------------------

_NG = {}


def shared_nginx(t):
    """One nginx for every nginx case of the run (one vhost per case host)."""
    if "ng" in _NG:
        ng = _NG["ng"]
        if ng.proc and ng.proc.alive():
            return ng
    c = cpki(t)
    d = os.path.join(t.session.dir, "tls-nginx")
    os.makedirs(d, exist_ok=True)
    ng = _servers.Nginx(d)
    seen = set()
    for case in CASES:
        if case.served is None or case.host in seen:
            continue
        seen.add(case.host)
        ng.vhost(case.host, case.served(c), files={"index.html": PAGE + case.name.encode() + b"\n"})
    ng.start()
    _NG["ng"] = ng
    return ng


def modem_for(t, host, port, clock=None, **kw):
    m = t.modem(resolve=["%s:%d:127.0.0.1" % (host, port)], **kw)
    m.at_ok("ATE0")
    m.at_ok("AT+CMEE=2")
    m.at_ok('AT+CCLK="%s"' % (clock or hl.clock_now()))
    m.at_ok('AT+KCNXCFG=1,"GPRS","MYAPN"')
    return m


def load_roots(m, certs):
    for i, cert in enumerate(certs):
        r = hl.store_cert(m, cert.bytes("pem"), typ=0, end="count", index=i)
        assert r.ok, r.text


def load_client(m, client):
    r = hl.store_cert(m, client.bytes("pem"), typ=1, end="count")
    assert r.ok, r.text
    key = client.bytes("key")
    r = hl.data_cmd(m, "AT+KPRIVKSTORE=0,%d" % len(key), key, end="count")
    assert r.ok, r.text


def start_server(t, case):
    """(port, server object, kind)"""
    c = cpki(t)
    if case.s_server is not None:
        cert, args, verify, ca = case.s_server(c)
        s = t.s_server(cert, mode="-www", args=args, verify=verify, ca=ca)
        return s.port, s, "s_server"
    ng = shared_nginx(t)
    return ng.port, ng, "nginx"


def run_case(t, case):
    c = cpki(t)
    port, srv, kind = start_server(t, case)
    m = modem_for(t, case.host, port, clock=case.clock)
    load_roots(m, case.load(c))
    if case.client:
        load_client(m, case.client(c))
    sid, _ = hl.cfg(m, 1, case.host, port, 2)
    log0 = len(srv.access_log()) if kind == "nginx" else 0
    if case.want == OK:
        body = b""
        for i in range(case.repeat):
            body = hl.get(m, sid, "/")
            if kind == "nginx":
                assert body == PAGE + case.name.encode() + b"\n", body[:300]
            else:
                assert b"Cipher is" in body or b"CIPHER" in body.upper(), body[:300]
        if kind == "nginx":
            log = wait_log(srv, log0, lambda l: 'sni="%s"' % case.host in l and '"GET / ' in l, case.repeat)
            assert len(log) >= case.repeat, "nginx did not log the request with SNI %s" % case.host
        tr = m.trace_text()
        assert "verdict: verified" in tr or re.search(r"verdict\S*\s+verified", tr) or "verified" in tr, tr[-1500:]
        t.log("%s: accepted; %s" % (case.name, _summary(tr)))
        if case.check:
            case.check(t, m, case, body)
        if case.repeat > 1:
            n = len(re.findall(r"verified by root", tr))
            assert n >= case.repeat, "expected %d verified handshakes in the trace, saw %d" % (case.repeat, n)
        return
    code, rxs = case.want
    s, got, why = hl.get_fails(m, sid, "/")
    t.log("%s: +KHTTPS_ERROR: %d,%d,\"%s\"" % (case.name, s, got, why))
    assert s == sid and got == code, "expected +KHTTPS_ERROR: %d,%d, got %d,%d (%s)" % (sid, code, s, got, why)
    assert why, "no reason at CMEE=2"
    for rx in rxs:
        assert re.search(rx, why), "reason %r does not match /%s/" % (why, rx)
    if kind == "nginx":
        served = [l for l in srv.access_log()[log0:] if 'sni="%s"' % case.host in l and '"GET / ' in l]
        assert not served, "a request went out over a refused connection: %s" % served


def wait_log(ng, start, pred, n=1, timeout=5):
    """nginx writes its access log line after the response went out: poll the
    file (no inotify in the stdlib) until n matching lines appear after `start`."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [l for l in ng.access_log()[start:] if pred(l)]
        if len(lines) >= n or time.monotonic() > deadline:
            return lines
        select.select([], [], [], 0.01)


def _summary(tr):
    lines = [l for l in tr.splitlines() if re.search(r"\stls\s+TLSv1", l)]
    return re.split(r"\stls\s+", lines[-1], 1)[-1] if lines else "(no summary in the trace)"


def _make(case):
    @timeout(240)
    def fn(t):
        run_case(t, case)
    fn.__name__ = "test_tls_%s_%s" % ("accept" if case.want == OK else "refuse", case.name.replace("-", "_"))
    fn.__qualname__ = fn.__name__
    fn.__module__ = __name__
    fn.__doc__ = case.note
    return fn


for _case in CASES:
    _f = _make(_case)
    globals()[_f.__name__] = _f
del _case, _f
