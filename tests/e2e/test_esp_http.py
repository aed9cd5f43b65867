"""ESP-AT dialect: the HTTP client commands (docs/esp.md section 6).

AT+HTTPCLIENT (HEAD/GET/POST/PUT/DELETE), AT+HTTPGETSIZE, AT+HTTPCGET,
AT+HTTPCPOST/HTTPCPUT (body after '>'), AT+HTTPURLCFG, AT+HTTPCHEAD against
nginx on 127.0.0.1 (plain HTTP and HTTPS), and the HTTPS echo server for
bodies; byte-exact bodies, flat memory on a 16 MiB body, verification
failures with their reason, bad input that leaves the modem answering AT.
"""
import hashlib
import os
import re

from framework import quick, timeout
from modem import ModemError, show

FINALS = (b"OK", b"ERROR", b"SEND OK", b"SEND FAIL", b"SET OK")
HOST = "www.coursera.test"


class Answer:
    def __init__(self):
        self.frames = []        # sizes
        self.body = bytearray()
        self.total = 0
        self.lines = []         # other lines (ERR CODE:..., +HTTPGETSIZE:...)
        self.final = None

    def __repr__(self):
        return "<Answer %s frames=%d total=%d lines=%r>" % (self.final, len(self.frames), self.total,
                                                             self.lines[-5:])


def answer(m, prefix, timeout=60, keep=True, on_data=None, frame_max=None):
    """Reads an HTTP command's answer: "<prefix>:<n>,<n bytes>\\r\\n" frames, other
    lines, then a final line (OK, ERROR, SEND OK, SEND FAIL, SET OK).  Every
    frame's length is checked against its bytes and CR LF."""
    import time
    pre = prefix.encode() + b":"
    a = Answer()
    deadline = time.monotonic() + timeout
    while True:
        buf = m.buf
        progressed = True
        while progressed:
            progressed = False
            while buf[:2] == b"\r\n":
                del buf[:2]
            if buf.startswith(pre):
                c = buf.find(b",", len(pre))
                if c > 0:
                    n = int(buf[len(pre):c])
                    if frame_max is not None:
                        assert 0 < n <= frame_max, "frame of %d bytes (max %d)" % (n, frame_max)
                    if len(buf) >= c + 1 + n + 2:
                        data = bytes(buf[c + 1:c + 1 + n])
                        assert buf[c + 1 + n:c + 3 + n] == b"\r\n", \
                            "frame of %d bytes not followed by CR LF: %r" % (n, show(bytes(buf[c + 1 + n:c + 40 + n])))
                        del buf[:c + 3 + n]
                        a.frames.append(n)
                        a.total += n
                        if keep:
                            a.body += data
                        if on_data:
                            on_data(data)
                        progressed = True
                        continue
            else:
                i = buf.find(b"\r\n")
                if i >= 0 and not (len(buf) < len(pre) and pre.startswith(bytes(buf))):
                    line = bytes(buf[:i])
                    del buf[:i + 2]
                    if line in FINALS:
                        a.final = line.decode()
                        return a
                    a.lines.append(line)
                    progressed = True
        left = deadline - time.monotonic()
        if left <= 0:
            raise ModemError("no final answer after %ss: %r; unconsumed: %s" % (timeout, a, show(bytes(m.buf), 300)))
        m._take(m._read_some(min(left, 5)), record=len(m.buf) < 4096)


def esp_modem(t, join=True, **kw):
    kw.setdefault("resolve", [])
    m = t.modem(dialect="esp", **kw)
    m.expect("ready\r\n", 10)
    m.at_ok("ATE0")
    if join:
        join_wifi(m)
    return m


def join_wifi(m):
    """Join the simulated network (the default --wifi is tlsmodem/tlsmodem):
    HTTP refuses to connect without an IP address, as the module."""
    m.at_ok("AT+CWMODE=1")
    m.at_ok('AT+CWJAP="tlsmodem","tlsmodem"', 20)


