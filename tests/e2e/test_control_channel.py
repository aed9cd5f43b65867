"""The control channel itself (docs/control.md): --control on a UNIX socket
(0600, refused in a directory others can write) or loopback TCP, the
key=value answers, tlsmodem-ctl's output and exit status, the module clock
commands, bad commands answered without disturbing the modem."""
import os
import stat
import subprocess

import hl
import tmctl
from framework import quick
from servers import free_port


@quick
def test_control_unix_socket_answers_and_cli(t):
    m, ctl = tmctl.start(t)
    st = os.stat(ctl.path)
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    a = ctl.ok("status")
    assert a["dialect"] == "hl" and a["mode"] == "host" and a["dns"] == "ok", a
    # two commands on one connection, answered in turn
    assert "coverage lost|back" in ctl.ok("help")["commands"]
    e = ctl.error("bogus words", "TM_E_ARG_BAD")
    assert 'unknown command "bogus words"' in e["reason"], e
    ctl.error("csq 40", "TM_E_ARG_BAD")
    ctl.error("clock set yesterday", "TM_E_ARG_BAD")
    rc, out = tmctl.ctl_cli(t, ctl.path, "status")
    assert rc == 0 and out.startswith("ok dialect=hl "), (rc, out)
    rc, out = tmctl.ctl_cli(t, ctl.path, "nonsense")
    assert rc == 1 and out.startswith("error code=TM_E_ARG_BAD reason="), (rc, out)
    rc, out = tmctl.ctl_cli(t, os.path.join(t.tmp, "nothing.sock"), "status")
    assert rc == 2 and "No such file" in out, (rc, out)
    assert m.at_ok("AT").final == b"OK"            # the AT side never noticed
    m.close()
    assert not os.path.exists(ctl.path), "the socket file is removed at exit"


@quick
def test_control_clock_set_jump_unset_host(t):
    m, ctl = tmctl.start(t)
    m.at_ok("ATE0")
    a = ctl.ok("clock set 2031-05-06T07:08:09Z")
    assert a == {"clock": "2031-05-06T07:08:09Z", "mode": "set"}, a
    assert m.at_ok("AT+CCLK?").lines[0].startswith(b'+CCLK: "31/05/06,07:08:'), m.at_ok("AT+CCLK?").text
    a = ctl.ok("clock jump -86400")
    assert a["clock"].startswith("2031-05-05T07:08:"), a
    assert m.at_ok("AT+CCLK?").lines[0].startswith(b'+CCLK: "31/05/05,07:08:')
    assert ctl.ok("clock unset")["mode"] == "unset"
    assert ctl.ok("clock host")["mode"] == "host"
    assert ctl.ok("clock")["mode"] == "host"


@quick
def test_control_refuses_unsafe_places(t):
    d = os.path.join(t.tmp, "open")
    os.mkdir(d)
    os.chmod(d, 0o777)
    p = subprocess.run([t.bin, "--store", os.path.join(t.tmp, "s"), "--ca-bundle", "none", "--control",
                        os.path.join(d, "ctl.sock")], stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
    assert p.returncode == 1 and b"writable by nobody else" in p.stderr, p
    p = subprocess.run([t.bin, "--store", os.path.join(t.tmp, "s"), "--ca-bundle", "none", "--control",
                        "0.0.0.0:%d" % free_port()], stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
    assert p.returncode == 1 and b"loopback" in p.stderr, p
    f = os.path.join(t.tmp, "afile")
    open(f, "w").close()
    p = subprocess.run([t.bin, "--store", os.path.join(t.tmp, "s"), "--ca-bundle", "none", "--control", f],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
    assert p.returncode == 1 and b"not a socket" in p.stderr, p


@quick
def test_control_loopback_tcp(t):
    port = free_port()
    m = t.modem(extra_args=("--control", "127.0.0.1:%d" % port))
    m.at_ok("AT")
    ctl = tmctl.Control("127.0.0.1:%d" % port)
    assert ctl.ok("status")["dialect"] == "hl"
    rc, out = tmctl.ctl_cli(t, "127.0.0.1:%d" % port, "clock", "jump", "60")
    assert rc == 0 and " mode=set" in out, (rc, out)


@quick
def test_control_limits_clients_and_line_length(t):
    m, ctl = tmctl.start(t)
    others = [tmctl.Control(ctl.path) for _ in range(3)]
    for c in others:
        assert c.ok("status")["dialect"] == "hl"
    fifth = tmctl.Control(ctl.path)       # four at once: the fifth is told and closed
    line = fifth.sock.recv(4096)
    assert line.startswith(b"error code=TM_E_SESSION_BUSY reason=\"too many control clients\"\n"), line
    assert fifth.sock.recv(4096) == b""
    others[0].close()
    m.at_ok("AT")                         # the loop saw the close
    again = tmctl.Control(ctl.path)
    assert again.ok("status")["dialect"] == "hl"
    e = ctl.error("x" * 300, "TM_E_ARG_BAD")     # too long: one answer, then the next command works
    assert e["reason"] == "command too long", e
    assert ctl.ok("status")["dialect"] == "hl"
    # several commands in one write, answered in order
    ctl.sock.sendall(b"clock unset\nclock host\nstatus\n")
    buf = b""
    while buf.count(b"\n") < 3:
        buf += ctl.sock.recv(4096)
    lines = buf.decode().splitlines()
    assert [tmctl.Answer(l)["mode"] for l in lines] == ["unset", "host", "host"], lines


@quick
def test_control_scenario_file_plays_in_order(t):
    m, ctl = tmctl.start(t, extra_args=("--model", "hl7800"))
    hl.start(m)
    m.at_ok("AT+CEREG=1")
    f = os.path.join(t.tmp, "drop.scn")
    with open(f, "w") as fh:
        fh.write("# coverage drops for a moment\n0 csq 5\n\n100 coverage lost\n300   coverage back\n")
    assert ctl.ok("play " + f) == {"steps": "3"}
    got = m.expect(b"\r\n+CEREG: 1\r\n", 10).consumed
    assert got.endswith(b"\r\n+CEREG: 2\r\n\r\n+CEREG: 1\r\n"), got
    assert m.at_ok("AT+CSQ").lines == [b"+CSQ: 5,99"]
    tr = m.trace_text()
    assert "scenario step 2/3 at 100 ms: coverage lost -> ok event=coverage-lost" in tr, tr[-2000:]
    # a bad file changes nothing; a playing scenario can be stopped
    with open(f, "w") as fh:
        fh.write("0 csq 9\n50 coverage lost\n10 coverage back\n")
    e = ctl.error("play " + f, "TM_E_ARG_BAD")
    assert "drop.scn:3: 10 ms is before the previous step (50 ms)" in e["reason"], e
    ctl.error("play " + os.path.join(t.tmp, "missing.scn"), "TM_E_ARG_BAD")
    with open(f, "w") as fh:
        fh.write("600000 reset\n")
    assert ctl.ok("play " + f) == {"steps": "1"}
    ctl.error("play " + f, "TM_E_ARG_BAD")              # one at a time
    assert ctl.ok("play stop") == {"cancelled": "1"}
    assert m.at_ok("AT+CSQ").lines == [b"+CSQ: 5,99"]
