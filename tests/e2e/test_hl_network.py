"""HL models (--model) and the simulated network the 27.007 commands see:
identity answers, +KSUP at boot, CFUN/registration/attach/PDP agreeing with
each other and with AT+KCNXUP, URCs following CFUN, the module reset, bad
input refused with the module's error and a reason (nothing half-applied),
and commands the real module has that tlsmodem does not implement."""
import re
import subprocess

import hl
from framework import quick, timeout


def _m(t, model=None, extra=()):
    args = (("--model", model) if model else ()) + tuple(extra)
    return t.modem(extra_args=args)


@quick
def test_identity_per_model_and_configurable_numbers(t):
    for model, cgmm, rev in (("hl8548", b"HL8548", b"RHL85xx."), ("hl7800", b"HL7800", b"HL7800."),
                             ("hl7802", b"HL7802", b"HL7802.")):
        m = _m(t, model)
        hl.start(m)
        assert m.at_ok("AT+CGMI").lines == [b"Sierra Wireless"]
        assert m.at_ok("AT+GMI").lines == [b"Sierra Wireless"]
        assert m.at_ok("AT+CGMM").lines == [cgmm]
        assert m.at_ok("AT+GMM").lines == [cgmm]
        r = m.at_ok("AT+CGMR")
        assert len(r.lines) == 1 and r.lines[0].startswith(rev), r.text
        assert m.at_ok("AT+GMR").lines == r.lines
        assert m.at_ok("ATI").lines[0] == cgmm
        assert re.fullmatch(rb"\d{15}", m.at_ok("AT+CGSN").lines[0])
        assert re.fullmatch(rb"\d{15}", m.at_ok("AT+CIMI").lines[0])
        assert re.fullmatch(rb"\+CCID: \d{19,20}", m.at_ok("AT+CCID").lines[0])
        m.close()
    m = _m(t, "hl7800", ("--imei", "490154203237518", "--iccid", "8944500102198304826",
                         "--imsi", "001019876543210"))
    hl.start(m)
    assert m.at_ok("AT+CGSN").lines == [b"490154203237518"]
    assert m.at_ok("AT+GSN").lines == [b"490154203237518"]
    assert m.at_ok("AT+CGSN=1").lines == [b'+CGSN: "490154203237518"']
    assert m.at_ok("AT+CIMI").lines == [b"001019876543210"]
    assert m.at_ok("AT+CCID").lines == [b"+CCID: 8944500102198304826"]
    assert m.at_ok("AT+ICCID").lines == [b"+CCID: 8944500102198304826"]


@quick
def test_unknown_model_and_bad_identity_are_startup_errors(t):
    for args, text in ((["--model", "hl9999"], "--model hl9999: unknown for --dialect hl (hl8548, hl7800, hl7802)"),
                       (["--dialect", "spwf", "--model", "hl7800"], "--model hl7800: unknown for --dialect spwf"),
                       (["--imei", "12"], "--imei \"12\": expected 15 digits"),
                       (["--dialect", "spwf", "--imei", "490154203237518"],
                        "--imei: --dialect spwf is not a cellular module"),
                       (["--dialect", "esp", "--iccid", "8944500102198304826"],
                        "--iccid: --dialect esp is not a cellular module")):
        p = subprocess.run([t.bin, "--stdio", "--store", t.tmp + "/st"] + args, input=b"",
                           capture_output=True, timeout=10)
        assert p.returncode == 2, (args, p.returncode, p.stderr)
        assert text in p.stderr.decode(), (args, p.stderr)


@quick
def test_hl78_boot_urc_and_hl8548_silence(t):
    m = _m(t, "hl7800")
    m.expect(b"\r\n+KSUP: 0\r\n", 5)
    m8 = _m(t)
    r = m8.at("AT")
    assert r.text.endswith(b"\r\nOK\r\n") and b"+KSUP" not in r.text, r.text


