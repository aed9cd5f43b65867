"""Drives one tlsmodem process as a host does: bytes over a pty or pipes.

    m = Modem(bin, tmpdir, resolve=["www.coursera.test:443:127.0.0.1"])
    m.at("ATE0")                      -> AtResult (.text .final .lines .ok)
    m.send_line('AT+KHTTPSGET=1,"/"')
    m.expect(b"\\r\\nCONNECT\\r\\n")
    body = m.expect(b"--EOF--Pattern--").before
    m.close()                         -> SIGTERM, asserts exit status 0, returns stderr

Everything read is appended to a transcript (bulk streams as a summary) that
the runner prints when a test fails, with the tail of the --trace file.
Reading is event-driven: select() on the descriptor with a deadline.
"""
import atexit
import errno
import os
import re
import select
import signal
import subprocess
import termios
import time

FINAL_RE = re.compile(rb"\r\n(OK|ERROR|NO CARRIER|CONNECT|\+CME ERROR: [^\r\n]*)\r\n")
LINE_RE = re.compile(rb"\r\n([^\r\n]+)\r\n")
EOF_PATTERN = b"--EOF--Pattern--"


class ModemError(AssertionError):
    pass


class Match:
    """Result of expect(): .before (bytes before the match), .match (matched bytes),
    .m (the re.Match on the consumed bytes), group(n)."""

    def __init__(self, consumed, m):
        self.consumed = consumed
        self.m = m
        self.before = consumed[:m.start()]
        self.match = m.group(0)

    def group(self, *a):
        return self.m.group(*a)

    def __repr__(self):
        return "<Match %r before=%r>" % (self.match, self.before[-80:])


class AtResult:
    """Everything up to and including the final result of one command."""

    def __init__(self, cmd, text, final):
        self.cmd = cmd
        self.text = text            # bytes, as received (echo included if on)
        self.final = final          # b"OK", b"ERROR", b"+CME ERROR: 916", b"NO CARRIER", b"CONNECT"
        body = text[:len(text) - len(final) - 4] if text.endswith(b"\r\n") else text
        self.lines = LINE_RE.findall(body)   # information lines

    @property
    def ok(self):
        return self.final == b"OK"

    def info(self, prefix):
        """Information lines starting with prefix (bytes or str)."""
        if isinstance(prefix, str):
            prefix = prefix.encode()
        return [l for l in self.lines if l.startswith(prefix)]

    def __repr__(self):
        return "<AtResult %r -> %r %r>" % (self.cmd, self.final, self.text)


def show(b, limit=None):
    """Bytes as readable text: \\r \\n visible (a line break after each line
    end), non-printables escaped."""
    prefix = ""
    if limit is not None and len(b) > limit:
        b = b[-limit:]
        prefix = "…"
    out = []
    n = len(b)
    for i, ch in enumerate(b):
        if ch == 13:
            out.append("\\r" if i + 1 < n and b[i + 1] == 10 else "\\r\n")
        elif ch == 10:
            out.append("\\n\n")
        elif 32 <= ch < 127:
            out.append(chr(ch))
        else:
            out.append("\\x%02x" % ch)
    return prefix + "".join(out)


def _cfmakeraw(fd):
    a = termios.tcgetattr(fd)
    a[0] &= ~(termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP |
              termios.INLCR | termios.IGNCR | termios.ICRNL | termios.IXON | termios.IXOFF)
    a[1] &= ~termios.OPOST
    a[2] &= ~(termios.CSIZE | termios.PARENB)
    a[2] |= termios.CS8
    a[3] &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG | termios.IEXTEN)
    a[6][termios.VMIN] = 1
    a[6][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, a)


def _to_regex(pattern):
    if isinstance(pattern, re.Pattern):
        return pattern
    if isinstance(pattern, str):
        pattern = pattern.encode()
    return re.compile(re.escape(pattern))


def _kill_all_modems():
    for m in list(Modem.instances):
        m.kill()


