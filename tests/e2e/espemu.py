"""Small emulations of the reply matchers of two real ESP-AT host stacks,
written from reading their sources (no code copied; see
../_brief/esp-drivers.md for the command strings with references).  Each
class sends what the driver sends and accepts an answer exactly when the
driver's parser would; DriverFailure is raised where the driver would fail
(its error path or its timeout).

    ZephyrEspAt   Zephyr drivers/wifi/esp_at (esp.c, esp_offload.c) on the
                  modem_cmd_handler: CR LF lines matched by prefix against the
                  command's handlers, then "OK" / "ERROR" (esp.c
                  response_cmds[]), then the unsolicited table (esp.c
                  unsol_cmds[]: WIFI CONNECTED/DISCONNECT/GOT IP, <n>,CONNECT,
                  <n>,CLOSED, busy s.../busy p..., ready, the AT+GMR lines)
                  and the direct "+IPD" parser (esp.c cmd_ipd_parse_hdr:
                  active "+IPD,<id>,<len>[,"<ip>",<port>]:<data>", passive
                  "+IPD,<id>,<len>" CR LF).  AT+CIPSEND waits for OK, then the
                  direct ">" (5 s), then SEND OK / SEND FAIL (esp_offload.c
                  _sock_send); AT+CIPRECVDATA is parsed by the direct
                  "+CIPRECVDATA:" handler (esp_offload.c
                  cmd_ciprecvdata_parse, with or without CIPDINFO).
    WiFiEspAT     WiFiEspAT's EspAtDrv::readRX (EspAtDrv.cpp 1648-1823) over an
                  Arduino Stream with the default 1000 ms per-byte timeout: a
                  silent modem gets "?" CR LF (at most 3 times, then "AT
                  firmware not responding"); '>' is the prompt; lines of at most
                  63 bytes; "+C" lines read to ':' when not buffering; +IPD,
                  <n>,CONNECT, <n>,CLOSED handled anywhere; ERROR/FAIL fail the
                  command (ignored while waiting for "ready" or nothing); more
                  than 70 ignored lines fail it.
"""
import re
import time

from hostemu import DriverFailure
from modem import show


class _Bytes:
    """Byte access to the modem for the emulators (the Modem's own buffer first)."""

    def __init__(self, m):
        self.m = m

    @property
    def buf(self):
        return self.m.buf

    def fill(self, deadline, what):
        left = deadline - time.monotonic()
        if left <= 0:
            raise DriverFailure("timeout waiting for %s; unconsumed: %s" % (what, show(bytes(self.m.buf), 400)))
        self.m._take(self.m._read_some(min(left, 0.5)), record=True)

    def poll(self):
        """Take what the modem has already written, without waiting."""
        self.m._take(self.m._read_some(0), record=True)

    def need(self, n, deadline, what):
        while len(self.m.buf) < n:
            self.fill(deadline, what)

    def take(self, n):
        out = bytes(self.m.buf[:n])
        del self.m.buf[:n]
        return out

    def write(self, data):
        self.m.send(data, record=len(data) < 2048)


# ==== Zephyr drivers/wifi/esp_at ===================================================================