@quick
def test_cfun_registration_attach_pdp_agree(t):
    m = _m(t, "hl7800")
    m.expect(b"+KSUP: 0\r\n", 5)
    hl.start(m, cmee=2)
    assert m.at_ok("AT+CPIN?").lines == [b"+CPIN: READY"]
    assert m.at_ok("AT+CFUN?").lines == [b"+CFUN: 1"]
    m.at_ok("AT+CEREG=5")
    m.at_ok("AT+CREG=1")
    m.at_ok("AT+CGEREP=2")
    assert m.at_ok("AT+CEREG?").lines == [b'+CEREG: 5,1,"A1B2","01A2D001",7']
    # radio off: deregistered, detached, the default bearer gone, URCs say so
    m.at_ok("AT+CFUN=4,0")
    m.expect(b"\r\n+CREG: 0\r\n", 5)
    m.expect(b"\r\n+CEREG: 0\r\n", 5)
    m.expect(b"\r\n+CGEV: ME DETACH\r\n", 5)
    assert m.at_ok("AT+CEREG?").lines == [b"+CEREG: 5,0"]
    assert m.at_ok("AT+CGATT?").lines == [b"+CGATT: 0"]
    assert m.at_ok("AT+CGACT?").lines == [b"+CGACT: 1,0"]
    assert m.at_ok("AT+CSQ").lines == [b"+CSQ: 99,99"]
    assert m.at_ok("AT+COPS?").lines == [b"+COPS: 0"]
    assert m.at_ok("AT+CGCONTRDP=1").lines == []
    hl.cme(m, "AT+KCNXUP=1", 922, r"radio is off.*AT\+CFUN=1")
    hl.cme(m, "AT+CGACT=1,1", 922, r"not attached")
    # the Zephyr driver configures the context while the radio is off
    m.at_ok('AT+CGDCONT=1,"IPV4V6",""')
    m.at_ok("AT+CFUN=1,0")
    m.expect(b"\r\n+CREG: 1\r\n", 5)
    m.expect(b'\r\n+CEREG: 1,"A1B2","01A2D001",7\r\n', 5)
    m.expect(b"\r\n+CGEV: ME PDN ACT 1\r\n", 5)
    assert m.at_ok("AT+CGATT?").lines == [b"+CGATT: 1"]
    assert m.at_ok("AT+CGACT?").lines == [b"+CGACT: 1,1"]
    assert m.at_ok("AT+CSQ").lines == [b"+CSQ: 20,99"]
    assert m.at_ok("AT+COPS?").lines == [b'+COPS: 0,0,"tlsmodem",7']
    r = m.at_ok("AT+CGCONTRDP=1")
    assert re.fullmatch(rb'\+CGCONTRDP: 1,5,"","\d+\.\d+\.\d+\.\d+\.255\.255\.255\.0","[\d.]+","[\d.]+","0\.0\.0\.0"',
                        r.lines[0]), r.text
    assert re.fullmatch(rb'\+CGPADDR: 1,"[\d.]+"', m.at_ok("AT+CGPADDR=1").lines[0])
    # detach: AT+CGATT? and AT+KCNXUP agree (TinyGSM polls CGATT after KCNXUP)
    m.at_ok("AT+CGATT=0")
    m.expect(b"\r\n+CGEV: ME DETACH\r\n", 5)
    assert m.at_ok("AT+CGATT?").lines == [b"+CGATT: 0"]
    r = m.at_ok("AT+KCNXUP=1")
    m.expect(b"\r\n+CGEV: ME PDN ACT 1\r\n", 5)      # attach brings up the default bearer
    m.expect(b"\r\n+KCNX_IND: 1,1\r\n", 5)
    assert m.at_ok("AT+CGATT?").lines == [b"+CGATT: 1"]


@quick
def test_reset_reboots_with_urc_and_defaults(t):
    """AT+CFUN=1,1 (TinyGSM restart): OK, then the boot URC; echo is back on
    and sessions are gone."""
    m = _m(t, "hl7800")
    m.expect(b"+KSUP: 0\r\n", 5)
    hl.start(m)
    r = m.at('AT+KTCPCFG=1,0,"127.0.0.1",9')
    assert r.ok
    r = m.at("AT+CFUN=1,1")
    assert r.text == b"\r\nOK\r\n", r.text
    m.expect(b"\r\n+KSUP: 0\r\n", 5)
    r = m.at("AT")
    assert r.text == b"AT\r\r\nOK\r\n", r.text                 # echo on again
    m.at_ok("ATE0")
    assert m.at_ok("AT+KTCPCFG?").lines == []


