/* tlsmodem — AT engine core: life cycle, byte feed, line assembly, dispatch
 * of ';' chains, completion of pending commands, URC queue (see at.h). */
#include "at/at_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define TM_AT_SILENT ((tm_err)-2)   /* internal: finish without a final result */

size_t tm_at_sizeof(void) { return sizeof(struct tm_at); }

void tm_at_init(tm_at *at, const tm_at_dialect *d, void *user)
{
    memset(at, 0, sizeof *at);
    at->d = d;
    at->user = user;
    tm_at__v250_defaults(at, true);
    memcpy(at->pattern, "--EOF--Pattern--", sizeof "--EOF--Pattern--");
    tm_reason_clear(&at->reason);
}

void *tm_at_user(tm_at *at) { return at->user; }
const tm_at_dialect *tm_at_get_dialect(tm_at *at) { return at->d; }
tm_reason *tm_at_reason(tm_at *at) { return &at->reason; }
bool tm_at_busy(tm_at *at) { return at->running; }
void tm_at_set_now(tm_at *at, int64_t now_ms) { at->now = now_ms; }
const char *tm_at_command_name(tm_at *at) { return at->tok.name; }

void tm_at_set_log(tm_at *at, void (*log)(void *arg, const char *cat, const char *text), void *arg)
{
    at->log = log;
    at->log_arg = arg;
}

void tm_at__log(tm_at *at, const char *cat, const char *fmt, ...)
{
    if (!at->log)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    at->log(at->log_arg, cat, buf);
}

void tm_at__escape(char *out, size_t cap, const uint8_t *p, size_t n, size_t show)
{
    size_t o = 0;
    if (cap == 0)
        return;
    for (size_t i = 0; i < n && i < show; i++) {
        char tmp[8];
        uint8_t c = p[i];
        if (c == '\r')
            memcpy(tmp, "\\r", 3);
        else if (c == '\n')
            memcpy(tmp, "\\n", 3);
        else if (c >= 0x20 && c < 0x7f && c != '\\')   /* '"' as itself: readable */
            tmp[0] = (char)c, tmp[1] = '\0';
        else
            snprintf(tmp, sizeof tmp, "\\x%02x", c);
        size_t l = strlen(tmp);
        if (o + l + 1 > cap)
            break;
        memcpy(out + o, tmp, l);
        o += l;
    }
    if (n > show && o + 4 <= cap) {
        memcpy(out + o, "...", 3);   /* ASCII: this text may reach the host */
        o += 3;
    }
    out[o] = '\0';
}

/* ---- URCs ----------------------------------------------------------------- */

bool tm_at__idle(tm_at *at)
{
    return !at->running && at->line_len == 0 && !at->too_long;
}

static void urc_emit(tm_at *at, const char *text)
{
    tm_at__log(at, "urc", "%s", text);
    if (at->d->voice && at->d->voice->urc)
        at->d->voice->urc(at, text);
    else
        tm_at_v250_line(at, text);
}

/* Room for one more URC: a host that does not read gets its URCs queued
 * (then the oldest dropped, logged) instead of overflowing the output. */
static bool urc_fits(tm_at *at)
{
    return TM_OUT_BUF - at->out_len >= TM_AT_URC_LINE_MAX + 16;
}

void tm_at__flush_urcs(tm_at *at)
{
    while (at->urc_n > 0 && tm_at__idle(at) && urc_fits(at)) {
        int slot = at->urc_head;
        char text[TM_AT_URC_LINE_MAX];
        tm_at_urc_render render = at->urc_render[slot];
        at->urc_head = (at->urc_head + 1) % TM_AT_URC_QUEUE;
        at->urc_n--;
        if (render) {
            /* the figure as it is now; nothing left to say: dropped */
            if (!render(at, at->urc_key[slot], text, sizeof text))
                continue;
        } else {
            memcpy(text, at->urcq[slot], sizeof text);
        }
        urc_emit(at, text);
    }
}

