"""tlsmodem-cert's command line (tools/cert/cli.c): --help per command,
--version, --opt=value, strict values, one-line usage errors, exit codes as
docs/cert-tool.md says."""
import os
import re
import subprocess

from framework import quick

CMDS = {
    # command: options its --help must show
    "inspect": ["--time", "--trace", "--help"],
    "convert": ["--to", "-o, --output", "--trace"],
    "verify": ["--ca", "--host", "--time", "--trace"],
    "probe": ["--resolve", "--ca-bundle", "--dialect", "--spwf-form", "-o, --output", "--script", "--trace"],
    "at-script": ["--dialect", "--as", "--index", "--spwf-form", "-o, --output", "--trace"],
}


def tool(t):
    return os.path.join(os.path.dirname(t.bin), "tlsmodem-cert")


def run(t, *args, input=None):
    p = subprocess.run([tool(t)] + [str(a) for a in args], input=input, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    t.log("$ tlsmodem-cert %s -> %d\n%s\n%s" % (" ".join(map(str, args)), p.returncode,
                                               p.stdout[-1500:], p.stderr[-1500:]))
    return p


def usage_error(t, cmd, *args, rx):
    """exit 2, stdout empty, stderr exactly one line naming the command, matching rx and
    ending with how to get help."""
    p = run(t, *(([cmd] if cmd else []) + list(args)))
    err = p.stderr.decode()
    assert p.returncode == 2, (args, p.returncode, err)
    assert p.stdout == b"", (args, p.stdout)
    lines = err.splitlines()
    assert len(lines) == 1, "%s: usage error must be one line, got %r" % (args, err)
    pre = "tlsmodem-cert %s: " % cmd if cmd else "tlsmodem-cert: "
    helper = "(try 'tlsmodem-cert %s--help')" % (cmd + " " if cmd else "")
    assert lines[0].startswith(pre) and lines[0].endswith(helper), (args, lines[0])
    assert re.search(rx, lines[0]), (args, rx, lines[0])
    return lines[0]


@quick
def test_cert_cli_help_per_command_and_version(t):
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "src", "core", "version.h")) as f:
        v = re.search(r'TM_VERSION "([^"]+)"', f.read()).group(1)
    for args in (["--version"], ["-V"]):
        p = run(t, *args)
        assert p.returncode == 0 and p.stdout == ("tlsmodem-cert %s\n" % v).encode(), p
    p = run(t, "--help")
    assert p.returncode == 0 and p.stdout.startswith(b"usage: tlsmodem-cert COMMAND"), p
    for cmd in CMDS:
        assert ("  %s " % cmd).encode() in p.stdout, cmd
    for cmd, opts in CMDS.items():
        for h in ("--help", "-h"):
            p = run(t, cmd, h)
            out = p.stdout.decode()
            assert p.returncode == 0 and p.stderr == b"", (cmd, p)
            assert out.startswith("usage: tlsmodem-cert %s " % cmd), out
            for o in opts:
                assert o in out, "%s --help does not mention %s:\n%s" % (cmd, o, out)
            assert "Exit" in out, out
        # --help wins over a missing file and over other options
        p = run(t, cmd, "--nosuchfile-xyz", "--help") if cmd != "probe" else run(t, cmd, "--help", "x")
        assert p.returncode in (0, 2), p