class ZephyrEspAt:
    """One instance = one driver with one Kconfig (AT 2.1 strings; see the brief)."""

    RESET_TIMEOUT = 3.0        # CONFIG_WIFI_ESP_AT_RESET_TIMEOUT (Kconfig.esp_at)
    CMD_TIMEOUT = 10.0         # ESP_CMD_TIMEOUT (esp.h)
    CONNECT_TIMEOUT = 20.0     # ESP_CONNECT_TIMEOUT (esp.h)
    PROMPT_TIMEOUT = 5.0       # esp_offload.c _sock_send: k_sem_take(sem_tx_ready, 5000 ms)
    MTU = 2048                 # ESP_MTU / CIPRECVDATA_MAX_LEN (esp.h)

    def __init__(self, m, passive=False, cipdinfo=True):
        self.b = _Bytes(m)
        self.passive = passive
        self.cipdinfo = cipdinfo
        self.log = []
        self.up = False              # init done (a later "ready" is an unexpected reset)
        self.ready_seen = False
        self.sta_connected = False
        self.got_ip = False
        self.rx = {}                 # link -> bytearray (what esp_socket_rx hands up)
        self.closed = set()          # links the module reported <n>,CLOSED
        self.recv_pending = []       # passive: links whose recvdata_work is queued (merged)
        self.rx_errors = 0           # AT+CIPRECVDATA answered ERROR (logged by the driver)
        self.n_ipd_data = 0          # active +IPD frames carrying data
        self.n_ipd_notice = 0        # passive +IPD notices
        self.n_recvdata = 0          # +CIPRECVDATA frames
        self.n_send = 0              # AT+CIPSEND completed with SEND OK
        self.dropped = 0             # bytes that came after <id>,CLOSED (lost by the driver)
        self.ip = {}
        self.dns = []
        self.mac = None
        self.versions = {}

    # ---- the byte-level line machine (modem_cmd_handler_process) ----------------------------

    def _skip_crlf(self):
        while self.b.buf[:1] in (b"\r", b"\n"):
            del self.b.buf[:1]

    def _ipd(self, deadline):
        """esp.c on_cmd_ipd: the header, then (active) the payload right after ':'."""
        # MIN_IPD_LEN "+IPD,I,0E"; the header ends at ':' (active) or CR/LF (passive)
        while True:
            head = bytes(self.b.buf[:80])
            end = re.search(rb"[:\r\n]", head[5:])
            if end:
                break
            if len(head) >= 80:
                raise DriverFailure("+IPD header not terminated: %r" % head)
            self.b.fill(deadline, "+IPD header")
        stop = 5 + end.start()
        hdr = head[:stop]
        if hdr[4:5] != b"," or hdr[6:7] != b",":
            raise DriverFailure("Invalid IPD (link id must be one digit): %r" % head[:40])
        fields = hdr[5:].split(b",", 2)
        link = int(fields[0])
        n = int(fields[1])
        if self.passive:
            # ESP_PROTO_PASSIVE: only <id>,<len>; recvdata_work is submitted (merged if queued)
            self.b.take(stop)
            self.log.append(hdr)
            self.n_ipd_notice += 1
            if link not in self.recv_pending:
                self.recv_pending.append(link)
            return
        if head[stop:stop + 1] != b":":
            raise DriverFailure("active +IPD without ':' before the data: %r" % head[:60])
        if self.cipdinfo:
            # CIPDINFO_USE, AT 2.x: quoted remote IP, then the port (esp_pull_quoted, esp_pull_long)
            mm = re.fullmatch(rb'\d+,\d+,"(\d+\.\d+\.\d+\.\d+)",(\d+)', hdr[5:])
            if not mm:
                raise DriverFailure('+IPD without ,"<ip>",<port> at CIPDINFO=1 (AT 2.x quotes it): %r' % hdr)
        elif len(fields) != 2:
            raise DriverFailure("+IPD with remote info although CIPDINFO is off: %r" % hdr)
        self.b.take(stop + 1)
        self.b.need(n, deadline, "+IPD payload (%d bytes)" % n)
        data = self.b.take(n)
        self.log.append(hdr + b":<%d bytes>" % n)
        self.n_ipd_data += 1
        self._deliver(link, data)

    def _deliver(self, link, data):
        """esp_socket.c esp_socket_rx: data for a link whose ESP_SOCK_CONNECTED
        was cleared by <id>,CLOSED is dropped ("Received data on closed link")."""
        if link in self.closed:
            self.dropped += len(data)
            return
        if link in self.rx:
            self.rx[link] += data

    def _ciprecvdata(self, deadline):
        """esp_offload.c cmd_ciprecvdata_parse (AT 2.x: '+CIPRECVDATA:<n>,' or
        with CIPDINFO '+CIPRECVDATA:<n>,"<ip>",<port>,'), then <n> bytes."""
        pre = len(b"+CIPRECVDATA:")
        while True:
            head = bytes(self.b.buf[:pre + 40])
            if self.cipdinfo:
                mm = re.match(rb'\+CIPRECVDATA:(\d+),("[^,]*"),(\d+),', head)
            else:
                mm = re.match(rb"\+CIPRECVDATA:(\d+),", head)
            if mm:
                break
            if len(head) >= pre + 40 or re.match(rb"\+CIPRECVDATA:\d*[^\d,]", head):
                raise DriverFailure("Invalid +CIPRECVDATA header (CIPDINFO=%d): %r" % (self.cipdinfo, head))
            self.b.fill(deadline, "+CIPRECVDATA header")
        n = int(mm.group(1))
        if n > self.MTU:
            raise DriverFailure("+CIPRECVDATA:%d > CIPRECVDATA_MAX_LEN" % n)
        if self.cipdinfo and not re.fullmatch(rb'"\d+\.\d+\.\d+\.\d+"', mm.group(2)):
            raise DriverFailure("Invalid src addr %r" % mm.group(2))
        self.b.take(mm.end())
        self.b.need(n, deadline, "+CIPRECVDATA payload (%d bytes)" % n)
        self.n_recvdata += 1
        return n, self.b.take(n)

    def _unsol(self, line):
        if line.startswith(b"WIFI CONNECTED"):
            self.sta_connected = True
        elif line.startswith(b"WIFI DISCONNECT"):
            self.sta_connected = False
            self.got_ip = False
        elif line.startswith(b"WIFI GOT IP"):
            self.got_ip = True
        elif re.match(rb"[0-4],CONNECT", line):
            pass
        elif re.match(rb"[0-4],CLOSED", line):
            self.closed.add(line[0] - 48)
        elif line.startswith(b"busy s...") or line.startswith(b"busy p..."):
            pass                                     # LOG_WRN only; the command keeps waiting
        elif line.startswith(b"ready"):
            if self.up:
                raise DriverFailure("'ready' after init: on_cmd_ready treats it as an unexpected reset")
            self.ready_seen = True
        else:
            for p in (b"AT version:", b"SDK version:", b"Compile time", b"Bin version:"):
                if line.startswith(p):
                    self.versions[p] = line[len(p):]

    def _unit(self, deadline, what, prompt=False, recvdata=False):
        """Process one unit of modem output; returns ('line', line), ('prompt',)
        or ('data', n, bytes) for a direct match, or None for a consumed URC."""
        while True:
            self._skip_crlf()
            if self.b.buf:
                break
            self.b.fill(deadline, what)
        if prompt and self.b.buf[:1] == b">":
            self.b.take(1)
            return ("prompt",)
        # direct handlers need at least their match text
        for direct in (b"+IPD", b"+CIPRECVDATA:"):
            while len(self.b.buf) < len(direct) and direct.startswith(bytes(self.b.buf)):
                self.b.fill(deadline, what)
        if self.b.buf.startswith(b"+IPD"):
            self._ipd(deadline)
            return None
        if recvdata and self.b.buf.startswith(b"+CIPRECVDATA:"):
            n, data = self._ciprecvdata(deadline)
            return ("data", n, data)
        while True:
            # findcrlf (modem_cmd_handler.c): a line ends at the first CR or LF
            mm = re.search(rb"[\r\n]", self.b.buf)
            if mm:
                break
            self.b.fill(deadline, what)
        line = self.b.take(mm.start())
        self.log.append(line)
        return ("line", line)

    UNSOL = (b"WIFI CONNECTED", b"WIFI DISCONNECT", b"WIFI GOT IP", b"busy s...", b"busy p...",
             b"ready", b"AT version:", b"SDK version:", b"Compile time", b"Bin version:") + tuple(
        b"%d,CONNECT" % i for i in range(5)) + tuple(b"%d,CLOSED" % i for i in range(5))

    def _dispatch(self, line, handlers):
        """modem_cmd_handler.c find_cmd_match order: the response table ("OK",
        "ERROR"), then the unsolicited table, then the command's handlers (a
        handler may end the command: True/False); the first prefix wins."""
        if line.startswith(b"OK"):
            return True
        if line.startswith(b"ERROR"):
            return False
        if any(line.startswith(u) for u in self.UNSOL):
            self._unsol(line)
            return None
        for prefix, cb in handlers:
            if line.startswith(prefix):
                return cb(line)
        return None

    def send_cmd(self, request, handlers=(), timeout=CMD_TIMEOUT, recvdata=None):
        """esp_cmd_send / modem_cmd_send: request CR LF, then lines until OK
        (success) or ERROR (-EIO -> DriverFailure)."""
        self.b.write(request + b"\r\n")
        deadline = time.monotonic() + timeout
        while True:
            u = self._unit(deadline, "OK after %r" % request, recvdata=recvdata is not None)
            if u is None:
                continue
            if u[0] == "data":
                recvdata(u[1], u[2])
                continue
            r = self._dispatch(u[1], handlers)
            if r is True:
                return
            if r is False:
                raise DriverFailure("%r answered ERROR (modem_cmd_handler_set_error -EIO)" % request)

    def setup(self, cmds):
        """modem_cmd_handler_setup_cmds: each command must answer OK."""
        for c in cmds:
            handlers = c[1] if isinstance(c, tuple) else ()
            req = c[0] if isinstance(c, tuple) else c
            try:
                self.send_cmd(req, handlers, timeout=10.0)    # ESP_INIT_TIMEOUT
            except DriverFailure as e:
                raise DriverFailure("Init failed at %r: %s" % (req, e))

    def poll(self, wait=0.0):
        """The RX thread between commands: URCs (and active +IPD data) that are
        already there or arrive within `wait`."""
        end = time.monotonic() + wait
        while True:
            self.b.poll()
            self._skip_crlf()
            if self.b.buf and (self.b.buf.startswith(b"+IPD") or re.search(rb"[\r\n]", self.b.buf)):
                u = self._unit(time.monotonic() + 10, "a URC")
                if u is not None:
                    self._dispatch(u[1], ())
                continue
            left = end - time.monotonic()
            if left <= 0:
                return
            self.b.fill(time.monotonic() + left + 0.001, "URCs")

    # ---- esp.c: reset, init, join ----------------------------------------------------------------

    def reset(self):
        """esp_reset without reset GPIO: AT+RST, then the 'ready' URC within
        CONFIG_WIFI_ESP_AT_RESET_TIMEOUT (OK only gives sem_response); then
        on_cmd_ready submits esp_init_work."""
        self.ready_seen = False
        self.b.write(b"AT+RST\r\n")
        deadline = time.monotonic() + self.RESET_TIMEOUT
        while not self.ready_seen:
            u = self._unit(deadline, "'ready' after AT+RST (sem_if_ready, %.0f ms)" % (self.RESET_TIMEOUT * 1000))
            if u is not None:
                self._dispatch(u[1], ())

    def init(self, uart="115200,8,1,0,0", fetch_version=True):
        """esp.c esp_init_work setup_cmds[] for AT 2.1."""
        def on_mac(line):
            mm = re.fullmatch(rb'\+CIPSTAMAC:"([0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5})"', line)
            if not mm:
                raise DriverFailure("Failed to parse MAC address: %r" % line)
            self.mac = mm.group(1)
        cmds = [b"AT", b"ATE0", b"AT+UART_CUR=" + uart.encode()]
        if fetch_version:
            cmds.append(b"AT+GMR")
        cmds += [b"AT+CWDHCP=1,1", b"AT+CIPMUX=1", b"AT+CWLAPOPT=0,23",
                 b"AT+CWMODE=1,0", b"AT+CWAUTOCONN=0", b"AT+CWMODE=0,0"]
        if self.passive:
            cmds.append(b"AT+CIPRECVMODE=1")
        if self.cipdinfo:
            cmds.append(b"AT+CIPDINFO=1")
        cmds.append((b"AT+CIPSTAMAC?", [(b"+CIPSTAMAC:", on_mac)]))
        self.setup(cmds)
        if self.mac is None:
            raise DriverFailure("AT+CIPSTAMAC? answered OK without +CIPSTAMAC:")
        self.up = True

    def connect_ap(self, ssid, psk):
        """esp_mgmt_connect + esp_mgmt_connect_work: mode switch to STA, then
        AT+CWJAP="<ssid>","<psk>" (',' '\\' '"' escaped) with the "FAIL" handler."""
        def esc(s):
            return re.sub(rb'([,\\"])', rb"\\\1", s)
        self.send_cmd(b"AT+CWMODE=1,0")
        # on_cmd_fail: "FAIL" ends the command with -EIO, like ERROR
        self.send_cmd(b'AT+CWJAP="' + esc(ssid) + b'","' + esc(psk) + b'"',
                      [(b"FAIL", lambda l: False)], timeout=self.CONNECT_TIMEOUT)
        self.sta_connected = True                 # connect_work sets EDF_STA_CONNECTED on success
        if self.got_ip:
            self.ip_addr_work()

    def ip_addr_work(self, dns=True):
        """esp.c esp_ip_addr_work: AT+CIPSTA? (+CIPSTA:<type>:"<ip>", split on ':'
        into 2 args) and (DNS_USE) AT+CIPDNS? (+CIPDNS:<en>[,"ip"...], 1..3 args)."""
        def on_cipsta(line):
            args = line[len(b"+CIPSTA:"):].split(b":", 1)
            if len(args) != 2:
                raise DriverFailure("+CIPSTA: needs <type>:<value>: %r" % line)
            self.ip[args[0]] = args[1].strip(b'"')
        self.send_cmd(b"AT+CIPSTA?", [(b"+CIPSTA:", on_cipsta)])
        for k in (b"ip", b"gateway", b"netmask"):
            if not re.fullmatch(rb"\d+\.\d+\.\d+\.\d+", self.ip.get(k, b"")):
                raise DriverFailure("net_addr_pton(%s) fails on %r" % (k, self.ip.get(k)))
        if dns:
            def on_dns(line):
                args = line[len(b"+CIPDNS:"):].split(b",")
                if not 1 <= len(args) <= 4:
                    raise DriverFailure("+CIPDNS: takes 1..3 args after the prefix: %r" % line)
                for a in args[1:]:
                    if not re.fullmatch(rb'"?\d+\.\d+\.\d+\.\d+"?', a):
                        raise DriverFailure("Invalid DNS address: %r" % a)
                    self.dns.append(a.strip(b'"'))
            self.send_cmd(b"AT+CIPDNS?", [(b"+CIPDNS:", on_dns)])

    def iface_status(self):
        """esp.c esp_mgmt_iface_status_work: AT+CWJAP? with the direct-style
        "+CWJAP:" parser (on_cmd_cwjap: quoted ssid, quoted bssid, channel, rssi)."""
        st = {}

        def on_cwjap(line):
            mm = re.match(rb'\+CWJAP:"((?:[^"\\]|\\.)*)","([0-9a-fA-F:]{17})",(-?\d+),(-?\d+)', line)
            if not mm:
                raise DriverFailure("on_cmd_cwjap cannot pull ssid/bssid/channel/rssi from %r" % line)
            st.update(ssid=mm.group(1), bssid=mm.group(2), channel=int(mm.group(3)), rssi=int(mm.group(4)))
        self.send_cmd(b"AT+CWJAP?", [(b"+CWJAP:", on_cwjap)])
        return st

    # ---- esp_offload.c: sockets ------------------------------------------------------------------

    def sock_connect(self, link, ip, port):
        """_sock_connect: AT+CIPSTART=<id>,"TCP","<ip>",<port>,7200 -> OK."""
        if not self.sta_connected:
            raise DriverFailure("-ENETUNREACH: not connected to an AP")
        self.rx[link] = bytearray()
        self.closed.discard(link)
        self.send_cmd(b'AT+CIPSTART=%d,"TCP","%s",%d,7200' % (link, ip.encode(), port))

    def sock_send(self, link, data):
        """_sock_send: AT+CIPSEND=<id>,<len> -> OK (10 s), '>' (5 s), the bytes,
        then SEND OK / SEND FAIL (TCP_SEND_TIMEOUT)."""
        assert len(data) <= self.MTU
        self.b.write(b"AT+CIPSEND=%d,%d\r\n" % (link, len(data)))
        deadline = time.monotonic() + self.CMD_TIMEOUT
        state = "ok"
        prompt_seen = False
        while True:
            u = self._unit(deadline, "%s after AT+CIPSEND=%d,%d" % (
                {"ok": "OK", "prompt": "'>'", "sent": "SEND OK"}[state], link, len(data)),
                prompt=(state != "sent"))
            if u is None:
                continue
            if u[0] == "prompt":
                # the direct '>' handler gives sem_tx_ready whenever it comes
                prompt_seen = True
                if state == "prompt":
                    break
                continue
            line = u[1]
            if state == "ok":
                if line.startswith(b"SEND OK") or line.startswith(b"SEND FAIL"):
                    raise DriverFailure("%r before OK of AT+CIPSEND" % line)
                r = self._dispatch(line, ())
                if r is False:
                    raise DriverFailure("AT+CIPSEND=%d,%d answered ERROR" % (link, len(data)))
                if r is True:
                    if prompt_seen:
                        break
                    state = "prompt"
                    deadline = time.monotonic() + self.PROMPT_TIMEOUT
        self.b.write(data)
        deadline = time.monotonic() + self.CMD_TIMEOUT
        while True:
            u = self._unit(deadline, "SEND OK after %d bytes" % len(data))
            if u is None:
                continue
            line = u[1]
            if line.startswith(b"SEND OK"):
                self.n_send += 1
                return
            if line.startswith(b"SEND FAIL"):
                raise DriverFailure("SEND FAIL (-EIO): the driver closes the TCP socket")
            if line.startswith(b"ERROR"):
                raise DriverFailure("ERROR while waiting for SEND OK")
            if line.startswith(b"OK"):
                continue          # on_cmd_ok: sem_response given, error 0 -- counted as the send result
            self._unsol(line)

    def recvdata_work(self):
        """esp_offload.c esp_recvdata_work for each queued link:
        AT+CIPRECVDATA=<id>,2048, the direct +CIPRECVDATA: parser, then OK."""
        while self.recv_pending:
            link = self.recv_pending.pop(0)
            got = []
            try:
                self.send_cmd(b"AT+CIPRECVDATA=%d,%d" % (link, self.MTU),
                              recvdata=lambda n, d: got.append(d))
            except DriverFailure as e:
                # "Error during rx" is only logged: an +IPD that came in while the
                # previous read ran re-queues the work, and the module answers
                # ERROR when that read finds nothing left.  A timeout is not benign.
                if "answered ERROR" not in str(e):
                    raise
                self.rx_errors += 1
            for d in got:
                self._deliver(link, d)

    def sock_close(self, link):
        """esp_put: AT+CIPCLOSE=<id> -> OK (esp_socket_close), unless a
        <id>,CLOSED URC already cleared ESP_SOCK_CONNECTED (then no command).
        When the peer's close crosses ours, the module answers ERROR after its
        <id>,CLOSED; the driver only logs that.  ERROR without CLOSED is a mismatch."""
        self.poll()
        if link not in self.closed:
            try:
                self.send_cmd(b"AT+CIPCLOSE=%d" % link)
            except DriverFailure as e:
                if "answered ERROR" not in str(e) or link not in self.closed:
                    raise
        self.rx.pop(link, None)


