/* tlsmodem — AT command-line tokenizer: V.250 syntax (basic commands,
 * extended commands chained with ';', quoted strings, typographic quotes)
 * and SPWF syntax (AT+S.NAME=raw,args, no quotes, no chaining).
 *
 * Input is at->cmd (the line after "AT", no control bytes but TAB); output
 * is at->tok with argument strings copied into at->argbuf. */
#include "at/at_internal.h"

#include <ctype.h>
#include <string.h>

typedef struct {
    tm_at      *at;
    const char *s;
    size_t      i;
    size_t      used;   /* bytes of argbuf in use */
} tk;

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

static void skip_blanks(tk *k)
{
    while (is_blank(k->s[k->i]))
        k->i++;
}

/* Length of a quote delimiter at s: 1 for ASCII '"', 3 for UTF-8
 * “ ” ‘ ’ (E2 80 9C/9D/98/99), else 0. */
static size_t quote_len(const char *s)
{
    if (s[0] == '"')
        return 1;
    const uint8_t *u = (const uint8_t *)s;
    if (u[0] == 0xE2 && u[1] == 0x80 && (u[2] == 0x9C || u[2] == 0x9D || u[2] == 0x98 || u[2] == 0x99))
        return 3;
    return 0;
}

static bool is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '!' || c == '%' || c == '-' || c == '.' ||
           c == '/' || c == ':' || c == '_';
}

static tm_err unexpected(tk *k, const char *after)
{
    char esc[40];
    size_t n = strlen(k->s + k->i);
    tm_at__escape(esc, sizeof esc, (const uint8_t *)k->s + k->i, n, 1);
    return tm_fail(&k->at->reason, TM_E_SYNTAX, "unexpected \"%s\" at position %zu%s%s", esc,
                   k->at->cmd_off + k->i + 1, after ? " after AT" : "", after ? after : "");
}

static tm_err new_arg(tk *k, tm_at_arg **out)
{
    tm_at_args *a = &k->at->tok.args;
    if (a->count >= TM_AT_ARGS_MAX)
        return tm_fail(&k->at->reason, TM_E_ARG_TOO_MANY, "AT%s: more than %d parameters",
                       k->at->tok.name, TM_AT_ARGS_MAX);
    tm_at_arg *g = &a->v[a->count++];
    g->p = k->at->argbuf + k->used;
    g->len = 0;
    g->flags = 0;
    *out = g;
    return TM_OK;
}

static void put(tk *k, tm_at_arg *g, char c)
{
    k->at->argbuf[k->used++] = c;
    g->len++;
}

static void end_arg(tk *k)
{
    k->at->argbuf[k->used++] = '\0';
}

/* A digits-only argument (basic command numbers, S-register values). */
static tm_err digits_arg(tk *k)
{
    tm_at_arg *g;
    tm_err e = new_arg(k, &g);
    if (e)
        return e;
    skip_blanks(k);
    while (isdigit((unsigned char)k->s[k->i])) {
        put(k, g, k->s[k->i++]);
        skip_blanks(k);
    }
    end_arg(k);
    return TM_OK;
}

