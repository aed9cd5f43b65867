"""Advice that names the fix (docs/tls.md "Advice"), end to end through the HL dialect.

- the server certificate is signed directly by a private root the host did not load: the
  reason says "load the root 'CN=...' (AT+KCERTSTORE=0,<size>)" (the dialect's command, ASCII on the host), not that the
  server should send intermediates; a real missing intermediate keeps the intermediate advice
  (test_tls_cases incomplete-chain);
- a certificate with the issuer's name is loaded but OpenSSL will not use it (another key with
  the same name): the reason says so, not "incomplete chain"; a loaded CA whose keyUsage lacks
  keyCertSign is named with that reason;
- tlsmodem-cert probe finds the private root in --ca-bundle and prints its load script.
"""
import os
import re
import subprocess

import hl
import servers as _servers
import test_tls_cases as cases
from framework import timeout

H = cases.H
_NG = {}
_PKI = {}


def apki(t):
    if "c" in _PKI:
        return _PKI["c"]
    c = cases.cpki(t)
    p = c.p

    class A:
        pass
    A.other_root = c.root
    A.priv_root = p.make_ca("Advice Private Root", tag="adv:priv-root")
    A.direct = p.make_leaf(A.priv_root, sans=["DNS:" + H("adv-direct")], tag="adv:direct")
    A.lab_ca = p.make_ca("Home Lab CA", tag="adv:lab-ca")
    A.lab = p.make_leaf(A.lab_ca, sans=["DNS:" + H("adv-lab")], tag="adv:lab")
    A.recreated_a = p.make_ca("Advice Recreated CA", tag="adv:recreated-a")
    A.recreated_b = p.make_ca("Advice Recreated CA", tag="adv:recreated-b")
    A.recreated_leaf = p.make_leaf(A.recreated_a, sans=["DNS:" + H("adv-recreated")], tag="adv:recreated-leaf")
    A.nosign_ca = p.make_ca("Advice No-CertSign CA", tag="adv:nosign",
                            extra_ext=["keyUsage = critical,digitalSignature,cRLSign"])
    A.nosign_leaf = p.make_leaf(A.nosign_ca, sans=["DNS:" + H("adv-nosign")], tag="adv:nosign-leaf")
    _PKI["c"] = A
    return A


def adv_nginx(t):
    ng = _NG.get("ng")
    if ng and ng.proc and ng.proc.alive():
        return ng
    A = apki(t)
    d = os.path.join(t.session.dir, "tls-advice-nginx")
    os.makedirs(d, exist_ok=True)
    ng = _servers.Nginx(d)
    for name, cert in (("adv-direct", A.direct), ("adv-lab", A.lab), ("adv-recreated", A.recreated_leaf),
                       ("adv-nosign", A.nosign_leaf)):
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


def fails(t, m, ng, name):
    sid, _ = hl.cfg(m, 1, H(name), ng.port, 2)
    s, code, why = hl.get_fails(m, sid, "/")
    t.log("%s: +KHTTPS_ERROR: %d,%d,\"%s\"" % (name, s, code, why))
    assert (s, code) == (sid, 13), (s, code, why)
    m.at_ok("AT+KHTTPSDEL=%d" % sid)
    return why


@timeout(240)
def test_tls_advice_private_root_not_loaded_names_the_root_to_load(t):
    ng = adv_nginx(t)
    A = apki(t)
    m = modem(t, ng, ["adv-direct", "adv-lab"])
    assert hl.store_cert(m, A.other_root.bytes("pem"), typ=0).ok
    why = fails(t, m, ng, "adv-direct")
    assert re.search(r"the server sent 1 certificate; the issuer 'CN=Advice Private Root' of depth 0 "
                     r"'CN=adv-direct\.tls\.test' was not sent and is not among the 1 loaded certificate "
                     r"\('CN=Test Root CA'\); 'CN=Advice Private Root' is a root that signed the server certificate "
                     r"directly: load the root 'CN=Advice Private Root' \(AT\+KCERTSTORE=0,<size>\)",
                     why), why
    assert "intermediate" not in why, why
    # a name that does not say what it is: both fixes, the root first
    why = fails(t, m, ng, "adv-lab")
    assert re.search(r"if 'CN=Home Lab CA' is a root \(a private CA that signed the server certificate directly\), "
                     r"load the root 'CN=Home Lab CA' \(AT\+KCERTSTORE=0,<size>\); if it is an "
                     r"intermediate CA, the server should send its intermediate certificates", why), why
    # the fix works
    assert hl.store_cert(m, A.priv_root.bytes("pem"), typ=0, index=1).ok
    sid, _ = hl.cfg(m, 1, H("adv-direct"), ng.port, 2)
    assert hl.get(m, sid, "/") == cases.PAGE + b"adv-direct\n"


