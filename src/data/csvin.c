/* csvin.c: streaming CSV reader over libcsv with positions. See csvin.h.
 *
 * libcsv calls back when it meets a delimiter or a record terminator, but never says where.
 * So the reader scans every byte itself, for UTF-8, NUL and line/column counting, and runs a
 * small model of the quoting alongside (a quote toggles "inside quotes", which also holds
 * for doubled quotes): each delimiter or line break outside quotes ends a field, and a line
 * with nothing but spaces is skipped, as libcsv does. The model queues where every field
 * starts and where every record ends; libcsv's callbacks take their positions from that
 * queue, in order. libcsv is fed one physical line at a time (and whatever is left at the
 * end of a chunk), so a parse error is located by counting columns up to the offset where
 * libcsv stopped. Where the model and libcsv could disagree (input that libcsv rejects in
 * strict mode anyway) the queue is resynchronised at every record. */
#define _POSIX_C_SOURCE 200809L
#include "csvin.h"

#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct fmeta {
	size_t off, len;
	long line, col;
} fmeta;

typedef struct lpos {
	long line, col;
} lpos;

typedef struct qrow {
	int first, n; /* its field starts: st[first .. first + n) */
	lpos end;
} qrow;

struct csvin {
	struct csv_parser p;
	const char *name;
	int delim;
	csvin_row_fn fn;
	void *ctx;
	int status;  /* sticky first error */
	lm_err err;  /* its message */
	long records;
	int expected; /* fields per record, from the first */
	int finished;
	int trusted; /* csvin_set_trusted: no checks, no positions */

	/* position of the next byte */
	long line, col; /* col = characters already on this line */
	unsigned long long nbytes;
	/* UTF-8 decoding state */
	int need;
	unsigned char lo, hi;
	/* byte-order mark at the very start */
	unsigned char head[3];
	int nhead, head_done;
	/* bytes held back until the first line is complete, for delimiter detection */
	lm_buf pending;
	int pend_quoted;

	/* the segment being fed: where its first byte is */
	long seg_line, seg_col;
	/* the quoting model: field starts of queued records, then of the record being read */
	int in_q, begun, need_start;
	lpos *st;
	int nst, capst, cur_first;
	qrow *rq;
	int nrq, caprq, rq_head;

	/* the record being assembled */
	lm_buf data;
	fmeta *fm;
	int nf, capf;
	csvin_field *fields;
	int capfields;
};