@quick
def test_bad_input_refused_with_reason_nothing_half_applied(t):
    m = _m(t, "hl7800")
    m.expect(b"+KSUP: 0\r\n", 5)
    hl.start(m)
    hl.cme(m, "AT+CFUN=7", 916, r"fun.*0 \(minimum\), 1 \(full\) or 4")
    hl.cme(m, "AT+CFUN=1,2", 916, r"rst")
    hl.cme(m, "AT+CEREG=6", 916, r"\bn\b")
    hl.cme(m, "AT+CREG=-1", 916, r"\bn\b")
    assert m.at_ok("AT+CFUN?").lines == [b"+CFUN: 1"]
    m.at_ok("AT+KBNDCFG=0,0808189F")
    hl.cme(m, "AT+KBNDCFG=0,0808189G", 916, r"hexadecimal")
    hl.cme(m, "AT+KBNDCFG=0,80000000", 916, r"band 32")
    hl.cme(m, "AT+KBNDCFG=0,0", 916, r"no band")
    hl.cme(m, "AT+KBNDCFG=2,C", 916, r"rat.*0-1")           # GSM only on the HL7802
    assert m.at_ok("AT+KBNDCFG?").lines[0] == b"+KBNDCFG: 0,0808189F"
    hl.cme(m, 'AT+CGDCONT=1,"PPP","x"', 916, r"PDP_type")
    assert m.at_ok("AT+CGDCONT?").lines == [b'+CGDCONT: 1,"IPV4V6","","",0,0']
    hl.cme(m, 'AT+CPSMS=1,,,"0100001","00100100"', 916, r"8 binary digits")
    assert m.at_ok("AT+CPSMS?").lines == [b'+CPSMS: 0,,,"01000011","00100100"']
    m.at_ok('AT+CPSMS=1,,,"00000110","00000001"')
    assert m.at_ok("AT+CPSMS?").lines == [b'+CPSMS: 1,,,"00000110","00000001"']
    hl.cme(m, "AT+KSELACQ=0,1,4", 916, r"rat")
    m.at_ok("AT+KSELACQ=0,1,2,1")
    assert m.at_ok("AT+KSELACQ?").lines == [b"+KSELACQ: 1,2,1"]
    m.at_ok("AT+KSELACQ=0,0")
    assert m.at_ok("AT+KSELACQ?").lines == [b"+KSELACQ: 0"]


@quick
def test_unimplemented_module_commands_answer_cme_4_and_trace_names_them(t):
    m = _m(t, "hl7800")
    hl.start(m)
    hl.cme(m, "AT+KFTPCFG=1", 4, [r"AT\+KFTPCFG", r"does not implement"])
    hl.cme(m, "AT+CMGF?", 4, r"AT\+CMGF")
    m.at_ok("AT+CMEE=0")
    assert m.at("AT+KFTPCFG=1").text == b"\r\nERROR\r\n"
    assert "AT+KFTPCFG is a command of the HL7800 that tlsmodem does not implement" in m.trace_text()
    # a truly unknown command stays a plain ERROR at CMEE=1
    m.at_ok("AT+CMEE=1")
    assert m.at("AT+XYZZY").text == b"\r\nERROR\r\n"
    # HL78-only commands on the HL8548: unknown there, with a reason at CMEE=2
    m8 = _m(t)
    hl.start(m8)
    for cmd in ("AT+CEREG?", "AT+KSRAT?", "AT+KBNDCFG?", "AT+KSELACQ?", "AT+KHWIOCFG=3,1,6", "AT+CPSMS=0"):
        assert m8.at(cmd).text == b"\r\nERROR\r\n", cmd
        hl.cme(m8, cmd, None, [r"HL78xx command", r"--model hl7800"])
        m8.at_ok("AT+CMEE=1")
