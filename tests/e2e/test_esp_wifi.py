"""ESP-AT dialect, the simulated Wi-Fi station (docs/esp.md §2): networks from
--wifi, the join and its failure codes, the address commands, what is saved and
the auto-join at boot, and the drivers' start-up sequences (Zephyr esp_at,
WiFiEspAT: /work brief esp-drivers.md) answered OK line by line."""
import re

from framework import quick
from test_esp_basic import FINAL, READY, cmd, esp_modem, ok

JOINED = b"WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n"


@quick
def test_esp_wifi_join_codes_and_queries(t):
    m = esp_modem(t, wifi=["home:secret-pass", "cafe", "office:0123456789"])
    assert cmd(m, "AT+CWMODE?") == b"+CWMODE:1\r\n\r\nOK\r\n"
    assert cmd(m, "AT+CWSTATE?") == b'+CWSTATE:0,""\r\n\r\nOK\r\n'
    assert cmd(m, "AT+CWJAP?") == b"No AP\r\n\r\nOK\r\n"
    assert cmd(m, "AT+CIPSTA?") == (b'+CIPSTA:ip:"0.0.0.0"\r\n+CIPSTA:gateway:"0.0.0.0"\r\n'
                                    b'+CIPSTA:netmask:"0.0.0.0"\r\n\r\nOK\r\n')
    # the scan: every network, first the strongest
    assert cmd(m, "AT+CWLAP") == (
        b'+CWLAP:(3,"home",-45,"02:74:6d:00:00:01",1,0,0,4,4,7,0)\r\n'
        b'+CWLAP:(0,"cafe",-51,"02:74:6d:00:00:02",6,0,0,0,0,7,0)\r\n'
        b'+CWLAP:(3,"office",-57,"02:74:6d:00:00:03",11,0,0,4,4,7,0)\r\n\r\nOK\r\n')
    ok(m, "AT+CWLAPOPT=0,23")                    # Zephyr: ecn, ssid, rssi, channel
    assert cmd(m, 'AT+CWLAP="cafe"') == b'+CWLAP:(0,"cafe",-51,6)\r\n\r\nOK\r\n'
    # failures: +CWJAP:<code> then ERROR; the reason in the trace
    assert cmd(m, 'AT+CWJAP="home","wrong-pass"') == b"+CWJAP:2\r\n\r\nERROR\r\n"
    assert cmd(m, 'AT+CWJAP="nowhere","secret-pass"') == b"+CWJAP:3\r\n\r\nERROR\r\n"
    assert cmd(m, 'AT+CWJAP="home","secret-pass","02:74:6d:00:00:09"') == b"+CWJAP:3\r\n\r\nERROR\r\n"
    assert cmd(m, "AT+CWSTATE?") == b'+CWSTATE:4,""\r\n\r\nOK\r\n'
    tr = m.trace_text()
    assert 'wrong password for "home"' in tr and 'no access point "nowhere" in range' in tr, tr[-2000:]
    # an open network takes any password; a WPA2 one its own
    assert cmd(m, 'AT+CWJAP="cafe",""') == JOINED
    assert cmd(m, "AT+CWJAP?") == b'+CWJAP:"cafe","02:74:6d:00:00:02",6,-51,0,1,3,0,1\r\n\r\nOK\r\n'
    assert cmd(m, "AT+CIPSTA?") == (b'+CIPSTA:ip:"192.168.2.100"\r\n+CIPSTA:gateway:"192.168.2.1"\r\n'
                                    b'+CIPSTA:netmask:"255.255.255.0"\r\n\r\nOK\r\n')
    # joining another network leaves this one first
    assert cmd(m, 'AT+CWJAP="office","0123456789"') == b"WIFI DISCONNECT\r\n" + JOINED
    assert cmd(m, "AT+CWSTATE?") == b'+CWSTATE:2,"office"\r\n\r\nOK\r\n'
    assert cmd(m, "AT+CIFSR") == (b'+CIFSR:STAIP,"192.168.3.100"\r\n'
                                  b'+CIFSR:STAMAC,"24:0a:c4:74:6d:01"\r\n\r\nOK\r\n')
    # CWQAP: OK, then the message
    m.send(b"AT+CWQAP\r\n")
    assert m.expect(b"WIFI DISCONNECT\r\n").consumed == b"\r\nOK\r\nWIFI DISCONNECT\r\n"
    assert cmd(m, "AT+CWJAP?") == b"No AP\r\n\r\nOK\r\n"
    # the execute form joins the last network again
    assert cmd(m, "AT+CWJAP") == JOINED
    assert cmd(m, "AT+CWSTATE?") == b'+CWSTATE:2,"office"\r\n\r\nOK\r\n'


