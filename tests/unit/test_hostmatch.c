/* RFC 6125 host matching table (in the spirit of curl's unit1397). */
#include <stdint.h>

#include "tls/hostmatch.h"
#include "tm_test.h"

int64_t tm_port_wall_ms(void);
int64_t tm_port_wall_ms(void) { return 0; }

static const struct { const char *pattern, *host; bool match; } dns[] = {
    /* exact */
    { "www.example.test",   "www.example.test",   true  },
    { "WWW.Example.TEST",   "www.example.test",   true  },
    { "www.example.test",   "WWW.EXAMPLE.TEST",   true  },
    { "www.example.test.",  "www.example.test",   true  },
    { "www.example.test",   "www.example.test.",  true  },
    { "www.example.test.",  "www.example.test.",  true  },
    { "www.example.test",   "example.test",       false },
    { "example.test",       "www.example.test",   false },
    { "www.example.test",   "www.example.tes",    false },
    { "www.example.tes",    "www.example.test",   false },
    { "www.example.test",   "www.example.test..", false },
    { "",                   "a.test",             false },
    { "a.test",             "",                   false },
    { ".",                  ".",                  false },
    { "localhost",          "localhost",          true  },
    { "localhost",          "LOCALHOST.",         true  },
    /* left-most wildcard */
    { "*.a.test",           "b.a.test",           true  },
    { "*.a.test",           "B.A.TEST",           true  },
    { "*.A.TEST",           "b.a.test",           true  },
    { "*.a.test.",          "b.a.test",           true  },
    { "*.a.test",           "b.a.test.",          true  },
    { "*.a.test",           "a.test",             false },
    { "*.a.test",           "c.b.a.test",         false },
    { "*.a.test",           ".a.test",            false },
    { "*.a.test",           "b.a.test.x",         false },
    { "*.a.test",           "b.xa.test",          false },
    { "*.a.test",           "*.a.test",           false },
    { "*.ssllabs.com",      "www.ssllabs.com",    true  },
    { "*.ssllabs.com",      "ssllabs.com",        false },
    { "*.wild.test",        "a.wild.test",        true  },
    { "*.wild.test",        "a.b.wild.test",      false },
    { "*.wild.test",        "wild.test",          false },
    /* too wide */
    { "*.test",             "a.test",             false },
    { "*.test.",            "a.test",             false },
    { "*",                  "a",                  false },
    { "*.",                 "a.",                 false },
    { "*.com",              "example.com",        false },
    /* partial labels and misplaced wildcards are refused */
    { "f*.a.test",          "foo.a.test",         false },
    { "*o.a.test",          "foo.a.test",         false },
    { "f*o.a.test",         "foo.a.test",         false },
    { "a.*.test",           "a.b.test",           false },
    { "b.a.*",              "b.a.test",           false },
    { "**.a.test",          "b.a.test",           false },
    { "*.*.a.test",         "c.b.a.test",         false },
    { "*..a.test",          "b..a.test",          false },
    /* IDNA A-labels */
    { "xn--bcher-kva.test", "xn--bcher-kva.test", true  },
    { "XN--BCHER-KVA.test", "xn--bcher-kva.test", true  },
    { "*.xn--bcher-kva.test", "www.xn--bcher-kva.test", true },
    { "*.a.test",           "xn--bcher-kva.a.test", false },
    { "*.a.test",           "XN--bcher-kva.a.test", false },
    { "xn--*.a.test",       "xn--bcher-kva.a.test", false },
    /* IP literals never match a dNSName */
    { "127.0.0.1",          "127.0.0.1",          false },
    { "::1",                "::1",                false },
    { "*.0.0.1",            "127.0.0.1",          false },
    { "[::1]",              "[::1]",              false },
    /* not an IP literal: a name that looks close */
    { "127.0.0.1.test",     "127.0.0.1.test",     true  },
    { "*.0.0.1.test",       "127.0.0.1.test",     true  },
    /* an IP literal with a trailing dot is still an IP literal */
    { "127.0.0.1",          "127.0.0.1.",         false },
    { "::1",                "::1.",               false },
    { "2001:db8::1",        "2001:db8::1",        false },
    /* IDNA: A-labels compared as ASCII, never decoded; U-labels never match */
    { "xn--bcher-kva.test.", "XN--BCHER-KVA.TEST", true  },
    { "xn--bcher-kva.test", "b\xc3\xbc" "cher.test", false },
    { "*.xn--bcher-kva.test", "a.b.xn--bcher-kva.test", false },
    { "*.xn--bcher-kva.test", "xn--bcher-kva.test", false },
    /* trailing dots on wildcard patterns and hosts */
    { "*.a.test.",          "b.a.test.",          true  },
    { "*.a.test",           "a.test.",            false },
    /* wildcard host never matches */
    { "a.test",             "*.test",             false },
};

