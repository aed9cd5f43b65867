"""A newcomer's first hour (issue 11): one version everywhere, the ready
banner, make run, SIGHUP, trace format, install, the quickstart."""
import os
import re
import subprocess

from framework import quick, timeout
from test_spwf_lib import cmd, spwf_modem

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def version_h():
    with open(os.path.join(ROOT, "src", "core", "version.h")) as f:
        m = re.search(r'#define TM_VERSION "([0-9]+\.[0-9]+\.[0-9]+)"', f.read())
    assert m, "no TM_VERSION in src/core/version.h"
    return m.group(1)


def cert_tool(t):
    return os.path.join(os.path.dirname(t.bin), "tlsmodem-cert")


@quick
def test_version_one_string_everywhere(t):
    v = version_h()
    out = subprocess.run([t.bin, "--version"], stdout=subprocess.PIPE, check=True).stdout.decode()
    assert out == "tlsmodem %s\n" % v, out
    out = subprocess.run([cert_tool(t), "--version"], stdout=subprocess.PIPE, check=True).stdout.decode()
    assert out == "tlsmodem-cert %s\n" % v, out
    m = t.modem()
    r = m.at("ATI")
    assert ("tlsmodem %s (" % v).encode() in r.text, r
    sp = spwf_modem(t)
    r = cmd(sp, "AT+S.STS=version")
    assert ("tlsmodem-spwf04-%s" % v).encode() in r.text, r
    with open(os.path.join(ROOT, "docs", "hl.md")) as f:
        assert "tlsmodem %s (Sierra HL" % v in f.read(), "docs/hl.md ATI line does not say %s" % v


ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (\S+) (\S+)\s+")


def stdio(t, data, *extra, timeout=20):
    return subprocess.run([t.bin, "--stdio", "--store", t.path("store"), "--ca-bundle", "none"] + list(extra),
                          input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)


@quick
def test_ready_banner_on_stderr_never_on_the_at_channel(t):
    p = stdio(t, b"AT\r")
    assert p.returncode == 0, p
    assert p.stdout == b"AT\r\r\nOK\r\n", "the AT channel carries only the module's bytes: %r" % p.stdout
    err = p.stderr.decode()
    v = version_h()
    assert re.search(r"^tlsmodem %s ready \(stdio\): dialect hl, host on stdin/stdout, store %s, "
                     r"trust loaded CAs only, trace off$" % (re.escape(v), re.escape(t.path("store"))),
                     err, re.M), err
    assert re.search(r"^tlsmodem: end of input, Ctrl-C or SIGTERM \(pid \d+\) quits$", err, re.M), err
    p = stdio(t, b"AT\r", "--dialect", "spwf", "--name", "gw1", "--trace", t.path("tr"))
    err = p.stderr.decode()
    assert re.search(r"^tlsmodem %s ready \(gw1\): dialect spwf, host on stdin/stdout, .* trace %s$"
                     % (re.escape(v), re.escape(t.path("tr"))), err, re.M), err
    assert b"ready" not in p.stdout and b"quits" not in p.stdout, p.stdout


@quick
def test_trace_iso_time_identity_and_plain_quotes(t):
    a = t.modem(name="left")
    b = t.modem(extra_args=["--name", "right-1"], name="right")
    a.at_ok('AT+KHTTPSCFG=1,"www.example.test",443,2')
    b.at_ok("ATE0")
    for m, ident in ((a, "left.pty"), (b, "right-1")):
        lines = [l for l in m.trace_text().splitlines() if l]
        assert lines
        for l in lines:
            mm = ISO_RE.match(l)
            assert mm and mm.group(1) == ident, "trace line not '<ISO time> %s <cat>': %r" % (ident, l)
    # quotes are shown as quotes; only control bytes are escaped
    assert re.search(r' at<\s+AT\+KHTTPSCFG=1,"www\.example\.test",443,2$', a.trace_text(), re.M), \
        a.trace_text()[-1500:]
    assert "\\x22" not in a.trace_text()


@quick
def test_sighup_reopens_the_trace_file_and_the_modem_goes_on(t):
    import signal
    m = t.modem()
    m.at_ok("ATE0")
    rotated = m.trace_path + ".1"
    os.rename(m.trace_path, rotated)           # what logrotate does before its postrotate
    m.proc.send_signal(signal.SIGHUP)
    # the signal is handled by the loop, in its own time: AT round trips until the new file is there
    for _ in range(500):
        m.at_ok("AT")
        if os.path.exists(m.trace_path):
            break
    # the modem is still there and answers; its new lines go to the new file
    m.at_ok("AT+CMEE=2")
    assert m.proc.poll() is None, "SIGHUP ended the modem"
    with open(rotated) as f:
        old = f.read()
    assert "SIGHUP: reopening the trace file" in old, old[-800:]
    new = m.trace_text()
    assert "SIGHUP: trace file %s reopened" % m.trace_path in new, new
    assert re.search(r"at<\s+AT\+CMEE=2", new), new
    m.close()     # SIGTERM, exit 0