def plain_nginx(t, files, big=None, dav=False):
    """nginx with one plain-HTTP server on its own port (the e2e Nginx helper
    only listens with TLS): files at /, a big file at /big.bin, WebDAV PUT
    and DELETE under /dav/ (the stored file is what the server received)."""
    ng = t.nginx()
    ng.plain_port = _free_port()
    root = os.path.join(ng.dir, "plain-www")
    os.makedirs(os.path.join(root, "dav"))
    for rel, data in files.items():
        with open(os.path.join(root, rel), "wb") as f:
            f.write(data)
    lines = ["    server {",
             "        listen 127.0.0.1:%d;" % ng.plain_port,
             "        server_name plain.test;",
             "        root %s;" % root,
             "        location = /status/404 { return 404 \"nothing here\\n\"; }",
             "        location = /status/500 { return 500 \"broken\\n\"; }",
             "        location = /redirect { return 302 /index.html; }",
             "        location = /echo-headers { default_type text/plain; "
             "return 200 \"ua=$http_user_agent ct=$http_content_type x=$http_x_test "
             "len=$content_length m=$request_method\\n\"; }"]
    if big:
        lines.append("        location = /big.bin { alias %s; }" % big)
    if dav:
        lines += ["        location /dav/ {",
                  "            dav_methods PUT DELETE;",
                  "            create_full_put_path on;",
                  "            client_body_temp_path %s;" % os.path.join(ng.dir, "tmp", "dav"),
                  "        }"]
    lines.append("    }")
    ng.blocks.append("\n".join(lines))
    ng.plain_root = root
    # the TLS side needs at least one vhost; a harmless one
    ng.vhost(HOST, t.pki.coursera, files={"index.html": b"tls\n"})
    ng.start()
    return ng


def _free_port():
    from servers import free_port
    return free_port()


def url(ng, path):
    return "http://127.0.0.1:%d%s" % (ng.plain_port, path)


def trace_has(m, pattern, timeout=5):
    import time
    rx = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while True:
        txt = m.trace_text()
        if rx.search(txt):
            return txt
        if time.monotonic() > deadline:
            raise AssertionError("trace lacks %r; tail:\n%s" % (pattern, txt[-2000:]))
        m._take(m._read_some(0.1))


# ---- GET, HEAD, DELETE, PUT via AT+HTTPCLIENT ------------------------------------------------


@quick
@timeout(60)
def test_esp_httpclient_get_head_byte_exact(t):
    page = bytes(range(256)) * 5 + b"tail\r\nOK\r\n"      # binary, and an OK inside the body
    ng = plain_nginx(t, {"index.html": b"hello esp\n", "page.bin": page})
    m = esp_modem(t)
    m.send_line('AT+HTTPCLIENT=2,0,"%s",,,1' % url(ng, "/index.html"))
    a = answer(m, "+HTTPCLIENT")
    assert a.final == "OK" and bytes(a.body) == b"hello esp\n", a
    m.send_line('AT+HTTPCLIENT=2,0,"%s",,,1' % url(ng, "/page.bin"))
    a = answer(m, "+HTTPCLIENT", frame_max=512)
    assert a.final == "OK" and bytes(a.body) == page, a
    assert max(a.frames) == 512, a.frames
    # HEAD: one frame per header line, "Name: value", no body
    m.send_line('AT+HTTPCLIENT=1,0,"%s",,,1' % url(ng, "/page.bin"))
    a = answer(m, "+HTTPCLIENT")
    assert a.final == "OK", a
    heads = bytes(a.body)
    assert b"Content-Length: %d" % len(page) in heads, heads
    assert not heads.startswith(b"HTTP/1.1"), heads
    for line in re.findall(rb"[^\r\n]+", heads):
        assert re.match(rb"^[A-Za-z0-9-]+: ", line), line
    # host + path form (url empty, transport 1)
    m.send_line('AT+HTTPCLIENT=2,0,"","127.0.0.1:%d","/index.html",1' % ng.plain_port)
    a = answer(m, "+HTTPCLIENT")
    assert a.final == "ERROR", a    # a host argument is a host, not host:port
    assert "host" in m.trace_text()
    m.at_ok("AT")


