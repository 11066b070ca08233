/* synth.c: the synthetic cohort generator behind `lumen synth`.
 *
 * Labs come from five latent factors (renal, metabolic, inflammation, hepatic, haematologic)
 * plus age and sex, so they correlate the way real panels do; each lab has its own noise. A lab
 * is drawn on a standard scale s and mapped to its unit: normal labs as loc + scale * s,
 * log-normal ones as loc * exp(scale * s) (loc is then the median). The outcome's true logit is
 *
 *   b0 + 0.55 z(age) - 0.60 z(egfr) + 0.45 z(hba1c) + 0.35 z(sbp) - 0.40 z(albumin)
 *      + smoking{never 0, former 0.25, current 0.60} + 0.35 (z(sodium)^2 - 1)
 *      + 0.50 zl(crp) + treatment * (-0.30 - 0.45 zl(crp)) [+ 0.50 z(slope) with visits]
 *
 * with z(x) = (x - center) / scale and zl(x) = ln(x / center) / scale using the constants of
 * the term table below (not cohort statistics), evaluated on the values exactly as written to
 * patients.csv. Missing cells are masked after the truth is drawn. */
#include "synth.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { F_RENAL, F_METAB, F_INFLAM, F_HEPAT, F_HAEM, NFACT };

typedef struct lab_def {
	const char *name, *unit;
	int dec;
	char kind;           /* 'n' normal, 'l' log-normal */
	double loc, scale;
	double load[NFACT];
	double age_load, male_load;
	double lo, hi;
	double miss_w;       /* relative missing weight */
} lab_def;

/* Loadings are on the standard scale; the rest of each lab's unit variance is its own noise. */
static const lab_def lab_defs[SYNTH_NLABS] = {
	{"creatinine", "mg/dL", 2, 'l', 0.95, 0.22, {0.60, 0, 0, 0, 0}, 0.15, 0.50, 0.3, 15, 1.0},
	{"egfr", "mL/min/1.73m2", 1, 'n', 85, 20, {-0.50, 0, 0, 0, 0}, -0.40, 0, 5, 150, 0.5},
	{"bun", "mg/dL", 0, 'l', 15, 0.30, {0.50, 0, 0.10, 0, 0}, 0.20, 0.20, 3, 150, 1.0},
	{"potassium", "mmol/L", 1, 'n', 4.3, 0.45, {0.30, 0, 0, 0, 0}, 0, 0, 2.5, 7.5, 1.0},
	{"sodium", "mmol/L", 0, 'n', 140, 3.2, {0, 0, 0, 0, 0}, 0, 0, 120, 160, 0.5},
	{"chloride", "mmol/L", 0, 'n', 103, 3.0, {0.10, 0, 0, 0, 0}, 0, 0, 85, 120, 1.0},
	{"bicarbonate", "mmol/L", 0, 'n', 25, 2.5, {-0.30, 0, 0, 0, 0}, 0, 0, 10, 40, 1.2},
	{"glucose", "mg/dL", 0, 'l', 100, 0.20, {0, 0.60, 0, 0, 0}, 0.10, 0, 40, 600, 1.0},
	{"hba1c", "%", 1, 'n', 5.8, 0.9, {0, 0.65, 0, 0, 0}, 0.15, 0, 4, 14, 0.5},
	{"ldl", "mg/dL", 0, 'n', 115, 35, {0, 0.30, 0, 0, 0}, 0, 0, 20, 300, 1.5},
	{"hdl", "mg/dL", 0, 'n', 52, 14, {0, -0.40, 0, 0, 0}, 0, -0.50, 15, 120, 1.5},
	{"triglycerides", "mg/dL", 0, 'l', 130, 0.45, {0, 0.50, 0, 0, 0}, 0, 0, 30, 1500, 1.5},
	{"bmi", "kg/m2", 1, 'l', 27.5, 0.18, {0, 0.50, 0.10, 0, 0}, 0, 0, 15, 70, 0.8},
	{"sbp", "mmHg", 0, 'n', 128, 17, {0.10, 0.20, 0, 0, 0}, 0.35, 0, 80, 230, 0.5},
	{"dbp", "mmHg", 0, 'n', 78, 10, {0.10, 0.20, 0, 0, 0}, 0.10, 0, 40, 130, 0.5},
	{"heart_rate", "bpm", 0, 'n', 74, 11, {0, 0.10, 0.25, 0, 0}, 0, 0, 35, 160, 0.5},
	{"crp", "mg/L", 1, 'l', 2.5, 1.0, {0, 0.15, 0.65, 0, 0}, 0, 0, 0.1, 300, 0.6},
	{"wbc", "10^9/L", 1, 'l', 7.0, 0.25, {0, 0, 0.50, 0, 0.10}, 0, 0, 1.5, 40, 1.0},
	{"albumin", "g/dL", 1, 'n', 4.1, 0.4, {0, 0, -0.45, -0.20, 0}, -0.10, 0, 1.5, 5.5, 0.6},
	{"ferritin", "ng/mL", 0, 'l', 120, 0.70, {0, 0, 0.40, 0.10, 0}, 0, 0.40, 5, 3000, 2.5},
	{"hemoglobin", "g/dL", 1, 'n', 13.8, 1.5, {-0.30, 0, -0.15, 0, 0.60}, 0, 0.80, 6, 20, 0.8},
	{"platelets", "10^9/L", 0, 'n', 250, 60, {0, 0, 0.20, -0.10, 0.20}, 0, 0, 20, 800, 0.8},
	{"alt", "U/L", 0, 'l', 25, 0.45, {0, 0.15, 0, 0.65, 0}, 0, 0.30, 5, 1000, 1.0},
	{"ast", "U/L", 0, 'l', 24, 0.35, {0, 0, 0, 0.60, 0}, 0, 0, 5, 1000, 1.0},
	{"alp", "U/L", 0, 'l', 75, 0.30, {0, 0, 0.10, 0.40, 0}, 0, 0, 20, 1000, 1.2},
	{"bilirubin", "mg/dL", 2, 'l', 0.6, 0.40, {0, 0, 0, 0.40, 0}, 0, 0.20, 0.1, 20, 1.2},
	{"tsh", "mIU/L", 2, 'l', 1.8, 0.50, {0, 0, 0, 0, 0}, 0, 0, 0.01, 50, 2.5},
	{"vitamin_d", "ng/mL", 1, 'n', 28, 10, {0, -0.10, -0.20, 0, 0}, 0, 0, 4, 100, 3.0},
	{"uric_acid", "mg/dL", 1, 'n', 5.5, 1.4, {0.30, 0.30, 0, 0, 0}, 0, 0.50, 1.5, 14, 2.0},
	{"ntprobnp", "pg/mL", 0, 'l', 90, 1.0, {0.30, 0, 0.10, 0, 0}, 0.35, 0, 5, 35000, 3.0},
};

