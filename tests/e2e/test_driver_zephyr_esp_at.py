"""Conformance: Zephyr's drivers/wifi/esp_at (net_offload driver for ESP-AT
2.1, Kconfig default WIFI_ESP_AT_VERSION_2_1) as it runs against the module:
its command strings in its order, every answer checked by an emulation of
its modem_cmd_handler matchers (espemu.ZephyrEspAt), then a socket carrying
a verified TLS session, 1 KiB and 1 MiB byte-exact in both directions, and
close.  The command strings and their sources are listed with references in
../_brief/esp-drivers.md; here each step names the driver function.

Zephyr does not offload TLS to this driver: its sockets layer runs mbedTLS on
the host over the offloaded TCP context (AT+CIPSTART=<id>,"TCP",<ip>,<port>,7200),
with the CA registered on the host (tls_credential_add) and the host name as
SNI/verification name (TLS_HOSTNAME).  The emulation does the same with
Python's ssl over memory BIOs, verified against the test root, so every TLS
record crosses the modem through AT+CIPSEND and +IPD / AT+CIPRECVDATA.
The driver resolves names itself (DNS over UDP links to the AT+CIPDNS?
servers); the test connects to the IP literal, as the driver's CIPSTART does.

Configurations (Kconfig): active receive (+IPD with the data) and passive
receive (WIFI_ESP_AT_PASSIVE_MODE: +IPD notices, AT+CIPRECVDATA), each with
and without CIPDINFO_USE (the quoted remote address in +IPD / +CIPRECVDATA);
FETCH_VERSION and DNS_USE on.  A server that closes after sending checks that
every byte comes before <id>,CLOSED (the driver drops data after it)."""
import os
import time

import esp
from espemu import DriverFailure, ZephyrEspAt
from framework import timeout
from test_hl_tcp import peer

HOST = "www.coursera.test"
LINK = 0                      # esp_socket_get: the first free socket, link_id == index


def _boot(t, passive, cipdinfo):
    p = peer(t, "echo", cert=t.pki.coursera)
    m = esp.modem(t)
    z = ZephyrEspAt(m, passive=passive, cipdinfo=cipdinfo)
    z.reset()                 # esp_reset: AT+RST, 'ready' within CONFIG_WIFI_ESP_AT_RESET_TIMEOUT
    z.init()                  # esp_init_work setup_cmds[] (each must answer OK)
    assert z.versions.get(b"AT version:"), "AT+GMR gave no 'AT version:' line: %r" % z.log[-12:]
    z.connect_ap(esp.SSID, esp.PSK)     # esp_mgmt_connect_work + esp_ip_addr_work
    assert z.sta_connected and z.got_ip, "no WIFI CONNECTED / WIFI GOT IP: %r" % z.log[-10:]
    assert z.ip.get(b"ip") and z.ip[b"ip"] != b"0.0.0.0", z.ip
    assert z.dns, "AT+CIPDNS? gave no server (DNS_USE)"
    st = z.iface_status()               # `wifi status`: esp_mgmt_iface_status
    assert st.get("ssid") == esp.SSID and -100 < st["rssi"] < 0 and 1 <= st["channel"] <= 14, st
    return m, z, p


def _tls(t, z):
    """The host-side TLS session over link LINK, pumping the driver."""
    deadline = [time.monotonic() + 30]

    def recv(wait):
        z.poll(wait)                   # the RX thread: URCs, active +IPD payloads
        if z.passive:
            z.recvdata_work()          # the work queue runs the queued AT+CIPRECVDATA
        d = bytes(z.rx[LINK])
        z.rx[LINK].clear()
        if not d and wait:
            if LINK in z.closed:
                raise DriverFailure("link %d closed by the module (<id>,CLOSED) mid-session" % LINK)
            if time.monotonic() > deadline[0]:
                raise DriverFailure("no data from link %d for 30 s" % LINK)
        else:
            deadline[0] = time.monotonic() + 30
        return d

    return esp.HostTls(t.pki.root.pem, HOST, lambda rec: z.sock_send(LINK, rec), recv), deadline


