"""HL (Sierra HL85xx "K" commands) host-side helpers for the e2e tests."""
import re
import time

from modem import FINAL_RE, ModemError, show

PATTERN = b"--EOF--Pattern--"
ERR_URC_RE = re.compile(rb"\r\n\+KHTTPS_ERROR: (\d+),(\d+)(?:,([^\r\n]*))?\r\n")
CFG_RE = re.compile(rb"\r\n\+KHTTPSCFG: (\d+)\r\n")


def clock_now():
    """The host's UTC time in +CCLK form "yy/MM/dd,hh:mm:ss+00"."""
    return time.strftime("%y/%m/%d,%H:%M:%S+00", time.gmtime())


def start(m, cmee=1):
    """Echo off (it is on by default), error level, clock, GPRS profile."""
    m.at_ok("ATE0")
    m.at_ok("AT+CMEE=%d" % cmee)
    m.at_ok('AT+CCLK="%s"' % clock_now())
    m.at_ok('AT+KCNXCFG=1,"GPRS","MYAPN"')


def cme(m, cmd, number=None, text=None):
    """Run cmd and require a +CME ERROR.  number: at CMEE=1, the exact answer
    "\\r\\n+CME ERROR: <number>\\r\\n"; text: at CMEE=2, regexes the message
    must match (case-insensitive).  Returns the AtResult(s)."""
    out = []
    if number is not None:
        m.at_ok("AT+CMEE=1")
        r = m.at(cmd)
        exp = b"\r\n+CME ERROR: %d\r\n" % number
        assert r.text == exp, "%s\n  at CMEE=1 expected %r\n  got %r" % (cmd, exp, r.text)
        out.append(r)
    if text:
        m.at_ok("AT+CMEE=2")
        r = m.at(cmd)
        assert r.final.startswith(b"+CME ERROR: "), "%s at CMEE=2: expected +CME ERROR, got %r" % (cmd, r.text)
        msg = r.final[len(b"+CME ERROR: "):].decode("utf-8", "replace")
        assert not re.fullmatch(r"\d+", msg), "%s at CMEE=2: a number, not a sentence: %r" % (cmd, msg)
        for rx in ([text] if isinstance(text, str) else text):
            assert re.search(rx, msg, re.I), "%s at CMEE=2: message %r does not match /%s/" % (cmd, msg, rx)
        out.append(r)
    return out


def data_cmd(m, cmd, data, end="pattern", timeout=15):
    """A command that answers CONNECT and takes data: send `data`, end it by
    "count" (nothing more), "pattern" (the EOF pattern) or "escape" (+++ with
    guard times).  Returns the AtResult of the end (OK / error, with info lines)."""
    r = m.at(cmd, timeout)
    if r.final != b"CONNECT":
        raise ModemError("%s: expected CONNECT, got %s" % (cmd, show(r.text, 300)))
    if end == "escape":
        m.guard()
        m.send(data)
        m.escape()
    elif end == "pattern":
        m.send(data + PATTERN)
    elif end == "count":
        m.send(data)
    else:
        raise ValueError(end)
    mm = m.expect(FINAL_RE, timeout)
    from modem import AtResult
    return AtResult(cmd + " <data %d bytes, end=%s>" % (len(data), end), mm.consumed, mm.group(1))


def store_cert(m, data, typ=0, end="count", index=None):
    """AT+KCERTSTORE=<typ>[,<len>[,<index>]] + data; returns the final AtResult."""
    if end == "count":
        cmd = "AT+KCERTSTORE=%d,%d" % (typ, len(data)) + ("" if index is None else ",%d" % index)
    else:
        cmd = "AT+KCERTSTORE=%d" % typ
    return data_cmd(m, cmd, data, end)


def cfg(m, cnx, host, port=None, sec=None, expect_ok=True):
    """AT+KHTTPSCFG=cnx,"host"[,port[,sec]] -> session id (int)."""
    cmd = 'AT+KHTTPSCFG=%d,"%s"' % (cnx, host)
    if port is not None:
        cmd += ",%d" % port
        if sec is not None:
            cmd += ",%d" % sec
    r = m.at(cmd)
    if not r.ok:
        raise ModemError("%s -> %s" % (cmd, show(r.text, 400)))
    mm = CFG_RE.search(r.text)
    assert mm, "%s: no +KHTTPSCFG: <id> line in %r" % (cmd, r.text)
    return int(mm.group(1)), r


def header(m, sid, text, end="pattern"):
    """AT+KHTTPSHEADER=<sid> with text (bytes); returns the final AtResult."""
    return data_cmd(m, "AT+KHTTPSHEADER=%d" % sid, text, end)


def get(m, sid, uri, extra="", timeout=30):
    """AT+KHTTPSGET=<sid>,"<uri>"<extra>; requires success; returns the bytes
    between CONNECT and the EOF pattern."""
    cmd = 'AT+KHTTPSGET=%d,"%s"%s' % (sid, uri, extra)
    r = m.at(cmd, timeout)
    if r.final != b"CONNECT":
        why = ""
        if r.final == b"NO CARRIER":
            try:
                why = " " + show(m.expect(ERR_URC_RE, 5).match)
            except ModemError:
                pass
        raise ModemError("%s: expected CONNECT, got %s%s" % (cmd, show(r.text, 300), why))
    body = m.expect(PATTERN, timeout).before
    fin = m.expect(FINAL_RE, timeout)
    assert fin.group(1) == b"OK" and fin.before == b"", \
        "%s: after the EOF pattern expected \\r\\nOK\\r\\n, got %r" % (cmd, fin.consumed)
    return body


def get_fails(m, sid, uri, timeout=30):
    """AT+KHTTPSGET that must fail: NO CARRIER then +KHTTPS_ERROR.
    Returns (session id, code, third field or None)."""
    cmd = 'AT+KHTTPSGET=%d,"%s"' % (sid, uri)
    r = m.at(cmd, timeout)
    assert r.final == b"NO CARRIER", "%s: expected NO CARRIER, got %s" % (cmd, show(r.text, 300))
    u = m.expect(ERR_URC_RE, 10)
    third = u.group(3).decode("utf-8", "replace") if u.group(3) is not None else None
    return int(u.group(1)), int(u.group(2)), third


def post(m, sid, uri, body, timeout=30):
    """AT+KHTTPSPOST: CONNECT, body + EOF pattern; returns the response body."""
    cmd = 'AT+KHTTPSPOST=%d,"%s"' % (sid, uri)
    r = m.at(cmd, timeout)
    if r.final != b"CONNECT":
        raise ModemError("%s: expected CONNECT, got %s" % (cmd, show(r.text, 300)))
    m.send(body + PATTERN)
    resp = m.expect(PATTERN, timeout).before
    fin = m.expect(FINAL_RE, timeout)
    assert fin.group(1) == b"OK" and fin.before == b"", \
        "%s: after the EOF pattern expected \\r\\nOK\\r\\n, got %r" % (cmd, fin.consumed)
    return resp
