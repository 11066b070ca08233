/* util.h: errors, checked allocation, strings, hashing and small helpers used everywhere.
 *
 * Error convention: a fallible function takes an `lm_err *` and returns 0 on success or a
 * sysexits status (EX_DATAERR, EX_NOINPUT, ...) after filling err->msg with one line that has
 * no "lumen: CMD: " prefix and no trailing newline, e.g. "pbc.csv:1204:7: unterminated quoted
 * field". The command prints it with lm_report(). Functions returning pointers return NULL on
 * failure and fill err the same way. */
#ifndef LUMEN_UTIL_H
#define LUMEN_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sysexits.h>

#define LUMEN_VERSION "0.1.0"

typedef struct lm_err {
	int status;      /* sysexits code, 0 when no error */
	char msg[1024];  /* one line, no prefix */
} lm_err;

/* Fills err (if not NULL) and returns status. */
int lm_seterr(lm_err *err, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prints "lumen: CMD: MSG\n" on stderr. */
void lm_report(const char *cmd, const lm_err *err);
/* Prints "lumen: CMD: formatted\n" on stderr and returns status. */
int lm_fail(const char *cmd, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Checked allocation: on failure prints "lumen: out of memory" (after the registered cleanup
 * hook, e.g. endwin) and exits with EX_OSERR. Results are freed with free(). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Overflow-checked n * size for arrays. */
void *xmallocarray(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* "a,b,,c" -> {"a","b","c"}: a malloc'd array of malloc'd strings (empty items dropped),
 * *n set to their count; free with lm_split_free. */
char **lm_split(const char *s, int *n);
/* The words of s separated by spaces and tabs, as lm_split. */
char **lm_split_ws(const char *s, int *n);
void lm_split_free(char **l, int n);
/* malloc'd printf; caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Hook run before exiting on a fatal error (the TUI registers endwin). */
void lm_set_fatal_hook(void (*hook)(void));
void lm_run_fatal_hook(void);

/* Growable byte buffer, always NUL-terminated once anything was appended. */
typedef struct lm_buf {
	char *data;
	size_t len, cap;
} lm_buf;
void buf_add(lm_buf *b, const void *p, size_t n);
void buf_puts(lm_buf *b, const char *s);
void buf_printf(lm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(lm_buf *b);

/* Prints a cJSON tree compactly into a malloc'd string (freed with free()) and deletes the tree. */
struct cJSON;
char *json_take(struct cJSON *j);

/* A CSV field as RFC 4180 writes it: as is, or in double quotes (quotes doubled) when it holds
 * a comma, a quote or a line break. One rule for every CSV lumen writes. */
void lm_csv_quote(lm_buf *b, const char *s);
void lm_csv_fputs(FILE *f, const char *s);

/* SHA-256 (FIPS 180-4). */
typedef struct lm_sha256 {
	uint32_t h[8];
	uint64_t len;
	unsigned char blk[64];
	size_t nblk;
} lm_sha256;
void sha256_init(lm_sha256 *s);
void sha256_update(lm_sha256 *s, const void *p, size_t n);
/* Writes 64 lowercase hex digits and a NUL into hex[65]. */
void sha256_hex(lm_sha256 *s, char hex[65]);
/* On x86-64 the block function uses the CPU's SHA instructions when it has them; on = 1 forces
 * the portable C code (so tests check both paths), on = 0 restores the choice. */
void sha256_set_portable(int on);
/* Opens path for writing ("wb", truncating), creating it with mode 0600: outputs that hold
 * patient data are private unless the user widens them. NULL with errno set. */
FILE *lm_fopen_private(const char *path);

/* The running subcommand's name for messages printed below the command ("import", ...); set
 * by main. */
extern const char *lm_command;

/* Removes temporary files that a killed lumen left beside path (".NAME.tmp-PID" of import,
 * "NAME.tmp.PID" of report) when process PID is gone, saying so on stderr in one line each
 * ("lumen: CMD: removed ..."). Returns how many were removed. */
int lm_clean_stale(const char *path);

/* Hashes a whole file; 0 or EX_NOINPUT/EX_IOERR. */
int sha256_file(const char *path, char hex[65], lm_err *err);

/* Seeded PRNG (xoshiro256**, seeded through splitmix64): same seed, same stream everywhere. */
typedef struct lm_rng {
	uint64_t s[4];
} lm_rng;
void rng_seed(lm_rng *r, uint64_t seed);
uint64_t rng_next(lm_rng *r);
double rng_uniform(lm_rng *r);          /* [0, 1) */
double rng_normal(lm_rng *r);           /* standard normal */
uint64_t rng_below(lm_rng *r, uint64_t n); /* uniform in [0, n), unbiased */
void rng_shuffle(lm_rng *r, size_t *a, size_t n);

/* Parsing helpers: whole-string conversions, 0 on success, -1 if s is not entirely a number. */
int parse_double(const char *s, double *out);
int parse_long(const char *s, long *out);

/* Time as ISO 8601 UTC "2026-11-23T10:52:00Z" into out[32]. */
void lm_now_iso(char out[32]);
/* Monotonic seconds. */
double lm_seconds(void);
/* Peak resident set size in kB (from getrusage). */
long lm_peak_rss_kb(void);
/* The login name for the access log: $LUMEN_USER, else $USER, else the uid's name, else "uid:N". */
const char *lm_user(void);

#define LM_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