@timeout(240)
def test_tls_advice_loaded_certificate_openssl_will_not_use(t):
    ng = adv_nginx(t)
    A = apki(t)
    m = modem(t, ng, ["adv-recreated", "adv-nosign"])
    # same name, another key: the CA was re-created and the old one is loaded
    assert hl.store_cert(m, A.recreated_b.bytes("pem"), typ=0).ok
    why = fails(t, m, ng, "adv-recreated")
    assert re.search(r"a certificate in the chain is invalid: the loaded certificate 0 'CN=Advice Recreated CA' has "
                     r"the name of the issuer of depth 0 'CN=adv-recreated\.tls\.test', but OpenSSL will not use it: "
                     r"its subjectKeyIdentifier is not the authorityKeyIdentifier of the certificate it should have "
                     r"issued: it is another CA with the same name", why), why
    assert "incomplete" not in why, why
    m.at_ok("AT+KCERTDELETE=0,0")
    assert hl.store_cert(m, A.nosign_ca.bytes("pem"), typ=0).ok
    why = fails(t, m, ng, "adv-nosign")
    # a loaded CA whose keyUsage forbids signing certificates: OpenSSL takes it and refuses it as a CA
    assert re.search(r"an intermediate certificate is not a CA: depth 1 'CN=Advice No-CertSign CA' is used as an "
                     r"issuer but is not a valid CA \(basicConstraints/keyUsage\): its keyUsage does not allow "
                     r"keyCertSign, so it cannot issue certificates", why), why


@timeout(240)
def test_tls_advice_probe_prints_the_load_script_for_the_private_root(t):
    ng = adv_nginx(t)
    A = apki(t)
    c = cases.cpki(t)
    tool = os.path.join(os.path.dirname(t.bin), "tlsmodem-cert")
    resolve = "%s:%d:127.0.0.1" % (H("adv-direct"), ng.port)
    bundle = c.p.file("adv-bundle.pem", A.other_root.bytes("pem") + A.priv_root.bytes("pem"))
    p = subprocess.run([tool, "probe", "%s:%d" % (H("adv-direct"), ng.port), "--resolve", resolve,
                        "--ca-bundle", bundle], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    out = p.stdout.decode()
    t.log(out)
    assert "anchor: root 'CN=Advice Private Root' from the bundle" in out, out
    m = re.search(r"AT\+KCERTSTORE=0,(\d+)<CR>\n(-----BEGIN CERTIFICATE-----\n.*?-----END CERTIFICATE-----\n)",
                  out, re.S)
    assert m and int(m.group(1)) == len(m.group(2)), out
    with open(A.priv_root.pem) as f:
        assert m.group(2) == f.read(), "the script does not carry the private root"
    # without the root in the bundle: the problem names the root to load
    p = subprocess.run([tool, "probe", "%s:%d" % (H("adv-direct"), ng.port), "--resolve", resolve,
                        "--ca-bundle", A.other_root.pem], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    out = p.stdout.decode()
    t.log(out)
    assert p.returncode == 1, out
    assert "load the root 'CN=Advice Private Root' (AT+KCERTSTORE=0,<size>)" in out, out   # --dialect hl
    p = subprocess.run([tool, "probe", "%s:%d" % (H("adv-direct"), ng.port), "--resolve", resolve,
                        "--ca-bundle", A.other_root.pem, "--dialect", "spwf"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    out = p.stdout.decode()
    assert "load the root 'CN=Advice Private Root' (AT+S.TLSCERT=ca,<length>)" in out, out
