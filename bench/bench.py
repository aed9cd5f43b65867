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


def run_child(args, ok_codes=(0,), timeout=120):
    """Run a child to completion; return (wall s, cpu s, peak RSS KiB) from
    wait4's rusage (ru_maxrss is the child's VmHWM at exit)."""
    t0 = time.monotonic()
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    # stderr is small (errors only); read it after the exit
    deadline = t0 + timeout
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            p.kill()
            pid, status, ru = os.wait4(p.pid, 0)
            raise RuntimeError("%s: timeout after %ss" % (args[0], timeout))
        # block without spinning: a short select on stderr's pipe
        select.select([p.stderr], [], [], 0.005)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read()
    p.stderr.close()
    if p.returncode not in ok_codes:
        raise RuntimeError("%s exited %d: %s" % (" ".join(args[:6]), p.returncode,
                                                   err.decode(errors="replace")[-800:]))
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss


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
        t0 = time.monotonic()
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
        buf = m.buf
        keep = len(PATTERN) - 1
        total = 0
        deadline = time.monotonic() + timeout
        while True:
            i = buf.find(PATTERN)
            if i >= 0:
                total += i
                del buf[:i + len(PATTERN)]
                break
            if len(buf) > keep:
                total += len(buf) - keep
                del buf[:len(buf) - keep]
            left = deadline - time.monotonic()
            if left <= 0:
                raise ModemError("GET %s: no EOF pattern after %ss (%d bytes)" % (uri, timeout, total))
            rr, _, _ = select.select([m.fd_in], [], [], min(left, idle))
            if not rr:
                raise Stall("GET %s: no output from tlsmodem for %ss after %d body bytes "
                            "(tlsmodem idle in poll: output held, see bench/README.md)" % (uri, idle, total))
            if rr:
                try:
                    data = os.read(m.fd_in, 1 << 20)
                except BlockingIOError:
                    continue
                if not data:
                    raise ModemError("GET %s: modem output closed after %d bytes" % (uri, total))
                buf += data
        fin = m.expect(FINAL_RE, timeout)
        if fin.group(1) != b"OK" or fin.before:
            raise ModemError("GET %s: after the EOF pattern %r" % (uri, fin.consumed))
        ind = m.expect(IND_RE, timeout)
        if int(ind.group(2)) != total or ind.group(3) != b"200":
            raise ModemError("GET %s: %d bytes read but %r" % (uri, total, ind.match))
        return total

    # -- 1. download
    def bench_download(self):
        path, sha, size = self.big
        reps = self.args.reps
        tm = {"wall": [], "cpu": [], "hwm": []}
        cu = {"wall": [], "cpu": [], "hwm": []}
        curl = ["curl", "-s", "-S", "--fail", "-o", "/dev/null", "--cacert", self.root_pem,
                "--resolve", self.resolve, self.base + "/big.bin"]
        stalls = []
        for rep in range(reps):
            order = ("tm", "curl") if rep % 2 == 0 else ("curl", "tm")
            for who in order:
                if who == "tm":
                    for attempt in range(3):
                        m = self.modem()
                        sid = self.session(m)
                        c0 = proc_cpu_s(m.pid)
                        t0 = time.monotonic()
                        try:
                            n = self.get(m, sid, "/big.bin", idle=self.args.stall_s)
                            break
                        except Stall as e:
                            # a known tlsmodem bug (output held until the next
                            # network event); count it, retry with a new process
                            stalls.append(str(e))
                            log("download rep %d tlsmodem STALLED: %s; retrying" % (rep + 1, e))
                            m.kill()
                            self.modems.remove(m)
                    else:
                        raise ModemError("download: tlsmodem stalled 3 times in a row")
                    wall = time.monotonic() - t0
                    cpu = proc_cpu_s(m.pid) - c0
                    hwm = proc_status_kib(m.pid, "VmHWM")
                    self.close_modem(m)
                    if n != size:
                        raise ModemError("download: %d bytes, expected %d" % (n, size))
                    d = tm
                else:
                    wall, cpu, hwm = run_child(curl)
                    d = cu
                d["wall"].append(wall)
                d["cpu"].append(cpu)
                d["hwm"].append(hwm)
                log("download rep %d %-8s wall %.3fs cpu %.3fs peak RSS %d KiB" % (
                    rep + 1, who, wall, cpu, hwm))
        mib = size / 2**20
        w_t, w_c = median(tm["wall"]), median(cu["wall"])
        c_t, c_c = median(tm["cpu"]), median(cu["cpu"])
        h_t, h_c = median(tm["hwm"]), median(cu["hwm"])
        return {
            "size_mib": mib, "reps": reps, "tm": tm, "curl": cu, "stalls": stalls,
            "rows": [
                ["wall time (s)", "%.3f" % w_t, "%.3f" % w_c, ratio(w_t, w_c)],
                ["throughput (MiB/s)", "%.0f" % (mib / w_t), "%.0f" % (mib / w_c), ratio(mib / w_t, mib / w_c)],
                ["CPU time (s)", "%.3f" % c_t, "%.3f" % c_c, ratio(c_t, c_c)],
                ["CPU per MiB (ms)", "%.2f" % (1000 * c_t / mib), "%.2f" % (1000 * c_c / mib), ratio(c_t, c_c)],
                ["peak RSS (KiB)", "%d" % h_t, "%d" % h_c, ratio(h_t, h_c)],
            ],
        }

    # -- 2. handshakes
    def bench_handshake(self):
        n = self.args.n
        url = self.base + "/index.html"
        curl = ["curl", "-s", "-S", "--fail", "--cacert", self.root_pem, "--resolve", self.resolve]
        res = {}

        # tlsmodem, a new connection per GET
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
        res["tm_fresh"] = (time.monotonic() - t0, proc_cpu_s(m.pid) - c0)
        log("handshake tlsmodem fresh x%d: %.3fs cpu %.3fs" % (n, *res["tm_fresh"]))

        self.close_modem(m)

        # tlsmodem, keep-alive: N GETs on one session, in a new process; the
        # connection should be reused (checked: sockets held by the process)
        m = self.modem()
        sid = self.session(m)
        self.get(m, sid, "/index.html")          # open it
        done = 0
        keep_fail = None
        c0 = proc_cpu_s(m.pid)
        t0 = time.monotonic()
        for _ in range(n):
            try:
                self.get(m, sid, "/index.html")
            except Stall:
                raise
            except ModemError as e:
                keep_fail = str(e).replace("\r", " ").replace("\n", " ").strip()
                break
            done += 1
        res["tm_keep"] = (time.monotonic() - t0, proc_cpu_s(m.pid) - c0)
        res["keep_done"] = done
        res["keep_fail"] = keep_fail
        res["keep_sockets"] = socket_count(m.pid)
        log("keep-alive tlsmodem x%d: %.3fs cpu %.3fs, %d sockets held after%s" % (
            done, *res["tm_keep"], res["keep_sockets"], ", FAILED: %s" % keep_fail if keep_fail else ""))
        self.close_modem(m)

        # curl, one process per GET
        w = c = 0.0
        for _ in range(n):
            dw, dc, _ = run_child(curl + ["-o", "/dev/null", url])
            w += dw
            c += dc
        res["curl_proc"] = (w, c)
        log("handshake curl x%d processes: %.3fs cpu %.3fs" % (n, w, c))

        # curl, one process, N URLs, a new connection each, no TLS session resumption
        many = curl + ["--no-sessionid", "-H", "Connection: close"]
        for _ in range(n):
            many += ["-o", "/dev/null", url]
        dw, dc, _ = run_child(many)
        res["curl_close"] = (dw, dc)
        log("handshake curl 1 process, %d URLs, Connection: close: %.3fs cpu %.3fs" % (n, dw, dc))

        # openssl s_client, one process per handshake (no HTTP request)
        sc = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % self.port, "-servername", HOST,
              "-CAfile", self.root_pem, "-verify_return_error", "-verify_hostname", HOST]
        w = c = 0.0
        for _ in range(n):
            dw, dc, _ = run_child(sc)
            w += dw
            c += dc
        res["s_client"] = (w, c)
        log("handshake openssl s_client x%d: %.3fs cpu %.3fs" % (n, w, c))

        # curl keep-alive: one process, N URLs on one connection
        many = list(curl)
        for _ in range(n):
            many += ["-o", "/dev/null", url]
        dw, dc, _ = run_child(many)
        res["curl_keep"] = (dw, dc)
        log("keep-alive curl 1 process, %d URLs: %.3fs cpu %.3fs" % (n, dw, dc))

        def row(label, key, peer):
            nt = res["keep_done"] if key == "tm_keep" else n
            tw, tc = res[key][0] / max(nt, 1), res[key][1] / max(nt, 1)
            pw, pc = res[peer][0] / n, res[peer][1] / n
            return [label, "%.2f" % (1000 * tw), "%.2f" % (1000 * pw), ratio(tw, pw),
                    "%.2f" % (1000 * tc), "%.2f" % (1000 * pc), ratio(tc, pc)]

        res["n"] = n
        res["rows"] = [
            row("fresh connection vs curl, 1 process per GET", "tm_fresh", "curl_proc"),
            row("fresh connection vs curl, 1 process, N URLs, Connection: close", "tm_fresh", "curl_close"),
            row("fresh connection vs openssl s_client per handshake", "tm_fresh", "s_client"),
            row("keep-alive vs curl, 1 process, N URLs%s" % (
                "" if res["keep_done"] == n else " (tlsmodem: %d GETs)" % res["keep_done"]),
                "tm_keep", "curl_keep"),
        ]
        return res

    # -- 3. memory per session
    def bench_memory(self):
        m = self.modem()
        idle = proc_status_kib(m.pid, "VmRSS")
        idle_pss = proc_pss_kib(m.pid)
        rss = {}
        sids = []
        for k in range(1, 9):
            sid = self.session(m)
            self.get(m, sid, "/index.html")      # connection stays open (keep-alive)
            sids.append(sid)
            if k in (1, 8):
                rss[k] = proc_status_kib(m.pid, "VmRSS")
        socks = socket_count(m.pid)
        pss8 = proc_pss_kib(m.pid)
        hwm = proc_status_kib(m.pid, "VmHWM")
        # all 8 still connected? a GET on each must not need a new connection;
        # the socket count says it directly
        self.close_modem(m)
        log("memory tlsmodem: idle %d KiB, 1 session %d, 8 sessions %d (%d sockets), HWM %d" % (
            idle, rss[1], rss[8], socks, hwm))

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
        per_avg = (rss[8] - idle) / 8.0
        per_marg = (rss[8] - rss[1]) / 7.0
        out = {"idle": idle, "one": rss[1], "eight": rss[8], "sockets": socks,
               "per_avg": per_avg, "per_marg": per_marg, "s_rss": s_rss, "s_pss": s_pss,
               "tm_pss8": pss8, "tm_pss_idle": idle_pss}
        rows = [
            ["tlsmodem RSS idle (KiB)", "%d" % idle],
            ["tlsmodem RSS, 1 HTTPS session open (KiB)", "%d" % rss[1]],
            ["tlsmodem RSS, 8 HTTPS sessions open (KiB)", "%d (%d sockets)" % (rss[8], socks)],
            ["per session, (8 open - idle) / 8 (KiB)", "%.0f" % per_avg],
            ["per session after the first, (8 open - 1 open) / 7 (KiB)", "%.0f" % per_marg],
            ["openssl s_client, 1 connection: RSS of one process (KiB)", "%d" % median(s_rss)],
        ]
        peer = []
        if pss8 is not None and all(x is not None for x in s_pss):
            peer = ["8 connections, PSS (KiB)", "%d" % pss8, "%d" % sum(s_pss), ratio(pss8, sum(s_pss))]
        else:
            peer = ["8 connections, RSS (KiB)", "%d" % rss[8], "%d" % sum(s_rss), ratio(rss[8], sum(s_rss))]
        out["rows"] = rows
        out["peer"] = peer
        return out


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