@quick
@timeout(60)
def test_esp_httpclient_headers_content_type_status(t):
    ng = plain_nginx(t, {"index.html": b"x\n"})
    m = esp_modem(t)
    m.send_line('AT+HTTPCLIENT=2,1,"%s",,,1,"X-Test: one"' % url(ng, "/echo-headers"))
    a = answer(m, "+HTTPCLIENT")
    assert a.final == "OK", a
    assert bytes(a.body) == b"ua=ESP32 HTTP Client/1.0 ct=application/json x=one len= m=GET\n", bytes(a.body)
    # 404 -> ERROR, ERR CODE 0x010a7194 at SYSLOG=1 when the voice has it, reason in the trace
    m.at_ok("AT+SYSLOG=1")
    m.send_line('AT+HTTPCLIENT=2,0,"%s",,,1' % url(ng, "/status/404"))
    a = answer(m, "+HTTPCLIENT")
    assert a.final == "ERROR" and not a.frames, a
    assert a.lines == [b"ERR CODE:0x010a7194"], a
    m.send_line('AT+HTTPCGET="%s"' % url(ng, "/status/500"))
    a = answer(m, "+HTTPCGET")
    assert a.final == "ERROR" and a.lines == [b"ERR CODE:0x010a71f4"], a
    trace_has(m, r"HTTP 404 Not Found from http://127\.0\.0\.1:\d+/status/404")
    # a redirect is not followed: 302 and its body, OK
    m.send_line('AT+HTTPCLIENT=2,0,"%s",,,1' % url(ng, "/redirect"))
    a = answer(m, "+HTTPCLIENT")
    assert a.final == "OK" and b"302" in bytes(a.body), a
    trace_has(m, r"redirects are not followed")
    # HTTPCHEAD: global header, replaces the command's one of the same name
    m.send_line("AT+HTTPCHEAD=10")
    m.expect(">")
    m.send(b"X-Test: g1")
    m.expect("\r\nOK\r\n")
    r = m.at_ok("AT+HTTPCHEAD?")
    assert b'+HTTPCHEAD:0,"X-Test: g1"' in r.text, r
    m.send_line('AT+HTTPCLIENT=2,0,"%s",,,1,"X-Test: cmd"' % url(ng, "/echo-headers"))
    a = answer(m, "+HTTPCLIENT")
    assert b"x=g1 " in bytes(a.body), bytes(a.body)
    m.at_ok("AT+HTTPCHEAD=0")
    r = m.at_ok("AT+HTTPCHEAD?")
    assert b"+HTTPCHEAD:" not in r.text, r
    # a malformed header: ERROR with the reason, nothing set
    m.send_line("AT+HTTPCHEAD=12")
    m.expect(">")
    m.send(b"X-Test : bad")
    m.expect("\r\nERROR\r\n")
    trace_has(m, r"space before the colon")
    r = m.at_ok("AT+HTTPCHEAD?")
    assert b"+HTTPCHEAD:" not in r.text, r


@quick
@timeout(60)
def test_esp_httpclient_post_put_delete_dav(t):
    ng = plain_nginx(t, {"index.html": b"x\n"}, dav=True)
    m = esp_modem(t)
    # PUT via HTTPCPUT: exactly <length> bytes after '>'
    body = bytes(range(256)) * 40 + b"+++\r\nAT\r\n"
    m.send_line('AT+HTTPCPUT="%s",%d,1,"Content-Type: application/octet-stream"' % (url(ng, "/dav/a.bin"),
                                                                                     len(body)))
    m.expect("OK\r\n\r\n>")
    m.send(body)
    a = answer(m, "+HTTPCPUT")
    assert a.final == "SEND OK", a
    with open(os.path.join(ng.plain_root, "dav", "a.bin"), "rb") as f:
        assert f.read() == body
    # DELETE via HTTPCLIENT
    m.send_line('AT+HTTPCLIENT=5,0,"%s",,,1' % url(ng, "/dav/a.bin"))
    a = answer(m, "+HTTPCLIENT")
    assert a.final == "OK", a
    assert not os.path.exists(os.path.join(ng.plain_root, "dav", "a.bin"))
    # PUT via HTTPCLIENT: no data, Content-Length: 0
    m.send_line('AT+HTTPCLIENT=4,0,"%s",,,1' % url(ng, "/dav/empty.txt"))
    a = answer(m, "+HTTPCLIENT")
    assert a.final == "OK", a
    assert os.path.getsize(os.path.join(ng.plain_root, "dav", "empty.txt")) == 0
    lines = ng.wait_access_log(lambda l: '"PUT /dav/' in l or '"DELETE /dav/' in l, 3)
    assert len(lines) == 3, lines


