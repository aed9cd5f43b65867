"""ESP-AT dialect, framing and basic commands (docs/esp.md §1, §9): exact bytes of
ready / OK / ERROR / ERR CODE / busy p..., echo, AT+GMR per chip, AT+CMD?, the
saved settings (AT+SYSSTORE, AT+UART_DEF, AT+RESTORE) and the module clock.

Helpers for the other test_esp_* files:
    m = esp_modem(t)                 # --dialect esp, "\\r\\nready\\r\\n" consumed
    out = cmd(m, "AT+GMR")           # bytes after the echo up to the final result
"""
import re
import time

from framework import quick

FINAL = re.compile(rb"\r\n(OK|ERROR)\r\n")
READY = b"\r\nready\r\n"


def esp_modem(t, echo=False, wifi=(), extra_args=(), **kw):
    """A modem with --dialect esp; echo off (ATE0) unless echo=True."""
    args = list(extra_args)
    for w in wifi:
        args += ["--wifi", w]
    m = t.modem(dialect="esp", extra_args=tuple(args), **kw)
    got = m.expect(READY, 10).consumed
    assert got == READY, got
    if not echo:
        m.send(b"ATE0\r\n")
        assert m.expect(FINAL).consumed == b"ATE0\r\n\r\nOK\r\n"
    return m


def cmd(m, line, timeout=10):
    """Sends line CR LF (echo off); returns everything up to its final result."""
    m.send(line.encode() + b"\r\n")
    return m.expect(FINAL, timeout).consumed


def ok(m, line, timeout=10):
    out = cmd(m, line, timeout)
    assert out.endswith(b"\r\nOK\r\n"), (line, out)
    return out


@quick
def test_esp_ready_echo_and_results(t):
    m = esp_modem(t, echo=True)
    # echo on at boot: the line comes back with CR LF, then the result
    m.send(b"AT\r\n")
    assert m.expect(FINAL).consumed == b"AT\r\n\r\nOK\r\n"
    m.send(b"AT+FAKE\r\n")
    assert m.expect(FINAL).consumed == b"AT+FAKE\r\n\r\nERROR\r\n"
    # a lone CR ends a line too; its echo is CR LF
    m.send(b"AT\r")
    assert m.expect(FINAL).consumed == b"AT\r\n\r\nOK\r\n"
    m.send(b"ATE0\r\n")
    assert m.expect(FINAL).consumed == b"ATE0\r\n\r\nOK\r\n"
    assert cmd(m, "AT") == b"\r\nOK\r\n"
    assert cmd(m, "ATE1") == b"\r\nOK\r\n"
    m.send(b"at\r\n")                                  # any case
    assert m.expect(FINAL).consumed == b"at\r\n\r\nOK\r\n"
    ok(m, "ATE0")
    # no V.250 extras: the firmware has ATE only
    for c in ("ATV0", "ATZ", "AT&F", "ATS3?", "AT+CMEE=1", "ATE", "ATE2"):
        assert cmd(m, c) == b"\r\nERROR\r\n", c
    assert cmd(m, "AT") == b"\r\nOK\r\n"


@quick
def test_esp_gmr_per_chip(t):
    m = esp_modem(t)
    assert cmd(m, "AT+GMR") == (b"AT version:4.1.1.0(ba4dd0e - ESP32 - Jul 31 2025 08:38:07)\r\n"
                                b"SDK version:v5.4.1-643-g8ad0d3d8f2\r\n"
                                b"compile time(7c092f9a):Aug  1 2025 05:35:19\r\n"
                                b"Bin version:v4.1.1.0(WROOM-32)\r\n\r\nOK\r\n")
    m2 = esp_modem(t, extra_args=("--model", "esp8266"))
    out = cmd(m2, "AT+GMR")
    assert out == (b"AT version:2.2.1.0(46d6c26 - ESP8266 - Aug  6 2021 06:50:15)\r\n"
                   b"SDK version:v3.4-22-g967752e2\r\n"
                   b"compile time(6800286):Aug  4 2021 17:20:05\r\n"
                   b"Bin version:2.2.1(WROOM-02)\r\n\r\nOK\r\n"), out
    # what WiFiEspAT reads: the text between ':' and '(' of the first line
    first = out.split(b"\r\n")[0]
    assert first[first.index(b":") + 1:first.index(b"(")] == b"2.2.1.0"
    assert cmd(m2, "AT+CIPSTAMAC?") == b'+CIPSTAMAC:"5c:cf:7f:74:6d:01"\r\n\r\nOK\r\n'
    assert cmd(m, "AT+CIPSTAMAC?") == b'+CIPSTAMAC:"24:0a:c4:74:6d:01"\r\n\r\nOK\r\n'


