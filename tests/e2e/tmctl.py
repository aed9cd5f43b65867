"""Drive a tlsmodem's control channel (--control, docs/control.md) from a test.

    import tmctl
    m, ctl = tmctl.start(t, dialect="hl")        # modem with --control in t.tmp
    ctl.ok("coverage lost")                      # -> {"event": "coverage-lost"}
    a = ctl.cmd("socket reset 9")                # Answer: .ok, .fields, .line
    tmctl.ctl_cli(t, ctl.path, "csq", "5")       # the tlsmodem-ctl binary: (rc, line)

The answer is one line: "ok" or "error", then key=value pairs; values with
blanks are double-quoted with \\" and \\\\ escaped.  Also usable outside the
e2e runner: Control(path) needs only a running tlsmodem."""
import os
import re
import shutil
import socket
import subprocess
import tempfile

_PAIR = re.compile(r'\s*([A-Za-z0-9_]+)=("(?:[^"\\]|\\.)*"|\S*)')


class Answer:
    def __init__(self, line):
        self.line = line
        head, _, rest = line.partition(" ")
        self.ok = head == "ok"
        if head not in ("ok", "error"):
            raise AssertionError("control answer neither ok nor error: %r" % line)
        self.fields = {}
        pos = 0
        while pos < len(rest):
            m = _PAIR.match(rest, pos)
            if not m:
                raise AssertionError("control answer not key=value at %d: %r" % (pos, line))
            v = m.group(2)
            if v.startswith('"'):
                v = re.sub(r'\\(.)', r'\1', v[1:-1])
            self.fields[m.group(1)] = v
            pos = m.end()
            while pos < len(rest) and rest[pos] == " ":
                pos += 1

    def __getitem__(self, k):
        return self.fields[k]

    def __repr__(self):
        return "Answer(%r)" % self.line


class Control:
    """One connection to the control channel; commands and answers in turn."""

    def __init__(self, path, timeout=10):
        self.path = path
        if ":" in path and "/" not in path:
            host, port = path.rsplit(":", 1)
            self.sock = socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)
        else:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(path)
        self.buf = b""

    def cmd(self, line):
        self.sock.sendall(line.encode() + b"\n")
        while b"\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise AssertionError("control channel closed while waiting for the answer to %r" % line)
            self.buf += chunk
        ans, _, self.buf = self.buf.partition(b"\n")
        return Answer(ans.decode())

    def ok(self, line):
        a = self.cmd(line)
        assert a.ok, "control %r: %s" % (line, a.line)
        return a.fields

    def error(self, line, code=None):
        a = self.cmd(line)
        assert not a.ok, "control %r: expected an error, got %s" % (line, a.line)
        if code:
            assert a["code"] == code, "control %r: %s" % (line, a.line)
        return a.fields

    def close(self):
        self.sock.close()


class _TmpDir:
    def __init__(self, d):
        self.d = d

    def stop(self):
        shutil.rmtree(self.d, ignore_errors=True)

    def describe(self):
        return "control socket directory %s" % self.d


def start(t, dialect="hl", extra_args=(), **kw):
    """A modem with --control on a socket in the test's directory (0700), and
    a Control connected to it once the modem answers AT."""
    path = os.path.join(t.tmp, "ctl%d.sock" % len(t.modems))
    if len(path) > 100:                 # sun_path holds 107 characters
        d = tempfile.mkdtemp(prefix="tmctl")          # 0700
        t.servers.append(_TmpDir(d))   # removed after the modems stopped
        path = os.path.join(d, "ctl%d.sock" % len(t.modems))
    m = t.modem(dialect=dialect, extra_args=tuple(extra_args) + ("--control", path), **kw)
    # the first output means the loop runs: the control socket is listening
    if dialect == "hl":
        m.at_ok("AT")
    elif dialect == "esp":
        m.expect(b"\r\nready\r\n", 10)
    else:
        m.expect(b"+WIND:24:WiFi Up:0:127.0.0.1\r\n", 10)
    return m, Control(path)


def ctl_cli(t, spec, *words):
    """Runs build/tlsmodem-ctl (next to the modem binary): (exit status, output line)."""
    exe = os.path.join(os.path.dirname(os.path.abspath(t.bin)), "tlsmodem-ctl")
    p = subprocess.run([exe, spec] + list(words), capture_output=True, timeout=20)
    return p.returncode, (p.stdout or p.stderr).decode().strip()
