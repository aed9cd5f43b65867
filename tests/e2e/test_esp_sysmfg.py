"""ESP-AT AT+SYSMFG: certificates and keys in the manufacturing NVS
namespaces, detected (PEM, DER, base64), validated before anything is
written, persisted in the store.  docs/esp.md §5."""
import re

from esp_sock_lib import FINAL_RE, err, esp_modem, load_mfg, ok
from framework import quick, timeout


def _read(m, ns, key, extra=""):
    m.send(('AT+SYSMFG=1,"%s","%s"%s\r\n' % (ns, key, extra)).encode())
    mt = m.expect(re.compile(rb'\+SYSMFG:"([^"]+)","([^"]+)",(\d),(\d+),'), 10)
    n = int(mt.group(4))
    while len(m.buf) < n:
        m._take(m._read_some(10))
    value = bytes(m.buf[:n])
    del m.buf[:n]
    m.expect(b"\r\nOK\r\n", 10)
    return int(mt.group(3)), value


@quick
@timeout(40)
def test_esp_sysmfg_write_read_erase_persist(t):
    store = t.path("esp-mfg-store")
    m = esp_modem(t, store=store)
    pem = t.pki.root.bytes("pem")
    load_mfg(m, "client_ca", "client_ca.0", pem)
    load_mfg(m, "client_ca", "client_ca.1", t.pki.inter.bytes("der"))
    load_mfg(m, "client_ca", "client_ca.2", t.pki.wrong_root.bytes("b64"))
    load_mfg(m, "client_ca", "client_ca.3", t.pki.inter.bytes("pem") + t.pki.root.bytes("pem"))
    assert _read(m, "client_ca", "client_ca.0") == (8, pem)
    assert _read(m, "client_ca", "client_ca.0", ",10,20") == (8, pem[10:30])
    r = ok(m, 'AT+SYSMFG=1,"client_ca"')
    assert r.info('+SYSMFG:"client_ca"') == [b'+SYSMFG:"client_ca","client_ca.%d",8' % i for i in range(4)], r
    assert b'+SYSMFG:"client_ca"' in ok(m, "AT+SYSMFG?").lines
    ok(m, 'AT+SYSMFG=2,"factory_param","uart_baudrate",6,115200')
    assert _read(m, "factory_param", "uart_baudrate") == (6, b"115200")
    ok(m, 'AT+SYSMFG=0,"client_ca","client_ca.1"')
    err(m, 'AT+SYSMFG=1,"client_ca","client_ca.1"')
    m.close()
    m2 = esp_modem(t, store=store, name="again")            # persisted
    assert _read(m2, "client_ca", "client_ca.0") == (8, pem)
    ok(m2, 'AT+SYSMFG=0,"client_ca"')
    assert ok(m2, 'AT+SYSMFG=1,"client_ca"').info('+SYSMFG:"client_ca",') == []


@quick
@timeout(40)
def test_esp_sysmfg_garbage_refused_and_stored_item_kept(t):
    m = esp_modem(t)
    pem = t.pki.root.bytes("pem")
    load_mfg(m, "client_ca", "client_ca.0", pem)
    r = load_mfg(m, "client_ca", "client_ca.0", b"Hello, this is not a certificate at all\n", expect_ok=False)
    assert r.final == b"ERROR", r
    trace = m.trace_text()
    assert re.search(r"reason.*client_ca/client_ca\.0.*not a certificate", trace), trace[-2000:]
    assert _read(m, "client_ca", "client_ca.0") == (8, pem)            # never lost
    # a PEM whose base64 is damaged
    bad = pem.replace(b"\n", b"\n!", 3)
    assert load_mfg(m, "client_ca", "client_ca.0", bad, expect_ok=False).final == b"ERROR"
    # keys: garbage refused, a real key accepted (PEM and DER)
    assert load_mfg(m, "client_key", "client_key.0", b"\x00" * 64, expect_ok=False).final == b"ERROR"
    load_mfg(m, "client_key", "client_key.0", t.pki.client_ec.bytes("key"))
    load_mfg(m, "client_key", "client_key.1", t.pki.client_ec.bytes("key_der"))
    # a certificate namespace does not take numbers
    err(m, 'AT+SYSMFG=2,"client_cert","client_cert.0",1,5')
    # names are NVS names
    err(m, 'AT+SYSMFG=1,"client_ca","a_key_name_longer_than_15"')
    assert ok(m, "AT").ok


@timeout(40)
def test_esp_sysmfg_short_payload_abandoned(t):
    m = esp_modem(t)
    pem = t.pki.root.bytes("pem")
    load_mfg(m, "client_ca", "client_ca.0", pem)
    m.send(b'AT+SYSMFG=2,"client_ca","client_ca.0",8,%d\r\n' % len(pem))
    m.expect(b">", 10)
    m.send(pem[:100])
    mt = m.expect(FINAL_RE, 20)
    assert mt.group(1) == b"ERROR", mt.consumed
    assert "nothing was written" in m.trace_text()
    assert _read(m, "client_ca", "client_ca.0") == (8, pem)


@quick
@timeout(40)
def test_esp_sysmfg_terminal_crlf_overrun_explained_tail_not_run(t):
    m = esp_modem(t)
    pem = t.pki.root.bytes("pem")
    crlf = pem.replace(b"\n", b"\r\n")
    m.send(b'AT+SYSMFG=2,"client_ca","client_ca.0",8,%d\r\n' % len(pem))
    m.expect(b">", 10)
    m.send(crlf, record=False)
    mt = m.expect(FINAL_RE, 20)
    assert mt.group(1) == b"ERROR", mt.consumed
    trace = m.trace_text()
    assert "received CR LF line ends: announced %d bytes, the PEM needs %d" % (len(pem), len(crlf)) in trace, \
        trace[-2000:]
    r = ok(m, "AT")                        # the tail of the PEM was not run as command lines
    assert r.lines == [b"OK"], r
    err(m, 'AT+SYSMFG=1,"client_ca","client_ca.0"')       # nothing written
    load_mfg(m, "client_ca", "client_ca.0", crlf)         # announced with its real size: fine
