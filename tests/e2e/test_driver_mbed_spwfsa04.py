"""Conformance: the mbed SPWFSA04 driver (wifi-x-nucleo-idw01m1 SPWFSAxx.cpp
with the SPWF04 command strings of SPWFSA04.h): startup() (factory reset,
blink_led, echo off, rates, 802.11n, mode, flow control, WIND masks, WCFG +
RESET waiting for +WIND:32, the console/sleep GCFG queries), connect()
(passphrase, SSID, privacy, station mode, WCFG + RESET, wait for
"+WIND:24:…:<IPv4>"), getIPAddress/getGateway/getNetmask (AT+S.STS=…),
getRssi (AT+S.PEERS=0,rx_rssi), getMACAddress (AT+S.GCFG=nv_wifi_macaddr),
then a TLS socket moving 1 KiB and 1 MiB byte-exact with its SOCKW /
+WIND:55 / SOCKQ / SOCKR (WINDs masked around the read) / SOCKC sequence.
Every answer is checked by an emulation of mbed's ATCmdParser
(hostemu.MbedParser)."""
import os
import time

from framework import timeout
from hostemu import DriverFailure, MbedParser
from test_hl_tcp import peer
from test_spwf_lib import der

PKTSIZE = 730          # SPWFXX_SEND_RECV_PKTSIZE: sends are split into pieces of this size


def _reset(p):
    """SPWFSAxx::reset(): save settings, AT+S.RESET, wait for WiFi Hardware Started."""
    p.cmd_ok(b"AT+S.WCFG")
    p.send(b"AT+S.RESET")
    p.recv(rb"\+WIND:32:WiFi Hardware Started")


def _winds(p, high, medium, low):
    p.cmd_ok(b"AT+S.SCFG=console_wind_off_high," + high)
    p.cmd_ok(b"AT+S.SCFG=console_wind_off_medium," + medium)
    p.cmd_ok(b"AT+S.SCFG=console_wind_off_low," + low)


@timeout(240)
def test_mbed_spwfsa04_startup_connect_and_tls_socket_1k_1m(t):
    srv = peer(t, "echo", cert=t.pki.coursera)
    m = t.modem(dialect="spwf", resolve=["www.coursera.test:%d:127.0.0.1" % srv.port])
    p = MbedParser(m)
    # hw_reset(): wait for the console
    p.recv(rb"\+WIND:0:Console active")
    # startup(0)
    p.cmd_ok(b"AT+S.FCFG")
    p.cmd_ok(b"AT+S.SCFG=blink_led,0")
    p.cmd_ok(b"AT+S.SCFG=console_echo,0")
    p.cmd_ok(b"AT+S.SCFG=wifi_opr_rate_mask,0x003FFFCF")
    p.cmd_ok(b"AT+S.SCFG=wifi_ht_mode,1")
    p.cmd_ok(b"AT+S.SCFG=wifi_mode,0")
    p.cmd_ok(b"AT+S.SCFG=console_hwfc,0")
    _winds(p, b"0x00100000", b"0x80000000", b"0x00000000")
    _reset(p)
    for var in (b"console_enabled", b"console_speed", b"console_hwfc", b"console_delimiter",
                b"console_errs", b"sleep_enabled", b"wifi_powersave", b"standby_enabled"):
        p.cmd_ok(b"AT+S.GCFG=" + var)
    # connect("MyAP", "secret", WPA_Personal)
    p.cmd_ok(b"AT+S.SCFG=wifi_wpa_psk_text,secret")
    p.cmd_ok(b"AT+S.SSIDTXT=MyAP")
    p.cmd_ok(b"AT+S.SCFG=wifi_priv_mode,2")
    p.cmd_ok(b"AT+S.SCFG=wifi_mode,1")
    _reset(p)
    mm = p.recv(rb"\+WIND:24:WiFi Up:\d*:?(\d+\.\d+\.\d+\.\d+)")   # a ":24:" line with an IPv4 address
    assert mm.group(1) == b"127.0.0.1"
    # getIPAddress / getGateway / getNetmask / getRssi / getMACAddress
    for var in (b"ip_ipaddr", b"ip_gw", b"ip_netmask"):
        p.send(b"AT+S.STS=" + var)
        p.recv(rb"AT-S\.Var:" + var + rb"=\d+\.\d+\.\d+\.\d+")
        p.recv_ok()
    p.send(b"AT+S.PEERS=0,rx_rssi")
    rssi = int(p.recv(rb"AT-S\.Var:0\.rx_rssi=(-?\d+)").group(1))
    p.recv_ok()
    assert -100 < rssi < 0, rssi
    p.send(b"AT+S.GCFG=nv_wifi_macaddr")
    p.recv(rb"AT-S\.Var:nv_wifi_macaddr=[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}")
    p.recv_ok()

    # trust: the CA as DER (AT+S.TLSCERT=content,1 … as the other SPWF tests load it)
    ca = der(t.pki.root)
    p.send(b"AT+S.TLSCERT=ca,%d\r" % len(ca) + ca)
    p.recv_ok()
    # open(): SOCKON=<host>,<port>,NULL,s
    p.send(b"AT+S.SOCKON=www.coursera.test,%d,NULL,s" % srv.port)
    sid = int(p.recv(rb"AT-S\.On:[^:]*:(\d+)", 30).group(1))
    p.recv_ok()
    assert "verified by root" in m.trace_text()

    def read_in(spwf_id):
        """_read_in_pkt: SOCKQ for the amount, then (WINDs off) SOCKR + binary + OK (WINDs on)."""
        p.send(b"AT+S.SOCKQ=%d" % spwf_id)
        amount = int(p.recv(rb"AT-S\.Query:(\d+)").group(1))
        p.recv_ok()
        if not amount:
            return b""
        _winds(p, b"0xFFFFFFFF", b"0xFFFFFFFF", b"0xFFFFFFFF")   # _winds_off (low, medium, high)
        p.send(b"AT+S.SOCKR=%d,%d" % (spwf_id, amount))
        n = int(p.recv(rb"AT-S\.Reading:(\d+):\d+").group(1))
        assert n == amount, (n, amount)
        data = p.w.read(amount, time.monotonic() + 20, "SOCKR data")
        p.recv_ok()
        _winds(p, b"0x00100000", b"0x80000000", b"0x00000000")   # _winds_on
        return data

    for size in (1024, 1 << 20):
        blob = os.urandom(size)
        got = bytearray()
        sent = 0
        while sent < size:
            piece = blob[sent:sent + PKTSIZE]
            p.send(b"AT+S.SOCKW=%d,%d" % (sid, len(piece)))   # the bytes follow the CR directly
            p.w.write(piece)
            p.recv_ok()
            sent += len(piece)
            if p.pending.pop(sid, None) is not None:
                got += read_in(sid)
        deadline = time.monotonic() + 60
        while len(got) < size:
            if time.monotonic() > deadline:
                raise DriverFailure("only %d of %d bytes came back" % (len(got), size))
            if p.pending.pop(sid, None) is None:
                p.recv(rb"\+WIND:55:Pending Data::%d:.*" % sid, 20)   # wait for the indication
            got += read_in(sid)
        assert bytes(got) == blob, "byte mismatch"
    assert sid not in p.closed
    # close(): flush (SOCKQ 0), SOCKC
    p.send(b"AT+S.SOCKQ=%d" % sid)
    assert int(p.recv(rb"AT-S\.Query:(\d+)").group(1)) == 0
    p.recv_ok()
    p.cmd_ok(b"AT+S.SOCKC=%d" % sid)
    assert not p.errors, p.errors