atexit.register(_kill_all_modems)


class Modem:
    instances = []   # every Modem created in this process (the runner reports/cleans them)

    def __init__(self, bin, tmpdir, dialect="hl", transport="pty", resolve=(), ca_bundle="none",
                 store=None, trace=True, extra_args=(), env=None, name=None, start_timeout=15):
        self.bin = bin
        self.tmpdir = tmpdir
        self.dialect = dialect
        self.transport = transport
        self.name = name or "modem%d" % len(Modem.instances)
        self.store = store or os.path.join(tmpdir, self.name + "-store")
        os.makedirs(self.store, exist_ok=True)
        self.trace_path = os.path.join(tmpdir, self.name + ".trace") if trace else None
        self.stderr_path = os.path.join(tmpdir, self.name + ".stderr")
        self.transcript = bytearray()   # everything received (bulk streams summarised)
        self.sent_log = bytearray()     # everything sent (bulk summarised)
        self.buf = bytearray()          # received, not yet consumed by expect()
        self.fd_in = self.fd_out = None
        self.closed = False
        self.exit_status = None
        self.last_send = 0.0
        self.guard_s = 1.0              # S12 default 50 * 20 ms; set by set_guard()/at("ATS12=")
        args = [bin, "--dialect", dialect, "--store", self.store]
        if ca_bundle is not None:
            args += ["--ca-bundle", ca_bundle]
        for r in resolve:
            args += ["--resolve", r]
        if self.trace_path:
            args += ["--trace", self.trace_path]
        args += list(extra_args)
        if os.environ.get("TM_E2E_EXTRA"):
            args += os.environ["TM_E2E_EXTRA"].split()
        self._stderr = open(self.stderr_path, "wb")
        Modem.instances.append(self)
        if transport == "pty":
            self.link = os.path.join(tmpdir, self.name + ".pty")
            args += ["--pty", self.link]
            self.args = args
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self._stderr,
                                         stderr=self._stderr, env=env, start_new_session=True)
            self._wait_link(start_timeout)
            fd = os.open(self.link, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            _cfmakeraw(fd)
            self.fd_in = self.fd_out = fd
        elif transport == "stdio":
            args += ["--stdio"]
            self.args = args
            self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=self._stderr, env=env, start_new_session=True)
            self.fd_out = self.proc.stdin.fileno()
            self.fd_in = self.proc.stdout.fileno()
            os.set_blocking(self.fd_in, False)
            os.set_blocking(self.fd_out, False)
        else:
            raise ValueError("transport must be 'pty' or 'stdio'")
        self.pid = self.proc.pid

    def _wait_link(self, timeout):
        # the modem creates the symlink once its pty is ready; poll it with a
        # deadline while watching the process (no inotify in the stdlib)
        deadline = time.monotonic() + timeout
        while not os.path.exists(self.link):
            if self.proc.poll() is not None:
                raise ModemError("%s exited with %s before creating %s\nstderr:\n%s" % (
                    self.bin, self.proc.returncode, self.link, self.stderr_text()))
            if time.monotonic() > deadline:
                raise ModemError("no pty link %s after %ss" % (self.link, timeout))
            try:
                self.proc.wait(0.01)
            except subprocess.TimeoutExpired:
                pass

    # ---- low level I/O ------------------------------------------------------------

    def _read_some(self, timeout):
        """Wait up to timeout for bytes; append to buf. Returns bytes read (b'' on timeout).
        Raises ModemError on EOF (the modem closed its side / exited)."""
        r, _, _ = select.select([self.fd_in], [], [], max(0.0, timeout))
        if not r:
            return b""
        try:
            data = os.read(self.fd_in, 1 << 16)
        except BlockingIOError:
            return b""
        except OSError as e:
            if e.errno == errno.EIO:     # pty: the other side is gone
                data = b""
            else:
                raise
        if not data:
            raise ModemError("modem output closed (process %s)" % (
                "exited with %s" % self.proc.poll() if self.proc.poll() is not None
                else "still running"))
        return data

    def _take(self, data, record=True):
        self.buf += data
        if record:
            self.transcript += data
            if len(self.transcript) > (1 << 20):     # keep the tail only
                del self.transcript[:len(self.transcript) - (1 << 19)]

    def send(self, data, record=True):
        """Write all bytes; while the modem cannot take them, keep reading its
        output (a modem that answers while we write must not deadlock us)."""
        if isinstance(data, str):
            data = data.encode()
        if record:
            self.sent_log += data
        else:
            self.sent_log += b"<%d bytes sent>" % len(data)
        view = memoryview(data)
        deadline = time.monotonic() + 60
        while view:
            try:
                n = os.write(self.fd_out, view)
                view = view[n:]
                continue
            except BlockingIOError:
                pass
            if time.monotonic() > deadline:
                raise ModemError("modem did not accept input for 60 s (%d bytes left)" % len(view))
            r, w, _ = select.select([self.fd_in], [self.fd_out], [], 1.0)
            if r:
                try:
                    self._take(self._read_some(0))
                except ModemError:
                    raise
        self.last_send = time.monotonic()

    def send_line(self, cmd, eol=b"\r"):
        if isinstance(cmd, str):
            cmd = cmd.encode()
        self.send(cmd + eol)

    def expect(self, pattern, timeout=10):
        """Read until pattern (bytes/str literal or compiled bytes regex) appears;
        consume up to its end and return a Match."""
        rx = _to_regex(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                consumed = bytes(self.buf[:m.end()])
                del self.buf[:m.end()]
                return Match(consumed, rx.search(consumed))
            left = deadline - time.monotonic()
            if left <= 0:
                raise ModemError("timeout after %ss waiting for %r; unconsumed output:\n%s" % (
                    timeout, rx.pattern, show(bytes(self.buf), 600) or "(nothing)"))
            self._take(self._read_some(left))

    def expect_no(self, pattern, within):
        """Assert pattern does not appear within `within` seconds.  Only where the
        protocol demands silence; prefer expecting something concrete."""
        rx = _to_regex(pattern)
        deadline = time.monotonic() + within
        while True:
            if rx.search(self.buf):
                raise ModemError("unexpected %r in output:\n%s" % (rx.pattern, show(bytes(self.buf), 600)))
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._take(self._read_some(left))

    def stream_until(self, pattern, on_data, idle_timeout=20, total_timeout=300, on_tick=None):
        """Bulk read: hand every byte before `pattern` (literal bytes) to on_data(bytes)
        without keeping it; consume the pattern.  Bytes that might be the start of
        the pattern are held back.  on_tick() is called after each read (for
        sampling).  Returns the number of bytes streamed."""
        total = 0
        keep = len(pattern) - 1
        deadline = time.monotonic() + total_timeout
        self.transcript += b"<stream: "
        try:
            while True:
                i = self.buf.find(pattern)
                if i >= 0:
                    if i:
                        on_data(bytes(self.buf[:i]))
                        total += i
                    del self.buf[:i + len(pattern)]
                    self.transcript += b"%d bytes>" % total + pattern
                    return total
                if len(self.buf) > keep:
                    n = len(self.buf) - keep
                    on_data(bytes(self.buf[:n]))
                    total += n
                    del self.buf[:n]
                if time.monotonic() > deadline:
                    raise ModemError("stream: no %r after %ss (%d bytes)" % (pattern, total_timeout, total))
                data = self._read_some(idle_timeout)
                if not data:
                    raise ModemError("stream: nothing for %ss after %d bytes, no %r yet" % (
                        idle_timeout, total, pattern))
                self.buf += data
                if on_tick:
                    on_tick()
        except BaseException:
            self.transcript += b"%d bytes, interrupted>" % total
            raise

    # ---- AT helpers ------------------------------------------------------------------

    def at(self, cmd, timeout=10):
        """Send one command line; return everything up to its final result
        (OK | ERROR | +CME ERROR: … | NO CARRIER | CONNECT)."""
        self.send_line(cmd)
        m = self.expect(FINAL_RE, timeout)
        res = AtResult(cmd, m.consumed, m.group(1))
        if isinstance(cmd, str) and res.ok:
            s = re.match(r"(?i)ATS12=(\d+)$", cmd.strip())
            if s:
                self.guard_s = int(s.group(1)) * 0.02
        return res

    def at_ok(self, cmd, timeout=10):
        """at() that must end with OK."""
        r = self.at(cmd, timeout)
        if not r.ok:
            raise ModemError("%s -> %s (expected OK)\n%s" % (cmd, r.final.decode(errors="replace"),
                                                             show(r.text, 400)))
        return r

    def set_guard(self, s12):
        """ATS12=<s12> (guard time in 1/50 s); 5 -> 100 ms."""
        return self.at_ok("ATS12=%d" % s12)

    def guard(self, factor=2.0):
        """Stay silent for the +++ guard time (by the clock: the protocol demands
        silence, there is no event to wait for), measured from the last byte sent."""
        until = self.last_send + self.guard_s * factor
        while True:
            left = until - time.monotonic()
            if left <= 0:
                return
            # keep collecting output while silent
            data = self._read_some(left)
            if data:
                self._take(data)

    def escape(self):
        """guard, '+++', guard (ends a data mode)."""
        self.guard()
        self.send(b"+++")
        self.guard()

    # ---- trace, stderr, life cycle ----------------------------------------------------

    def trace_text(self):
        if not self.trace_path:
            return ""
        try:
            with open(self.trace_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def stderr_text(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def rss_kib(self):
        """VmRSS of the modem process in KiB (None when gone)."""
        try:
            with open("/proc/%d/status" % self.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def close(self, check=True, timeout=10):
        """SIGTERM, wait (draining output), assert exit status 0; returns stderr."""
        if self.closed:
            return self.stderr_text()
        self.closed = True
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            try:
                data = self._read_some(0.05)
                if data:
                    self._take(data)
            except (ModemError, OSError):
                try:
                    self.proc.wait(max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
        killed = False
        if self.proc.poll() is None:
            killed = True
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(5)
        self.exit_status = self.proc.returncode
        for fd in {self.fd_in, self.fd_out}:
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        for f in (self.proc.stdin, self.proc.stdout):
            if f:
                try:
                    f.close()
                except OSError:
                    pass
        self._stderr.close()
        err = self.stderr_text()
        if check and (killed or self.exit_status != 0):
            raise ModemError("modem %s: exit status %s after SIGTERM%s\nstderr:\n%s" % (
                self.name, self.exit_status, " (did not exit in %ss, killed)" % timeout if killed else "",
                err[-3000:]))
        return err

    def kill(self):
        """For cleanup after a failure: no checks."""
        try:
            self.close(check=False, timeout=3)
        except Exception:
            pass

    def describe(self, transcript_tail=1500, trace_lines=25):
        out = ["%s: %s (pid %d, %s)" % (self.name, " ".join(self.args), self.pid,
                                       "exit %s" % self.proc.poll() if self.proc.poll() is not None
                                       else "running")]
        out.append("  sent (tail):\n    " + show(bytes(self.sent_log), 600).replace("\n", "\n    "))
        out.append("  received (tail):\n    " + show(bytes(self.transcript), transcript_tail).replace("\n", "\n    "))
        if self.buf:
            out.append("  unconsumed: " + show(bytes(self.buf), 300))
        tr = self.trace_text().splitlines()[-trace_lines:]
        out.append("  trace (tail):\n" + ("\n".join("    " + l for l in tr) if tr else "    (empty)"))
        err = self.stderr_text().strip().splitlines()[-15:]
        if err:
            out.append("  stderr (tail):\n" + "\n".join("    " + l for l in err))
        return "\n".join(out)