@quick
def test_esp_syslog_error_codes(t):
    m = esp_modem(t)
    assert cmd(m, "AT+SYSLOG?") == b"+SYSLOG:0\r\n\r\nOK\r\n"
    assert cmd(m, "AT+FAKE") == b"\r\nERROR\r\n"          # no code at SYSLOG=0
    ok(m, "AT+SYSLOG=1")
    assert cmd(m, "AT+SYSLOG?") == b"+SYSLOG:1\r\n\r\nOK\r\n"
    cases = [
        ("AT+FAKE", 0x01090000),                       # unsupported command
        ("?", 0x01030000),                             # no AT (WiFiEspAT's keep-alive after a command)
        ("AT+GMR?", 0x010C0000),                       # form the command does not have
        ("AT+SYSLOG=5", 0x01070000),                   # parameter 0 invalid
        ("AT+UART_CUR=115200,8,1,0,9", 0x01070004),     # parameter 4 invalid
        ("AT+UART_CUR=115200,8,1,0", 0x01060000),       # parameter count
        ("AT+CWJAP=\"ssid-of-33-bytes-xxxxxxxxxxxxxxxx\",\"pw\"", 0x01040000),   # length
        ("AT+CWJAP=\"abc", 0x01080000),                 # unterminated string: parse failure
    ]
    for line, code in cases:
        got = cmd(m, line)
        assert got == b"ERR CODE:0x%08x\r\n\r\nERROR\r\n" % code, (line, got)
    # tlsmodem's SYSLOG=2: the reason too, on one line
    ok(m, "AT+SYSLOG=2")
    got = cmd(m, "AT+UART_CUR=115200,8,1,0,9")
    assert got.startswith(b"ERR CODE:0x01070004\r\nERR REASON:a parameter is out of range: argument 5 "
                          b"(flow control) is 9, allowed 0 to 3"), got
    assert got.endswith(b"\r\n\r\nERROR\r\n") and got.count(b"\r\n") == 4, got
    ok(m, "AT+SYSLOG=0")
    assert cmd(m, "AT+FAKE") == b"\r\nERROR\r\n"
    assert "unknown command: AT+FAKE" in m.trace_text()


@quick
def test_esp_busy_while_a_command_runs(t):
    """A line sent while AT+CWJAP associates is answered "busy p..." (not
    echoed, never run); the command's own answer follows; then lines run."""
    m = esp_modem(t, echo=True)
    m.send(b'AT+CWJAP="tlsmodem","tlsmodem"\r\nAT+GMR\r\n\r\n?\r\n')
    got = m.expect(FINAL).consumed
    assert got == (b'AT+CWJAP="tlsmodem","tlsmodem"\r\n'
                   b"\r\nbusy p...\r\n\r\nbusy p...\r\n\r\nbusy p...\r\n"
                   b"WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n"), got
    m.send(b"AT\r\n")
    assert m.expect(FINAL).consumed == b"AT\r\n\r\nOK\r\n"     # nothing of the refused lines ran
    # at SYSLOG=1 the busy code comes first
    m.send(b"AT+SYSLOG=1\r\n")
    m.expect(FINAL)
    m.send(b'AT+CWJAP="nowhere","tlsmodem"\r\nAT\r\n')
    got = m.expect(FINAL).consumed
    assert got == (b'AT+CWJAP="nowhere","tlsmodem"\r\n'
                   b"WIFI DISCONNECT\r\n"
                   b"ERR CODE:0x010b0000\r\n\r\nbusy p...\r\n"
                   b"+CWJAP:3\r\nERR CODE:0x010a0000\r\n\r\nERROR\r\n"), got
    assert "refused: AT+CWJAP is still running" in m.trace_text()


@quick
def test_esp_cmd_list(t):
    m = esp_modem(t)
    out = cmd(m, "AT+CMD?")
    lines = out.split(b"\r\n")
    assert lines[0] == b'+CMD:0,"AT",0,0,0,1', lines[:3]
    rows = {}
    for i, l in enumerate(lines[:-3]):
        mm = re.match(rb'\+CMD:(\d+),"(AT[^"]*)",([01]),([01]),([01]),([01])$', l)
        assert mm, l
        assert int(mm.group(1)) == i
        rows[mm.group(2)] = tuple(int(mm.group(k)) for k in range(3, 7))
    assert rows[b"AT+GMR"] == (0, 0, 0, 1)
    assert rows[b"AT+CWJAP"] == (0, 1, 1, 1)
    assert rows[b"AT+SYSLOG"] == (0, 1, 1, 0)
    assert rows[b"ATE"] == (0, 0, 1, 1)
    assert rows[b"AT+CIPSNTPTIME"] == (0, 1, 0, 0)
    assert out.endswith(b"\r\n\r\nOK\r\n")


