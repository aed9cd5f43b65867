"""Small emulations of the reply matchers of real host drivers, written from
reading their sources (no code copied): each class sends what the driver
sends and accepts an answer exactly when the driver's parser would.

    ZephyrChat   Zephyr modem_chat as the hl78xx driver configures it: lines
                 delimited by CR LF, empty lines ignored; a line is tried
                 against the script step's match (prefix; "" matches any
                 line), then the abort matches ("+CME ERROR: ", "ERROR"),
                 then the unsolicited matches (prefix).  Plus the driver's
                 own byte parser for AT+KTCPRCV (hl78xx_sockets.c
                 socket_process_bytes): CONNECT, then the data, the EOF
                 pattern directly followed by CR LF, then OK, exactly
                 <n> + 2 + len(pattern) + 6 bytes after CONNECT.
    TinyGsm      TinyGSM's waitResponse(): characters accumulate and a
                 response string matches when the accumulated text ends with
                 it ("OK\\r\\n", "ERROR\\r\\n", "\\r\\n+CME ERROR:" …); the
                 HL7800 client's URC handling of "+KTCP_DATA:" / "+KTCP_NOTIF:";
                 streamSkipUntil / readStringUntil / streamGetIntBefore.
    MbedParser   mbed ATCmdParser as the SPWFSAxx driver uses it: commands end
                 with CR; recv() reads LF-terminated lines and skips lines that
                 do not match until one does (a trailing CR is allowed,
                 "%*[\\x0d]"); out-of-band handlers take "+WIND:55:Pending
                 Data", "+WIND:58:Socket Closed" and "AT-S.ERROR:" lines
                 wherever they appear; _recv_ok() is "AT-S.OK" + CR LF.
"""
import re
import time

from modem import ModemError, show

PATTERN = b"--EOF--Pattern--"


class DriverFailure(AssertionError):
    """The emulated driver would have failed (abort match, timeout, parse error)."""


class Wire:
    """Byte access to the modem for the emulators (the Modem's own buffer first)."""

    def __init__(self, m):
        self.m = m

    def _fill(self, deadline, what):
        left = deadline - time.monotonic()
        if left <= 0:
            raise DriverFailure("timeout waiting for %s; unconsumed: %s" % (what, show(bytes(self.m.buf), 400)))
        self.m._take(self.m._read_some(min(left, 1.0)), record=False)

    def getc(self, deadline, what="a byte"):
        while not self.m.buf:
            self._fill(deadline, what)
        c = self.m.buf[0]
        del self.m.buf[:1]
        return c

    def read(self, n, deadline, what="data"):
        while len(self.m.buf) < n:
            self._fill(deadline, what)
        out = bytes(self.m.buf[:n])
        del self.m.buf[:n]
        return out

    def write(self, data):
        self.m.send(data, record=len(data) < 2048)


# ---- Zephyr modem_chat (hl78xx) ----------------------------------------------------------------

