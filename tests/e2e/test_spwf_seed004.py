"""Seed 004 (SPWF04 one-way TLS with the CA in the file system): the user stored the root
as <subject key identifier>.ca after TLSCERT=content,2 and got Certificate Error:23 (name
case, format, clock).  Here: the SKI-named file works in lower or upper case, with or
without colons, DER or PEM; any host-written file named *.ca works; a CA under another name
is not an anchor (the reason says to rename it) until AT+S.FSR gives it a .ca name; a
self-signed server certificate without a chain works once stored as .ca; a clock left unset
is reported as such (not as an unknown CA)."""
import time

from framework import timeout
from test_spwf_lib import cmd, http_fail, http_get, load_ca, ok, ski_of, spwf_modem

HOST = "iot.seed4.test"
PAGE = b"seed 004\n"


def server(t):
    root = t.pki.make_ca("S4 IoT Root", key="rsa:2048")
    inter = t.pki.make_intermediate("S4 IoT Inter", root)
    leaf = t.pki.make_leaf(inter, sans=["DNS:" + HOST])
    ng = t.nginx()
    ng.vhost([HOST], leaf, files={"index.html": PAGE})
    return root, ng.start()


@timeout(120)
def test_spwf_seed004_ca_in_file_system_by_ski(t):
    root, ng = server(t)
    m = spwf_modem(t, resolve=["%s:%d:127.0.0.1" % (HOST, ng.port)])
    ok(m, "AT+S.TLSCERT=content,2")
    # nothing stored at all: Certificate Error:23 with the reason
    ce, he, final = http_fail(m, HOST, "/", ng.port, 1)
    assert (ce, he) == (23, 2), (ce, he, final)
    assert "S4 IoT" in final, final
    ski = ski_of(root)
    der = root.bytes("der")
    names = [ski.replace(":", "").lower() + ".ca", ski.upper() + ".ca", ski.replace(":", "") + ".CA",
             "/" + ski.lower() + ".ca"]
    for i, name in enumerate(names):
        ok(m, "AT+S.FSC=%s,%d" % (name, len(der)), der)
        status, body, r = http_get(m, HOST, "/", ng.port, 1)
        assert status == 200 and body == PAGE, (name, r)
        assert m.trace_text().count("(named by its SKI)") == i + 1, name
        ok(m, "AT+S.FSD=%s" % name)
    # another name, PEM: not an anchor (the module takes *.ca files); the reason says so
    pem = root.bytes("pem")
    ok(m, "AT+S.FSC=IoT Root.cer,%d" % len(pem), pem)
    ce, he, final = http_fail(m, HOST, "/", ng.port, 2)
    assert ce == 23, final
    assert "file 'IoT Root.cer' (CA 'CN=S4 IoT Root') is not an anchor: its name does not end in .ca" in final, final
    # renamed by the host: an anchor (the host wrote it; the name marks it as a CA)
    ok(m, "AT+S.FSR=IoT Root.cer,IoT Root.ca")
    status, body, r = http_get(m, HOST, "/", ng.port, 2)
    assert status == 200 and body == PAGE, r
    assert "file 'IoT Root.ca'" in m.trace_text()
    # a wrong CA under the right-looking name is not trusted
    ok(m, "AT+S.FSD=IoT Root.ca")
    w = t.pki.wrong_root.bytes("der")
    ok(m, "AT+S.FSC=%s.ca,%d" % (ski.replace(":", "").lower(), len(w)), w)
    ce, he, final = http_fail(m, HOST, "/", ng.port, 2)
    assert ce == 23, final


@timeout(120)
def test_spwf_seed004_self_signed_server(t):
    cert = t.pki.make_self_signed(["DNS:self.seed4.test"])
    ng = t.nginx()
    ng.vhost(["self.seed4.test"], cert, files={"index.html": PAGE})
    ng.start()
    m = spwf_modem(t, resolve=["self.seed4.test:%d:127.0.0.1" % ng.port])
    ce, he, final = http_fail(m, "self.seed4.test", "/", ng.port, 2)
    assert ce == 23, final
    d = cert.bytes("der")
    ok(m, "AT+S.FSC=server.ca,%d" % len(d), d)
    status, body, r = http_get(m, "self.seed4.test", "/", ng.port, 2)
    assert status == 200 and body == PAGE, r
    # and the same through TLSCERT=ca + a socket
    ok(m, "AT+S.FSD=server.ca")
    load_ca(m, cert)
    r = ok(m, "AT+S.SOCKON=self.seed4.test,%d,,s" % ng.port)
    assert r.info("AT-S.On:127.0.0.1:0"), r.text
    ok(m, "AT+S.SOCKC=0")


@timeout(120)
def test_spwf_seed004_clock_unset_reported(t):
    root, ng = server(t)
    m = spwf_modem(t, resolve=["%s:%d:127.0.0.1" % (HOST, ng.port)], extra_args=["--clock", "unset"])
    load_ca(m, root)
    ce, he, final = http_fail(m, HOST, "/", ng.port, 2)
    assert ce == 111 and he == 2, (ce, he, final)
    assert "clock" in final and "AT+S.TIME" in final, final
    r = cmd(m, "AT+S.SOCKON=%s,%d,,s" % (HOST, ng.port))
    assert b"AT-S.Certificate Error:111\r\n" in r.text and b"clock" in r.final, r.text
    ok(m, "AT+S.TIME=%d" % int(time.time()))
    status, body, r = http_get(m, HOST, "/", ng.port, 2)
    assert status == 200 and body == PAGE, r
    # a clock set far in the past: the dates are checked against the module clock
    ok(m, "AT+S.TIME=1000000000")
    ce, he, final = http_fail(m, HOST, "/", ng.port, 2)
    assert ce == 111 and "2001" in final, final
