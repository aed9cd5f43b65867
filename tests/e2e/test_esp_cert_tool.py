"""tlsmodem-cert at-script / probe --dialect esp (docs/cert-tool.md): the
exact AT+SYSMFG bytes (PEM, count of the bytes that follow the command's
CR LF) and AT+CIPSSLCCONF; the script fed to a fresh --dialect esp modem
loads the root and an HTTPS GET with AT+HTTPCLIENT then succeeds."""
import os
import re
import subprocess

from framework import timeout
from test_cert_tool import HOST, PAGE, run, sni_nginx, std
from test_esp_http import answer, esp_modem


@timeout(60)
def test_esp_cert_at_script_formats(t):
    root = std(t).root
    pem = root.bytes("pem")
    s = run(t, "at-script", root.der, "--dialect", "esp", check_rc=0).stdout
    assert s == (b'AT+SYSMFG=2,"client_ca","client_ca.0",8,%d\r\n' % len(pem) + pem +
                 b"AT+CIPSSLCCONF=2,0,0\r\n"), s[:120]
    s = run(t, "at-script", root.b64, "--dialect", "esp", "--index", "3", check_rc=0).stdout
    assert s == (b'AT+SYSMFG=2,"client_ca","client_ca.3",8,%d\r\n' % len(pem) + pem +
                 b"AT+CIPSSLCCONF=2,0,3\r\n"), s[:120]
    # a bundle of two: one item, both certificates
    both = std(t).inter.bytes("pem") + pem
    bundle = t.path("two.pem")
    with open(bundle, "wb") as f:
        f.write(both)
    s = run(t, "at-script", bundle, "--dialect", "esp", check_rc=0).stdout
    assert s.startswith(b'AT+SYSMFG=2,"client_ca","client_ca.0",8,%d\r\n' % len(both)), s[:80]
    # client credentials
    c = std(t).client_ec
    s = run(t, "at-script", c.pem, "--dialect", "esp", "--as", "client-cert", check_rc=0).stdout
    assert s == b'AT+SYSMFG=2,"client_cert","client_cert.0",8,%d\r\n' % len(c.bytes("pem")) + c.bytes("pem")
    s = run(t, "at-script", c.key, "--dialect", "esp", "--as", "client-key", "--index", "1", check_rc=0).stdout
    head, _, rest = s.partition(b"\r\n")
    m = re.match(rb'AT\+SYSMFG=2,"client_key","client_key\.1",8,(\d+)$', head)
    assert m and rest[int(m.group(1)):] == b"AT+CIPSSLCCONF=3,1,0\r\n", s[:120]
    assert rest.startswith(b"-----BEGIN ")
    p = run(t, "at-script", root.pem, "--dialect", "xyz", check_rc=2)
    assert b"expected hl, spwf or esp" in p.stderr


@timeout(90)
def test_esp_cert_at_script_piped_then_httpclient_get(t):
    ng = sni_nginx(t)
    resolve = "%s:%d:127.0.0.1" % (HOST, ng.port)
    store = t.path("esp-piped-store")
    os.makedirs(store)
    script = run(t, "at-script", std(t).root.pem, "--dialect", "esp", check_rc=0).stdout
    p = subprocess.run([t.bin, "--stdio", "--dialect", "esp", "--store", store, "--ca-bundle", "none"],
                       input=script, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    t.log("piped modem: %r %r" % (p.stdout, p.stderr))
    assert p.returncode == 0, p.stderr
    assert p.stdout.count(b"\r\nOK\r\n") == 3 and b"ERROR" not in p.stdout, p.stdout
    url = "https://%s:%d/" % (HOST, ng.port)
    m = esp_modem(t, store=store, resolve=[resolve])
    m.send_line('AT+HTTPCLIENT=2,0,"%s",,,2' % url)
    a = answer(m, "+HTTPCLIENT")
    assert a.final == "OK" and bytes(a.body) == PAGE, a
    # a fresh store without the root: refused (the script did the work)
    m2 = esp_modem(t, resolve=[resolve], name="m2")
    m2.send_line('AT+HTTPCLIENT=2,0,"%s",,,2' % url)
    assert answer(m2, "+HTTPCLIENT").final == "ERROR"


@timeout(90)
def test_esp_cert_probe_script_loads_root(t):
    ng = sni_nginx(t)
    resolve = "%s:%d:127.0.0.1" % (HOST, ng.port)
    out = run(t, "probe", "%s:%d" % (HOST, ng.port), "--resolve", resolve, "--ca-bundle", std(t).root.pem,
              "--dialect", "esp", check_rc=0).stdout.decode()
    m = re.search(r'AT\+SYSMFG=2,"client_ca","client_ca\.0",8,(\d+)<CR><LF>\n'
                  r"(-----BEGIN CERTIFICATE-----\n.*?-----END CERTIFICATE-----\n)AT\+CIPSSLCCONF=2,0,0<CR><LF>",
                  out, re.S)
    assert m and int(m.group(1)) == len(m.group(2)), out
    script = run(t, "probe", "%s:%d" % (HOST, ng.port), "--resolve", resolve, "--ca-bundle", std(t).root.pem,
                 "--dialect", "esp", "--script", check_rc=0).stdout
    assert script.startswith(b'AT+SYSMFG=2,"client_ca","client_ca.0",8,'), script[:60]
    md = esp_modem(t, resolve=[resolve])
    head, _, rest = script.partition(b"\r\n")
    md.send(head + b"\r\n")
    md.expect("OK\r\n\r\n>")
    md.send(rest)
    md.expect("\r\nOK\r\n")        # the item
    md.expect("\r\nOK\r\n")        # AT+CIPSSLCCONF
    md.send_line('AT+HTTPCLIENT=2,0,"https://%s:%d/",,,2' % (HOST, ng.port))
    a = answer(md, "+HTTPCLIENT")
    assert a.final == "OK" and bytes(a.body) == PAGE, a