def test_make_run_takes_args(t):
    build = os.path.relpath(os.path.dirname(os.path.abspath(t.bin)), ROOT)
    p = subprocess.run(["make", "-s", "-C", ROOT, "run", "BUILD=" + build,
                        'ARGS=--dialect spwf --store %s --ca-bundle none --resolve www.example.test:443:127.0.0.1'
                        % t.path("store")],
                       input=b"AT\r", stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    t.log("stdout %r\nstderr %r" % (p.stdout[-2000:], p.stderr[-2000:]))
    assert p.returncode == 0, p.stderr[-2000:]
    assert b"+WIND:0:Console active" in p.stdout and b"AT-S.OK\r\n" in p.stdout, p.stdout
    assert re.search(rb"ready \(stdio\): dialect spwf", p.stderr), p.stderr


def _non_ascii(data):
    bad = [i for i, c in enumerate(data) if c >= 0x80]
    return bad and "byte 0x%02x at %d in %r" % (data[bad[0]], bad[0], bytes(data[max(0, bad[0] - 80):bad[0] + 40]))


@timeout(120)
def test_diagnostics_reach_the_host_in_ascii_only(t):
    """Probe reports, verdicts, reasons and long-argument errors carry our
    typographic '...' and certificate fingerprints cut with an ellipsis: the
    host must get ASCII (hosts parse module output as ASCII)."""
    import hl
    from test_spwf_lib import cmd, ok
    pki = t.pki
    host = "www.coursera.test"
    ng = t.nginx()
    ng.vhost([host], pki.coursera, files={"index.html": b"ascii test\n"})
    ng.start()
    res = ["%s:%d:127.0.0.1" % (host, ng.port), "localhost:%d:127.0.0.1" % ng.port]
    m = t.modem(resolve=res)
    hl.start(m, cmee=2)
    assert hl.store_cert(m, pki.root.bytes("pem")).ok
    r = m.at('AT+TMPROBE="%s",%d' % (host, ng.port), 40)
    assert r.ok and b"verdict: verified by root" in r.text, r
    m.at_ok("AT+TMCERTLIST")
    m.at("AT+KHTTPSCFG=1,\"%s\",%d,2,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,," % (host, ng.port))
    m.at("AT" + "X" * 300)
    sid, _ = hl.cfg(m, 1, "localhost", ng.port, 2)
    hl.get_fails(m, sid, "/index.html")
    problem = _non_ascii(m.transcript)
    assert not problem, "HL: non-ASCII reached the host: %s" % problem

    s = spwf_modem(t, resolve=res)
    root = pki.root.bytes("der")
    ok(s, "AT+S.TLSCERT=ca,%d" % len(root), data=root)
    r = cmd(s, "AT+S.TMPROBE=%s,%d" % (host, ng.port), timeout=40)
    assert r.ok and r.info("AT-S.TMProbe:verdict: verified by root"), r
    cmd(s, "AT+S.TMCERTLIST")
    cmd(s, "AT+S." + "Y" * 300)
    problem = _non_ascii(s.transcript)
    assert not problem, "SPWF: non-ASCII reached the host: %s" % problem


@quick
def test_readme_lists_every_option_of_help(t):
    helptext = subprocess.run([t.bin, "--help"], stdout=subprocess.PIPE, check=True).stdout.decode()
    opts = sorted(set((o for o in re.findall(r"--[a-z][a-z-]*", helptext) if not o.endswith("-"))))
    assert "--clock" in opts and "--name" in opts, opts
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    missing = [o for o in opts if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(o), readme)]
    assert not missing, "README.md does not list %s (tlsmodem --help prints them)" % missing
    # and no option the program does not have
    extra = sorted(set(re.findall(r"`(--[a-z][a-z-]+)", readme.split("## Which certificate")[0])) - set(opts) - {"--opt"})
    assert not extra, "README.md lists options tlsmodem does not know: %s" % extra


