"""Real servers for the end-to-end tests, on 127.0.0.1, on ports chosen here.

Every process is started in its own process group (start_new_session) and
recorded; stop() kills the group (TERM, then KILL after a deadline).  The
runner stops everything a test started in its `finally`, and an atexit hook
kills whatever is left.  Readiness is awaited, never slept for: nginx by
connecting to its port, `openssl s_server` by its "ACCEPT" line, the echo
server by its "READY" line, each with a deadline and a check that the process
is still alive.
"""
import atexit
import hashlib
import json
import os
import random
import select
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# ---- process registry -------------------------------------------------------

_live = []          # every Proc not yet stopped


class Proc:
    """A child process in its own process group, with its output in a log file."""

    def __init__(self, name, args, log_path, cwd=None, env=None, ready_line=None):
        self.name = name
        self.args = list(args)
        self.log_path = log_path
        self._ready = threading.Event()
        self._ready_line = ready_line.encode() if isinstance(ready_line, str) else ready_line
        self._log = open(log_path, "ab")
        if ready_line is None:
            self.popen = subprocess.Popen(self.args, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                          stdout=self._log, stderr=subprocess.STDOUT,
                                          start_new_session=True)
            self._thread = None
        else:
            # a pipe drained by a thread into the log; the ready line sets an event
            self.popen = subprocess.Popen(self.args, cwd=cwd, env=env, stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                          start_new_session=True)
            self._thread = threading.Thread(target=self._drain, daemon=True)
            self._thread.start()
        self.pid = self.popen.pid
        _live.append(self)

    def _drain(self):
        seen = b""
        fd = self.popen.stdout.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            self._log.write(chunk)
            self._log.flush()
            if not self._ready.is_set():
                seen = (seen + chunk)[-4096:]
                if self._ready_line in seen:
                    self._ready.set()
        self._ready.set()   # EOF: wake the waiter, it checks liveness

    def alive(self):
        return self.popen.poll() is None

    def wait_ready_line(self, timeout=15):
        if not self._ready.wait(timeout) or not self.alive():
            raise RuntimeError("%s did not become ready (%s)\n%s" % (
                self.name, "exited %s" % self.popen.returncode if not self.alive()
                else "no %r within %ss" % (self._ready_line, timeout), self.log_tail()))

    def log_tail(self, n=30):
        try:
            with open(self.log_path, "rb") as f:
                data = f.read()
        except OSError:
            return ""
        lines = data.decode(errors="replace").splitlines()[-n:]
        return "\n".join("    " + l for l in lines)

    def stop(self, timeout=5):
        if self in _live:
            _live.remove(self)
        if self.popen.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        # the group may still hold children (nginx workers): make sure
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        for f in (self.popen.stdin, self.popen.stdout):
            if f:
                try:
                    f.close()
                except OSError:
                    pass
        if self._thread:
            self._thread.join(2)
        self._log.close()


def stop_all():
    for p in list(_live):
        try:
            p.stop(timeout=2)
        except Exception:
            pass


atexit.register(stop_all)

# ---- ports ------------------------------------------------------------------


def free_port():
    """A port that was free a moment ago (bind port 0 on 127.0.0.1)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def wait_port(port, proc=None, timeout=15, host="127.0.0.1"):
    """Connect until the port accepts (or the process dies, or the deadline)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise RuntimeError("%s exited with %s before listening on %d\n%s" % (
                proc.name, proc.popen.returncode, port, proc.log_tail()))
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            s.connect((host, port))
            return
        except OSError as e:
            last = e
        finally:
            s.close()
        # refused comes back at once: wait on the process (not a blind sleep)
        if proc is not None:
            try:
                proc.popen.wait(0.02)
            except subprocess.TimeoutExpired:
                pass
        else:
            select.select([], [], [], 0.02)
    raise RuntimeError("nothing listening on %s:%d after %ss (%s)\n%s" % (
        host, port, timeout, last, proc.log_tail() if proc else ""))


# ---- the 64 MiB file, generated once per run ---------------------------------

_big = {}

