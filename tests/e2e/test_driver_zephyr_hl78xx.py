"""Conformance: the Zephyr hl78xx driver (drivers/modem/hl78xx, Zephyr 4.x),
as it runs against an HL7800: its command strings in its order, every
answer checked by an emulation of its modem_chat matcher (hostemu.ZephyrChat),
then a verified TLS socket moving 1 KiB and 1 MiB byte-exact with the
driver's own KTCPSND / KTCPRCV framing.

Order as in the driver: wait for the boot URC +KSUP; the init script of
hl78xx_chat.c; the configuration of hl78xx.c (RAT/bands, PDP context,
CFUN=1 and waiting for +CEREG: 1|5); the periodic AT+CEREG?; the DNS/IP
query AT+CGCONTRDP=1; identity and signal; TLS: AT+KCERTSTORE, AT+KSSLCRYPTO
(when the host name is set), AT+KTCPCFG=1,3,"<host>",<port>,,,,<af>,0,0,
AT+KTCPCNX, then KTCPSND/+KTCP_DATA/KTCPRCV, KTCPCLOSE, KTCPDEL."""
import os
import re

import hl
from framework import timeout
from hostemu import DriverFailure, ZephyrChat
from test_hl_tcp import peer


def _boot(t, p):
    m = t.modem(extra_args=("--model", "hl7800", "--imei", "352653090000017"),
                resolve=["www.coursera.test:%d:127.0.0.1" % p.port])
    reg = {}
    data = {}

    def on_cxreg(line):
        args = line.split(b": ", 1)[1].split(b",")
        # hl78xx_on_cxreg: argv[1] and argv[2] both 1 character = a read answer "<n>,<stat>"
        stat = args[1] if len(args) > 1 and len(args[0]) == 1 and len(args[1]) == 1 else args[0]
        reg["stat"] = int(stat)

    def on_data(line):
        sid, n = line.split(b": ", 1)[1].split(b",")
        data[int(sid)] = int(n)

    chat = ZephyrChat(m, unsol=[(b"+CREG: ", on_cxreg), (b"+CEREG: ", on_cxreg),
                                (b"+KTCP_DATA: ", on_data), (b"+KTCP_NOTIF: ", lambda l: None),
                                (b"+KSUP: ", lambda l: None), (b"+CSQ: ", lambda l: None),
                                (b"+CESQ: ", lambda l: None), (b"+COPS: ", lambda l: None),
                                (b"+KBNDCFG: ", lambda l: None), (b"+CFUN: ", lambda l: None)])
    return m, chat, reg, data


def _init(chat, reg):
    chat.cmd(None, b"+KSUP: ", 10)                       # hl78xx_at_ready_match
    # hl78xx_init_chat_script
    chat.ok(b"AT+KHWIOCFG=3,1,6")
    chat.ok(b"ATE0")
    chat.ok(b"AT+CFUN=4,0")
    chat.ok(b"AT+KSLEEP=2")
    chat.ok(b"AT+CPSMS=0")
    chat.ok(b"AT+CEDRXS=0")
    chat.ok(b'AT+KPATTERN="--EOF--Pattern--"')
    iccid = chat.cmd(b"AT+CCID", b"+CCID: ")
    chat.ok(None)
    chat.ok(b"AT+CMEE=1")
    imei = chat.cmd(b"AT+CGSN", b"")                     # "" matches the next line: the IMEI
    chat.ok(None)
    model = chat.cmd(b"AT+CGMM", b"")
    chat.ok(None)
    manuf = chat.cmd(b"AT+CGMI", b"")
    chat.ok(None)
    rev = chat.cmd(b"AT+CGMR", b"")
    chat.ok(None)
    imsi = chat.cmd(b"AT+CIMI", b"")
    chat.ok(None)
    chat.ok(b"AT+CGEREP=2")
    chat.cmd(b"AT+KSELACQ?", b"+KSELACQ: ")
    chat.ok(None)
    chat.cmd(b"AT+KSRAT?", b"+KSRAT: ")
    chat.ok(None)
    chat.ok(b"AT+KBNDCFG?")
    chat.ok(b"AT+CGACT?")
    chat.ok(b"AT+CREG=0")
    chat.ok(b"AT+CEREG=5")
    assert imei == b"352653090000017" and model == b"HL7800" and manuf == b"Sierra Wireless", (imei, model, manuf)
    assert rev.startswith(b"HL7800.") and re.fullmatch(rb"\d{15}", imsi), (rev, imsi)
    assert re.fullmatch(rb"\+CCID: \d{19,20}", iccid), iccid
    # configuration (hl78xx.c): RAT, bands, APN, radio on
    chat.ok(b"AT+KSELACQ=0,1,2,1")
    # hl78xx_on_kselacq: argv[1..3] are rat1..rat3 when there are more than 3 arguments
    line = chat.cmd(b"AT+KSELACQ?", b"+KSELACQ: ")
    chat.ok(None)
    assert line.split(b": ", 1)[1].split(b",") == [b"1", b"2", b"1"], line
    # hl78xx_on_kbndcfg: argv[1] rat, argv[2] the bitmap as given
    bands = []
    chat.unsol.insert(0, (b"+KBNDCFG: ", lambda l: bands.append(l.split(b": ", 1)[1].split(b","))))
    chat.ok(b"AT+KBNDCFG=0,0808189F")
    chat.ok(b"AT+KBNDCFG?")
    assert [b"0", b"0808189F"] in bands, bands
    chat.ok(b'AT+CGDCONT=1,"IPV4V6",""')
    chat.ok(b"AT+CFUN=1,0")
    # the driver waits for +CEREG: 1 or 5 (URC, <n> = 5)
    deadline_lines = 20
    while reg.get("stat") not in (1, 5) and deadline_lines:
        chat.cmd(b"AT+CEREG?", b"OK")                    # hl78xx_periodic_chat_script
        deadline_lines -= 1
    assert reg.get("stat") in (1, 5), reg
    line = chat.cmd(b"AT+CGCONTRDP=1", b"+CGCONTRDP: ")
    args = line.split(b": ", 1)[1].split(b",")
    assert len(args) >= 7, line
    addr = args[3].strip(b'"')
    assert addr.count(b".") == 7, "the driver splits address and mask at the 4th dot: %r" % addr
    chat.ok(None)
    chat.cmd(b"AT+CSQ", b"+CSQ: ")
    chat.ok(None)