enum { L_CREAT = 0, L_EGFR = 1, L_SODIUM = 4, L_HBA1C = 8, L_SBP = 13, L_CRP = 16,
       L_ALBUMIN = 18 };
static const int visit_labs[SYNTH_NVLABS] = {L_CREAT, L_EGFR, L_HBA1C, L_SBP};

#define AGE_MEAN 60.0
#define AGE_SD 12.0
#define P_MALE 0.48

static const char *const sex_levels[] = {"f", "m", NULL};
static const char *const eth_levels[] = {"white", "black", "hispanic", "asian", "other", NULL};
static const double eth_p[] = {0.58, 0.16, 0.14, 0.08, 0.04};
static const char *const site_levels[] = {"A", "B", "C", "D", NULL};
static const double site_p[] = {0.40, 0.30, 0.20, 0.10};
static const char *const smoking_levels[] = {"never", "former", "current"};
static const double smoking_p[] = {0.50, 0.30, 0.20};
static const double smoking_coef[] = {0.0, 0.25, 0.60};

/* The outcome model's terms (see the comment at the top). */
typedef struct term_def {
	int sc;
	const char *column;
	const char *kind;    /* linear, log-linear, u-shape, categorical, treatment, visit-slope */
	double coef, center, scale;
} term_def;
static const term_def terms[SC_N] = {
	{SC_AGE, "age", "linear", 0.55, AGE_MEAN, AGE_SD},
	{SC_EGFR, "egfr", "linear", -0.60, 85, 20},
	{SC_HBA1C, "hba1c", "linear", 0.45, 5.8, 0.9},
	{SC_SBP, "sbp", "linear", 0.35, 128, 17},
	{SC_ALBUMIN, "albumin", "linear", -0.40, 4.1, 0.4},
	{SC_SMOKING, "smoking", "categorical", 0, 0, 1},
	{SC_SODIUM, "sodium", "u-shape", 0.35, 140, 3.2},
	{SC_CRP, "crp", "log-linear", 0.50, 2.5, 1.0},
	{SC_TREATMENT, "treatment", "treatment", -0.30, 0, 1},
	{SC_SLOPE, "creatinine_slope", "visit-slope", 0.50, 0.03, 0.10},
};
#define INTER_COEF (-0.45)   /* treatment x zl(crp) */

/* Calibrated so that the expected outcome prevalence is about 0.25 (measured on 10^6
 * patients, seed 1: see the man page). With visits the slope term widens the logit's spread. */
#define B0_NO_VISITS (-1.59)
#define B0_VISITS (-1.635)

/* Survival: Weibull proportional hazards on eta = logit - b0. */
#define WEIB_SHAPE 1.3
#define WEIB_SCALE 4000.0
#define ADMIN_MIN 1826.0     /* follow-up ends between 5 and 10 years after entry */
#define ADMIN_SPAN 1826.0
#define DROPOUT_MEAN 12000.0 /* exponential loss to follow-up, days */

#define VISIT_GAP_MIN 90
#define VISIT_GAP_SPAN 276

double synth_interaction(const synth_opts *o)
{
	return o->effect ? o->biomarker : INTER_COEF;
}

double synth_intercept(int visits)
{
	return visits > 0 ? B0_VISITS : B0_NO_VISITS;
}

const synth_lab *synth_lab_info(int i)
{
	static synth_lab info[SYNTH_NLABS];
	if (i < 0 || i >= SYNTH_NLABS)
		return NULL;
	info[i].name = lab_defs[i].name;
	info[i].unit = lab_defs[i].unit;
	info[i].decimals = lab_defs[i].dec;
	return &info[i];
}

int synth_lab_index(const char *name)
{
	for (int i = 0; i < SYNTH_NLABS; i++)
		if (strcmp(lab_defs[i].name, name) == 0)
			return i;
	return -1;
}

static const char *const *levels_of(int col)
{
	switch (col) {
	case SYNTH_BIAS_SEX: return sex_levels;
	case SYNTH_BIAS_ETHNICITY: return eth_levels;
	case SYNTH_BIAS_SITE: return site_levels;
	default: return NULL;
	}
}

const char *synth_level(int col, int level)
{
	const char *const *lv = levels_of(col);
	if (!lv || level < 0)
		return NULL;
	for (int i = 0; lv[i]; i++)
		if (i == level)
			return lv[i];
	return NULL;
}

const char *synth_contrib_name(int sc)
{
	return sc >= 0 && sc < SC_N ? terms[sc].column : NULL;
}

static const char *const bias_cols[] = {"sex", "ethnicity", "site"};

int synth_parse_bias(synth_opts *o, const char *spec, lm_err *err)
{
	const char *eq = strchr(spec, '=');
	if (!eq)
		return lm_seterr(err, EX_USAGE, "--bias: '%s' is not COLUMN=GROUP (e.g. sex=f)", spec);
	size_t n = (size_t)(eq - spec);
	for (int c = 0; c < 3; c++) {
		if (strlen(bias_cols[c]) != n || strncmp(spec, bias_cols[c], n) != 0)
			continue;
		const char *const *lv = levels_of(c);
		lm_buf all = {0};
		for (int l = 0; lv[l]; l++) {
			if (strcmp(lv[l], eq + 1) == 0) {
				buf_free(&all);
				o->bias_col = c;
				o->bias_level = l;
				return 0;
			}
			buf_printf(&all, "%s%s", l ? ", " : "", lv[l]);
		}
		int rc = lm_seterr(err, EX_USAGE, "--bias: unknown %s '%s' (one of %s)",
		                   bias_cols[c], eq + 1, all.data);
		buf_free(&all);
		return rc;
	}
	return lm_seterr(err, EX_USAGE, "--bias: unknown column '%.*s' (one of sex, ethnicity, site)",
	                 (int)n, spec);
}

static int pick(double u, const double *p, int n)
{
	double acc = 0;
	for (int i = 0; i < n - 1; i++) {
		acc += p[i];
		if (u < acc)
			return i;
	}
	return n - 1;
}

static const double pow10_tab[] = {1, 10, 100, 1000, 10000};

