/* tlsmodem — the AT engine: line assembly, parsing, dispatch, data modes.
 *
 * Byte at a time and never blocking: the host endpoint hands received bytes
 * to tm_at_feed() in chunks of any size (1 byte or 64 KiB give the same
 * result), and takes output from tm_at_out_peek()/tm_at_out_consume().
 *
 * The engine owns all syntax: the "AT" prefix (any case), CR or CRLF (a lone
 * LF also ends a line), backspace, ';'-chained commands, the four forms
 * (AT+X=? test, AT+X? read, AT+X=a,b set, AT+X execute), quoted strings and
 * empty arguments, V.250 basic commands (E, V, Q, I, Z, S<n>=, &<x>), echo,
 * lines of up to TM_AT_LINE_MAX bytes (longer ones are discarded up to the
 * next terminator and answered with TM_E_LINE_TOO_LONG, never executed),
 * URC queueing while a command runs, and the data modes.
 *
 * A dialect supplies command tables (one handler per form, NULL = form not
 * supported) and a voice (how OK/errors/lines/CONNECT are said).  Handlers
 * report what happened as a tm_err; the voice decides how it is said. */
#ifndef TM_AT_H
#define TM_AT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "core/err.h"

typedef struct tm_at tm_at;

typedef enum { TM_AT_TEST, TM_AT_READ, TM_AT_SET, TM_AT_EXEC } tm_at_form;

/* Argument flags set by the tokenizer. */
enum {
    TM_ARG_QUOTED      = 1,  /* was inside ASCII "…" */
    TM_ARG_SMARTQUOTES = 2,  /* contained typographic quotes (U+201C/U+201D/U+2018/U+2019) */
    TM_ARG_NULL        = 4,  /* SPWF syntax: the literal NULL (tm_at_omitted() treats it as omitted) */
};

typedef struct {
    const char *p;      /* NUL-terminated, quotes removed, in the engine's buffer */
    size_t      len;
    unsigned    flags;
} tm_at_arg;

typedef struct {
    int       count;    /* AT+X=1,,3 -> 3 (2nd empty); AT+X= -> 1 empty */
    tm_at_arg v[TM_AT_ARGS_MAX];
} tm_at_args;

/* Returned by a handler whose work continues asynchronously (network, data
 * mode).  The engine then holds further commands and URCs until
 * tm_at_complete() is called. */
#define TM_AT_PENDING ((tm_err)-1)

typedef tm_err (*tm_at_handler)(tm_at *at, const tm_at_args *args);

/* One row of a command table.  name includes its prefix: "+KHTTPSCFG",
 * "+S.SOCKON", "+CMEE", or a basic command letter "E", "&K", "S" (S
 * registers arrive as args: ATS12=5 -> set, args {"12","5"}; ATS12? -> read,
 * args {"12"}).  Basic commands with a number (ATE0, ATO1) come as SET with one
 * argument; without a number as EXEC.  Names match case-insensitively. */
typedef struct {
    const char   *name;
    tm_at_handler test;   /* AT+X=?   NULL: the engine answers with `usage` if set, else error */
    tm_at_handler read;   /* AT+X?    */
    tm_at_handler set;    /* AT+X=... */
    tm_at_handler exec;   /* AT+X     */
    const char   *usage;  /* optional: printed as an information line for =? when test is NULL */
} tm_at_cmd;

typedef enum {
    TM_AT_SYNTAX_V250,   /* quoted strings, spaces outside quotes ignored, ';' chains */
    TM_AT_SYNTAX_SPWF,   /* AT+S.X=a,b: no quotes, arguments raw (spaces kept), no chaining */
} tm_at_syntax;

/* How things are said.  Every function receives the engine; use
 * tm_at_write()/tm_at_printf() inside. */
typedef struct {
    /* Final result of a successful command. */
    void (*ok)(tm_at *at);
    /* Final result of a failed command (also used for syntax errors, unknown
     * commands, overlong lines). */
    void (*error)(tm_at *at, const tm_reason *why);
    /* An information response line (handler output such as "+KHTTPSCFG: 1"). */
    void (*line)(tm_at *at, const char *text);
    /* An unsolicited line, written when the engine is idle. */
    void (*urc)(tm_at *at, const char *text);
    /* A line refused because a command is running (dialects with
     * refuse_while_busy: ESP "busy p..."); written at once.  NULL: the
     * engine writes "busy" as a V.250 line. */
    void (*busy)(tm_at *at);
} tm_at_voice;

