/* Unit tests: user header checks and request head building (src/http/request.c). */
#include "tm_test.h"
#include "http/http.h"

typedef struct {
    const char *in;
    tm_err      err;
    const char *out_or_detail;   /* normalized output when TM_OK, else a detail substring */
} hdr_row;

static const hdr_row ROWS[] = {
    { "", TM_OK, "" },
    { "Accept: text/html", TM_OK, "Accept: text/html\r\n" },
    { "Accept: text/html\r\n", TM_OK, "Accept: text/html\r\n" },
    { "Accept: text/html\n", TM_OK, "Accept: text/html\r\n" },
    { "A: 1\nB: 2\r\nC: 3", TM_OK, "A: 1\r\nB: 2\r\nC: 3\r\n" },
    { "A: 1\r\n\r\n", TM_OK, "A: 1\r\n" },                     /* trailing empty line dropped */
    { "X-Empty:", TM_OK, "X-Empty:\r\n" },
    { "X-Tab:\tvalue", TM_OK, "X-Tab:\tvalue\r\n" },
    { "X-Utf8: caf\xc3\xa9", TM_OK, "X-Utf8: caf\xc3\xa9\r\n" },
    { "Authorization: Bearer a.b.c", TM_OK, "Authorization: Bearer a.b.c\r\n" },
    { "x!#$%&'*+-.^_`|~: ok", TM_OK, "x!#$%&'*+-.^_`|~: ok\r\n" },
    { "Accept : text/html", TM_E_HTTP_HEADER_SYNTAX,
      "line 1 \"Accept : text/html\" has a space before the colon; send \"Accept: text/html\"" },
    { "A: 1\r\nContent-Type  :application/json", TM_E_HTTP_HEADER_SYNTAX,
      "line 2 \"Content-Type  :application/json\" has a space before the colon; send \"Content-Type: application/json\"" },
    { "Accept text/html", TM_E_HTTP_HEADER_SYNTAX, "line 1 \"Accept text/html\" has no colon" },
    { "A: 1\n\nB: 2", TM_E_HTTP_HEADER_SYNTAX, "line 2 is empty" },
    { "A: 1\r\n folded", TM_E_HTTP_HEADER_SYNTAX, "line 2 \" folded\" starts with white space (obsolete line folding)" },
    { "A: 1\r\n\tfolded", TM_E_HTTP_HEADER_SYNTAX, "obsolete line folding" },
    { "A: x\x01y", TM_E_HTTP_HEADER_SYNTAX, "line 1 \"A: x\\x01y\" has the control byte 0x01 at column 5" },
    { "A: x\ry", TM_E_HTTP_HEADER_SYNTAX, "control byte 0x0d" },
    { "A: x\x7f", TM_E_HTTP_HEADER_SYNTAX, "control byte 0x7f" },
    { ": value", TM_E_HTTP_HEADER_SYNTAX, "line 1 \": value\" has no header name" },
    { "Bad(name): v", TM_E_HTTP_HEADER_SYNTAX, "the header name has the character '('" },
    { "\xe2\x80\x9c" "Accept\xe2\x80\x9d: x", TM_E_HTTP_HEADER_SYNTAX, "header name" },
};

static void test_check(void)
{
    char out[1024];
    for (size_t i = 0; i < sizeof ROWS / sizeof ROWS[0]; i++) {
        const hdr_row *r = &ROWS[i];
        tm_reason why;
        tm_reason_clear(&why);
        size_t ol = 99;
        tm_err e = tm_http_check_headers(r->in, strlen(r->in), out, sizeof out, &ol, &why);
        TM_CHECK_MSG(e == r->err, "row %zu \"%s\": err %d want %d (%s)", i, r->in, e, r->err, why.detail);
        if (r->err == TM_OK && e == TM_OK) {
            TM_EQ_STR(out, r->out_or_detail);
            TM_EQ_INT(ol, strlen(r->out_or_detail));
        } else if (e != TM_OK) {
            TM_CHECK_MSG(strstr(why.detail, r->out_or_detail) != NULL, "row %zu: detail \"%s\" lacks \"%s\"", i,
                         why.detail, r->out_or_detail);
        }
    }
    /* NULL input, NULL output (size only) */
    size_t ol;
    tm_reason why;
    TM_EQ_INT(tm_http_check_headers(NULL, 0, out, sizeof out, &ol, &why), TM_OK);
    TM_EQ_INT(ol, 0);
    TM_EQ_INT(tm_http_check_headers("A: 1\nB: 2", 9, NULL, 0, &ol, &why), TM_OK);
    TM_EQ_INT(ol, 12);
    /* too small */
    TM_EQ_INT(tm_http_check_headers("A: 1\nB: 2", 9, out, 8, &ol, &why), TM_E_TOO_LARGE);
}

