"""docs/quickstart.md, run as written: every ```sh quickstart block is run
(after the ```sh quickstart-setup block, with the build directory, the work
directory and the port swapped for this test's), the ```sh quickstart-server
block is started in the background and awaited until it prints ACCEPT, and
every ```text quickstart-expect block must appear, line by line and in order,
in the output of the command block before it (<UPPER> = any text)."""
import os
import re
import signal
import subprocess

from framework import timeout
from servers import free_port

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOC = os.path.join(ROOT, "docs", "quickstart.md")
FENCE_RE = re.compile(r"^```(\S+) (quickstart(?:-\w+)?)\n(.*?)^```$", re.M | re.S)


def blocks():
    with open(DOC) as f:
        text = f.read()
    out = [(m.group(2), m.group(1), m.group(3)) for m in FENCE_RE.finditer(text)]
    # every fenced block of the document is one of ours: nothing unchecked slips in
    all_fences = re.findall(r"^```\S", text, re.M)
    assert len(all_fences) == len(out), "docs/quickstart.md has fenced blocks the test does not run"
    return out


class BackgroundShell:
    def __init__(self, argv, cwd, env):
        self.p = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  start_new_session=True)

    def wait_for(self, word):
        seen = b""
        for line in self.p.stdout:           # blocks until the server says it
            seen += line
            if word in line:
                return seen
        raise AssertionError("the server ended before printing %r: %r" % (word, seen[-1000:]))

    def stop(self):
        if self.p.poll() is None:
            os.killpg(self.p.pid, signal.SIGTERM)
        self.p.wait(10)


def expect_in(out, expected, what):
    """Each non-blank expected line is a whole line of out, in order."""
    lines = [l for l in out.replace("\r", "").split("\n") if l.strip()]
    i = 0
    for exp in [l for l in expected.split("\n") if l.strip()]:
        rx = re.compile("^" + "".join(".+" if re.fullmatch(r"<[A-Z_]+>", part) else re.escape(part)
                                      for part in re.split(r"(<[A-Z_]+>)", exp)) + "$")
        while i < len(lines) and not rx.match(lines[i]):
            i += 1
        assert i < len(lines), "%s: expected line not in the output (in order):\n  %s\noutput:\n%s" % (
            what, exp, "\n".join(lines))
        i += 1


def readme_session(t, work, port, bindir):
    """The README's "A session" transcript: the host's lines are sent (the KCERTSTORE
    data is ca.pem), the rest must be exactly what comes back, in order."""
    with open(os.path.join(ROOT, "README.md")) as f:
        m = re.search(r"^```text readme-session\n(.*?)^```$", f.read(), re.M | re.S)
    assert m, "README.md has no ```text readme-session block"
    sent, want = b"", []
    with open(os.path.join(work, "ca.pem"), "rb") as f:
        ca = f.read()
    for line in m.group(1).splitlines():
        line = line.split("\u2190")[0].rstrip()              # "<- comment"
        if line.startswith("AT"):
            if line.startswith("AT+KCERTSTORE=0,"):
                line = "AT+KCERTSTORE=0,%d" % len(ca)
                sent += line.encode() + b"\r" + ca
            else:
                sent += line.replace("28443", port).encode() + b"\r"
            if line == "ATE0":
                want.append(line)                           # its own echo, before echo is off
        elif line:
            want.append(line)
    p = subprocess.run([os.path.join(bindir, "tlsmodem"), "--store", os.path.join(work, "readme-store"),
                        "--ca-bundle", "none", "--resolve", "www.example.test:%s:127.0.0.1" % port,
                        "--resolve", "localhost:%s:127.0.0.1" % port],
                       input=sent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    got = [l for l in p.stdout.decode().replace("\r", "").split("\n") if l]
    t.log("README session:\n" + "\n".join(got))
    assert p.returncode == 0, p.stderr[-1000:]
    assert got == want, "README's transcript differs from what the modem answers:\n%s" % "\n".join(
        "%s %r" % ("  " if a == b else "!=", (a, b)) for a, b in zip(want + [""] * 9, got + [""] * 9))


@timeout(180)
def test_quickstart_doc_runs_as_written(t):
    bs = blocks()
    kinds = [k for k, _, _ in bs]
    assert kinds.count("quickstart-setup") == 1 and kinds.count("quickstart-server") == 1, kinds
    assert kinds.count("quickstart-expect") >= 8, kinds
    work = t.path("qs")
    port = str(free_port())
    bindir = os.path.dirname(os.path.abspath(t.bin))

    def adapt(code):
        return code.replace("/tmp/qs", work).replace("28443", port).replace('"$PWD/build', '"' + bindir)

    setup = adapt(bs[kinds.index("quickstart-setup")][2])
    assert "export PATH=" in setup and work in setup, setup
    env = dict(os.environ, LC_ALL="C")
    env.pop("XDG_DATA_HOME", None)
    last_out, last_cmd, server = None, None, None
    modem_blocks = []
    for n, (kind, lang, code) in enumerate(bs):
        if kind == "quickstart-setup":
            continue
        if kind == "quickstart-expect":
            assert last_out is not None, "an expect block before any command block"
            expect_in(last_out, code, "block %d after %r" % (n, last_cmd[:80]))
            continue
        assert lang == "sh", "block %d: %s" % (n, lang)
        if "rm -rf /tmp/qs" in code:
            readme_session(t, work, port, bindir)    # the README's transcript, against this server
        script = "set -e -o pipefail\n" + setup + "\n" + adapt(code)
        if kind == "quickstart-server":
            assert server is None
            server = BackgroundShell(["bash", "-c", script.replace("\nopenssl", "\nexec openssl")], ROOT, env)
            t.servers.append(server)
            t.log("server: " + server.wait_for(b"ACCEPT").decode(errors="replace"))
            continue
        p = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        t.log("$ %s\n-> %d\n%s\n[stderr] %s" % (code, p.returncode, p.stdout.decode(errors="replace"),
                                               p.stderr.decode(errors="replace")[-1500:]))
        assert p.returncode == 0, "block %d failed (exit %d):\n%s\n%s" % (n, p.returncode, code,
                                                                          p.stderr.decode(errors="replace"))
        out = p.stdout.decode(errors="replace")
        if re.search(r"\|\s*tlsmodem --", code):       # a conversation with the modem
            assert not [c for c in p.stdout if c >= 0x80], "non-ASCII on the AT channel: %r" % p.stdout
            # the ready line went to stderr, never into the AT conversation
            assert b"ready (stdio)" in p.stderr and b"ready" not in p.stdout, (p.stdout, p.stderr)
            modem_blocks.append(n)
        last_out, last_cmd = out, code
    assert server is not None
    assert len(modem_blocks) == 6, "expected 6 modem conversations (3 per dialect), ran %d" % len(modem_blocks)
    assert not os.path.exists(work), "the last block should remove the work directory"