typedef struct {
    const char              *name;     /* "hl", "spwf" */
    tm_at_syntax             syntax;
    const tm_at_cmd *const  *tables;   /* NULL-terminated list of tables, searched in order */
    const tm_at_voice       *voice;
    bool                     echo_default;
    /* HL: a LF right after a command's CR is swallowed even when the command
     * switched to data mode; SPWF: payload starts right after the CR. */
    bool                     swallow_lf_after_cr;
    /* Echo the line terminator (CR, or a lone LF) as CR LF, so the echoed
     * command is a complete line before the answer (SPWF, whose answers do
     * not start with CR LF); false: echo the terminator byte as received
     * (V.250: the answer's leading CR LF follows). */
    bool                     echo_eol_crlf;
    /* ESP-AT: a line the host sends while a command runs (not in data
     * mode) is refused, not held: each line terminator (CR, LF or CR LF)
     * received then makes voice->busy write its answer ("busy p..."), the
     * bytes are not echoed and never run.  false (HL, SPWF): such lines are
     * held and run after the command (pipelining). */
    bool                     refuse_while_busy;
    /* ESP-AT: inside a quoted string, '\' escapes the next byte ("\\",
     * "\"", "\," -> the byte itself), so a quote or comma can be part of a
     * value (an SSID, a password). */
    bool                     backslash_escapes;
} tm_at_dialect;

/* ---- life cycle ---------------------------------------------------------- */

/* The engine is one static-size object; no allocation. */
size_t  tm_at_sizeof(void);
void    tm_at_init(tm_at *at, const tm_at_dialect *d, void *user);
void   *tm_at_user(tm_at *at);
const tm_at_dialect *tm_at_get_dialect(tm_at *at);

/* Host -> engine.  Returns the number of bytes consumed: fewer than len when
 * a data-mode sink reports no room, or when the output towards the host is
 * full (tm_at_out_full: a command-mode byte is taken only while at least
 * TM_AT_OUT_RESERVE bytes of output are free, so the answer of every line
 * fits — backpressure, never a dropped answer); call again later with the
 * rest (the port keeps it and stops reading the host).  Never blocks. */
size_t  tm_at_feed(tm_at *at, const uint8_t *p, size_t len);
/* True while command-mode input waits for the host to read output (not for
 * a data-mode sink): the port then need not retry before the host reads. */
bool    tm_at_out_full(tm_at *at);
/* The host went away for good (a TCP host disconnected, or its output can
 * no longer be delivered): what it typed and did not yet get answered goes
 * with it.  Discards a half-typed line, the bytes held behind a pending
 * command and the pending output; a data mode the host was sending ends
 * with TM_AT_DATA_END_HOST_GONE (the dialect fails or cancels the command),
 * a streamed answer is stopped (more(stop = true)) and ends silently.  A
 * command still waiting for the network keeps running; the port discards
 * what it writes until tm_at_busy() is false (docs/ports.md). */
void    tm_at_host_gone(tm_at *at);
/* The host went away (TCP disconnect): a command line it left half typed is
 * discarded, so the next host's first line is not glued to it. */
void    tm_at_discard_partial_line(tm_at *at);
/* Time of the bytes fed next (monotonic ms); the port calls it before
 * tm_at_feed().  The engine never reads a clock itself (guard times of +++
 * use this and the now_ms of tm_at_tick). */
void    tm_at_set_now(tm_at *at, int64_t now_ms);
/* Engine diagnostics ("at<" lines received, "at>" results, "urc", "warn":
 * "out overflow", URC queue full).  The port routes them to tm_trace(); the
 * engine itself has no dependency on the trace or the port.  NULL: silent. */
void    tm_at_set_log(tm_at *at, void (*log)(void *arg, const char *cat, const char *text), void *arg);

/* Engine -> host. */
size_t  tm_at_out_peek(tm_at *at, const uint8_t **p);  /* contiguous pending bytes */
void    tm_at_out_consume(tm_at *at, size_t n);
size_t  tm_at_out_pending(tm_at *at);
/* Bytes lost because a write did not fit even into the reserve (see
 * tm_at_out_room); normally 0, each loss is also logged as "warn". */
