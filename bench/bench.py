#!/usr/bin/env python3
"""tlsmodem benchmarks: speed and memory as ratios against a peer measured in
the same run (curl, openssl s_client) on the same machine, same nginx, same
certificates.  No absolute thresholds: the numbers are reported, not judged.

    python3 bench/bench.py --bin build/tlsmodem            # make bench
    python3 bench/bench.py --bin build/tlsmodem --reps 5 --n 200 --no-write

1. download   64 MiB over HTTPS from nginx: AT+KHTTPSGET over --stdio pipes
              (the host reads the body until the EOF pattern) vs curl -o /dev/null;
              wall, CPU, peak RSS; interleaved repetitions, medians.
2. handshake  N sequential GETs of a small page, a new TLS connection each
              (AT+KHTTPSCLOSE between requests) vs curl xN, curl 1 process with
              N URLs (Connection: close, no session reuse), openssl s_client xN;
              and keep-alive: N GETs on one session vs curl with N URLs.
3. memory     tlsmodem RSS idle, with 1 and 8 HTTPS sessions open (keep-alive)
              vs 8 openssl s_client processes holding one connection each.
3b. heap      heap bytes (mallinfo2, control channel "stats") per configured and
              per idle connected session, 1..8 sessions, HL and SPWF, >= 5 runs.

Reuses the e2e framework (tests/e2e): PKI, nginx, the 64 MiB file, Modem.
See bench/README.md for how to read the ratios.
"""
import argparse
import datetime
import os
import platform
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

import hl  # noqa: E402
import servers  # noqa: E402
import tmctl  # noqa: E402
from modem import FINAL_RE, Modem, ModemError  # noqa: E402
from pki import PKI  # noqa: E402

HOST = "www.coursera.test"       # a SAN of pki.coursera
PATTERN = b"--EOF--Pattern--"
IND_RE = re.compile(rb"\r\n\+KHTTPS_IND: (\d+),3,(\d+),(\d+),\"[^\"\r\n]*\"\r\n")
PAGE = (b"<!doctype html><html><head><title>tlsmodem bench</title></head><body>\n"
        + b"<p>a small page for the handshake benchmark.</p>\n" * 10 + b"</body></html>\n")
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---- process measurements -----------------------------------------------------------

def proc_cpu_s(pid):
    """CPU seconds used so far by a live process: /proc/<pid>/schedstat (ns,
    exact) when the kernel has it, else utime+stime from /proc/<pid>/stat."""
    try:
        with open("/proc/%d/schedstat" % pid) as f:
            ns = int(f.read().split()[0])
        if ns > 0:
            return ns / 1e9
    except (OSError, ValueError, IndexError):
        pass
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK    # utime, stime (fields 14, 15)