@timeout(90)
def test_esp_http_post_https_echo_byte_exact(t):
    """POST bodies reach the server byte-exact (HTTPCLIENT <data>, HTTPCPOST 1 MiB)
    over verified HTTPS (the default bundle, SNI and name = the URL's host)."""
    echo = t.echo_server(t.pki.coursera)
    bundle = t.pki.root.pem
    m = esp_modem(t, resolve=["%s:%d:127.0.0.1" % (HOST, echo.port)], ca_bundle=bundle)
    u = "https://%s:%d/post" % (HOST, echo.port)
    m.send_line('AT+HTTPCLIENT=3,1,"%s",,,2,"{name:esp}"' % u)
    a = answer(m, "+HTTPCLIENT")
    assert a.final == "OK" and bytes(a.body) == b"{name:esp}", a
    # the manual's JSON example: \" inside the quoted <data> is a quote
    m.send_line('AT+HTTPCLIENT=3,1,"%s",,,2,"{\\"form\\":{\\"purpose\\":\\"test\\"}}"' % u)
    a = answer(m, "+HTTPCLIENT")
    assert a.final == "OK" and bytes(a.body) == b'{"form":{"purpose":"test"}}', a
    body = os.urandom(1 << 20)
    m.send_line('AT+HTTPCPOST="%s",%d' % (u, len(body)))
    m.expect("OK\r\n\r\n>")
    m.send(body, record=False)
    a = answer(m, "+HTTPCPOST", timeout=60, frame_max=512)
    assert a.final == "SEND OK", a
    assert bytes(a.body) == body
    assert echo.bodies()[-1] == body
    reqs = echo.requests()
    assert reqs[-1]["sni"] == HOST, reqs[-1]
    trace_has(m, r"HTTP: no CA loaded with AT\+SYSMFG: default bundle")


# ---- big bodies, memory -----------------------------------------------------------------


@timeout(180)
def test_esp_httpcget_1mib_exact_16mib_flat_memory(t):
    big1 = t.big_file(1 << 20)
    big16 = t.big_file(16 << 20)
    ng = plain_nginx(t, {"index.html": b"x\n"}, big=big16[0])
    os.symlink(big1[0], os.path.join(ng.plain_root, "one.bin"))
    m = esp_modem(t)
    m.send_line('AT+HTTPGETSIZE="%s"' % url(ng, "/one.bin"))
    a = answer(m, "+HTTPGETSIZE-has-no-frames")
    assert a.final == "OK" and a.lines == [b"+HTTPGETSIZE:%d" % (1 << 20)], a
    m.send_line('AT+HTTPCGET="%s"' % url(ng, "/one.bin"))
    a = answer(m, "+HTTPCGET", frame_max=2048)
    assert a.final == "OK", a
    assert hashlib.sha256(bytes(a.body)).hexdigest() == big1[1]
    hwm1 = _vm_hwm(m)
    h = hashlib.sha256()
    m.send_line('AT+HTTPCGET="%s",2048,10240' % url(ng, "/big.bin"))
    a = answer(m, "+HTTPCGET", timeout=150, keep=False, on_data=h.update, frame_max=10240)
    assert a.final == "OK" and a.total == 16 << 20, a
    assert h.hexdigest() == big16[1]
    hwm16 = _vm_hwm(m)
    assert hwm16 - hwm1 < 512, "VmHWM grew %d KiB between the 1 MiB and the 16 MiB body" % (hwm16 - hwm1)
    m.at_ok("AT")


