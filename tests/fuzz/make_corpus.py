#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets (tests/fuzz/corpus/<target>/).

Run once; the files are committed.  Re-running replaces the seeds named
here (regression inputs, named regress-*, are never touched).  The PKI is
generated with the openssl command line into a temporary directory: a small
EC P-256 root, an intermediate and a leaf with SANs, their keys, an RSA-1024
leaf (small on purpose: seeds stay short).  Command transcripts follow the
end-to-end tests (tests/e2e/)."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_pki(d):
    cnf = os.path.join(d, "ext.cnf")
    with open(cnf, "w") as f:
        f.write("[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
                "subjectKeyIdentifier=hash\n"
                "[leaf]\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n"
                "subjectAltName=DNS:www.example.test,DNS:*.example.test,IP:127.0.0.1\n"
                "authorityKeyIdentifier=keyid\n")
    for k in ("root", "inter", "leaf"):
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", k + ".key", cwd=d)
    openssl("req", "-x509", "-new", "-key", "root.key", "-subj", "/CN=Fuzz Root", "-days", "3650",
            "-extensions", "ca", "-config", cnf, "-out", "root.pem", cwd=d)
    openssl("req", "-new", "-key", "inter.key", "-subj", "/CN=Fuzz Inter", "-out", "inter.csr", cwd=d)
    openssl("x509", "-req", "-in", "inter.csr", "-CA", "root.pem", "-CAkey", "root.key", "-set_serial", "2",
            "-days", "3650", "-extfile", cnf, "-extensions", "ca", "-out", "inter.pem", cwd=d)
    openssl("req", "-new", "-key", "leaf.key", "-subj", "/CN=www.example.test", "-out", "leaf.csr", cwd=d)
    openssl("x509", "-req", "-in", "leaf.csr", "-CA", "inter.pem", "-CAkey", "inter.key", "-set_serial", "3",
            "-days", "365", "-extfile", cnf, "-extensions", "leaf", "-out", "leaf.pem", cwd=d)
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", "rsa.key", cwd=d)
    openssl("req", "-x509", "-new", "-key", "rsa.key", "-subj", "/CN=rsa.example.test", "-days", "365",
            "-out", "rsa.pem", cwd=d)
    openssl("ec", "-in", "leaf.key", "-out", "leaf-sec1.key", cwd=d)
    for k in ("root", "leaf", "rsa"):
        openssl("x509", "-in", k + ".pem", "-outform", "DER", "-out", k + ".der", cwd=d)
    openssl("pkey", "-in", "leaf.key", "-outform", "DER", "-out", "leaf.key.der", cwd=d)
    r = {}
    for f in os.listdir(d):
        with open(os.path.join(d, f), "rb") as fh:
            r[f] = fh.read()
    return r


def at_seed(flags, seed, text):
    """flags byte, 4 seed bytes, then what the host sends."""
    return bytes([flags]) + seed.to_bytes(4, "little") + text


def served(flags, seed, resp, text):
    """As at_seed, with a fake server: flags bit 2, 2-byte length, its bytes."""
    return bytes([flags | 4]) + seed.to_bytes(4, "little") + len(resp).to_bytes(2, "little") + resp + text


