"""make install (PREFIX, DESTDIR): programs, man pages (lint-clean), the
systemd template unit (its command line accepted by the installed binary),
docs and LICENSE; make uninstall removes them."""
import os
import re
import shlex
import subprocess

from framework import quick

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def make(t, *args):
    """make in the tree of the binary under test; "-o all": install what was
    built, never rebuild it (an ASan build would otherwise get objects made
    with the default flags when a source changed since it was built)."""
    build = os.path.relpath(os.path.dirname(os.path.abspath(t.bin)), ROOT)
    p = subprocess.run(["make", "-s", "-o", "all", "-C", ROOT, "BUILD=" + build] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    t.log("make %s -> %d\n%s\n%s" % (" ".join(args), p.returncode, p.stdout.decode()[-2000:],
                                      p.stderr.decode()[-2000:]))
    assert p.returncode == 0, p.stderr.decode()[-2000:]
    return p


def version_h():
    with open(os.path.join(ROOT, "src", "core", "version.h")) as f:
        return re.search(r'#define TM_VERSION "([^"]+)"', f.read()).group(1)


@quick
def test_make_install_destdir_and_man_lint(t):
    dest = t.path("dest")
    make(t, "install", "DESTDIR=" + dest, "PREFIX=/opt/tm")
    v = version_h()
    files = {
        "opt/tm/bin/tlsmodem": 0o755, "opt/tm/bin/tlsmodem-cert": 0o755,
        "opt/tm/share/man/man1/tlsmodem.1": 0o644, "opt/tm/share/man/man1/tlsmodem-cert.1": 0o644,
        "opt/tm/lib/systemd/system/tlsmodem@.service": 0o644,
        "opt/tm/share/doc/tlsmodem/LICENSE": 0o644, "opt/tm/share/doc/tlsmodem/README.md": 0o644,
        "opt/tm/share/doc/tlsmodem/gateway.md": 0o644, "opt/tm/share/doc/tlsmodem/quickstart.md": 0o644,
    }
    for rel, mode in files.items():
        path = os.path.join(dest, rel)
        assert os.path.isfile(path), "not installed: %s" % rel
        assert os.stat(path).st_mode & 0o777 == mode, "%s: mode %o" % (rel, os.stat(path).st_mode & 0o777)
    for prog in ("tlsmodem", "tlsmodem-cert"):
        out = subprocess.run([os.path.join(dest, "opt/tm/bin", prog), "--version"], stdout=subprocess.PIPE,
                             check=True).stdout.decode()
        assert out == "%s %s\n" % (prog, v), out
        page = os.path.join(dest, "opt/tm/share/man/man1/%s.1" % prog)
        with open(page) as f:
            text = f.read()
        assert "@VERSION@" not in text and ('"tlsmodem %s"' % v) in text, text[:200]
        # lint: man(1) with every groff warning on (-ww); any warning is a failure
        p = subprocess.run(["man", "--warnings=w", "-l", page], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0"),
                           timeout=60)
        assert p.returncode == 0 and p.stderr == b"", "%s: man warnings:\n%s" % (prog, p.stderr.decode())
        rendered = re.sub(r".\x08", "", p.stdout.decode(errors="replace"))   # no overstrike bold
        assert "EXIT STATUS" in rendered and "SYNOPSIS" in rendered, rendered[:500]
    # the tlsmodem(1) page lists every option --help prints
    helptext = subprocess.run([t.bin, "--help"], stdout=subprocess.PIPE, check=True).stdout.decode()
    with open(os.path.join(dest, "opt/tm/share/man/man1/tlsmodem.1")) as f:
        page = f.read().replace("\\-", "-")
    for opt in sorted(set((o for o in re.findall(r"--[a-z][a-z-]*", helptext) if not o.endswith("-")))):
        assert opt in page, "tlsmodem(1) does not document %s" % opt
    # and tlsmodem-cert(1) every option of every command's --help
    cert = os.path.join(os.path.dirname(os.path.abspath(t.bin)), "tlsmodem-cert")
    with open(os.path.join(dest, "opt/tm/share/man/man1/tlsmodem-cert.1")) as f:
        page = f.read().replace("\\-", "-")
    for cmd in ("inspect", "convert", "verify", "probe", "at-script"):
        h = subprocess.run([cert, cmd, "--help"], stdout=subprocess.PIPE, check=True).stdout.decode()
        for opt in sorted(set(re.findall(r"--[a-z][a-z-]*[a-z]", h))):
            assert opt in page, "tlsmodem-cert(1) does not document %s of %s" % (opt, cmd)
    make(t, "uninstall", "DESTDIR=" + dest, "PREFIX=/opt/tm")
    left = [os.path.join(d, f) for d, _, fs in os.walk(dest) for f in fs]
    assert not left, "make uninstall left %s" % left


@quick
def test_systemd_unit_command_line_runs(t):
    """The unit's ExecStart, expanded for an instance as systemd would (%i, the
    Environment defaults, an /etc/tlsmodem/<i>.conf overriding the endpoint),
    is accepted by tlsmodem and serves AT; the store is /var/lib/tlsmodem/<i>."""
    with open(os.path.join(ROOT, "systemd", "tlsmodem@.service")) as f:
        unit = f.read()
    execs = re.findall(r"^ExecStart=(.*)$", unit, re.M)
    assert len(execs) == 1, execs
    assert re.search(r"^StateDirectory=tlsmodem/%i$", unit, re.M), "no StateDirectory=tlsmodem/%i"
    assert re.search(r"^EnvironmentFile=-/etc/tlsmodem/%i\.conf$", unit, re.M)
    env = {}
    for line in re.findall(r"^Environment=(.*)$", unit, re.M):
        k, _, v = shlex.split(line)[0].partition("=")
        env[k] = v
    assert env["TLSMODEM_ENDPOINT"] == "--serial /dev/%I", env
    words = execs[0].replace("@BINDIR@/tlsmodem", t.bin).split()
    inst = "ttyS1"
    # what /etc/tlsmodem/ttyS1.conf would say to run this instance on pipes for the test
    env["TLSMODEM_ENDPOINT"] = "--stdio"
    env["TLSMODEM_ARGS"] = "--dialect spwf --ca-bundle none"
    argv = []
    for w in words:
        if w.startswith("$"):
            argv += env[w[1:]].split()          # systemd splits an unbraced $VAR into words
        else:
            argv.append(w.replace("%i", inst).replace("%I", inst))
    assert "--trace" in argv and argv[argv.index("--trace") + 1] == "-", "the trace must go to the journal"
    assert argv[argv.index("--store") + 1] == "/var/lib/tlsmodem/ttyS1", argv
    argv[argv.index("--store") + 1] = t.path("var-lib-tlsmodem-ttyS1")    # not /var/lib in a test
    p = subprocess.run(argv, input=b"AT\r", stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    t.log(p.stderr.decode(errors="replace")[-2000:])
    assert p.returncode == 0 and b"AT-S.OK\r\n" in p.stdout, (p.returncode, p.stdout, p.stderr[-1000:])
    lines = p.stderr.decode().splitlines()
    assert any(re.match(r"^\S+Z ttyS1 at<\s+AT$", l) for l in lines), "journal lines must name the instance"
    assert any(l.startswith("tlsmodem ") and " ready (ttyS1): dialect spwf" in l for l in lines), lines[:5]
