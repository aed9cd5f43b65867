"""Seed 003 (SPWF04 mutual TLS with an ECDSA P-256 client certificate): the module's
CertificateVerify was rejected ("bad signature") by Node.js and openssl s_server.  Here:
TLSCERT=ca/cert/key, HTTPGET with the user's exact arguments against `openssl s_server
-Verify` forced to ECDHE-ECDSA-AES128-GCM-SHA256, and against nginx with
ssl_verify_client on: 16 handshakes in a row, all accepted."""
import re

from framework import timeout
from test_spwf_lib import cmd, http_fail, http_get, load_ca, ok, spwf_modem

SUITE = "ECDHE-ECDSA-AES128-GCM-SHA256"


def load_client(m, t):
    c = t.pki.client_ec.bytes("pem")
    ok(m, "AT+S.TLSCERT=cert,%d" % len(c), c)
    k = t.pki.client_ec.bytes("key")
    ok(m, "AT+S.TLSCERT=key,%d" % len(k), k)


def ec_server_cert(t, sans):
    root = t.pki.make_ca("S3 EC Root", key="ec:P-256")
    return root, t.pki.make_leaf(root, sans=sans, key="ec:P-256")


@timeout(120)
def test_spwf_seed003_mtls_s_server_16_handshakes(t):
    root, leaf = ec_server_cert(t, ["IP:127.0.0.1"])
    srv = t.s_server(leaf, args=["-cipher", SUITE, "-tls1_2"], verify=1, ca=t.pki.client_ca)
    m = spwf_modem(t)
    ok(m, "AT+S.TLSCERT=content,2")
    load_ca(m, root)
    load_client(m, t)
    for i in range(16):
        status, body, r = http_get(m, "127.0.0.1", "conf", srv.port, 2)
        assert status == 200, "handshake %d: %r" % (i + 1, r)
        assert SUITE.encode() in body or b"ECDHE-ECDSA-AES128-GCM-SHA256" in body or b"s_server" in body, body[:300]
    trace = m.trace_text()
    assert trace.count("server asked for a client certificate") >= 16, "client certificate not asked 16 times"
    assert "ECDHE-ECDSA-AES128-GCM-SHA256" in trace or "ECDHE-ECDSA-AES128-GCM" in trace
    # the user's exact form: 7th argument = file for the response
    r = ok(m, "AT+S.HTTPGET=127.0.0.1,conf,%d,2,,,config.txt," % srv.port, timeout=30)
    assert r.info("AT-S.Http Server Status Code:200") and r.info("AT-S.File:config.txt:"), r.text
    assert ok(m, "AT+S.FSL").info("AT-S.File:config.txt:")
    # without the client credential: refused by the server, said so
    ok(m, "AT+S.TLSCERT=content,2")
    load_ca(m, root)
    ce, he, final = http_fail(m, "127.0.0.1", "/", srv.port, 2)
    assert he == 2 and ce is None, (ce, he, final)
    assert re.search(r"client certificate|alert|handshake", final, re.I), final


@timeout(120)
def test_spwf_seed003_mtls_nginx_16_handshakes(t):
    root, leaf = ec_server_cert(t, ["DNS:mtls.seed3.test"])
    ng = t.nginx()
    ng.vhost(["mtls.seed3.test"], leaf, files={"index.html": b"mtls ok\n"}, client_ca=t.pki.client_ca,
             verify_client="on")
    ng.start()
    m = spwf_modem(t, resolve=["mtls.seed3.test:%d:127.0.0.1" % ng.port])
    ok(m, "AT+S.TLSCERT=content,2")
    load_ca(m, root, "pem")
    load_client(m, t)
    for i in range(16):
        status, body, r = http_get(m, "mtls.seed3.test", "/", ng.port, 2)
        assert status == 200 and body == b"mtls ok\n", "request %d: %r" % (i + 1, r)
    log = ng.wait_access_log(lambda l: '"GET / ' in l, 16)
    assert len(log) == 16 and all("verify=SUCCESS" in l and "CN=client-ec" in l for l in log), log[-3:]