def _run(t, passive, cipdinfo, sizes=(1024, 1 << 20)):
    m, z, p = _boot(t, passive, cipdinfo)
    z.sock_connect(LINK, "127.0.0.1", p.port)          # _sock_connect
    tls, deadline = _tls(t, z)
    tls.handshake()
    assert tls.obj.version(), "no TLS session"
    for size in sizes:
        blob = os.urandom(size)
        got = bytearray()
        for i in range(0, size, 1024):
            # one TLS record per 1 KiB write; each record (<= ESP_MTU) is one AT+CIPSEND
            tls.write(blob[i:i + 1024])
            if tls.feed(0):
                got += tls.read_available()
        while len(got) < size:
            tls.feed()
            got += tls.read_available()
        assert bytes(got) == blob, "byte mismatch at %d of %d" % (next(
            (i for i in range(min(len(got), size)) if got[i] != blob[i]), min(len(got), size)), size)
    # the receive mode really was the configured one
    if passive:
        assert z.n_recvdata and z.n_ipd_notice and not z.n_ipd_data, (z.n_recvdata, z.n_ipd_notice, z.n_ipd_data)
    else:
        assert z.n_ipd_data and not z.n_recvdata and not z.n_ipd_notice, (z.n_ipd_data, z.n_recvdata)
    t.log("CIPSEND %d, +IPD data %d, +IPD notices %d, CIPRECVDATA %d (ERROR %d)" % (
        z.n_send, z.n_ipd_data, z.n_ipd_notice, z.n_recvdata, z.rx_errors))
    tls.close_notify()
    z.sock_close(LINK)                                  # esp_put -> esp_socket_close
    # after the close, the module must still answer the driver's plain commands
    z.send_cmd(b"AT")


@timeout(240)
def test_zephyr_esp_at_active_cipdinfo_tls_1k_1m(t):
    _run(t, passive=False, cipdinfo=True)


@timeout(240)
def test_zephyr_esp_at_active_plain_tls_1k_1m(t):
    _run(t, passive=False, cipdinfo=False)


@timeout(240)
def test_zephyr_esp_at_passive_cipdinfo_tls_1k_1m(t):
    _run(t, passive=True, cipdinfo=True)


@timeout(240)
def test_zephyr_esp_at_passive_plain_tls_1k_1m(t):
    _run(t, passive=True, cipdinfo=False)


@timeout(60)
def test_zephyr_esp_at_wrong_psk_fails_cleanly(t):
    """esp_mgmt_connect_work with a wrong key: the "FAIL" handler (or ERROR)
    must end AT+CWJAP within ESP_CONNECT_TIMEOUT, and the driver's next
    command is answered."""
    m = esp.modem(t)
    z = ZephyrEspAt(m)
    z.reset()
    z.init()
    try:
        z.connect_ap(esp.SSID, b"not the key")
    except DriverFailure as e:
        # FAIL / ERROR end the command at once; a timeout would mean the driver hung 20 s
        assert "timeout" not in str(e), e
    else:
        raise AssertionError("AT+CWJAP with a wrong key answered OK")
    assert not z.got_ip
    z.send_cmd(b"AT")


def _server_closes(t, passive):
    """The server sends 64 KiB and closes.  On <id>,CLOSED the driver clears
    ESP_SOCK_CONNECTED (esp.c on_cmd_closed) and esp_socket_rx drops whatever
    comes later, so every byte must reach the host before CLOSED: as +IPD
    payloads (active) or read with AT+CIPRECVDATA (passive)."""
    payload = os.urandom(64 * 1024)
    p = peer(t, "send", cert=t.pki.coursera, payload=payload, close=True)
    m = esp.modem(t)
    z = ZephyrEspAt(m, passive=passive, cipdinfo=True)
    z.reset()
    z.init()
    z.connect_ap(esp.SSID, esp.PSK)
    z.sock_connect(LINK, "127.0.0.1", p.port)
    tls, deadline = _tls(t, z)
    tls.handshake()
    got = bytearray()
    while len(got) < len(payload) and LINK not in z.closed:
        tls.feed()
        got += tls.read_available()
    # what is still buffered in the emulation arrived before CLOSED
    tls.inc.write(bytes(z.rx[LINK]))
    z.rx[LINK].clear()
    got += tls.read_available()
    assert z.dropped == 0, "%d bytes came after <id>,CLOSED (dropped by the driver)" % z.dropped
    assert bytes(got) == payload, "got %d of %d bytes before CLOSED" % (len(got), len(payload))
    deadline = time.monotonic() + 10
    while LINK not in z.closed:
        assert time.monotonic() < deadline, "no <id>,CLOSED after the server closed"
        z.poll(0.1)
        z.recvdata_work()
    z.sock_close(LINK)                  # esp_put: no AT+CIPCLOSE after CLOSED
    z.send_cmd(b"AT")


@timeout(60)
def test_zephyr_esp_at_active_server_closes_after_data(t):
    _server_closes(t, passive=False)


@timeout(60)
def test_zephyr_esp_at_passive_server_closes_after_data(t):
    _server_closes(t, passive=True)