static void test_value(void)
{
    const char *h = "HTTP/1.1 200 OK\r\nContent-Type:  text/plain \r\nX-A: 1\nx-a: 2\r\nEmpty:\r\n\r\n";
    char v[64];
    TM_CHECK(tm_http_header_value(h, "content-type", v, sizeof v));
    TM_EQ_STR(v, "text/plain");
    TM_CHECK(tm_http_header_value(h, "X-A", v, sizeof v));
    TM_EQ_STR(v, "1");
    TM_CHECK(tm_http_header_value(h, "Empty", v, sizeof v));
    TM_EQ_STR(v, "");
    TM_CHECK(!tm_http_header_value(h, "Content", v, sizeof v));
    TM_CHECK(!tm_http_header_value(h, "Missing", v, sizeof v));
    TM_CHECK(tm_http_header_value(h, "content-type", v, 5));
    TM_EQ_STR(v, "text");
}

typedef struct {
    const char       *name;
    const char       *host;
    uint16_t          port;
    bool              tls;
    const char       *method;
    const char       *uri;
    const char       *headers;
    tm_http_body_mode mode;
    uint64_t          len;
    const char       *user, *pass;
    tm_err            err;
    const char       *expect;   /* head, or detail substring on error */
    uint64_t          expect_len;
} build_row;