def main():
    with tempfile.TemporaryDirectory() as d:
        pki = make_pki(d)
    import base64
    crlf = lambda b: b.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    chain = pki["leaf.pem"] + pki["inter.pem"]

    # ---- certfmt: byte 0 bit 0 = key --------------------------------------
    put("certfmt", "root-pem", b"\0" + pki["root.pem"])
    put("certfmt", "chain-pem-crlf", b"\0" + crlf(chain))
    put("certfmt", "leaf-der", b"\0" + pki["leaf.der"])
    put("certfmt", "rsa-der", b"\0" + pki["rsa.der"])
    put("certfmt", "root-base64", b"\0" + base64.b64encode(pki["root.der"]))
    put("certfmt", "text-around-pem", b"\0subject=CN = Fuzz Root\n" + pki["root.pem"] + b"trailing\n")
    put("certfmt", "key-pkcs8-pem", b"\1" + pki["leaf.key"])
    put("certfmt", "key-sec1-pem", b"\1" + pki["leaf-sec1.key"])
    put("certfmt", "key-der", b"\1" + pki["leaf.key.der"])
    put("certfmt", "key-rsa-pem", b"\1" + pki["rsa.key"])
    put("certfmt", "garbage", b"\0Hello, world\r\n")

    # ---- AT, HL ------------------------------------------------------------
    cert = crlf(pki["root.pem"])
    key = crlf(pki["leaf.key"])
    hl = {
        "basics": b"AT\r\nATE0\r\nATI\r\nAT+CMEE=2\r\nAT+CMEE?\r\nAT+KPATTERN?\r\nATS12?\r\nAT&K3;+CGATT?\r\n"
                  b"AT+CCLK?\r\nATV0\r\nAT\r\nATV1\r\nATZ\r\n",
        "bad-input": "AT+KCNXCFG=1,“GPRS”,“MYAPN”\r\nAT+KCERTDELETE=0\xff\r\nAT+\r\nAT+=\r\n"
                     "AT+KCERTSTORE=x\r\nAT+KCERTSTORE=0,99999999\r\nhello\r\nAT\x08\x08AT\r\n".encode(),
        "kcertstore": b"AT+CMEE=2\r\nAT+KCERTSTORE=0,%d,0\r\n" % len(cert) + cert +
                      b"AT+KCERTSTORE?\r\nAT+TMCERTLIST\r\nAT+KCERTDELETE=0,0\r\n",
        "kprivkstore": b"AT+KCERTSTORE=1,%d,0\r\n" % len(crlf(pki["leaf.pem"])) + crlf(pki["leaf.pem"]) +
                       b"AT+KPRIVKSTORE=0,%d\r\n" % len(key) + key + b"AT+KCERTSTORE?\r\n",
        "https": b"AT+CMEE=2\r\nAT+KHTTPSCFG=1,\"www.example.test\",443,2,,,2\r\nAT+KHTTPSCFG?\r\n"
                 b"AT+KHTTPSHEADER=1\r\nAccept: */*\r\n--EOF--Pattern--AT+KHTTPSGET=1,\"/\"\r\n"
                 b"AT+KHTTPSCNX=1\r\nAT+KHTTPSPOST=1,\"/upload\"\r\nhello--EOF--Pattern--"
                 b"AT+KHTTPSCLOSE=1\r\nAT+KHTTPSDEL=1\r\n",
        "tcp": b"AT+KCNXCFG=1,\"GPRS\",\"apn\"\r\nAT+KTCPCFG=1,3,\"www.example.test\",443,,,,2\r\nAT+KTCPCFG?\r\n"
               b"AT+KTCPCNX=1\r\nAT+KTCPSND=1,5\r\nhello--EOF--Pattern--AT+KTCPSTAT=1\r\nAT+KTCPRCV=1,10\r\n"
               b"AT+KTCPSTART=1\r\nabc+++AT+KTCPCLOSE=1,1\r\nAT+KTCPDEL=1\r\n",
        "pin-probe": b"AT+TMPIN=1,\"" + b"a" * 64 + b"\"\r\nAT+TMPIN?\r\nAT+TMPROBE=\"www.example.test\",443\r\n"
                     b"AT+KPATTERN=\"--END--\"\r\nAT+KPATTERN?\r\n",
    }
    for i, (name, text) in enumerate(sorted(hl.items())):
        put("at_hl", name, at_seed(0, i, text))
    put("at_hl", "https-nodrain", at_seed(1, 7, hl["https"]))

    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n"
               b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    put("at_hl", "served-https-get", served(0, 11, ok, b"AT+CMEE=2\r\nAT+KHTTPSCFG=1,\"www.example.test\",443,0\r\n"
                                                     b"AT+KHTTPSGET=1,\"/\"\r\n"))
    put("at_hl", "served-https-chunked-head", served(0, 12, chunked,
        b"AT+KHTTPSCFG=1,\"www.example.test\",443,2,,,2\r\nAT+KHTTPSHEADER=1\r\nX-A: b\r\n--EOF--Pattern--"
        b"AT+KHTTPSGET=1,\"/\",1\r\n"))
    put("at_hl", "served-tcp", served(0, 13, b"220 hello from the server\r\n" * 4,
        b"AT+KTCPCFG=1,3,\"www.example.test\",443,,,,2\r\nAT+KTCPCNX=1\r\nAT+KTCPRCV=1,20\r\n"
        b"AT+KTCPSND=1,5\r\nhello--EOF--Pattern--AT+KTCPSTAT=1\r\nAT+KTCPRCV=1,200\r\n"))
    put("at_hl", "served-tcp-start", served(0, 14, b"abc" * 100,
        b"AT+KTCPCFG=1,0,\"www.example.test\",80\r\nAT+KTCPSTART=1\r\nGET / HTTP/1.0\r\n\r\n"))

    # ---- AT, SPWF ----------------------------------------------------------
    sp = {
        "basics": b"AT\rAT+S.GCFG=console_errs\rAT+S.SCFG=console_echo,0\rAT+S.SCFG=no_such_var,1\r"
                  b"AT+S.STS\rAT+S.STS=version\rAT+S.HELP\rAT+S.TIME\rAT+S.NOSUCH\rAT+S.WCFG\rAT+S.RESET\r",
        "files": b"AT+S.FSC=/hello.txt,5\rhelloAT+S.FSA=hello.txt,6\r world\rAT+S.FSL\rAT+S.FSP=hello.txt\r"
                 b"AT+S.FSP=hello.txt,6,3\rAT+S.FSR=hello.txt,bye.txt\rAT+S.FSD=bye.txt\r"
                 b"AT+S.FSC=short.txt,10\r12345",
        "tlscert": b"AT+S.TLSCERT=ca,%d\r" % len(cert) + cert + b"AT+S.TLSCERT=cert,%d\r" % len(pki["leaf.pem"]) +
                   pki["leaf.pem"] + b"AT+S.TLSCERT=key,%d\r" % len(pki["leaf.key"]) + pki["leaf.key"] +
                   b"AT+S.TMCERTLIST\rAT+S.TLSCERT=content,1\r",
        "fs-ca": b"AT+S.FSC=/root.ca,%d\r" % len(cert) + cert + b"AT+S.SOCKON=www.example.test,443,NULL,root.ca\r"
                 b"AT+S.TMCERTLIST\r",
        "sock": b"AT+S.SOCKON=www.example.test,443,NULL,s\rAT+S.SOCKON=127.0.0.1,7,NULL,t\r"
                b"AT+S.SOCKON=127.0.0.1,7,NULL,u\rAT+S.SOCKL\rAT+S.SOCKW=0,5\rhelloAT+S.SOCKQ=0\r"
                b"AT+S.SOCKR=0,5\rAT+S.SOCKC=0\r",
        "http": b"AT+S.HTTPGET=www.example.test,/,443,2,,,index.html,\r"
                b"AT+S.FSC=post.json,2\r{}AT+S.HTTPPOST=www.example.test,/upload,443,2,,,post.json,answer.bin\r"
                b"AT+S.TMPROBE=www.example.test,443\r",
    }
    for i, (name, text) in enumerate(sorted(sp.items())):
        put("at_spwf", name, at_seed(0, i, text))
    put("at_spwf", "files-random-drain", at_seed(2, 9, sp["files"]))
    put("at_spwf", "served-httpget", served(0, 21, ok, b"AT+S.HTTPGET=www.example.test,/,443,2,,,index.html,\r"
                                                      b"AT+S.FSL\rAT+S.FSP=index.html\r"))
    put("at_spwf", "served-httpget-chunked", served(0, 22, chunked, b"AT+S.HTTPGET=www.example.test,/x,443,2\r"))
    put("at_spwf", "served-sock", served(0, 23, b"220 hello from the server\r\n" * 4,
        b"AT+S.SOCKON=www.example.test,443,NULL,s\rAT+S.SOCKQ=0\rAT+S.SOCKR=0,10\rAT+S.SOCKW=0,3\rabc"
        b"AT+S.SOCKR=0\rAT+S.SOCKL\rAT+S.SOCKC=0\r"))
    put("at_spwf", "served-udp", served(0, 24, b"datagram",
        b"AT+S.SOCKON=127.0.0.1,7,NULL,u\rAT+S.SOCKW=0,4\rpingAT+S.SOCKQ=0\rAT+S.SOCKR=0\rAT+S.SOCKC=0\r"))

    # ---- HTTP: byte 0 bit 0 = raw response, bit 1 = HEAD -------------------
    def raw(flags, text):
        return bytes([flags]) + b"\1\2\3\4" + text
    put("http", "body-small", b"\0\0\0\0\0" + b"hello, world\n")
    put("http", "body-binary", b"\0\7\0\0\0" + bytes(range(256)) * 4)
    put("http", "resp-length", raw(1, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: nginx\r\n\r\nhello"))
    put("http", "resp-chunked", raw(1, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                       b"5;x=y\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"))
    put("http", "resp-close", raw(1, b"HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnope"))
    put("http", "resp-100", raw(1, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"))
    put("http", "resp-head", raw(3, b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"))
    put("http", "resp-overflow-length", raw(1, b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551621\r\n\r\nhello"))
    put("http", "resp-overflow-chunk", raw(1, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                              b"10000000000000005\r\nhello\r\n0\r\n\r\n"))

    # ---- store: byte 0 = item (see fuzz_store.c), >= 10 = name mode ---------
    put("store", "hl-settings", b"\0kpattern=--END--\n")
    put("store", "hl-root-pem", b"\1" + pki["root.pem"])
    put("store", "hl-root-chain-der", b"\1" + pki["root.der"] + pki["rsa.der"])
    put("store", "hl-client-cert", b"\2" + pki["leaf.der"])
    put("store", "hl-client-key", b"\3" + pki["leaf.key.der"])
    put("store", "spwf-settings", b"\4console_echo=0\nconsole_errs=1\nip_http_get_recv_timeout=2000\nwifi_ht_mode=1\n")
    put("store", "spwf-settings-corrupt", b"\4console_echo=\nconsole_errs=99\n\0\xff=x\nnoequals\n")
    put("store", "spwf-tlscert-ca", b"\5" + pki["root.der"])
    put("store", "spwf-tls-cert", b"\6" + pki["leaf.der"])
    put("store", "spwf-tls-key", b"\7" + pki["leaf.key.der"])
    put("store", "spwf-fs-ca", b"\x08" + pki["root.pem"])
    put("store", "spwf-fs-file", b"\x09<html>hello</html>\n")
    put("store", "name-fs", b"\x0aspwf/fs//68:90:e4.ca\0content")
    put("store", "name-tmp", b"\x0ahl/x.tmp.123\0content")
    return 0


if __name__ == "__main__":
    sys.exit(main())
