/* bench/atecho.c — the peer of the AT round-trip benchmark: the least a
 * program can do to answer "AT\r" with "\r\nOK\r\n" over pipes.
 *
 *   atecho            (stdin: command lines ended by CR; stdout: answers)
 *
 * One read() per wake-up, one write() per CR seen, nothing else: what is
 * left of tlsmodem's round trip above this is the AT engine, the dialect's
 * table and voice, and the poll() loop. */
#include <unistd.h>

int main(void)
{
    static const char ok[] = "\r\nOK\r\n";
    char buf[4096];
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n <= 0)
            return 0;
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] == '\r' && write(1, ok, sizeof ok - 1) != (ssize_t)(sizeof ok - 1))
                return 1;
    }
}