def proc_status_kib(pid, key):
    """VmRSS / VmHWM / ... of a live process in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise RuntimeError("no %s in /proc/%d/status" % (key, pid))


def proc_pss_kib(pid):
    """Proportional set size (shared pages divided among their users) in KiB."""
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def socket_count(pid):
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:"):
                n += 1
        except OSError:
            pass
    return n


RUSAGE = None        # path of the compiled bench/rusage.c (Bench.setup)
DRAIN = None         # path of the compiled bench/drain.c (Bench.setup)


def run_child(args, ok_codes=(0,), timeout=120, reader=None):
    """Run a child to completion under bench/rusage.c; return (wall s, cpu s,
    peak RSS KiB) of the child alone.  reader: None = stdout to /dev/null, else
    a function given the child's stdout fd (non-blocking) that reads it to EOF
    and returns a value, kept in last_read.  Why the helper and not
    os.wait4(): see bench/rusage.c (ru_maxrss of a child of Python counts
    Python's own memory image)."""
    global last_read
    out = RUSAGE + ".%d.out" % os.getpid()
    t0 = time.monotonic()
    pin = PIN_CLIENT
    p = subprocess.Popen([RUSAGE, out] + list(args), stdin=subprocess.DEVNULL,
                         preexec_fn=(lambda: os.sched_setaffinity(0, {pin})) if pin is not None else None,
                         stdout=subprocess.PIPE if reader else subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    try:
        if reader:
            os.set_blocking(p.stdout.fileno(), False)
            last_read = reader(p.stdout.fileno())
        _, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        raise RuntimeError("%s: timeout after %ss" % (args[0], timeout))
    finally:
        if p.stdout:
            p.stdout.close()
    wall = time.monotonic() - t0
    if p.returncode not in ok_codes:
        raise RuntimeError("%s exited %d: %s" % (" ".join(args[:6]), p.returncode,
                                                   err.decode(errors="replace")[-800:]))
    with open(out) as f:
        ut, st, maxrss, _ = (int(x) for x in f.read().split())
    os.unlink(out)
    return wall, (ut + st) / 1e6, maxrss


last_read = None
PIN_CLIENT = None    # --pin-client: the CPU the client under test (tlsmodem, curl) runs on


def count_stream(fd, buf=None, pattern=None, timeout=120, idle=10, what="stream"):
    """The host-side reader shared by tlsmodem and its peers: read fd in large
    chunks, count the bytes, keep none.  pattern: stop after it (tlsmodem's EOF
    pattern, searched across chunk borders; buf holds what was read past it);
    None: read until EOF (curl -o -).  Returns the byte count before the pattern."""
    buf = bytearray() if buf is None else buf
    keep = len(pattern) - 1 if pattern else 0
    total = 0
    deadline = time.monotonic() + timeout
    while True:
        if pattern:
            i = buf.find(pattern)
            if i >= 0:
                total += i
                del buf[:i + len(pattern)]
                return total
        if len(buf) > keep:
            total += len(buf) - keep
            del buf[:len(buf) - keep]
        left = deadline - time.monotonic()
        if left <= 0:
            raise ModemError("%s: not finished after %ss (%d bytes)" % (what, timeout, total))
        rr, _, _ = select.select([fd], [], [], min(left, idle))
        if not rr:
            raise Stall("%s: no output for %ss after %d bytes "
                        "(idle in poll: output held, see bench/README.md)" % (what, idle, total))
        try:
            data = os.read(fd, 1 << 20)
        except BlockingIOError:
            continue
        if not data:
            if pattern:
                raise ModemError("%s: output closed after %d bytes" % (what, total))
            return total + len(buf)
        buf += data


def drain_stream(fd, start=None, end=None, idle=10, timeout=120, what="stream"):
    """The download reader in C (bench/drain.c), the same for tlsmodem and
    curl: runs it on fd while Python waits.  start: bytes skipped up to it;
    end: counting stops there (the EOF pattern), else at end of file.
    Returns (count, bytes read after end)."""
    args = [DRAIN, "-i", str(max(1, int(idle)))]
    if start:
        args += ["-s", start]
    if end:
        args += ["-e", end]
    was = os.get_blocking(fd)
    os.set_blocking(fd, True)
    try:
        p = subprocess.run(args, stdin=fd, stdout=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ModemError("%s: not finished after %ss" % (what, timeout))
    finally:
        os.set_blocking(fd, was)
    head, _, rest = p.stdout.partition(b"\n")
    if p.returncode == 3:
        raise Stall("%s: no output for %ss after %s bytes (idle in poll: output held, see bench/README.md)"
                    % (what, idle, head.decode()))
    if p.returncode != 0:
        raise ModemError("%s: drain exit %d after %s bytes: %r" % (what, p.returncode, head.decode(), rest[-300:]))
    return int(head), rest


def median(xs):
    return statistics.median(xs)


# ---- tlsmodem host side ---------------------------------------------------------------

class Stall(ModemError):
    pass


class Bench:
    def __init__(self, args):
        self.args = args
        self.bin = os.path.abspath(args.bin)
        self.tmp = tempfile.mkdtemp(prefix="tlsmodem-bench-")
        self.nginx = None
        self.modems = []
        self.started = 0

    # -- setup
    def setup(self):
        global RUSAGE
        t0 = time.monotonic()
        RUSAGE = os.path.join(self.tmp, "rusage")
        subprocess.run(["cc", "-O2", "-o", RUSAGE, os.path.join(HERE, "rusage.c")], check=True)
        global DRAIN
        DRAIN = os.path.join(self.tmp, "drain")
        subprocess.run(["cc", "-O2", "-o", DRAIN, os.path.join(HERE, "drain.c")], check=True)
        self.atecho = os.path.join(self.tmp, "atecho")
        subprocess.run(["cc", "-O2", "-o", self.atecho, os.path.join(HERE, "atecho.c")], check=True)
        self.pki = PKI(os.path.join(self.tmp, "pki"))
        self.root_pem = self.pki.root.pem
        self.big = servers.big_file(self.tmp, self.args.size_mib * 1024 * 1024)
        self.nginx = servers.Nginx(self.tmp)
        self.nginx.vhost([HOST], self.pki.coursera, files={"index.html": PAGE}, big=self.big)
        self.nginx.start()
        self.port = self.nginx.port
        self.base = "https://%s:%d" % (HOST, self.port)
        self.resolve = "%s:%d:127.0.0.1" % (HOST, self.port)
        log("setup: PKI, %d MiB file, nginx :%d in %.1fs (%s)" % (
            self.args.size_mib, self.port, time.monotonic() - t0, self.tmp))

    def cleanup(self):
        for m in self.modems:
            m.kill()
        if self.nginx:
            self.nginx.stop()
        servers.stop_all()
        if not self.args.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            log("kept %s" % self.tmp)

    def modem(self):
        """A fresh tlsmodem on --stdio pipes, no trace, trusting only the test root."""
        m = Modem(self.bin, self.tmp, transport="stdio", resolve=[self.resolve], trace=self.args.trace,
                  name="tlsmodem%d" % self.started)
        self.started += 1
        self.modems.append(m)
        hl.start(m, cmee=2)        # errors and URCs carry the reason
        r = hl.store_cert(m, self.pki.root.bytes("pem"), typ=0, end="count")
        if not r.ok:
            raise ModemError("KCERTSTORE: %r" % r.text)
        return m

    def close_modem(self, m):
        m.close()        # SIGTERM, must exit 0
        self.modems.remove(m)

    def session(self, m):
        sid, _ = hl.cfg(m, 1, HOST, self.port, 2)
        return sid

    @staticmethod
    def get_c(m, sid, uri, timeout=120, idle=10):
        """AT+KHTTPSGET with the body read by bench/drain.c (from CONNECT to
        the EOF pattern, counted); then get_end() as get()."""
        if bytes(m.buf).strip():
            raise ModemError("GET %s: unread output before the command: %r" % (uri, bytes(m.buf)[-300:]))
        del m.buf[:]
        m.send(('AT+KHTTPSGET=%d,"%s"\r' % (sid, uri)).encode())
        total, rest = drain_stream(m.fd_in, b"CONNECT\r\n", PATTERN, idle, timeout, "GET %s" % uri)
        m.buf += rest
        return Bench.get_end(m, uri, total, timeout)

    @staticmethod
    def get(m, sid, uri, timeout=120, idle=10):
        """AT+KHTTPSGET; the body is counted, not kept (read in large chunks from
        the pipe, the EOF pattern searched across chunk borders).  Returns the
        number of body bytes; checks OK and the +KHTTPS_IND (200, same size)."""
        r = m.at('AT+KHTTPSGET=%d,"%s"' % (sid, uri), timeout)
        if r.final != b"CONNECT":
            why = ""
            if r.final == b"NO CARRIER":
                try:
                    why = " " + m.expect(hl.ERR_URC_RE, 5).match.decode(errors="replace")
                except ModemError:
                    pass
            raise ModemError("GET %s: %r%s" % (uri, r.text[-300:], why))
        total = count_stream(m.fd_in, m.buf, PATTERN, timeout, idle, "GET %s" % uri)
        return Bench.get_end(m, uri, total, timeout)

    @staticmethod
    def get_end(m, uri, total, timeout):
        """After the body's EOF pattern: OK, then +KHTTPS_IND with status 200
        and the same byte count.  Returns total."""
        fin = m.expect(FINAL_RE, timeout)
        if fin.group(1) != b"OK" or fin.before:
            raise ModemError("GET %s: after the EOF pattern %r" % (uri, fin.consumed))
        ind = m.expect(IND_RE, timeout)
        if int(ind.group(2)) != total or ind.group(3) != b"200":
            raise ModemError("GET %s: %d bytes read but %r" % (uri, total, ind.match))
        return total

    # -- 1. download
    def bench_download(self):
        """Interleaved repetitions: a fresh tlsmodem (whole process CPU from
        start-up to the final OK of the GET, VmHWM) vs `curl -o -` under
        bench/rusage.c (whole process), both read by the same reader: the C
        reader (bench/drain.c) and, for comparison with earlier runs, the
        Python one (count_stream)."""
        path, sha, size = self.big
        reps = self.args.reps
        readers = ("c", "python") if self.args.reader == "both" else (self.args.reader,)
        tm = {r: {"wall": [], "cpu": [], "hwm": []} for r in readers}
        cu = {r: {"wall": [], "cpu": [], "hwm": []} for r in readers}
        curl = ["curl", "-s", "-S", "--fail", "-o", "-", "--cacert", self.root_pem,
                "--resolve", self.resolve, self.base + "/big.bin"]
        stalls = []
        for rep in range(reps):
            order = ("tm", "curl") if rep % 2 == 0 else ("curl", "tm")
            for reader in readers:
                for who in order:
                    if who == "tm":
                        for attempt in range(3):
                            m = self.modem()
                            if PIN_CLIENT is not None:
                                os.sched_setaffinity(m.pid, {PIN_CLIENT})
                            sid = self.session(m)
                            t0 = time.monotonic()
                            try:
                                get = self.get_c if reader == "c" else self.get
                                n = get(m, sid, "/big.bin", idle=self.args.stall_s)
                                break
                            except Stall as e:
                                stalls.append(str(e))
                                log("download rep %d tlsmodem STALLED: %s; retrying" % (rep + 1, e))
                                m.kill()
                                self.modems.remove(m)
                        else:
                            raise ModemError("download: tlsmodem stalled 3 times in a row")
                        wall = time.monotonic() - t0
                        cpu = proc_cpu_s(m.pid)             # the whole life so far, start-up included
                        hwm = proc_status_kib(m.pid, "VmHWM")
                        self.close_modem(m)
                        d = tm[reader]
                    else:
                        if reader == "c":
                            rd = lambda fd: drain_stream(fd, idle=self.args.stall_s, what="curl -o -")[0]
                        else:
                            rd = lambda fd: count_stream(fd, what="curl -o -", idle=self.args.stall_s)
                        wall, cpu, hwm = run_child(curl, reader=rd)
                        n = last_read
                        d = cu[reader]
                    if n != size:
                        raise ModemError("download %s: %d bytes, expected %d" % (who, n, size))
                    d["wall"].append(wall)
                    d["cpu"].append(cpu)
                    d["hwm"].append(hwm)
                    log("download rep %d %-8s %-6s reader: wall %.3fs cpu %.3fs peak RSS %d KiB" % (
                        rep + 1, who, reader, wall, cpu, hwm))
        mib = size / 2**20
        rows = []
        r0 = readers[0]
        for label, key, fmt, scale in (("wall time (s)", "wall", "%.3f", 1), ("CPU time (s)", "cpu", "%.3f", 1),
                                       ("CPU per MiB (ms)", "cpu", "%.2f", 1000 / mib),
                                       ("peak RSS (KiB)", "hwm", "%d", 1)):
            rows.append([label, fmt % (median(tm[r0][key]) * scale), fmt % (median(cu[r0][key]) * scale),
                         ratios(tm[r0][key], cu[r0][key])])
        for r in readers[1:]:
            rows.append(["CPU time (s), %s reader" % r, "%.3f" % median(tm[r]["cpu"]), "%.3f" % median(cu[r]["cpu"]),
                         ratios(tm[r]["cpu"], cu[r]["cpu"])])
        return {"size_mib": mib, "reps": reps, "readers": readers, "tm": tm[r0], "curl": cu[r0],
                "all_tm": tm, "all_curl": cu, "stalls": stalls, "rows": rows}

    # -- 2. handshakes
    def bench_handshake(self):
        """R interleaved rounds of N GETs each; per round a ratio per
        comparison; the table shows the median and min..max of the R ratios."""
        n, rounds = self.args.n, self.args.rounds
        url = self.base + "/index.html"
        curl = ["curl", "-s", "-S", "--fail", "--cacert", self.root_pem, "--resolve", self.resolve]
        sc = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % self.port, "-servername", HOST,
              "-CAfile", self.root_pem, "-verify_return_error", "-verify_hostname", HOST]
        res = {k: [] for k in ("tm_fresh", "tm_keep", "curl_proc", "curl_close", "s_client", "curl_keep")}
        extra = {"keep_sockets": 0, "keep_fail": None, "keep_done": n}

        def tm_fresh():
            m = self.modem()
            sid = self.session(m)
            self.get(m, sid, "/index.html")          # warm up (first TLS use loads OpenSSL state)
            m.at_ok("AT+KHTTPSCLOSE=%d" % sid)
            c0 = proc_cpu_s(m.pid)
            t0 = time.monotonic()
            for _ in range(n):
                got = self.get(m, sid, "/index.html")
                assert got == len(PAGE), got
                m.at_ok("AT+KHTTPSCLOSE=%d" % sid)
            r = (time.monotonic() - t0, proc_cpu_s(m.pid) - c0)
            self.close_modem(m)
            return r

        def tm_keep():
            m = self.modem()
            sid = self.session(m)
            self.get(m, sid, "/index.html")          # open it
            c0 = proc_cpu_s(m.pid)
            t0 = time.monotonic()
            done = 0
            for _ in range(n):
                try:
                    self.get(m, sid, "/index.html")
                except Stall:
                    raise
                except ModemError as e:
                    extra["keep_fail"] = str(e).replace("\r", " ").replace("\n", " ").strip()
                    break
                done += 1
            r = (time.monotonic() - t0, proc_cpu_s(m.pid) - c0)
            extra["keep_done"] = min(extra["keep_done"], done)
            extra["keep_sockets"] = max(extra["keep_sockets"], socket_count(m.pid))
            self.close_modem(m)
            return r

        def per_process(args):
            w = c = 0.0
            for _ in range(n):
                dw, dc, _ = run_child(args)
                w += dw
                c += dc
            return w, c

        def one_process(extra_args):
            many = curl + extra_args
            for _ in range(n):
                many += ["-o", "/dev/null", url]
            dw, dc, _ = run_child(many)
            return dw, dc

        jobs = [("tm_fresh", tm_fresh), ("tm_keep", tm_keep),
                ("curl_proc", lambda: per_process(curl + ["-o", "/dev/null", url])),
                ("curl_close", lambda: one_process(["--no-sessionid", "-H", "Connection: close"])),
                ("s_client", lambda: per_process(sc)),
                ("curl_keep", lambda: one_process([]))]
        for rnd in range(rounds):
            for key, fn in (jobs if rnd % 2 == 0 else list(reversed(jobs))):
                w, c = fn()
                cnt = extra["keep_done"] if key == "tm_keep" else n
                res[key].append((w / max(cnt, 1), c / max(cnt, 1)))
            log("handshake round %d/%d: %s" % (rnd + 1, rounds, ", ".join(
                "%s %.2f/%.2f ms" % (k, 1000 * v[-1][0], 1000 * v[-1][1]) for k, v in res.items())))

        def row(label, key, peer):
            tw = [x[0] for x in res[key]]
            tc = [x[1] for x in res[key]]
            pw = [x[0] for x in res[peer]]
            pc = [x[1] for x in res[peer]]
            return [label, "%.2f" % (1000 * median(tw)), "%.2f" % (1000 * median(pw)), ratios(tw, pw),
                    "%.2f" % (1000 * median(tc)), "%.2f" % (1000 * median(pc)), ratios(tc, pc)]

        out = {"n": n, "rounds": rounds, "raw": res}
        out.update(extra)
        out["rows"] = [
            row("fresh connection vs curl, 1 process per GET", "tm_fresh", "curl_proc"),
            row("fresh connection vs curl, 1 process, N URLs, Connection: close", "tm_fresh", "curl_close"),
            row("fresh connection vs openssl s_client per handshake", "tm_fresh", "s_client"),
            row("keep-alive vs curl, 1 process, N URLs%s" % (
                "" if extra["keep_done"] == n else " (tlsmodem: %d GETs)" % extra["keep_done"]),
                "tm_keep", "curl_keep"),
        ]
        return out

    # -- 3. memory per session
    def bench_memory(self):
        """One tlsmodem: RSS idle, after 8 AT+KHTTPSCFG (configured, never
        connected), then after one GET on each (8 connections held open)."""
        m = self.modem()
        idle = proc_status_kib(m.pid, "VmRSS")
        sids = [self.session(m) for _ in range(8)]
        cfg8 = proc_status_kib(m.pid, "VmRSS")
        rss = {}
        for k, sid in enumerate(sids, 1):
            self.get(m, sid, "/index.html")      # connection stays open (keep-alive)
            if k in (1, 8):
                rss[k] = proc_status_kib(m.pid, "VmRSS")
        socks = socket_count(m.pid)
        pss8 = proc_pss_kib(m.pid)
        hwm = proc_status_kib(m.pid, "VmHWM")
        self.close_modem(m)
        log("memory tlsmodem: idle %d KiB, 8 configured %d, 1 connected %d, 8 connected %d (%d sockets), HWM %d" % (
            idle, cfg8, rss[1], rss[8], socks, hwm))

        # peer: 8 openssl s_client processes, each holding one connection open
        sc = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % self.port, "-servername", HOST,
              "-CAfile", self.root_pem, "-verify_return_error", "-verify_hostname", HOST]
        procs = []
        try:
            for _ in range(8):
                p = subprocess.Popen(sc, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
                procs.append(p)
                wait_output(p, b"Verify return code: 0", 15)
            s_rss = [proc_status_kib(p.pid, "VmRSS") for p in procs]
            s_pss = [proc_pss_kib(p.pid) for p in procs]
        finally:
            for p in procs:
                try:
                    p.stdin.close()          # EOF on stdin: s_client closes and exits
                except OSError:
                    pass
            for p in procs:
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
                p.stdout.close()
        log("memory s_client x8: RSS %s KiB, PSS %s KiB" % (s_rss, s_pss))
        per_cfg = (cfg8 - idle) / 8.0
        per_conn = (rss[8] - cfg8) / 8.0
        per_marg = (rss[8] - rss[1]) / 7.0
        out = {"idle": idle, "cfg8": cfg8, "one": rss[1], "eight": rss[8], "sockets": socks,
               "per_cfg": per_cfg, "per_conn": per_conn, "per_marg": per_marg, "s_rss": s_rss,
               "s_pss": s_pss, "tm_pss8": pss8}
        rows = [
            ["tlsmodem RSS idle, root stored (KiB)", "%d" % idle],
            ["tlsmodem RSS, 8 sessions configured, never connected (KiB)", "%d" % cfg8],
            ["tlsmodem RSS, 1 of them connected (KiB)", "%d" % rss[1]],
            ["tlsmodem RSS, 8 connected, idle keep-alive (KiB)", "%d (%d sockets)" % (rss[8], socks)],
            ["per configured session, (8 configured - idle) / 8 (KiB)", "%.1f" % per_cfg],
            ["per connection, (8 connected - 8 configured) / 8 (KiB)", "%.1f" % per_conn],
            ["per connection after the first, (8 connected - 1 connected) / 7 (KiB)", "%.1f" % per_marg],
            ["openssl s_client, 1 connection: RSS of one process (KiB)", "%d" % median(s_rss)],
        ]
        if pss8 is not None and all(x is not None for x in s_pss):
            peer = ["8 connections, PSS (KiB)", "%d" % pss8, "%d" % sum(s_pss), ratio(pss8, sum(s_pss))]
        else:
            peer = ["8 connections, RSS (KiB)", "%d" % rss[8], "%d" % sum(s_rss), ratio(rss[8], sum(s_rss))]
        out["rows"] = rows
        out["peer"] = peer
        return out


    # -- 3b. heap per session (mallinfo2 through the control channel)
    def heap_modem(self, dialect):
        """A fresh tlsmodem with --control, glibc's thread cache off (exact
        mallinfo2 deltas), the test root trusted.  Returns (modem, control)."""
        path = os.path.join(self.tmp, "ctl%d.sock" % self.started)
        env = dict(os.environ, GLIBC_TUNABLES="glibc.malloc.tcache_count=0")
        m = Modem(self.bin, self.tmp, dialect=dialect, transport="stdio", resolve=[self.resolve],
                  trace=self.args.trace, name="tlsmodem%d" % self.started,
                  extra_args=("--control", path), env=env)
        self.started += 1
        self.modems.append(m)
        if dialect == "hl":
            hl.start(m, cmee=2)
            r = hl.store_cert(m, self.pki.root.bytes("pem"), typ=0, end="count")
            if not r.ok:
                raise ModemError("KCERTSTORE: %r" % r.text)
        else:
            m.expect(re.compile(rb"\+WIND:24:WiFi Up[^\r\n]*\r\n"), 10)
            der = self.pki.root.bytes("der")
            spwf_ok(m, "AT+S.TLSCERT=ca,%d" % len(der), der)
        return m, tmctl.Control(path)

    @staticmethod
    def heap(ctl):
        f = ctl.ok("stats")
        return int(f["heap"]), int(f["tls"])

    def spwf_exchange(self, m, sid):
        """One GET on an open SPWF socket, read to its end with SOCKQ/SOCKR
        (the connection stays open: nginx keep-alive)."""
        req = b"GET /index.html HTTP/1.1\r\nHost: %s\r\n\r\n" % HOST.encode()
        spwf_ok(m, "AT+S.SOCKW=%d,%d" % (sid, len(req)), req)
        data = b""
        deadline = time.monotonic() + 20
        while not data.endswith(PAGE):
            if time.monotonic() > deadline:
                raise ModemError("SPWF socket %d: only %r" % (sid, data[-200:]))
            r = spwf_ok(m, "AT+S.SOCKQ=%d" % sid)
            n = int(re.search(rb"AT-S\.Query:(\d+)", r).group(1))
            if n == 0:
                m.expect(re.compile(rb"\+WIND:(55|58):[^\r\n]*\r\n"), 10)
                continue
            m.send(b"AT+S.SOCKR=%d,%d\r" % (sid, n))
            m.expect(re.compile(rb"AT-S\.Reading:(\d+):(\d+)\r\n"))
            data += m.expect(b"AT-S.OK\r\n").before
        return data

    def bench_heap(self):
        """Heap (mallinfo2, bytes) per session, 1..8 sessions, both dialects,
        over --heap-runs fresh processes.  After one warm-up connection
        (builds the cached TLS context, loads OpenSSL's providers), then:
        HL: k x AT+KHTTPSCFG (configured, never connected), then a GET on
        each (connection kept alive, idle); SPWF: k sockets open (AT+S.SOCKON,
        TLS), each after one GET read to its end (idle, nothing pending)."""
        runs = []
        for run in range(self.args.heap_runs):
            r = {}
            # HL
            m, ctl = self.heap_modem("hl")
            w = self.session(m)
            self.get(m, w, "/index.html")
            m.at_ok("AT+KHTTPSCLOSE=%d" % w)
            m.at_ok("AT+KHTTPSDEL=%d" % w)
            base, _ = self.heap(ctl)
            cfg = [base]
            sids = []
            for _ in range(8):
                sids.append(self.session(m))
                cfg.append(self.heap(ctl)[0])
            conn = [cfg[-1]]
            for sid in sids:
                self.get(m, sid, "/index.html")
                h, tls = self.heap(ctl)
                conn.append(h)
            r["hl_tls"] = tls
            r["hl_socks"] = socket_count(m.pid)
            self.close_modem(m)
            r["hl_cfg"] = [cfg[k] - cfg[0] for k in range(1, 9)]          # k configured
            r["hl_conn"] = [conn[k] - conn[0] for k in range(1, 9)]       # k of them connected
            # SPWF
            m, ctl = self.heap_modem("spwf")
            spwf_ok(m, "AT+S.SOCKON=%s,%d,,s" % (HOST, self.port))
            self.spwf_exchange(m, 0)
            spwf_ok(m, "AT+S.SOCKC=0")
            base, _ = self.heap(ctl)
            hs = [base]
            for k in range(8):
                spwf_ok(m, "AT+S.SOCKON=%s,%d,,s" % (HOST, self.port))
                self.spwf_exchange(m, k)
                h, tls = self.heap(ctl)
                hs.append(h)
            r["spwf_tls"] = tls
            self.close_modem(m)
            r["spwf_conn"] = [hs[k] - hs[0] for k in range(1, 9)]
            runs.append(r)
            log("heap run %d: HL configured %s, connected %s (tls %d); SPWF sockets %s (tls %d)" % (
                run + 1, r["hl_cfg"], r["hl_conn"], r["hl_tls"], r["spwf_conn"], r["spwf_tls"]))

        def per(key, k):
            return [x[key][k - 1] / float(k) for x in runs]

        def fig(xs, unit=1024.0, fmt="%.2f"):
            xs = [x / unit for x in xs]
            return (fmt + " (" + fmt + ".." + fmt + ")") % (median(xs), min(xs), max(xs))
        rows = []
        for k in range(1, 9):
            rows.append(["%d" % k, fig(per("hl_cfg", k), 1.0, "%.0f"), fig(per("hl_conn", k)),
                         fig([x["hl_cfg"][k - 1] / float(k) + x["hl_conn"][k - 1] / float(k) for x in runs]),
                         fig(per("spwf_conn", k))])
        out = {"runs": len(runs), "rows": rows,
               "hl_cfg8": per("hl_cfg", 8), "hl_conn8": per("hl_conn", 8), "spwf8": per("spwf_conn", 8),
               "tls_ok": all(x["hl_tls"] == 8 and x["spwf_tls"] == 8 for x in runs)}
        return out

    # -- 5. AT round trip
    def bench_at(self):
        """N x ("AT\\r" -> "\\r\\nOK\\r\\n") over pipes, one command at a time (the
        answer is awaited before the next is sent): tlsmodem (--stdio, ATE0)
        vs bench/atecho.c, the least a program can do; R interleaved rounds.
        Wall per round trip (the Python host's share is in both) and CPU of
        the answering process per round trip."""
        n, rounds = self.args.at_n, self.args.rounds
        ok = b"\r\nOK\r\n"

        def drive(fd_out, fd_in, buf=b""):
            t0 = time.perf_counter()
            for _ in range(n):
                os.write(fd_out, b"AT\r")
                while ok not in buf:
                    select.select([fd_in], [], [], 10)
                    d = os.read(fd_in, 4096)
                    if not d:
                        raise ModemError("AT round trip: the answering process closed its output")
                    buf += d
                buf = buf[buf.index(ok) + len(ok):]
            return (time.perf_counter() - t0) / n

        res = {"tm": {"wall": [], "cpu": []}, "echo": {"wall": [], "cpu": []}}
        for r in range(rounds):
            order = ("tm", "echo") if r % 2 == 0 else ("echo", "tm")
            for who in order:
                if who == "tm":
                    m = self.modem()
                    m.at_ok("ATE0")
                    m.at_ok("AT")
                    c0 = proc_cpu_s(m.pid)
                    wall = drive(m.fd_out, m.fd_in)
                    cpu = (proc_cpu_s(m.pid) - c0) / n
                    self.close_modem(m)
                else:
                    p = subprocess.Popen([self.atecho], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
                    try:
                        os.set_blocking(p.stdout.fileno(), False)
                        c0 = proc_cpu_s(p.pid)
                        wall = drive(p.stdin.fileno(), p.stdout.fileno())
                        cpu = (proc_cpu_s(p.pid) - c0) / n
                    finally:
                        p.stdin.close()
                        p.wait(5)
                        p.stdout.close()
                res[who]["wall"].append(wall)
                res[who]["cpu"].append(cpu)
        log("AT round trip: tlsmodem wall %s us, CPU %s us; atecho wall %s us, CPU %s us" % (
            ["%.1f" % (x * 1e6) for x in res["tm"]["wall"]], ["%.1f" % (x * 1e6) for x in res["tm"]["cpu"]],
            ["%.1f" % (x * 1e6) for x in res["echo"]["wall"]], ["%.1f" % (x * 1e6) for x in res["echo"]["cpu"]]))
        rows = []
        for key, name in (("wall", "wall per round trip (µs)"), ("cpu", "CPU of the answering process per round trip (µs)")):
            tm, pe = res["tm"][key], res["echo"][key]
            rows.append([name, "%.1f" % (median(tm) * 1e6), "%.1f" % (median(pe) * 1e6), ratios(tm, pe)])
        return {"n": n, "rounds": rounds, "rows": rows}

    # -- 4. instructions per fresh GET (callgrind)
    def bench_instructions(self):
        """Instructions per fresh GET, counted by callgrind (exact, not noisy):
        tlsmodem under callgrind doing 1 and then 1+K fresh GETs (GET + CLOSE)
        in two processes, (I[1+K] - I[1]) / K; openssl s_client connecting
        (handshake + verification) minus s_client refused at connect (same
        start-up and CA file loading, no handshake)."""
        k = self.args.cg_gets
        counts = {}
        for gets in (1, 1 + k):
            out = os.path.join(self.tmp, "cg%d.out" % gets)
            wrap = os.path.join(self.tmp, "cg%d.sh" % gets)
            with open(wrap, "w") as f:
                f.write("#!/bin/sh\nexec valgrind -q --tool=callgrind --callgrind-out-file=%s %s \"$@\"\n"
                        % (out, self.bin))
            os.chmod(wrap, 0o755)
            real, self.bin = self.bin, wrap
            try:
                m = self.modem()
            finally:
                self.bin = real
            sid = self.session(m)
            for _ in range(gets):
                self.get(m, sid, "/index.html", timeout=60, idle=60)
                m.at_ok("AT+KHTTPSCLOSE=%d" % sid, 30)
            self.close_modem(m)
            counts[gets] = callgrind_total(out)
        per_get = (counts[1 + k] - counts[1]) / k

        def s_client(port):
            out = os.path.join(self.tmp, "cg-sc%d.out" % port)
            subprocess.run(["valgrind", "-q", "--tool=callgrind", "--callgrind-out-file=" + out, "openssl",
                            "s_client", "-connect", "127.0.0.1:%d" % port, "-servername", HOST, "-CAfile",
                            self.root_pem, "-verify_return_error", "-verify_hostname", HOST],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=120)
            return callgrind_total(out)
        sc_ok, sc_refused = s_client(self.port), s_client(1)
        hs = sc_ok - sc_refused
        log("instructions: tlsmodem %d GETs %d, %d GETs %d -> %.2f M per fresh GET; s_client %.2f M, "
            "refused %.2f M -> handshake %.2f M" % (1, counts[1], 1 + k, counts[1 + k], per_get / 1e6,
                                                     sc_ok / 1e6, sc_refused / 1e6, hs / 1e6))
        return {"k": k, "per_get": per_get, "sc_ok": sc_ok, "sc_refused": sc_refused, "hs": hs,
                "rows": [["tlsmodem, per fresh GET (TCP + TLS handshake + HTTP exchange + 2 AT commands)",
                          "%.2f" % (per_get / 1e6)],
                         ["openssl s_client, connected, whole process", "%.2f" % (sc_ok / 1e6)],
                         ["openssl s_client, refused at connect, whole process", "%.2f" % (sc_refused / 1e6)],
                         ["openssl s_client handshake (difference)", "%.2f" % (hs / 1e6)],
                         ["ratio tlsmodem GET / s_client handshake", ratio(per_get, hs)]]}


def spwf_ok(m, line, data=None, timeout=20):
    """An SPWF command (payload right after the CR) that must end AT-S.OK; returns the answer bytes."""
    m.send(line.encode() + b"\r" + (data or b""))
    mt = m.expect(re.compile(rb"(?<![^\r\n])(AT-S\.OK|AT-S\.ERROR[^\r\n]*)\r\n"), timeout)
    if mt.group(1) != b"AT-S.OK":
        raise ModemError("%s -> %r" % (line, mt.consumed[-400:]))
    return mt.consumed


def callgrind_total(path):
    with open(path) as f:
        m = re.search(r"^(?:summary|totals): (\d+)", f.read(), re.M)
    if not m:
        raise RuntimeError("no instruction total in %s" % path)
    return int(m.group(1))


def wait_output(p, marker, timeout):
    """Read p.stdout until marker (bytes) shows, or fail."""
    seen = b""
    fd = p.stdout.fileno()
    deadline = time.monotonic() + timeout
    while marker not in seen:
        left = deadline - time.monotonic()
        if left <= 0 or p.poll() is not None:
            raise RuntimeError("s_client: no %r (exit %s): %s" % (marker, p.poll(), seen[-600:]))
        r, _, _ = select.select([fd], [], [], left)
        if r:
            data = os.read(fd, 65536)
            if not data:
                raise RuntimeError("s_client closed its output: %s" % seen[-600:])
            seen = (seen + data)[-8192:]


def ratio(a, b):
    return "%.2f" % (a / b) if b else "n/a"


def ratios(tm, peer):
    """Per-repetition ratios of paired samples: "median (min..max)"."""
    rs = [a / b for a, b in zip(tm, peer) if b]
    if not rs:
        return "n/a"
    return "%.2f (%.2f..%.2f)" % (median(rs), min(rs), max(rs))


def log(msg):
    print("  " + msg, flush=True)


# ---- output ---------------------------------------------------------------------------

def table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    def line(r):
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), sep] + [line(r) for r in rows])