@timeout(180)
def test_zephyr_hl78xx_startup_and_tls_socket_1k_1m(t):
    p = peer(t, "echo", cert=t.pki.coursera)
    m, chat, reg, data = _boot(t, p)
    _init(chat, reg)
    # TLS credentials: hl78xx_send_cert (CA) and the cipher profile on TLS_HOSTNAME
    root = t.pki.root.bytes("pem")
    chat.store(b"AT+KCERTSTORE=0,%d" % len(root), root)
    chat.ok(b"AT+KSSLCRYPTO=0,8,1,8192,4,4,3,0")
    # send_tcp_or_tls_config: mode 3, af 0 (IPv4), cipher index "0", last 0
    line = chat.cmd(b'AT+KTCPCFG=1,3,"www.coursera.test",%d,,,,0,0,0' % p.port, b"+KTCPCFG: ")
    sid = int(line.split(b": ")[1])
    chat.ok(None)
    chat.ok(b"AT+KTCPCNX=%d" % sid)
    chat.cmd(None, b"+KTCP_IND: %d,1" % sid, 20)
    assert "verified by root" in m.trace_text()

    for size in (1024, 1 << 20):
        blob = os.urandom(size)
        got = bytearray()
        sent = 0
        while sent < size or len(got) < size:
            if sent < size:
                chunk = blob[sent:sent + 1024]           # MDM_MAX_DATA_LENGTH-sized sends
                chat.ktcpsnd(sid, chunk)
                sent += len(chunk)
            # +KTCP_DATA announces what is buffered; read it (max_data_length per read)
            if not data.get(sid) and (sent == size and len(got) < size):
                chat.cmd(None, b"+KTCP_DATA: %d," % sid, 20)
                n = int(chat.log[-1].split(b",")[1])
                data[sid] = n
            while data.get(sid):
                # one read per recv() call, at most MDM_MAX_DATA_LENGTH minus the framing
                n = min(data[sid], 1024 - len(b"--EOF--Pattern--") - 11)
                got += chat.ktcprcv(sid, n)
                data[sid] = max(0, data[sid] - n)
                # between reads the chat sees URCs: a read that leaves bytes behind is
                # announced again after its OK with the new total
                chat.poll()
        assert bytes(got) == blob, "byte mismatch at %d" % next(
            (i for i in range(min(len(got), size)) if got[i] != blob[i]), min(len(got), size))
    chat.ok(b"AT+KTCPCLOSE=%d" % sid)
    chat.ok(b"AT+KTCPDEL=%d" % sid)


@timeout(60)
def test_zephyr_hl78xx_udp_socket(t):
    """The driver's UDP path (what its DNS resolver uses): send_udp_config
    "AT+KUDPCFG=1,0,,0,,,0,0" waiting for +KUDP_IND, KUDPSND to an address,
    +KUDP_DATA, KUDPRCV through the same byte parser as TCP."""
    from test_hl_udp import UdpEcho
    srv = UdpEcho()
    t.servers.append(srv)
    p = peer(t, "echo")
    m, chat, reg, data = _boot(t, p)
    chat.unsol.insert(0, (b"+KUDP_DATA: ", lambda l: data.__setitem__(
        int(l.split(b": ")[1].split(b",")[0]), int(l.split(b",")[1]))))
    _init(chat, reg)
    line = chat.cmd(b"AT+KUDPCFG=1,0,,0,,,0,0", b"+KUDP_IND: ")
    sid, status = (int(x) for x in line.split(b": ")[1].split(b","))
    assert status == 1
    for payload in (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01",
                    os.urandom(1000)):
        chat.cmd(b'AT+KUDPSND=%d,"127.0.0.1",%d,%d' % (sid, srv.port, len(payload)), b"CONNECT")
        chat.w.write(payload + b"--EOF--Pattern--")
        chat.cmd(None, b"OK")
        if not data.get(sid):
            chat.cmd(None, b"+KUDP_DATA: %d," % sid, 10)
            data[sid] = int(chat.log[-1].split(b",")[1])
        assert data[sid] == len(payload), data
        # prepare_read_command: "AT+KUDPRCV=<id>,<n>", read by the same byte parser
        got = chat.ktcprcv(sid, data[sid], proto=b"UDP")
        data[sid] = 0
        assert got == payload[::-1]
    chat.ok(b"AT+KUDPCLOSE=%d" % sid)