def _vm_hwm(m):
    with open("/proc/%d/status" % m.pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


# ---- TLS failures --------------------------------------------------------------------------


@timeout(60)
def test_esp_https_wrong_name_unknown_ca_error_with_reason(t):
    ng = t.nginx()
    ng.vhost([HOST, "other.test"], t.pki.coursera, files={"index.html": b"tls page\n"})
    ng.start()
    # unknown CA: the bundle holds another root
    m = esp_modem(t, resolve=["%s:%d:127.0.0.1" % (HOST, ng.port), "other.test:%d:127.0.0.1" % ng.port],
                  ca_bundle=t.pki.wrong_root.pem)
    m.send_line('AT+HTTPCLIENT=2,0,"https://%s:%d/",,,2' % (HOST, ng.port))
    a = answer(m, "+HTTPCLIENT")
    assert a.final == "ERROR" and not a.frames, a
    trace_has(m, r"reason.*(trusted root|untrusted|unknown)")
    # the fix is said in this dialect's words
    trace_has(m, r"load the root 'CN=Test Root CA' \(AT\+SYSMFG=2,\"client_ca\",\"client_ca\.0\",8,<length>\)")
    m.close()
    # right CA, wrong name: other.test is served the coursera certificate
    m = esp_modem(t, resolve=["other.test:%d:127.0.0.1" % ng.port, "%s:%d:127.0.0.1" % (HOST, ng.port)],
                  ca_bundle=t.pki.root.pem, name="m2")
    m.send_line('AT+HTTPCLIENT=2,0,"https://other.test:%d/",,,2' % ng.port)
    a = answer(m, "+HTTPCLIENT")
    assert a.final == "ERROR", a
    trace_has(m, r"reason.*other\.test")
    m.send_line('AT+HTTPCLIENT=2,0,"https://%s:%d/",,,2' % (HOST, ng.port))
    a = answer(m, "+HTTPCLIENT")
    assert a.final == "OK" and bytes(a.body) == b"tls page\n", a


# ---- HTTPURLCFG, bad input ---------------------------------------------------------------------


@quick
@timeout(60)
def test_esp_httpurlcfg_long_url(t):
    ng = plain_nginx(t, {"long.html": b"long url page\n"})
    m = esp_modem(t)
    u = url(ng, "/long.html?q=" + "a" * 300).encode()
    m.send_line("AT+HTTPURLCFG=%d" % len(u))
    m.expect("OK\r\n\r\n>")
    m.send(u)
    m.expect("\r\nSET OK\r\n")
    r = m.at_ok("AT+HTTPURLCFG?")
    assert b"+HTTPURLCFG:%d,%s\r\n" % (len(u), u) in r.text, r
    m.send_line('AT+HTTPCLIENT=2,0,"",,,1')
    a = answer(m, "+HTTPCLIENT")
    assert a.final == "OK" and bytes(a.body) == b"long url page\n", a
    m.send_line('AT+HTTPCGET=""')
    a = answer(m, "+HTTPCGET")
    assert a.final == "OK" and bytes(a.body) == b"long url page\n", a
    m.at_ok("AT+HTTPURLCFG=0")
    r = m.at_ok("AT+HTTPURLCFG?")
    assert b"+HTTPURLCFG" not in r.text
    m.send_line('AT+HTTPCGET=""')
    a = answer(m, "+HTTPCGET")
    assert a.final == "ERROR", a
    trace_has(m, r"no URL was set with AT\+HTTPURLCFG")
    # not a URL: ERROR after the bytes, nothing kept
    m.send_line("AT+HTTPURLCFG=9")
    m.expect(">")
    m.send(b"ftp://x/y")
    m.expect("\r\nERROR\r\n")
    trace_has(m, r"only http:// and https://")
    assert m.at("AT+HTTPURLCFG=7").final == b"ERROR"


@quick
@timeout(60)
def test_esp_http_bad_input_keeps_answering(t):
    ng = plain_nginx(t, {"index.html": b"x\n"}, dav=True)
    m = esp_modem(t, extra_args=["--timeout-idle", "1500"])
    for cmd, why in [('AT+HTTPCLIENT=9,0,"%s",,,1' % url(ng, "/"), r"argument 1 \(opt\)"),
                     ('AT+HTTPCLIENT=2,0,"gopher://x/",,,1', r"gopher"),
                     ('AT+HTTPCLIENT=2,0,"http://h/a b",,,1', r"space"),
                     ('AT+HTTPCGET="http://127.0.0.1:0/"', r"port 0"),
                     ('AT+HTTPCPOST="%s",5,2,"A: b"' % url(ng, "/"), r"http_req_header_cnt"),
                     ('AT+HTTPCLIENT=2,0,"%s",,,1,"Bad header"' % url(ng, "/"), r"no colon")]:
        r = m.at(cmd)
        assert r.final == b"ERROR", (cmd, r)
        trace_has(m, why)
    # connection refused: ERROR, "Connection Failed" code, reason
    m.at_ok("AT+SYSLOG=1")
    m.send_line('AT+HTTPCLIENT=2,0,"http://127.0.0.1:%d/",,,1' % _free_port())
    a = answer(m, "+HTTPCLIENT")
    assert a.final == "ERROR" and a.lines[0] == b"ERR CODE:0x010a7000", a
    trace_has(m, r"reason.*refused")
    # an argument error keeps the usual parameter code (argument 1 = index 0)
    m.send_line('AT+HTTPCLIENT=0,0,"%s",,,1' % url(ng, "/"))
    a = answer(m, "+HTTPCLIENT")
    assert a.final == "ERROR" and a.lines == [b"ERR CODE:0x01070000"], a
    m.at_ok("AT+SYSLOG=0")
    # a too long command line: ERROR (the engine's limit), then AT works
    m.send_line('AT+HTTPCLIENT=2,0,"http://h/' + "a" * 5000 + '",,,1')
    m.expect("ERROR\r\n")
    # POST body too short: after --timeout-idle the request is abandoned, SEND FAIL
    m.send_line('AT+HTTPCPUT="%s",100' % url(ng, "/dav/short.bin"))
    m.expect("OK\r\n\r\n>")
    m.send(b"only ten b")
    a = answer(m, "+HTTPCPUT", timeout=20)
    assert a.final == "SEND FAIL", a
    trace_has(m, r"sent 10 of the 100 body bytes")
    assert not os.path.exists(os.path.join(ng.plain_root, "dav", "short.bin"))
    m.at_ok("AT")
    # a URL shorter than announced: after --timeout-idle, ERROR, the URL is not set
    m.send_line("AT+HTTPURLCFG=30")
    m.expect("OK\r\n\r\n>")
    m.send(b"http:")
    m.expect("ERROR\r\n", 10)
    trace_has(m, r"AT\+HTTPURLCFG: 5 of the 30 bytes announced came, then nothing for 1500 ms")
    m.at_ok("AT")
    # too long: exactly <length> bytes are the body; the rest is a line: refused
    # with "busy p..." when it arrives while the request runs (as the module
    # says for input beyond the length), else answered ERROR (not a command) --
    # which of the two depends on when the host's bytes arrive
    m.send_line('AT+HTTPCPUT="%s",4' % url(ng, "/dav/long.bin"))
    m.expect("OK\r\n\r\n>")
    m.send(b"abcdEXTRA\r\n")
    a = answer(m, "+HTTPCPUT")
    assert a.final == "SEND OK" and a.lines in ([], [b"busy p..."]), a
    if not a.lines:
        m.expect("\r\nERROR\r\n")
    with open(os.path.join(ng.plain_root, "dav", "long.bin"), "rb") as f:
        assert f.read() == b"abcd"
    m.at_ok("AT")
    # binary noise, then AT
    m.send(b"\x00\xff\x1b[2J\r\n")
    m.expect("ERROR\r\n")
    m.at_ok("AT")


# ---- servers that misbehave: truncated body, no answer --------------------------------------


class RawServer:
    """A one-thread TCP server on 127.0.0.1 answering each connection with
    `reply` (bytes) and then closing it, or holding it open when reply is None."""

    def __init__(self, reply):
        import socket
        import threading
        self.reply = reply
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.got_request = threading.Event()     # set once a request head arrived
        self.stop_flag = False
        self.th = threading.Thread(target=self._run, daemon=True)
        self.th.start()

    def _run(self):
        while not self.stop_flag:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            c.settimeout(5)
            try:
                c.recv(65536)            # the request head
            except OSError:
                pass
            self.got_request.set()
            if self.reply is None:
                self.held.append(c)
                continue
            try:
                c.sendall(self.reply)
            except OSError:
                pass
            c.close()

    def stop(self):
        self.stop_flag = True
        self.sock.close()
        for c in self.held:
            c.close()


@quick
@timeout(60)
def test_esp_http_truncated_body_and_server_silence(t):
    m = esp_modem(t)
    cut = RawServer(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
    silent = RawServer(None)
    try:
        m.send_line('AT+HTTPCLIENT=2,0,"http://127.0.0.1:%d/",,,1' % cut.port)
        a = answer(m, "+HTTPCLIENT")
        assert a.final == "ERROR" and bytes(a.body) == b"0123456789", a
        trace_has(m, r"reason.*truncated.*10")
        # the <timeout> of HTTPCGET bounds the wait for the answer
        m.send_line('AT+HTTPCGET="http://127.0.0.1:%d/",2048,2048,800' % silent.port)
        a = answer(m, "+HTTPCGET", timeout=20)
        assert a.final == "ERROR", a
        trace_has(m, r"reason.*within 800 ms")
        m.at_ok("AT")
    finally:
        cut.stop()
        silent.stop()


@timeout(120)
def test_esp_httpcget_host_not_reading_keeps_memory_flat(t):
    """A host that stops reading must not make the modem buffer the body: the
    body waits in the server (socket not read) until the host reads again."""
    import time
    big16 = t.big_file(16 << 20)
    ng = plain_nginx(t, {"small.bin": b"s" * 1000}, big=big16[0])
    m = esp_modem(t)
    m.send_line('AT+HTTPCGET="%s"' % url(ng, "/small.bin"))
    assert answer(m, "+HTTPCGET").final == "OK"
    hwm0 = _vm_hwm(m)
    m.send_line('AT+HTTPCGET="%s",2048,10240' % url(ng, "/big.bin"))
    # Not reading for a while is the point of the test: at full speed the
    # whole body passes in well under this time, so a modem that buffered
    # it would have grown by 16 MiB.
    time.sleep(2.0)
    hwm_paused = _vm_hwm(m)
    h = hashlib.sha256()
    a = answer(m, "+HTTPCGET", timeout=100, keep=False, on_data=h.update)
    assert a.final == "OK" and a.total == 16 << 20 and h.hexdigest() == big16[1], a
    assert hwm_paused - hwm0 < 1024, "VmHWM grew %d KiB while the host did not read" % (hwm_paused - hwm0)


@quick
@timeout(40)
def test_esp_http_refused_without_wifi(t):
    ng = plain_nginx(t, {"index.html": b"x\n"}, dav=True)
    m = esp_modem(t, join=False)
    m.at_ok("AT+SYSLOG=1")
    m.send_line('AT+HTTPCLIENT=2,0,"%s",,,1' % url(ng, "/index.html"))
    a = answer(m, "+HTTPCLIENT")
    assert a.final == "ERROR" and a.lines == [b"ERR CODE:0x010a7000"], a
    trace_has(m, r"no IP address")
    # HTTPCPOST: ERROR instead of the prompt, nothing read as body
    r = m.at('AT+HTTPCPUT="%s",5' % url(ng, "/dav/x.bin"))
    assert r.final == b"ERROR" and b">" not in r.text, r
    assert ng.access_log() == [], ng.access_log()
    join_wifi(m)
    m.send_line('AT+HTTPCLIENT=2,0,"%s",,,1' % url(ng, "/index.html"))
    a = answer(m, "+HTTPCLIENT")
    assert a.final == "OK" and bytes(a.body) == b"x\n", a


@timeout(60)
def test_esp_httpcpost_tls_failure_while_host_sends(t):
    """The request fails (unknown CA) while the host is still sending its body:
    the rest of the body is read and dropped, then SEND FAIL; the reason is in
    the trace and the modem answers AT."""
    echo = t.echo_server(t.pki.coursera)
    m = esp_modem(t, resolve=["%s:%d:127.0.0.1" % (HOST, echo.port)], ca_bundle=t.pki.wrong_root.pem)
    body = os.urandom(256 * 1024)
    m.send_line('AT+HTTPCPOST="https://%s:%d/post",%d' % (HOST, echo.port, len(body)))
    m.expect("OK\r\n\r\n>")
    m.send(body, record=False)
    a = answer(m, "+HTTPCPOST", timeout=30)
    assert a.final == "SEND FAIL" and not a.frames, a
    trace_has(m, r"reason.*(trusted root|CN=Test)")
    assert echo.bodies() == []
    m.at_ok("AT")