/* V.250 argument list after '=', up to ';' or the end. */
static tm_err v250_args(tk *k)
{
    for (;;) {
        tm_at_arg *g;
        tm_err e = new_arg(k, &g);
        if (e)
            return e;
        int idx = k->at->tok.args.count;
        for (;;) {
            char c = k->s[k->i];
            if (c == '\0' || c == ';' || c == ',')
                break;
            if (is_blank(c)) {
                k->i++;
                continue;
            }
            size_t q = quote_len(k->s + k->i);
            if (!q) {
                put(k, g, c);
                k->i++;
                continue;
            }
            bool smart = q == 3;
            size_t open_at = k->i;
            g->flags |= smart ? TM_ARG_SMARTQUOTES : TM_ARG_QUOTED;
            k->i += q;
            for (;;) {
                if (k->s[k->i] == '\0') {
                    k->i = open_at;
                    return tm_fail(&k->at->reason, TM_E_SYNTAX,
                                   "unterminated quoted string in parameter %d of AT%s (opened at position %zu)",
                                   idx, k->at->tok.name, k->at->cmd_off + open_at + 1);
                }
                size_t q2 = quote_len(k->s + k->i);
                /* ASCII "…" ends only at ASCII '"' (so ’ may appear inside);
                 * a typographic quote ends at any quote. */
                if (q2 && (smart || q2 == 1)) {
                    if (q2 == 3)
                        g->flags |= TM_ARG_SMARTQUOTES;
                    k->i += q2;
                    break;
                }
                if (k->s[k->i] == '\\' && k->s[k->i + 1] != '\0' && k->at->d->backslash_escapes)
                    k->i++;         /* ESP: \x is x (\" \\ \, inside a value) */
                put(k, g, k->s[k->i++]);
            }
        }
        end_arg(k);
        if (k->s[k->i] == ',') {
            k->i++;
            continue;
        }
        return TM_OK;
    }
}

/* After a complete extended command: ';' or the end. */
static tm_err ext_end(tk *k)
{
    skip_blanks(k);
    if (k->s[k->i] == ';') {
        k->i++;
        return TM_OK;
    }
    if (k->s[k->i] == '\0')
        return TM_OK;
    return unexpected(k, k->at->tok.name);
}

static tm_err v250_extended(tk *k)
{
    tm_at_tok *t = &k->at->tok;
    size_t n = 0;
    t->name[n++] = k->s[k->i++];
    for (;;) {
        skip_blanks(k);
        char c = k->s[k->i];
        if (!is_name_char(c))
            break;
        if (n + 1 >= TM_AT_NAME_MAX)
            return tm_fail(&k->at->reason, TM_E_SYNTAX, "command name longer than %d characters: AT%.*s…",
                           TM_AT_NAME_MAX - 1, (int)n, t->name);
        t->name[n++] = c;
        k->i++;
    }
    t->name[n] = '\0';
    if (n == 1)
        return unexpected(k, t->name);
    skip_blanks(k);
    char c = k->s[k->i];
    if (c == '=') {
        k->i++;
        skip_blanks(k);
        if (k->s[k->i] == '?') {
            size_t save = k->i++;
            skip_blanks(k);
            if (k->s[k->i] == '\0' || k->s[k->i] == ';') {
                t->form = TM_AT_TEST;
                return ext_end(k);
            }
            k->i = save;
        }
        t->form = TM_AT_SET;
        tm_err e = v250_args(k);
        if (e)
            return e;
        return ext_end(k);
    }
    if (c == '?') {
        k->i++;
        t->form = TM_AT_READ;
        return ext_end(k);
    }
    t->form = TM_AT_EXEC;
    return ext_end(k);
}

