/* import_run.c: the import's orchestration (import.h): the temporary file beside the output
 * (removed on a signal or an error, renamed at the end), the order of the passes over the
 * patients and the visits, the prescan that lets one pass do, and the tables of the
 * workbench; the per-value work is in import.c. */
#define _POSIX_C_SOURCE 200809L
#include "import_int.h"
#include "labels.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the temporary file ---- */

static char tmp_path[4096];

static void on_signal(int sig)
{
	if (tmp_path[0])
		unlink(tmp_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* The target may be replaced only when it is a regular file that is not one of the inputs
 * (--force never replaces the CSV being read, a device node or a directory). */
static int check_target(const import_opts *o, lm_err *err)
{
	const char *out = o->out;
	struct stat sb, in;
	if (stat(out, &sb) != 0)
		return 0;
	if (S_ISDIR(sb.st_mode))
		return lm_seterr(err, EX_CANTCREAT, "%s: is a directory", out);
	const char *inputs[] = {o->patients, o->visits};
	for (size_t i = 0; i < LM_ARRAY_LEN(inputs); i++)
		if (inputs[i] && stat(inputs[i], &in) == 0 && in.st_dev == sb.st_dev &&
		    in.st_ino == sb.st_ino)
			return lm_seterr(err, EX_CANTCREAT, "%s: is the input %s; refusing to replace it",
					 out, inputs[i]);
	if (!S_ISREG(sb.st_mode))
		return lm_seterr(err, EX_CANTCREAT,
				 "%s: not a regular file; refusing to replace it", out);
	if (!o->force)
		return lm_seterr(err, EX_CANTCREAT, "%s: file exists (use --force to replace it)", out);
	return 0;
}

/* Creates the temporary file (0600) and opens it with the schema, in a transaction. */
static int open_db(const char *tmp, const char *out, int big, sqlite3 **dbp, lm_err *err)
{
	*dbp = NULL;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return lm_seterr(err, EX_CANTCREAT, "%s: cannot create: %s", out, strerror(errno));
	/* umask may have taken bits away; the file holds patient data, so exactly 0600 */
	if (fchmod(fd, 0600) != 0) {
		int e = errno;
		close(fd);
		return lm_seterr(err, EX_CANTCREAT, "%s: %s", tmp, strerror(e));
	}
	close(fd);
	sqlite3 *db = NULL;
	/* one connection, one thread: no mutexes needed */
	int rc = sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		int st = lm_seterr(err, store_status(rc), "%s: %s", tmp,
				   db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return st;
	}
	/* The file is private until renamed, and deleted on any error: no journal is needed.
	 * For a large cohort, pages of 64 KiB: the load splits and balances a sixteenth as many
	 * b-tree pages as with 4 KiB (measured: about 8% less CPU for 1,000,000 x 41 columns),
	 * and the workbench is read mostly whole (frame_load) or by rowid. A small cohort keeps
	 * SQLite's 4 KiB, or its file would be mostly empty pages. */
	char *pragmas = sqlite3_mprintf(
		"PRAGMA page_size = %d; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
		" PRAGMA locking_mode = EXCLUSIVE; PRAGMA cache_size = -16384;"
		" PRAGMA temp_store = FILE; BEGIN",
		big ? 65536 : 4096);
	int st = store_exec(db, pragmas, err);
	sqlite3_free(pragmas);
	if (!st)
		st = store_init_schema(db, err);
	if (st) {
		sqlite3_close(db);
		return st;
	}
	*dbp = db;
	return 0;
}

/* Writes the rows (those pass 1 did not insert), the columns, datasets and access rows,
 * commits and closes the file. */
static int write_db(dset *p, dset *v, sqlite3 *db, const char *tmp, const char *labels,
		    int *nlabelled, lm_err *err)
{
	p->db = db;
	if (v)
		v->db = db;
	int st = import_pass2(p, "patients", err);
	if (!st && p->row_ids)
		st = import_add_row_ids(p, err);
	if (!st && v) {
		if (v->sorted) {
			st = import_pass2(v, "visits", err);
		} else {
			/* rows arrive out of order: stage them, then copy sorted by patient, time */
			st = import_pass2(v, "__visits_stage", err);
			if (!st) {
				char *q = sqlite3_mprintf(
					"CREATE TABLE visits AS SELECT * FROM __visits_stage WHERE 0;"
					" INSERT INTO visits SELECT * FROM __visits_stage"
					" ORDER BY __patient, \"%w\", rowid; DROP TABLE __visits_stage",
					v->col[v->tcol].name);
				st = store_exec(db, q, err);
				sqlite3_free(q);
			}
		}
	}
	if (!st)
		st = import_store_columns(p, "patients", err);
	if (!st)
		st = import_store_dataset(p, "patients", err);
	if (!st && v && !(st = import_store_columns(v, "visits", err)))
		st = import_store_dataset(v, "visits", err);
	if (!st) {
		char *detail = xasprintf("%s: %ld patients%s", import_base_name(p->path), p->rows,
					 v ? "; visits imported" : "");
		st = store_log_access(db, "import", 0, detail, err);
		free(detail);
	}
	if (!st && labels) {
		st = lbl_import_csv(db, labels, nlabelled, err);
		if (!st) {
			char *d = xasprintf("%s: %d columns", labels, *nlabelled);
			st = store_log_access(db, "labels", 0, d, err);
			free(d);
		}
	}
	if (p->ins) {
		sqlite3_finalize(p->ins);
		p->ins = NULL;
	}
	if (v && v->ins) {
		sqlite3_finalize(v->ins);
		v->ins = NULL;
	}
	if (!st)
		st = store_exec(db, "COMMIT", err);
	int rc = sqlite3_close(db);
	if (!st && rc != SQLITE_OK)
		st = lm_seterr(err, store_status(rc), "%s: %s", tmp, sqlite3_errstr(rc));
	return st;
}

/* The provisional types of the single pass: those inferred from the first PRESCAN_BYTES of
 * the patients file (whole records only), or NULL when that prefix has no rows or an error
 * (pass 1 then reports it in its place in the file). Every type the whole file confirms
 * saves pass 2; one it contradicts only costs the rows inserted before the contradiction. */
#define PRESCAN_BYTES (1 << 20)
#define BIG_INPUT ((off_t)32 << 20)

static col_type *prescan(const import_opts *o, int *n)
{
	FILE *fp = fopen(o->patients, "rb");
	if (!fp)
		return NULL;
	char *buf = xmalloc(PRESCAN_BYTES);
	size_t len = fread(buf, 1, PRESCAN_BYTES, fp);
	int whole = len < PRESCAN_BYTES && !ferror(fp);
	fclose(fp);
	dset d = {0};
	d.o = o;
	d.path = o->patients;
	d.id = -1;
	lm_err e = {0, ""};
	csvin *r = csvin_new(d.path, o->delim, import_row_pass1, &d);
	int st = csvin_feed(r, buf, len, &e);
	if (!st && whole)
		st = csvin_finish(r, &e);
	csvin_free(r);
	free(buf);
	col_type *t = NULL;
	if (!st && d.rows > 0) {
		t = xmallocarray((size_t)d.ncol, sizeof *t);
		for (int j = 0; j < d.ncol; j++) {
			import_colacc_decide(&d.col[j]);
			t[j] = d.col[j].type;
		}
		*n = d.ncol;
	}
	import_dset_free(&d);
	return t;
}

int import_run(const import_opts *o, import_result *res, lm_err *err)
{
	double t0 = lm_seconds();
	memset(res, 0, sizeof *res);
	int st = check_target(o, err);
	if (st)
		return st;
	dset p = {0}, v = {0};
	import_opts vo = *o;
	p.o = o;
	p.path = o->patients;
	const char *slash = strrchr(o->out, '/');
	int dl = slash ? (int)(slash - o->out + 1) : 0;
	snprintf(tmp_path, sizeof tmp_path, "%.*s.%s.tmp-%ld", dl, o->out, import_base_name(o->out),
		 (long)getpid());
	struct sigaction sa, old_int, old_term, old_hup;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	/* The file is opened first so that pass 1 can insert the patients as it reads them.
	 * When it cannot be, pass 1 runs alone and the error comes after it, as before. */
	sqlite3 *db = NULL;
	lm_err dberr = {0, ""};
	/* large pages for a large cohort (see open_db) */
	struct stat sb;
	off_t bytes = stat(o->patients, &sb) == 0 ? sb.st_size : 0;
	if (o->visits && stat(o->visits, &sb) == 0)
		bytes += sb.st_size;
	int big = bytes >= BIG_INPUT;
	if (open_db(tmp_path, o->out, big, &db, &dberr)) {
		db = NULL;
		unlink(tmp_path);
	}
	col_type *ptypes = NULL;
	if (db) {
		p.db = db;
		p.ptypes = ptypes = prescan(o, &p.nptypes);
	}
	st = import_pass1(&p, err);
	if (!st)
		st = import_resolve_id(&p, err);
	if (!st && o->visits) {
		vo.id = p.row_ids ? p.row_name : p.col[p.id].name;
		v.o = &vo;
		v.path = o->visits;
		v.visits = 1;
		v.pids = p.pids;
		st = import_pass1(&v, err);
	}
	/* every --type must name a column of one of the files */
	for (int t = 0; !st && t < o->ntypes; t++)
		if (import_dset_find(&p, o->types[t].column) < 0 &&
		    (!o->visits || import_dset_find(&v, o->types[t].column) < 0))
			st = lm_seterr(err, EX_DATAERR, "%s: no column '%s' (given with --type)",
				       o->patients, o->types[t].column);
	if (!st)
		st = check_target(o, err);
	if (!st && !db)
		st = open_db(tmp_path, o->out, big, &db, err);
	if (!st) {
		st = write_db(&p, o->visits ? &v : NULL, db, tmp_path, o->labels, &res->labelled, err); /* closes db */
		db = NULL;
	}
	if (!st && rename(tmp_path, o->out) != 0)
		st = lm_seterr(err, EX_CANTCREAT, "%s: %s", o->out, strerror(errno));
	if (db) {
		if (p.ins)
			sqlite3_finalize(p.ins);
		p.ins = NULL;
		sqlite3_close(db);
	}
	if (st)
		unlink(tmp_path);
	tmp_path[0] = 0;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	free(ptypes);
	if (!st) {
		res->patients = p.rows;
		res->patient_columns = p.ncol - p.row_ids; /* the CSV's own */
		res->row_ids = p.row_ids;
		snprintf(res->id_column, sizeof res->id_column, "%s",
			 p.row_ids ? p.row_name : p.col[p.id].name);
		for (int j = 0; j < p.ncol; j++)
			if (p.col[j].role == COL_ROLE_IGNORE && import_id_name_rank(p.col[j].name) >= 0 &&
			    (o->row_ids || p.col[j].cand) && !res->ignored_id[0])
				snprintf(res->ignored_id, sizeof res->ignored_id, "%s", p.col[j].name);
		res->visits = v.rows;
		res->visit_columns = v.ncol;
		res->delim = p.delim;
		res->seconds = lm_seconds() - t0;
	}
	import_dset_free(&v);
	import_dset_free(&p);
	return st;
}

/* ---- type inference for tests ---- */

col_type import_infer_type(const char *const *values, int n)
{
	import_opts o = {0};
	dset d = {0};
	d.o = &o;
	d.path = "test";
	colacc c;
	import_colacc_init(&c, "x");
	lm_err err;
	for (int i = 0; i < n; i++) {
		csvin_field f = {values[i], strlen(values[i]), 2 + i, 1};
		import_value_pass1(&d, &c, &f, import_hash(f.s, f.len), &err);
	}
	import_colacc_decide(&c);
	col_type t = c.type;
	import_colacc_free(&c);
	return t;
}