@quick
def test_esp_uart_sysmsg_sysstore_persist_and_restore(t):
    m = esp_modem(t)
    assert cmd(m, "AT+UART_CUR?") == b"+UART_CUR:115200,8,1,0,0\r\n\r\nOK\r\n"
    ok(m, "AT+UART_CUR=115200,8,1,0,0")                 # Zephyr's start-up line
    ok(m, "AT+UART_CUR=921600,8,1,0,3")
    assert cmd(m, "AT+UART_CUR?") == b"+UART_CUR:921600,8,1,0,3\r\n\r\nOK\r\n"
    ok(m, "AT+UART_DEF=230400,8,1,0,0")                 # always saved
    ok(m, "AT+SYSSTORE=0")
    assert cmd(m, "AT+SYSSTORE?") == b"+SYSSTORE:0\r\n\r\nOK\r\n"
    ok(m, "AT+SYSMSG=4")                                # not saved: SYSSTORE=0
    ok(m, "AT+CWMODE=3")
    ok(m, "AT+SYSSTORE=1")
    ok(m, "AT+SYSMSG=2")                                # saved
    store = m.store
    m.close()
    m = esp_modem(t, store=store)
    assert cmd(m, "AT+UART_DEF?") == b"+UART_DEF:230400,8,1,0,0\r\n\r\nOK\r\n"
    assert cmd(m, "AT+UART_CUR?") == b"+UART_CUR:230400,8,1,0,0\r\n\r\nOK\r\n"
    assert cmd(m, "AT+SYSMSG?") == b"+SYSMSG:2\r\n\r\nOK\r\n"
    assert cmd(m, "AT+CWMODE?") == b"+CWMODE:1\r\n\r\nOK\r\n"      # set while SYSSTORE=0
    assert cmd(m, "AT+SYSSTORE?") == b"+SYSSTORE:1\r\n\r\nOK\r\n"
    # AT+RESTORE: OK, then a restart ("ready"), every saved setting back to the factory value
    m.send(b"AT+RESTORE\r\n")
    assert m.expect(READY).consumed == b"\r\nOK\r\n" + READY
    ok(m, "ATE0")
    assert cmd(m, "AT+UART_DEF?") == b"+UART_DEF:115200,8,1,0,0\r\n\r\nOK\r\n"
    assert cmd(m, "AT+SYSMSG?") == b"+SYSMSG:0\r\n\r\nOK\r\n"


@quick
def test_esp_rst_drops_volatile_keeps_saved(t):
    m = esp_modem(t)
    ok(m, "AT+SYSLOG=1")
    ok(m, "AT+SYSSTORE=0")
    ok(m, "AT+UART_CUR=57600,8,1,0,0")
    m.send(b"AT+RST\r\n")
    assert m.expect(READY).consumed == b"\r\nOK\r\n" + READY
    # echo is back on after the restart
    m.send(b"AT+SYSLOG?\r\n")
    assert m.expect(FINAL).consumed == b"AT+SYSLOG?\r\n+SYSLOG:0\r\n\r\nOK\r\n"
    m.send(b"AT+SYSSTORE?\r\n")
    assert m.expect(FINAL).consumed == b"AT+SYSSTORE?\r\n+SYSSTORE:1\r\n\r\nOK\r\n"
    m.send(b"AT+UART_CUR?\r\n")
    assert m.expect(FINAL).consumed == b"AT+UART_CUR?\r\n+UART_CUR:115200,8,1,0,0\r\n\r\nOK\r\n"
    # accepted power commands
    m.send(b"ATE0\r\n")
    m.expect(FINAL)
    ok(m, "AT+SLEEP=0")
    assert cmd(m, "AT+SLEEP?") == b"+SLEEP:0\r\n\r\nOK\r\n"
    m.send(b"AT+GSLP=0\r\n")
    assert m.expect(READY).consumed == b"0\r\n\r\nOK\r\n" + READY