@quick
def test_spwf_store_file_names_as_documented(t):
    """docs/spwf.md: items spwf/tls/ca.<ski>, spwf/fs/<name> and its provenance
    record spwf/fsmeta/<name> are the files spwf/tls%2Fca.<ski>, spwf/fs%2F<name>,
    spwf/fsmeta%2F<name> in the --store directory."""
    from test_spwf_lib import ok
    root = t.pki.root
    der = root.bytes("der")
    m = spwf_modem(t)
    r = ok(m, "AT+S.TLSCERT=ca,%d" % len(der), data=der)
    ski = r.info("AT-S.SubjectKeyId:")[0].decode().split(":", 1)[1].replace(":", "").lower()
    ok(m, "AT+S.FSC=/my.ca,%d" % len(der), data=der)
    ok(m, "AT+S.WCFG")
    files = sorted(os.listdir(os.path.join(m.store, "spwf")))
    assert files == sorted(["settings", "tls%2Fca." + ski, "fs%2Fmy.ca", "fsmeta%2Fmy.ca"]), files
    with open(os.path.join(ROOT, "docs", "spwf.md")) as f:
        doc = f.read()
    for s in ("`spwf/tls/ca.<ski>`", "`spwf/fs/<name>`", "spwf/tls%2Fca.", "`spwf/fs%2Fmy.ca`", "`spwf/settings`",
              "`spwf/fsmeta%2Fmy.ca`"):
        assert s in doc, "docs/spwf.md does not say %s" % s


@quick
def test_ports_md_stdio_example_output(t):
    """docs/ports.md: printf 'AT\\r' | tlsmodem --stdio prints the echo, then OK."""
    with open(os.path.join(ROOT, "docs", "ports.md")) as f:
        doc = f.read()
    m = re.search(r"^printf 'AT\\r' \| tlsmodem --stdio +# prints \"(.*?)\" ", doc, re.M)
    assert m, "the stdio example is gone from docs/ports.md"
    want = m.group(1).encode().decode("unicode_escape").encode()
    p = stdio(t, b"AT\r")
    assert p.stdout == want, (p.stdout, want)


@quick
def test_docs_cite_only_files_in_the_repository(t):
    """No doc points at design notes, research files or numbered seeds that live
    outside the repository; every docs/... or tests/... path a doc names exists."""
    docs = [os.path.join(ROOT, "README.md")] + [os.path.join(ROOT, "docs", f)
                                                for f in os.listdir(os.path.join(ROOT, "docs"))]
    docs += [os.path.join(ROOT, "tests", "e2e", "README.md"), os.path.join(ROOT, "bench", "README.md")]
    problems = []
    for d in docs:
        with open(d) as f:
            text = f.read()
        rel = os.path.relpath(d, ROOT)
        for rx in (r"research/", r"DESIGN(\.md| §)", r"design notes", r"\bseeds? \d{3}", r"/work/shared"):
            for m in re.finditer(rx, text):
                problems.append("%s: cites %r" % (rel, m.group(0)))
        for p in set(re.findall(r"\b((?:docs|tests|src|tools|bench|man|systemd)/[\w./-]+\.(?:md|py|c|h|sh|1|service))",
                                text)):
            if not os.path.exists(os.path.join(ROOT, p)):
                problems.append("%s: names %s, which is not in the repository" % (rel, p))
        for p in set(re.findall(r"\]\(([^)#]+)", text)):
            if not p.startswith("http") and not os.path.exists(os.path.join(os.path.dirname(d), p)):
                problems.append("%s: links %s, which is not in the repository" % (rel, p))
    assert not problems, "\n".join(sorted(problems))


@timeout(120)
def test_trace_progress_on_a_long_socket_transfer(t):
    """A 9 MiB download through an HL transparent TCP socket: the trace says how
    far it got every 4 MiB, with the rate (tm_stream), not only start and end."""
    import hashlib
    from test_hl_tcp import DATA_RE, cfg, connect, modem, peer, read_exact
    payload = os.urandom(9 << 20)
    p = peer(t, "send", payload=payload)
    m = modem(t)
    m.set_guard(5)
    sid = cfg(m, '1,0,"127.0.0.1",%d' % p.port)
    connect(m, sid)
    m.expect(DATA_RE, 10)
    r = m.at("AT+KTCPSTART=%d" % sid)
    assert r.final == b"CONNECT", r.text
    got = read_exact(m, len(payload))
    assert hashlib.sha256(got).digest() == hashlib.sha256(payload).digest(), "9 MiB differ"
    m.escape()
    m.expect(b"\r\nOK\r\n", 5)
    m.at_ok("AT+KTCPCLOSE=%d" % sid)
    prog = re.findall(r" net\s+127\.0\.0\.1:%d: received ([0-9.]+) MiB so far \((\d+) bytes\) in [0-9.]+ s, "
                      r"[0-9.]+ MiB/s now, [0-9.]+ MiB/s average$" % p.port, m.trace_text(), re.M)
    counts = [int(b) for _, b in prog]
    assert len(counts) >= 2 and counts == sorted(counts) and counts[-1] <= len(payload), (
        counts, m.trace_text()[-2000:])
    assert counts[0] >= 4 << 20 or len(counts) >= 3, counts
