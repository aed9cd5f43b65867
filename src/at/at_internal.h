/* tlsmodem — AT engine internals shared by the src/at files (not for dialects).
 *
 * The whole engine is this one fixed-size struct: no allocation anywhere. */
#ifndef TM_AT_INTERNAL_H
#define TM_AT_INTERNAL_H

#include "at/at.h"

#define TM_AT_HOLD_MAX      (TM_AT_LINE_MAX + 2) /* bytes held while a command runs */
#define TM_AT_PRINT_MAX     (TM_AT_LINE_MAX + 1024)
#define TM_AT_REL_MAX       (TM_AT_PATTERN_MAX * 3 + 8)

/* One tokenized command of a line. */
typedef struct {
    char        name[TM_AT_NAME_MAX];  /* as typed: "+kcnxcfg", "E", "&K", "S" */
    tm_at_form  form;
    tm_at_args  args;
} tm_at_tok;

/* Data mode host -> module. */
typedef struct {
    bool           active;
    tm_at_data_in  spec;
    size_t         recv;          /* data bytes received (delivered + held + rel) */
    size_t         delivered;     /* bytes given to the sink */
    /* pattern: bytes that may be the start of the EOF pattern, held back */
    uint8_t        held[TM_AT_REL_MAX];
    bool           deferred;      /* count reached inside a possible EOF pattern */
    size_t         defer_base;    /* held bytes (all data) when the count was reached */
    size_t         held_len;
    /* bytes released but not yet taken by the sink (backpressure) */
    uint8_t        rel[TM_AT_REL_MAX * 2];
    size_t         rel_len;
    /* escape: number of candidate '+' held, time of the last data byte */
    int            plus;
    int64_t        last_rx_ms;
    int64_t        plus3_ms;
    /* idle: the last time the sink had no room (the host held back by us) */
    int64_t        held_back_ms;
    /* end decided, waiting for rel to drain */
    bool           end_pending;
    tm_at_data_end end_how;
} tm_at_data;

struct tm_at {
    const tm_at_dialect *d;
    void                *user;
    int64_t              now;

    void               (*log)(void *arg, const char *cat, const char *text);
    void                *log_arg;

    /* V.250 state */
    bool     echo, verbose, quiet;
    int      cmee;
    uint8_t  s3, s4, s5, s12;
    int      and_k, and_d, and_c;

    /* line assembly */
    uint8_t  line[TM_AT_LINE_MAX + 1];
    size_t   line_len;
    size_t   line_total;       /* bytes of the current line incl. discarded ones */
    bool     too_long;
    bool     skip_lf;          /* previous byte was the CR that ended a line */
    bool     lf_taken;         /* the CR being handled came with its LF in the same chunk */
    /* A data mode that ended by its byte count while the EOF pattern was also
     * allowed: hosts (Zephyr's HL78 driver) send the pattern after exactly
     * the announced bytes; it is swallowed here instead of being parsed as a
     * command line. */
    bool     skip_pat_armed;
    size_t   skip_pat_from;    /* pattern offset the swallowed bytes start at */
    size_t   skip_pat_len;

    /* the line being executed */
    char     cmd[TM_AT_LINE_MAX + 1];   /* body after "AT", NUL-terminated */
    size_t   cmd_pos;                   /* next command of the chain */
    char     argbuf[TM_AT_LINE_MAX + TM_AT_ARGS_MAX + 8];
    tm_at_tok tok;
    size_t   cmd_off;                   /* offset of cmd[0] in the line (for positions) */
    bool     running;          /* a line is being executed */
    bool     pending;          /* its current command returned TM_AT_PENDING */
    bool     in_handler;       /* a handler is running right now */
    bool     early;            /* ...and called tm_at_complete before returning */
    /* +++ abort of a pending command that streams towards the host (not in
     * data mode): tm_at_set_abort().  host_rx_ms: time of the last host byte. */
    void   (*abort_fn)(void *arg);
    void    *abort_arg;
    int      abort_plus;       /* '+' of a possible escape, not yet held */
    int64_t  abort_plus3_ms;
    int64_t  host_rx_ms;
    bool     resume;           /* completed OK with commands left in the chain: the
                                * next pump runs them (never from inside tm_at_complete) */
    tm_err   early_result;
    tm_reason reason;
    int      depth;            /* nesting of engine internals: pump only at 0 */

    /* a long answer being produced (tm_at_stream) */
    tm_at_more stream_fn;
    void      *stream_arg;
    /* tm_at_spool: writes go to the heap until tm_at_spool_end */
    bool       spool_on;
    bool       spool_cut;
    uint8_t   *spool;
    size_t     spool_len, spool_cap, spool_off;
    tm_err     spool_result;

    /* bytes received while a command is pending */
    uint8_t  hold[TM_AT_HOLD_MAX];
    size_t   hold_len;
    /* refuse_while_busy: bytes of the refused line received so far */
    size_t   busy_len;

    /* output ring */
    uint8_t  out[TM_OUT_BUF];
    size_t   out_head, out_len;
    uint64_t out_dropped;
    bool     out_short;      /* output came close to full since the last tm_at_out_take_short */

    /* URC queue */
    char     urcq[TM_AT_URC_QUEUE][TM_AT_URC_LINE_MAX];
    /* tm_at_urc_late: the text is made at flush time (NULL = urcq holds it) */
    tm_at_urc_render urc_render[TM_AT_URC_QUEUE];
    int      urc_key[TM_AT_URC_QUEUE];
    int      urc_head, urc_n;
    uint64_t urc_dropped;

    char     linebuf[TM_AT_PRINT_MAX];   /* tm_at_line */
    char     printbuf[TM_AT_PRINT_MAX];  /* tm_at_printf */

    char     pattern[TM_AT_PATTERN_MAX + 1];
    tm_at_data data;
};

/* engine.c */
void   tm_at__log(tm_at *at, const char *cat, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void   tm_at__line_done(tm_at *at);      /* final result given: flush URCs */
void   tm_at__flush_urcs(tm_at *at);
bool   tm_at__idle(tm_at *at);
/* Escapes bytes for detail texts ("\x01", "\r"), at most `show` input bytes. */
void   tm_at__escape(char *out, size_t cap, const uint8_t *p, size_t n, size_t show);

/* tokenize.c: parses the next command of at->cmd from *pos into at->tok.
 * Returns TM_OK with *have = false at the end of the line. */
tm_err tm_at__tok_next(tm_at *at, size_t *pos, bool *have);

/* datamode.c: consumes data-mode bytes; returns how many were taken. */
size_t tm_at__data_feed(tm_at *at, const uint8_t *p, size_t len);
void   tm_at__data_tick(tm_at *at);
/* The host went away: leave data mode, on_end(TM_AT_DATA_END_HOST_GONE). */
void   tm_at__data_abort(tm_at *at);
int64_t tm_at__data_deadline(tm_at *at);

/* v250.c */
void   tm_at__v250_defaults(tm_at *at, bool factory);

#endif
