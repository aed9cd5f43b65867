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
    # the one-line summaries of the same store (~40 KB, spooled), behind the PEM listing
    p = _stdio(t, "hl", b"ATE0\rAT+KCERTSTORE?\rAT+TMCERTLIST\rAT\r", store)
    out = p.stdout.split(want, 1)[1]
    assert out.count(b"+TMCERTLIST: root_cert,") == 128 and out.count(b"+TMCERTLIST: local_cert,") == 128, out[-300:]
    assert out.endswith(b'UTC"\r\n\r\nOK\r\n\r\nOK\r\n'), out[-300:]


# ---- settings: atomic as a whole, damage reported ----------------------------------------

WCFG_VARS = ["wifi_ssid", "ip_hostname", "wifi_wpa_psk_text", "standby_time", "wifi_channelnum",
             "console_wind_off_low", "console_wind_off_medium", "console_wind_off_high",
             "wifi_opr_rate_mask", "console_speed", "console_delimiter", "wifi_powersave"]
OLD = {"wifi_ssid": "old-net", "ip_hostname": "old-host", "wifi_wpa_psk_text": "old-secret",
       "standby_time": "11", "wifi_channelnum": "1", "console_wind_off_low": "0x00000001",
       "console_wind_off_medium": "0x00000001", "console_wind_off_high": "0x00000001",
       "wifi_opr_rate_mask": "0x00000001", "console_speed": "9600", "console_delimiter": "1",
       "wifi_powersave": "1"}
NEW = {"wifi_ssid": "new-network", "ip_hostname": "new-host-name", "wifi_wpa_psk_text": "new-secret",
       "standby_time": "22", "wifi_channelnum": "11", "console_wind_off_low": "0x00000002",
       "console_wind_off_medium": "0x00000002", "console_wind_off_high": "0x00000002",
       "wifi_opr_rate_mask": "0x00000002", "console_speed": "921600", "console_delimiter": "2",
       "wifi_powersave": "2"}


def _scfg(values):
    return b"".join(b"AT+S.SCFG=%s,%s\r" % (k.encode(), values[k].encode()) for k in WCFG_VARS)


def _gcfg(t, store):
    p = _stdio(t, "spwf", b"AT+S.GCFG\rAT+S.STS=settings\r", store)
    assert p.returncode == 0, p.stderr[-500:]
    got = dict(re.findall(rb"AT-S.Var:([a-z_]+)=([^\r\n]*)\r\n", p.stdout))
    return {k: got[k.encode()].decode() for k in WCFG_VARS}, p


def _read_until(fd, buf, what, timeout=10):
    deadline = time.monotonic() + timeout
    while buf.count(what[0]) < what[1]:
        left = deadline - time.monotonic()
        assert left > 0, "timeout waiting for %r x%d; got %r" % (what[0], what[1], bytes(buf[-300:]))
        r, _, _ = select.select([fd], [], [], left)
        if r:
            chunk = os.read(fd, 65536)
            assert chunk, "modem closed; got %r" % bytes(buf[-300:])
            buf += chunk


def _wcfg_session(t, store, values, kill_after=None):
    """SCFG every variable, then WCFG; kill -9 kill_after seconds after WCFG
    was written, or (None) wait for its AT-S.OK and return how long it took."""
    pr = subprocess.Popen([t.bin, "--stdio", "--dialect", "spwf", "--store", store, "--ca-bundle", "none"],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          start_new_session=True)
    try:
        buf = bytearray()
        pr.stdin.write(_scfg(values))
        pr.stdin.flush()
        _read_until(pr.stdout.fileno(), buf, (b"AT-S.OK\r\n", len(WCFG_VARS)))
        t0 = time.monotonic()
        pr.stdin.write(b"AT+S.WCFG\r")
        pr.stdin.flush()
        if kill_after is None:
            _read_until(pr.stdout.fileno(), buf, (b"AT-S.OK\r\n", len(WCFG_VARS) + 1))
            return time.monotonic() - t0
        time.sleep(kill_after)              # the kill lands at a random moment of the save
        os.killpg(pr.pid, signal.SIGKILL)
        pr.wait(10)
        return None
    finally:
        if pr.poll() is None:
            pr.kill()
        pr.wait()
        for f in (pr.stdin, pr.stdout, pr.stderr):
            try:
                f.close()
            except OSError:
                pass


@timeout(240)
def test_spwf_wcfg_is_all_or_nothing_under_kill_9(t):
    store = t.path("store")
    p = _stdio(t, "spwf", _scfg(OLD) + b"AT+S.WCFG\r", store)
    assert p.stdout.count(b"AT-S.OK") == len(WCFG_VARS) + 1, p.stdout
    assert _gcfg(t, store)[0] == OLD
    # how long one save takes here: the kills are spread over that time
    span = max(_wcfg_session(t, store, NEW), _wcfg_session(t, store, OLD))
    rng = random.Random(1234)
    seen = {"old": 0, "new": 0}
    for run in range(30):
        _wcfg_session(t, store, NEW if run % 2 == 0 else OLD, kill_after=rng.uniform(0, span * 1.2))
        got, chk = _gcfg(t, store)
        assert got in (OLD, NEW), "run %d: a mix of old and new settings: %r" % (run, got)
        assert b"damaged, defaults" not in chk.stdout + chk.stderr, chk.stdout
        seen["new" if got == NEW else "old"] += 1
        leftovers = [f for f in os.listdir(os.path.join(store, "spwf")) if ".tmp." in f]
        assert not leftovers, leftovers          # removed by the restart that checked
    t.log("a save takes %.1f ms; after 30 kills: %r" % (span * 1000, seen))