static const build_row BUILD[] = {
    { "get tls default port", "example.com", 443, true, "GET", "/", NULL, TM_HTTP_BODY_NONE, 0, NULL, NULL,
      TM_OK, "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", 0 },
    { "get plain default port", "example.com", 80, false, "GET", "/a?b=c", NULL, TM_HTTP_BODY_NONE, 0, NULL, NULL,
      TM_OK, "GET /a?b=c HTTP/1.1\r\nHost: example.com\r\n\r\n", 0 },
    { "tls on 80 shows port", "example.com", 80, true, "GET", "/", NULL, TM_HTTP_BODY_NONE, 0, NULL, NULL,
      TM_OK, "GET / HTTP/1.1\r\nHost: example.com:80\r\n\r\n", 0 },
    { "plain on 443 shows port", "example.com", 443, false, "GET", "/", NULL, TM_HTTP_BODY_NONE, 0, NULL, NULL,
      TM_OK, "GET / HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 0 },
    { "other port", "h.test", 8443, true, "HEAD", "/x", NULL, TM_HTTP_BODY_NONE, 0, NULL, NULL,
      TM_OK, "HEAD /x HTTP/1.1\r\nHost: h.test:8443\r\n\r\n", 0 },
    { "ipv6", "::1", 8080, false, "GET", "/", NULL, TM_HTTP_BODY_NONE, 0, NULL, NULL,
      TM_OK, "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", 0 },
    { "empty uri", "h", 443, true, "GET", "", NULL, TM_HTTP_BODY_NONE, 0, NULL, NULL,
      TM_OK, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 0 },
    { "user host overrides", "10.0.0.1", 8443, true, "GET", "/", "Host: api.example.com\nAccept: */*\n",
      TM_HTTP_BODY_NONE, 0, NULL, NULL,
      TM_OK, "GET / HTTP/1.1\r\nHost: api.example.com\r\nAccept: */*\r\n\r\n", 0 },
    { "user headers normalized", "h", 443, true, "GET", "/", "A: 1\nB: 2", TM_HTTP_BODY_NONE, 0, NULL, NULL,
      TM_OK, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n", 0 },
    { "post length", "h", 443, true, "POST", "/p", "Content-Type: application/json\r\n", TM_HTTP_BODY_LENGTH, 17,
      NULL, NULL, TM_OK,
      "POST /p HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n", 17 },
    { "user content-length kept", "h", 443, true, "PUT", "/p", "Content-Length: 5", TM_HTTP_BODY_LENGTH, 0,
      NULL, NULL, TM_OK, "PUT /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n", 5 },
    { "user content-length equal", "h", 443, true, "PUT", "/p", "content-length: 5", TM_HTTP_BODY_LENGTH, 5,
      NULL, NULL, TM_OK, "PUT /p HTTP/1.1\r\nHost: h\r\ncontent-length: 5\r\n\r\n", 5 },
    { "user content-length differs", "h", 443, true, "PUT", "/p", "Content-Length: 5", TM_HTTP_BODY_LENGTH, 6,
      NULL, NULL, TM_E_HTTP_BODY_LENGTH, "Content-Length: 5 but the body is 6 bytes", 0 },
    { "user content-length junk", "h", 443, true, "PUT", "/p", "Content-Length: five", TM_HTTP_BODY_LENGTH, 0,
      NULL, NULL, TM_E_HTTP_HEADER_SYNTAX, "is not a number", 0 },
    { "chunked", "h", 443, true, "POST", "/c", NULL, TM_HTTP_BODY_CHUNKED, 0, NULL, NULL,
      TM_OK, "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", 0 },
    { "chunked user te kept", "h", 443, true, "POST", "/c", "Transfer-Encoding: chunked", TM_HTTP_BODY_CHUNKED, 0,
      NULL, NULL, TM_OK, "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", 0 },
    { "chunked with content-length", "h", 443, true, "POST", "/c", "Content-Length: 3", TM_HTTP_BODY_CHUNKED, 0,
      NULL, NULL, TM_E_HTTP_HEADER_SYNTAX, "remove Content-Length", 0 },
    { "raw passes user te", "h", 443, true, "POST", "/r", "Transfer-Encoding: chunked", TM_HTTP_BODY_RAW, 0,
      NULL, NULL, TM_OK, "POST /r HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", 0 },
    { "post without body", "h", 443, true, "POST", "/e", NULL, TM_HTTP_BODY_NONE, 0, NULL, NULL,
      TM_OK, "POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", 0 },
    { "delete without body", "h", 443, true, "DELETE", "/e", NULL, TM_HTTP_BODY_NONE, 0, NULL, NULL,
      TM_OK, "DELETE /e HTTP/1.1\r\nHost: h\r\n\r\n", 0 },
    { "basic auth", "h", 443, true, "GET", "/", NULL, TM_HTTP_BODY_NONE, 0, "Aladdin", "open sesame",
      TM_OK, "GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n", 0 },
    { "user authorization wins", "h", 443, true, "GET", "/", "Authorization: Bearer t", TM_HTTP_BODY_NONE, 0,
      "u", "p", TM_OK, "GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer t\r\n\r\n", 0 },
    { "bad header", "h", 443, true, "GET", "/", "Accept : x", TM_HTTP_BODY_NONE, 0, NULL, NULL,
      TM_E_HTTP_HEADER_SYNTAX, "space before the colon", 0 },
    { "uri with space", "h", 443, true, "GET", "/a b", NULL, TM_HTTP_BODY_NONE, 0, NULL, NULL,
      TM_E_ARG_BAD, "a space at position 3; encode it as %20", 0 },
    { "bad method", "h", 443, true, "GE T", "/", NULL, TM_HTTP_BODY_NONE, 0, NULL, NULL,
      TM_E_ARG_BAD, "not an HTTP token", 0 },
};

static void test_build(void)
{
    static char out[TM_HTTP_HEADER_MAX + TM_HTTP_URI_MAX + 1024];
    for (size_t i = 0; i < sizeof BUILD / sizeof BUILD[0]; i++) {
        const build_row *b = &BUILD[i];
        tm_http_request req;
        memset(&req, 0, sizeof req);
        snprintf(req.conn.host, sizeof req.conn.host, "%s", b->host);
        req.conn.port = b->port;
        req.conn.use_tls = b->tls;
        req.method = b->method;
        req.uri = b->uri;
        req.user_headers = b->headers;
        req.body_mode = b->mode;
        req.body_length = b->len;
        req.basic_user = b->user;
        req.basic_pass = b->pass;
        tm_reason why;
        tm_reason_clear(&why);
        size_t ol = 0;
        uint64_t bl = 12345;
        tm_err e = tm_http_build_head(&req, out, sizeof out, &ol, &bl, &why);
        TM_CHECK_MSG(e == b->err, "%s: err %d want %d (%s)", b->name, e, b->err, why.detail);
        if (e == TM_OK && b->err == TM_OK) {
            TM_CHECK_MSG(ol == strlen(b->expect) && memcmp(out, b->expect, ol) == 0, "%s:\n  got  \"%.*s\"\n  want \"%s\"",
                         b->name, (int)ol, out, b->expect);
            TM_CHECK_MSG(bl == b->expect_len, "%s: body length %llu", b->name, (unsigned long long)bl);
        } else if (e != TM_OK) {
            TM_CHECK_MSG(strstr(why.detail, b->expect) != NULL, "%s: detail \"%s\" lacks \"%s\"", b->name,
                         why.detail, b->expect);
        }
    }
    /* a head that does not fit */
    tm_http_request req;
    memset(&req, 0, sizeof req);
    snprintf(req.conn.host, sizeof req.conn.host, "h");
    req.uri = "/";
    tm_reason why;
    size_t ol;
    TM_EQ_INT(tm_http_build_head(&req, out, 20, &ol, NULL, &why), TM_E_TOO_LARGE);
    /* URI too long */
    static char longuri[TM_HTTP_URI_MAX + 2];
    memset(longuri, 'a', sizeof longuri - 1);
    longuri[0] = '/';
    req.uri = longuri;
    TM_EQ_INT(tm_http_build_head(&req, out, sizeof out, &ol, NULL, &why), TM_E_ARG_BAD);
}

int main(void)
{
    test_check();
    test_value();
    test_build();
    TM_TEST_MAIN_END();
}
