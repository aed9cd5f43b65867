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


def _stdio(t, dialect, data, store, timeout=60):
    return subprocess.run([t.bin, "--stdio", "--dialect", dialect, "--store", store, "--ca-bundle", "none",
                           "--trace", t.path("trace-%s" % dialect)],
                          input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)


@timeout(120)
def test_spwf_fsl_of_4000_files_streams_completely(t):
    # 4000 files with long names: ~400 KB of listing, six times the output
    # buffer, twice in one write; every line arrives, then AT-S.OK.
    store = t.path("store")
    os.makedirs(os.path.join(store, "spwf"))
    names = ["f%04d-%s.bin" % (i, "n" * 50) for i in range(4000)]
    for i, n in enumerate(names):
        with open(os.path.join(store, "spwf", "fs%2F" + n), "wb") as f:
            f.write(b"x" * (i % 7))
    p = _stdio(t, "spwf", b"AT+S.FSL\rAT+S.FSL\r", store)
    assert p.returncode == 0, p.stderr[-500:]
    want = b"".join(b"AT-S.File:%s:%d\r\n" % (n.encode(), i % 7) for i, n in enumerate(names)) + b"AT-S.OK\r\n"
    i = p.stdout.index(b"AT-S.File:")
    assert p.stdout[i:] == want + want, (len(p.stdout), p.stdout[-300:])


@timeout(120)
def test_spwf_file_system_full_is_refused_with_reason(t):
    # TM_FS_FILES_MAX = 4096 files: the next FSC fails with AT-S.ERROR:46 and a
    # reason; the payload is read and discarded; nothing is written.
    store = t.path("store")
    os.makedirs(os.path.join(store, "spwf"))
    for i in range(4096):
        open(os.path.join(store, "spwf", "fs%%2Ff%04d" % i), "wb").close()
    p = _stdio(t, "spwf", b"AT+S.FSC=/new.txt,5\rhelloAT+S.FSC=/f0001,3\rabcAT+S.FSL=/new.txt\r", store)
    out = p.stdout
    assert re.search(rb"AT-S.ERROR:46:No space left[^\r\n]*4096 files, the limit is 4096", out), out[-800:]
    # rewriting an existing file is still possible; new.txt does not exist
    assert out.count(b"AT-S.OK\r\n") >= 1 and b"AT-S.ERROR:44" in out, out[-800:]
    assert not os.path.exists(os.path.join(store, "spwf", "fs%2Fnew.txt"))
    with open(os.path.join(store, "spwf", "fs%2Ff0001"), "rb") as f:
        assert f.read() == b"abc"


def _pem_crlf(der):
    import base64
    b = base64.b64encode(der)
    lines = [b[i:i + 64] for i in range(0, len(b), 64)]
    return (b"-----BEGIN CERTIFICATE-----\r\n" + b"".join(x + b"\r\n" for x in lines) +
            b"-----END CERTIFICATE-----\r\n")


@timeout(120)
def test_hl_kcertstore_read_of_every_slot_streams_completely(t):
    # 16 slots of 16 certificates: ~350 KB of PEM, larger than the output
    # buffer; every slot arrives whole, then OK.
    store = t.path("store")
    os.makedirs(os.path.join(store, "hl"))
    der = t.pki.root.bytes("der")
    want = b""
    for kind, prefix in (("root_cert", "root_ca"), ("local_cert", "local_cert")):
        for idx in range(8):
            with open(os.path.join(store, "hl", "%s.%d" % (prefix, idx)), "wb") as f:
                f.write(der * 16)
            pem = _pem_crlf(der) * 16
            want += b"\r\n+KCERTSTORE: %s,%d,%d\r\n" % (kind.encode(), idx, len(pem)) + pem
    p = _stdio(t, "hl", b"ATE0\rAT+KCERTSTORE?\rAT\r", store)
    assert p.returncode == 0, p.stderr[-500:]
    assert p.stdout == b"ATE0\r\r\nOK\r\n" + want + b"\r\nOK\r\n" + b"\r\nOK\r\n", \
        (len(p.stdout), len(want), p.stdout[-200:])
