/* fuzz_csv.c: libFuzzer driver for the CSV reader (src/data/csvin.h). The first byte picks
 * the chunk size (1..64) and the delimiter (detected, ',', ';' or tab); the rest is fed in
 * chunks of that size. Checks what the header promises: fields NUL-free with the right
 * length, laid out one after the other, positions from 1, every record as wide as the first,
 * and an error that is one line. Built and run by `make fuzz`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/data/csvin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fz {
	int width;
	long records;
} fz;

static int on_row(void *ctx, const csvin_row *row, lm_err *err)
{
	(void)err;
	fz *z = ctx;
	if (row->n < 1 || row->record != z->records + 1)
		abort();
	if (z->width == 0)
		z->width = row->n;
	else if (row->n != z->width)
		abort(); /* the reader must refuse a record of another width */
	for (int i = 0; i < row->n; i++) {
		const csvin_field *f = &row->f[i];
		if (strlen(f->s) != f->len || f->line < 1 || f->col < 1)
			abort();
		if (i > 0 && f->s != row->f[i - 1].s + row->f[i - 1].len + 1)
			abort();
	}
	z->records++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static const int delims[] = {0, ',', ';', '\t'};
	size_t chunk = (size_t)(data[0] & 63) + 1;
	int delim = delims[(data[0] >> 6) & 3];
	data++, size--;
	fz z = {0, 0};
	csvin *r = csvin_new("fuzz.csv", delim, on_row, &z);
	lm_err err = {0, ""};
	int st = 0;
	for (size_t off = 0; off < size && !st; off += chunk)
		st = csvin_feed(r, data + off, size - off < chunk ? size - off : chunk, &err);
	if (!st)
		st = csvin_finish(r, &err);
	if (st && (st != EX_DATAERR || !err.msg[0] || strchr(err.msg, '\n')))
		abort(); /* bad input is EX_DATAERR with one line */
	if (!st && csvin_records(r) != z.records)
		abort();
	csvin_free(r);
	return 0;
}
