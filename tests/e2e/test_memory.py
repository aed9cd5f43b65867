"""Memory in proportion to use (docs/architecture.md "Memory per session"),
read from the modem's own heap count: the control channel's "stats"
(docs/control.md, glibc mallinfo2, bytes not pages).

What is checked is the lifecycle, not a speed: a configured session costs a
few hundred bytes; the buffers of a request, of an upload, of a socket's
received data are gone once what they were for ended (the heap comes back
to the same figure after each round); the TLS session count follows the
connections.  The figures themselves are the benchmark's (bench/)."""
import os
import re

import hl
import tmctl
from framework import timeout
from test_hl_seed000 import HOST, PAGE, coursera_nginx
from test_spwf_lib import http_get, load_ca, ok
from test_spwf_seed001 import read_socket

# Rounds that must give all their memory back may still differ by a few
# malloc chunks (the AT engine's line, a trace label): far below any buffer
# that could be kept by mistake (a request's ~43 KiB, a 16 KiB TLS record
# buffer, the 256 KiB upload buffer, a socket's 32 KiB).
SLACK = 2048

# glibc's per-thread cache keeps up to 7 freed chunks per size in use as far
# as mallinfo2 is concerned (and serves allocations from them without the
# count moving): off, so the heap figure follows malloc and free exactly.
ENV = dict(os.environ, GLIBC_TUNABLES="glibc.malloc.tcache_count=0")


def stats(ctl):
    f = ctl.ok("stats")
    return int(f["heap"]), int(f["tls"])


def need_glibc_heap(t, before, after):
    """stats reads glibc's malloc; a sanitizer build (make asan) allocates
    elsewhere and the figure stands still: nothing to measure there."""
    if before == after:
        t.skip("the heap figure does not move: this binary's malloc is not glibc's (sanitizer build?)")


@timeout(60)
def test_memory_hl_sessions_in_proportion_to_use(t):
    ng = coursera_nginx(t)
    m, ctl = tmctl.start(t, dialect="hl", env=ENV, resolve=["%s:%d:127.0.0.1" % (HOST, ng.port)])
    hl.start(m)
    r = hl.store_cert(m, t.pki.root.bytes("pem"), typ=0, end="count")
    assert r.final == b"OK", r.text
    heap0, tls0 = stats(ctl)
    assert tls0 == 0

    # 8 configured sessions, never connected: a few hundred bytes each
    for i in range(8):
        sid, _ = hl.cfg(m, 1, HOST, ng.port)
        assert sid == i + 1
    heap_cfg, _ = stats(ctl)
    need_glibc_heap(t, heap0, heap_cfg)
    per_cfg = (heap_cfg - heap0) / 8
    assert 0 < per_cfg <= 1024, "a configured session costs %.0f bytes (at most 1 KiB)" % per_cfg

    # a GET on a fresh connection, then closed: everything of the connection goes
    def get_close(sid):
        assert hl.get(m, sid, "/index.html") == PAGE
        assert stats(ctl)[1] == 1
        m.at_ok("AT+KHTTPSCLOSE=%d" % sid)
        heap, tls = stats(ctl)
        assert tls == 0
        return heap
    # the first connections also build the cached TLS context and warm
    # OpenSSL's own caches (a few KiB over the first rounds, then flat)
    for _ in range(6):
        get_close(1)
    closed1 = get_close(1)
    closed2 = get_close(1)
    closed3 = get_close(2)
    assert abs(closed2 - closed1) <= SLACK and abs(closed3 - closed1) <= SLACK, \
        "heap after GET+CLOSE rounds: %d, %d, %d" % (closed1, closed2, closed3)

    # keep-alive: the connection stays, the request's buffers do not
    assert hl.get(m, 1, "/index.html") == PAGE
    ka1, tls = stats(ctl)
    assert tls == 1
    for _ in range(3):
        assert hl.get(m, 1, "/index.html") == PAGE
    ka2, tls = stats(ctl)
    assert tls == 1, "the keep-alive connection was not reused"
    assert abs(ka2 - ka1) <= SLACK, "heap grew by %d bytes over 3 kept-alive GETs" % (ka2 - ka1)
    assert ka1 - closed1 < 64 * 1024, "an idle connected session holds %d bytes" % (ka1 - closed1)

    # the upload buffer (256 KiB) exists only during an upload
    r = hl.header(m, 1, b"Accept: text/html\r\n")
    assert r.final == b"OK", r.text
    hdr, _ = stats(ctl)
    assert hdr - ka2 <= SLACK, "KHTTPSHEADER left %d bytes behind" % (hdr - ka2)

    # deleting the sessions gives back what configuring them took
    m.at_ok("AT+KHTTPSCLOSE=1")
    before_del, _ = stats(ctl)
    for sid in range(1, 9):
        m.at_ok("AT+KHTTPSDEL=%d" % sid)
    gone, tls = stats(ctl)
    assert tls == 0
    assert abs((heap_cfg - heap0) - (before_del - gone)) <= 256, (heap0, heap_cfg, before_del, gone)
    assert abs(before_del - closed3) <= SLACK, (closed3, before_del)


@timeout(60)
def test_memory_spwf_socket_buffers_only_while_they_hold_bytes(t):
    ng = coursera_nginx(t)
    m, ctl = tmctl.start(t, dialect="spwf", env=ENV, resolve=["%s:%d:127.0.0.1" % (HOST, ng.port)])
    load_ca(m, t.pki.root, "der")

    def exchange():
        r = ok(m, "AT+S.SOCKON=%s,%d,,s" % (HOST, ng.port))
        assert r.info("AT-S.On:127.0.0.1:0"), r.text
        idle, tls = stats(ctl)
        assert tls == 1
        req = b"GET /index.html HTTP/1.1\r\nHost: %s\r\n\r\n" % HOST.encode()
        ok(m, "AT+S.SOCKW=0,%d" % len(req), req)
        m.expect(re.compile(rb"\+WIND:55:Pending Data::0:\d+:\d+\r\n"), 10)
        data = read_socket(m, 0, lambda d: PAGE in d)
        assert data.startswith(b"HTTP/1.1 200"), data[:200]
        drained, _ = stats(ctl)         # connection open, nothing pending, nothing to send
        ok(m, "AT+S.SOCKC=0")
        closed, tls = stats(ctl)
        assert tls == 0
        return idle, drained, closed

    idle0, _, closed0 = exchange()
    need_glibc_heap(t, idle0, closed0)
    for _ in range(5):                  # the first builds the cached TLS context, warms OpenSSL
        exchange()
    _, drained1, closed1 = exchange()
    _, drained2, closed2 = exchange()
    assert abs(drained2 - drained1) <= SLACK, \
        "an open socket after an exchange holds %d, then %d bytes" % (drained1 - closed1, drained2 - closed2)
    assert abs(closed2 - closed1) <= SLACK, (closed1, closed2)
    assert drained2 - closed2 < 64 * 1024, "an idle open TLS socket holds %d bytes" % (drained2 - closed2)

    # HTTPGET closes its connection: nothing of the client stays between requests
    # (after the exchanges above: the TLS context is built, OpenSSL warm)
    gets = [closed2]
    for _ in range(3):
        status, body, _ = http_get(m, HOST, "/index.html", ng.port, tls=2)
        assert status == 200 and PAGE in body, (status, body[-200:])
        h, tls = stats(ctl)
        assert tls == 0
        gets.append(h)
    assert abs(gets[3] - gets[0]) <= SLACK, "heap before and after HTTPGETs: %s" % gets
