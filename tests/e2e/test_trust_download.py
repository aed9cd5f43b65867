"""SPWF: a file downloaded over the network never becomes a trust anchor (issue 10, item 2).

The attack: `AT+S.HTTPGET=…,0,,,update.bin` (plain HTTP, anyone on the path can answer)
saves an "Evil CA" certificate in the file system; when every CA-looking stored file was an
anchor, the next `AT+S.SOCKON` to a server of that CA was accepted.  Now only TLSCERT=ca and
files the host wrote with AT+S.FSC/FSA under a *.ca name are anchors; a downloaded file is
refused whatever its name (update.bin, evil.ca, <ski>.ca), after AT+S.FSR, after a host
append, and after a restart (the provenance is stored).  The refusal names the file and why.
Positive control: the same certificate written by the host as *.ca is an anchor.

Servers: one nginx with a TLS vhost whose chain is issued by "Evil CA", a TLS vhost of the
test root, and a plain-HTTP server block serving the Evil CA certificate.
"""
import os
import re

from framework import timeout
from servers import free_port
from test_spwf_lib import cmd, ok, ski_of, spwf_modem

EVIL = "evil.trust.test"
GOOD = "www.coursera.test"
UPDATE = "update.trust.test"


def servers(t):
    evil_ca = t.pki.make_ca("Evil CA")
    evil_leaf = t.pki.make_leaf(evil_ca, sans=["DNS:" + EVIL])
    ng = t.nginx()
    ng.vhost([EVIL], evil_leaf, files={"index.html": b"evil\n"})
    ng.vhost([GOOD], t.pki.coursera, files={"index.html": b"good\n"})
    # plain HTTP: what a man in the middle (or a compromised update server) controls
    www = t.path("plain-www")
    os.makedirs(www, exist_ok=True)
    for name, data in (("update.bin", evil_ca.bytes("der")), ("evil.pem", evil_ca.bytes("pem"))):
        with open(os.path.join(www, name), "wb") as f:
            f.write(data)
    plain_port = free_port()
    ng.blocks.append("    server {\n        listen 127.0.0.1:%d;\n        server_name %s;\n"
                     "        root %s;\n    }" % (plain_port, UPDATE, www))
    ng.start()
    return evil_ca, ng, plain_port


def modem(t, ng, plain_port, **kw):
    return spwf_modem(t, resolve=["%s:%d:127.0.0.1" % (EVIL, ng.port), "%s:%d:127.0.0.1" % (GOOD, ng.port),
                                  "%s:%d:127.0.0.1" % (UPDATE, plain_port)], **kw)


def download(m, plain_port, path, name, expect):
    r = ok(m, "AT+S.HTTPGET=%s,%s,%d,0,,,%s," % (UPDATE, path, plain_port, name))
    assert r.info("AT-S.Http Server Status Code:200"), r.text
    assert r.info("AT-S.File:%s:%d" % (name, len(expect))), r.text
    # the file system item on disk ('/' of "fs/<name>" escaped) holds what the server sent
    with open(os.path.join(m.store, "spwf", "fs%2F" + name), "rb") as f:
        assert f.read() == expect, name


def sockon_refused(t, m, ng, label):
    """SOCKON to the Evil CA's server must fail with Certificate Error:23 and a reason;
    returns the final line (text)."""
    r = cmd(m, "AT+S.SOCKON=%s,%d,,s" % (EVIL, ng.port))
    t.log("%s: %s" % (label, r.final.decode(errors="replace")))
    assert not r.ok, "%s: the Evil CA's server was trusted: %r" % (label, r.text)
    assert b"AT-S.Certificate Error:23\r\n" in r.text, (label, r.text)
    return r.final.decode(errors="replace")


