/* Minimal unit-test helpers: every check counts; the program prints
 * "<file>: N passed, N failed" and exits 1 on any failure. */
#ifndef TM_TEST_H
#define TM_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tm_t_pass, tm_t_fail;

#define TM_CHECK(cond) do { if (cond) tm_t_pass++; else { tm_t_fail++; \
    fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)

#define TM_CHECK_MSG(cond, ...) do { if (cond) tm_t_pass++; else { tm_t_fail++; \
    fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

#define TM_EQ_INT(a, b) do { long long tm_a = (long long)(a), tm_b = (long long)(b); \
    if (tm_a == tm_b) tm_t_pass++; else { tm_t_fail++; \
    fprintf(stderr, "%s:%d: %s == %s: got %lld, want %lld\n", __FILE__, __LINE__, #a, #b, tm_a, tm_b); } } while (0)

#define TM_EQ_STR(a, b) do { const char *tm_a = (a), *tm_b = (b); \
    if (tm_a && tm_b && strcmp(tm_a, tm_b) == 0) tm_t_pass++; else { tm_t_fail++; \
    fprintf(stderr, "%s:%d: %s == %s:\n  got  \"%s\"\n  want \"%s\"\n", __FILE__, __LINE__, #a, #b, \
            tm_a ? tm_a : "(null)", tm_b ? tm_b : "(null)"); } } while (0)

#define TM_EQ_MEM(a, alen, b, blen) do { size_t tm_al = (alen), tm_bl = (blen); \
    if (tm_al == tm_bl && memcmp((a), (b), tm_al) == 0) tm_t_pass++; else { tm_t_fail++; \
    fprintf(stderr, "%s:%d: %s (%zu bytes) != %s (%zu bytes)\n", __FILE__, __LINE__, #a, tm_al, #b, tm_bl); \
    fprintf(stderr, "  got  \"%.*s\"\n  want \"%.*s\"\n", (int)tm_al, (const char *)(a), (int)tm_bl, (const char *)(b)); } } while (0)

#define TM_TEST_MAIN_END() do { \
    printf("%s: %d passed, %d failed\n", __FILE__, tm_t_pass, tm_t_fail); \
    return tm_t_fail ? 1 : 0; } while (0)

#endif
