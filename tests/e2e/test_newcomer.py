"""A newcomer's first hour (issue 11): one version everywhere, the ready
banner, make run, SIGHUP, trace format, install, the quickstart."""
import os
import re
import subprocess

from framework import quick
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