/* Clamps to [lo, hi] and rounds to dec decimals, as the CSV will show it. */
static double record(double x, double lo, double hi, int dec)
{
	if (x < lo)
		x = lo;
	if (x > hi)
		x = hi;
	return (double)llround(x * pow10_tab[dec]) / pow10_tab[dec];
}

/* Per-lab missing probabilities: weights scaled so that their mean is the requested rate,
 * each capped at 0.95 (the cap only binds for rates above about 0.38). */
static void missing_rates(double rate, double out[SYNTH_NLABS])
{
	double wsum = 0;
	for (int j = 0; j < SYNTH_NLABS; j++)
		wsum += lab_defs[j].miss_w;
	for (int j = 0; j < SYNTH_NLABS; j++) {
		out[j] = rate * lab_defs[j].miss_w * SYNTH_NLABS / wsum;
		if (out[j] > 0.95)
			out[j] = 0.95;
	}
}

static double z_of(const term_def *t, double x)
{
	return (x - t->center) / t->scale;
}

static double sigmoid(double x)
{
	return 1.0 / (1.0 + exp(-x));
}

void synth_patient_make(const synth_opts *o, long i, synth_patient *p)
{
	lm_rng r;
	/* One stream per patient: any patient can be regenerated alone, in any order. */
	rng_seed(&r, o->seed * 0x9E3779B97F4A7C15ULL + (uint64_t)i * 0xD1B54A32D192ED03ULL + 1);
	double rates[SYNTH_NLABS];
	missing_rates(o->missing, rates);

	memset(p->term, 0, sizeof p->term);
	p->id = i + 1;
	p->age = record(AGE_MEAN + AGE_SD * rng_normal(&r), 18, 95, 1);
	p->sex = rng_uniform(&r) < P_MALE;
	p->ethnicity = pick(rng_uniform(&r), eth_p, 5);
	p->site = pick(rng_uniform(&r), site_p, 4);
	p->smoking = pick(rng_uniform(&r), smoking_p, 3);
	p->treatment = rng_uniform(&r) < 0.5;
	double f[NFACT];
	for (int k = 0; k < NFACT; k++)
		f[k] = rng_normal(&r);
	double zage = (p->age - AGE_MEAN) / AGE_SD;
	/* Male shift centred on the population share, in lab standard deviations. */
	double male = (double)p->sex - P_MALE;
	for (int j = 0; j < SYNTH_NLABS; j++) {
		const lab_def *d = &lab_defs[j];
		double s = d->age_load * zage + d->male_load * male, v = d->age_load * d->age_load;
		for (int k = 0; k < NFACT; k++) {
			s += d->load[k] * f[k];
			v += d->load[k] * d->load[k];
		}
		double u = 1.0 - v;
		s += sqrt(u > 0.1 ? u : 0.1) * rng_normal(&r);
		double x = d->kind == 'l' ? d->loc * exp(d->scale * s) : d->loc + d->scale * s;
		p->lab[j] = record(x, d->lo, d->hi, d->dec);
	}
	/* Diabetes follows HbA1c the way a diagnosis does: mostly above 6.5%, rarely below. */
	double ud = rng_uniform(&r), h = p->lab[L_HBA1C];
	p->diabetes = ud < (h >= 6.5 ? 0.9 : h >= 5.7 ? 0.1 : 0.02);
	for (int j = 0; j < SYNTH_NLABS; j++)
		p->missing[j] = rng_uniform(&r) < rates[j];
	p->slope = terms[SC_SLOPE].center + terms[SC_SLOPE].scale * rng_normal(&r);
	double u_out = rng_uniform(&r), u_bias = rng_uniform(&r);
	double u_t = rng_uniform(&r), u_admin = rng_uniform(&r), u_drop = rng_uniform(&r);

	p->term[SC_AGE] = terms[SC_AGE].coef * z_of(&terms[SC_AGE], p->age);
	p->term[SC_EGFR] = terms[SC_EGFR].coef * z_of(&terms[SC_EGFR], p->lab[L_EGFR]);
	p->term[SC_HBA1C] = terms[SC_HBA1C].coef * z_of(&terms[SC_HBA1C], p->lab[L_HBA1C]);
	p->term[SC_SBP] = terms[SC_SBP].coef * z_of(&terms[SC_SBP], p->lab[L_SBP]);
	p->term[SC_ALBUMIN] = terms[SC_ALBUMIN].coef * z_of(&terms[SC_ALBUMIN], p->lab[L_ALBUMIN]);
	p->term[SC_SMOKING] = smoking_coef[p->smoking];
	double zna = z_of(&terms[SC_SODIUM], p->lab[L_SODIUM]);
	p->term[SC_SODIUM] = terms[SC_SODIUM].coef * (zna * zna - 1.0);
	p->z_crp = log(p->lab[L_CRP] / terms[SC_CRP].center) / terms[SC_CRP].scale;
	p->term[SC_CRP] = terms[SC_CRP].coef * p->z_crp;
	p->term[SC_TREATMENT] = terms[SC_TREATMENT].coef * p->treatment;
	if (o->visits > 0)
		p->term[SC_SLOPE] = terms[SC_SLOPE].coef * z_of(&terms[SC_SLOPE], p->slope);
	double a = synth_interaction(o);
	double logit = synth_intercept(o->visits) + a * p->treatment * p->z_crp;
	for (int k = 0; k < SC_N; k++)
		logit += p->term[k];
	p->logit = logit;
	p->p = sigmoid(logit);
	/* the same patient under each arm: the effect is these two risks' difference */
	double untreated = logit - p->term[SC_TREATMENT] - a * p->treatment * p->z_crp;
	p->p_arm[0] = sigmoid(untreated);
	p->p_arm[1] = sigmoid(untreated + terms[SC_TREATMENT].coef + a * p->z_crp);
	p->outcome_true = u_out < p->p;
	p->outcome = p->outcome_true;
	if (o->bias_col >= 0 && p->outcome_true) {
		int g = o->bias_col == SYNTH_BIAS_SEX ? p->sex
		      : o->bias_col == SYNTH_BIAS_ETHNICITY ? p->ethnicity : p->site;
		if (g == o->bias_level && u_bias < o->bias_rate)
			p->outcome = 0;
	}

	/* Weibull PH: S(t | eta) = exp(-(t / scale)^shape * exp(eta)); inverse-CDF draw. */
	double eta = logit - synth_intercept(o->visits);
	double tev = WEIB_SCALE * pow(-log(1.0 - u_t) * exp(-eta), 1.0 / WEIB_SHAPE);
	double cens = ADMIN_MIN + ADMIN_SPAN * u_admin, drop = -log(1.0 - u_drop) * DROPOUT_MEAN;
	if (drop < cens)
		cens = drop;
	double t = tev <= cens ? tev : cens;
	p->event = tev <= cens;
	p->time = (long)ceil(t);
	if (p->time < 1)
		p->time = 1;

	p->nvisits = 0;
	if (o->visits <= 0)
		return;
	p->nvisits = 1 + (int)rng_below(&r, (uint64_t)o->visits);
	long day = 0;
	for (int v = 0; v < p->nvisits; v++) {
		if (v > 0)
			day += VISIT_GAP_MIN + (long)rng_below(&r, VISIT_GAP_SPAN);
		double yrs = (double)day / 365.25, e[SYNTH_NVLABS];
		for (int k = 0; k < SYNTH_NVLABS; k++)
			e[k] = rng_normal(&r);
		p->vday[v] = day;
		for (int k = 0; k < SYNTH_NVLABS; k++) {
			int j = visit_labs[k];
			double u = rng_uniform(&r), x0 = p->lab[j], x;
			if (v == 0) {
				/* The first visit is the baseline of patients.csv, same cell, same mask. */
				p->vlab[v][k] = x0;
				p->vmissing[v][k] = p->missing[j];
				continue;
			}
			switch (j) {
			case L_CREAT: x = x0 * exp(p->slope * yrs + 0.05 * e[k]); break;
			case L_EGFR: x = x0 * exp(-p->slope * yrs + 0.05 * e[k]); break;
			case L_HBA1C: x = x0 + 0.2 * e[k]; break;
			default: x = x0 + 7.0 * e[k]; break;
			}
			p->vlab[v][k] = record(x, lab_defs[j].lo, lab_defs[j].hi, lab_defs[j].dec);
			p->vmissing[v][k] = u < rates[j];
		}
	}
}