class ZephyrChat:
    ABORT = (b"+CME ERROR: ",)

    def __init__(self, m, unsol=()):
        self.w = Wire(m)
        self.unsol = list(unsol)      # (prefix, callback(line))
        self.log = []

    def _line(self, deadline, what):
        buf = bytearray()
        while True:
            buf.append(self.w.getc(deadline, what))
            if buf.endswith(b"\r\n"):
                line = bytes(buf[:-2])
                if line:
                    return line
                buf.clear()

    def cmd(self, request, match, timeout=10):
        """One script step: send request (None = send nothing) and wait for a
        line starting with match; returns that line."""
        if request is not None:
            self.w.write(request + b"\r\n")
        deadline = time.monotonic() + timeout
        while True:
            line = self._line(deadline, "%r after %r" % (match, request))
            self.log.append(line)
            if line.startswith(match):
                return line
            if line == b"ERROR" or any(line.startswith(a) for a in self.ABORT):
                raise DriverFailure("%r aborted by %r" % (request, line))
            for prefix, cb in self.unsol:
                if line.startswith(prefix):
                    cb(line)
                    break

    def poll(self, wait=0.0):
        """Hand lines that are already there (or arrive within `wait`) to the
        unsolicited matches, as the chat does between script steps."""
        import time as _t
        end = _t.monotonic() + wait
        while True:
            self.w.m._take(self.w.m._read_some(max(0.0, end - _t.monotonic())), record=False)
            i = self.w.m.buf.find(b"\r\n")
            if i < 0:
                if _t.monotonic() >= end:
                    return
                continue
            line = bytes(self.w.m.buf[:i])
            del self.w.m.buf[:i + 2]
            if line:
                self.log.append(line)
                for prefix, cb in self.unsol:
                    if line.startswith(prefix):
                        cb(line)
                        break

    def ok(self, request, timeout=10):
        return self.cmd(request, b"OK", timeout)

    def ktcprcv(self, sid, n, timeout=20, proto=b"TCP"):
        """hl78xx offload_recvfrom: AT+K<TCP|UDP>RCV=<sid>,<n> and the driver's byte parser."""
        self.w.write(b"AT+K%sRCV=%d,%d\r\n" % (proto, sid, n))
        deadline = time.monotonic() + timeout
        expected = n + 2 + len(PATTERN) + 6
        buf = bytearray()
        connected = ok = False
        data = None
        while not (connected and expected == 0):
            buf.append(self.w.getc(deadline, "AT+KTCPRCV data"))
            if connected:
                expected -= 1
            if buf.endswith(b"\r\n"):
                if len(buf) == 2:
                    buf.clear()
                elif not connected:
                    buf.clear()
                elif bytes(buf) == b"CONNECT\r\n":
                    buf.clear()
                elif len(buf) >= len(PATTERN) + 2 and bytes(buf[-len(PATTERN) - 2:-2]) == PATTERN:
                    payload = bytes(buf[:-len(PATTERN) - 2])
                    if not payload:
                        raise DriverFailure("0-byte CONNECT..EOF: ring_buf_put fails, the driver waits forever")
                    data = payload
                    buf.clear()
                continue
            if buf.endswith(b"\r"):
                continue
            if not connected:
                if bytes(buf) == b"CONNECT":
                    connected = True
                elif bytes(buf).startswith(b"+CME ERROR: "):
                    raise DriverFailure("AT+KTCPRCV: %r" % bytes(buf))
            elif bytes(buf) == b"OK" and data is not None:
                ok = True
        if data is None or not ok:
            raise DriverFailure("AT+KTCPRCV=%d,%d: no EOF pattern + OK within the expected bytes" % (sid, n))
        if len(data) != n:
            raise DriverFailure("asked for %d bytes, got %d" % (n, len(data)))
        return data

    def ktcpsnd(self, sid, data, timeout=20):
        """hl78xx send_socket_data: KTCPSND, CONNECT (or +CME ERROR), bytes +
        EOF pattern, then OK."""
        self.cmd(b"AT+KTCPSND=%d,%d" % (sid, len(data)), b"CONNECT", timeout)
        self.w.write(data + PATTERN)
        self.cmd(None, b"OK", timeout)

    def store(self, request, data, timeout=10):
        """hl78xx_send_cert: K…STORE, CONNECT, bytes + EOF pattern, OK."""
        self.cmd(request, b"CONNECT", timeout)
        self.w.write(data + PATTERN)
        self.cmd(None, b"OK", timeout)


# ---- TinyGSM ------------------------------------------------------------------------------------

