"""Conformance: TinyGSM's HL7800 client (TinyGsmClientHL7800.h with
TinyGsmModem/GPRS/TCP.tpp, 2025): init(), restart() (AT+CFUN=1,1), the
identity and SIM getters, gprsConnect() (KCNXCFG, KCNXUP, polling
AT+CGATT? and AT+KCGPADDR), getOperator(), isNetworkConnected() (CEREG then
CREG), then a client socket moving 1 KiB and 1 MiB byte-exact, every answer
checked with an emulation of TinyGSM's waitResponse() (hostemu.TinyGsm).

TinyGSM's HL7800 client has no secure client (it opens mode 0 sockets); the
socket here uses its exact command strings with mode 3, so the bytes go
through a verified TLS connection as the brief requires.  Reads follow its
TINY_GSM_BUFFER_READ_AND_CHECK_SIZE path: AT+KTCPSTAT for the available
count, then AT+KTCPRCV=<mux>,<n> reading exactly n bytes after CONNECT,
with a receive FIFO of 1024 bytes (TINY_GSM_RX_BUFFER)."""
import os

from framework import timeout
from hostemu import DriverFailure, TinyGsm
from test_hl_tcp import peer

RX_BUFFER = 1024
PATTERN = b"--EOF--Pattern--"


def init(g):
    """TinyGsmHL7800::initImpl (testAT, E0, &K3, KPATTERN, CMEE, name, SIM)."""
    for _ in range(10):                         # testAT(): "AT" until OK
        g.sendAT()
        if g.waitResponse(0.5) == 1:
            break
    else:
        raise DriverFailure("testAT failed")
    for c in (b"E0", b"&K3", b'+KPATTERN="--EOF--Pattern--"'):
        g.sendAT(c)
        assert g.waitResponse() == 1, c
    g.sendAT(b"+CMEE=0")
    g.waitResponse()
    g.sendAT(b"+CGMI")
    manuf = g.waitResponseText()
    g.sendAT(b"+CGMM")
    model = g.waitResponseText()
    assert manuf == b"Sierra Wireless" and model == b"HL7800", (manuf, model)
    # getSimStatus()
    g.sendAT(b"+CPIN?")
    assert g.waitResponse(10, b"+CPIN:") == 1
    st = g.waitResponse(1, b"READY", b"SIM PIN", b"SIM PUK", b"NOT INSERTED", b"NOT READY")
    g.waitResponse()
    assert st == 1, "SIM status %d" % st


def reg_status(g, xreg):
    """getRegistrationStatusXREG: AT+<xreg>?, skip to ',', int before LF."""
    g.sendAT(b"+" + xreg + b"?")
    if g.waitResponse(1, b"\r\n+" + xreg + b":") != 1:
        return -1
    g.streamSkipUntil(",")
    s = g.streamGetIntBefore("\n")
    g.waitResponse()
    return s