EOF_PATTERN = b"--EOF--Pattern--"


def big_file(session_dir, size=64 * 1024 * 1024):
    """(path, sha256 hex, size) of a pseudo-random file; one per run and size."""
    if size in _big:
        return _big[size]
    path = os.path.join(session_dir, "big-%d.bin" % size)
    seed = 20260000
    while True:
        data = random.Random(seed).randbytes(size)
        if EOF_PATTERN not in data:     # the HL body must not contain the EOF pattern
            break
        seed += 1
    with open(path, "wb") as f:
        f.write(data)
    _big[size] = (path, hashlib.sha256(data).hexdigest(), size)
    return _big[size]


# ---- nginx ------------------------------------------------------------------


class VHost:
    def __init__(self, names, cert, root):
        self.names = names
        self.cert = cert
        self.root = root

    def add_file(self, rel, data):
        """Write a file the vhost serves at /rel (bytes served exactly)."""
        path = os.path.join(self.root, rel.lstrip("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return path


class Nginx:
    """nginx with TLS virtual hosts chosen by SNI, on one port.

        ng = Nginx(tmpdir)
        vh = ng.vhost("www.coursera.test", pki.coursera, files={"index.html": PAGE})
        ng.start()   ->  ng.port

    The default server rejects the handshake (`ssl_reject_handshake on`), so a
    ClientHello without SNI, or with a name no vhost has, is aborted with an
    alert — like coursera.org in seed 000.
    """

    def __init__(self, tmpdir, port=None, keepalive_requests=1000, reject_unknown_sni=True,
                 protocols="TLSv1.2 TLSv1.3"):
        self.dir = os.path.join(tmpdir, "nginx-%d" % len(os.listdir(tmpdir)))
        os.makedirs(os.path.join(self.dir, "tmp"))
        self.port = port or free_port()
        self.keepalive_requests = keepalive_requests
        self.reject_unknown_sni = reject_unknown_sni
        self.protocols = protocols
        self.vhosts = []
        self.blocks = []
        self.proc = None

    def vhost(self, names, cert, files=None, big=None, client_ca=None, verify_client="off",
              mtls_location=None, misdirected_421=False, locations=(), extra="",
              protocols=None):
        """Add a server block.

        names          "a.test" or ["a.test", "b.test"] (server_name)
        cert           pki.Cert: its chain (leaf + intermediates) and key are used
        files          {"index.html": b"..."} written into the vhost's root
        big            (path, sha, size) from big_file(): served at /big.bin
        client_ca      pki.Cert of the CA that issues client certs (ssl_client_certificate)
        verify_client  "off" | "on" | "optional" (server level, as nginx requires)
        mtls_location  e.g. "/mtls/": verify_client optional for the server, this
                       location answers 403 without a valid client certificate
                       and 200 "client: <subject DN>\\n" with one
        misdirected_421 answer 421 when Host differs from the SNI name.  nginx 1.22
                       does this by itself only when the server named by Host has
                       ssl_verify_client on/optional (verified); this makes it
                       unconditional for the vhost.
        locations      extra raw "location ... { ... }" blocks
        """
        if isinstance(names, str):
            names = [names]
        root = os.path.join(self.dir, "www-%d" % len(self.vhosts))
        os.makedirs(root)
        vh = VHost(names, cert, root)
        for rel, data in (files or {}).items():
            vh.add_file(rel, data)
        lines = ["    server {",
                 "        listen 127.0.0.1:%d ssl;" % self.port,
                 "        server_name %s;" % " ".join(names),
                 "        ssl_certificate %s;" % cert.chain,
                 "        ssl_certificate_key %s;" % cert.key,
                 "        root %s;" % root,
                 "        index index.html;"]
        if mtls_location and verify_client == "off":
            verify_client = "optional"
        if client_ca is not None:
            lines.append("        ssl_client_certificate %s;" % client_ca.pem)
            lines.append("        ssl_verify_client %s;" % verify_client)
            lines.append("        ssl_verify_depth 3;")
        if protocols:
            # nginx takes versions from the default server's context (the
            # SNI switch comes too late); use SServer for version edge cases
            lines.append("        ssl_protocols %s;" % protocols)
        if misdirected_421:
            lines.append("        if ($host != $ssl_server_name) { return 421; }")
        if big is not None:
            lines.append("        location = /big.bin { alias %s; }" % big[0])
        if mtls_location:
            lines += ["        location %s {" % mtls_location,
                      "            default_type text/plain;",
                      "            if ($ssl_client_verify != SUCCESS) { return 403; }",
                      '            return 200 "client: $ssl_client_s_dn\\n";',
                      "        }"]
        for loc in locations:
            lines.append("        " + loc)
        if extra:
            lines.append(extra)
        lines.append("    }")
        self.blocks.append("\n".join(lines))
        self.vhosts.append(vh)
        return vh

    def config_text(self):
        d = self.dir
        head = []
        if os.geteuid() == 0:
            head.append("user root;")
        head += ["worker_processes 1;",
                 "error_log %s/error.log info;" % d,
                 "pid %s/nginx.pid;" % d,
                 "events { worker_connections 256; }",
                 "http {",
                 "    log_format e2e '$remote_addr sni=\"$ssl_server_name\" host=\"$host\" "
                 "$ssl_protocol \"$request\" $status $body_bytes_sent req_len=$request_length "
                 "client=\"$ssl_client_s_dn\" verify=$ssl_client_verify conn=$connection';",
                 "    access_log %s/access.log e2e;" % d,
                 "    client_body_temp_path %s/tmp/body;" % d,
                 "    proxy_temp_path %s/tmp/proxy;" % d,
                 "    fastcgi_temp_path %s/tmp/fastcgi;" % d,
                 "    uwsgi_temp_path %s/tmp/uwsgi;" % d,
                 "    scgi_temp_path %s/tmp/scgi;" % d,
                 "    types { text/html html; text/plain txt; application/octet-stream bin; }",
                 "    default_type application/octet-stream;",
                 "    ssl_protocols %s;" % self.protocols,
                 "    sendfile on;",
                 "    keepalive_requests %d;" % self.keepalive_requests,
                 "    keepalive_timeout 60s;",
                 "    client_max_body_size 200m;"]
        if self.reject_unknown_sni:
            head += ["    server {",
                     "        listen 127.0.0.1:%d ssl default_server;" % self.port,
                     "        ssl_reject_handshake on;",
                     "    }"]
        return "\n".join(head + self.blocks + ["}", ""])

    def start(self, timeout=15):
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(self.config_text())
        t = subprocess.run(["nginx", "-t", "-p", self.dir, "-c", conf, "-e",
                            os.path.join(self.dir, "error.log")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        if t.returncode != 0:
            raise RuntimeError("nginx config rejected:\n%s\n--- nginx.conf ---\n%s" % (
                t.stdout.decode(errors="replace"), self.config_text()))
        self.proc = Proc("nginx", ["nginx", "-p", self.dir, "-c", conf, "-e",
                                   os.path.join(self.dir, "error.log"), "-g", "daemon off;"],
                         os.path.join(self.dir, "stdout.log"))
        wait_port(self.port, self.proc, timeout)
        return self

    def stop(self):
        if self.proc:
            self.proc.stop()

    def wait_access_log(self, pred, count, timeout=5):
        """Lines matching pred once at least `count` have been written: nginx
        logs a request after sending its response, so a client can finish
        before the line exists.  Polls the file (no event exists for it)."""
        deadline = time.monotonic() + timeout
        while True:
            lines = [l for l in self.access_log() if pred(l)]
            if len(lines) >= count or time.monotonic() > deadline:
                return lines
            time.sleep(0.01)

    def access_log(self):
        try:
            with open(os.path.join(self.dir, "access.log")) as f:
                return f.read().splitlines()
        except OSError:
            return []

    def error_log_tail(self, n=20):
        try:
            with open(os.path.join(self.dir, "error.log"), errors="replace") as f:
                return "\n".join("    " + l for l in f.read().splitlines()[-n:])
        except OSError:
            return ""

    def describe(self):
        return "nginx :%d (%s)\n  error.log tail:\n%s\n  access.log tail:\n%s" % (
            self.port, self.dir, self.error_log_tail(),
            "\n".join("    " + l for l in self.access_log()[-10:]))


# ---- openssl s_server ---------------------------------------------------------


class SServer:
    """`openssl s_server` for protocol edge cases.

        SServer(tmpdir, cert=pki.coursera, args=["-tls1_3"], verify=1, ca=pki.client_ca)

    mode: "-www" (status page), "-WWW" (files from cwd), "-rev", or None.
    verify: N -> -Verify N (client certificate required), with ca -> -CAfile.
    """

    def __init__(self, tmpdir, cert, mode="-www", args=(), verify=None, ca=None, port=None,
                 cwd=None):
        self.port = port or free_port()
        self.dir = os.path.join(tmpdir, "s_server-%d" % self.port)
        os.makedirs(self.dir)
        a = ["openssl", "s_server", "-accept", "127.0.0.1:%d" % self.port,
             "-cert", cert.pem, "-key", cert.key]
        if cert.issuer is not None and cert.issuer.issuer is not None:
            a += ["-cert_chain", cert.chain]
        if verify is not None:
            a += ["-Verify", str(verify)]
        if ca is not None:
            a += ["-CAfile", ca.pem]
        if mode:
            a.append(mode)
        a += list(args)
        self.args = a
        self.proc = Proc("openssl s_server", a, os.path.join(self.dir, "s_server.log"),
                         cwd=cwd or self.dir, ready_line="ACCEPT")

    def start(self, timeout=15):
        self.proc.wait_ready_line(timeout)
        return self

    def stop(self):
        self.proc.stop()

    def log(self):
        with open(self.proc.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def describe(self):
        return "openssl s_server :%d\n  %s\n%s" % (self.port, " ".join(self.args),
                                                  self.proc.log_tail())


# ---- Python echo server ---------------------------------------------------------


class EchoServer:
    """HTTPS server (tests/e2e/echo_server.py) that records each request.

    POST: the body (Content-Length or chunked) is written to record/NNNN.bin and
    sent back as the response body.  GET: a fixed page (GET_BODY) or, for
    /bytes/N, N pseudo-random bytes.  HTTP/1.1 keep-alive.  Every request (and
    every failed handshake) is one JSON line in record/requests.jsonl with the
    SNI name seen.
    """

    GET_BODY = b"echo server: hello\n"

    def __init__(self, tmpdir, cert, client_ca=None, tls13_only=False, port=None):
        self.port = port or free_port()
        self.dir = os.path.join(tmpdir, "echo-%d" % self.port)
        os.makedirs(self.dir)
        a = [sys.executable, os.path.join(HERE, "echo_server.py"), "--port", str(self.port),
             "--cert", cert.chain, "--key", cert.key, "--record", self.dir]
        if client_ca is not None:
            a += ["--client-ca", client_ca.pem]
        if tls13_only:
            a += ["--tls13-only"]
        self.proc = Proc("echo_server", a, os.path.join(self.dir, "server.log"),
                         ready_line="READY")

    def start(self, timeout=15):
        self.proc.wait_ready_line(timeout)
        return self

    def stop(self):
        self.proc.stop()

    def requests(self):
        path = os.path.join(self.dir, "requests.jsonl")
        try:
            with open(path) as f:
                return [json.loads(l) for l in f if l.strip()]
        except OSError:
            return []

    def bodies(self):
        """Bodies of the POST requests, in order."""
        out = []
        for r in self.requests():
            if r.get("body_file"):
                with open(os.path.join(self.dir, r["body_file"]), "rb") as f:
                    out.append(f.read())
        return out

    def describe(self):
        reqs = self.requests()[-5:]
        return "echo server :%d (%s)\n  last requests: %s\n  log:\n%s" % (
            self.port, self.dir, json.dumps(reqs, indent=None)[:1500], self.proc.log_tail())


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
