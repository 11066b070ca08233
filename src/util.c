/* util.c: see util.h. */
#define _POSIX_C_SOURCE 200809L
#include "util.h"

#include <cjson/cJSON.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <math.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void (*fatal_hook)(void);

void lm_set_fatal_hook(void (*hook)(void)) { fatal_hook = hook; }

void lm_run_fatal_hook(void)
{
	void (*h)(void) = fatal_hook;
	fatal_hook = NULL; /* never twice, even if the hook itself fails */
	if (h)
		h();
}

/* An error is one line: control characters from the data (a quoted newline in a CSV value,
 * a tab, an escape sequence) are written as \n, \t, \xHH. */
static void escape_controls(char *msg, size_t cap)
{
	char out[sizeof ((lm_err *)0)->msg];
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)msg; *p && o + 5 < sizeof out; p++) {
		if (*p >= 0x20 && *p != 0x7f) {
			out[o++] = (char)*p;
		} else if (*p == '\n' || *p == '\r' || *p == '\t') {
			out[o++] = '\\';
			out[o++] = *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
		} else {
			o += (size_t)snprintf(out + o, sizeof out - o, "\\x%02x", *p);
		}
	}
	out[o] = 0;
	snprintf(msg, cap, "%s", out);
}

int lm_seterr(lm_err *err, int status, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
		escape_controls(err->msg, sizeof err->msg);
		err->status = status;
	}
	return status;
}

void lm_report(const char *cmd, const lm_err *err)
{
	fprintf(stderr, "lumen: %s: %s\n", cmd, err->msg[0] ? err->msg : "failed");
}

int lm_fail(const char *cmd, int status, const char *fmt, ...)
{
	char msg[sizeof ((lm_err *)0)->msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	escape_controls(msg, sizeof msg);
	fprintf(stderr, "lumen: %s: %s\n", cmd, msg);
	return status;
}

static void oom(void)
{
	lm_run_fatal_hook();
	fputs("lumen: out of memory\n", stderr);
	exit(EX_OSERR);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom();
	return q;
}

void *xmallocarray(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		oom();
	return xmalloc(n * size);
}

void *xreallocarray(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		oom();
	return xrealloc(p, n * size);
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char **lm_split(const char *s, int *n)
{
	*n = 0;
	char **out = xcalloc(strlen(s) + 1, sizeof *out);
	const char *p = s;
	while (*p) {
		const char *q = strchr(p, ',');
		size_t len = q ? (size_t)(q - p) : strlen(p);
		if (len)
			out[(*n)++] = xstrndup(p, len);
		p += len + (q != NULL);
	}
	return out;
}

char **lm_split_ws(const char *s, int *n)
{
	*n = 0;
	char **out = xcalloc(strlen(s) + 1, sizeof *out);
	const char *p = s;
	while (*p) {
		p += strspn(p, " \t");
		size_t len = strcspn(p, " \t");
		if (len)
			out[(*n)++] = xstrndup(p, len);
		p += len;
	}
	return out;
}

void lm_split_free(char **l, int n)
{
	for (int i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	char *p = xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return p;
}

void buf_add(lm_buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
}

void buf_puts(lm_buf *b, const char *s) { buf_add(b, s, strlen(s)); }

void buf_printf(lm_buf *b, const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		va_end(ap2);
		return;
	}
	if (b->len + (size_t)n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	b->len += (size_t)n;
}

void buf_free(lm_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *json_take(cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (!s)
		oom(); /* cJSON could not allocate: fail as every allocation does */
	char *r = xstrdup(s);
	cJSON_free(s);
	return r;
}

static int csv_needs_quotes(const char *s) { return strpbrk(s, ",\"\r\n") != NULL; }

void lm_csv_quote(lm_buf *b, const char *s)
{
	if (!csv_needs_quotes(s)) {
		buf_puts(b, s);
		return;
	}
	buf_puts(b, "\"");
	for (const char *q; (q = strchr(s, '"')); s = q + 1) {
		buf_add(b, s, (size_t)(q - s) + 1);
		buf_puts(b, "\"");
	}
	buf_puts(b, s);
	buf_puts(b, "\"");
}

void lm_csv_fputs(FILE *f, const char *s)
{
	if (!csv_needs_quotes(s)) {
		fputs(s, f);
		return;
	}
	lm_buf b = {0};
	lm_csv_quote(&b, s);
	fputs(b.data, f);
	buf_free(&b);
}

/* ---- SHA-256, FIPS 180-4 section 6.2 ---- */

static const uint32_t sha_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block_c(lm_sha256 *s, const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, h;
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3];
	e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) +
			      sha_k[i] + w[i];
		uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		h = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
	}
	s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d;
	s->h[4] += e, s->h[5] += f, s->h[6] += g, s->h[7] += h;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#include <stdatomic.h>

/* The same compression with the x86 SHA extensions (SHA-NI), chosen at run time when the
 * processor has them: about 5x faster, which matters for hashing large imports. The state
 * lives in two registers as (A,B,E,F) and (C,D,G,H), A and C in the top lanes; each
 * sha256rnds2 does two rounds from the low two words of W+K; msg1/msg2 extend the schedule
 * four words at a time (W[t-16] + s0(W[t-15]) + W[t-7], then + s1(W[t-2])). */
__attribute__((target("sha,sse4.1,ssse3"))) static void sha256_block_ni(lm_sha256 *s,
									 const unsigned char *p)
{
	const __m128i bswap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
	__m128i abef = _mm_set_epi32((int)s->h[0], (int)s->h[1], (int)s->h[4], (int)s->h[5]);
	__m128i cdgh = _mm_set_epi32((int)s->h[2], (int)s->h[3], (int)s->h[6], (int)s->h[7]);
	const __m128i abef0 = abef, cdgh0 = cdgh;
	__m128i m[4];
	for (int i = 0; i < 4; i++)
		m[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i)),
					bswap);
	for (int g = 0; g < 16; g++) {
		__m128i *w = &m[g & 3];
		if (g >= 4) {
			__m128i x = _mm_sha256msg1_epu32(*w, m[(g + 1) & 3]);
			x = _mm_add_epi32(x, _mm_alignr_epi8(m[(g + 3) & 3], m[(g + 2) & 3], 4));
			*w = _mm_sha256msg2_epu32(x, m[(g + 3) & 3]);
		}
		__m128i wk = _mm_add_epi32(*w, _mm_loadu_si128((const __m128i *)(const void *)
								  &sha_k[4 * g]));
		/* two rounds: the old (A,B,E,F) becomes (C,D,G,H), so the two registers swap
		 * roles, and swap back with the next two */
		cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
		wk = _mm_shuffle_epi32(wk, 0x0e);
		abef = _mm_sha256rnds2_epu32(abef, cdgh, wk);
	}
	abef = _mm_add_epi32(abef, abef0);
	cdgh = _mm_add_epi32(cdgh, cdgh0);
	uint32_t x[4], y[4];
	_mm_storeu_si128((__m128i *)(void *)x, abef);
	_mm_storeu_si128((__m128i *)(void *)y, cdgh);
	s->h[0] = x[3], s->h[1] = x[2], s->h[4] = x[1], s->h[5] = x[0];
	s->h[2] = y[3], s->h[3] = y[2], s->h[6] = y[1], s->h[7] = y[0];
}

