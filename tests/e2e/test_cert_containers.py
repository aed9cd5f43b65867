"""tlsmodem-cert and certificate containers (docs/cert-tool.md "PKCS#12 and PKCS#7").

- convert reads PKCS#12 (.p12/.pfx, --password) and PKCS#7 (.p7b PEM, .p7c DER): the PEM it
  writes holds exactly the certificates (and, for PKCS#12, then the private key);
- inspect names these formats (and a PKCS#12 without the right password says so), instead of
  "not an unencrypted private key";
- an encrypted PEM key gets the exact openssl pkey command for that file.
"""
import os
import subprocess

from framework import timeout
from test_cert_tool import run


def _ossl(*args, input=None):
    return subprocess.run(["openssl"] + list(args), input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          check=True).stdout


def _pems(data):
    out, cur = [], None
    for line in data.decode().splitlines(keepends=True):
        if line.startswith("-----BEGIN "):
            cur = [line]
        elif cur is not None:
            cur.append(line)
            if line.startswith("-----END "):
                out.append("".join(cur))
                cur = None
    return out


@timeout(120)
def test_cert_convert_and_inspect_pkcs12(t):
    leaf = t.pki.coursera
    p12 = os.path.join(t.tmp, "server.p12")
    _ossl("pkcs12", "-export", "-in", leaf.pem, "-inkey", leaf.key, "-certfile", t.pki.inter.pem,
          "-out", p12, "-passout", "pass:s3cret")
    p = run(t, "inspect", p12, check_rc=3)
    err = p.stderr.decode()
    assert "a PKCS#12 file protected by a password: no password was given (give it with --password)" in err, err
    p = run(t, "inspect", p12, "--password", "wrong", check_rc=3)
    assert "the password given does not open it" in p.stderr.decode()
    out = run(t, "inspect", p12, "--password", "s3cret", check_rc=0).stdout.decode()
    assert out.startswith("%s: PKCS#12, a bundle of 2 certificates: leaf, intermediate" % p12), out
    assert "that also holds a private key" in out, out
    pem = os.path.join(t.tmp, "server-from-p12.pem")
    run(t, "convert", p12, "--to", "pem", "-o", pem, "--password", "s3cret", check_rc=0)
    with open(pem, "rb") as f:
        blocks = _pems(f.read())
    assert blocks[0] == leaf.bytes("pem").decode(), blocks[0]
    assert blocks[1] == t.pki.inter.bytes("pem").decode()
    assert blocks[2].startswith("-----BEGIN PRIVATE KEY-----"), blocks
    assert _ossl("pkey", "-outform", "DER", input=blocks[2].encode()) == _ossl("pkey", "-in", leaf.key, "-outform", "DER")


@timeout(120)
def test_cert_convert_and_inspect_pkcs7(t):
    chain = t.pki.coursera.chain
    p7b = os.path.join(t.tmp, "chain.p7b")
    p7c = os.path.join(t.tmp, "chain.p7c")
    _ossl("crl2pkcs7", "-nocrl", "-certfile", chain, "-out", p7b)
    _ossl("crl2pkcs7", "-nocrl", "-certfile", chain, "-outform", "DER", "-out", p7c)
    with open(chain, "rb") as f:
        want = _pems(f.read())
    for path in (p7b, p7c):
        out = run(t, "inspect", path, check_rc=0).stdout.decode()
        assert out.startswith("%s: PKCS#7, a bundle of 2 certificates" % path), out
        got = run(t, "convert", path, "--to", "pem", check_rc=0).stdout
        assert _pems(got) == want, got


@timeout(60)
def test_cert_inspect_encrypted_key_gives_the_command(t):
    enc = os.path.join(t.tmp, "client-enc.pem")
    _ossl("pkey", "-in", t.pki.coursera.key, "-aes256", "-passout", "pass:x", "-out", enc)
    out = run(t, "inspect", enc, check_rc=1).stdout.decode()
    assert "an encrypted private key (PEM)" in out, out
    assert "openssl pkey -in %s -out %s.decrypted.pem" % (enc, enc) in out, out
