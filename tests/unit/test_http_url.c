/* Unit tests: URL parsing for the ESP-AT HTTP commands (src/http/url.c). */
#include "tm_test.h"
#include "http/http.h"

typedef struct {
    const char *in;
    tm_err      err;
    bool        tls;
    const char *host;
    int         port;
    const char *uri_or_detail;   /* uri when TM_OK, else a detail substring */
} url_row;

static const url_row ROWS[] = {
    { "http://example.com", TM_OK, false, "example.com", 80, "/" },
    { "https://example.com", TM_OK, true, "example.com", 443, "/" },
    { "HTTPS://Example.com/a/b?x=1&y=2", TM_OK, true, "Example.com", 443, "/a/b?x=1&y=2" },
    { "http://127.0.0.1:8080/get", TM_OK, false, "127.0.0.1", 8080, "/get" },
    { "https://h.test:8443?q", TM_OK, true, "h.test", 8443, "/?q" },
    { "http://[::1]:81/x", TM_OK, false, "::1", 81, "/x" },
    { "https://[2001:db8::1]/", TM_OK, true, "2001:db8::1", 443, "/" },
    { "http://h/p#frag", TM_OK, false, "h", 80, "/p" },
    { "", TM_E_ARG_BAD, false, "", 0, "the URL is empty" },
    { "ftp://h/x", TM_E_ARG_BAD, false, "", 0, "the scheme \"ftp\"" },
    { "example.com/x", TM_E_ARG_BAD, false, "", 0, "does not start with http:// or https://" },
    { "http:///x", TM_E_ARG_BAD, false, "", 0, "has no host name" },
    { "http://h:0/", TM_E_ARG_BAD, false, "", 0, "port 0 is out of range" },
    { "http://h:70000/", TM_E_ARG_BAD, false, "", 0, "port 70000 is out of range" },
    { "http://h:/", TM_E_ARG_BAD, false, "", 0, "empty port" },
    { "http://h:8o/", TM_E_ARG_BAD, false, "", 0, "is not a number" },
    { "http://u:p@h/", TM_E_ARG_BAD, false, "", 0, "user information" },
    { "http://[::1/", TM_E_ARG_BAD, false, "", 0, "never closes it" },
    { "http://h/a b", TM_E_ARG_BAD, false, "", 0, "contains a space at byte 11" },
    { "http://h/\x01", TM_E_ARG_BAD, false, "", 0, "control or non-ASCII byte" },
};

static void test_rows(void)
{
    for (size_t i = 0; i < sizeof ROWS / sizeof ROWS[0]; i++) {
        const url_row *r = &ROWS[i];
        tm_http_url u;
        tm_reason why;
        tm_reason_clear(&why);
        tm_err e = tm_http_url_parse(r->in, strlen(r->in), &u, &why);
        TM_CHECK_MSG(e == r->err, "row %zu \"%s\": err %d want %d (%s)", i, r->in, e, r->err, why.detail);
        if (e == TM_OK && r->err == TM_OK) {
            TM_EQ_INT(u.tls, r->tls);
            TM_EQ_STR(u.host, r->host);
            TM_EQ_INT(u.port, r->port);
            TM_EQ_STR(u.uri, r->uri_or_detail);
        } else if (e != TM_OK) {
            TM_CHECK_MSG(strstr(why.detail, r->uri_or_detail) != NULL, "row %zu: detail \"%s\" lacks \"%s\"", i,
                         why.detail, r->uri_or_detail);
        }
    }
}

static void test_limits(void)
{
    static char url[TM_HTTP_URI_MAX + 64];
    tm_http_url u;
    tm_reason why;
    strcpy(url, "http://h/");
    memset(url + 9, 'a', TM_HTTP_URI_MAX);
    url[9 + TM_HTTP_URI_MAX] = '\0';
    TM_EQ_INT(tm_http_url_parse(url, strlen(url), &u, &why), TM_E_TOO_LARGE);
    strcpy(url, "http://");
    memset(url + 7, 'a', TM_HOST_MAX);
    url[7 + TM_HOST_MAX] = '\0';
    TM_EQ_INT(tm_http_url_parse(url, strlen(url), &u, &why), TM_E_TOO_LARGE);
    /* length, not the NUL, bounds the URL */
    TM_EQ_INT(tm_http_url_parse("http://h/abc", 10, &u, &why), TM_OK);
    TM_EQ_STR(u.uri, "/a");
}

int main(void)
{
    test_rows();
    test_limits();
    TM_TEST_MAIN_END();
}