static int sha_ni_present(void)
{
	static _Atomic int known = -1; /* threads may race to fill it, with the same answer */
	int k = atomic_load_explicit(&known, memory_order_relaxed);
	if (k < 0) {
		unsigned a, b, c, d;
		int sha = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b >> 29 & 1);
		int sse = __get_cpuid(1, &a, &b, &c, &d) && (c >> 19 & 1) && (c >> 9 & 1);
		k = sha && sse;
		atomic_store_explicit(&known, k, memory_order_relaxed);
	}
	return k;
}

static _Atomic int force_portable;

void sha256_set_portable(int on) { atomic_store(&force_portable, on != 0); }

static void sha256_block(lm_sha256 *s, const unsigned char *p)
{
	if (!atomic_load_explicit(&force_portable, memory_order_relaxed) && sha_ni_present())
		sha256_block_ni(s, p);
	else
		sha256_block_c(s, p);
}
#else
#define sha256_block sha256_block_c
void sha256_set_portable(int on) { (void)on; }
#endif

void sha256_init(lm_sha256 *s)
{
	static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	memcpy(s->h, h0, sizeof h0);
	s->len = 0;
	s->nblk = 0;
}

void sha256_update(lm_sha256 *s, const void *data, size_t n)
{
	const unsigned char *p = data;
	s->len += n;
	while (n) {
		if (s->nblk == 0 && n >= 64) {
			sha256_block(s, p);
			p += 64, n -= 64;
			continue;
		}
		size_t k = 64 - s->nblk < n ? 64 - s->nblk : n;
		memcpy(s->blk + s->nblk, p, k);
		s->nblk += k, p += k, n -= k;
		if (s->nblk == 64) {
			sha256_block(s, s->blk);
			s->nblk = 0;
		}
	}
}