@quick
def test_cert_cli_usage_errors_one_line(t):
    root = t.pki.root.pem
    usage_error(t, None, rx=r"no command")
    usage_error(t, None, "frobnicate", rx=r"unknown command 'frobnicate'")
    usage_error(t, "inspect", rx=r"missing FILE")
    usage_error(t, "inspect", root, "--nope", rx=r"unknown option '--nope'")
    usage_error(t, "inspect", root, "--time", "yesterday", rx=r"--time 'yesterday': expected")
    usage_error(t, "verify", rx=r"missing CHAIN")
    usage_error(t, "verify", root, root, rx=r"one CHAIN file only \(unexpected")
    usage_error(t, "verify", root, "--ca", rx=r"--ca needs a value")
    usage_error(t, "convert", root, rx=r"--to pem\|der is required")
    usage_error(t, "convert", root, "--to", "txt", rx=r"--to 'txt': expected pem or der")
    usage_error(t, "convert", root, "--to=pem", "-o", rx=r"-o/--output needs a value")
    usage_error(t, "at-script", root, "--index", "foo", rx=r"--index 'foo': expected a number 0\.\.7")
    usage_error(t, "at-script", root, "--index=8", rx=r"--index '8'")
    usage_error(t, "at-script", root, "--index", "1x", rx=r"--index '1x'")
    usage_error(t, "at-script", root, "--dialect", "sierra", rx=r"--dialect 'sierra': expected hl, spwf or esp")
    usage_error(t, "at-script", root, "--as", "root", rx=r"--as 'root': expected ca, client-cert or client-key")
    usage_error(t, "at-script", root, "--spwf-form", "x", rx=r"--spwf-form 'x'")
    usage_error(t, "probe", "nohostport", rx=r"'nohostport': expected HOST:PORT")
    usage_error(t, "probe", "--script=yes", "a.test:443", rx=r"--script takes no value")
    line = usage_error(t, "probe", "a.test:443", "--resolve", "foo", rx=r"--resolve 'foo': expected HOST:PORT:ADDR")
    assert line.count("foo") == 1, "the --resolve error repeats itself: %r" % line


@quick
def test_cert_cli_opt_equals_value_and_default_dialect(t):
    root = t.pki.root
    pem = root.pem
    # at-script without --dialect: HL, like probe
    p = run(t, "at-script", pem)
    assert p.returncode == 0 and p.stdout.startswith(b"AT+KCERTSTORE=0,"), p
    # --opt=value, options after the file, -o FILE
    out = t.path("script.bin")
    p = run(t, "at-script", pem, "--dialect=spwf", "--as=ca", "--spwf-form=fs", "-o", out)
    assert p.returncode == 0 and p.stdout == b"", p
    with open(out, "rb") as f:
        assert f.read().startswith(b"AT+S.FSC=/"), "--spwf-form=fs not applied"
    p = run(t, "at-script", "--index=3", pem)
    assert p.returncode == 0 and re.match(rb"AT\+KCERTSTORE=0,\d+,3\r", p.stdout), p.stdout[:60]
    p = run(t, "convert", pem, "--to=der", "--output=" + t.path("r.der"))
    assert p.returncode == 0 and os.path.getsize(t.path("r.der")) > 100, p
    p = run(t, "inspect", "--time=2000-01-01", pem)
    assert p.returncode == 0 and b"(NOT YET VALID now)" in p.stdout, p.stdout[:800]


@quick
def test_cert_cli_exit_codes_as_documented(t):
    root = t.pki.root
    pem = root.pem
    # 3: unreadable input
    p = run(t, "inspect", t.path("missing.pem"))
    assert p.returncode == 3, p
    p = run(t, "at-script", t.path("missing.pem"))
    assert p.returncode == 3, p
    # 3: a bundle larger than one HL command takes (16 certificates)
    with open(pem, "rb") as f:
        one = f.read()
    big = t.path("17.pem")
    with open(big, "wb") as f:
        f.write(one * 17)
    p = run(t, "at-script", big)
    assert p.returncode == 3 and b"at most 16" in p.stderr, p
    p = run(t, "inspect", big)          # any size for inspect
    assert p.returncode == 0, p
    # 1: not valid
    p = run(t, "verify", t.pki.coursera.chain, "--ca", pem, "--host", "not.the.name.test")
    assert p.returncode == 1 and b"NOT VALID" in p.stdout, p
    # 0
    p = run(t, "verify", t.pki.coursera.chain, "--ca", pem, "--host", "www.coursera.test")
    assert p.returncode == 0 and b"VALID" in p.stdout, p