uint64_t tm_at_out_dropped(tm_at *at);

/* Time passes (guard times of +++ need it even without input); the port
 * calls this from a timer or each loop iteration.  It also runs bytes held
 * while a command was pending (e.g. when a handler started data mode from a
 * network callback) and flushes queued URCs once idle. */
void    tm_at_tick(tm_at *at, int64_t now_ms);
/* Earliest time tm_at_tick should run again, or -1 (the last now when held
 * bytes or queued URCs can make progress right away). */
int64_t tm_at_next_deadline(tm_at *at);

/* ---- output, used by voices and handlers --------------------------------- */

/* Output kept free for results, information lines, echo and URCs. */
#define TM_AT_OUT_RESERVE 4096

/* Free bytes for bulk producers: the free space minus a 4 KiB reserve kept
 * for results, information lines, echo and URCs, so those always fit even
 * when bulk data filled the rest.  tm_at_write() may use the reserve; a
 * write that does not fit even there keeps what fits, drops the rest,
 * counts it (tm_at_out_dropped) and logs a loud "out overflow". */
size_t  tm_at_out_room(tm_at *at);
/* True once after the output came close to full (less than
 * TM_AT_OUT_RESERVE + TM_AT_STREAM_ROOM free after a write) or
 * tm_at_out_room() gave a producer less than TM_AT_STREAM_ROOM: someone (a
 * body, the engine holding host bytes, a URC, a streamed answer) may be
 * waiting for the host to drain, so the port must run its idle callbacks
 * again after draining — and only then: an ordinary answer's flush is no
 * reason for another loop round. */
bool    tm_at_out_take_short(tm_at *at);
void    tm_at_write(tm_at *at, const void *p, size_t n);  /* raw; caller checked room for bulk data */
/* Writing in place, for a bulk producer that can fill a buffer itself (a
 * response body read straight from TLS): the contiguous free region at the
 * tail of the output, never more than tm_at_out_room() (0 while spooling),
 * then tm_at_out_commit(n) with the bytes actually put there.  Saves the
 * copy tm_at_write() makes; the bytes go out exactly as if written. */
size_t  tm_at_out_place(tm_at *at, uint8_t **p);
void    tm_at_out_commit(tm_at *at, size_t n);
/* Text for the host (result lines, reasons, URCs): the typographic
 * characters of our own texts ("…", "–", "±") become ASCII ("...", "-", "+-"):
 * hosts parse module output as ASCII.  Other bytes pass unchanged (the host's
 * own, reflected).  tm_at_printf, and so every dialect's lines, goes through it. */