def report(args, mach, dl, hs, mem, secs):
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
    out.append("- whole run: %.0f s" % secs)
    out.append("")
    out.append("## 1. Download: %d MiB over HTTPS (median of %d interleaved repetitions)" % (dl["size_mib"], dl["reps"]))
    out.append("")
    out.append("tlsmodem: `AT+KHTTPSGET` over `--stdio` pipes, the host reads the body until the EOF pattern, "
               "timed from the command to `OK`. curl: `curl -s -o /dev/null --cacert … --resolve …`, timed from "
               "spawn to exit.")
    out.append("")
    out.append(table(["metric", "tlsmodem", "curl", "ratio"], dl["rows"]))
    out.append("")
    out.append("Per repetition — tlsmodem wall %s s, CPU %s s; curl wall %s s, CPU %s s." % (
        ", ".join("%.3f" % x for x in dl["tm"]["wall"]), ", ".join("%.3f" % x for x in dl["tm"]["cpu"]),
        ", ".join("%.3f" % x for x in dl["curl"]["wall"]), ", ".join("%.3f" % x for x in dl["curl"]["cpu"])))
    out.append("")
    n_att = len(dl["tm"]["wall"]) + len(dl["stalls"])
    if dl["stalls"]:
        out.append("**tlsmodem stalled in %d of %d download attempts** (no output for %g s while the body "
                   "was incomplete; the process was idle in poll() without watching stdout; without the "
                   "stall detector the transfer finishes only when nginx closes the idle connection, "
                   "60 s later). Stalled attempts are retried with a new process and not in the medians. "
                   "See README.md, \"Known issues\"." % (len(dl["stalls"]), n_att, args.stall_s))
    else:
        out.append("No tlsmodem download stalled in this run (%d attempts)." % n_att)
    out.append("")
    out.append("## 2. Handshakes and keep-alive: %d sequential GETs of a %d-byte page" % (hs["n"], len(PAGE)))
    out.append("")
    out.append("tlsmodem fresh: `AT+KHTTPSGET` then `AT+KHTTPSCLOSE` ×N on one session (a new TCP+TLS "
               "connection per GET; tlsmodem does not resume TLS sessions). Keep-alive: `AT+KHTTPSGET` ×N on one "
               "connection. Times are per GET (per handshake for s_client).")
    out.append("")
    out.append(table(["comparison", "tlsmodem wall ms", "peer wall ms", "wall ratio",
                      "tlsmodem CPU ms", "peer CPU ms", "CPU ratio"], hs["rows"]))
    out.append("")
    out.append("Keep-alive check: after its keep-alive GETs tlsmodem held **%d socket(s)** (1 expected)." % hs["keep_sockets"])
    if hs["keep_fail"] or hs["keep_sockets"] > 1:
        out.append("")
        out.append("**Keep-alive is broken in this build**: each `AT+KHTTPSGET` on a session whose previous "
                   "response said \"connection kept\" opens a new connection and leaks the old socket "
                   "(and its event-loop slot), so the keep-alive row measures new connections, not reuse%s. "
                   "See README.md, \"Known issues\"." % (
                       "; after %d GETs the session failed: `%s`" % (hs["keep_done"] + 1, hs["keep_fail"])
                       if hs["keep_fail"] else ""))
    out.append("")
    out.append("## 3. Memory per HTTPS session")
    out.append("")
    out.append("RSS (`VmRSS`) of one tlsmodem after `AT+KHTTPSCFG` + one `AT+KHTTPSGET` per session; the connections "
               "stay open (keep-alive), counted as sockets of the process.")
    out.append("")
    out.append(table(["measure", "value"], mem["rows"]))
    out.append("")
    out.append(table(["8 open TLS connections", "tlsmodem (1 process)", "8 × openssl s_client", "ratio"], [mem["peer"]]))
    out.append("")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "tlsmodem"), help="tlsmodem binary")
    ap.add_argument("--reps", type=int, default=3, help="download repetitions (default 3)")
    ap.add_argument("--n", type=int, default=100, help="GETs per handshake/keep-alive run (default 100)")
    ap.add_argument("--size-mib", type=int, default=64, help="download size (default 64)")
    ap.add_argument("--only", choices=["download", "handshake", "memory"], action="append",
                    help="run only these benchmarks (repeatable)")
    ap.add_argument("--out", default=os.path.join(HERE, "results.md"), help="results file")
    ap.add_argument("--no-write", action="store_true", help="do not write the results file")
    ap.add_argument("--stall-s", type=float, default=5.0,
                    help="download: seconds without output that count as a stall (default 5)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (nginx logs, PKI)")
    ap.add_argument("--trace", action="store_true", help="run tlsmodem with --trace (slower; for debugging)")
    args = ap.parse_args()
    if not os.access(args.bin, os.X_OK):
        sys.exit("bench: %s is not an executable; build it first (make)" % args.bin)
    for tool in ("nginx", "curl", "openssl"):
        if not shutil.which(tool):
            sys.exit("bench: %s not found (sh tools/setup-deps.sh test installs it)" % tool)

    only = set(args.only or ["download", "handshake", "memory"])
    # SIGTERM (make interrupted, CI timeout): unwind through `finally` to clean up
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    t0 = time.monotonic()
    b = Bench(args)
    dl = hs = mem = None
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
    finally:
        b.cleanup()
    secs = time.monotonic() - t0

    print()
    print("ratios are tlsmodem / peer (below 1: tlsmodem faster or smaller)")
    if dl:
        print("\n[1] download %d MiB, median of %d" % (dl["size_mib"], dl["reps"]))
        print(table(["metric", "tlsmodem", "curl", "ratio"], dl["rows"]))
        if dl["stalls"]:
            print("tlsmodem STALLED in %d download attempt(s), retried (not in the medians)" % len(dl["stalls"]))
    if hs:
        print("\n[2] %d sequential GETs, per GET" % hs["n"])
        print(table(["comparison", "tm wall ms", "peer wall ms", "wall ratio",
                     "tm CPU ms", "peer CPU ms", "CPU ratio"], hs["rows"]))
        print("keep-alive: tlsmodem held %d socket(s) after its GETs (1 expected)%s" % (
            hs["keep_sockets"], "; FAILED after %d GETs: %s" % (hs["keep_done"], hs["keep_fail"])
            if hs["keep_fail"] else ""))
    if mem:
        print("\n[3] memory per session")
        print(table(["measure", "value"], mem["rows"]))
        print(table(["8 open TLS connections", "tlsmodem", "8 x s_client", "ratio"], [mem["peer"]]))
    print("\nbench: %.0f s" % secs)
    if dl and hs and mem and not args.no_write:
        text = report(args, machine(), dl, hs, mem, secs)
        with open(args.out, "w") as f:
            f.write(text)
        print("wrote %s" % os.path.relpath(args.out))
    elif not args.no_write:
        print("(partial run: %s not written)" % os.path.relpath(args.out))


if __name__ == "__main__":
    main()
