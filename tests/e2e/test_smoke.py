"""Smoke tests: the AT engine answers over a pty and over pipes (all quick)."""
import re
import subprocess

from framework import quick

ERROR_RE = re.compile(rb"\r\n(ERROR|\+CME ERROR: [^\r\n]*)\r\n")


@quick
def test_at_ok(t):
    m = t.modem()
    r = m.at("AT")
    assert b"OK" in r.text, r


@quick
def test_ate0_then_at_is_exact(t):
    m = t.modem()
    assert m.at("ATE0").ok
    r = m.at("AT")
    assert r.text == b"\r\nOK\r\n", "with echo off, AT must answer exactly \\r\\nOK\\r\\n, got %r" % r.text


@quick
def test_stdio_pipe_at_ok_exit_0(t):
    # printf 'AT\r' | tlsmodem --stdio
    p = subprocess.run([t.bin, "--stdio", "--store", t.path("store"), "--ca-bundle", "none"],
                       input=b"AT\r", stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
    t.log("stdout=%r stderr=%r" % (p.stdout, p.stderr[-500:]))
    assert b"OK" in p.stdout, "no OK on stdout: %r (stderr %r)" % (p.stdout, p.stderr[-500:])
    assert p.returncode == 0, "exit status %d at end of input (stderr %r)" % (p.returncode, p.stderr[-500:])


@quick
def test_stdio_transport_session(t):
    m = t.modem(transport="stdio")
    assert m.at("ATE0").ok
    assert m.at("AT").text == b"\r\nOK\r\n"


@quick
def test_unknown_command_errors_and_modem_keeps_answering(t):
    m = t.modem()
    assert m.at("ATE0").ok
    r = m.at("AT+NOSUCHCOMMAND")
    assert ERROR_RE.fullmatch(r.text), "expected one error result, got %r" % r.text
    r = m.at("AT+NOSUCHCOMMAND=1,\"x\"")
    assert r.final != b"OK", r
    assert m.at("AT").text == b"\r\nOK\r\n"


@quick
def test_overlong_line_refused_not_executed(t):
    m = t.modem()
    assert m.at("ATE0").ok
    # 5000 bytes that would turn echo back on if executed: ATE1E1E1...
    line = b"ATE1" + b"E1" * 2498
    assert len(line) == 5000
    r = m.at(line)
    assert r.final != b"OK", "a 5000-byte line must be refused, got %r" % r.final
    assert ERROR_RE.fullmatch(r.text), "expected one error result, got %r" % r.text[:200]
    # not executed: echo is still off, and the modem still answers
    r = m.at("AT")
    assert r.text == b"\r\nOK\r\n", "after the overlong line: %r (echo turned on => it was executed)" % r.text
