"""tlsmodem-cert (tools/cert/): inspect, convert, verify, probe, at-script.

The tool sits next to the modem binary (build/tlsmodem-cert).  Checks:
inspect on PEM/DER/base64/bundle with the SKI openssl prints; verify on good,
expired, wrong-host and incomplete chains (the modem's own reasons); probe on
an SNI-only nginx, an nginx that sends an incomplete chain and a TLS 1.3-only
openssl s_server; the AT script fed to a fresh HL modem (pty and a plain
pipe into --stdio) loads the root and the HTTPS GET succeeds.
"""
import os
import re
import subprocess

from pki import Served

import hl
from framework import timeout
from modem import FINAL_RE

HOST = "www.coursera.test"
PAGE = b"<html><body>cert tool page</body></html>\n"


def tool(t):
    p = os.path.join(os.path.dirname(t.bin), "tlsmodem-cert")
    if not os.path.exists(p):
        t.skip("no %s (make builds it next to tlsmodem)" % p)
    return p


def run(t, *args, input=None, check_rc=None, timeout=60):
    p = subprocess.run([tool(t)] + [str(a) for a in args], input=input, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    out = p.stdout.decode(errors="replace") if input is None or True else p.stdout
    t.log("$ tlsmodem-cert %s -> %d\n%s%s" % (" ".join(map(str, args)), p.returncode, out[-3000:],
                                              p.stderr.decode(errors="replace")[-1500:]))
    if check_rc is not None:
        assert p.returncode == check_rc, "exit %d, expected %d:\n%s\n%s" % (
            p.returncode, check_rc, out, p.stderr.decode(errors="replace"))
    return p


def openssl_ski(path, inform="PEM"):
    out = subprocess.run(["openssl", "x509", "-inform", inform, "-in", path, "-noout", "-ext",
                          "subjectKeyIdentifier"], stdout=subprocess.PIPE, check=True).stdout.decode()
    m = re.search(r"([0-9A-F]{2}(?::[0-9A-F]{2})+)", out)
    assert m, out
    return m.group(1)


def skis(text):
    return re.findall(r"^\s+SKI\s+([0-9A-F:]+)\s*$", text, re.M)


def std(t):
    return t.pki


def sni_nginx(t, cert=None, name=HOST):
    ng = t.nginx()
    ng.vhost([name], cert or std(t).coursera, files={"index.html": PAGE})
    return ng.start()


# ---- inspect / convert -------------------------------------------------------------------------


def test_cert_inspect_pem_der_base64_bundle(t):
    pki = std(t)
    leaf, inter, root = pki.coursera, pki.inter, pki.root
    # PEM leaf
    out = run(t, "inspect", leaf.pem, check_rc=0).stdout.decode()
    assert "a server certificate, not a CA: loading it as a root pins this one server until 20" in out, out
    assert skis(out) == [openssl_ski(leaf.pem)], out
    for k in ("subject", "issuer", "serial", "validity", "key", "signature", "SANs", "AKI", "CA", "EKU", "SHA-256"):
        assert re.search(r"^\s+%s\s" % re.escape(k), out, re.M), "no %s line:\n%s" % (k, out)
    assert "DNS:www.coursera.test" in out and "serverAuth" in out and "valid now" in out, out
    # DER root
    out = run(t, "inspect", root.der, check_rc=0).stdout.decode()
    assert "DER certificate, a root CA (self-signed)" in out, out
    assert skis(out) == [openssl_ski(root.der, "DER")], out
    # bare base64 intermediate
    out = run(t, "inspect", inter.b64, check_rc=0).stdout.decode()
    assert "base64 certificate, an intermediate CA issued by 'CN=Test Root CA'" in out, out
    assert skis(out) == [openssl_ski(inter.pem)], out
    # CRLF PEM as Windows exports it
    out = run(t, "inspect", leaf.pem_crlf, check_rc=0).stdout.decode()
    assert skis(out) == [openssl_ski(leaf.pem)], out
    # bundle: leaf, intermediate, root
    out = run(t, "inspect", leaf.fullchain, check_rc=0).stdout.decode()
    assert "a bundle of 3 certificates: leaf, intermediate, root" in out, out
    assert "in order" in out, out
    assert skis(out) == [openssl_ski(leaf.pem), openssl_ski(inter.pem), openssl_ski(root.pem)], out
    # out of order bundle
    bad = t.path("reversed.pem")
    with open(bad, "wb") as f:
        f.write(root.bytes("pem") + leaf.bytes("pem") + inter.bytes("pem"))
    out = run(t, "inspect", bad, check_rc=0).stdout.decode()
    assert "a bundle of 3 certificates: root, leaf, intermediate" in out, out
    # garbage
    junk = t.path("junk.txt")
    with open(junk, "wb") as f:
        f.write(b"Hello, this is not a certificate\n")
    p = run(t, "inspect", junk)
    assert p.returncode == 3 and b"Hello" in p.stderr, p.stderr


def test_cert_convert_roundtrip(t):
    leaf = std(t).coursera
    der = t.path("leaf.der")
    run(t, "convert", leaf.pem_crlf, "--to", "der", "-o", der, check_rc=0)
    assert open(der, "rb").read() == leaf.bytes("der")
    p = run(t, "convert", leaf.b64, "--to", "pem", check_rc=0)
    assert p.stdout == leaf.bytes("pem"), p.stdout
    p = run(t, "convert", leaf.fullchain, "--to", "pem", check_rc=0)
    assert p.stdout.count(b"-----BEGIN CERTIFICATE-----") == 3


# ---- verify ------------------------------------------------------------------------------------


def test_cert_verify_good_expired_wronghost_incomplete(t):
    pki = std(t)
    root, leaf = pki.root, pki.coursera
    out = run(t, "verify", leaf.chain, "--ca", root.pem, "--host", HOST, check_rc=0).stdout.decode()
    assert "VALID: verified by root 'CN=Test Root CA' (loaded" in out, out
    # base64/DER inputs work the same
    run(t, "verify", leaf.chain, "--ca", root.b64, "--host", "coursera.test", check_rc=0)

    expired = pki.make_leaf(pki.inter, sans=["DNS:old.test"], not_before=-400, not_after=-2, tag="cert-tool-expired")
    out = run(t, "verify", expired.chain, "--ca", root.pem, "--host", "old.test", check_rc=1).stdout.decode()
    assert "NOT VALID: TM_E_CERT_EXPIRED (109)" in out and "CN=old.test" in out, out

    out = run(t, "verify", leaf.chain, "--ca", root.pem, "--host", "www.example.test", check_rc=1).stdout.decode()
    assert "TM_E_CERT_NAME_MISMATCH (112)" in out and "asked for www.example.test" in out, out

    out = run(t, "verify", leaf.pem, "--ca", root.pem, "--host", HOST, check_rc=1).stdout.decode()
    assert "TM_E_CERT_CHAIN_INCOMPLETE (107)" in out and "Test Intermediate CA" in out, out

    out = run(t, "verify", leaf.chain, "--ca", pki.wrong_root.pem, "--host", HOST, check_rc=1).stdout.decode()
    assert "TM_E_CA_NOT_FOUND" in out or "TM_E_CERT_UNTRUSTED" in out, out

    # --time: valid today, expired in 2040 (leaf lives 1 year)
    out = run(t, "verify", leaf.chain, "--ca", root.pem, "--host", HOST, "--time", "2040-01-01T00:00:00Z",
              check_rc=1).stdout.decode()
    assert "TM_E_CERT_EXPIRED" in out and "2040-01-01" in out, out


# ---- probe -------------------------------------------------------------------------------------


@timeout(90)
def test_cert_probe_sni_nginx_and_script_loads_root(t):
    ng = sni_nginx(t)
    resolve = "%s:%d:127.0.0.1" % (HOST, ng.port)
    out = run(t, "probe", "%s:%d" % (HOST, ng.port), "--resolve", resolve, "--ca-bundle", std(t).root.pem,
              "--dialect", "hl", check_rc=0).stdout.decode()
    assert re.search(r"OK: TLSv1\.[23] ", out), out
    assert "the server needs SNI" in out, out
    assert re.search(r"^\s+\[0\] leaf\s+CN=www.coursera.test", out, re.M), out
    assert re.search(r"^\s+\[1\] intermediate\s+CN=Test Intermediate CA", out, re.M), out
    assert "anchor: root 'CN=Test Root CA' from the bundle" in out, out
    m = re.search(r"AT\+KCERTSTORE=0,(\d+)<CR>\n(-----BEGIN CERTIFICATE-----\n.*?-----END CERTIFICATE-----\n)", out, re.S)
    assert m and int(m.group(1)) == len(m.group(2)), out

    # --script: stdout is exactly the script; fed to a fresh modem it loads the root
    p = run(t, "probe", "%s:%d" % (HOST, ng.port), "--resolve", resolve, "--ca-bundle", std(t).root.pem,
            "--script", check_rc=0)
    script = p.stdout
    assert script.startswith(b"AT+KCERTSTORE=0,%d\r-----BEGIN" % (len(script) - script.index(b"\r") - 1)), script[:60]
    m = t.modem(resolve=[resolve])
    m.at_ok("ATE0")
    m.send(script)
    m.expect(b"\r\nCONNECT\r\n")
    fin = m.expect(FINAL_RE, 15)
    assert fin.group(1) == b"OK", fin.consumed
    hl.start(m, cmee=2)
    sid, _ = hl.cfg(m, 1, HOST, ng.port, 1)
    assert hl.get(m, sid, "/").endswith(PAGE)


@timeout(90)
def test_cert_probe_incomplete_chain(t):
    pki = std(t)
    leaf = pki.make_leaf(pki.inter, sans=["DNS:inc.test"], tag="cert-tool-incomplete")
    ng = sni_nginx(t, cert=Served(t.pki, "leaf-only", leaf, []), name="inc.test")   # leaf only, no intermediate
    p = run(t, "probe", "inc.test:%d" % ng.port, "--resolve", "inc.test:%d:127.0.0.1" % ng.port,
            "--ca-bundle", pki.root.pem, check_rc=1)
    out = p.stdout.decode()
    assert "FAILED: TM_E_CERT_CHAIN_INCOMPLETE (107)" in out, out
    assert "incomplete chain: the issuer 'CN=Test Intermediate CA'" in out, out
    assert "chain sent by the server (1 certificate)" in out, out


@timeout(90)
def test_cert_probe_tls13_only_s_server(t):
    s = t.s_server(std(t).coursera, args=["-tls1_3"])
    resolve = "%s:%d:127.0.0.1" % (HOST, s.port)
    out = run(t, "probe", "%s:%d" % (HOST, s.port), "--resolve", resolve, "--ca-bundle", std(t).root.pem,
              "--dialect", "spwf").stdout.decode()
    assert "OK: TLSv1.3 TLS_" in out, out
    assert re.search(r"^negotiated: TLSv1\.3 TLS_\w+", out, re.M), out
    assert "the server does not need SNI" in out, out
    assert "anchor: root 'CN=Test Root CA'" in out, out
    ski = openssl_ski(std(t).root.pem).replace(":", "").lower()
    assert "AT+S.TLSCERT=ca,%d<CR>" % len(std(t).root.bytes("der")) in out, out
    assert "AT+S.FSC=/%s.ca," % ski in out, out


# ---- at-script ---------------------------------------------------------------------------------


def test_cert_at_script_formats(t):
    root = std(t).root
    der = root.bytes("der")
    # HL from DER input: PEM text, count of the exact bytes
    s = run(t, "at-script", root.der, "--dialect", "hl", check_rc=0).stdout
    head, _, data = s.partition(b"\r")
    assert head == b"AT+KCERTSTORE=0,%d" % len(data) and data == root.bytes("pem"), s[:80]
    s = run(t, "at-script", root.pem, "--dialect", "hl", "--index", "2", check_rc=0).stdout
    assert s.startswith(b"AT+KCERTSTORE=0,%d,2\r" % len(root.bytes("pem")))
    # SPWF: DER after TLSCERT=ca; fs form: lower-case SKI file name
    s = run(t, "at-script", root.pem_crlf, "--dialect", "spwf", check_rc=0).stdout
    assert s == b"AT+S.TLSCERT=ca,%d\r" % len(der) + der
    s = run(t, "at-script", root.b64, "--dialect", "spwf", "--spwf-form", "fs", check_rc=0).stdout
    ski = openssl_ski(root.pem).replace(":", "").lower()
    assert s == b"AT+S.FSC=/%s.ca,%d\r" % (ski.encode(), len(der)) + der, s[:80]
    # client credentials
    c = std(t).client_ec
    s = run(t, "at-script", c.pem, "--dialect", "hl", "--as", "client-cert", check_rc=0).stdout
    assert s.startswith(b"AT+KCERTSTORE=1,%d\r" % len(c.bytes("pem")))
    s = run(t, "at-script", c.key, "--dialect", "hl", "--as", "client-key", check_rc=0).stdout
    head, _, data = s.partition(b"\r")
    assert head == b"AT+KPRIVKSTORE=0,%d" % len(data) and data.startswith(b"-----BEGIN "), s[:80]
    # a leaf as a CA: allowed (a pin) but said on stderr
    p = run(t, "at-script", std(t).coursera.pem, "--dialect", "hl", check_rc=0)
    assert b"NOT a CA" in p.stderr, p.stderr


@timeout(90)
def test_cert_at_script_piped_into_stdio_modem_then_get(t):
    """`tlsmodem-cert at-script root.pem --dialect hl | tlsmodem --stdio` stores the root;
    a modem on the same store then verifies the SNI-only server."""
    ng = sni_nginx(t)
    store = t.path("piped-store")
    os.makedirs(store)
    script = run(t, "at-script", std(t).root.pem, "--dialect", "hl", check_rc=0).stdout
    p = subprocess.run([t.bin, "--stdio", "--dialect", "hl", "--store", store, "--ca-bundle", "none"],
                       input=script, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    t.log("piped modem: %r %r" % (p.stdout, p.stderr))
    assert p.returncode == 0, p.stderr
    assert p.stdout.endswith(b"\r\nCONNECT\r\n\r\nOK\r\n"), p.stdout
    m = t.modem(store=store, resolve=["%s:%d:127.0.0.1" % (HOST, ng.port)])
    hl.start(m, cmee=2)
    sid, _ = hl.cfg(m, 1, HOST, ng.port, 1)
    assert hl.get(m, sid, "/").endswith(PAGE)
    # and without the root the same GET is refused (the script did the work)
    m2 = t.modem(resolve=["%s:%d:127.0.0.1" % (HOST, ng.port)])
    hl.start(m2, cmee=2)
    sid2, _ = hl.cfg(m2, 1, HOST, ng.port, 1)
    hl.get_fails(m2, sid2, "/")