/* ---- output ---------------------------------------------------------------------------- */

typedef struct out_file {
	FILE *f;
	char *tmp, *final;
	char *buf;
	size_t len;
	int failed;
} out_file;

#define OUT_BUF (1u << 22)
#define OUT_SLACK 65536u

static void out_flush(out_file *w)
{
	if (w->len && !w->failed && fwrite(w->buf, 1, w->len, w->f) != w->len)
		w->failed = errno ? errno : EIO;
	w->len = 0;
}

/* Every row is far shorter than OUT_SLACK, so checking once per row is enough. */
static void out_row_done(out_file *w)
{
	if (w->len > OUT_BUF - OUT_SLACK)
		out_flush(w);
}

static void out_str(out_file *w, const char *s)
{
	size_t n = strlen(s);
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void out_ch(out_file *w, char c)
{
	w->buf[w->len++] = c;
}

static void out_ulong(out_file *w, unsigned long long v)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		w->buf[w->len++] = tmp[--n];
}

/* x with exactly dec decimals, without printf: x is rounded to dec decimals first. */
static void out_fixed(out_file *w, double x, int dec)
{
	static const unsigned long long p10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
	long long iv = llround(x * (double)p10[dec]);
	if (iv < 0) {
		out_ch(w, '-');
		iv = -iv;
	}
	unsigned long long u = (unsigned long long)iv;
	out_ulong(w, u / p10[dec]);
	if (dec > 0) {
		out_ch(w, '.');
		unsigned long long fr = u % p10[dec];
		for (int k = dec - 1; k >= 0; k--) {
			w->buf[w->len + (size_t)k] = (char)('0' + fr % 10);
			fr /= 10;
		}
		w->len += (size_t)dec;
	}
}

