"""SPWF04 start-up as the vendor's host code expects it: the full
configuration-variable table (stored, read back, ranges), AT+S.STS with every
status variable incl. fw_version, AT+S.PEERS, AT+S.WIFI=0/1 with their +WIND,
AT+S.RESET and the boot +WIND sequence, and the echo framing (the echoed
command is a complete CR LF line before the answer)."""
import re

from framework import quick
from test_spwf_lib import cmd, err, ok, spwf_modem

BOOT = [b"+WIND:1:Poweron:", b"+WIND:13:Copyright", b"+WIND:0:Console active\r\n",
        b"+WIND:3:Watchdog Running:20\r\n", b"+WIND:32:WiFi Hardware Started\r\n",
        b"+WIND:24:WiFi Up:0:127.0.0.1\r\n"]


def _in_order(blob, parts):
    pos = 0
    for p in parts:
        i = blob.find(p, pos)
        assert i >= 0, "%r not found in order in %r" % (p, blob)
        pos = i + len(p)


def _vars(r):
    out = {}
    for l in r.info("AT-S.Var:"):
        k, _, v = l[len(b"AT-S.Var:"):].partition(b"=")
        out[k.decode()] = v.decode()
    return out


@quick
def test_boot_sequence_and_reset(t):
    m = t.modem(dialect="spwf")
    boot = m.expect(b"+WIND:24:WiFi Up:0:127.0.0.1\r\n", 10).consumed
    _in_order(boot, BOOT)
    ok(m, "AT+S.SCFG=blink_led,0")
    r = ok(m, "AT+S.RESET")
    tail = m.expect(b"+WIND:24:WiFi Up:0:127.0.0.1\r\n", 10).consumed
    _in_order(r.text + tail, BOOT)
    # RESET reloads the saved configuration: blink_led was not saved
    assert _vars(ok(m, "AT+S.GCFG=blink_led")) == {"blink_led": "1"}
    ok(m, "AT+S.SCFG=blink_led,0")
    ok(m, "AT+S.WCFG")
    ok(m, "AT+S.RESET")
    m.expect(b"+WIND:32:WiFi Hardware Started\r\n", 10)
    assert _vars(ok(m, "AT+S.GCFG=blink_led")) == {"blink_led": "0"}
    # idle mode: no WiFi Up after the reset
    ok(m, "AT+S.SCFG=wifi_mode,0")
    r = ok(m, "AT+S.RESET")
    tail = m.expect(b"+WIND:32:WiFi Hardware Started\r\n", 10)
    assert b"WiFi Up" not in r.text + tail.consumed


@quick
def test_full_variable_table_stored_read_back_with_ranges(t):
    m = spwf_modem(t)
    table = _vars(ok(m, "AT+S.GCFG"))
    for name in ("blink_led", "ip_use_dhcpc", "wifi_tx_power", "console_echo", "console_errs",
                 "wifi_opr_rate_mask", "wifi_ht_mode", "wifi_mode", "console_hwfc", "nv_wifi_macaddr",
                 "nv_model", "standby_time", "sleep_enabled", "wifi_powersave", "ip_hostname",
                 "ip_ipaddr", "wifi_wpa_psk_text", "wifi_priv_mode", "wifi_reg_country"):
        assert name in table, name
    assert len(table) >= 80, len(table)
    assert table["console_echo"] == "0" and table["blink_led"] == "1" and table["wifi_tx_power"] == "18"
    # every writable variable takes a value in its range and reads it back
    samples = {"blink_led": "0", "ip_use_dhcpc": "2", "wifi_tx_power": "10", "wifi_channelnum": "11",
               "wifi_opr_rate_mask": "0x0000000F", "ip_hostname": "my-device", "standby_time": "60",
               "wifi_wep_keys[0]": "0123456789", "ip_ntp_server1": "time.example"}
    for k, v in samples.items():
        ok(m, "AT+S.SCFG=%s,%s" % (k, v))
        assert _vars(ok(m, "AT+S.GCFG=%s" % k)) == {k: v}, k
    # out of range, not a number, too long, read-only: refused with a reason, value unchanged
    err(m, "AT+S.SCFG=wifi_tx_power,19", 8, [r"wifi_tx_power", r"0\.\.18"])
    err(m, "AT+S.SCFG=blink_led,2", 8, r"blink_led")
    err(m, "AT+S.SCFG=ip_use_dhcpc,x", 7, r"not a number")
    err(m, "AT+S.SCFG=wifi_opr_rate_mask,0x1FFFFFFFF", 8, r"32 bits")
    err(m, "AT+S.SCFG=ip_hostname," + "h" * 40, 8, r"at most 32")
    err(m, "AT+S.SCFG=nv_wifi_macaddr,00:11:22:33:44:55", 18, r"factory value")
    err(m, "AT+S.SCFG=no_such_var,1", 7, r"no_such_var")
    now = _vars(ok(m, "AT+S.GCFG"))
    assert now["wifi_tx_power"] == "10" and now["blink_led"] == "0"
    assert now["nv_wifi_macaddr"] == table["nv_wifi_macaddr"]
    ok(m, "AT+S.FCFG")
    assert _vars(ok(m, "AT+S.GCFG")) == table


