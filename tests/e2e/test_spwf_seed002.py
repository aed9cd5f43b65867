"""Seed 002 (SPWF04SA: Azure IoT Hub, ebay, ssllabs): TLSCERT=ca with a root in DER, then
HTTPGET through an RSA-4096 intermediate (the module: Certificate Error:22), a cross-signed
chain trusted through the old root and through the new one (the module: Http Client
Error:2), a P-384 chain (the module had no elliptic curves).  Plus an 8 MiB body, byte-exact."""
import hashlib
import re

from framework import timeout
from test_spwf_lib import http_fail, http_get, load_ca, ok, ski_of, spwf_modem

PAGE = b"<html>seed 002 page</html>\n"


class Chain:
    """Duck-typed for Nginx.vhost: the chain file the server sends and the key."""

    def __init__(self, t, name, leaf, extra):
        self.chain = t.pki.file(name, leaf.bytes("pem") + b"".join(c.bytes("pem") for c in extra))
        self.key = leaf.key


def serve(t, host, cert):
    ng = t.nginx()
    ng.vhost([host], cert, files={"index.html": PAGE})
    return ng.start()


@timeout(120)
def test_spwf_seed002_rsa4096_intermediate(t):
    pki = t.pki
    root = pki.make_ca("S2 Azure Root", key="rsa:2048")
    inter = pki.make_intermediate("S2 Azure Inter 4096", root, key="rsa:4096")
    leaf = pki.make_leaf(inter, cn="iothub.azure.test", sans=["DNS:iothub.azure.test"])
    ng = serve(t, "iothub.azure.test", leaf)
    m = spwf_modem(t, resolve=["iothub.azure.test:%d:127.0.0.1" % ng.port])
    ok(m, "AT+S.TLSCERT=content,2")
    ski = load_ca(m, root, "der")
    assert ski == ski_of(root), (ski, ski_of(root))          # printed as the module did
    status, body, r = http_get(m, "iothub.azure.test", "/", ng.port, 2)
    assert status == 200 and body == PAGE, (status, body, r)
    assert "verified by root 'CN=S2 Azure Root'" in m.trace_text()
    assert "from AT+S.TLSCERT=ca" in m.trace_text()


@timeout(120)
def test_spwf_seed002_cross_signed_old_and_new_root(t):
    pki = t.pki
    old = pki.make_ca("S2 Old Root", key="rsa:2048")
    new = pki.make_ca("S2 New Root", key="rsa:2048")
    cross = pki.make_cross(new, old)
    inter = pki.make_intermediate("S2 Shop Inter", new)
    leaf = pki.make_leaf(inter, cn="www.shop.test", sans=["DNS:www.shop.test"])
    ng = serve(t, "www.shop.test", Chain(t, "s2-shop-chain.pem", leaf, [inter, cross]))
    m = spwf_modem(t, resolve=["www.shop.test:%d:127.0.0.1" % ng.port])
    for anchor in (old, new):
        ok(m, "AT+S.TLSCERT=content,2")
        load_ca(m, anchor, "der")
        status, body, r = http_get(m, "www.shop.test", "", ng.port, 2)   # empty path = /
        assert status == 200 and body == PAGE, (anchor.name, status, r)
        assert "verified by root 'CN=%s'" % anchor.name in m.trace_text().splitlines()[-40:].__str__(), \
            "trace does not name %s as the anchor" % anchor.name
    # neither root: Certificate Error:23 with the reason
    ok(m, "AT+S.TLSCERT=content,2")
    load_ca(m, pki.wrong_root, "der")
    ce, he, final = http_fail(m, "www.shop.test", "/", ng.port, 2)
    assert (ce, he) == (23, 2), (ce, he, final)
    assert "S2 Old Root" in final or "S2 New Root" in final or "issuer" in final, final


