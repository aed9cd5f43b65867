"""ESP-AT vendor extensions for diagnostics: AT+TMPROBE and AT+TMCERTLIST
(docs/esp.md section 7), with the trust of the HTTP commands and of a link."""
import re

from esp_sock_lib import load_mfg
from framework import quick, timeout
from test_esp_http import HOST, esp_modem

PAGE = b"diag page\n"


def probe(m, cmd, timeout=40):
    r = m.at(cmd, timeout)
    return r, [l.decode("utf-8", "replace")[len("+TMPROBE:"):] for l in info(r, "+TMPROBE:")]


def info(r, prefix):
    """Information lines (the ESP voice writes them without a leading CR LF)."""
    return [l for l in r.text.split(b"\r\n") if l.startswith(prefix.encode())]


def find(lines, rx):
    for l in lines:
        if re.search(rx, l):
            return l
    raise AssertionError("no report line matches /%s/:\n%s" % (rx, "\n".join(lines)))


@timeout(90)
def test_esp_tmprobe_http_trust_and_link_trust(t):
    ng = t.nginx()
    ng.vhost([HOST], t.pki.coursera, files={"index.html": PAGE})
    ng.start()
    m = esp_modem(t, resolve=["%s:%d:127.0.0.1" % (HOST, ng.port)])
    # nothing loaded, no bundle: the verdict says untrusted, the report is complete
    r, rep = probe(m, 'AT+TMPROBE="%s",%d' % (HOST, ng.port))
    assert r.ok, r
    assert rep[0] == "probe %s:%d (127.0.0.1:%d)" % (HOST, ng.port, ng.port), rep
    find(rep, r"^TLS: TLSv1\.[23] .*SNI www\.coursera\.test$")
    find(rep, r"^\[0\] leaf CN=www\.coursera\.test; issuer CN=Test Intermediate CA; ")
    find(rep, r"^verdict: refused: ")
    find(rep, r"^server needs SNI: yes")
    # the root loaded for HTTP (https_ca): verified
    load_mfg(m, "https_ca", "https_ca.0", t.pki.root.bytes("pem"))
    r, rep = probe(m, 'AT+TMPROBE="%s",%d' % (HOST, ng.port))
    t.log(r.text.decode(errors="replace"))
    assert r.ok, r
    find(rep, r"^verdict: verified by root 'CN=Test Root CA'")
    # link 0 trusts client_ca only (empty) -> refused, as AT+CIPSTART "SSL" would be
    r, rep = probe(m, 'AT+TMPROBE="%s",%d,0' % (HOST, ng.port))
    assert r.ok, r
    find(rep, r"^verdict: refused: ")
    # bad input and an unreachable server: ERROR, reason in the trace
    assert m.at('AT+TMPROBE="%s",%d,7' % (HOST, ng.port)).final == b"ERROR"
    assert m.at('AT+TMPROBE="https://%s/"' % HOST).final == b"ERROR"
    assert "is a URL, not a host name" in m.trace_text()
    from servers import free_port
    r = m.at('AT+TMPROBE="127.0.0.1",%d' % free_port(), 40)
    assert r.final == b"ERROR", r
    m.at_ok("AT")


@quick
@timeout(40)
def test_esp_tmcertlist(t):
    m = esp_modem(t)
    r = m.at_ok("AT+TMCERTLIST")
    assert b"+TMCERTLIST:" not in r.text, r
    load_mfg(m, "client_ca", "client_ca.0", t.pki.inter.bytes("pem") + t.pki.root.bytes("pem"))
    load_mfg(m, "https_ca", "https_ca.0", t.pki.root.bytes("der"))
    r = m.at_ok("AT+TMCERTLIST")
    lines = [l.decode()[len("+TMCERTLIST:"):] for l in info(r, "+TMCERTLIST:")]
    assert len(lines) == 3, lines
    find(lines, r"^client_ca/client_ca\.0:1/2:intermediate CN=Test Intermediate CA; issuer CN=Test Root CA; ")
    find(lines, r"^client_ca/client_ca\.0:2/2:root CN=Test Root CA; ")
    find(lines, r"^https_ca/https_ca\.0:1/1:root CN=Test Root CA; ")
