"""SPWF04 dialect: framing, configuration variables, time, file system, bad input.
Each bad input gets its documented AT-S.ERROR and the modem keeps serving."""
import re
import time

from framework import quick, timeout
from test_spwf_lib import cmd, err, ok, spwf_modem


@quick
def test_spwf_boot_winds_and_framing(t):
    m = t.modem(dialect="spwf")
    boot = m.expect(b"+WIND:24:WiFi Up:0:127.0.0.1\r\n", 10).consumed
    for w in (b"+WIND:0:Console active\r\n", b"+WIND:32:WiFi Hardware Started\r\n"):
        assert w in boot, boot
    # echo off by default, one CRLF per line, no blank lines
    r = cmd(m, "AT")
    assert r.text == b"AT-S.OK\r\n", r.text
    r = cmd(m, "at+s.gcfg=console_echo")          # command names in any case
    assert r.text == b"AT-S.Var:console_echo=0\r\nAT-S.OK\r\n", r.text


@quick
def test_spwf_config_echo_errs_verbose_persist(t):
    m = spwf_modem(t)
    ok(m, "AT+S.SCFG=console_echo,1")
    m.send(b"AT+S.GCFG=console_errs\r")
    r = m.expect(re.compile(rb"AT-S\.OK\r\n"))
    assert r.consumed.startswith(b"AT+S.GCFG=console_errs\r"), "echo on: %r" % r.consumed
    assert b"AT-S.Var:console_errs=2\r\n" in r.consumed
    ok(m, "AT+S.SCFG=console_echo,0")
    # console_errs 2 + verbose 1: number, text and the reason
    r = err(m, "AT+S.SOCKQ=7", 10, [r"no such session", r"socket 7"])
    ok(m, "AT+S.SCFG=console_verbose,0")
    r = cmd(m, "AT+S.SOCKQ=7")
    assert r.text == b"AT-S.ERROR:10:No such session\r\n", r.text
    ok(m, "AT+S.SCFG=console_errs,1")
    assert cmd(m, "AT+S.SOCKQ=7").text == b"AT-S.ERROR:10\r\n"
    ok(m, "AT+S.SCFG=console_errs,0")
    assert cmd(m, "AT+S.SOCKQ=7").text == b"AT-S.ERROR\r\n"
    # WCFG persists; a new process with the same store reads it back
    ok(m, "AT+S.WCFG")
    store = m.store
    m.close()
    m2 = spwf_modem(t, store=store)
    assert cmd(m2, "AT+S.SOCKQ=7").text == b"AT-S.ERROR\r\n"
    ok(m2, "AT+S.FCFG")
    err(m2, "AT+S.SOCKQ=7", 10, "socket 7")
    # unknown variable, bad value
    err(m2, "AT+S.SCFG=no_such_var,1", 7, "no_such_var")
    err(m2, "AT+S.SCFG=console_errs,7", 8, "console_errs")
    # host start-up sequences (mbed driver) are accepted
    for c in ("AT+S.SCFG=wifi_ht_mode,1", "AT+S.SCFG=wifi_opr_rate_mask,0x003FFFCF",
              "AT+S.SCFG=wifi_mode,1", "AT+S.SCFG=console_hwfc,0", "AT+S.SSIDTXT=MyAP",
              "AT+S.SCFG=wifi_wpa_psk_text,secret"):
        ok(m2, c)
    r = ok(m2, "AT+S.STS=ip_ipaddr")
    assert r.info("AT-S.Var:ip_ipaddr=127.0.0.1"), r.text


@quick
def test_spwf_time_set_and_get(t):
    m = spwf_modem(t)
    ok(m, "AT+S.TIME=1800000000")
    r = ok(m, "AT+S.TIME")
    v = int(r.info("AT-S.Var:time=")[0].split(b"=")[1])
    assert 1800000000 <= v < 1800000000 + 30, r.text
    assert r.info("AT-S.Date:15:01:2027"), r.text
    err(m, "AT+S.TIME=yesterday", 7)


@quick
def test_spwf_clock_unset_reported(t):
    m = spwf_modem(t, extra_args=["--clock", "unset"])
    r = ok(m, "AT+S.TIME")
    assert r.info("AT-S.Time:not set"), r.text
    assert ok(m, "AT+S.STS=time").info("AT-S.Var:time=not set")


@quick
def test_spwf_file_system(t):
    m = spwf_modem(t)
    ok(m, "AT+S.FSC=/hello.txt,5", b"hello")
    ok(m, "AT+S.FSA=hello.txt,6", b" world")
    r = ok(m, "AT+S.FSL")
    assert r.info("AT-S.File:hello.txt:11"), r.text
    m.send(b"AT+S.FSP=hello.txt\r")
    m.expect(b"AT-S.Reading:11:11\r\n")
    assert m.expect(b"AT-S.OK\r\n").before == b"hello world"
    m.send(b"AT+S.FSP=hello.txt,6,3\r")
    m.expect(b"AT-S.Reading:3:11\r\n")
    assert m.expect(b"AT-S.OK\r\n").before == b"wor"
    ok(m, "AT+S.FSR=hello.txt,bye.txt")
    r = ok(m, "AT+S.FSL")
    assert r.info("AT-S.File:bye.txt:11") and not r.info("AT-S.File:hello.txt"), r.text
    ok(m, "AT+S.FSD=bye.txt")
    err(m, "AT+S.FSD=bye.txt", 44, "bye.txt")
    err(m, "AT+S.FSA=nothere,3", 44, "nothere", data=b"abc")   # payload swallowed, then the error
    err(m, "AT+S.FSP=nothere", 44)
    assert cmd(m, "AT").ok


