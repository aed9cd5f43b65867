#!/usr/bin/env python3
"""HTTPS echo server for the e2e tests (run as a subprocess by servers.EchoServer).

POST/PUT: reads the body (Content-Length or chunked), stores it byte-exact in
<record>/NNNN.bin and returns it as the response body.  GET: a fixed page, or
N pseudo-random bytes for /bytes/N.  HTTP/1.1 with keep-alive.  Each request
and each failed handshake is one JSON line in <record>/requests.jsonl,
including the SNI name the client sent.  Prints READY when listening.
"""
import argparse
import http.server
import json
import os
import random
import socket
import ssl
import sys
import threading

GET_BODY = b"echo server: hello\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--record", required=True)
    ap.add_argument("--client-ca")
    ap.add_argument("--tls13-only", action="store_true")
    o = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(o.cert, o.key)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3 if o.tls13_only else ssl.TLSVersion.TLSv1_2
    if o.client_ca:
        ctx.load_verify_locations(o.client_ca)
        ctx.verify_mode = ssl.CERT_REQUIRED

    def on_sni(sslobj, name, _ctx):
        sslobj.tm_sni = name
    ctx.sni_callback = on_sni

    lock = threading.Lock()
    counter = [0]
    log_path = os.path.join(o.record, "requests.jsonl")

    def record(entry):
        with lock:
            with open(log_path, "a") as f:
                f.write(json.dumps(entry) + "\n")

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            sys.stdout.write("%s %s\n" % (self.address_string(), fmt % args))
            sys.stdout.flush()

        def _entry(self):
            return {"method": self.command, "path": self.path, "version": self.request_version,
                    "headers": [[k, v] for k, v in self.headers.items()],
                    "sni": getattr(self.connection, "tm_sni", None),
                    "tls": self.connection.version()}

        def _read_body(self):
            te = (self.headers.get("Transfer-Encoding") or "").lower()
            if "chunked" in te:
                out = bytearray()
                while True:
                    line = self.rfile.readline(65537)
                    size = int(line.split(b";")[0].strip(), 16)
                    if size == 0:
                        while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                            pass   # trailers
                        return bytes(out), True
                    out += self.rfile.read(size)
                    self.rfile.readline(3)   # CRLF after the chunk
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n), False

        def _send(self, status, body, ctype="application/octet-stream"):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_POST(self):
            body, chunked = self._read_body()
            with lock:
                counter[0] += 1
                name = "%04d.bin" % counter[0]
            with open(os.path.join(o.record, name), "wb") as f:
                f.write(body)
            e = self._entry()
            e.update(body_file=name, body_len=len(body), chunked=chunked)
            record(e)
            self._send(200, body)

        do_PUT = do_POST

        def do_GET(self):
            e = self._entry()
            record(e)
            if self.path.startswith("/bytes/"):
                n = int(self.path[len("/bytes/"):])
                self._send(200, random.Random(n).randbytes(n))
            else:
                self._send(200, GET_BODY, "text/plain")

        do_HEAD = do_GET

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        allow_reuse_address = True

        def finish_request(self, request, client_address):
            # TLS handshake in the worker thread, never in the accept loop
            try:
                tls = ctx.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as e:
                record({"event": "tls_error", "error": str(e)})
                return
            self.RequestHandlerClass(tls, client_address, self)

        def handle_error(self, request, client_address):
            record({"event": "error", "error": repr(sys.exc_info()[1])})

    srv = Server(("127.0.0.1", o.port), Handler)
    srv.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    print("READY", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
