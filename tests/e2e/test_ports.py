"""Host endpoints (docs/ports.md, DESIGN §2): --stdio beyond the smoke tests,
--listen (reconnect, state kept, one host at a time), --pty (hosts come and
go), --serial on a pty pair posing as a serial device, bad options (exit 2),
signals (exit 0), --trace - (timestamped, on stderr), the store across
restarts."""
import errno
import os
import re
import select
import signal
import socket
import struct
import subprocess
import termios
import time

import hl
from framework import quick
from modem import FINAL_RE, Modem, ModemError, _cfmakeraw, show

TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ")


# ---- helpers -------------------------------------------------------------------------


class Proc:
    """A tlsmodem started by hand (endpoints Modem does not drive).  Added to
    t.servers so the runner stops it (and prints its stderr) on failure."""

    def __init__(self, t, args, name):
        self.t = t
        self.name = name
        self.stderr_path = t.path(name + ".stderr")
        self.trace_path = t.path(name + ".trace")
        self.store = t.path(name + "-store")
        self.args = [t.bin, "--store", self.store, "--ca-bundle", "none",
                     "--trace", self.trace_path] + list(args)
        self._err = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=self._err,
                                     stderr=self._err, start_new_session=True)
        t.servers.append(self)

    def stderr_text(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")

    def trace_text(self):
        try:
            with open(self.trace_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def wait_for(self, what, text_fn, timeout=10):
        """Wait until regex `what` appears in text_fn() (stderr or trace), watching the
        process; returns the match."""
        rx = re.compile(what)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(text_fn())
            if m:
                return m
            if self.proc.poll() is not None:
                raise AssertionError("%s exited with %s before /%s/; stderr:\n%s" % (
                    self.name, self.proc.returncode, what, self.stderr_text()[-2000:]))
            if time.monotonic() > deadline:
                raise AssertionError("%s: no /%s/ after %ss" % (self.name, what, timeout))
            try:
                self.proc.wait(0.01)
            except subprocess.TimeoutExpired:
                pass

    def terminate(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        finally:
            self._err.close()

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(5)
        if not self._err.closed:
            self._err.close()

    def describe(self):
        tr = self.trace_text().splitlines()[-25:]
        return "%s: %s (exit %s)\n  stderr:\n    %s\n  trace (tail):\n    %s" % (
            self.name, " ".join(self.args), self.proc.poll(),
            self.stderr_text()[-1500:].replace("\n", "\n    "), "\n    ".join(tr))


class FdHost:
    """Talks AT over a raw fd (socket, pty master)."""

    def __init__(self, fd, name, sock=None):
        self.fd = fd
        self.sock = sock
        self.name = name
        self.buf = bytearray()
        os.set_blocking(fd, False)

    def send(self, data):
        view = memoryview(data)
        deadline = time.monotonic() + 10
        while view:
            _, w, _ = select.select([], [self.fd], [], 1.0)
            if w:
                view = view[os.write(self.fd, view):]
            elif time.monotonic() > deadline:
                raise ModemError("%s: cannot write" % self.name)

    def expect(self, rx, timeout=10):
        if isinstance(rx, bytes):
            rx = re.compile(re.escape(rx))
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(bytes(self.buf))   # a copy: the match must outlive the buffer
            if m:
                out = bytes(self.buf[:m.end()])
                del self.buf[:m.end()]
                return out, m
            left = deadline - time.monotonic()
            if left <= 0:
                raise ModemError("%s: timeout waiting for %r; got:\n%s" % (
                    self.name, rx.pattern, show(bytes(self.buf), 600) or "(nothing)"))
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    data = os.read(self.fd, 65536)
                except BlockingIOError:
                    continue
                except OSError as e:
                    if e.errno == errno.EIO:
                        data = b""
                    else:
                        raise
                if not data:
                    raise ModemError("%s: closed by the modem; got:\n%s" % (self.name, show(bytes(self.buf))))
                self.buf += data

    def at(self, cmd, timeout=10):
        self.send(cmd.encode() + b"\r")
        out, m = self.expect(FINAL_RE, timeout)
        return out, m.group(1)

    def silent_for(self, seconds):
        """True when nothing arrives within `seconds` (only where silence is the point)."""
        r, _, _ = select.select([self.fd], [], [], seconds)
        return not r and not self.buf

    def close(self):
        if self.sock is not None:
            self.sock.close()
        else:
            os.close(self.fd)


def tcp_host(port, name):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return FdHost(s.fileno(), name, sock=s)


def start_listen(t, name="listen"):
    p = Proc(t, ["--listen", "127.0.0.1:0"], name)
    m = p.wait_for(r"tlsmodem: listening on 127\.0\.0\.1:(\d+)", p.stderr_text)
    return p, int(m.group(1))


def run_stdio(t, data, extra=(), timeout=20):
    return subprocess.run([t.bin, "--stdio", "--store", t.path("store"), "--ca-bundle", "none"]
                          + list(extra), input=data, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)


# ---- --stdio (beyond test_smoke) -------------------------------------------------------


@quick
def test_stdio_script_answers_in_order_stdout_only_modem_output(t):
    # several lines in one write, CR, CRLF and a lone LF as terminators
    p = run_stdio(t, b'ATE0\rAT+KPATTERN?\r\nAT+NOSUCH\nAT+CMEE=2\rAT+KHTTPSGET=7,"/"\r')
    t.log("stdout=%r stderr=%r" % (p.stdout, p.stderr[-500:]))
    assert p.returncode == 0, (p.returncode, p.stderr[-500:])
    assert p.stdout == (b'ATE0\r\r\nOK\r\n'
                        b'\r\n+KPATTERN: "--EOF--Pattern--"\r\n\r\nOK\r\n'
                        b'\r\nERROR\r\n'
                        b'\r\nOK\r\n'
                        b'\r\n+CME ERROR: no such session: session 7 is not a configured HTTPS '
                        b'session (create one with AT+KHTTPSCFG)\r\n'), p.stdout


@quick
def test_stdio_end_of_input_in_data_mode_exits_0(t):
    # the host dies in the middle of a certificate upload: EOF does not hang the modem
    p = run_stdio(t, b"ATE0\rAT+KCERTSTORE=0,1000\r-----BEGIN CERT")
    assert p.returncode == 0, (p.returncode, p.stderr[-500:])
    assert p.stdout.endswith(b"\r\nCONNECT\r\n"), p.stdout
    # nothing stored: a new modem on the same store lists nothing
    p = run_stdio(t, b"ATE0\rAT+KCERTSTORE?\r")
    assert p.stdout == b"ATE0\r\r\nOK\r\n\r\nOK\r\n", p.stdout


@quick
def test_stdio_reader_gone_exits_0(t):
    # stdout closed by its reader (EPIPE): tlsmodem stops with exit 0
    pr = subprocess.Popen([t.bin, "--stdio", "--store", t.path("store"), "--ca-bundle", "none"],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    pr.stdout.close()
    try:
        for _ in range(200):
            pr.stdin.write(b"ATI\r")
            pr.stdin.flush()
            if pr.poll() is not None:
                break
    except BrokenPipeError:
        pass
    try:
        rc = pr.wait(10)
    finally:
        if pr.poll() is None:
            pr.kill()
            pr.wait()
    err = pr.stderr.read()
    pr.stderr.close()
    try:
        pr.stdin.close()
    except BrokenPipeError:
        pass
    assert rc == 0, "exit %s after the reader went away; stderr %r" % (rc, err[-500:])


# ---- --listen --------------------------------------------------------------------------


@quick
def test_listen_reconnect_state_persists(t):
    p, port = start_listen(t)
    a = tcp_host(port, "host1")
    a.send(b"ATE0\r")
    a.expect(b"\r\nOK\r\n")
    assert a.at("AT") == (b"\r\nOK\r\n", b"OK")
    assert a.at('AT+KPATTERN="--MyEnd--"')[1] == b"OK"
    sid_out, fin = a.at('AT+KHTTPSCFG=1,"www.example.test",443,1')
    assert fin == b"OK" and b"+KHTTPSCFG: 1" in sid_out, sid_out
    a.close()
    p.wait_for(r"host disconnected", p.trace_text)
    # reconnect: the modem state (echo off, pattern, session) is still there
    b = tcp_host(port, "host2")
    assert b.at("AT") == (b"\r\nOK\r\n", b"OK"), "echo setting lost across reconnect"
    out, fin = b.at("AT+KPATTERN?")
    assert out == b'\r\n+KPATTERN: "--MyEnd--"\r\n\r\nOK\r\n', out
    out, fin = b.at("AT+KHTTPSCFG?")
    assert b'+KHTTPSCFG: 1,' in out and b'"www.example.test",443' in out, out
    b.close()
    p.wait_for(r"host disconnected.*\n(.*\n)*.*host disconnected", p.trace_text)
    assert p.terminate() == 0, p.stderr_text()
    tr = p.trace_text()
    assert tr.count("host connected from 127.0.0.1") == 2, tr


def test_listen_one_host_at_a_time(t):
    p, port = start_listen(t)
    a = tcp_host(port, "first")
    a.send(b"ATE0\r")
    a.expect(b"\r\nOK\r\n")
    b = tcp_host(port, "second")      # waits in the backlog
    b.send(b"AT+KPATTERN?\r")
    assert a.at("AT") == (b"\r\nOK\r\n", b"OK")
    assert b.silent_for(0.3), "the second host was served while the first is connected: %r" % b.buf
    # a host that disconnects mid-line takes its partial line with it
    a.send(b"AT+KPATT")
    a.close()
    out, m = b.expect(FINAL_RE)
    assert out == b'\r\n+KPATTERN: "--EOF--Pattern--"\r\n\r\nOK\r\n', out
    assert b.at("AT") == (b"\r\nOK\r\n", b"OK")
    b.close()
    assert p.terminate() == 0


@quick
def test_listen_bad_address_exit_1_or_2(t):
    # a port that is already taken: the endpoint cannot be opened -> exit 1
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    try:
        p = subprocess.run([t.bin, "--listen", "127.0.0.1:%d" % port, "--store", t.path("st"),
                            "--ca-bundle", "none"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    finally:
        s.close()
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert p.stderr.startswith(b"tlsmodem: ") and b"listen" in p.stderr, p.stderr


# ---- --pty -----------------------------------------------------------------------------


@quick
def test_pty_close_reopen_keeps_serving(t):
    m = t.modem()
    m.at_ok("ATE0")
    m.at_ok('AT+KPATTERN="==END=="')
    for i in range(3):
        os.close(m.fd_in)
        fd = os.open(m.link, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        _cfmakeraw(fd)
        m.fd_in = m.fd_out = fd
        r = m.at("AT+KPATTERN?")
        assert r.text == b'\r\n+KPATTERN: "==END=="\r\n\r\nOK\r\n', (i, r.text)
    # output produced while no host has the pty open waits for the next host
    m.send(b"ATI\r")
    os.close(m.fd_in)
    fd = os.open(m.link, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    _cfmakeraw(fd)
    m.fd_in = m.fd_out = fd
    r = m.expect(FINAL_RE)
    assert b"HL8548" in r.consumed and r.group(1) == b"OK", r.consumed
    link = m.link
    m.close()
    assert not os.path.lexists(link), "the pty link %s was not removed at exit" % link


@quick
def test_pty_link_over_regular_file_refused(t):
    f = t.path("notalink")
    with open(f, "w") as fh:
        fh.write("keep me\n")
    p = subprocess.run([t.bin, "--pty", f, "--store", t.path("st"), "--ca-bundle", "none"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=10)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert b"not a symbolic link" in p.stderr, p.stderr
    with open(f) as fh:
        assert fh.read() == "keep me\n"


# ---- --serial on a pty pair -----------------------------------------------------------


@quick
def test_serial_on_pty_pair(t):
    master, slave = os.openpty()
    try:
        # raw before the modem opens it, so nothing we send is echoed by the tty
        _cfmakeraw(slave)
        dev = os.ttyname(slave)
        p = Proc(t, ["--serial", dev, "--baud", "115200"], "serial")
        p.wait_for(r"host +tlsmodem .*dialect hl", p.trace_text)
        h = FdHost(master, "serial-host")
        h.send(b"ATE0\r")
        h.expect(b"\r\nOK\r\n")
        assert h.at("AT") == (b"\r\nOK\r\n", b"OK")
        out, fin = h.at("ATI")
        assert b"HL8548" in out and fin == b"OK", out
        # the modem set the device to raw 8N1 at 115200
        a = termios.tcgetattr(slave)
        assert a[4] == termios.B115200 and a[5] == termios.B115200, "speed %r/%r" % (a[4], a[5])
        assert not a[3] & termios.ICANON and not a[3] & termios.ECHO
        assert (a[2] & termios.CSIZE) == termios.CS8 and not a[2] & termios.PARENB
        # binary-safe: an overlong noisy line is refused, the modem keeps answering
        h.send(b"\x00\xffAT" + b"\xff" * 100 + b"\r")
        out, m = h.expect(FINAL_RE)
        assert m.group(1) == b"ERROR", out
        assert h.at("AT") == (b"\r\nOK\r\n", b"OK")
        assert p.terminate() == 0, p.stderr_text()
        assert "signal 15" in p.trace_text() or "SIGTERM" in p.trace_text() or \
            "Terminated" in p.trace_text(), p.trace_text()[-500:]
    finally:
        os.close(master)
        os.close(slave)


@quick
def test_serial_missing_device_exit_1(t):
    p = subprocess.run([t.bin, "--serial", t.path("no-such-tty"), "--store", t.path("st"),
                        "--ca-bundle", "none"], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert p.stderr.startswith(b"tlsmodem: ") and b"no-such-tty" in p.stderr, p.stderr


# ---- options, signals, trace ----------------------------------------------------------


BAD_OPTIONS = [
    (["--dialect", "xyz"], r"dialect"),
    (["--dialect"], r"needs an argument"),
    (["--pty"], r"needs an argument"),
    (["--pty", ""], r"non-empty"),
    (["--listen", "nohostport"], r"ADDR:PORT"),
    (["--listen", "127.0.0.1:99999"], r"ADDR:PORT"),
    (["--listen", "::1:7000"], r"ADDR:PORT"),
    (["--serial", "/dev/null", "--baud", "12345"], r"--baud 12345"),
    (["--serial", "/dev/null", "--baud", "fast"], r"--baud"),
    (["--baud", "9600"], r"--baud applies to --serial or --uart-rate only"),
    (["--stdio", "--pty", "/tmp/x"], r"exclude each other"),
    (["--listen", "127.0.0.1:0", "--serial", "/dev/ttyS0"], r"exclude each other"),
    (["--nosuch"], r"unknown option"),
    (["-x"], r"unknown option"),
    (["extra-arg"], r"unexpected argument"),
    (["--store", ""], r"--store"),
    (["--ca-bundle", ""], r"--ca-bundle"),
    (["--ca-bundle", "/nonexistent/ca.pem"], r"/nonexistent/ca\.pem"),
    (["--resolve", "garbage"], r"--resolve"),
    (["--trace", ""], r"--trace"),
    (["--trace", "/nonexistent/dir/trace.log"], r"--trace"),
    (["--clock", "sometimes"], r"--clock"),
    (["--name", "two words"], r"--name"),
]


@quick
def test_bad_options_exit_2_with_message(t):
    problems = []
    for args in BAD_OPTIONS:
        args, rx = args
        p = subprocess.run([t.bin] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=10)
        err = p.stderr.decode(errors="replace")
        first = err.splitlines()[0] if err else ""
        if p.returncode != 2:
            problems.append("%s: exit %s (expected 2), stderr %r" % (args, p.returncode, err[:200]))
        elif not first.startswith("tlsmodem: ") or not re.search(rx, first):
            problems.append("%s: first stderr line %r does not match /%s/" % (args, first, rx))
        elif len(err.splitlines()) != 1 or not first.endswith("(try 'tlsmodem --help')"):
            problems.append("%s: expected one line ending with (try 'tlsmodem --help'), got %r" % (args, err))
        elif any(first.count(a) > 1 for a in args if len(a) > 3):
            problems.append("%s: the message repeats itself: %r" % (args, first))
        elif p.stdout:
            problems.append("%s: stdout must stay empty, got %r" % (args, p.stdout[:100]))
    assert not problems, "\n".join(problems)
    # --help and --version: exit 0, on stdout
    for opt, rx in (("--help", rb"usage: tlsmodem"), ("--version", rb"tlsmodem \d")):
        p = subprocess.run([t.bin, opt], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        assert p.returncode == 0 and re.search(rx, p.stdout), (opt, p.returncode, p.stdout)


@quick
def test_signals_exit_0_after_flushing(t):
    for sig in (signal.SIGTERM, signal.SIGINT):     # SIGHUP reopens the trace (test_newcomer)
        m = t.modem(name="sig%d" % sig)
        m.at_ok("ATE0")
        m.proc.send_signal(sig)
        rc = m.proc.wait(10)
        m.close(check=False)
        assert rc == 0, "exit %s after signal %d; stderr %s" % (rc, sig, m.stderr_text()[-500:])
        assert re.search(r"signal %d" % sig, m.trace_text()), m.trace_text()[-500:]
        assert "exit 0" in m.trace_text()
    # stdio: SIGTERM while stdin is still open
    m = t.modem(transport="stdio", name="sigstdio")
    m.at_ok("ATE0")
    m.close()     # SIGTERM, asserts exit 0


@quick
def test_trace_dash_goes_to_stderr_with_timestamps(t):
    p = run_stdio(t, b"ATE0\rAT+CMEE=2\rAT+KFOO\r", extra=["--trace", "-"])
    assert p.returncode == 0
    assert p.stdout == b"ATE0\r\r\nOK\r\n\r\nOK\r\n\r\n+CME ERROR: unknown command: AT+KFOO\r\n", p.stdout
    err = p.stderr.decode(errors="replace")
    lines = [l for l in err.splitlines() if l and not l.startswith("tlsmodem")]   # minus the banner
    assert lines, "no trace on stderr"
    bad = [l for l in lines if not TS_RE.match(l)]
    assert not bad, "trace lines without a timestamp: %r" % bad[:5]
    text = "\n".join(lines)
    for rx in (r"at<\s+ATE0", r"at<\s+AT\+KFOO", r"unknown command", r"end of input", r"exit 0"):
        assert re.search(rx, text), "/%s/ not in the trace:\n%s" % (rx, text)
    # a trace is "written as it happens": the timestamps never go backwards
    stamps = [l[:24] for l in lines]
    assert stamps == sorted(stamps), stamps


# ---- the store across restarts ----------------------------------------------------------


@quick
def test_store_persists_across_restart(t):
    store = t.path("shared-store")
    m = t.modem(store=store, name="first")
    hl.start(m)
    assert hl.store_cert(m, t.pki.root.bytes("pem")).ok
    assert hl.store_cert(m, t.pki.wrong_root.bytes("der"), index=3).ok
    m.at_ok('AT+KPATTERN="@@END@@"')
    before = m.at_ok("AT+KCERTSTORE?").text
    assert before.count(b"+KCERTSTORE: root_cert,") == 2, before
    m.close()
    m2 = t.modem(store=store, name="second")
    m2.at_ok("ATE0")
    after = m2.at_ok("AT+KCERTSTORE?").text
    assert after == before, "the store changed across a restart:\n%r\n%r" % (before, after)
    r = m2.at_ok("AT+KPATTERN?")
    assert r.text == b'\r\n+KPATTERN: "@@END@@"\r\n\r\nOK\r\n', r.text
    # and it is not just listed: a delete also persists
    m2.at_ok("AT+KCERTDELETE=0,3")
    m2.close()
    m3 = t.modem(store=store, name="third", transport="stdio")
    m3.at_ok("ATE0")
    r = m3.at_ok("AT+KCERTSTORE?")
    assert r.text.count(b"+KCERTSTORE: root_cert,") == 1 and b"root_cert,0," in r.text, r.text


# ---- hosts that leave, hang-ups, one store (issue 10 item 11) ---------------------------


class _SilentServer:
    """Accepts TCP connections and never answers (a TLS handshake stalls)."""

    def __init__(self, t):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        t.servers.append(self)

    def stop(self):
        self.sock.close()

    def describe(self):
        return "silent TCP server on port %d" % self.port


def test_listen_departed_host_answer_not_handed_to_next(t):
    srv = _SilentServer(t)
    p = Proc(t, ["--listen", "127.0.0.1:0", "--resolve", "slow.test:%d:127.0.0.1" % srv.port,
                 "--timeout-connect", "1500"], "listen")
    port = int(p.wait_for(r"tlsmodem: listening on 127\.0\.0\.1:(\d+)", p.stderr_text).group(1))
    a = tcp_host(port, "host1")
    assert a.at("ATE0")[1] == b"OK"
    assert a.at("AT+CMEE=1")[1] == b"OK"
    assert a.at('AT+KHTTPSCFG=1,"slow.test",%d,2' % srv.port)[1] == b"OK"
    a.send(b'AT+KHTTPSGET=1,"/"\rATI\r')    # pending (the TLS handshake stalls), ATI held behind it
    p.wait_for(r"at< +AT\+KHTTPSGET", p.trace_text)
    # gone for good: an abortive close (RST), not a half-close
    a.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    a.close()
    p.wait_for(r"still running for the host that left", p.trace_text)
    b = tcp_host(port, "host2")             # accepted once that command ended
    b.send(b"AT+KPATTERN?\r")
    out, m = b.expect(FINAL_RE, timeout=30)
    assert out == b'\r\n+KPATTERN: "--EOF--Pattern--"\r\n\r\nOK\r\n', \
        "the second host got the first host's answers: %r" % out
    assert b.silent_for(0.3), b.buf
    tr = p.trace_text()
    assert "ended (answer discarded); accepting the next host" in tr, tr[-1500:]
    b.close()
    assert p.terminate() == 0, p.stderr_text()


def test_listen_half_close_gets_every_answer_then_close(t):
    # nc -N / socat -: the host sends its lines, then shuts down its sending
    # side and reads.  Every line is answered, also one that takes a while
    # (a GET against a server that never answers, 1.5 s connect timeout),
    # and the lines behind it; then the modem closes the connection.
    srv = _SilentServer(t)
    p = Proc(t, ["--listen", "127.0.0.1:0", "--resolve", "slow.test:%d:127.0.0.1" % srv.port,
                 "--timeout-connect", "1500"], "listen")
    port = int(p.wait_for(r"tlsmodem: listening on 127\.0\.0\.1:(\d+)", p.stderr_text).group(1))
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    s.sendall(b'ATE0\rAT+KHTTPSCFG=1,"slow.test",%d,2\rAT+KHTTPSGET=1,"/"\rATI\rAT+KPATTERN?\r'
              b'AT+NOSUCH\r' % srv.port)
    s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break                           # the modem closed after answering
        data += chunk
    s.close()
    assert data.startswith(b"ATE0\r\r\nOK\r\n") and b"+KHTTPS_ERROR: 1," in data, data
    assert b"HL8548" in data.split(b"+KHTTPS_ERROR")[1], data
    assert data.endswith(b'\r\n+KPATTERN: "--EOF--Pattern--"\r\n\r\nOK\r\n\r\nERROR\r\n'), data
    # the next host is served normally
    b = tcp_host(port, "host2")
    assert b.at("AT") == (b"\r\nOK\r\n", b"OK")
    b.close()
    assert p.terminate() == 0, p.stderr_text()


@quick
def test_listen_host_gone_in_data_mode_nothing_stored_nothing_handed_on(t):
    p, port = start_listen(t)
    a = tcp_host(port, "host1")
    assert a.at("ATE0")[1] == b"OK"
    a.send(b"AT+KCERTSTORE=0,1000\r")
    a.expect(b"CONNECT\r\n")
    a.send(b"-----BEGIN CERTIFICATE-----\r\nMIIB")
    a.close()
    p.wait_for(r"host disconnected", p.trace_text)
    b = tcp_host(port, "host2")
    assert b.at("AT+KCERTSTORE?") == (b"\r\nOK\r\n", b"OK"), "%r" % b.buf
    b.close()
    assert "data mode ended (host gone)" in p.trace_text(), p.trace_text()[-1000:]
    assert p.terminate() == 0, p.stderr_text()


@quick
def test_serial_hangup_exits_1_with_message(t):
    master, slave = os.openpty()
    try:
        _cfmakeraw(slave)
        dev = os.ttyname(slave)
        p = Proc(t, ["--serial", dev, "--baud", "115200"], "serial")
        p.wait_for(r"host +tlsmodem .*dialect hl", p.trace_text)
        h = FdHost(master, "serial-host")
        assert h.at("AT")[1] == b"OK"
        os.close(slave)
        slave = -1
        os.close(master)                    # the other end hangs up
        master = -1
        rc = p.proc.wait(10)                # not spinning: it ends
        assert rc == 1, (rc, p.stderr_text())
        assert re.search(r"tlsmodem: serial port %s: hang-up" % re.escape(dev), p.stderr_text()), p.stderr_text()
    finally:
        for fd in (master, slave):
            if fd >= 0:
                os.close(fd)


@quick
def test_two_instances_on_one_store_refused(t):
    p, port = start_listen(t, "first")
    q = subprocess.run([t.bin, "--stdio", "--store", p.store, "--ca-bundle", "none"], input=b"AT\r",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    assert q.returncode == 1, (q.returncode, q.stderr)
    err = q.stderr.decode()
    assert ("store %s is in use by another tlsmodem (pid %d)" % (p.store, p.proc.pid)) in err, err
    assert q.stdout == b"", q.stdout
    assert p.terminate() == 0
    # once the first has gone, the store is free again
    q = subprocess.run([t.bin, "--stdio", "--store", p.store, "--ca-bundle", "none"], input=b"AT\r",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    assert q.returncode == 0 and q.stdout.endswith(b"\r\nOK\r\n"), (q.returncode, q.stderr)