@timeout(240)
def test_tinygsm_hl7800_startup_gprs_and_socket_1k_1m(t):
    p = peer(t, "echo", cert=t.pki.coursera)
    m = t.modem(extra_args=("--model", "hl7800"), resolve=["www.coursera.test:%d:127.0.0.1" % p.port])
    g = TinyGsm(m)
    init(g)
    # restart(): CFUN=1,1 then init again (echo is back on after the reset)
    g.sendAT(b"+CFUN=1,1")
    assert g.waitResponse(10) == 1
    init(g)
    # identity
    g.sendAT(b"+GSN")
    g.streamSkipUntil("\n")
    imei = g.readStringUntil("\n").strip()
    g.waitResponse()
    g.sendAT(b"+CIMI")
    g.streamSkipUntil("\n")
    imsi = g.readStringUntil("\n").strip()
    g.waitResponse()
    g.sendAT(b"+CCID")
    assert g.waitResponse(1, b"+CCID:") == 1
    ccid = g.readStringUntil("\n").strip()
    g.waitResponse()
    assert len(imei) == 15 and imei.isdigit() and len(imsi) == 15 and 19 <= len(ccid) <= 20, (imei, imsi, ccid)
    # isNetworkConnected(): CEREG first
    assert reg_status(g, b"CEREG") in (1, 5)
    # gprsConnect(): KCNXCFG (with its spaces outside quotes), KCNXUP, then isGprsConnected()
    g.sendAT(b'+KCNXCFG=1,"GPRS","internet","","", "IPV4" ,"0.0.0.0","0.0.0.0","0.0.0.0"')
    assert g.waitResponse() == 1
    g.sendAT(b"+KCNXUP=1")
    assert g.waitResponse() == 1
    g.sendAT(b"+CGATT?")
    assert g.waitResponse(1, b"+CGATT:") == 1
    assert g.streamGetIntBefore("\n") == 1
    g.waitResponse()
    g.sendAT(b"+KCGPADDR")
    assert g.waitResponse(1, b"\r\n+KCGPADDR:") == 1
    g.streamSkipUntil('"')
    ip = g.readStringUntil('"')
    g.waitResponse()
    assert ip and ip != b"0.0.0.0", ip
    g.sendAT(b"+COPS?")
    assert g.waitResponse(1, b"+COPS:") == 1
    g.streamSkipUntil('"')
    assert g.readStringUntil('"') == b"tlsmodem"
    g.waitResponse()
    # CA for the TLS variant (KCERTSTORE as any HL78 host loads it)
    root = t.pki.root.bytes("pem")
    g.sendAT(b"+KCERTSTORE=0,%d" % len(root))
    assert g.waitResponse(5, b"\r\nCONNECT\r\n") == 1
    g.w.write(root + PATTERN)
    assert g.waitResponse(5) == 1

    # modemConnect(): KTCPCFG -> mux, KTCPCNX -> OK, then +KTCP_IND
    g.sendAT(b'+KTCPCFG=1,3,"www.coursera.test",%d' % p.port)
    assert g.waitResponse(1, b"\r\n+KTCPCFG:") == 1
    mux = g.streamGetIntBefore("\n")
    g.waitResponse()
    g.sendAT(b"+KTCPCNX=%d" % mux)
    g.waitResponse()
    assert g.waitResponse(20, b"\r\n+KTCP_IND:") == 1, "no +KTCP_IND (notif %r)" % g.notif

    def get_available():
        """modemGetAvailable: KTCPSTAT <status>,<tcp_notif>,<rem_data>,<rcv_data>."""
        g.sendAT(b"+KTCPSTAT=%d" % mux)
        assert g.waitResponse(1, b"+KTCPSTAT:") == 1
        g.streamSkipUntil(",")
        notif = g.streamGetIntBefore(",")
        g.streamSkipUntil(",")
        n = g.streamGetIntBefore("\n")
        g.waitResponse()
        assert n or notif == -1, "connection reported down (tcp_notif %d)" % notif
        return n

    def modem_read(size):
        g.sendAT(b"+KTCPRCV=%d,%d" % (mux, size))
        assert g.waitResponse(1, b"\r\nCONNECT\r\n") == 1
        data = g.w.read(size, __import__("time").monotonic() + 10, "KTCPRCV data")
        assert g.waitResponse(1, PATTERN) == 1, "no EOF pattern right after %d bytes" % size
        assert g.waitResponse() == 1
        return data

    def modem_send(data):
        g.sendAT(b"+KTCPSND=%d,%d" % (mux, len(data)))
        assert g.waitResponse(1, b"\r\nCONNECT\r\n") == 1
        g.w.write(data + PATTERN)
        assert g.waitResponse() == 1, "no OK after send"
        g.waitResponse(0.05, b"\r\n+KTCP_DATA:")    # optional, as the client does

    for size in (1024, 1 << 20):
        blob = os.urandom(size)
        got = bytearray()
        for off in range(0, size, 1024):           # client.write() in 1 KiB pieces
            modem_send(blob[off:off + 1024])
            want = off + 1024
            while len(got) < min(want, size):
                # read(): with nothing in the FIFO, maintain() polls KTCPSTAT (the
                # "modules forget to notify" workaround), then modemRead(min(free, avail))
                avail = get_available()
                if not avail:
                    g.waitResponse(0.2, b"\r\n+KTCP_DATA:")
                    continue
                got += modem_read(min(RX_BUFFER, avail))
        assert bytes(got) == blob, "byte mismatch"
    # stop(): KTCPCLOSE=<mux>,1 and KTCPDEL
    g.sendAT(b"+KTCPCLOSE=%d,1" % mux)
    assert g.waitResponse() == 1
    g.sendAT(b"+KTCPDEL=%d" % mux)
    assert g.waitResponse() == 1
