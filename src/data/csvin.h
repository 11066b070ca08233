/* csvin.h: a streaming CSV reader over libcsv that knows where every field came from.
 *
 * The reader is fed bytes in chunks of any size (csvin_feed) and calls the row function once
 * per record with all its fields. It strips a UTF-8 byte-order mark, accepts LF and CRLF,
 * quoted delimiters and newlines, skips blank lines, detects the delimiter (',', ';' or tab)
 * from the first line when none is given, checks that the input is valid UTF-8 without NUL
 * bytes, and that every record has as many fields as the first. Unquoted fields are trimmed of
 * spaces and tabs (libcsv's default). Errors are reported as "NAME:LINE:COL: reason" (LINE is
 * the physical line, COL the character column, both 1-based) with status EX_DATAERR; the
 * first error stops the reader and every later call returns it again. */
#ifndef LUMEN_CSVIN_H
#define LUMEN_CSVIN_H

#include <stddef.h>

#include "../util.h"

typedef struct csvin_field {
	const char *s; /* NUL-terminated; valid only during the row call */
	size_t len;
	long line, col; /* where the field starts */
} csvin_field;

typedef struct csvin_row {
	long record;           /* 1 = the first record (the header) */
	int n;                 /* number of fields */
	const csvin_field *f;  /* n fields, owned by the reader; their strings lie in one
				* buffer, in order, each right after the previous one's NUL */
	long end_line, end_col; /* where the record ends (its terminator, or end of input) */
} csvin_row;

/* Called once per record. Returns 0 to go on, or a status after filling err (typically with
 * csvin_error_at), which stops the reader. */
typedef int (*csvin_row_fn)(void *ctx, const csvin_row *row, lm_err *err);

typedef struct csvin csvin;

/* name is used in messages (not copied: it must outlive the reader). delim is ',', ';', '\t'
 * or any single byte, or 0 to detect it from the first line. Free with csvin_free. */
csvin *csvin_new(const char *name, int delim, csvin_row_fn fn, void *ctx);
/* Feeds len bytes. 0 or the status of the first error (err filled). */
int csvin_feed(csvin *r, const void *buf, size_t len, lm_err *err);
/* Ends the input: flushes the last record, checks for an unterminated quote, a truncated
 * UTF-8 sequence and an empty input ("NAME:1:1: empty file"). 0 or status. */
int csvin_finish(csvin *r, lm_err *err);
/* The delimiter in use (0 until detected). */
int csvin_delim(const csvin *r);
/* Records delivered so far. */
long csvin_records(const csvin *r);
void csvin_free(csvin *r);

/* For input already read once without error (lumen import's second pass): feeds libcsv whole
 * chunks, without the UTF-8 and NUL checks and without positions (fields report line and
 * column 0). Set it before the first csvin_feed, with a known delimiter. */
void csvin_set_trusted(csvin *r, int on);

/* Reads a whole file through a reader in 256 KiB chunks, also hashing the bytes into sha when
 * not NULL. A negative delim means -delim in trusted mode (csvin_set_trusted).
 * name is used in messages; *delim_used (if not NULL) receives the delimiter.
 * 0, EX_NOINPUT (cannot open), EX_IOERR, or the reader's status. */
int csvin_read_file(const char *path, const char *name, int delim, csvin_row_fn fn, void *ctx,
		    lm_sha256 *sha, int *delim_used, lm_err *err);

/* The delimiter among ',', ';' and tab that occurs most often outside quotes in the first
 * line of buf (',' when none occurs). */
int csvin_detect_delim(const char *buf, size_t len);

/* Fills err with "NAME:LINE:COL: formatted" and EX_DATAERR; returns EX_DATAERR. */
int csvin_error_at(lm_err *err, const char *name, long line, long col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#endif