void sha256_hex(lm_sha256 *s, char hex[65])
{
	uint64_t bits = s->len * 8;
	unsigned char pad[72] = {0x80};
	size_t padlen = (s->nblk < 56 ? 56 : 120) - s->nblk;
	unsigned char lenb[8];
	for (int i = 0; i < 8; i++)
		lenb[i] = (unsigned char)(bits >> (56 - 8 * i));
	uint64_t keep = s->len;
	sha256_update(s, pad, padlen);
	sha256_update(s, lenb, 8);
	s->len = keep;
	for (int i = 0; i < 8; i++)
		snprintf(hex + 8 * i, 9, "%08x", s->h[i]);
}

int sha256_file(const char *path, char hex[65], lm_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return lm_seterr(err, EX_NOINPUT, "%s: %s", path, strerror(errno));
	lm_sha256 s;
	sha256_init(&s);
	unsigned char b[65536];
	size_t n;
	while ((n = fread(b, 1, sizeof b, f)) > 0)
		sha256_update(&s, b, n);
	int bad = ferror(f);
	fclose(f);
	if (bad)
		return lm_seterr(err, EX_IOERR, "%s: read error", path);
	sha256_hex(&s, hex);
	return 0;
}

/* ---- PRNG: xoshiro256** (Blackman & Vigna), seeded through splitmix64 ---- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void rng_seed(lm_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rng_next(lm_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0], s[3] ^= s[1], s[1] ^= s[2], s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

double rng_uniform(lm_rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }

double rng_normal(lm_rng *r)
{
	/* Box-Muller; the second value is dropped so the stream does not depend on call parity. */
	double u1, u2;
	do
		u1 = rng_uniform(r);
	while (u1 <= 0.0);
	u2 = rng_uniform(r);
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

uint64_t rng_below(lm_rng *r, uint64_t n)
{
	if (n == 0)
		return 0;
	uint64_t lim = UINT64_MAX - UINT64_MAX % n, x;
	do
		x = rng_next(r);
	while (x >= lim);
	return x % n;
}

void rng_shuffle(lm_rng *r, size_t *a, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)rng_below(r, i);
		size_t t = a[i - 1];
		a[i - 1] = a[j];
		a[j] = t;
	}
}

int parse_double(const char *s, double *out)
{
	char *end;
	if (!*s)
		return -1;
	errno = 0;
	double v = strtod(s, &end);
	if (*end || end == s)
		return -1;
	*out = v;
	return 0;
}

int parse_long(const char *s, long *out)
{
	char *end;
	if (!*s)
		return -1;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (*end || end == s || errno == ERANGE)
		return -1;
	*out = v;
	return 0;
}

void lm_now_iso(char out[32])
{
	time_t t = time(NULL);
	const char *fixed = getenv("LUMEN_FIXED_TIME"); /* reproducible tests */
	if (fixed)
		t = (time_t)strtoll(fixed, NULL, 10);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

double lm_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

long lm_peak_rss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

const char *lm_user(void)
{
	static char name[64];
	const char *u = getenv("LUMEN_USER");
	if (!u || !*u)
		u = getenv("USER");
	if (!u || !*u) {
		struct passwd *pw = getpwuid(getuid());
		if (pw)
			u = pw->pw_name;
	}
	if (u && *u)
		snprintf(name, sizeof name, "%s", u);
	else
		snprintf(name, sizeof name, "uid:%ld", (long)getuid());
	return name;
}

FILE *lm_fopen_private(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, "wb");
	if (!f) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return f;
}

/* The PID at the end of name after prefix (digits only), or 0. */
static long tmp_pid(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);
	if (strncmp(name, prefix, n) || !name[n])
		return 0;
	char *end;
	errno = 0;
	long pid = strtol(name + n, &end, 10);
	return *end || errno || pid <= 0 ? 0 : pid;
}

const char *lm_command = "lumen";

int lm_clean_stale(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, (size_t)(slash - path) + (slash == path)) : xstrdup(".");
	const char *base = slash ? slash + 1 : path;
	if (!*base) {
		free(dir);
		return 0;
	}
	char *imp = xasprintf(".%s.tmp-", base), *rep = xasprintf("%s.tmp.", base);
	int removed = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		long pid = tmp_pid(e->d_name, imp);
		if (!pid)
			pid = tmp_pid(e->d_name, rep);
		/* only a process that is gone (ESRCH); EPERM means alive under another user */
		if (!pid || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		char *full = xasprintf("%s/%s", dir, e->d_name);
		struct stat sb;
		if (lstat(full, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_uid == getuid() &&
		    unlink(full) == 0) {
			fprintf(stderr, "lumen: %s: removed %s, left by process %ld that is no longer "
				"running\n", lm_command, full, pid);
			removed++;
		}
		free(full);
	}
	if (d)
		closedir(d);
	free(imp);
	free(rep);
	free(dir);
	return removed;
}