class TinyGsm:
    OK, ERROR, CME, CMS = b"OK\r\n", b"ERROR\r\n", b"\r\n+CME ERROR:", b"\r\n+CMS ERROR:"

    def __init__(self, m):
        self.w = Wire(m)
        self.got_data = {}
        self.available = {}
        self.notif = {}

    def sendAT(self, *parts):
        self.w.write(b"AT" + b"".join(p if isinstance(p, bytes) else str(p).encode() for p in parts) + b"\r\n")

    def _getc(self, deadline):
        try:
            return self.w.getc(deadline)
        except DriverFailure:
            return None

    def streamSkipUntil(self, c, timeout=1.0):
        deadline = time.monotonic() + timeout
        while True:
            b = self._getc(deadline)
            if b is None or b == ord(c):
                return b is not None

    def readStringUntil(self, c, timeout=1.0):
        deadline = time.monotonic() + timeout
        out = bytearray()
        while True:
            b = self._getc(deadline)
            if b is None or b == ord(c):
                return bytes(out)
            out.append(b)

    def streamGetIntBefore(self, c):
        s = self.readStringUntil(c).strip()
        mm = re.match(rb"-?\d+", s)
        return int(mm.group(0)) if mm else -9999

    def waitResponse(self, timeout=1.0, *rs):
        """1-based index of the response string the accumulated text ends with, 0 on timeout."""
        rs = rs or (self.OK, self.ERROR, self.CME, self.CMS)
        deadline = time.monotonic() + timeout
        data = bytearray()
        while True:
            b = self._getc(deadline)
            if b is None:
                return 0
            data.append(b)
            for i, r in enumerate(rs):
                if r and data.endswith(r):
                    if r in (self.CME, self.CMS):
                        self.streamSkipUntil("\n")
                    return i + 1
            if data.endswith(b"+KTCP_DATA:"):
                mux = self.streamGetIntBefore(",")
                n = self.streamGetIntBefore("\n")
                self.got_data[mux] = True
                self.available[mux] = n
                data.clear()
            elif data.endswith(b"+KTCP_NOTIF:"):
                mux = self.streamGetIntBefore(",")
                self.notif[mux] = self.streamGetIntBefore("\n")
                data.clear()

    def waitResponseText(self, timeout=1.0):
        """waitResponse(timeout, String &data): the text before OK."""
        deadline = time.monotonic() + timeout
        data = bytearray()
        while True:
            b = self._getc(deadline)
            if b is None:
                return None
            data.append(b)
            if data.endswith(self.OK):
                return bytes(data[:-len(self.OK)]).strip()
            if data.endswith(self.ERROR) or data.endswith(self.CME):
                return None


# ---- mbed ATCmdParser (SPWFSAxx) ---------------------------------------------------------------

class MbedParser:
    OOB = (b"+WIND:55:Pending Data", b"+WIND:58:Socket Closed", b"+WIND:33:WiFi Network Lost",
           b"+WIND:8:Hard Fault", b"+WIND:5:WiFi Hardware Failure", b"AT-S.ERROR:")

    def __init__(self, m, timeout=10):
        self.w = Wire(m)
        self.timeout = timeout
        self.pending = {}          # spwf_id -> pending bytes reported by +WIND:55
        self.closed = set()
        self.errors = []

    def send(self, cmd):
        self.w.write(cmd + b"\r")

    def _raw_line(self, deadline):
        buf = bytearray()
        while True:
            buf.append(self.w.getc(deadline, "a line"))
            if buf.endswith(b"\n"):
                return bytes(buf[:-1])

    def _oob(self, line):
        if line.startswith(b"+WIND:55:Pending Data"):
            mm = re.match(rb"\+WIND:55:Pending Data::(\d+):\d+:(\d+)\r?$", line)
            if not mm:
                raise DriverFailure("_packet_handler_th: cannot parse %r" % line)
            self.pending[int(mm.group(1))] = int(mm.group(2))
        elif line.startswith(b"+WIND:58:Socket Closed"):
            mm = re.match(rb"\+WIND:58:Socket Closed:(\d+):\d+\r?$", line)
            if not mm:
                raise DriverFailure("_server_gone_handler: cannot parse %r" % line)
            self.closed.add(int(mm.group(1)))
        elif line.startswith(b"AT-S.ERROR:"):
            self.errors.append(line)
        else:
            raise DriverFailure("fatal out-of-band indication %r" % line)

    def recv(self, regex, timeout=None):
        """Lines until one matches regex (bytes, matched at the start, optional
        trailing CR); out-of-band lines go to their handlers; an AT-S.ERROR
        while waiting ends the wait as a failure (the driver times out)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        rx = re.compile(regex + rb"\r?$")
        n_err = len(self.errors)
        while True:
            line = self._raw_line(deadline)
            mm = rx.match(line)
            if mm:
                return mm
            if any(line.startswith(p) for p in self.OOB):
                self._oob(line)
                if len(self.errors) > n_err:
                    raise DriverFailure("waiting for %r: %r" % (regex, self.errors[-1]))

    def recv_ok(self, timeout=None):
        return self.recv(rb"AT-S\.OK", timeout)

    def cmd_ok(self, cmd, timeout=None):
        self.send(cmd)
        self.recv_ok(timeout)
