/* The trace line format (ISO date-time, identity, category), bytes shown with
 * quotes as themselves, and progress lines on long transfers. */
#include "core/trace.h"
#include "tm_test.h"

#include <regex.h>
#include <stdbool.h>

static char g_lines[16][2200];
static int  g_n;

static void sink(void *arg, const char *line, size_t len)
{
    (void)arg;
    if (g_n < 16) {
        snprintf(g_lines[g_n], sizeof g_lines[g_n], "%.*s", (int)len, line);
        g_n++;
    }
}

static bool matches(const char *rx, const char *s)
{
    regex_t re;
    if (regcomp(&re, rx, REG_EXTENDED | REG_NOSUB) != 0)
        return false;
    bool ok = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

static void test_format(void)
{
    g_n = 0;
    tm_trace_set_ident("ttyS1");
    tm_trace("host", "hello %d", 42);
    TM_EQ_INT(g_n, 1);
    TM_CHECK_MSG(matches("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z ttyS1 host    hello 42\n$",
                         g_lines[0]), "%s", g_lines[0]);
    tm_trace_set_ident(NULL);     /* no identity: no empty column */
    tm_trace("at<", "AT");
    TM_CHECK_MSG(matches("^[0-9-]{10}T[0-9:.]{12}Z at<     AT\n$", g_lines[1]), "%s", g_lines[1]);
}

static void test_bytes(void)
{
    g_n = 0;
    tm_trace_set_ident("m");
    tm_trace_bytes("hl", "h: ", "say \"hi\"\r\n\x01\\", 12);
    TM_EQ_INT(g_n, 1);
    const char *text = strstr(g_lines[0], "h: ");
    TM_EQ_STR(text, "h: say \"hi\"\\r\\n\\x01\\x5c\n");
    char big[1000];
    memset(big, 'a', sizeof big);
    tm_trace_bytes("hl", "", big, sizeof big);
    TM_CHECK_MSG(strstr(g_lines[1], "...(+600 bytes)\n") != NULL, "%s", g_lines[1]);
}

static void test_progress(void)
{
    g_n = 0;
    tm_trace_progress p;
    tm_trace_progress_start(&p);
    tm_trace_progress_add(&p, "http", "GET /big HTTP/1.1", "body received", 1u << 20);
    TM_EQ_INT(g_n, 0);                                   /* 1 MiB: not yet */
    tm_trace_progress_add(&p, "http", "GET /big HTTP/1.1", "body received", 3u << 20);
    TM_EQ_INT(g_n, 1);                                   /* 4 MiB: one line */
    TM_CHECK_MSG(matches("http    GET /big HTTP/1\\.1: body received 4\\.0 MiB so far \\(4194304 bytes\\) in [0-9.]+ s, "
                         "[0-9.]+ MiB/s now, [0-9.]+ MiB/s average\n$", g_lines[0]), "%s", g_lines[0]);
    tm_trace_progress_add(&p, "http", "GET /big HTTP/1.1", "body received", 1u << 20);
    TM_EQ_INT(g_n, 1);                                   /* counted from the last line */
    tm_trace_progress_add(&p, "http", "GET /big HTTP/1.1", "body received", 3u << 20);
    TM_EQ_INT(g_n, 2);
    TM_CHECK_MSG(strstr(g_lines[1], "8.0 MiB so far (8388608 bytes)") != NULL, "%s", g_lines[1]);
    tm_trace_progress_add(&p, "http", "x", "y", 0);      /* nothing moved: nothing said */
    TM_EQ_INT(g_n, 2);
}

int main(void)
{
    tm_trace_set_sink(sink, NULL);
    test_format();
    test_bytes();
    test_progress();
    TM_TEST_MAIN_END();
}