@quick
def test_spwf_damaged_settings_are_reported_and_kept_until_wcfg(t):
    store = t.path("store")
    p = _stdio(t, "spwf", b"AT+S.SCFG=ip_hostname,box\rAT+S.WCFG\r", store)
    path = os.path.join(store, "spwf", "settings")
    with open(path, "rb") as f:
        good = f.read()
    assert good.startswith(b"ip_hostname=box\n# tlsmodem settings: 1 entries, fnv1a "), good
    damaged = good.replace(b"box", b"bux")
    with open(path, "wb") as f:
        f.write(damaged)
    p = _stdio(t, "spwf", b"AT+S.STS=settings\rAT+S.GCFG=ip_hostname\rAT+S.SCFG=wifi_ssid,x\r", store)
    err = p.stderr.decode()
    assert re.search(r"tlsmodem: store .*: damaged, defaults in use: settings spwf/settings: the content "
                     r"does not match its check line", err), err
    assert re.search(rb"AT-S.Var:settings=damaged, defaults in use: [^\r\n]*AT\+S.WCFG", p.stdout), p.stdout
    assert b"AT-S.Var:ip_hostname=iwm-00-00-01\r\n" in p.stdout, p.stdout     # the factory value
    with open(t.path("trace-spwf"), "rb") as f:
        assert b"damaged" in f.read()
    with open(path, "rb") as f:
        assert f.read() == damaged                  # not overwritten by a start or SCFG
    p = _stdio(t, "spwf", b"AT+S.SCFG=ip_hostname,fixed\rAT+S.WCFG\rAT+S.STS=settings\r", store)
    assert b"AT-S.Var:settings=saved" in p.stdout, p.stdout
    p = _stdio(t, "spwf", b"AT+S.GCFG=ip_hostname\rAT+S.STS=settings\r", store)
    assert b"AT-S.Var:ip_hostname=fixed\r\n" in p.stdout and b"settings=saved (1 variable(s) loaded)" in p.stdout
    assert b"damaged, defaults" not in p.stderr, p.stderr


def test_spwf_fsp_of_a_file_larger_than_the_output_buffer(t):
    # a 256 KiB file printed whole (AT+S.FSP streams), then the next command
    store = t.path("store")
    os.makedirs(os.path.join(store, "spwf"))
    body = random.Random(5).randbytes(256 * 1024)
    with open(os.path.join(store, "spwf", "fs%2Fbig.bin"), "wb") as f:
        f.write(body)
    p = _stdio(t, "spwf", b"AT+S.FSP=/big.bin\rAT+S.FSP=/big.bin,262000,200\r", store)
    assert p.returncode == 0, p.stderr[-500:]
    i = p.stdout.index(b"AT-S.Reading:")
    want = (b"AT-S.Reading:262144:262144\r\n" + body + b"AT-S.OK\r\n" +
            b"AT-S.Reading:144:262144\r\n" + body[262000:] + b"AT-S.OK\r\n")
    assert p.stdout[i:] == want, (len(p.stdout) - i, len(want), p.stdout[-100:])


@quick
def test_hl_damaged_settings_reported_and_kept_until_kpattern_saves(t):
    store = t.path("store")
    p = _stdio(t, "hl", b'ATE0\rAT+KPATTERN="--Mine--"\r', store)
    path = os.path.join(store, "hl", "settings")
    with open(path, "rb") as f:
        good = f.read()
    assert good.startswith(b"kpattern=--Mine--\n# tlsmodem settings: 1 entries"), good
    with open(path, "wb") as f:
        f.write(good[:-3])                           # cut off
    p = _stdio(t, "hl", b"ATE0\rAT+CMEE=2\rAT+KPATTERN?\r", store)
    assert re.search(rb"tlsmodem: store .*: settings hl/settings: the last line is cut off", p.stderr), p.stderr
    assert re.search(rb'\+KPATTERN: "--EOF--Pattern--"\r\n\r\n\+TMWARN: saved settings damaged, defaults in use: '
                     rb'settings hl/settings: the last line is cut off[^\r\n]*\r\n\r\nOK\r\n$', p.stdout), p.stdout
    with open(path, "rb") as f:
        assert f.read() == good[:-3]                 # kept
    p = _stdio(t, "hl", b'ATE0\rAT+CMEE=2\rAT+KPATTERN="--New--"\rAT+KPATTERN?\r', store)
    assert p.stdout.endswith(b'\r\n+KPATTERN: "--New--"\r\n\r\nOK\r\n'), p.stdout
    p = _stdio(t, "hl", b"ATE0\rAT+KPATTERN?\r", store)
    assert p.stdout.endswith(b'\r\n+KPATTERN: "--New--"\r\n\r\nOK\r\n') and b"damaged, defaults" not in p.stderr