@timeout(120)
def test_trust_spwf_download_is_never_an_anchor(t):
    evil_ca, ng, plain_port = servers(t)
    store = t.path("spwf-store")
    m = modem(t, ng, plain_port, store=store)
    der, pem = evil_ca.bytes("der"), evil_ca.bytes("pem")
    ski = ski_of(evil_ca)
    ski_name = ski.replace(":", "").lower() + ".ca"

    # the attack of the issue: a plain-HTTP download named update.bin
    download(m, plain_port, "/update.bin", "update.bin", der)
    assert [l for l in ng.access_log() if "GET /update.bin" in l], "the download went over the network"
    final = sockon_refused(t, m, ng, "update.bin downloaded")
    assert "file 'update.bin' (CA 'CN=Evil CA') is not an anchor: it was written from the network by " \
           "AT+S.HTTPGET" in final, final
    # HTTPS GET to the same server: refused the same way
    r = cmd(m, "AT+S.HTTPGET=%s,/,%d,2,,,," % (EVIL, ng.port))
    assert b"AT-S.Certificate Error:23\r\n" in r.text and not r.ok, r.text

    # downloaded under CA-looking names: named as the module names CA files, still refused
    download(m, plain_port, "/update.bin", ski_name, der)
    download(m, plain_port, "/evil.pem", "evil.ca", pem)
    final = sockon_refused(t, m, ng, "downloaded as <ski>.ca and evil.ca")
    assert "file '%s' (CA 'CN=Evil CA') is not an anchor: it was written from the network" % ski_name in final
    assert "file 'evil.ca' (CA 'CN=Evil CA') is not an anchor" in final, final
    # the host renames one, appends to another: the provenance goes with the content
    ok(m, "AT+S.FSR=evil.ca,renamed.ca")
    ok(m, "AT+S.FSA=renamed.ca,2", b"\r\n")
    ok(m, "AT+S.FSD=update.bin")
    final = sockon_refused(t, m, ng, "renamed + appended")
    assert "file 'renamed.ca' (CA 'CN=Evil CA') is not an anchor: it was written from the network" in final

    # the host's own trust still works, and does not make the downloads count
    r = ok(m, "AT+S.TLSCERT=ca,%d" % len(t.pki.root.bytes("der")), t.pki.root.bytes("der"))
    r = ok(m, "AT+S.SOCKON=%s,%d,,s" % (GOOD, ng.port))
    ok(m, "AT+S.SOCKC=0")
    final = sockon_refused(t, m, ng, "with the host's TLSCERT root")
    assert "not among the 1 loaded certificate ('CN=Test Root CA')" in final or "'CN=Test Root CA'" in final
    assert "(AT+S.TLSCERT=ca,<length>)" in final, final      # the fix in this dialect's words
    tr = m.trace_text()
    assert re.search(r"trust: file 'renamed.ca' \(CA 'CN=Evil CA'\) is NOT an anchor", tr), tr[-2000:]
    assert "from file 'renamed.ca'" not in tr and "from file '%s'" % ski_name not in tr, "never listed as anchor"
    # AT+S.TMCERTLIST says which stored files are not anchors, and why
    lines = [l.decode() for l in ok(m, "AT+S.TMCERTLIST").info("AT-S.TMCertList:fs:")]
    t.log("\n".join(lines))
    assert [l for l in lines if l.startswith("AT-S.TMCertList:fs:renamed.ca:1/1:root CN=Evil CA;") and
            l.endswith("; not a trust anchor: it was written from the network by AT+S.HTTPGET/HTTPPOST "
                       "(never a trust anchor)")], lines
    m.close()

    # after a restart on the same store: still not anchors
    m = modem(t, ng, plain_port, store=store)
    sockon_refused(t, m, ng, "after restart")

    # positive control: the same certificate written by the host as *.ca is an anchor
    ok(m, "AT+S.FSC=host-evil.ca,%d" % len(der), der)
    r = ok(m, "AT+S.SOCKON=%s,%d,,s" % (EVIL, ng.port))
    assert r.info("AT-S.On:127.0.0.1:"), r.text
    assert "from file 'host-evil.ca'" in m.trace_text()
    lines = [l.decode() for l in ok(m, "AT+S.TMCERTLIST").info("AT-S.TMCertList:fs:host-evil.ca:")]
    assert lines and "not a trust anchor" not in lines[0], lines
    ok(m, "AT+S.SOCKC=0")