static const struct { const char *san; const char *host; bool match; } ips[] = {
    { "127.0.0.1",  "127.0.0.1",  true  },
    { "127.0.0.1",  "127.0.0.9",  false },
    { "127.0.0.1",  "localhost",  false },
    { "127.0.0.1",  "::ffff:127.0.0.1", false },
    { "::1",        "::1",        true  },
    { "::1",        "0:0:0:0:0:0:0:1", true },
    { "::1",        "0000:0000:0000:0000:0000:0000:0000:0001", true },
    { "::1",        "[::1]",      true  },
    { "::1",        "::2",        false },
    { "2001:db8::1","2001:DB8:0:0::1", true },
    { "2001:db8::1","2001:db8::10", false },
    { "::ffff:127.0.0.1", "::ffff:7f00:1", true },
    { "10.0.0.1",   "10.0.0.1.",  false },
    { "10.0.0.1",   "[10.0.0.1]", false },
    { "127.0.0.1",  "2130706433", false },   /* integer form is not an IP literal here */
    { "127.0.0.1",  "127.1",      false },
    { "::1",        "[::1]",      true  },
    { "fe80::1",    "FE80:0::1",  true  },
    { "::ffff:127.0.0.1", "127.0.0.1", false },   /* v4 host never matches a 16-byte SAN */
};

int main(void)
{
    for (size_t i = 0; i < sizeof dns / sizeof dns[0]; i++)
        TM_CHECK_MSG(tm_host_match_dns(dns[i].pattern, dns[i].host) == dns[i].match,
                     "row %zu: pattern '%s' host '%s' want %s", i, dns[i].pattern, dns[i].host,
                     dns[i].match ? "match" : "no match");

    for (size_t i = 0; i < sizeof ips / sizeof ips[0]; i++) {
        uint8_t b[16];
        int n = tm_host_parse_ip(ips[i].san, b);
        TM_CHECK(n == 4 || n == 16);
        TM_CHECK_MSG(tm_host_match_ip(b, (size_t)n, ips[i].host) == ips[i].match,
                     "ip row %zu: san '%s' host '%s'", i, ips[i].san, ips[i].host);
    }

    uint8_t b[16];
    TM_EQ_INT(tm_host_parse_ip("www.example.test", b), 0);
    TM_EQ_INT(tm_host_parse_ip("127.1", b), 0);
    TM_EQ_INT(tm_host_parse_ip("[127.0.0.1]", b), 0);
    TM_EQ_INT(tm_host_parse_ip("fe80::1", b), 16);
    TM_CHECK(tm_host_pattern_refused("*.a.test") == NULL);
    TM_CHECK(tm_host_pattern_refused("a.test") == NULL);
    TM_EQ_STR(tm_host_pattern_refused("*.test"), "wildcard over fewer than 3 labels");
    TM_EQ_STR(tm_host_pattern_refused("f*.a.test"), "partial-label wildcard");
    TM_EQ_STR(tm_host_pattern_refused("a.*.test"), "wildcard not in the left-most label");
    char s[64];
    TM_EQ_STR(tm_host_ip_str(b, 16, s, sizeof s), "fe80::1");
    TM_TEST_MAIN_END();
}
