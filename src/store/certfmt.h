/* tlsmodem — what a host sent when it loaded a certificate or key.
 *
 * Pure C (no TLS backend): detects PEM (one or many blocks, LF, CR LF or CR
 * alone as a terminal pastes it, any
 * text around), DER (an ASN.1 SEQUENCE whose length covers the input), and
 * bare base64 of DER (line breaks anywhere), and turns each into DER items. */
#ifndef TM_CERTFMT_H
#define TM_CERTFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef enum { TM_FMT_UNKNOWN = 0, TM_FMT_PEM, TM_FMT_DER, TM_FMT_BASE64 } tm_fmt;
typedef enum { TM_ITEM_CERT, TM_ITEM_KEY } tm_item_kind;

const char *tm_fmt_name(tm_fmt f);   /* "PEM", "DER", "base64" */

#define TM_CERTFMT_MAX_ITEMS 16

typedef struct {
    tm_fmt  fmt;
    int     count;                          /* DER items found */
    size_t  off[TM_CERTFMT_MAX_ITEMS];      /* into the caller's out buffer */
    size_t  len[TM_CERTFMT_MAX_ITEMS];
    char    pem_label[TM_CERTFMT_MAX_ITEMS][32];  /* "CERTIFICATE", "PRIVATE KEY", "EC PRIVATE KEY", "" */
    size_t  total;                          /* bytes used in out */
} tm_certfmt_result;

/* Decodes `in` into DER items written back to back into out (cap bytes).
 * want = TM_ITEM_CERT accepts CERTIFICATE blocks (others are skipped and
 * named in the reason if nothing is left); TM_ITEM_KEY accepts private keys.
 * Garbage -> TM_E_CERT_FORMAT / TM_E_KEY_FORMAT with a reason that says what
 * was seen ("starts with 'Hello'", "PEM block 2 has bad base64 at line 7",
 * "DER length 1200 but 1100 bytes were sent"). */
/* Details: TRUSTED CERTIFICATE / X509 CERTIFICATE blocks count as
 * certificates (label "CERTIFICATE"; OpenSSL's trust settings are dropped);
 * ENCRYPTED PRIVATE KEY and Proc-Type: 4,ENCRYPTED keys are refused ("encrypted
 * keys are not supported; decrypt with openssl pkey: openssl pkey -in key.pem
 * -out key-decrypted.pem …"); other blocks (X509 CRL,
 * CERTIFICATE REQUEST, EC PARAMETERS, …) are skipped.  For DER and base64 the
 * label is inferred from the structure ("CERTIFICATE", "PRIVATE KEY",
 * "EC PRIVATE KEY", "RSA PRIVATE KEY").  Every item is checked to be one
 * SEQUENCE whose inner elements fit its length.  TM_E_TOO_LARGE when out is
 * too small or there are more than TM_CERTFMT_MAX_ITEMS items.  Trailing
 * whitespace is tolerated everywhere. */
tm_err tm_certfmt_decode(const uint8_t *in, size_t len, tm_item_kind want,
                         uint8_t *out, size_t cap, tm_certfmt_result *res, tm_reason *why);

/* `in` ended inside a PEM block (a byte count ran out) and its lines end in
 * CR LF: how many bytes the whole PEM needs in that form, computed from the
 * DER length at the start of the cut block and the line width seen.  False
 * when the data has no CR LF, is not cut inside a block, or the size cannot
 * be told.  (A terminal that turns LF into CR LF makes a PEM longer than the
 * count the host announced from the file.) */
bool   tm_certfmt_pem_crlf_need(const uint8_t *in, size_t len, size_t *need);
/* The counted-upload case both dialects meet: exactly `announced` bytes were
 * received and they are a PEM cut by a terminal's LF -> CR LF.  Returns how
 * many bytes of the PEM are still to come (0: not that case, or more than a
 * 4 KiB rest, which is not a terminal's doing). */
size_t tm_certfmt_crlf_overrun_rest(const uint8_t *in, size_t len, size_t announced);
/* The reason for it once the rest was read and dropped: both sizes, what was
 * dropped, nothing stored, then `advice` (the dialect's way out). */
tm_err tm_certfmt_crlf_overrun_reason(tm_reason *why, const uint8_t *in, size_t len, size_t announced,
                                      size_t dropped, bool ended_early, const char *advice);

/* Base64 helpers (RFC 4648, whitespace ignored on decode, missing padding
 * accepted).  decode: -1 on bad input or when cap is too small.  encode:
 * line_len > 0 puts "\n" after every line_len characters and after the last
 * line; writes a NUL; returns the length, or 0 when cap is too small. */
long   tm_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap); /* -1 on bad input */
size_t tm_base64_encode(const uint8_t *in, size_t len, char *out, size_t cap, int line_len);

#endif
