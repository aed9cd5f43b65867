/* See hostmatch.h. */
#include "tls/hostmatch.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int tm_host_parse_ip(const char *host, uint8_t out[16])
{
    if (!host || !*host)
        return 0;
    char buf[64];
    size_t n = strlen(host);
    if (host[0] == '[') {
        if (n < 3 || host[n - 1] != ']' || n - 2 >= sizeof buf)
            return 0;
        memcpy(buf, host + 1, n - 2);
        buf[n - 2] = '\0';
        if (inet_pton(AF_INET6, buf, out) == 1)
            return 16;
        return 0;
    }
    if (n >= sizeof buf)
        return 0;
    memcpy(buf, host, n + 1);
    if (inet_pton(AF_INET, buf, out) == 1)
        return 4;
    if (inet_pton(AF_INET6, buf, out) == 1)
        return 16;
    return 0;
}

const char *tm_host_ip_str(const uint8_t *ip, size_t len, char *buf, size_t cap)
{
    char tmp[INET6_ADDRSTRLEN];
    if (len == 4 && inet_ntop(AF_INET, ip, tmp, sizeof tmp))
        snprintf(buf, cap, "%s", tmp);
    else if (len == 16 && inet_ntop(AF_INET6, ip, tmp, sizeof tmp))
        snprintf(buf, cap, "%s", tmp);
    else
        snprintf(buf, cap, "(%zu-byte address)", len);
    return buf;
}

bool tm_host_match_ip(const uint8_t *san_ip, size_t len, const char *host_literal)
{
    uint8_t a[16];
    int n = tm_host_parse_ip(host_literal, a);
    if (!san_ip || n == 0 || (size_t)n != len)
        return false;
    return memcmp(a, san_ip, len) == 0;
}

/* Length without one trailing dot. */
static size_t trimmed_len(const char *s)
{
    size_t n = strlen(s);
    if (n > 0 && s[n - 1] == '.')
        n--;
    return n;
}

static size_t count_labels(const char *s, size_t n)
{
    size_t labels = n ? 1 : 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '.')
            labels++;
    return labels;
}

static bool has_empty_label(const char *s, size_t n)
{
    if (n == 0 || s[0] == '.' || s[n - 1] == '.')
        return true;
    for (size_t i = 1; i < n; i++)
        if (s[i] == '.' && s[i - 1] == '.')
            return true;
    return false;
}

const char *tm_host_pattern_refused(const char *pattern)
{
    if (!pattern)
        return "empty pattern";
    size_t n = trimmed_len(pattern);
    const char *star = memchr(pattern, '*', n);
    if (!star)
        return n == 0 ? "empty pattern" : NULL;
    if (memchr(star + 1, '*', n - (size_t)(star - pattern) - 1))
        return "more than one wildcard";
    if (star != pattern)
        return memchr(pattern, '.', (size_t)(star - pattern)) ? "wildcard not in the left-most label"
                                                              : "partial-label wildcard";
    if (n < 2 || pattern[1] != '.')
        return n == 1 ? "bare wildcard" : "partial-label wildcard";
    if (has_empty_label(pattern, n))
        return "empty label";
    if (count_labels(pattern, n) < 3)
        return "wildcard over fewer than 3 labels";
    return NULL;
}

bool tm_host_match_dns(const char *pattern, const char *host)
{
    if (!pattern || !host)
        return false;
    uint8_t ip[16];
    if (tm_host_parse_ip(host, ip))
        return false;                       /* IP literals match iPAddress SANs only */
    size_t pn = trimmed_len(pattern), hn = trimmed_len(host);
    if (hn < strlen(host) && hn < 64) {     /* "127.0.0.1." / "::1." are IP literals too */
        char tmp[64];
        memcpy(tmp, host, hn);
        tmp[hn] = '\0';
        if (tm_host_parse_ip(tmp, ip))
            return false;
    }
    if (pn == 0 || hn == 0 || has_empty_label(host, hn))
        return false;
    if (memchr(host, '*', hn))
        return false;
    if (!memchr(pattern, '*', pn))
        return pn == hn && strncasecmp(pattern, host, pn) == 0;
    if (tm_host_pattern_refused(pattern))
        return false;
    /* "*.rest": host must be "label.rest" with one non-empty, non-A-label label. */
    const char *dot = memchr(host, '.', hn);
    if (!dot || dot == host)
        return false;
    size_t first = (size_t)(dot - host);
    if (first >= 4 && strncasecmp(host, "xn--", 4) == 0)
        return false;
    size_t rest_h = hn - first, rest_p = pn - 1;   /* both start at the '.' */
    return rest_h == rest_p && strncasecmp(dot, pattern + 1, rest_p) == 0;
}
