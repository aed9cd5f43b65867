/* URL parsing for the HTTP commands that take a whole URL (see http.h). */
#include "http/http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* At most 80 bytes of the URL for messages, control bytes shown as \xNN. */
static const char *shown(const char *url, size_t len, char *buf, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len && i < 80 && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c < 0x20 || c >= 0x7f)
            o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
        else
            buf[o++] = (char)c;
    }
    if (len > 80 && o + 4 < cap) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

tm_err tm_http_url_parse(const char *url, size_t len, tm_http_url *out, tm_reason *why)
{
    char sh[420];
    memset(out, 0, sizeof *out);
    if (len == 0)
        return tm_fail(why, TM_E_ARG_BAD, "the URL is empty (give \"http://host/path\" or \"https://host/path\")");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c >= 0x7f)
            return tm_fail(why, TM_E_ARG_BAD, "the URL \"%s\" contains %s at byte %zu; a URL has no blanks, "
                           "control or non-ASCII bytes (percent-encode them: %%20)", shown(url, len, sh, sizeof sh),
                           c == ' ' ? "a space" : "a control or non-ASCII byte", i + 1);
    }
    size_t pos;
    if (len >= 7 && strncasecmp(url, "http://", 7) == 0) {
        pos = 7;
    } else if (len >= 8 && strncasecmp(url, "https://", 8) == 0) {
        pos = 8;
        out->tls = true;
    } else {
        const char *colon = memchr(url, ':', len);
        if (colon && colon + 2 < url + len && colon[1] == '/' && colon[2] == '/')
            return tm_fail(why, TM_E_ARG_BAD, "the URL \"%s\" has the scheme \"%.*s\"; only http:// and https:// "
                           "are supported", shown(url, len, sh, sizeof sh), (int)(colon - url), url);
        return tm_fail(why, TM_E_ARG_BAD, "the URL \"%s\" does not start with http:// or https://",
                       shown(url, len, sh, sizeof sh));
    }
    size_t auth_end = pos;
    while (auth_end < len && url[auth_end] != '/' && url[auth_end] != '?' && url[auth_end] != '#')
        auth_end++;
    const char *a = url + pos;
    size_t an = auth_end - pos;
    if (memchr(a, '@', an))
        return tm_fail(why, TM_E_ARG_BAD, "the URL \"%s\" carries user information before '@'; it is not "
                       "supported (send credentials in an Authorization header)", shown(url, len, sh, sizeof sh));
    const char *host = a, *port = NULL;
    size_t hn, pn = 0;
    if (an && a[0] == '[') {
        const char *rb = memchr(a, ']', an);
        if (!rb)
            return tm_fail(why, TM_E_ARG_BAD, "the URL \"%s\" opens an IPv6 address with '[' but never closes it",
                           shown(url, len, sh, sizeof sh));
        host = a + 1;
        hn = (size_t)(rb - a) - 1;
        size_t rest = an - (size_t)(rb - a) - 1;
        if (rest) {
            if (rb[1] != ':')
                return tm_fail(why, TM_E_ARG_BAD, "the URL \"%s\": after ']' only \":port\" may follow",
                               shown(url, len, sh, sizeof sh));
            port = rb + 2;
            pn = rest - 1;
        }
    } else {
        const char *c = memchr(a, ':', an);
        hn = c ? (size_t)(c - a) : an;
        if (c) {
            port = c + 1;
            pn = an - hn - 1;
        }
    }
    if (hn == 0)
        return tm_fail(why, TM_E_ARG_BAD, "the URL \"%s\" has no host name", shown(url, len, sh, sizeof sh));
    if (hn >= sizeof out->host)
        return tm_fail(why, TM_E_TOO_LARGE, "the host name in the URL is %zu bytes; at most %zu", hn,
                       sizeof out->host - 1);
    memcpy(out->host, host, hn);
    out->host[hn] = '\0';
    out->port = out->tls ? 443 : 80;
    if (port) {
        unsigned long v = 0;
        if (pn == 0 || pn > 5)
            return tm_fail(why, TM_E_ARG_BAD, "the URL \"%s\" has %s port after ':'", shown(url, len, sh, sizeof sh),
                           pn ? "a too long" : "an empty");
        for (size_t i = 0; i < pn; i++) {
            if (port[i] < '0' || port[i] > '9')
                return tm_fail(why, TM_E_ARG_BAD, "the URL \"%s\": the port \"%.*s\" is not a number",
                               shown(url, len, sh, sizeof sh), (int)pn, port);
            v = v * 10 + (unsigned long)(port[i] - '0');
        }
        if (v < 1 || v > 65535)
            return tm_fail(why, TM_E_ARG_BAD, "the URL \"%s\": port %lu is out of range 1..65535",
                           shown(url, len, sh, sizeof sh), v);
        out->port = (uint16_t)v;
    }
    size_t pe = auth_end;
    while (pe < len && url[pe] != '#')
        pe++;                                  /* a fragment never goes to the server */
    size_t un = pe - auth_end;
    bool slash = un == 0 || url[auth_end] != '/';
    if (un + (slash ? 1 : 0) >= sizeof out->uri)
        return tm_fail(why, TM_E_TOO_LARGE, "the path of the URL is %zu bytes; at most %zu", un,
                       sizeof out->uri - 2);
    size_t o = 0;
    if (slash)
        out->uri[o++] = '/';
    memcpy(out->uri + o, url + auth_end, un);
    out->uri[o + un] = '\0';
    return TM_OK;
}