static char *join(const char *dir, const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static int out_open(out_file *w, const char *dir, const char *name, lm_err *err)
{
	w->final = join(dir, name);
	w->tmp = xasprintf("%s/.%s.tmp", dir, name);
	w->buf = xmalloc(OUT_BUF);
	w->len = 0;
	w->failed = 0;
	w->f = fopen(w->tmp, "wb");
	if (!w->f)
		return lm_seterr(err, EX_CANTCREAT, "%s: %s", w->tmp, strerror(errno));
	return 0;
}

/* Flushes and closes; 0 or EX_IOERR. */
static int out_close(out_file *w, lm_err *err)
{
	if (!w->f)
		return 0;
	errno = 0;
	out_flush(w);
	if (fclose(w->f) != 0 && !w->failed)
		w->failed = errno ? errno : EIO;
	w->f = NULL;
	if (w->failed)
		return lm_seterr(err, EX_IOERR, "%s: %s", w->tmp, strerror(w->failed));
	return 0;
}

static void out_discard(out_file *w)
{
	if (w->f)
		fclose(w->f);
	w->f = NULL;
	if (w->tmp)
		unlink(w->tmp);
	free(w->tmp);
	free(w->final);
	free(w->buf);
	memset(w, 0, sizeof *w);
}

/* mkdir -p; 0 or EX_CANTCREAT. */
static int make_dirs(const char *dir, lm_err *err)
{
	char *p = xstrdup(dir);
	int rc = 0;
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		struct stat st;
		if (stat(p, &st) != 0) {
			if (mkdir(p, 0755) != 0 && errno != EEXIST) {
				rc = lm_seterr(err, EX_CANTCREAT, "%s: cannot create directory: %s", p,
				               strerror(errno));
				break;
			}
		} else if (!S_ISDIR(st.st_mode)) {
			rc = lm_seterr(err, EX_CANTCREAT, "%s: not a directory", p);
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

static void write_patient_header(out_file *w)
{
	out_str(w, "id,age,sex,ethnicity,site,smoking,diabetes,treatment");
	for (int j = 0; j < SYNTH_NLABS; j++) {
		out_ch(w, ',');
		out_str(w, lab_defs[j].name);
	}
	out_str(w, ",outcome,time,event\n");
}

static void write_patient_row(out_file *w, const synth_patient *p)
{
	out_ulong(w, (unsigned long long)p->id);
	out_ch(w, ',');
	out_fixed(w, p->age, 1);
	out_ch(w, ',');
	out_str(w, sex_levels[p->sex]);
	out_ch(w, ',');
	out_str(w, eth_levels[p->ethnicity]);
	out_ch(w, ',');
	out_str(w, site_levels[p->site]);
	out_ch(w, ',');
	out_str(w, smoking_levels[p->smoking]);
	out_str(w, p->diabetes ? ",yes," : ",no,");
	out_ch(w, (char)('0' + p->treatment));
	for (int j = 0; j < SYNTH_NLABS; j++) {
		out_ch(w, ',');
		if (!p->missing[j])
			out_fixed(w, p->lab[j], lab_defs[j].dec);
	}
	out_ch(w, ',');
	out_ch(w, (char)('0' + p->outcome));
	out_ch(w, ',');
	out_ulong(w, (unsigned long long)p->time);
	out_ch(w, ',');
	out_ch(w, (char)('0' + p->event));
	out_ch(w, '\n');
	out_row_done(w);
}

static void write_visit_rows(out_file *w, const synth_patient *p)
{
	for (int v = 0; v < p->nvisits; v++) {
		out_ulong(w, (unsigned long long)p->id);
		out_ch(w, ',');
		out_ulong(w, (unsigned long long)p->vday[v]);
		for (int k = 0; k < SYNTH_NVLABS; k++) {
			out_ch(w, ',');
			if (!p->vmissing[v][k])
				out_fixed(w, p->vlab[v][k], lab_defs[visit_labs[k]].dec);
		}
		out_ch(w, '\n');
		out_row_done(w);
	}
}

/* Cohort sums gathered in the first pass. */
typedef struct synth_sums {
	double term[SC_N], t, z, tz, logit, p;
	double sodium, crp;     /* raw values before masking, for the mean-point offsets */
	long outcome, outcome_true, event, flipped, visit_rows;
	long lab_missing[SYNTH_NLABS];
	long group_n[3][8], group_pos[3][8], group_pos_true[3][8];
} synth_sums;

/* Centred additive contributions. The interaction -0.45 t z is split between treatment and crp
 * the way integrated gradients from the cohort-mean point split a product: each gets half of
 * a ((t - tm)(z + zm)) and a ((z - zm)(t + tm)) respectively, which add up to a (t z - tm zm). */
static void contributions(const synth_opts *o, const synth_patient *p, const synth_sums *s,
                          long n, int nc, double c[SC_N])
{
	double tm = s->t / (double)n, zm = s->z / (double)n, tzm = s->tz / (double)n;
	double a = synth_interaction(o), t = p->treatment, z = p->z_crp;
	double half_mean = 0.5 * a * (tzm - tm * zm);
	for (int k = 0; k < nc; k++)
		c[k] = p->term[k] - s->term[k] / (double)n;
	c[SC_TREATMENT] += 0.5 * a * (t - tm) * (z + zm) - half_mean;
	c[SC_CRP] += 0.5 * a * (z - zm) * (t + tm) - half_mean;
}

static cJSON *json_strings(const char *const *v, int n)
{
	cJSON *a = cJSON_CreateArray();
	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
	return a;
}

static void add_num(cJSON *o, const char *k, double v)
{
	cJSON_AddNumberToObject(o, k, v);
}

static char *truth_json(const synth_opts *o, const synth_sums *s, int nc)
{
	long n = o->patients;
	double rates[SYNTH_NLABS];
	missing_rates(o->missing, rates);
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "generator", "lumen synth " LUMEN_VERSION);
	/* Written as an exact integer: cJSON prints numbers with 15 significant digits. */
	char seedtxt[32];
	snprintf(seedtxt, sizeof seedtxt, "%llu", (unsigned long long)o->seed);
	cJSON_AddRawToObject(root, "seed", seedtxt);
	add_num(root, "patients", (double)n);
	add_num(root, "visits_max", o->visits);
	add_num(root, "missing_rate", o->missing);

	cJSON *files = cJSON_AddObjectToObject(root, "files");
	cJSON_AddStringToObject(files, "patients", "patients.csv");
	if (o->visits > 0)
		cJSON_AddStringToObject(files, "visits", "visits.csv");
	cJSON_AddStringToObject(files, "contributions", "truth_contrib.csv");
	if (o->effect)
		cJSON_AddStringToObject(files, "effect", "truth_effect.csv");

	/* Columns */
	cJSON *cols = cJSON_AddArrayToObject(root, "columns");
	struct { const char *name, *type, *unit, *desc; } fixed[] = {
		{"id", "integer", "", "patient number, 1..N"},
		{"age", "real", "years", "age at entry, normal(60, 12) clipped to 18..95"},
		{"sex", "text", "", "f or m (m with probability 0.48)"},
		{"ethnicity", "text", "", "white 0.58, black 0.16, hispanic 0.14, asian 0.08, other 0.04"},
		{"site", "text", "", "A 0.40, B 0.30, C 0.20, D 0.10"},
		{"smoking", "text", "", "never 0.50, former 0.30, current 0.20"},
		{"diabetes", "text", "", "yes/no: P(yes) 0.9 when hba1c >= 6.5, 0.1 when 5.7..6.5, "
		                         "0.02 below"},
		{"treatment", "integer", "", "treatment arm 0/1, randomised with probability 0.5"},
	};
	for (size_t i = 0; i < LM_ARRAY_LEN(fixed); i++) {
		cJSON *c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "name", fixed[i].name);
		cJSON_AddStringToObject(c, "type", fixed[i].type);
		if (fixed[i].unit[0])
			cJSON_AddStringToObject(c, "unit", fixed[i].unit);
		cJSON_AddStringToObject(c, "description", fixed[i].desc);
		cJSON_AddItemToArray(cols, c);
	}
	for (int j = 0; j < SYNTH_NLABS; j++) {
		const lab_def *d = &lab_defs[j];
		cJSON *c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "name", d->name);
		cJSON_AddStringToObject(c, "type", "real");
		cJSON_AddStringToObject(c, "unit", d->unit);
		add_num(c, "decimals", d->dec);
		cJSON_AddStringToObject(c, "distribution", d->kind == 'l' ? "log-normal" : "normal");
		add_num(c, d->kind == 'l' ? "median" : "mean", d->loc);
		add_num(c, d->kind == 'l' ? "log_sd" : "sd", d->scale);
		cJSON *ld = cJSON_AddObjectToObject(c, "loadings");
		static const char *const fname[NFACT] = {"renal", "metabolic", "inflammation",
		                                         "hepatic", "haematologic"};
		for (int k = 0; k < NFACT; k++)
			if (d->load[k] != 0)
				add_num(ld, fname[k], d->load[k]);
		if (d->age_load != 0)
			add_num(ld, "age", d->age_load);
		if (d->male_load != 0)
			add_num(ld, "male", d->male_load);
		add_num(c, "min", d->lo);
		add_num(c, "max", d->hi);
		add_num(c, "missing_probability", rates[j]);
		add_num(c, "missing_observed", (double)s->lab_missing[j] / (double)n);
		cJSON_AddItemToArray(cols, c);
	}
	const char *tail[][3] = {
		{"outcome", "integer", "binary outcome drawn from the logistic model (after the bias)"},
		{"time", "integer", "days to event or censoring (Weibull PH on the same risk)"},
		{"event", "integer", "1 event observed at time, 0 censored"},
	};
	for (size_t i = 0; i < LM_ARRAY_LEN(tail); i++) {
		cJSON *c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "name", tail[i][0]);
		cJSON_AddStringToObject(c, "type", tail[i][1]);
		cJSON_AddStringToObject(c, "description", tail[i][2]);
		cJSON_AddItemToArray(cols, c);
	}

	/* Outcome model */
	cJSON *m = cJSON_AddObjectToObject(root, "outcome_model");
	cJSON_AddStringToObject(m, "link", "logit");
	cJSON_AddStringToObject(m, "formula",
		"logit = intercept + sum of terms; linear: coef * (x - center) / scale; "
		"log-linear: coef * ln(x / center) / scale; u-shape: coef * (((x - center) / scale)^2 - 1); "
		"categorical: the level's coefficient; treatment: coef * treatment; "
		"interaction: coef * treatment * ln(crp / 2.5) / 1.0; visit-slope: coef * (slope - center) "
		"/ scale, slope = the patient's yearly log-creatinine slope (present only with visits)");
	double b0 = synth_intercept(o->visits);
	add_num(m, "intercept", b0);
	cJSON *tl = cJSON_AddArrayToObject(m, "terms");
	double raw_intercept = b0;
	for (int k = 0; k < nc; k++) {
		const term_def *t = &terms[k];
		cJSON *c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "column", t->column);
		cJSON_AddStringToObject(c, "kind", t->kind);
		if (k == SC_SMOKING) {
			cJSON *lv = cJSON_AddObjectToObject(c, "levels");
			for (int l = 0; l < 3; l++)
				add_num(lv, smoking_levels[l], smoking_coef[l]);
		} else {
			add_num(c, "coef_std", t->coef);
			add_num(c, "center", t->center);
			add_num(c, "scale", t->scale);
		}
		if (!strcmp(t->kind, "linear") || !strcmp(t->kind, "visit-slope")) {
			/* coef * (x - c) / s = (coef / s) x - coef c / s */
			add_num(c, "coef_raw", t->coef / t->scale);
			raw_intercept -= t->coef * t->center / t->scale;
		} else if (!strcmp(t->kind, "log-linear")) {
			add_num(c, "coef_per_ln_unit", t->coef / t->scale);
			raw_intercept -= t->coef * log(t->center) / t->scale;
		} else if (!strcmp(t->kind, "u-shape")) {
			/* coef/s^2 x^2 - 2 coef c/s^2 x + coef c^2/s^2 - coef */
			double s2 = t->scale * t->scale;
			add_num(c, "coef_raw_x2", t->coef / s2);
			add_num(c, "coef_raw_x", -2.0 * t->coef * t->center / s2);
			raw_intercept += t->coef * t->center * t->center / s2 - t->coef;
		} else if (!strcmp(t->kind, "treatment")) {
			add_num(c, "coef_raw", t->coef);
		}
		cJSON_AddItemToArray(tl, c);
	}
	cJSON *ia = cJSON_AddObjectToObject(m, "interaction");
	cJSON_AddItemToObject(ia, "columns", json_strings((const char *const[]){"treatment", "crp"}, 2));
	double a = synth_interaction(o);
	add_num(ia, "coef_std", a);
	cJSON_AddStringToObject(ia, "biomarker_scale", "ln(crp / 2.5) / 1.0");
	if (!o->effect) {
		cJSON_AddStringToObject(ia, "meaning",
			"treatment lowers the logit by 0.30 at the median CRP and by 0.45 more per unit "
			"of ln CRP: it helps inflamed patients most");
	} else {
		char *mean = xasprintf("treatment changes the logit by -0.30 at the median CRP and by "
				       "%g per unit of ln CRP (--biomarker): crp is a predictive "
				       "biomarker; truth_effect.csv holds every patient's true effect", a);
		cJSON_AddStringToObject(ia, "meaning", mean);
		free(mean);
	}
	add_num(ia, "coef_per_ln_unit", a);
	add_num(ia, "raw_intercept_shift_for_treatment", -a * log(2.5));
	add_num(m, "intercept_raw", raw_intercept);
	cJSON_AddStringToObject(m, "intercept_raw_note",
		"raw scale: every linear term as coef_raw * x, crp as coef_per_ln_unit * ln(crp), "
		"sodium as coef_raw_x2 * x^2 + coef_raw_x * x, the interaction as -0.45 * treatment * "
		"ln(crp) plus raw_intercept_shift_for_treatment * treatment");
	add_num(m, "expected_prevalence", s->p / (double)n);
	add_num(m, "observed_prevalence", (double)s->outcome / (double)n);
	add_num(m, "observed_prevalence_before_bias", (double)s->outcome_true / (double)n);
	add_num(m, "mean_logit", s->logit / (double)n);

	static const char *const sig[] = {"age", "egfr", "hba1c", "sbp", "albumin", "smoking",
	                                   "sodium", "crp", "treatment"};
	cJSON_AddItemToObject(root, "signal_columns", json_strings(sig, 9));
	cJSON *nl = cJSON_CreateArray();
	static const char *const noise_fixed[] = {"sex", "ethnicity", "site", "diabetes"};
	for (size_t i = 0; i < LM_ARRAY_LEN(noise_fixed); i++)
		cJSON_AddItemToArray(nl, cJSON_CreateString(noise_fixed[i]));
	for (int j = 0; j < SYNTH_NLABS; j++) {
		int used = 0;
		for (size_t i = 0; i < LM_ARRAY_LEN(sig); i++)
			used |= !strcmp(sig[i], lab_defs[j].name);
		if (!used)
			cJSON_AddItemToArray(nl, cJSON_CreateString(lab_defs[j].name));
	}
	cJSON_AddItemToObject(root, "noise_columns", nl);
	cJSON_AddStringToObject(root, "noise_note",
		"noise columns have no term in the logit: given the signal columns they carry no "
		"information about the outcome, although many correlate with signal columns through "
		"the latent factors (e.g. creatinine with egfr, diabetes with hba1c)");

	cJSON *contrib = cJSON_AddObjectToObject(root, "contributions");
	cJSON_AddStringToObject(contrib, "file", "truth_contrib.csv");
	cJSON *cc = cJSON_AddArrayToObject(contrib, "columns");
	for (int k = 0; k < nc; k++)
		cJSON_AddItemToArray(cc, cJSON_CreateString(terms[k].column));
	cJSON_AddItemToObject(contrib, "extra_columns",
		json_strings((const char *const[]){"logit", "p", "outcome_true"}, 3));
	cJSON_AddStringToObject(contrib, "definition",
		"one row per patient: each signal column's additive contribution to the true logit, "
		"centred on its cohort mean, so that a row's contributions sum to logit - mean_logit; "
		"every column not listed (the noise columns) contributes exactly 0. "
		"The treatment x crp interaction is split as integrated gradients from the cohort-mean "
		"point would split it: treatment gets a/2 (t - mean t)(z + mean z), crp gets "
		"a/2 (z - mean z)(t + mean t), with a = -0.45 and z = ln(crp / 2.5). Contributions use "
		"the values before missing cells were masked. logit and p are the true logit and "
		"probability; outcome_true is the label before any bias. Six decimals.");
	add_num(contrib, "treatment_mean", s->t / (double)n);
	add_num(contrib, "crp_z_mean", s->z / (double)n);
	cJSON *means = cJSON_AddObjectToObject(contrib, "uncentred_term_means");
	for (int k = 0; k < nc; k++)
		add_num(means, terms[k].column, s->term[k] / (double)n);
	/* A nonlinear term's cohort mean is not its value at the cohort-mean patient (for the
	 * U-shape the gap is about its coefficient). Attributions taken from the mean point see
	 * term(x) - term(mean x); the offset term(mean x) - mean(term) converts one into the
	 * other: (term(x) - mean(term)) - offset = term(x) - term(mean x). */
	const term_def *tna = &terms[SC_SODIUM], *tcrp = &terms[SC_CRP];
	double zna = z_of(tna, s->sodium / (double)n);
	double na_at_mean = tna->coef * (zna * zna - 1.0);
	double crp_at_mean = tcrp->coef * log(s->crp / (double)n / tcrp->center) / tcrp->scale;
	cJSON *off = cJSON_AddObjectToObject(contrib, "mean_point_offsets");
	for (int k = 0; k < nc; k++)
		add_num(off, terms[k].column,
		        k == SC_SODIUM ? na_at_mean - s->term[k] / (double)n
		        : k == SC_CRP ? crp_at_mean - s->term[k] / (double)n : 0.0);
	cJSON_AddStringToObject(contrib, "mean_point_offsets_note",
		"subtracting a column's offset from its contribution gives term(x) - term(at the "
		"cohort-mean value), which is what an attribution from the cohort-mean baseline "
		"(integrated gradients with --baseline mean) recovers for a model that learned the "
		"term exactly; 0 for linear and categorical terms; for crp only the main effect "
		"0.50 ln(crp / 2.5) is shifted, the interaction's split stays as defined above");

	if (o->bias_col >= 0) {
		cJSON *b = cJSON_AddObjectToObject(root, "bias");
		int c = o->bias_col;
		cJSON_AddStringToObject(b, "column", bias_cols[c]);
		cJSON_AddStringToObject(b, "group", synth_level(c, o->bias_level));
		add_num(b, "flip_probability", o->bias_rate);
		cJSON_AddStringToObject(b, "effect",
			"under-recorded outcome: in this group each true outcome 1 is written as 0 with "
			"flip_probability; no other column changes (time and event keep the true risk), "
			"so a model trained on outcome under-predicts this group's true risk");
		add_num(b, "group_patients", (double)s->group_n[c][o->bias_level]);
		add_num(b, "labels_flipped", (double)s->flipped);
	} else {
		cJSON_AddNullToObject(root, "bias");
	}

	cJSON *groups = cJSON_AddObjectToObject(root, "groups");
	for (int c = 0; c < 3; c++) {
		cJSON *g = cJSON_AddObjectToObject(groups, bias_cols[c]);
		for (int l = 0; synth_level(c, l); l++) {
			cJSON *e = cJSON_AddObjectToObject(g, synth_level(c, l));
			add_num(e, "n", (double)s->group_n[c][l]);
			add_num(e, "outcome", (double)s->group_pos[c][l]);
			add_num(e, "outcome_true", (double)s->group_pos_true[c][l]);
		}
	}

	cJSON *sv = cJSON_AddObjectToObject(root, "survival");
	cJSON_AddStringToObject(sv, "model",
		"Weibull proportional hazards: S(t) = exp(-(t / scale)^shape * exp(eta)), eta = logit - "
		"intercept (the same risk as the outcome, before bias); censoring at the earlier of "
		"administrative end of follow-up, uniform on [1826, 3652] days, and exponential loss to "
		"follow-up with mean 12000 days; time = ceil(min(T, C)) days, event = T <= C");
	add_num(sv, "shape", WEIB_SHAPE);
	add_num(sv, "scale_days", WEIB_SCALE);
	add_num(sv, "events", (double)s->event);
	add_num(sv, "event_rate", (double)s->event / (double)n);

	if (o->visits > 0) {
		cJSON *v = cJSON_AddObjectToObject(root, "visits");
		cJSON_AddItemToObject(v, "columns",
			json_strings((const char *const[]){"id", "day", "creatinine", "egfr", "hba1c", "sbp"}, 6));
		add_num(v, "rows", (double)s->visit_rows);
		cJSON_AddStringToObject(v, "design",
			"1..visits_max visits per patient (uniform), sorted by id then day; day 0 is the "
			"baseline and repeats patients.csv's values and missing cells; later visits come "
			"90..365 days apart; creatinine = baseline * exp(slope * years + 0.05 e), egfr = "
			"baseline * exp(-slope * years + 0.05 e), hba1c = baseline + 0.2 e, sbp = baseline "
			"+ 7 e, e standard normal; later cells missing with the lab's probability");
		cJSON_AddStringToObject(v, "signal",
			"slope ~ normal(0.03, 0.10) per year on the log-creatinine scale; the logit gains "
			"0.50 * (slope - 0.03) / 0.10, so a rising creatinine (falling egfr) raises the risk; "
			"patients with one visit carry the term but show no trend");
	}
	char *txt = cJSON_Print(root);
	cJSON_Delete(root);
	char *res = xasprintf("%s\n", txt);
	cJSON_free(txt);
	return res;
}

