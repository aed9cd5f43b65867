"""Hostile hosts (issue 10, items 7, 9, 11; docs/reliability.md "The host",
"Power loss and the store", docs/ports.md): a host that writes without
reading gets every answer (backpressure, never loss); long listings stream
out completely; settings saves are all-or-nothing under kill -9; --listen
hosts that leave do not hand their answers to the next; --serial hang-up
ends the program; one store, one instance."""
import os
import random
import re
import select
import signal
import subprocess
import time

from framework import quick, timeout
from test_ports import Proc, start_listen, tcp_host


def _count(data, what):
    return len(re.findall(re.escape(what), data))


@timeout(120)
def test_host_writes_50000_AT_without_reading_gets_50000_OK(t):
    # The host writes 50,000 "AT\r" and reads nothing until it can write no
    # more; then it reads everything while writing the rest.  tlsmodem stops
    # reading when its output is full instead of dropping answers.
    trace = t.path("trace")
    p = subprocess.Popen([t.bin, "--stdio", "--dialect", "hl", "--store", t.path("store"),
                          "--ca-bundle", "none", "--trace", trace],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         start_new_session=True)
    try:
        data = b"ATE0\r" + b"AT\r" * 50000
        win, rout = p.stdin.fileno(), p.stdout.fileno()
        os.set_blocking(win, False)
        off = 0
        blocked = False
        while off < len(data):          # phase 1: write only
            _, w, _ = select.select([], [win], [], 5)
            if not w:
                blocked = True           # no progress for 5 s: the modem stopped reading
                break
            try:
                off += os.write(win, data[off:off + 65536])
            except BlockingIOError:
                continue
        t.log("written before reading: %d of %d bytes (blocked=%s)" % (off, len(data), blocked))
        assert blocked and off < len(data), "the modem kept reading although nobody read its output"
        out = bytearray()
        deadline = time.monotonic() + 90
        while True:                      # phase 2: read everything, write the rest
            wl = [win] if off < len(data) else []
            r, w, _ = select.select([rout], wl, [], 5)
            if w:
                try:
                    off += os.write(win, data[off:off + 65536])
                except BlockingIOError:
                    pass
                if off == len(data):
                    p.stdin.close()
            if r:
                chunk = os.read(rout, 1 << 16)
                if not chunk:
                    break
                out += chunk
            assert time.monotonic() < deadline, "only %d OK after 90 s" % _count(bytes(out), b"\r\nOK\r\n")
        rc = p.wait(20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdout.close()
        p.stderr.close()
    oks = _count(bytes(out), b"\r\nOK\r\n")
    assert oks == 50001, "%d OK for 50,001 commands" % oks
    assert out == b"ATE0\r\r\nOK\r\n" + b"\r\nOK\r\n" * 50000
    assert rc == 0
    with open(trace, "rb") as f:
        tr = f.read().decode(errors="replace")
    assert "overflow" not in tr and "lost" not in tr, tr[-1000:]