@quick
def test_esp_clock_sntp_and_timestamp(t):
    m = esp_modem(t)
    before = int(time.time())
    out = cmd(m, "AT+SYSTIMESTAMP?")
    ts = int(re.match(rb"\+SYSTIMESTAMP:(\d+)\r\n\r\nOK\r\n$", out).group(1))
    assert before - 1 <= ts <= int(time.time()) + 1, (before, ts)
    ok(m, "AT+SYSTIMESTAMP=1565853509")                 # 2019-08-15 07:18:29 UTC
    out = cmd(m, "AT+CIPSNTPTIME?")
    assert re.match(rb"\+CIPSNTPTIME:Thu Aug 15 07:18:(29|3\d) 2019\r\n\r\nOK\r\n$", out), out
    assert cmd(m, "AT+CIPSNTPCFG?") == b"+CIPSNTPCFG:0,0\r\n\r\nOK\r\n"
    # SNTP without an IP address: updated at WIFI GOT IP
    ok(m, 'AT+CIPSNTPCFG=1,530,"pool.ntp.org"')
    assert cmd(m, "AT+CIPSNTPCFG?") == b'+CIPSNTPCFG:1,530,"pool.ntp.org"\r\n\r\nOK\r\n'
    out = cmd(m, 'AT+CWJAP="tlsmodem","tlsmodem"')
    assert out == b"WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n", out
    assert m.expect(b"+TIME_UPDATED\r\n").consumed == b"+TIME_UPDATED\r\n"
    out = cmd(m, "AT+SYSTIMESTAMP?")
    ts = int(re.match(rb"\+SYSTIMESTAMP:(\d+)\r\n", out).group(1))
    assert abs(ts - time.time()) < 5, "SNTP set the true time again: %d" % ts
    # the query shows local time: UTC+05:30
    out = cmd(m, "AT+CIPSNTPTIME?")
    shown = re.match(rb"\+CIPSNTPTIME:(.{24})\r\n", out).group(1).decode()
    utc = time.strptime(shown, "%a %b %d %H:%M:%S %Y")
    assert abs(time.mktime(utc) - time.mktime(time.gmtime(time.time() + 5.5 * 3600))) < 5, shown
    # with an IP address the update follows the OK; default servers when none given
    m.send(b"AT+CIPSNTPCFG=1,-5\r\n")
    assert m.expect(b"+TIME_UPDATED\r\n").consumed == b"\r\nOK\r\n+TIME_UPDATED\r\n"
    assert cmd(m, "AT+CIPSNTPCFG?") == (b'+CIPSNTPCFG:1,-5,"cn.ntp.org.cn","ntp.sjtu.edu.cn",'
                                         b'"us.pool.ntp.org"\r\n\r\nOK\r\n')
    ok(m, "AT+SYSLOG=1")
    assert cmd(m, "AT+CIPSNTPCFG=1,1560") == b"ERR CODE:0x01070001\r\n\r\nERROR\r\n"


@quick
def test_esp_clock_unset_is_1970_until_sntp(t):
    m = esp_modem(t, extra_args=("--clock", "unset"))
    out = cmd(m, "AT+CIPSNTPTIME?")
    assert re.match(rb"\+CIPSNTPTIME:Thu Jan  1 00:00:\d\d 1970\r\n\r\nOK\r\n$", out), out
    ok(m, 'AT+CWJAP="tlsmodem","tlsmodem"')
    m.send(b"AT+CIPSNTPCFG=1,0\r\n")
    m.expect(b"+TIME_UPDATED\r\n")
    out = cmd(m, "AT+CIPSNTPTIME?")
    assert b" 1970" not in out and re.match(rb"\+CIPSNTPTIME:\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d 20\d\d\r\n", out), out


@quick
def test_esp_backslash_escapes_in_values(t):
    m = esp_modem(t, wifi=['we,ird"ap\\:pass\\word1'])
    # SSID we,ird"ap\ with password pass\word1: written with \, \" \\ as Zephyr's driver does
    out = cmd(m, 'AT+CWJAP="we\\,ird\\"ap\\\\","pass\\\\word1"')
    assert out == b"WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n", out
    assert cmd(m, "AT+CWSTATE?") == b'+CWSTATE:2,"we,ird"ap\\"\r\n\r\nOK\r\n'


@quick
def test_esp_damaged_settings_defaults_and_said(t):
    """A damaged esp/settings (its check line does not match): the defaults are used,
    stderr and the trace say so, and the next saved setting rewrites the item."""
    import os
    m = esp_modem(t)
    ok(m, "AT+CWMODE=3")
    store = m.store
    m.close()
    path = os.path.join(store, "esp", "settings")
    text = open(path).read()
    assert "cwmode=3\n" in text, text
    with open(path, "w") as f:
        f.write(text.replace("cwmode=3", "cwmode=2"))          # the check line no longer matches
    m = esp_modem(t, store=store)
    assert cmd(m, "AT+CWMODE?") == b"+CWMODE:1\r\n\r\nOK\r\n"      # the default, not 2
    assert "settings esp/settings are damaged, defaults in use" in m.stderr_text()
    assert "are damaged, defaults in use" in m.trace_text()
    ok(m, "AT+CWMODE=3")
    m.close()
    m = esp_modem(t, store=store)
    assert cmd(m, "AT+CWMODE?") == b"+CWMODE:3\r\n\r\nOK\r\n"
    assert "are damaged" not in m.stderr_text()
