"""A hostile TLS server for the e2e tests: it misbehaves on purpose.

    srv = Hostile(t.pki.coursera, "stall_mid_body")     # threads of the test process
    ... srv.port ...
    srv.wait("request")                                 # events: accepted, handshake, request, sent, closed
    srv.stop()                                          # (Context.cleanup also stops it)

TLS runs over ssl.MemoryBIO, so the server controls every byte on the wire:
it can stop half way through a record, close TCP without close_notify, or
reset the connection.  Behaviours:

  stall_handshake        accept TCP, read the ClientHello, never answer
  stall_after_handshake  finish the handshake, read the request (if any), then silence
  stall_mid_body         HTTP head with Content-Length: 1000 and 100 body bytes, then silence
  drip_body              head at once, then the body one byte every `interval` s
  drip_head              the head itself one byte every `interval` s
  fin_no_close_notify    close-delimited HTTP body (no Content-Length), then TCP FIN
                         without TLS close_notify (what a truncation attack looks like)
  clean_close            the same body, then close_notify and FIN (the control case)
  rst_mid_record         head with Content-Length: 1000, then half of the next TLS
                         record and a TCP RST
  serve                  an ordinary response (for the oversized chain: the chain is the problem)
  send_fin_raw           (sockets) send `payload`, then FIN without close_notify
  send_rst_raw           (sockets) send `payload`, wait for any bytes from the client,
                         then half a record and RST

`body` is the response body (default 100 x "b"); `chain` a PEM file to serve instead
of the certificate's own chain (oversized chains).  Nothing here sleeps to wait for
the modem: the stalls block on an Event that stop() sets.
"""
import queue
import socket
import ssl
import struct
import threading
import time


class Hostile:
    def __init__(self, cert, behaviour, body=None, interval=2.0, chain=None, payload=b""):
        self.behaviour = behaviour
        self.body = body if body is not None else b"b" * 100
        self.interval = interval
        self.payload = payload
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(chain or cert.chain, cert.key)
        self.events = queue.Queue()
        self.log = []
        self.stopping = threading.Event()
        self.live = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    # ---- test side -------------------------------------------------------------------

    def wait(self, event, timeout=10):
        """Wait for the next event named `event` (earlier other events are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("hostile server: no %r event within %ss (log: %s)" % (
                    event, timeout, self.log[-10:]))
            try:
                name = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if name == event:
                return

    def stop(self):
        self.stopping.set()
        for s in [self.sock] + self.live:
            try:
                s.close()
            except OSError:
                pass

    def describe(self):
        return "Hostile(%s, port %d): %s" % (self.behaviour, self.port, "; ".join(self.log[-20:]))

    # ---- server side -----------------------------------------------------------------

    def _event(self, name, detail=""):
        self.log.append(name + (" " + detail if detail else ""))
        self.events.put(name)

    def _accept(self):
        while not self.stopping.is_set():
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.live.append(c)
            self._event("accepted")
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            self._run(c)
        except (OSError, ssl.SSLError, ValueError) as e:
            self._event("error", repr(e))
        finally:
            self._event("closed")

    def _stall(self):
        self._event("stalling")
        self.stopping.wait()

    def _run(self, c):
        b = self.behaviour
        if b == "stall_handshake":
            c.recv(65536)
            self._event("clienthello")
            self._stall()
            return
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = self.ctx.wrap_bio(inc, out, server_side=True)

        def flush(limit=None):
            data = out.read()
            if limit is not None:
                data = data[:limit]
            if data:
                c.sendall(data)

        def feed():
            d = c.recv(65536)
            if not d:
                raise OSError("client closed")
            inc.write(d)

        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                flush()
                feed()
        flush()
        self._event("handshake")

        def read_request():
            data = b""
            while b"\r\n\r\n" not in data:
                try:
                    data += tls.read(65536)
                except ssl.SSLWantReadError:
                    flush()        # TLS 1.3 tickets etc.
                    feed()
            self._event("request", data.split(b"\r\n", 1)[0].decode(errors="replace"))
            return data

        def send(data):
            tls.write(data)
            flush()

        def fin():                 # TCP FIN, no close_notify
            c.shutdown(socket.SHUT_WR)
            self._event("fin")

        def rst():
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()
            self._event("rst")

        if b == "send_fin_raw":
            send(self.payload)
            fin()
            self.stopping.wait()
            return
        if b == "send_rst_raw":
            send(self.payload)
            # Linux drops unread data when a RST arrives: wait until the client
            # says it has read the payload (any bytes from it), then reset.
            while True:
                try:
                    if tls.read(65536):
                        break
                except ssl.SSLWantReadError:
                    flush()
                    feed()
            tls.write(b"x" * 1000)
            flush(limit=200)       # half a record
            rst()
            return
        if b == "stall_after_handshake":
            if self.payload is not None and self.payload != b"":
                send(self.payload)
            self._stall()
            return
        read_request()
        if b == "stall_mid_body":
            send(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + self.body[:100])
            self._event("sent")
            self._stall()
        elif b == "drip_body":
            send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(self.body))
            for ch in self.body:
                if self.stopping.wait(self.interval):
                    return
                send(bytes([ch]))
            self._event("sent")
            self._stall()
        elif b == "drip_head":
            head = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"s" * 200 + b"\r\nContent-Length: 2\r\n\r\nok"
            for ch in head:
                if self.stopping.wait(self.interval):
                    return
                send(bytes([ch]))
            self._event("sent")
            self._stall()
        elif b in ("fin_no_close_notify", "clean_close"):
            send(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + self.body)
            self._event("sent")
            if b == "clean_close":
                try:
                    tls.unwrap()
                except ssl.SSLWantReadError:
                    pass
                flush()
                self._event("close_notify")
            fin()
            self.stopping.wait()
        elif b == "rst_mid_record":
            send(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + self.body[:100])
            # Linux drops unread data when a RST arrives, and an HTTP client
            # sends nothing to wait for: a pause lets it read the first part.
            if self.stopping.wait(0.3):
                return
            tls.write(b"r" * 500)
            flush(limit=100)           # the first 100 bytes of a ~520-byte record
            self._event("sent")
            rst()
        elif b == "serve":
            send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(self.body) + self.body)
            self._event("sent")
            self.stopping.wait()
        else:
            raise ValueError("unknown behaviour %r" % b)


def big_chain(t, size=200 * 1024):
    """A PEM file: t.pki.coursera's leaf, then its intermediate repeated until the
    certificates add up to `size` bytes of DER (what the server sends).
    Returns (path, DER bytes)."""
    import os
    c = t.pki.coursera
    leaf = c.bytes("pem")
    chain = c.bytes("chain")
    inter = chain[len(leaf):] if chain.startswith(leaf) else chain
    inter_der = len(c.issuer.bytes("der"))
    parts = [leaf]
    der = len(c.bytes("der"))
    while der < size:
        parts.append(inter)
        der += inter_der
    path = os.path.join(t.tmp, "big-chain.pem")
    with open(path, "wb") as f:
        f.write(b"".join(parts))
    return path, der


def start(t, cert, behaviour, **kw):
    """A Hostile server that the test's cleanup stops."""
    srv = Hostile(cert, behaviour, **kw)
    t.servers.append(srv)
    return srv