@timeout(120)
def test_spwf_seed002_p384_chain_pem_ca(t):
    pki = t.pki
    root = pki.make_ca("S2 EC Root", key="ec:P-384")
    inter = pki.make_intermediate("S2 EC Inter", root, key="ec:P-384")
    leaf = pki.make_leaf(inter, cn="ec.shop.test", sans=["DNS:ec.shop.test"], key="ec:P-384")
    ng = serve(t, "ec.shop.test", leaf)
    m = spwf_modem(t, resolve=["ec.shop.test:%d:127.0.0.1" % ng.port])
    load_ca(m, root, "pem")
    status, body, r = http_get(m, "ec.shop.test", "/index.html", ng.port, 1)
    assert status == 200 and body == PAGE, (status, r)


@timeout(180)
def test_spwf_httpget_8mib_byte_exact(t):
    big = t.big_file(8 * 1024 * 1024)
    ng = t.nginx()
    ng.vhost(["www.coursera.test"], t.pki.coursera, big=big)
    ng.start()
    m = spwf_modem(t, resolve=["www.coursera.test:%d:127.0.0.1" % ng.port])
    load_ca(m, t.pki.root)
    m.send(b"AT+S.HTTPGET=www.coursera.test,/big.bin,%d,2,,,,\r" % ng.port)
    m.expect(b"AT-S.Http Server Status Code:200\r\n", 30)
    h = hashlib.sha256()
    n = m.stream_until(b"\r\nAT-S.OK\r\n", h.update, idle_timeout=30, total_timeout=150)
    assert n == big[2], (n, big[2])
    assert h.hexdigest() == big[1], "body differs"
    assert ok(m, "AT").ok


@timeout(60)
def test_spwf_httppost_file_body_and_response_file(t):
    echo = t.echo_server(t.pki.coursera)
    m = spwf_modem(t, resolve=["www.coursera.test:%d:127.0.0.1" % echo.port])
    load_ca(m, t.pki.root)
    body = b'{"temp": 21.5, "id": "spwf"}'
    ok(m, "AT+S.FSC=post.json,%d" % len(body), body)
    r = ok(m, "AT+S.HTTPPOST=www.coursera.test,/upload,%d,2,,,post.json,answer.bin" % echo.port, timeout=30)
    assert r.info("AT-S.Http Server Status Code:200") and r.info("AT-S.File:answer.bin:%d" % len(body)), r.text
    assert echo.bodies()[-1] == body
    m.send(b"AT+S.FSP=answer.bin\r")
    m.expect(b"AT-S.Reading:%d:%d\r\n" % (len(body), len(body)))
    assert m.expect(b"AT-S.OK\r\n").before == body


@timeout(120)
def test_spwf_httpget_into_a_file_exact_and_too_large(t):
    """HTTPGET's response file (7th argument): the body lands in the file
    byte-exact (TLS decrypts straight into the file buffer); one larger than
    a file may be (256 KiB) is refused and nothing is written."""
    fits = bytes((i * 7 + i // 251) % 256 for i in range(200 * 1024))
    large = fits + fits[:80 * 1024]
    ng = t.nginx()
    ng.vhost(["www.coursera.test"], t.pki.coursera, files={"fits.bin": fits, "large.bin": large})
    ng.start()
    m = spwf_modem(t, resolve=["www.coursera.test:%d:127.0.0.1" % ng.port])
    load_ca(m, t.pki.root)
    r = ok(m, "AT+S.HTTPGET=www.coursera.test,/fits.bin,%d,2,,,fits.bin," % ng.port, timeout=30)
    assert r.info("AT-S.File:fits.bin:%d" % len(fits)), r.text
    m.send(b"AT+S.FSP=fits.bin\r")
    m.expect(b"AT-S.Reading:%d:%d\r\n" % (len(fits), len(fits)))
    assert m.expect(b"AT-S.OK\r\n", 20).before == fits, "the file differs from the body"
    m.send(b"AT+S.HTTPGET=www.coursera.test,/large.bin,%d,2,,,large.bin,\r" % ng.port)
    r = m.expect(re.compile(rb"AT-S\.ERROR[^\r\n]*\r\n"), 30)
    assert b"AT-S.Http Client Error:45\r\n" in r.consumed, r.consumed
    final = r.match.decode(errors="replace")
    assert "does not fit into a file" in final and "nothing was written to 'large.bin'" in final, final
    assert not ok(m, "AT+S.FSL").info("AT-S.File:large.bin")
    assert ok(m, "AT").ok