int synth_write(const synth_opts *o, lm_err *err)
{
	static const char *const names[] = {"patients.csv", "visits.csv", "truth.json",
	                                    "truth_contrib.csv", "truth_effect.csv"};
	enum { O_PAT, O_VIS, O_TRUTH, O_CONTRIB, O_EFFECT, O_N };
	if (o->patients < 1 || o->patients > SYNTH_MAX_PATIENTS)
		return lm_seterr(err, EX_USAGE, "--patients must be 1..%ld", SYNTH_MAX_PATIENTS);
	if (o->visits < 0 || o->visits > SYNTH_MAX_VISITS)
		return lm_seterr(err, EX_USAGE, "--visits must be 0..%d", SYNTH_MAX_VISITS);
	int rc = make_dirs(o->dir, err);
	if (rc)
		return rc;
	for (int i = 0; i < O_N; i++) {
		if (i == O_EFFECT && !o->effect)
			continue;
		char *path = join(o->dir, names[i]);
		int exists = access(path, F_OK) == 0;
		if (exists && !o->force) {
			rc = lm_seterr(err, EX_CANTCREAT, "%s exists (use --force to overwrite)", path);
			free(path);
			return rc;
		}
		free(path);
	}

	out_file w[O_N];
	memset(w, 0, sizeof w);
	for (int i = 0; i < O_N && !rc; i++)
		if ((i != O_VIS || o->visits > 0) && (i != O_EFFECT || o->effect))
			rc = out_open(&w[i], o->dir, names[i], err);
	if (rc)
		goto done;

	synth_sums *s = xcalloc(1, sizeof *s);
	synth_patient *p = xmalloc(sizeof *p);
	int nc = o->visits > 0 ? SC_N : SC_SLOPE;
	write_patient_header(&w[O_PAT]);
	if (o->visits > 0)
		out_str(&w[O_VIS], "id,day,creatinine,egfr,hba1c,sbp\n");
	for (long i = 0; i < o->patients; i++) {
		synth_patient_make(o, i, p);
		write_patient_row(&w[O_PAT], p);
		if (o->visits > 0)
			write_visit_rows(&w[O_VIS], p);
		for (int k = 0; k < SC_N; k++)
			s->term[k] += p->term[k];
		s->t += p->treatment;
		s->z += p->z_crp;
		s->tz += p->treatment * p->z_crp;
		s->sodium += p->lab[L_SODIUM];
		s->crp += p->lab[L_CRP];
		s->logit += p->logit;
		s->p += p->p;
		s->outcome += p->outcome;
		s->outcome_true += p->outcome_true;
		s->flipped += p->outcome_true && !p->outcome;
		s->event += p->event;
		s->visit_rows += p->nvisits;
		for (int j = 0; j < SYNTH_NLABS; j++)
			s->lab_missing[j] += p->missing[j];
		int g[3] = {p->sex, p->ethnicity, p->site};
		for (int c = 0; c < 3; c++) {
			s->group_n[c][g[c]]++;
			s->group_pos[c][g[c]] += p->outcome;
			s->group_pos_true[c][g[c]] += p->outcome_true;
		}
	}

	/* Second pass: the centring needs the cohort means, so regenerate each patient. */
	out_file *wc = &w[O_CONTRIB];
	out_str(wc, "id");
	for (int k = 0; k < nc; k++) {
		out_ch(wc, ',');
		out_str(wc, terms[k].column);
	}
	out_str(wc, ",logit,p,outcome_true\n");
	if (o->effect)
		out_str(&w[O_EFFECT], "id,treatment,p_0,p_1,effect\n");
	for (long i = 0; i < o->patients; i++) {
		double c[SC_N];
		synth_patient_make(o, i, p);
		contributions(o, p, s, o->patients, nc, c);
		out_ulong(wc, (unsigned long long)p->id);
		for (int k = 0; k < nc; k++) {
			out_ch(wc, ',');
			out_fixed(wc, c[k], 6);
		}
		out_ch(wc, ',');
		out_fixed(wc, p->logit, 6);
		out_ch(wc, ',');
		out_fixed(wc, p->p, 6);
		out_ch(wc, ',');
		out_ch(wc, (char)('0' + p->outcome_true));
		out_ch(wc, '\n');
		out_row_done(wc);
		if (o->effect) {
			out_file *we = &w[O_EFFECT];
			out_ulong(we, (unsigned long long)p->id);
			out_ch(we, ',');
			out_ch(we, (char)('0' + p->treatment));
			for (int a = 0; a < 3; a++) {
				out_ch(we, ',');
				out_fixed(we, a < 2 ? p->p_arm[a] : p->p_arm[1] - p->p_arm[0], 6);
			}
			out_ch(we, '\n');
			out_row_done(we);
		}
	}
	char *tj = truth_json(o, s, nc);
	size_t tl = strlen(tj);
	/* truth.json is small; write it through the same buffer in pieces. */
	for (size_t off = 0; off < tl; off += OUT_SLACK / 2) {
		size_t k = tl - off < OUT_SLACK / 2 ? tl - off : OUT_SLACK / 2;
		memcpy(w[O_TRUTH].buf + w[O_TRUTH].len, tj + off, k);
		w[O_TRUTH].len += k;
		out_row_done(&w[O_TRUTH]);
	}
	free(tj);
	free(p);
	free(s);

	for (int i = 0; i < O_N && !rc; i++)
		rc = out_close(&w[i], err);
	for (int i = 0; i < O_N && !rc; i++) {
		if (!w[i].tmp)
			continue;
		if (rename(w[i].tmp, w[i].final) != 0)
			rc = lm_seterr(err, EX_IOERR, "%s: %s", w[i].final, strerror(errno));
		else {
			free(w[i].tmp);
			w[i].tmp = NULL;
		}
	}
	/* Without visits, a visits.csv left from an earlier run (only with --force) would lie;
	 * so would a truth_effect.csv of another interaction */
	for (int i = O_VIS; !rc && i <= O_EFFECT; i += O_EFFECT - O_VIS) {
		if ((i == O_VIS && o->visits > 0) || (i == O_EFFECT && o->effect))
			continue;
		char *path = join(o->dir, names[i]);
		if (unlink(path) != 0 && errno != ENOENT)
			rc = lm_seterr(err, EX_IOERR, "%s: %s", path, strerror(errno));
		free(path);
	}
done:
	for (int i = 0; i < O_N; i++)
		out_discard(&w[i]);
	return rc;
}
