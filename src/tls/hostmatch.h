/* tlsmodem — RFC 6125 host-name matching (ours, not the backend's).
 *
 * Pure C, no TLS library: used by the policy (policy.c) on the names the
 * backend extracted from the server certificate, and table-tested in
 * tests/unit/test_hostmatch.c.
 *
 * DNS rules (tm_host_match_dns):
 *  - case-insensitive ASCII; one trailing dot ignored on both sides; IDNA
 *    names are compared as their A-labels ("xn--…"), never decoded;
 *  - a wildcard is allowed only as the whole left-most label ("*.a.test"):
 *    it matches exactly one non-empty label ("b.a.test"), not "a.test" nor
 *    "c.b.a.test";
 *  - refused patterns (never match anything): partial-label wildcards
 *    ("f*.a.test", "*f.a.test"), a wildcard in another label ("a.*.test"),
 *    more than one '*', and wildcards over fewer than 3 labels ("*.test",
 *    "*") — a cheap stand-in for a public-suffix list;
 *  - a wildcard never matches an IDNA A-label ("xn--…") host label (as curl);
 *  - an IP-literal host never matches a dNSName, even "127.0.0.1" written as
 *    a dNSName (IP literals match iPAddress SANs only).
 * IP rules (tm_host_match_ip): the host literal is parsed (IPv4 dotted quad,
 * any textual IPv6 form, optionally in [brackets]) and compared byte-wise
 * with the SAN's 4 or 16 octets; a v4 host never matches a 16-byte SAN. */
#ifndef TM_HOSTMATCH_H
#define TM_HOSTMATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when the dNSName `pattern` from a certificate covers `host`. */
bool tm_host_match_dns(const char *pattern, const char *host);

/* True when the iPAddress SAN (4 or 16 bytes) equals the IP literal host. */
bool tm_host_match_ip(const uint8_t *san_ip, size_t len, const char *host_literal);

/* Parses an IP literal ("10.0.0.1", "::1", "[fe80::1]"); returns 4 or 16 and
 * fills out, or 0 when host is not an IP literal. */
int  tm_host_parse_ip(const char *host, uint8_t out[16]);

/* Why a wildcard pattern can never match (for reasons): NULL when the pattern
 * is acceptable, else e.g. "partial-label wildcard", "wildcard over fewer
 * than 3 labels". */
const char *tm_host_pattern_refused(const char *pattern);

/* Formats 4/16 SAN bytes as text ("127.0.0.1", "::1"). */
const char *tm_host_ip_str(const uint8_t *ip, size_t len, char *buf, size_t cap);

#endif