# ==== WiFiEspAT (EspAtDrv.cpp, WIFIESPAT2 = AT 2.x) ============================================

class WiFiEspAT:
    TIMEOUT_COUNT = 3          # EspAtDrv.cpp:31
    LINKS = 5                  # EspAtDrvTypes.h WIFIESPAT_LINKS_COUNT

    def __init__(self, m, stream_timeout=1.0):
        self.b = _Bytes(m)
        self.stream_timeout = stream_timeout      # Arduino Stream default 1000 ms
        self.buffer = b""
        self.log = []
        self.probes = 0                           # '?' lines sent on silence
        self.available = [0] * self.LINKS
        self.connected = [False] * self.LINKS
        self.closing = [False] * self.LINKS
        self.wifi_mode = None
        self.last_sync = -10.0
        self.last_error = None

    # ---- Arduino Stream ------------------------------------------------------------------------

    def _avail(self):
        self.b.poll()
        return len(self.b.buf)

    def _read1(self):
        """timedRead(): one byte within the stream timeout, or None."""
        deadline = time.monotonic() + self.stream_timeout
        while not self.b.buf:
            if time.monotonic() >= deadline:
                return None
            self.m_fill(deadline)
        return self.b.take(1)[0]

    def m_fill(self, deadline):
        left = deadline - time.monotonic()
        if left > 0:
            self.b.m._take(self.b.m._read_some(min(left, 0.5)), record=True)

    def readBytes(self, n):
        out = bytearray()
        while len(out) < n:
            if self.b.buf:                       # fast path for bulk data
                k = min(n - len(out), len(self.b.buf))
                out += self.b.take(k)
                continue
            c = self._read1()
            if c is None:
                break
            out.append(c)
        return bytes(out)

    def readBytesUntil(self, term, n):
        out = bytearray()
        while len(out) < n:
            c = self._read1()
            if c is None or c == term:
                break
            out.append(c)
        return bytes(out)

    def idle(self, wait):
        """Time passing in the sketch: wait up to `wait` s for modem output (not consumed)."""
        if not self.b.buf:
            self.b.m._take(self.b.m._read_some(wait), record=True)

    def println(self, s):
        self.b.write(s + b"\r\n")

    # ---- EspAtDrv::readRX (1648-1823) ------------------------------------------------------------

    def readRX(self, expected, bufferData=True, listItem=False):
        timeouts = 0
        unlink_bug = False
        ignored = 0
        while True:
            if expected is None and self._avail() == 0:
                return True
            c = self._read1()
            if c is None:
                if timeouts == self.TIMEOUT_COUNT:
                    self.last_error = "AT_NOT_RESPONDING"
                    raise DriverFailure("AT firmware not responding (waiting for %r)" % expected)
                self.println(b"?")                # 1670: an invalid command to provoke an answer
                self.probes += 1
                timeouts += 1
                continue
            buf = bytearray([c])
            if c == ord(">"):                     # 1679: the CIPSEND prompt (AT2: nothing skipped)
                timeouts = 0
            else:
                c2 = self._read1()
                if c2 is None:
                    continue
                buf.append(c2)
                timeouts = 0
                if buf == b"\r\n":
                    continue
                term = ord("\n")
                if buf[0] == ord("+") and buf[1] == ord("C") and not bufferData:
                    term = ord(":")
                buf += self.readBytesUntil(term, 64 - len(buf) - 1)
                while buf and buf[-1] == 13:
                    buf = buf[:-1]
            line = bytes(buf)
            self.buffer = line
            self.log.append(line)
            if expected is not None and line.startswith(expected):
                return True
            if line.startswith(b"+IPD,"):
                link = line[5] - 48
                mm = re.match(rb"\d+", line[7:])
                n = int(mm.group(0)) if mm else 0
                if 0 <= link < self.LINKS and n > 0:
                    self.available[link] = n          # 1728: overwritten, not added
            elif line[1:] == b",CONNECT":
                link = line[0] - 48
                if self.available[link] == 0 and (not self.connected[link] or self.closing[link]):
                    self.connected[link] = True       # incoming connection
                    self.closing[link] = False
            elif line[1:] in (b",CLOSED", b",CONNECT FAIL"):
                link = line[0] - 48
                self.connected[link] = False
                self.closing[link] = False
                self.available[link] = 0              # 1771 AT2: CLOSED only after all data are read
            elif line in (b"ERROR", b"FAIL"):
                if unlink_bug:
                    return True
                if expected is None or expected == b"ready":
                    continue                          # a late answer to '?'
                self.last_error = "AT_ERROR"
                raise DriverFailure("expected %r got %r" % (expected, line))
            elif line == b"No AP":
                raise DriverFailure("expected %r got 'No AP'" % expected)
            elif line == b"UNLINK":
                unlink_bug = True
            elif listItem and line == b"OK":
                return False
            elif line.startswith(b"+ETH"):
                pass
            else:
                ignored += 1
                if ignored > 70:
                    raise DriverFailure("To much garbage on RX (waiting for %r)" % expected)

    def readOK(self):
        return self.readRX(b"OK")

    def maintain(self):
        self.last_error = None
        self.readRX(None, False)

    def sendCommand(self, cmd, expected=None, bufferData=True):
        self.b.write(cmd + b"\r\n")
        return self.readRX(expected, bufferData) if expected is not None else self.readOK()

    def simpleCommand(self, cmd):
        self.maintain()
        return self.sendCommand(cmd)

    # ---- EspAtDrv API ----------------------------------------------------------------------------

    def reset(self):
        """reset(-1) 79-120 (WIFIESPAT2)."""
        self.maintain()
        self.b.write(b"AT+RST\r\n")
        try:
            self.readRX(b"ready")                 # 96: "can be missed"
        except DriverFailure:
            pass
        self.ready_line = self.buffer == b"ready"
        self.simpleCommand(b"ATE0")
        self.simpleCommand(b"AT+CIPMUX=1")
        self.simpleCommand(b"AT+CIPRECVMODE=1")
        try:
            self.simpleCommand(b"AT+SYSSTORE=0")
            self.persistent = False
        except DriverFailure:
            self.persistent = True                # 105: "Is the firmware AT2?"
        self.b.write(b"AT+CWMODE?\r\n")
        self.readRX(b"+CWMODE")
        self.wifi_mode = self.buffer[len(b"+CWMODE:")] - 48
        self.readOK()

    def firmwareVersion(self):
        """127-141: the text between 'AT version:' and '('."""
        self.maintain()
        self.sendCommand(b"AT+GMR", b"AT version:")
        start = self.buffer[len(b"AT version:"):]
        if b"(" not in start:
            raise DriverFailure("AT version line without '(' (strchr returns NULL): %r" % self.buffer)
        ver = start[:start.index(b"(")]
        self.readOK()
        return ver

    def setWifiMode(self, mode):
        """1844-1880 (AT2, save == persistent == false)."""
        if mode == self.wifi_mode:
            return
        self.sendCommand(b"AT+CWMODE=%d" % mode)
        self.wifi_mode = mode

    def joinAP(self, ssid, password):
        """392-438."""
        self.maintain()
        self.setWifiMode(self.wifi_mode | 1)
        self.sendCommand(b'AT+CWJAP="' + ssid + b'","' + password + b'"')

    def staStatus(self):
        """167-185: the digit at offset 7 of the STATUS line."""
        self.maintain()
        self.sendCommand(b"AT+CIPSTATUS", b"STATUS")
        status = self.buffer[len(b"STATUS:")] - 48
        self.readOK()
        return status

    def staIpQuery(self):
        """338-358: three +CIPSTA lines in order; the value from a fixed offset, last char cut."""
        self.maintain()
        out = []
        self.sendCommand(b"AT+CIPSTA?", b"+CIPSTA")
        for i, key in enumerate((b"ip", b"gateway", b"netmask")):
            if i:
                self.readRX(b"+CIPSTA")
            pre = b'+CIPSTA:' + key + b':"'
            if not self.buffer.startswith(pre):
                raise DriverFailure("IPAddress::fromString at offset %d of %r (expected %r)" % (
                    len(pre), self.buffer, pre))
            out.append(self.buffer[len(pre):-1])
        self.readOK()
        return out

    def resolve(self, host):
        """1526-1544 (AT2: quoted)."""
        self.maintain()
        self.sendCommand(b'AT+CIPDOMAIN="' + host + b'"', b"+CIPDOMAIN")
        ip = self.buffer[len(b'+CIPDOMAIN:"'):-1]
        self.readOK()
        return ip

    def freeLinkId(self):
        """1634-1646: the highest free link."""
        self.maintain()
        for link in range(self.LINKS - 1, -1, -1):
            if not self.connected[link] and not self.closing[link] and not self.available[link]:
                return link
        return None

    def connect(self, kind, host, port):
        """909-976: AT+CIPSTART=<id>,"<type>","<host>",<port> -> OK."""
        self.maintain()
        link = self.freeLinkId()
        if link is None:
            raise DriverFailure("no free link")
        self.connected[link] = True
        try:
            self.sendCommand(b'AT+CIPSTART=%d,"%s","%s",%d' % (link, kind, host, port))
        except DriverFailure:
            self.connected[link] = False
            raise
        return link

    def sendData(self, link, data):
        """1286-1336: '>' prompt, the bytes, 'Recv <n>' then 'SEND OK'."""
        self.maintain()
        if not self.connected[link]:
            raise DriverFailure("link is not connected")
        self.sendCommand(b"AT+CIPSEND=%d,%d" % (link, len(data)), b">")
        self.b.write(data)
        self.readRX(b"Recv ")
        mm = re.match(rb"\d+", self.buffer[len(b"Recv "):])
        n = int(mm.group(0)) if mm else 0
        self.readRX(b"SEND ")
        if self.buffer[len(b"SEND "):] != b"OK":
            raise DriverFailure("failed to send data: %r" % self.buffer)
        return n

    def recvLenQuery(self):
        """1905-1934 (AT2: -1 marks a link that is not connected)."""
        self.maintain()
        self.sendCommand(b"AT+CIPRECVLEN?", b"+CIPRECVLEN")
        toks = [t for t in self.buffer[len(b"+CIPRECVLEN:"):].split(b",")]
        for link, tok in enumerate(toks[:self.LINKS]):
            if not tok:
                continue
            if tok.startswith(b"-"):
                self.connected[link] = False
                self.available[link] = 0
            else:
                if not self.connected[link] or self.closing[link]:
                    self.connected[link] = True
                mm = re.match(rb"\d+", tok)
                self.available[link] = int(mm.group(0)) if mm else 0
        self.readOK()

    def availData(self, link):
        """1108-1122: the +IPD count; when 0, AT+CIPRECVLEN? at most every 500 ms."""
        self.maintain()
        if not self.connected[link]:
            return 0
        if self.available[link] == 0 and not self.closing[link]:
            if time.monotonic() - self.last_sync >= 0.5:      # syncLinkInfo 1892-1903
                self.last_sync = time.monotonic()
                self.recvLenQuery()
        return self.available[link]

    def recvData(self, link, size):
        """1124-1191: '+CIPRECVDATA' read to ':', the length to ',', then exactly len bytes, OK."""
        self.maintain()
        if self.available[link] == 0:
            return b""
        try:
            self.sendCommand(b"AT+CIPRECVDATA=%d,%d" % (link, size), b"+CIPRECVDATA", bufferData=False)
        except DriverFailure:
            if self.available[link] == 0:
                return b""                        # 1148: AT2 SSL end of data
            raise
        ln = self.readBytesUntil(ord(","), 6)
        if not re.fullmatch(rb"\d+", ln):
            raise DriverFailure("+CIPRECVDATA: length %r (atol -> %d)" % (ln, int(ln) if ln.isdigit() else 0))
        n = int(ln)
        data = self.readBytes(n)
        if len(data) != n:
            raise DriverFailure("error receiving on link %d: %d of %d bytes" % (link, len(data), n))
        self.available[link] = 0 if n > self.available[link] else self.available[link] - n
        self.readOK()
        return data

    def close(self, link):
        """1006-1034: AT+CIPCLOSE=<id> -> OK."""
        self.maintain()
        self.available[link] = 0
        if not self.connected[link]:
            return True
        self.closing[link] = True
        self.sendCommand(b"AT+CIPCLOSE=%d" % link)
        return True