@quick
def test_spwf_malformed_commands(t):
    m = spwf_modem(t)
    err(m, "AT+S.NOSUCH", 2, "AT\\+S.NOSUCH")
    err(m, "AT+S.SOCKON", 4)                                # execute form of a set-only command
    err(m, "AT+S.SOCKON=", 5, "host")
    err(m, "AT+S.SOCKON=www.example.test,https,,s", 7, "port")
    err(m, "AT+S.SOCKON=www.example.test ,443,,s", 7, "space")
    err(m, "AT+S.SOCKON=https://www.example.test,443,,s", 7, "host name")
    err(m, "AT+S.SOCKON=www.example.test,443,,a/b", 7, "certificate name")
    err(m, "AT+S.HTTPGET=www.example.test,/,443,7,,,,", 8, "TLS")
    err(m, "AT+S.SOCKR=0", 10, "socket 0")
    err(m, "AT+S.TLSCERT=content,3", 8)
    err(m, "hello", 1, "does not start with AT")
    err(m, "AT+S.SOCKW=0", 5, "length")
    assert cmd(m, "AT").text == b"AT-S.OK\r\n"


@timeout(40)
def test_spwf_wrong_byte_counts(t):
    m = spwf_modem(t)
    # fewer bytes than announced: after 5 s of silence, AT-S.ERROR:14, nothing written
    m.send(b"AT+S.FSC=short.txt,10\r12345")
    t0 = time.monotonic()
    r = m.expect(re.compile(rb"AT-S\.ERROR[^\r\n]*\r\n"), 15)
    assert r.match.startswith(b"AT-S.ERROR:14:"), r.match
    assert b"announced 10" in r.match and b"received 5" in r.match, r.match
    assert time.monotonic() - t0 >= 4, "aborted too early"
    assert not ok(m, "AT+S.FSL").info("AT-S.File:short.txt")
    # more bytes than announced: the rest is a (bad) command line, then the modem serves
    m.send(b"AT+S.FSC=long.txt,3\rabcdef\r")
    m.expect(b"AT-S.OK\r\n")
    r = m.expect(re.compile(rb"AT-S\.ERROR[^\r\n]*\r\n"))
    assert r.match.startswith(b"AT-S.ERROR:1:") and b"def" in r.match, r.match
    assert ok(m, "AT+S.FSL").info("AT-S.File:long.txt:3")
    # a payload for a socket that does not exist is read, then refused
    r = err(m, "AT+S.SOCKW=5,14", 10, ["socket 5", "discarded"], data=b"GET / HTTP/1.1")
    assert cmd(m, "AT").text == b"AT-S.OK\r\n"


@quick
def test_spwf_garbage_certificates(t):
    m = spwf_modem(t)
    junk = b"Hello, this is not a certificate at all\r\n"
    err(m, "AT+S.TLSCERT=ca,%d" % len(junk), 40, ["not a certificate", "nothing was stored"], data=junk)
    err(m, "AT+S.TLSCERT=key,%d" % len(junk), 41, ["private key"], data=junk)
    err(m, "AT+S.TLSCERT=cert,%d" % len(junk), 40, data=junk)
    der = t.pki.root.bytes("der")
    cut = der[:len(der) - 100]
    err(m, "AT+S.TLSCERT=ca,%d" % len(cut), 40, data=cut)
    err(m, "AT+S.TLSCERT=auth,5", 7, ["auth", "discarded"], data=b"12345")
    r = ok(m, "AT+S.TLSCERT=content,1")
    assert not r.info("AT-S.Content:"), "garbage was stored: %r" % r.text
    # a key that does not belong to the stored client certificate
    c = t.pki.client_ec.bytes("der")
    ok(m, "AT+S.TLSCERT=cert,%d" % len(c), c)
    k = t.pki.client_rsa.bytes("key")
    err(m, "AT+S.TLSCERT=key,%d" % len(k), 42, data=k)
    k = t.pki.client_ec.bytes("key")
    ok(m, "AT+S.TLSCERT=key,%d" % len(k), k)
    r = ok(m, "AT+S.TLSCERT=content,1")
    assert r.info("AT-S.Content:cert:") and r.info("AT-S.Content:key"), r.text
    ok(m, "AT+S.TLSCERT=content,2")
    assert not ok(m, "AT+S.TLSCERT=content,1").info("AT-S.Content:")