def tool_version(args):
    try:
        out = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10)
        return out.stdout.decode(errors="replace").strip().splitlines()[0]
    except Exception as e:     # noqa: BLE001
        return "? (%s)" % e


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            mem = "%d MiB" % (int(f.readline().split()[1]) // 1024)
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "mem": mem,
        "kernel": platform.release(),
        "openssl": tool_version(["openssl", "version"]),
        "curl": tool_version(["curl", "--version"]),
        "nginx": tool_version(["nginx", "-v"]),
        "python": platform.python_version(),
    }


HEAP_HEAD = ["sessions k", "HL configured, per session (B)", "HL idle connected, per session, beyond configured (KiB)",
             "HL configured + connected, per session (KiB)", "SPWF TLS socket open, idle, per socket (KiB)"]


def heap_text(hp):
    out = []
    out.append("Heap in use (glibc `mallinfo2`: arena bytes handed out + mmapped blocks) of one tlsmodem, "
               "read with the control channel's `stats` (docs/control.md), glibc's thread cache off "
               "(`GLIBC_TUNABLES=glibc.malloc.tcache_count=0`) so that each malloc and free moves the "
               "figure. %d runs, each a fresh process per dialect, after one warm-up connection "
               "(the cached TLS context and OpenSSL's providers are built once, not per session). "
               "HL: k × `AT+KHTTPSCFG` (configured, never connected), then one `AT+KHTTPSGET` on each "
               "(the connection stays open, idle, keep-alive). SPWF: k × `AT+S.SOCKON` (TLS), each "
               "after one GET written with `AT+S.SOCKW` and read to its end with `AT+S.SOCKR` (open, "
               "nothing pending). Per session = the heap growth over k sessions / k; median "
               "(min..max) over the runs. There is no peer: the targets of issue 12 are ≤ 1 KiB per "
               "configured session and ≤ 48 KiB per idle connected session." % hp["runs"])
    out.append("")
    out.append(table(HEAP_HEAD, hp["rows"]))
    if not hp["tls_ok"]:
        out.append("")
        out.append("**Not every session held its TLS connection** (`stats` tls ≠ 8): the figures are wrong.")
    return "\n".join(out)