@quick
def test_esp_wifi_modes_dhcp_static_mac(t):
    m = esp_modem(t)
    # station off: no join, no scan
    ok(m, "AT+CWMODE=0")
    assert cmd(m, 'AT+CWJAP="tlsmodem","tlsmodem"') == b"\r\nERROR\r\n"
    assert cmd(m, "AT+CWLAP") == b"\r\nERROR\r\n"
    assert "needs station mode" in m.trace_text()
    ok(m, "AT+CWMODE=3")
    assert cmd(m, "AT+CWMODE?") == b"+CWMODE:3\r\n\r\nOK\r\n"
    assert cmd(m, "AT+CWJAP=\"tlsmodem\",\"tlsmodem\"") == JOINED
    assert cmd(m, "AT+CIFSR") == (b'+CIFSR:APIP,"192.168.4.1"\r\n+CIFSR:APMAC,"24:0a:c4:74:6d:02"\r\n'
                                  b'+CIFSR:STAIP,"192.168.1.100"\r\n+CIFSR:STAMAC,"24:0a:c4:74:6d:01"\r\n'
                                  b'\r\nOK\r\n')
    # static address: DHCP off for the station
    assert cmd(m, "AT+CWDHCP?") == b"+CWDHCP:3\r\n\r\nOK\r\n"
    ok(m, 'AT+CIPSTA="192.168.1.77","192.168.1.254","255.255.0.0"')
    assert cmd(m, "AT+CWDHCP?") == b"+CWDHCP:2\r\n\r\nOK\r\n"
    assert cmd(m, "AT+CIPSTA?") == (b'+CIPSTA:ip:"192.168.1.77"\r\n+CIPSTA:gateway:"192.168.1.254"\r\n'
                                    b'+CIPSTA:netmask:"255.255.0.0"\r\n\r\nOK\r\n')
    ok(m, "AT+CWDHCP=1,1")                          # Zephyr's start-up line: DHCP back
    assert cmd(m, "AT+CWDHCP?") == b"+CWDHCP:3\r\n\r\nOK\r\n"
    assert cmd(m, "AT+CIPSTA?").startswith(b'+CIPSTA:ip:"192.168.1.100"\r\n')
    ok(m, "AT+SYSLOG=1")
    assert cmd(m, 'AT+CIPSTA="192.168.1"') == b"ERR CODE:0x01070000\r\n\r\nERROR\r\n"
    # MAC address
    ok(m, 'AT+CIPSTAMAC="1a:fe:35:98:d3:7b"')
    assert cmd(m, "AT+CIPSTAMAC?") == b'+CIPSTAMAC:"1a:fe:35:98:d3:7b"\r\n\r\nOK\r\n'
    for bad in ("15:fe:35:98:d3:7b", "00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "1a:fe:35"):
        assert cmd(m, 'AT+CIPSTAMAC="%s"' % bad) == b"ERR CODE:0x01070000\r\n\r\nERROR\r\n", bad
    # mode off: the station leaves (after the OK)
    m.send(b"AT+CWMODE=2\r\n")
    assert m.expect(b"WIFI DISCONNECT\r\n").consumed == b"\r\nOK\r\nWIFI DISCONNECT\r\n"
    # host name and country (accepted, not saved)
    assert cmd(m, 'AT+CWHOSTNAME="x"') == b"ERR CODE:0x010a0000\r\n\r\nERROR\r\n"     # needs station mode
    ok(m, "AT+CWMODE=1,0")
    assert cmd(m, "AT+CWHOSTNAME?") == b"+CWHOSTNAME:espressif\r\n\r\nOK\r\n"
    ok(m, 'AT+CWHOSTNAME="my_test"')
    assert cmd(m, "AT+CWHOSTNAME?") == b"+CWHOSTNAME:my_test\r\n\r\nOK\r\n"
    assert cmd(m, "AT+CWCOUNTRY?") == b'+CWCOUNTRY:0,"CN",1,13\r\n\r\nOK\r\n'
    ok(m, 'AT+CWCOUNTRY=1,"US",1,11')
    assert cmd(m, "AT+CWCOUNTRY?") == b'+CWCOUNTRY:1,"US",1,11\r\n\r\nOK\r\n'


@quick
def test_esp_wifi_saved_and_auto_join_at_boot(t):
    m = esp_modem(t, wifi=["lab:labpass99"])
    ok(m, "AT+SYSSTORE=0")
    assert cmd(m, 'AT+CWJAP="lab","labpass99"') == JOINED     # not saved
    store = m.store
    m.close()
    m = t.modem(dialect="esp", store=store, extra_args=("--wifi", "lab:labpass99"))
    assert m.expect(READY).consumed == READY
    m.send(b"ATE0\r\n")
    assert m.expect(FINAL).consumed == b"ATE0\r\n\r\nOK\r\n"        # nothing joined by itself
    assert cmd(m, 'AT+CWJAP="lab","labpass99"') == JOINED          # SYSSTORE=1: saved
    m.close()
    m = t.modem(dialect="esp", store=store, extra_args=("--wifi", "lab:labpass99"))
    assert m.expect(b"WIFI GOT IP\r\n").consumed == READY + b"WIFI CONNECTED\r\nWIFI GOT IP\r\n"
    ok(m, "ATE0")
    assert cmd(m, "AT+CWSTATE?") == b'+CWSTATE:2,"lab"\r\n\r\nOK\r\n'
    # AT+RST joins again by itself; AT+CWAUTOCONN=0 (saved at once) stops it
    m.send(b"AT+RST\r\n")
    assert m.expect(b"WIFI GOT IP\r\n").consumed == b"\r\nOK\r\n" + READY + b"WIFI CONNECTED\r\nWIFI GOT IP\r\n"
    ok(m, "ATE0")
    ok(m, "AT+SYSSTORE=0")
    ok(m, "AT+CWAUTOCONN=0")
    assert cmd(m, "AT+CWAUTOCONN?") == b"+CWAUTOCONN:0\r\n\r\nOK\r\n"
    m.send(b"AT+RST\r\n")
    assert m.expect(READY).consumed == b"\r\nOK\r\n" + READY
    m.send(b"AT+CWSTATE?\r\n")
    assert m.expect(FINAL).consumed == b'AT+CWSTATE?\r\n+CWSTATE:0,"lab"\r\n\r\nOK\r\n'
    # switching the station on joins the saved network unless auto_connect is 0
    m.send(b"ATE0\r\n")
    m.expect(FINAL)
    ok(m, "AT+CWMODE=0")
    ok(m, "AT+CWMODE=1,0")
    assert cmd(m, "AT+CWJAP?") == b"No AP\r\n\r\nOK\r\n"
    ok(m, "AT+CWMODE=0")
    m.send(b"AT+CWMODE=1\r\n")
    assert m.expect(b"WIFI GOT IP\r\n").consumed == b"\r\nOK\r\nWIFI CONNECTED\r\nWIFI GOT IP\r\n"
    # the store holds the settings item, written atomically (no temporary file left)
    import os
    files = os.listdir(os.path.join(store, "esp"))
    assert files == ["settings"], files
    text = open(os.path.join(store, "esp", "settings")).read()
    assert "jap_ssid=lab\n" in text and "autoconn=0\n" in text, text


@quick
def test_esp_wifi_zephyr_and_wifiespat_startup(t):
    """The start-up lines of both drivers, in their order, each answered OK."""
    m = t.modem(dialect="esp", extra_args=("--wifi", "zephyr-ap:zephyr-psk"))
    assert m.expect(READY).consumed == READY
    # Zephyr esp_at (esp.c esp_reset + esp_init_work, AT 2.1, FETCH_VERSION)
    m.send(b"AT+RST\r\n")
    assert m.expect(READY).consumed == b"AT+RST\r\n\r\nOK\r\n" + READY
    for line in ("AT", "ATE0"):
        m.send(line.encode() + b"\r\n")
        assert m.expect(FINAL).consumed.endswith(b"\r\nOK\r\n"), line
    for line in ("AT+UART_CUR=115200,8,1,0,0", "AT+GMR", "AT+CWDHCP=1,1", "AT+CWLAPOPT=0,23",
                 "AT+CWMODE=1,0", "AT+CWAUTOCONN=0", "AT+CWMODE=0,0"):
        ok(m, line)
    out = cmd(m, "AT+CIPSTAMAC?")
    assert re.match(rb'\+CIPSTAMAC:"([0-9a-f]{2}:){5}[0-9a-f]{2}"\r\n\r\nOK\r\n$', out), out
    # join: mode switch, then CWJAP with the escaped credentials; the address query
    ok(m, "AT+CWMODE=1,0")
    assert cmd(m, 'AT+CWJAP="zephyr-ap","zephyr-psk"', 20) == JOINED
    lines = cmd(m, "AT+CIPSTA?").split(b"\r\n")
    assert [l.split(b":")[1] for l in lines[:3]] == [b"ip", b"gateway", b"netmask"], lines
    assert cmd(m, "AT+CWJAP?").startswith(b'+CWJAP:"zephyr-ap","02:74:6d:00:00:01",1,')
    m.close()

    # WiFiEspAT (EspAtDrv.cpp reset(), AT2): echo is still on when ATE0 arrives
    m = t.modem(dialect="esp")
    assert m.expect(READY).consumed == READY
    m.send(b"AT+RST\r\n")
    m.expect(READY)
    m.send(b"ATE0\r\n")
    assert m.expect(FINAL).consumed == b"ATE0\r\n\r\nOK\r\n"
    ok(m, "AT+SYSSTORE=0")
    out = cmd(m, "AT+CWMODE?")
    assert out[8:9] == b"1" and out == b"+CWMODE:1\r\n\r\nOK\r\n", out     # the digit at offset 8
    out = cmd(m, "AT+GMR")
    first = out.split(b"\r\n")[0]
    assert first.startswith(b"AT version:") and b"(" in first
    assert cmd(m, 'AT+CWJAP="tlsmodem","tlsmodem"') == JOINED
    # after a command, "?" (its keep-alive) is an error, never busy
    assert cmd(m, "?") == b"\r\nERROR\r\n"