@quick
def test_sts_peers_wifi(t):
    m = spwf_modem(t)
    sts = _vars(ok(m, "AT+S.STS"))
    for name in ("fw_version", "wifi_state", "ip_ipaddr", "ip_gw", "ip_netmask", "free_heap", "current_time",
                 "version", "time", "clock_source", "sockets"):
        assert name in sts, name
    assert re.fullmatch(r"1\.1\.0-\S+", sts["fw_version"]), sts["fw_version"]
    assert sts["wifi_state"] == "10"
    assert _vars(ok(m, "AT+S.STS=fw_version")) == {"fw_version": sts["fw_version"]}
    err(m, "AT+S.STS=nope", 7, r"nope")
    # the mbed driver's getRssi()
    r = ok(m, "AT+S.PEERS=0,rx_rssi")
    assert r.lines == [b"AT-S.Var:0.rx_rssi=-48", b"AT-S.OK"], r.text
    assert "0.addr" in _vars(ok(m, "AT+S.PEERS"))
    err(m, "AT+S.PEERS=1,rx_rssi", 7, r"only peer 0")
    err(m, "AT+S.PEERS=0,nope", 7, r"nope")
    # radio off: +WIND:38, no peer, wifi_state 0; again: an error
    r = ok(m, "AT+S.WIFI=0")
    m.expect(b"+WIND:38:WiFi Powered Down\r\n", 5)
    assert _vars(ok(m, "AT+S.STS=wifi_state")) == {"wifi_state": "0"}
    err(m, "AT+S.PEERS=0,rx_rssi", 13, r"not running")
    err(m, "AT+S.WIFI=0", 13, r"not running")
    ok(m, "AT+S.WIFI=1")
    m.expect(b"+WIND:32:WiFi Hardware Started\r\n", 5)
    m.expect(b"+WIND:24:WiFi Up:0:127.0.0.1\r\n", 5)
    assert ok(m, "AT+S.PEERS=0,rx_rssi").info("AT-S.Var:0.rx_rssi=")


@quick
def test_echo_framing_is_a_complete_line(t):
    """console_echo 1: the command comes back as typed followed by CR LF (also
    when the host ends lines with CR LF), then the answer lines; a host that
    reads lines and skips its own command finds the answer."""
    m = spwf_modem(t)
    ok(m, "AT+S.SCFG=console_echo,1")
    for term in (b"\r", b"\r\n", b"\n"):
        m.send(b"AT+S.GCFG=blink_led" + term)
        r = m.expect(re.compile(rb"AT-S\.OK\r\n"), 5)
        assert r.consumed == b"AT+S.GCFG=blink_led\r\nAT-S.Var:blink_led=1\r\nAT-S.OK\r\n", (term, r.consumed)
        lines = r.consumed.split(b"\r\n")
        assert lines[0] == b"AT+S.GCFG=blink_led" and lines[1].startswith(b"AT-S.Var:")
    m.send(b"AT+S.SCFG=console_echo,0\r")
    m.expect(b"AT+S.SCFG=console_echo,0\r\nAT-S.OK\r\n", 5)
    assert cmd(m, "AT").text == b"AT-S.OK\r\n"


@quick
def test_pending_data_masked_then_announced_when_unmasked(t):
    """The mbed driver masks every +WIND around AT+S.SOCKR: data that arrives
    meanwhile is announced (+WIND:55) as soon as the mask drops, never lost."""
    from test_hl_tcp import peer
    srv = peer(t, "echo")
    m = spwf_modem(t)
    r = ok(m, "AT+S.SOCKON=127.0.0.1,%d,NULL,t" % srv.port)
    sid = int(r.info("AT-S.On:")[0].split(b":")[-1])
    ok(m, "AT+S.SCFG=console_wind_off_medium,0xFFFFFFFF")
    ok(m, "AT+S.SOCKW=%d,5" % sid, data=b"hello")
    # the echo arrives while +WIND:55 is masked: nothing is announced ...
    for _ in range(50):
        q = ok(m, "AT+S.SOCKQ=%d" % sid)
        if q.info("AT-S.Query:5"):
            break
    assert q.info("AT-S.Query:5"), q.text
    assert b"+WIND:55" not in q.text
    # ... until the mask drops (SOCKQ does not clear the pending announcement)
    r = ok(m, "AT+S.SCFG=console_wind_off_medium,0x00000000")
    m.expect(b"+WIND:55:Pending Data::%d:5:5\r\n" % sid, 5)