/* Letter [number] | '?' ; S<n>[=<v>|?|=?] ; &<letter>[number]. */
static tm_err v250_basic(tk *k)
{
    tm_at_tok *t = &k->at->tok;
    char c = k->s[k->i];
    size_t n = 0;
    if (c == '&') {
        k->i++;
        skip_blanks(k);
        if (!isalpha((unsigned char)k->s[k->i]))
            return unexpected(k, "&");
        t->name[n++] = '&';
    }
    char letter = (char)toupper((unsigned char)k->s[k->i++]);
    t->name[n++] = letter;
    t->name[n] = '\0';
    skip_blanks(k);
    tm_err e;
    if (letter == 'S' && n == 1) {
        if (!isdigit((unsigned char)k->s[k->i]))
            return tm_fail(&k->at->reason, TM_E_SYNTAX, "ATS needs a register number (ATS12=50, ATS12?)");
        if ((e = digits_arg(k)))
            return e;
        if (k->s[k->i] == '=') {
            k->i++;
            skip_blanks(k);
            if (k->s[k->i] == '?') {
                k->i++;
                t->form = TM_AT_TEST;
                return TM_OK;
            }
            t->form = TM_AT_SET;
            return digits_arg(k);
        }
        if (k->s[k->i] == '?') {
            k->i++;
            t->form = TM_AT_READ;
            return TM_OK;
        }
        t->form = TM_AT_EXEC;
        return TM_OK;
    }
    if (isdigit((unsigned char)k->s[k->i])) {
        t->form = TM_AT_SET;
        return digits_arg(k);
    }
    if (k->s[k->i] == '?') {
        k->i++;
        t->form = TM_AT_READ;
        return TM_OK;
    }
    if (k->s[k->i] == '=') {
        k->i++;
        skip_blanks(k);
        if (k->s[k->i] == '?') {
            k->i++;
            t->form = TM_AT_TEST;
            return TM_OK;
        }
        t->form = TM_AT_SET;
        return digits_arg(k);
    }
    t->form = TM_AT_EXEC;
    return TM_OK;
}

/* AT+S.NAME[=raw,args] (also ? and =? forms); the rest of the line. */
static tm_err spwf_command(tk *k)
{
    tm_at_tok *t = &k->at->tok;
    const char *s = k->s;
    size_t n = 0;
    while (s[k->i] && s[k->i] != '=' && !(s[k->i] == '?' && s[k->i + 1] == '\0')) {
        if (n + 1 >= TM_AT_NAME_MAX)
            return tm_fail(&k->at->reason, TM_E_SYNTAX, "command name longer than %d characters: AT%.*s…",
                           TM_AT_NAME_MAX - 1, (int)n, t->name);
        t->name[n++] = s[k->i++];
    }
    while (n > 0 && is_blank(t->name[n - 1]))
        n--;
    t->name[n] = '\0';
    if (n <= 1)
        return unexpected(k, NULL);
    if (s[k->i] == '?') {
        k->i++;
        t->form = TM_AT_READ;
        return TM_OK;
    }
    if (s[k->i] != '=') {
        t->form = TM_AT_EXEC;
        return TM_OK;
    }
    k->i++;
    if (s[k->i] == '?' && s[k->i + 1] == '\0') {
        k->i++;
        t->form = TM_AT_TEST;
        return TM_OK;
    }
    t->form = TM_AT_SET;
    for (;;) {
        tm_at_arg *g;
        tm_err e = new_arg(k, &g);
        if (e)
            return e;
        while (s[k->i] && s[k->i] != ',')
            put(k, g, s[k->i++]);
        end_arg(k);
        if (g->len == 4 && memcmp(g->p, "NULL", 4) == 0)
            g->flags |= TM_ARG_NULL;
        if (s[k->i] != ',')
            return TM_OK;
        k->i++;
    }
}

tm_err tm_at__tok_next(tm_at *at, size_t *pos, bool *have)
{
    tk k = { at, at->cmd, *pos, 0 };
    tm_at_tok *t = &at->tok;
    t->name[0] = '\0';
    t->args.count = 0;
    *have = false;
    bool spwf = at->d->syntax == TM_AT_SYNTAX_SPWF;

    while (is_blank(k.s[k.i]) || (!spwf && k.s[k.i] == ';'))
        k.i++;
    char c = k.s[k.i];
    tm_err e;
    if (c == '\0') {
        *pos = k.i;
        return TM_OK;
    }
    if (spwf && c == '+')
        e = spwf_command(&k);
    else if (c == '+' || c == '$' || c == '*' || c == '#' || c == '%' || c == '^')
        e = v250_extended(&k);
    else if (isalpha((unsigned char)c) || c == '&')
        e = v250_basic(&k);
    else
        e = unexpected(&k, NULL);
    *pos = k.i;
    if (e == TM_OK)
        *have = true;
    return e;
}