AT_HEAD = ["measure", "tlsmodem", "atecho", "ratio median (min..max)"]


def report(args, mach, dl, hs, mem, ins, secs, hp=None, at=None):
    out = []
    out.append("# tlsmodem benchmark results")
    out.append("")
    out.append("Generated by `make bench` (`bench/bench.py`); how to read it: [README.md](README.md).")
    out.append("Ratios are **tlsmodem / peer** from the same run: below 1 tlsmodem is faster or smaller.")
    out.append("")
    out.append("- date: %s" % datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"))
    out.append("- machine: nproc %s, %s, %s RAM, Linux %s" % (mach["nproc"], mach["cpu"], mach["mem"], mach["kernel"]))
    out.append("- tools: %s; %s; %s; Python %s" % (mach["openssl"], " ".join(mach["curl"].split()[:2]),
                                                   mach["nginx"].replace("nginx version: ", ""), mach["python"]))
    out.append("- binary: `%s` (build flags of the Makefile); server: nginx 1 worker, TLS 1.3, RSA-2048 leaf + intermediate, 127.0.0.1" % args.bin)
    out.append("- whole run: %.0f s; load average (1 min) at start %.2f, at the end %.2f (a shared machine: "
               "other processes compete for the CPUs, timings spread)" % (secs, args.load0, os.getloadavg()[0]))
    out.append("")
    out.append("## 1. Download: %d MiB over HTTPS (%d interleaved repetitions per reader)" % (dl["size_mib"], dl["reps"]))
    out.append("")
    out.append("tlsmodem: a fresh process, `AT+KHTTPSGET` over `--stdio` pipes; the body is read from "
               "`CONNECT` to the EOF pattern. curl: `curl -o - --cacert … --resolve …` under `bench/rusage.c`, "
               "its stdout read by the same reader. The reader of the main rows is `bench/drain.c` (C, 1 MiB "
               "reads, bytes counted); the row \"CPU time, python reader\" repeats both clients with the "
               "Python reader of the runs before 2026-12-01, which is slower than either writer (they then "
               "block on a full pipe and spin on its lock; see README.md, \"The reader\"). CPU: each process's whole life (start-up, "
               "configuration, TLS handshake, transfer) — tlsmodem from `/proc/<pid>/schedstat` after `OK`, "
               "curl from `wait4` in `rusage.c`. Peak RSS: tlsmodem `VmHWM`, curl `ru_maxrss` from "
               "`rusage.c` (not from Python, see README.md). Wall: tlsmodem from the command to `OK`, "
               "curl from spawn to exit. Values are medians; the ratio column is the median of the "
               "per-repetition ratios (min..max)." + (
                   " Both clients pinned to CPU %d (`--pin-client`)." % PIN_CLIENT if PIN_CLIENT is not None else ""))
    out.append("")
    out.append(table(["metric", "tlsmodem", "curl -o - (pipe)", "ratio median (min..max)"], dl["rows"]))
    out.append("")
    out.append("Per repetition — tlsmodem wall %s s, CPU %s s; curl wall %s s, CPU %s s." % (
        ", ".join("%.3f" % x for x in dl["tm"]["wall"]), ", ".join("%.3f" % x for x in dl["tm"]["cpu"]),
        ", ".join("%.3f" % x for x in dl["curl"]["wall"]), ", ".join("%.3f" % x for x in dl["curl"]["cpu"])))
    out.append("")
    n_att = sum(len(v["wall"]) for v in dl["all_tm"].values()) + len(dl["stalls"])
    if dl["stalls"]:
        out.append("**tlsmodem stalled in %d of %d download attempts** (no output for %g s while the body "
                   "was incomplete). Stalled attempts are retried with a new process and not in the figures."
                   % (len(dl["stalls"]), n_att, args.stall_s))
    else:
        out.append("No tlsmodem download stalled in this run (%d attempts)." % n_att)
    out.append("")
    out.append("## 2. Handshakes and keep-alive: %d rounds of %d sequential GETs of a %d-byte page"
               % (hs["rounds"], hs["n"], len(PAGE)))
    out.append("")
    out.append("tlsmodem fresh: `AT+KHTTPSGET` then `AT+KHTTPSCLOSE` ×N on one session (a new TCP+TLS "
               "connection per GET; tlsmodem does not resume TLS sessions), after one warm-up GET, CPU of "
               "the tlsmodem process only. Keep-alive: `AT+KHTTPSGET` ×N on one connection. Peers run under "
               "`bench/rusage.c` (whole process CPU, start-up included). Times are per GET (per handshake "
               "for s_client), medians over the rounds; ratios are the median of the per-round ratios "
               "(min..max); the rounds are interleaved (order reversed every other round).")
    out.append("")
    out.append(table(["comparison", "tlsmodem wall ms", "peer wall ms", "wall ratio",
                      "tlsmodem CPU ms", "peer CPU ms", "CPU ratio"], hs["rows"]))
    out.append("")
    out.append("Keep-alive check: after its keep-alive GETs tlsmodem held **%d socket(s)** (1 expected)." % hs["keep_sockets"])
    if hs["keep_fail"] or hs["keep_sockets"] > 1:
        out.append("")
        out.append("**Keep-alive is broken in this build**: the keep-alive row measures new connections, "
                   "not reuse%s." % ("; a GET failed: `%s`" % hs["keep_fail"] if hs["keep_fail"] else ""))
    out.append("")
    out.append("## 3. Memory per HTTPS session")
    out.append("")
    out.append("RSS (`VmRSS`) of one tlsmodem (HL dialect): idle, after 8 `AT+KHTTPSCFG` (configured, never "
               "connected), then after one `AT+KHTTPSGET` on each (the connections stay open, keep-alive, "
               "counted as sockets of the process). One run: RSS moves in 4 KiB pages and with malloc's "
               "arenas, so per-session figures are ±4 KiB at best.")
    out.append("")
    out.append(table(["measure", "value"], mem["rows"]))
    out.append("")
    out.append(table(["8 open TLS connections", "tlsmodem (1 process)", "8 × openssl s_client", "ratio"], [mem["peer"]]))
    out.append("")
    if hp:
        out.append("## 3b. Heap per session (bytes allocated, not pages)")
        out.append("")
        out.append(heap_text(hp))
        out.append("")
    if ins:
        out.append("## 4. Instructions per fresh GET (callgrind)")
        out.append("")
        out.append("Exact counts (callgrind), not timings: tlsmodem doing 1 and 1+%d fresh GETs (`AT+KHTTPSGET` + "
                   "`AT+KHTTPSCLOSE`) in two processes, the difference divided by %d; `openssl s_client` connected "
                   "minus `openssl s_client` refused at connect (the same start-up and CA file) is its handshake "
                   "with verification, without HTTP." % (ins["k"], ins["k"]))
        out.append("")
        out.append(table(["measure", "M instructions"], ins["rows"]))
        out.append("")
    if at:
        out.append("## 5. AT round trip (%d rounds of %d `AT` → `OK`)" % (at["rounds"], at["n"]))
        out.append("")
        out.append("One command at a time over pipes (the answer awaited before the next command), from the "
                   "Python host: tlsmodem (`--stdio`, `ATE0`, HL dialect) vs `bench/atecho.c`, a program that "
                   "only reads and answers `\\r\\nOK\\r\\n` per CR. The wall time includes the Python host's "
                   "share on both sides; the CPU is the answering process's alone (`/proc/<pid>/schedstat`). "
                   "Medians; ratios are the median of the per-round ratios (min..max), rounds interleaved.")
        out.append("")
        out.append(table(AT_HEAD, at["rows"]))
        out.append("")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "tlsmodem"), help="tlsmodem binary")
    ap.add_argument("--reps", type=int, default=5, help="download repetitions (default 5)")
    ap.add_argument("--rounds", type=int, default=5, help="handshake/keep-alive rounds (default 5)")
    ap.add_argument("--n", type=int, default=30, help="GETs per handshake/keep-alive round (default 30)")
    ap.add_argument("--size-mib", type=int, default=64, help="download size (default 64)")
    ap.add_argument("--cg-gets", type=int, default=10, help="instructions: fresh GETs counted (default 10)")
    ap.add_argument("--heap-runs", type=int, default=5, help="heap per session: fresh processes (default 5)")
    ap.add_argument("--at-n", type=int, default=2000, help="AT round trips per round (default 2000)")
    ap.add_argument("--only", choices=["download", "handshake", "memory", "heap", "at", "instructions"], action="append",
                    help="run only these benchmarks (repeatable)")
    ap.add_argument("--out", default=os.path.join(HERE, "results.md"), help="results file")
    ap.add_argument("--no-write", action="store_true", help="do not write the results file")
    ap.add_argument("--stall-s", type=float, default=5.0,
                    help="download: seconds without output that count as a stall (default 5)")
    ap.add_argument("--reader", choices=["c", "python", "both"], default="both",
                    help="download: who reads the two clients' output: bench/drain.c, the Python reader, or both "
                         "(default; the table's main rows are the first)")
    ap.add_argument("--pin-client", type=int, metavar="CPU",
                    help="download: run tlsmodem and curl on this CPU only (run the benchmark itself, and so "
                         "nginx and the reader, under `taskset -c <other CPU>`): less spread, see README.md")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (nginx logs, PKI)")
    ap.add_argument("--trace", action="store_true", help="run tlsmodem with --trace (slower; for debugging)")
    args = ap.parse_args()
    global PIN_CLIENT
    PIN_CLIENT = args.pin_client
    if not os.access(args.bin, os.X_OK):
        sys.exit("bench: %s is not an executable; build it first (make)" % args.bin)
    for tool in ("nginx", "curl", "openssl"):
        if not shutil.which(tool):
            sys.exit("bench: %s not found (sh tools/setup-deps.sh test installs it)" % tool)

    only = set(args.only or ["download", "handshake", "memory", "heap", "at", "instructions"])
    if "instructions" in only and not shutil.which("valgrind"):
        print("bench: valgrind not found: instruction counts skipped", flush=True)
        only.discard("instructions")
    # SIGTERM (make interrupted, CI timeout): unwind through `finally` to clean up
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    t0 = time.monotonic()
    args.load0 = os.getloadavg()[0]
    b = Bench(args)
    dl = hs = mem = ins = hp = at = None
    try:
        print("tlsmodem bench (%s, nproc %d)" % (args.bin, os.cpu_count()), flush=True)
        b.setup()
        if "download" in only:
            print("[1] download", flush=True)
            dl = b.bench_download()
        if "handshake" in only:
            print("[2] handshakes, keep-alive", flush=True)
            hs = b.bench_handshake()
        if "memory" in only:
            print("[3] memory per session", flush=True)
            mem = b.bench_memory()
        if "heap" in only:
            print("[3b] heap per session (mallinfo2)", flush=True)
            hp = b.bench_heap()
        if "at" in only:
            print("[5] AT round trip", flush=True)
            at = b.bench_at()
        if "instructions" in only:
            print("[4] instructions per fresh GET (callgrind)", flush=True)
            ins = b.bench_instructions()
    finally:
        b.cleanup()
    secs = time.monotonic() - t0

    print()
    print("ratios are tlsmodem / peer (below 1: tlsmodem faster or smaller)")
    if dl:
        print("\n[1] download %d MiB, %d interleaved repetitions" % (dl["size_mib"], dl["reps"]))
        print(table(["metric", "tlsmodem", "curl -o -", "ratio (min..max)"], dl["rows"]))
        if dl["stalls"]:
            print("tlsmodem STALLED in %d download attempt(s), retried (not in the medians)" % len(dl["stalls"]))
    if hs:
        print("\n[2] %d rounds of %d sequential GETs, per GET" % (hs["rounds"], hs["n"]))
        print(table(["comparison", "tm wall ms", "peer wall ms", "wall ratio",
                     "tm CPU ms", "peer CPU ms", "CPU ratio"], hs["rows"]))
        print("keep-alive: tlsmodem held %d socket(s) after its GETs (1 expected)%s" % (
            hs["keep_sockets"], "; FAILED after %d GETs: %s" % (hs["keep_done"], hs["keep_fail"])
            if hs["keep_fail"] else ""))
    if mem:
        print("\n[3] memory per session")
        print(table(["measure", "value"], mem["rows"]))
        print(table(["8 open TLS connections", "tlsmodem", "8 x s_client", "ratio"], [mem["peer"]]))
    if hp:
        print("\n[3b] heap per session, %d runs, median (min..max)" % hp["runs"])
        print(table(HEAP_HEAD, hp["rows"]))
    if ins:
        print("\n[4] instructions (millions), callgrind")
        print(table(["measure", "M instructions"], ins["rows"]))
    if at:
        print("\n[5] AT round trip, %d rounds of %d" % (at["rounds"], at["n"]))
        print(table(AT_HEAD, at["rows"]))
    print("\nbench: %.0f s" % secs)
    if dl and hs and mem and not args.no_write:
        text = report(args, machine(), dl, hs, mem, ins, secs, hp, at)
        with open(args.out, "w") as f:
            f.write(text)
        print("wrote %s" % os.path.relpath(args.out))
    elif not args.no_write:
        print("(partial run: %s not written)" % os.path.relpath(args.out))


if __name__ == "__main__":
    main()
