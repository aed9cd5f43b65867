"""What a test function receives, and the markers it can carry.

    from framework import quick, timeout

    @quick                 # also run by `run.py --quick` (the ASan build)
    @timeout(120)          # per-test limit in seconds (default 60)
    def test_something(t):
        m = t.modem()
        assert m.at("AT").ok

A module may instead say QUICK = ["test_a", "test_b"] or QUICK = True (all).
Test functions take one argument, the Context `t`.
"""
import os

import pki as _pki
import servers as _servers
from modem import Modem

DEFAULT_TIMEOUT = 60


def quick(fn):
    fn.e2e_quick = True
    return fn


def timeout(seconds):
    def deco(fn):
        fn.e2e_timeout = seconds
        return fn
    return deco


class Skip(Exception):
    pass


class Session:
    """Per-run state: the PKI and the big file, generated once, lazily."""

    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self._pki = None

    @property
    def pki(self):
        if self._pki is None:
            self._pki = _pki.PKI(os.path.join(self.dir, "pki"))
        return self._pki


class Context:
    def __init__(self, name, bin, tmp, session, verbose=False):
        self.name = name
        self.bin = bin
        self.tmp = tmp
        self.session = session
        self.verbose = verbose
        self.modems = []
        self.servers = []
        self.notes = []

    # ---- resources --------------------------------------------------------------------

    @property
    def pki(self):
        return self.session.pki

    def modem(self, **kw):
        """Start the binary (see modem.Modem for the keywords)."""
        kw.setdefault("name", "modem%d" % len(self.modems))
        m = Modem(self.bin, self.tmp, **kw)
        self.modems.append(m)
        return m

    def nginx(self, **kw):
        """An nginx to configure with .vhost(...) and then .start()."""
        n = _servers.Nginx(self.tmp, **kw)
        self.servers.append(n)
        return n

    def echo_server(self, cert, **kw):
        e = _servers.EchoServer(self.tmp, cert, **kw)
        self.servers.append(e)
        return e.start()

    def s_server(self, cert, **kw):
        s = _servers.SServer(self.tmp, cert, **kw)
        self.servers.append(s)
        return s.start()

    def big_file(self, size=64 * 1024 * 1024):
        """(path, sha256, size): pseudo-random, generated once per run."""
        return _servers.big_file(self.session.dir, size)

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    # ---- reporting ------------------------------------------------------------------------

    def log(self, msg):
        self.notes.append(str(msg))
        if self.verbose:
            print("    . " + str(msg), flush=True)

    def skip(self, reason):
        raise Skip(reason)

    def describe(self):
        parts = []
        if self.notes:
            parts.append("notes:\n" + "\n".join("  " + n for n in self.notes[-20:]))
        for m in self.modems:
            parts.append(m.describe())
        for s in self.servers:
            try:
                parts.append(s.describe())
            except Exception as e:   # a server that never started
                parts.append("%s: %r" % (type(s).__name__, e))
        return "\n".join(parts)

    def cleanup(self, passed):
        """Stop everything; on a passing test, modems must also exit with status 0
        (raises then, so an ASan report or a crash at exit fails the test)."""
        problems = []
        for m in self.modems:
            if passed and not m.closed:
                try:
                    m.close(check=True)
                except Exception as e:
                    problems.append(str(e))
            else:
                m.kill()
        for s in self.servers:
            try:
                s.stop()
            except Exception as e:
                problems.append("stopping %s: %r" % (type(s).__name__, e))
        if problems:
            raise AssertionError("\n".join(problems))