/* Queues a URC (text, or render + key): the oldest is dropped when full. */
static void urc_enqueue(tm_at *at, const char *text, tm_at_urc_render render, int key)
{
    if (at->urc_n == TM_AT_URC_QUEUE) {
        at->urc_dropped++;
        int old = at->urc_head;
        tm_at__log(at, "warn", "URC queue full (%d): oldest dropped: %s", TM_AT_URC_QUEUE,
                   at->urc_render[old] ? "(a URC made when written)" : at->urcq[old]);
        at->urc_head = (at->urc_head + 1) % TM_AT_URC_QUEUE;
        at->urc_n--;
    }
    int slot = (at->urc_head + at->urc_n) % TM_AT_URC_QUEUE;
    at->urc_render[slot] = render;
    at->urc_key[slot] = key;
    if (text)
        memcpy(at->urcq[slot], text, TM_AT_URC_LINE_MAX);
    at->urc_n++;
}

void tm_at_urc(tm_at *at, const char *fmt, ...)
{
    char text[TM_AT_URC_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (at->urc_n == 0 && tm_at__idle(at) && urc_fits(at)) {
        urc_emit(at, text);
        return;
    }
    urc_enqueue(at, text, NULL, 0);
}

void tm_at_urc_late(tm_at *at, tm_at_urc_render render, int key)
{
    if (at->urc_n == 0 && tm_at__idle(at) && urc_fits(at)) {
        char text[TM_AT_URC_LINE_MAX];
        if (render(at, key, text, sizeof text))
            urc_emit(at, text);
        return;
    }
    urc_enqueue(at, NULL, render, key);
}

int tm_at_urc_queued(tm_at *at) { return at->urc_n; }

void tm_at__line_done(tm_at *at)
{
    tm_at__flush_urcs(at);
}

/* ---- dispatch -------------------------------------------------------------- */

static const tm_at_cmd *find_row(tm_at *at, const char *name)
{
    if (!at->d->tables)
        return NULL;
    for (const tm_at_cmd *const *t = at->d->tables; *t; t++)
        for (const tm_at_cmd *r = *t; r->name; r++)
            if (strcasecmp(r->name, name) == 0)
                return r;
    return NULL;
}

static const char *form_text(tm_at_form f)
{
    switch (f) {
    case TM_AT_TEST: return "=? (test form)";
    case TM_AT_READ: return "? (read form)";
    case TM_AT_SET:  return "= (set form)";
    case TM_AT_EXEC: return " (execute form)";
    }
    return "";
}

static void abort_disarm(tm_at *at);

/* Final result of the line: one per line. */
static void final(tm_at *at, tm_err e)
{
    at->running = false;
    at->pending = false;
    abort_disarm(at);
    if (e == TM_OK) {
        tm_at__log(at, "at>", "OK");
        if (at->d->voice && at->d->voice->ok)
            at->d->voice->ok(at);
        else
            tm_at_v250_result(at, "OK", 0);
    } else if (e != TM_AT_SILENT) {
        if (at->reason.code != e)
            at->reason.code = e;
        tm_at__log(at, "at>", "error %s: %s", tm_err_name(e), at->reason.detail);
        if (at->d->voice && at->d->voice->error)
            at->d->voice->error(at, &at->reason);
        else
            tm_at_v250_result(at, "ERROR", 4);
    }
    tm_at__line_done(at);
}

static tm_err dispatch(tm_at *at)
{
    tm_at_tok *t = &at->tok;
    const tm_at_cmd *row = find_row(at, t->name);
    if (!row)
        return tm_fail(&at->reason, TM_E_UNKNOWN_COMMAND, "AT%s", t->name);
    tm_at_handler h = NULL;
    switch (t->form) {
    case TM_AT_TEST: h = row->test; break;
    case TM_AT_READ: h = row->read; break;
    case TM_AT_SET:  h = row->set;  break;
    case TM_AT_EXEC: h = row->exec; break;
    }
    if (!h) {
        if (t->form == TM_AT_TEST && row->usage) {
            tm_at_line(at, "%s", row->usage);
            return TM_OK;
        }
        return tm_fail(&at->reason, TM_E_FORM_NOT_SUPPORTED, "AT%s%s", t->name, form_text(t->form));
    }
    at->in_handler = true;
    at->early = false;
    tm_err e = h(at, &t->args);
    at->in_handler = false;
    if (at->spool_on && e != TM_AT_PENDING)     /* a handler that spooled and returned directly */
        e = tm_at_spool_end(at, e);
    if (at->early) {            /* completed before the handler returned */
        at->early = false;
        if (e == TM_AT_PENDING)
            e = at->early_result;
    }
    return e;
}

/* Runs the commands of the line from cmd_pos until one is pending, fails, or
 * the line ends. */
static void run_chain(tm_at *at)
{
    at->depth++;
    for (;;) {
        bool have = false;
        tm_reason_clear(&at->reason);
        tm_err e = tm_at__tok_next(at, &at->cmd_pos, &have);
        if (e != TM_OK) {
            final(at, e);
            break;
        }
        if (!have) {
            final(at, TM_OK);
            break;
        }
        e = dispatch(at);
        if (e == TM_AT_PENDING || (e == TM_OK && at->data.active)) {
            at->pending = true;
            break;
        }
        if (at->data.active)     /* failed after starting data mode */
            at->data.active = false;
        if (e != TM_OK) {
            final(at, e);
            break;
        }
    }
    at->depth--;
}

static void start_line(tm_at *at)
{
    at->running = true;
    at->pending = false;
    /* Syntax of the whole line first: a malformed line runs nothing. */
    size_t pos = 0;
    bool have = true;
    tm_err e = TM_OK;
    while (e == TM_OK && have) {
        tm_reason_clear(&at->reason);
        e = tm_at__tok_next(at, &pos, &have);
    }
    if (e != TM_OK) {
        final(at, e);
        return;
    }
    at->cmd_pos = 0;
    run_chain(at);
}

static void fail_line(tm_at *at, tm_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail_line(tm_at *at, tm_err code, const char *fmt, ...)
{
    at->running = true;
    tm_reason_clear(&at->reason);
    va_list ap;
    va_start(ap, fmt);
    tm_vfail(&at->reason, code, fmt, ap);
    va_end(ap);
    at->tok.name[0] = '\0';
    final(at, code);
}

static void line_end(tm_at *at)
{
    size_t n = at->line_len, total = at->line_total;
    bool too_long = at->too_long;
    at->line_len = 0;
    at->line_total = 0;
    at->too_long = false;
    const uint8_t *l = at->line;

    if (too_long) {
        tm_at__log(at, "at<", "(line of %zu bytes discarded)", total);
        fail_line(at, TM_E_LINE_TOO_LONG, "%zu bytes, limit %d", total, TM_AT_LINE_MAX);
        return;
    }
    size_t k = 0;
    while (k < n && (l[k] == ' ' || l[k] == '\t' || l[k] < 0x20))
        k++;
    if (k == n) {                       /* blank or control noise only */
        tm_at__line_done(at);
        return;
    }
    if (at->log) {
        char esc[200];
        tm_at__escape(esc, sizeof esc, l, n, 120);
        tm_at__log(at, "at<", "%s", esc);
    }
    if (!(k + 1 < n && (l[k] == 'A' || l[k] == 'a') && (l[k + 1] == 'T' || l[k + 1] == 't'))) {
        char esc[160];
        tm_at__escape(esc, sizeof esc, l + k, n - k, 32);
        fail_line(at, TM_E_SYNTAX, "line does not start with AT: \"%s\"", esc);
        return;
    }
    for (size_t j = 0; j < n; j++) {
        if (l[j] < 0x20 && l[j] != '\t') {
            fail_line(at, TM_E_BINARY_NOISE, "byte 0x%02x at position %zu of the line", l[j], j + 1);
            return;
        }
    }
    size_t body = k + 2;
    memcpy(at->cmd, l + body, n - body);
    at->cmd[n - body] = '\0';
    at->cmd_off = body;
    start_line(at);
}

static void echo_byte(tm_at *at, uint8_t c)
{
    if (at->echo)
        tm_at_write(at, &c, 1);
}

static void assemble(tm_at *at, uint8_t c)
{
    if (at->skip_lf) {
        at->skip_lf = false;
        if (c == '\n')
            return;
    }
    if (c == at->s3 || c == '\n') {
        if (at->d->echo_eol_crlf) {
            if (at->echo)
                tm_at_write(at, "\r\n", 2);
        } else {
            echo_byte(at, c);
        }
        at->skip_lf = (c == '\r') && !at->lf_taken;
        line_end(at);
        return;
    }
    echo_byte(at, c);
    if (c == at->s5 || c == 0x7f) {
        if (at->line_len > 0 && !at->too_long) {
            at->line_len--;
            at->line_total--;
        }
        return;
    }
    at->line_total++;
    if (at->line_len < TM_AT_LINE_MAX)
        at->line[at->line_len++] = c;
    else
        at->too_long = true;
}

/* Command-mode and data-mode bytes; stops when a command is pending (not in
 * data mode) or the data sink has no room.  Returns the bytes taken. */
static size_t process(tm_at *at, const uint8_t *p, size_t len)
{
    size_t i = 0;
    at->depth++;
    while (i < len) {
        if (at->data.active) {
            i += tm_at__data_feed(at, p + i, len - i);
            if (at->data.active)
                break;          /* sink full */
            continue;
        }
        if (at->running)
            break;
        /* Backpressure towards the host: command-mode bytes are taken only
         * while the reserve is free, so the answer of the line being typed
         * always fits; otherwise the host's bytes wait in the port (which
         * stops reading) until the host reads its output. */
        size_t free_ = TM_OUT_BUF - at->out_len;
        if (free_ < TM_AT_OUT_RESERVE)
            break;
        if (at->skip_pat_armed) {
            const char *pat = tm_at_pattern(at);
            size_t plen = strlen(pat);
            size_t at_pos = at->skip_pat_from + at->skip_pat_len;
            if (at->line_len == 0 && at_pos < plen && (uint8_t)pat[at_pos] == p[i]) {
                i++;
                at->skip_pat_len++;
                if (at_pos + 1 == plen) {
                    at->skip_pat_armed = false;
                    tm_at__log(at, "at<", "EOF pattern after the counted data swallowed");
                }
                continue;
            }
            at->skip_pat_armed = false;
            for (size_t k = 0; k < at->skip_pat_len; k++)   /* it was not the pattern */
                assemble(at, (uint8_t)pat[at->skip_pat_from + k]);
            continue;
        }
        /* Fast path: ordinary bytes of a command line. */
        size_t j = i;
        size_t jmax = at->echo ? i + (free_ - TM_AT_OUT_RESERVE) + 1 : len;  /* echo fits too */
        while (j < len && j < jmax && !at->skip_lf && p[j] >= 0x20 && p[j] != 0x7f &&
               at->line_len < TM_AT_LINE_MAX && !at->too_long) {
            at->line[at->line_len++] = p[j++];
            at->line_total++;
        }
        if (j > i) {
            if (at->echo)
                tm_at_write(at, p + i, j - i);
            i = j;
            continue;
        }
        /* CR LF in one chunk: the LF belongs to the terminator and is taken
         * before the command runs, so a data mode the command starts never
         * sees it.  A LF arriving later in data mode is data (a payload may
         * start with LF). */
        if (p[i] == at->s3 && i + 1 < len && p[i + 1] == '\n' && !at->skip_lf &&
            at->d->swallow_lf_after_cr) {
            at->lf_taken = true;
            i += 2;
            assemble(at, at->s3);
            at->lf_taken = false;
            continue;
        }
        assemble(at, p[i++]);
    }
    at->depth--;
    return i;
}

static void data_drain(tm_at *at)
{
    if (!at->data.active)
        return;
    at->depth++;
    tm_at__data_feed(at, NULL, 0);
    at->depth--;
}

/* Runs what completion left for later, at the top level only (depth 0, no
 * handler or network callback on the stack): the rest of a ';' chain, then
 * bytes held while a command was pending, then queued URCs. */
static void pump(tm_at *at)
{
    if (at->depth)
        return;
    if (at->resume) {
        at->resume = false;
        at->depth++;
        run_chain(at);
        at->depth--;
    }
    data_drain(at);
    while (at->hold_len > 0) {
        size_t n = process(at, at->hold, at->hold_len);
        if (n == 0)
            break;
        memmove(at->hold, at->hold + n, at->hold_len - n);
        at->hold_len -= n;
    }
    tm_at__flush_urcs(at);
}

/* ---- +++ abort of a pending stream (tm_at_set_abort) ---------------------- */

void tm_at_set_abort(tm_at *at, void (*fn)(void *arg), void *arg)
{
    at->abort_fn = fn;
    at->abort_arg = arg;
    at->abort_plus = 0;
}

static bool abort_armed(tm_at *at)
{
    return at->abort_fn && at->running && at->pending && !at->data.active;
}

/* The '+' that turned out not to be an escape are ordinary held input. */
static void abort_release(tm_at *at)
{
    while (at->abort_plus > 0 && at->hold_len < TM_AT_HOLD_MAX) {
        at->hold[at->hold_len++] = '+';
        at->abort_plus--;
    }
    at->abort_plus = 0;
}

static void abort_disarm(tm_at *at)
{
    abort_release(at);
    at->abort_fn = NULL;
    at->abort_arg = NULL;
}

/* Takes bytes while armed: escape candidates are counted, the rest held.
 * Returns the number taken (short when the hold buffer is full). */
static size_t abort_feed(tm_at *at, const uint8_t *p, size_t len)
{
    int64_t guard = (int64_t)tm_at_guard_ms(at);
    size_t i = 0;
    for (; i < len; i++) {
        if (at->hold_len + (size_t)at->abort_plus + 1 > TM_AT_HOLD_MAX)
            break;
        uint8_t b = p[i];
        int64_t quiet = at->now - at->host_rx_ms;
        at->host_rx_ms = at->now;
        if (b == '+' && at->abort_plus > 0 && at->abort_plus < 3) {
            if (++at->abort_plus == 3)
                at->abort_plus3_ms = at->now;
            continue;
        }
        abort_release(at);
        if (b == '+' && quiet >= guard) {
            at->abort_plus = 1;
            continue;
        }
        at->hold[at->hold_len++] = b;
    }
    return i;
}

/* From tm_at_tick: the guard time after "+++" passed -> abort; after one or
 * two '+' -> they were input. */
static void abort_tick(tm_at *at)
{
    if (!abort_armed(at) || at->abort_plus == 0)
        return;
    int64_t guard = (int64_t)tm_at_guard_ms(at);
    if (at->abort_plus == 3 && at->now - at->abort_plus3_ms >= guard) {
        void (*fn)(void *) = at->abort_fn;
        void *arg = at->abort_arg;
        at->abort_plus = 0;
        at->abort_fn = NULL;
        tm_at__log(at, "at<", "+++ (the host abandons %s)", tm_at_command_name(at));
        fn(arg);
    } else if (at->abort_plus < 3 && at->now - at->host_rx_ms >= guard) {
        abort_release(at);
    }
}

/* refuse_while_busy (ESP-AT): what the host sends while a command runs is
 * not held for later: each line terminator gets the voice's busy answer
 * ("busy p...") at once, also for an empty line (the module answers every
 * extra CR LF so); the LF of a CR LF counts once.  Nothing is echoed.
 * Stops (returns short) while the output has no room: the host is not
 * reading, and each refusal writes a line. */
static size_t busy_feed(tm_at *at, const uint8_t *p, size_t len)
{
    size_t i = 0;
    for (; i < len; i++) {
        uint8_t c = p[i];
        if (at->skip_lf) {
            at->skip_lf = false;
            if (c == '\n')
                continue;
        }
        if (c != '\r' && c != '\n') {
            at->busy_len++;
            continue;
        }
        if (tm_at_out_full(at))
            break;
        tm_at__log(at, "at<", "(line of %zu bytes refused: AT%s is still running)", at->busy_len,
                   at->tok.name);
        at->busy_len = 0;
        at->skip_lf = c == '\r';
        if (at->d->voice && at->d->voice->busy)
            at->d->voice->busy(at);
        else
            tm_at_v250_line(at, "busy");
    }
    return i;
}

size_t tm_at_feed(tm_at *at, const uint8_t *p, size_t len)
{
    pump(at);
    if (abort_armed(at) && at->depth == 0)
        return abort_feed(at, p, len);
    size_t used = 0;
    if (at->hold_len == 0 && at->depth == 0)
        used = process(at, p, len);
    if (used < len && at->running && !at->data.active && at->d->refuse_while_busy && at->hold_len == 0) {
        used += busy_feed(at, p + used, len - used);
    } else if (used < len && at->running && !at->data.active) {
        size_t room = TM_AT_HOLD_MAX - at->hold_len;
        size_t k = len - used < room ? len - used : room;
        memcpy(at->hold + at->hold_len, p + used, k);
        at->hold_len += k;
        used += k;
    }
    if (len > 0)
        at->host_rx_ms = at->now;
    return used;
}

bool tm_at_out_full(tm_at *at)
{
    return !at->data.active && TM_OUT_BUF - at->out_len < TM_AT_OUT_RESERVE;
}

void tm_at_discard_partial_line(tm_at *at)
{
    if (at->line_len || at->too_long)
        tm_at__log(at, "at<", "(partial line of %zu bytes discarded: the host went away)",
                   at->line_total);
    at->line_len = 0;
    at->line_total = 0;
    at->too_long = false;
    at->busy_len = 0;
    at->skip_lf = false;
    at->skip_pat_armed = false;
    at->skip_pat_len = 0;
    tm_at__flush_urcs(at);
}

static void complete(tm_at *at, tm_err result);

/* Calls the running command's stream producer while there is room for a
 * part (see tm_at_stream); at the top level only. */
static void stream_run(tm_at *at)
{
    while (at->stream_fn && at->pending && !at->in_handler && at->depth == 0 &&
           tm_at_out_room(at) >= TM_AT_STREAM_ROOM) {
        size_t before = at->out_len;
        at->depth++;
        tm_err e = at->stream_fn(at, at->stream_arg, false);
        at->depth--;
        if (e == TM_AT_PENDING && at->out_len == before)
            e = tm_fail(&at->reason, TM_E_INTERNAL, "AT%s: its long answer stopped making progress",
                        at->tok.name);
        if (e == TM_AT_PENDING)
            continue;
        at->stream_fn = NULL;
        at->stream_arg = NULL;
        complete(at, e);
    }
}

tm_err tm_at_stream(tm_at *at, tm_at_more more, void *arg)
{
    if (!at->running || !more)
        return tm_fail(&at->reason, TM_E_INTERNAL, "tm_at_stream outside a command");
    at->stream_fn = more;
    at->stream_arg = arg;
    return TM_AT_PENDING;
}

void tm_at_host_gone(tm_at *at)
{
    tm_at_discard_partial_line(at);
    if (at->hold_len)
        tm_at__log(at, "at<", "(%zu bytes typed behind the running command discarded: the host went away)",
                   at->hold_len);
    at->hold_len = 0;
    if (at->stream_fn) {
        tm_at_more fn = at->stream_fn;
        void *arg = at->stream_arg;
        at->stream_fn = NULL;
        at->stream_arg = NULL;
        at->depth++;
        fn(at, arg, true);
        at->depth--;
        tm_at__log(at, "at>", "AT%s: long answer abandoned (the host went away)", at->tok.name);
        if (at->pending)
            complete(at, TM_AT_SILENT);
    }
    if (at->data.active) {
        at->depth++;
        tm_at__data_abort(at);
        at->depth--;
    }
    if (at->out_len)
        tm_at__log(at, "at>", "(%zu bytes of output discarded: the host went away)", at->out_len);
    at->out_head = at->out_len = 0;
    pump(at);
}

void tm_at_tick(tm_at *at, int64_t now_ms)
{
    at->now = now_ms;
    if (at->depth)
        return;
    at->depth++;
    tm_at__data_tick(at);
    at->depth--;
    abort_tick(at);
    stream_run(at);
    pump(at);
}

int64_t tm_at_next_deadline(tm_at *at)
{
    int64_t d = tm_at__data_deadline(at);
    bool can_run = at->data.active ? (!at->data.spec.room || at->data.spec.room(at->data.spec.arg) > 0)
                                   : !at->running && !tm_at_out_full(at);
    if ((at->hold_len > 0 || at->data.rel_len > 0) && can_run)
        d = at->now;
    if (at->resume)
        d = at->now;
    if (abort_armed(at) && at->abort_plus > 0) {
        int64_t g = (int64_t)tm_at_guard_ms(at);
        int64_t t = at->abort_plus == 3 ? at->abort_plus3_ms + g : at->host_rx_ms + g;
        if (d < 0 || t < d)
            d = t;
    }
    if (at->stream_fn && at->pending && tm_at_out_room(at) >= TM_AT_STREAM_ROOM)
        d = at->now;
    if (at->urc_n > 0 && tm_at__idle(at) && urc_fits(at))
        d = at->now;
    return d;
}

/* ---- completion ------------------------------------------------------------ */

/* True when the running line has another command after cmd_pos. */
static bool chain_has_more(tm_at *at)
{
    bool spwf = at->d->syntax == TM_AT_SYNTAX_SPWF;
    for (size_t i = at->cmd_pos; at->cmd[i]; i++)
        if (!(at->cmd[i] == ' ' || at->cmd[i] == '\t' || (!spwf && at->cmd[i] == ';')))
            return true;
    return false;
}

/* Completion is called from network and data-mode callbacks, often with the
 * caller's session state live on the stack and about to be read again (the
 * URC that follows a final result).  So it only says how the command ended:
 * the final result is written now, but nothing else is dispatched from here.
 * The rest of a chain and the commands the host pipelined behind it run from
 * the next tm_at_tick()/tm_at_feed() (tm_at_next_deadline() says "now"),
 * when no callback is on the stack: a pipelined AT+KHTTPSDEL can no longer
 * free the session whose GET is still reporting its end. */
static void complete(tm_at *at, tm_err result)
{
    if (!at->running || (!at->pending && !at->in_handler) || at->resume) {
        tm_at__log(at, "warn", "tm_at_complete without a running command (ignored)");
        return;
    }
    if (at->in_handler) {
        at->early = true;
        at->early_result = result;
        return;
    }
    if (at->data.active) {
        tm_at__log(at, "warn", "command completed while in data mode: data mode ended");
        at->data.active = false;
    }
    at->pending = false;
    abort_disarm(at);
    if (result == TM_OK && chain_has_more(at))
        at->resume = true;          /* still running: URCs keep queueing */
    else
        final(at, result);
}

void tm_at_complete(tm_at *at, tm_err result) { complete(at, result); }
void tm_at_complete_silent(tm_at *at) { complete(at, TM_AT_SILENT); }