void    tm_at_write_ascii(tm_at *at, const char *s, size_t n);
void    tm_at_printf(tm_at *at, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Information line through the voice ("+KHTTPSCFG: 1"). */
void    tm_at_line(tm_at *at, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* URC through the voice: now if idle, else queued until the running command
 * ends (and while a command line is being typed, and while the output has
 * no room for a URC line: the host is not reading).  At most TM_AT_URC_QUEUE
 * lines of TM_AT_URC_LINE_MAX-1 bytes are held; when full the oldest is
 * dropped with a "warn" log. */
void    tm_at_urc(tm_at *at, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int     tm_at_urc_queued(tm_at *at);        /* URC lines waiting */
/* A URC whose text is made when it is written, not when it is queued: for a
 * figure that changes while the URC waits behind a running command (HL
 * "+KTCP_DATA: <id>,<bytes available>": a KTCPRCV typed meanwhile may read
 * them all).  render(at, key, buf, cap) fills buf and returns true, or false
 * when there is nothing to say any more (the URC is dropped).  key names the
 * object (a session id), never a pointer, so a URC queued for a session the
 * host deleted meanwhile renders nothing instead of reading freed memory.
 * Written at once when the engine is idle, like tm_at_urc. */
typedef bool (*tm_at_urc_render)(tm_at *at, int key, char *buf, size_t cap);
void    tm_at_urc_late(tm_at *at, tm_at_urc_render render, int key);

/* V.250 state (E, V, Q, S-registers); voices read it. */
bool    tm_at_echo(tm_at *at);
bool    tm_at_verbose(tm_at *at);   /* ATV1 */
bool    tm_at_quiet(tm_at *at);     /* ATQ1 */
int     tm_at_cmee(tm_at *at);      /* AT+CMEE level 0/1/2 (HL); SPWF keeps it 2 when console_errs */
void    tm_at_set_cmee(tm_at *at, int level);
void    tm_at_set_echo(tm_at *at, bool on);
void    tm_at_set_verbose(tm_at *at, bool on);
void    tm_at_set_quiet(tm_at *at, bool on);
uint32_t tm_at_guard_ms(tm_at *at);  /* +++ guard time (S12 in 1/50 s) */
/* Sets S12 from milliseconds (20 ms steps, 20..5100): for a dialect without
 * ATS whose manual fixes the guard time (ESP: 20 ms). */
void     tm_at_set_guard_ms(tm_at *at, uint32_t ms);

/* Helpers for V.250 voices: "\r\nOK\r\n" in ATV1, "0\r" in ATV0, nothing in ATQ1. */
void    tm_at_v250_result(tm_at *at, const char *verbose, int numeric);
/* "\r\n<text>\r\n" in ATV1, "<text>\r\n" in ATV0. */
void    tm_at_v250_line(tm_at *at, const char *text);

/* V.250 basic commands: E V Q Z S(3,4,5,12) &K &F &D &C and +CMEE (=0..2, ?,
 * =?).  Not added implicitly: a dialect lists it in its tables, after its
 * own table so it can override rows (e.g. I).  Z restores E (dialect's
 * echo_default), V1, Q0, CMEE 1; &F also S12=50, &K0, &D2, &C1.  S3/S4/S5
 * can be read, and "set" only to their fixed values (13, 10, 8). */
extern const tm_at_cmd tm_at_v250_table[];

/* ---- the running command ------------------------------------------------- */

/* Where handlers put the detail of a failure: return tm_fail(tm_at_reason(at), …). */
tm_reason *tm_at_reason(tm_at *at);
/* Finish a command that returned TM_AT_PENDING: TM_OK -> voice ok, else
 * voice error with tm_at_reason().  The final result is written at once; the
 * rest of a ';' chain, held (pipelined) bytes and queued URCs are run from
 * the next tm_at_tick()/tm_at_feed(), never from inside this call, so the
 * caller may keep using its session state afterwards (e.g. to build the URC
 * that follows the result) even when the host pipelined a command that
 * frees it.  tm_at_next_deadline() returns "now" while such work waits.
 * A second completion of the same command is ignored (logged). */
void    tm_at_complete(tm_at *at, tm_err result);
/* Finish a pending command without any final result (the handler printed
 * its own, e.g. "NO CARRIER").  The rest of a ';' chain is not run. */
void    tm_at_complete_silent(tm_at *at);
/* A pending command that sends a stream to the host outside data mode
 * (HL KHTTPSGET body) can be abandoned by the host with "+++" framed by the
 * guard time of silence (S12), as in data mode.  The handler arms this after
 * returning TM_AT_PENDING is decided; when the escape is seen, fn(arg) runs
 * from the loop (never from inside tm_at_feed) and must finish the command
 * (tm_at_complete / _silent).  Completion disarms it.  Bytes that are not an
 * escape (pipelined commands, '+' without the guard times) are held as
 * usual. */
void    tm_at_set_abort(tm_at *at, void (*fn)(void *arg), void *arg);
bool    tm_at_busy(tm_at *at);             /* a command is running (pending or in data mode) */
/* The module restarts while a command runs (control channel "reset"): the
 * command ends without a final result.  A half-typed line and the bytes held
 * behind the command are discarded, a streamed answer is stopped, a data
 * mode ends (its on_end sees TM_AT_DATA_END_HOST_GONE); then drop(arg)
 * releases what the command worked on (the dialect's sessions), and
 * whatever all this wrote for the host (error results, URCs held while the
 * command ran) is taken back.  What was written before stays: the host
 * gets it, then the boot URCs the dialect sends next. */
void    tm_at_abandon(tm_at *at, void (*drop)(void *arg), void *arg);
/* Name of the running (or last) command as typed: "+kcnxcfg", "E", "&K". */
const char *tm_at_command_name(tm_at *at);
/* Notes on dispatch:
 *  - A line is tokenized completely before anything runs: a syntax error
 *    (unterminated quote, stray character) runs nothing.  Unknown commands
 *    and failures are found left to right: the chain stops at the first
 *    error, earlier commands have run.  Exactly one final result per line.
 *  - tm_at_complete() may also be called before the handler returned
 *    TM_AT_PENDING (a callback that fired synchronously); it takes effect
 *    when the handler returns.
 *  - Bytes received while a command is pending (not in data mode) are kept
 *    (up to TM_AT_LINE_MAX+2; beyond that tm_at_feed() returns short) and
 *    run after completion: echo and parsing happen then.  With the
 *    dialect's refuse_while_busy they are refused instead (voice->busy per
 *    line), except while a +++ abort is armed (tm_at_set_abort).
 *  - Lines: leading spaces/TABs are ignored; a line of only blanks/control
 *    bytes is ignored silently; other content before "AT" is TM_E_SYNTAX;
 *    control bytes (< 0x20 but TAB) anywhere in an AT line are
 *    TM_E_BINARY_NOISE.  Echo sends every command-mode byte back except the
 *    LF swallowed after a CR. */

/* ---- long answers -----------------------------------------------------------
 * An answer that may not fit in the output buffer (thousands of files, every
 * stored certificate) is produced in parts, so it streams out completely
 * whatever the host's reading speed.  The handler calls tm_at_stream() and
 * returns what it returns (TM_AT_PENDING).  The engine then calls
 * more(at, arg, false) from tm_at_tick() — never from inside a handler or a
 * network callback — whenever tm_at_out_room() is at least
 * TM_AT_STREAM_ROOM (tm_at_next_deadline() says "now" while it can run;
 * after the host read some output otherwise).  more() writes at most
 * tm_at_out_room() bytes — one tm_at_line() of a full command line always
 * fits in TM_AT_STREAM_ROOM — and returns TM_AT_PENDING to be called again,
 * or the command's result (TM_OK, or an error with tm_at_reason() filled),
 * which ends the command as tm_at_complete() does.  It must write something
 * each time it returns TM_AT_PENDING (else the command fails with
 * TM_E_INTERNAL).  Meanwhile the command is pending: URCs queue, later lines
 * wait.  When the host goes away (tm_at_host_gone), more(at, arg, true) is
 * called once to release what it holds; its return value is ignored. */
#define TM_AT_STREAM_ROOM (TM_AT_LINE_MAX + 1024)
typedef tm_err (*tm_at_more)(tm_at *at, void *arg, bool stop);
tm_err  tm_at_stream(tm_at *at, tm_at_more more, void *arg);
/* The simple form for a handler that builds its whole answer in one go (a
 * listing through a callback API that cannot pause): after tm_at_spool(),
 * everything written (lines, raw bytes) goes to a heap buffer of up to
 * TM_AT_SPOOL_MAX bytes instead of the output; the handler returns
 * tm_at_spool_end(at, result), which streams the buffer out as the host
 * reads (tm_at_stream), then gives `result`.  Beyond TM_AT_SPOOL_MAX (or
 * without memory) the answer is cut, said in a last line, and logged. */
void    tm_at_spool(tm_at *at);
tm_err  tm_at_spool_end(tm_at *at, tm_err result);
/* Frees what the engine allocated (a spooled answer still streaming at
 * exit); call before freeing the engine. */
void    tm_at_cleanup(tm_at *at);

/* ---- typed argument getters ----------------------------------------------
 * idx is 1-based like the vendor manuals.  name is the manual's parameter
 * name ("port", "session_id").  On failure they fill tm_at_reason(at) with
 * the index, the name, what was expected and what was found, and return the
 * code; handlers just `if ((e = …)) return e;`. */
tm_err tm_at_get_int(tm_at *at, const tm_at_args *a, int idx, const char *name,
                     long lo, long hi, long *out);               /* omitted -> TM_E_ARG_MISSING */
tm_err tm_at_opt_int(tm_at *at, const tm_at_args *a, int idx, const char *name,
                     long lo, long hi, long dflt, long *out);    /* omitted -> dflt */
tm_err tm_at_get_str(tm_at *at, const tm_at_args *a, int idx, const char *name,
                     char *out, size_t cap);                     /* omitted/empty -> TM_E_ARG_MISSING */
tm_err tm_at_opt_str(tm_at *at, const tm_at_args *a, int idx, const char *name,
                     char *out, size_t cap, const char *dflt);
/* A host name or IP address: no space at either end (the reason suggests
 * the trimmed name), no blanks, '/', '"' or non-ASCII inside. */
tm_err tm_at_get_host(tm_at *at, const tm_at_args *a, int idx, const char *name,
                      char *out, size_t cap);
bool   tm_at_omitted(const tm_at_args *a, int idx);             /* absent or empty (SPWF: or "NULL") */
tm_err tm_at_max_args(tm_at *at, const tm_at_args *a, int max); /* TM_E_ARG_TOO_MANY with detail */

/* ---- data modes -------------------------------------------------------------
 * Host -> module.  Started by a handler (which then returns TM_AT_PENDING or
 * has already printed CONNECT).  The bytes after the command's terminator in
 * the same feed go to the sink.  Ends by whichever comes first of:
 *   count    exactly `count` bytes (0 = no count);
 *   pattern  the EOF pattern (bytes that may be its start are held back, so
 *            the sink never sees any part of the pattern); a near miss with
 *            typographic dashes ("–EOF–Pattern--") ends with
 *            TM_AT_DATA_END_MANGLED so the dialect can explain it;
 *   escape   "+++" preceded and followed by the guard time of silence;
 *   idle     no byte for idle_ms (0 = never) while the sink had room: the
 *            host stopped short of its count (TM_AT_DATA_END_IDLE; bytes held
 *            back as a possible pattern or escape are dropped).  A sink
 *            without room holds the host back: that silence is ours and
 *            does not count.
 * Backpressure: the engine never gives the sink more than room() bytes;
 * tm_at_feed() returns short instead. */
typedef enum {
    TM_AT_DATA_END_COUNT,
    TM_AT_DATA_END_PATTERN,
    TM_AT_DATA_END_ESCAPE,
    TM_AT_DATA_END_MANGLED,
    TM_AT_DATA_END_HOST_GONE,   /* tm_at_host_gone(): abandon, nothing is committed */
    TM_AT_DATA_END_IDLE,        /* the host fell silent for idle_ms: abandon */
} tm_at_data_end;

typedef struct {
    size_t      count;         /* 0: no count */
    bool        pattern;       /* end at the EOF pattern */
    bool        escape;        /* end at +++ with guard time */
    void      (*on_data)(void *arg, const uint8_t *p, size_t n);
    void      (*on_end)(void *arg, tm_at_data_end how, size_t total);
    size_t    (*room)(void *arg);   /* NULL: unlimited */
    void       *arg;
    uint32_t    idle_ms;       /* 0: the host may pause for ever */
} tm_at_data_in;

/* A handler that starts data mode returns TM_AT_PENDING (TM_OK is taken as
 * TM_AT_PENDING while data mode is active); on_end then finishes the command
 * with tm_at_complete() (or later, after network work).  The +++ escape
 * needs the guard time of silence before the first '+' (since the previous
 * data byte, or since data mode started) and after the third (decided by
 * tm_at_tick / the next byte's time); otherwise the '+' are data.  The count
 * counts every data byte received (also held-back ones; a swallowed LF is
 * not counted); `total` in on_end is what the sink got.  When count and
 * pattern are both on, whichever completes first ends the data (held bytes
 * are then released as data).  An escape candidate that interrupts a
 * pattern prefix releases that prefix as data. */
void   tm_at_data_in_start(tm_at *at, const tm_at_data_in *spec);
bool   tm_at_in_data_mode(tm_at *at);
/* Leave data mode at once without on_end (e.g. the connection died); the
 * caller then finishes the command (tm_at_complete / _silent). */
void   tm_at_data_in_stop(tm_at *at);

/* The EOF pattern (HL AT+KPATTERN); default "--EOF--Pattern--".  set:
 * 1..TM_AT_PATTERN_MAX printable ASCII bytes (0x21..0x7e), else an error
 * with tm_at_reason() filled. */
const char *tm_at_pattern(tm_at *at);
tm_err      tm_at_set_pattern(tm_at *at, const char *pattern);

#endif
