"""Loading a CA from a terminal (docs/hl.md "Loading a CA from a terminal").

- a PEM pasted with CR-only line ends (what terminals send) is accepted;
- AT+KCERTSTORE=0,<size of the LF file> followed by the PEM with CR LF line ends (a terminal's
  LF -> CR LF) is explained: "received CR LF line ends: announced N bytes, the PEM needs M",
  the rest of the PEM is read and dropped, never run as command lines; announcing M works;
- --stdio on a terminal: a payload byte 0x03 in data mode is data (no SIGINT), Ctrl-C in
  command mode still quits.
"""
import fcntl
import os
import re
import select
import subprocess
import termios
import time

import hl
from framework import timeout
from modem import FINAL_RE


@timeout(120)
def test_terminal_crlf_overrun_explained_and_tail_not_run(t):
    m = t.modem()
    hl.start(m, cmee=2)
    pem = t.pki.root.bytes("pem")
    assert b"\r" not in pem
    crlf = pem.replace(b"\n", b"\r\n")
    r = m.at("AT+KCERTSTORE=0,%d" % len(pem))
    assert r.final == b"CONNECT", r.text
    m.send(crlf)
    fin = m.expect(FINAL_RE, 15)
    t.log("final: %r" % fin.group(1))
    assert fin.group(1).startswith(b"+CME ERROR: "), fin.consumed
    msg = fin.group(1).decode()
    assert "received CR LF line ends: announced %d bytes, the PEM needs %d" % (len(pem), len(crlf)) in msg, msg
    assert "the remaining %d bytes of the PEM were read and dropped" % (len(crlf) - len(pem)) in msg, msg
    # the tail was not taken for command lines: the next command's answer is the next answer
    r = m.at("AT")
    assert r.text == b"\r\nOK\r\n", r.text
    # with the count the terminal actually sends, the same bytes load
    r = m.at("AT+KCERTSTORE=0,%d" % len(crlf))
    assert r.final == b"CONNECT", r.text
    m.send(crlf)
    fin = m.expect(FINAL_RE, 15)
    assert fin.group(1) == b"OK", fin.consumed
    assert "root 1/1: CN=Test Root CA" in m.trace_text()


@timeout(120)
def test_terminal_cr_only_paste_is_accepted(t):
    m = t.modem()
    hl.start(m, cmee=2)
    pem = t.pki.root.bytes("pem").replace(b"\n", b"\r")
    r = hl.store_cert(m, pem, typ=0, end="pattern")
    assert r.final == b"OK", r.text
    assert "root 1/1: CN=Test Root CA" in m.trace_text()
    # and by count
    r = hl.store_cert(m, pem, typ=0, end="count", index=1)
    assert r.final == b"OK", r.text


def _read_until(fd, rx, timeout_s=10):
    buf = b""
    deadline = time.monotonic() + timeout_s
    while not re.search(rx, buf):
        left = deadline - time.monotonic()
        assert left > 0, "no %r in %r" % (rx, buf)
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                d = os.read(fd, 4096)
            except OSError:
                d = b""
            assert d, "terminal closed; so far %r" % buf
            buf += d
    return buf


@timeout(60)
def test_terminal_stdio_ctrl_c_is_data_in_data_mode(t):
    master, slave = os.openpty()

    def ctty():
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)     # the pty is the modem's controlling terminal

    p = subprocess.Popen([t.bin, "--dialect", "hl", "--stdio", "--ca-bundle", "none", "--store",
                          os.path.join(t.tmp, "tty-store")], stdin=slave, stdout=slave,
                         stderr=open(os.path.join(t.tmp, "tty.stderr"), "wb"), start_new_session=True,
                         preexec_fn=ctty)
    os.close(slave)
    try:
        os.write(master, b"ATE0\r")
        _read_until(master, rb"OK\r\n")
        os.write(master, b"AT+KCERTSTORE=0,5\r")
        _read_until(master, rb"CONNECT\r\n")
        os.write(master, b"\x03\x03abc")                 # payload bytes, not Ctrl-C
        out = _read_until(master, rb"ERROR[^\r]*\r\n")
        assert p.poll() is None, "the modem died on a payload byte 0x03: %r" % out
        os.write(master, b"AT\r")
        _read_until(master, rb"OK\r\n")
        os.write(master, b"\x03")                        # Ctrl-C in command mode quits
        assert p.wait(10) is not None
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)


@timeout(120)
def test_terminal_crlf_overrun_explained_spwf(t):
    from test_spwf_lib import spwf_modem, cmd
    m = spwf_modem(t)
    pem = t.pki.root.bytes("pem")
    crlf = pem.replace(b"\n", b"\r\n")
    r = cmd(m, "AT+S.TLSCERT=ca,%d" % len(pem), data=crlf)
    msg = r.final.decode()
    t.log(msg)
    assert msg.startswith("AT-S.ERROR:14:"), r.text
    assert "received CR LF line ends: announced %d bytes, the PEM needs %d" % (len(pem), len(crlf)) in msg, msg
    assert cmd(m, "AT").text == b"AT-S.OK\r\n"          # the tail was not run as commands
    r = cmd(m, "AT+S.TLSCERT=ca,%d" % len(crlf), data=crlf)
    assert r.ok, r.text