int csvin_error_at(lm_err *err, const char *name, long line, long col, const char *fmt, ...)
{
	char msg[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return lm_seterr(err, EX_DATAERR, "%s:%ld:%ld: %s", name, line, col, msg);
}

static int fail_at(csvin *r, long line, long col, const char *msg)
{
	if (!r->status)
		r->status = csvin_error_at(&r->err, r->name, line, col, "%s", msg);
	return r->status;
}

csvin *csvin_new(const char *name, int delim, csvin_row_fn fn, void *ctx)
{
	csvin *r = xcalloc(1, sizeof *r);
	if (csv_init(&r->p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
		free(r);
		return NULL;
	}
	r->name = name;
	r->delim = delim;
	if (delim)
		csv_set_delim(&r->p, (unsigned char)delim);
	r->fn = fn;
	r->ctx = ctx;
	r->line = 1;
	r->lo = 0x80;
	r->hi = 0xbf;
	r->need_start = 1;
	return r;
}

void csvin_free(csvin *r)
{
	if (!r)
		return;
	csv_free(&r->p);
	buf_free(&r->pending);
	buf_free(&r->data);
	free(r->fm);
	free(r->fields);
	free(r->st);
	free(r->rq);
	free(r);
}

int csvin_delim(const csvin *r) { return r->delim; }
void csvin_set_trusted(csvin *r, int on) { r->trusted = on; }
long csvin_records(const csvin *r) { return r->records; }

int csvin_detect_delim(const char *buf, size_t len)
{
	size_t n_comma = 0, n_semi = 0, n_tab = 0;
	int quoted = 0;
	for (size_t i = 0; i < len; i++) {
		char c = buf[i];
		if (c == '"')
			quoted = !quoted;
		else if (quoted)
			continue;
		else if (c == '\n' || c == '\r')
			break;
		else if (c == ',')
			n_comma++;
		else if (c == ';')
			n_semi++;
		else if (c == '\t')
			n_tab++;
	}
	if (n_semi > n_comma && n_semi >= n_tab)
		return ';';
	if (n_tab > n_comma && n_tab > n_semi)
		return '\t';
	return ',';
}

static void cb_field(void *s, size_t len, void *data)
{
	csvin *r = data;
	if (r->status)
		return;
	if (r->nf == r->capf) {
		r->capf = r->capf ? 2 * r->capf : 32;
		r->fm = xreallocarray(r->fm, (size_t)r->capf, sizeof *r->fm);
	}
	fmeta *m = &r->fm[r->nf++];
	m->off = r->data.len;
	m->len = len;
	lpos pos = {r->line, r->col + 1};
	if (r->trusted)
		pos.line = pos.col = 0;
	else if (r->rq_head < r->nrq) {
		const qrow *q = &r->rq[r->rq_head];
		if (r->nf - 1 < q->n)
			pos = r->st[q->first + r->nf - 1];
	} else if (r->cur_first + r->nf - 1 < r->nst)
		pos = r->st[r->cur_first + r->nf - 1];
	m->line = pos.line;
	m->col = pos.col;
	/* copy the field (libcsv reuses its buffer), NUL-terminated, into the record buffer */
	if (r->data.len + len + 1 > r->data.cap) {
		size_t cap = r->data.cap ? r->data.cap : 4096;
		while (cap < r->data.len + len + 1)
			cap *= 2;
		r->data.data = xrealloc(r->data.data, cap);
		r->data.cap = cap;
	}
	if (len)
		memcpy(r->data.data + r->data.len, s, len);
	r->data.data[r->data.len + len] = 0;
	r->data.len += len + 1;
}

static void cb_row(int c, void *data)
{
	(void)c;
	csvin *r = data;
	if (r->status) {
		r->nf = 0;
		r->data.len = 0;
		return;
	}
	lpos end = {r->line, r->col + 1};
	if (r->rq_head < r->nrq)
		end = r->rq[r->rq_head++].end;
	r->records++;
	if (r->records == 1)
		r->expected = r->nf;
	else if (r->nf != r->expected) {
		char msg[128];
		snprintf(msg, sizeof msg, "expected %d fields, found %d", r->expected, r->nf);
		if (r->nf > r->expected)
			fail_at(r, r->fm[r->expected].line, r->fm[r->expected].col, msg);
		else
			fail_at(r, end.line, end.col, msg);
	}
	if (!r->status) {
		if (r->nf > r->capfields) {
			r->capfields = r->nf;
			r->fields = xreallocarray(r->fields, (size_t)r->capfields, sizeof *r->fields);
		}
		for (int i = 0; i < r->nf; i++) {
			r->fields[i].s = r->data.data + r->fm[i].off;
			r->fields[i].len = r->fm[i].len;
			r->fields[i].line = r->fm[i].line;
			r->fields[i].col = r->fm[i].col;
		}
		csvin_row row = {r->records, r->nf, r->fields, end.line, end.col};
		lm_err e = {0, ""};
		int st = r->fn(r->ctx, &row, &e);
		if (st && !r->status) {
			r->status = st;
			r->err = e;
		}
	}
	r->nf = 0;
	r->data.len = 0;
}

/* Column of the byte at offset k of a segment that starts at (seg_line, seg_col + 1). */
static long col_at(const csvin *r, const unsigned char *seg, size_t k)
{
	long col = r->seg_col;
	for (size_t i = 0; i <= k; i++)
		if ((seg[i] & 0xc0) != 0x80)
			col++;
	return col;
}

/* After libcsv has taken a segment: drop the records it consumed (or that the model saw and
 * libcsv did not), keep the starts of the record still being read. */
static void model_compact(csvin *r)
{
	int keep = r->nst - r->cur_first;
	if (r->cur_first && keep)
		memmove(r->st, r->st + r->cur_first, (size_t)keep * sizeof *r->st);
	r->nst = keep;
	r->cur_first = 0;
	r->nrq = r->rq_head = 0;
}

static int parse_segment(csvin *r, const unsigned char *seg, size_t n)
{
	if (!n)
		return 0;
	size_t got = csv_parse(&r->p, seg, n, cb_field, cb_row, r);
	model_compact(r);
	if (r->status)
		return r->status;
	if (got != n) {
		int e = csv_error(&r->p);
		long col = col_at(r, seg, got < n ? got : n - 1);
		if (e == CSV_EPARSE) {
			if (seg[got] == '"')
				return fail_at(r, r->seg_line, col, "quote inside an unquoted field");
			return fail_at(r, r->seg_line, col, "unexpected character after a closing quote");
		}
		if (e == CSV_ETOOBIG)
			return fail_at(r, r->seg_line, col, "field too large");
		r->status = lm_seterr(&r->err, EX_SOFTWARE, "%s: %s", r->name, csv_strerror(e));
		return r->status;
	}
	return 0;
}

static void model_start(csvin *r, long line, long col)
{
	if (!r->need_start)
		return;
	r->need_start = 0;
	if (r->nst == r->capst) {
		r->capst = r->capst ? 2 * r->capst : 64;
		r->st = xreallocarray(r->st, (size_t)r->capst, sizeof *r->st);
	}
	r->st[r->nst++] = (lpos){line, col};
}

/* A record terminator (or the end of input) outside quotes at (line, col). */
static void model_end(csvin *r, long line, long col)
{
	if (r->begun) {
		model_start(r, line, col); /* an empty last field */
		if (r->nrq == r->caprq) {
			r->caprq = r->caprq ? 2 * r->caprq : 8;
			r->rq = xreallocarray(r->rq, (size_t)r->caprq, sizeof *r->rq);
		}
		r->rq[r->nrq++] = (qrow){r->cur_first, r->nst - r->cur_first, {line, col}};
		r->cur_first = r->nst;
	} else
		r->nst = r->cur_first; /* a blank line: libcsv skips it */
	r->begun = 0;
	r->need_start = 1;
}

/* Scans bytes (after the BOM and delimiter detection), feeding libcsv line by line. */
static int scan(csvin *r, const unsigned char *b, size_t len)
{
	size_t seg = 0;
	const unsigned char delim = (unsigned char)r->delim;
	r->seg_line = r->line;
	r->seg_col = r->col;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = b[i];
		if (r->need) {
			if (c < r->lo || c > r->hi) { /* reported where the character began */
				char msg[64];
				snprintf(msg, sizeof msg, "invalid UTF-8 sequence (byte 0x%02x)", c);
				return fail_at(r, r->line, r->col, msg);
			}
			r->lo = 0x80;
			r->hi = 0xbf;
			r->need--;
			continue;
		}
		if (c >= 0x80) {
			if (c >= 0xc2 && c <= 0xdf)
				r->need = 1;
			else if (c == 0xe0)
				r->need = 2, r->lo = 0xa0;
			else if (c == 0xed)
				r->need = 2, r->hi = 0x9f;
			else if (c >= 0xe1 && c <= 0xef)
				r->need = 2;
			else if (c == 0xf0)
				r->need = 3, r->lo = 0x90;
			else if (c >= 0xf1 && c <= 0xf3)
				r->need = 3;
			else if (c == 0xf4)
				r->need = 3, r->hi = 0x8f;
			else {
				char msg[64];
				snprintf(msg, sizeof msg, "invalid UTF-8 byte 0x%02x", c);
				return fail_at(r, r->line, r->col + 1, msg);
			}
			r->col++;
			model_start(r, r->line, r->col);
			r->begun = 1;
			continue;
		}
		if (c == 0)
			return fail_at(r, r->line, r->col + 1, "NUL byte");
		if (c == '\n') {
			if (!r->in_q)
				model_end(r, r->line, r->col + 1);
			r->line++;
			r->col = 0;
			if (parse_segment(r, b + seg, i + 1 - seg))
				return r->status;
			seg = i + 1;
			r->seg_line = r->line;
			r->seg_col = 0;
			continue;
		}
		r->col++;
		if (c == '"') {
			model_start(r, r->line, r->col);
			r->in_q = !r->in_q;
			r->begun = 1;
		} else if (r->in_q) {
			continue;
		} else if (c == delim) {
			model_start(r, r->line, r->col); /* an empty field */
			r->begun = 1;
			r->need_start = 1;
		} else if (c == '\r') {
			model_end(r, r->line, r->col);
		} else {
			model_start(r, r->line, r->col);
			if (c != ' ' && c != '\t')
				r->begun = 1;
			/* the rest of a plain run: printable ASCII that is neither a quote nor
			 * the delimiter needs nothing but counting */
			while (i + 1 < len && b[i + 1] >= 0x20 && b[i + 1] < 0x7f && b[i + 1] != '"' &&
			       b[i + 1] != delim) {
				i++;
				r->col++;
				r->begun |= b[i] != ' ';
			}
		}
	}
	if (seg < len && parse_segment(r, b + seg, len - seg))
		return r->status;
	return 0;
}

/* Handles delimiter detection: bytes wait in r->pending until the first line is complete. */
static int scan_detect(csvin *r, const unsigned char *b, size_t len, int final)
{
	if (r->delim)
		return scan(r, b, len);
	size_t i = 0;
	for (; i < len; i++) {
		if (b[i] == '"')
			r->pend_quoted = !r->pend_quoted;
		else if (b[i] == '\n' && !r->pend_quoted)
			break;
	}
	buf_add(&r->pending, b, i < len ? i + 1 : len);
	if (i == len && !final)
		return 0;
	r->delim = csvin_detect_delim(r->pending.data ? r->pending.data : "", r->pending.len);
	csv_set_delim(&r->p, (unsigned char)r->delim);
	lm_buf p = r->pending;
	memset(&r->pending, 0, sizeof r->pending);
	int st = p.len ? scan(r, (const unsigned char *)p.data, p.len) : 0;
	buf_free(&p);
	if (st || i >= len)
		return st;
	return scan(r, b + i + 1, len - i - 1);
}

int csvin_feed(csvin *r, const void *buf, size_t len, lm_err *err)
{
	const unsigned char *b = buf;
	if (!r->status && !r->head_done) {
		static const unsigned char bom[3] = {0xef, 0xbb, 0xbf};
		while (len > 0 && !r->head_done) {
			r->head[r->nhead++] = *b++;
			len--;
			if (r->head[r->nhead - 1] != bom[r->nhead - 1]) {
				r->head_done = 1;
				r->nbytes += (unsigned)r->nhead;
				scan_detect(r, r->head, (size_t)r->nhead, 0);
			} else if (r->nhead == 3) {
				r->head_done = 1; /* a BOM: dropped */
				r->nbytes += 3;
			}
		}
	}
	if (!r->status && len) {
		r->nbytes += len;
		if (r->trusted && r->delim) {
			if (csv_parse(&r->p, b, len, cb_field, cb_row, r) != len && !r->status)
				r->status = lm_seterr(&r->err, EX_DATAERR, "%s: the file changed while it was read",
						      r->name);
		} else
			scan_detect(r, b, len, 0);
	}
	if (r->status && err)
		*err = r->err;
	return r->status;
}

int csvin_finish(csvin *r, lm_err *err)
{
	if (!r->status && !r->finished) {
		r->finished = 1;
		if (!r->head_done && r->nhead) {
			/* a short input that began like a BOM but ended early */
			int n = r->nhead;
			r->head_done = 1;
			if (n < 3)
				scan_detect(r, r->head, (size_t)n, 1);
		}
		if (!r->status && !r->delim)
			scan_detect(r, (const unsigned char *)"", 0, 1);
		if (!r->status && r->need)
			fail_at(r, r->line, r->col + 1, "truncated UTF-8 sequence at end of file");
		if (!r->status) {
			lpos q = {r->line, r->col + 1};
			if (r->in_q && r->nst > r->cur_first)
				q = r->st[r->nst - 1]; /* where the open quoted field began */
			if (!r->in_q)
				model_end(r, r->line, r->col + 1);
			if (csv_fini(&r->p, cb_field, cb_row, r) != 0 && !r->status)
				fail_at(r, q.line, q.col, "unterminated quoted field");
		}
		if (!r->status && r->records == 0)
			fail_at(r, 1, 1, "empty file");
	}
	if (r->status && err)
		*err = r->err;
	return r->status;
}

int csvin_read_file(const char *path, const char *name, int delim, csvin_row_fn fn, void *ctx,
		    lm_sha256 *sha, int *delim_used, lm_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return lm_seterr(err, errno == ENOENT ? EX_NOINPUT : EX_NOINPUT, "%s: %s", name,
				 strerror(errno));
	csvin *r = csvin_new(name, delim < 0 ? -delim : delim, fn, ctx);
	if (r && delim < 0)
		csvin_set_trusted(r, 1);
	if (!r) {
		fclose(f);
		return lm_seterr(err, EX_SOFTWARE, "%s: cannot start the CSV parser", name);
	}
	enum { CHUNK = 256 * 1024 };
	unsigned char *b = xmalloc(CHUNK);
	int st = 0;
	size_t n;
	while ((n = fread(b, 1, CHUNK, f)) > 0) {
		if (sha)
			sha256_update(sha, b, n);
		if ((st = csvin_feed(r, b, n, err)) != 0)
			break;
	}
	if (!st && ferror(f))
		st = lm_seterr(err, EX_IOERR, "%s: read error", name);
	if (!st)
		st = csvin_finish(r, err);
	if (delim_used)
		*delim_used = csvin_delim(r);
	free(b);
	csvin_free(r);
	fclose(f);
	return st;
}
