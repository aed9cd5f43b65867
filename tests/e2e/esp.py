"""ESP-AT helpers for the e2e tests: start the modem in the esp dialect with
one simulated access point, wait for its boot `ready`, and small TLS plumbing
for host stacks that run TLS themselves over a plain TCP link (Zephyr)."""
import ssl

from modem import ModemError

SSID = b"tlsmodem-lab"
PSK = b"correct horse"


def modem(t, model="esp32", ca_bundle="none", resolve=(), extra_args=()):
    """Start `tlsmodem --dialect esp` with the access point SSID/PSK and
    consume the boot `ready` (a host that starts after the module booted
    never sees it)."""
    args = ["--model", model, "--wifi", "%s:%s" % (SSID.decode(), PSK.decode())] + list(extra_args)
    m = t.modem(dialect="esp", ca_bundle=ca_bundle, resolve=list(resolve), extra_args=args)
    try:
        m.expect(b"ready\r\n", 10)
    except ModemError as e:
        raise ModemError("no boot 'ready' from --dialect esp: %s" % e)
    return m


class HostTls:
    """TLS run by the host (as Zephyr's sockets do with mbedTLS over an
    offloaded TCP context): an ssl.SSLObject over memory BIOs; `send(bytes)`
    and `recv()` move the TLS records through the driver emulation."""

    def __init__(self, cafile, host, send, recv):
        ctx = ssl.create_default_context(cafile=cafile)     # verifies chain and host name
        self.inc = ssl.MemoryBIO()
        self.out = ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.inc, self.out, server_hostname=host)
        self._send = send            # callable(record bytes) -> None
        self._recv = recv            # callable(wait seconds) -> bytes that arrived (may be b"")

    def flush(self, chunk=2048):
        data = self.out.read()
        for i in range(0, len(data), chunk):
            self._send(data[i:i + chunk])

    def feed(self, wait=0.05):
        d = self._recv(wait)
        if d:
            self.inc.write(d)
        return len(d)

    def handshake(self):
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.flush()
                while not self.feed():
                    pass
        self.flush()

    def write(self, data):
        self.obj.write(data)
        self.flush()

    def read_available(self):
        out = bytearray()
        while True:
            try:
                d = self.obj.read(65536)
            except ssl.SSLWantReadError:
                return bytes(out)
            if not d:
                return bytes(out)
            out += d

    def close_notify(self):
        try:
            self.obj.unwrap()
        except (ssl.SSLWantReadError, ssl.SSLError):
            pass
        self.flush()
