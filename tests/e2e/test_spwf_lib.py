"""SPWF04 (ST "S." commands) host-side helpers for the e2e tests (no tests here).

    m = spwf_modem(t, resolve=[...])        # --dialect spwf, waits for the boot +WIND lines
    r = cmd(m, "AT+S.SOCKON=www.ssl.test,443,,s")  -> Res (.ok .final .lines .info())
    r = cmd(m, "AT+S.SOCKW=0,41", data=b"GET / ...")  (payload right after the CR)
"""
import re
import subprocess

from modem import ModemError, show

FINAL_RE = re.compile(rb"(?<![^\r\n])(AT-S\.OK|AT-S\.ERROR[^\r\n]*)\r\n")
READING_RE = re.compile(rb"(?<![^\r\n])AT-S\.Reading:(\d+):(\d+)\r\n")
STATUS_RE = re.compile(rb"(?<![^\r\n])AT-S\.Http Server Status Code:(\d+)\r\n")


class Res:
    def __init__(self, cmd, text, final):
        self.cmd = cmd
        self.text = text
        self.final = final
        self.lines = [l for l in text.split(b"\r\n") if l]

    @property
    def ok(self):
        return self.final == b"AT-S.OK"

    def info(self, prefix):
        if isinstance(prefix, str):
            prefix = prefix.encode()
        return [l for l in self.lines if l.startswith(prefix)]

    def __repr__(self):
        return "<Res %r -> %r %r>" % (self.cmd, self.final, self.text[-600:])


def spwf_modem(t, resolve=(), **kw):
    m = t.modem(dialect="spwf", resolve=list(resolve), **kw)
    m.expect(re.compile(rb"\+WIND:24:WiFi Up[^\r\n]*\r\n"), 10)
    return m


def cmd(m, line, data=None, timeout=20):
    if isinstance(line, str):
        line = line.encode()
    m.send(line + b"\r" + (data or b""))
    mt = m.expect(FINAL_RE, timeout)
    return Res(line, mt.consumed, mt.group(1))


def ok(m, line, data=None, timeout=20):
    r = cmd(m, line, data, timeout)
    if not r.ok:
        raise ModemError("%r -> %r (expected AT-S.OK)\n%s" % (line, r.final, show(r.text, 1200)))
    return r


def err(m, line, number=None, text=(), data=None, timeout=20):
    """The command must fail: AT-S.ERROR:<number>:… whose text matches every regex in text."""
    r = cmd(m, line, data, timeout)
    assert not r.ok, "%r: expected AT-S.ERROR, got %r" % (line, r.text)
    if number is not None:
        assert r.final.startswith(b"AT-S.ERROR:%d:" % number), "%r: expected AT-S.ERROR:%d, got %r" % (
            line, number, r.final)
    msg = r.final.decode("utf-8", "replace")
    for rx in ([text] if isinstance(text, str) else text):
        assert re.search(rx, msg, re.I), "%r: %r does not match /%s/" % (line, msg, rx)
    return r


def der(cert):
    return cert.bytes("der")


def load_ca(m, cert, form="der"):
    """TLSCERT=ca,<len> + the certificate; returns the SubjectKeyId printed."""
    data = cert.bytes(form)
    r = ok(m, "AT+S.TLSCERT=ca,%d" % len(data), data)
    ski = r.info("AT-S.SubjectKeyId:")
    assert ski, "no AT-S.SubjectKeyId line: %r" % r.text
    return ski[-1].split(b":", 1)[1].decode()


def ski_of(cert):
    """SKI of a certificate as openssl prints it: "AB:CD:…" (upper case)."""
    out = subprocess.run(["openssl", "x509", "-in", cert.pem, "-noout", "-ext", "subjectKeyIdentifier"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout.decode()
    m = re.search(r"([0-9A-F]{2}(?::[0-9A-F]{2})+)", out)
    return m.group(1) if m else None


def http_get(m, host, path, port, tls=2, timeout=30, files=",,"):
    """HTTPGET; returns (status or None, body bytes, Res of the end)."""
    line = "AT+S.HTTPGET=%s,%s,%d,%d,,%s" % (host, path, port, tls, files)
    m.send(line.encode() + b"\r")
    first = m.expect(re.compile(rb"(?<![^\r\n])(AT-S\.Http Server Status Code:(\d+)\r\n|AT-S\.ERROR[^\r\n]*\r\n)"),
                     timeout)
    if first.group(2) is None:
        return None, b"", Res(line, first.consumed, first.group(1).rstrip(b"\r\n"))
    status = int(first.group(2))
    end = m.expect(re.compile(rb"\r\n(AT-S\.OK|AT-S\.Http Client Error[^\r\n]*\r\n(?:[^\r\n]*\r\n)*?"
                              rb"AT-S\.ERROR[^\r\n]*)\r\n"), timeout)
    return status, end.before, Res(line, first.consumed + end.consumed, end.group(1).split(b"\r\n")[-1])


def http_fail(m, host, path, port, tls=2, timeout=30):
    """HTTPGET that must fail: returns (cert_error or None, client_error, final line)."""
    status, body, r = http_get(m, host, path, port, tls, timeout)
    assert status is None and not r.ok, "expected a failure, got status %r: %r" % (status, r.text[-400:])
    ce = re.search(rb"AT-S\.Certificate Error:(\d+)\r\n", r.text)
    he = re.search(rb"AT-S\.Http Client Error:(\d+)\r\n", r.text)
    assert he, "no AT-S.Http Client Error line: %r" % r.text
    assert r.final.startswith(b"AT-S.ERROR:111:Request failed"), r.final
    return (int(ce.group(1)) if ce else None), int(he.group(1)), r.final.decode("utf-8", "replace")
