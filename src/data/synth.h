/* synth.h: a seeded synthetic patient cohort with a known ground truth (`lumen synth`).
 *
 * Every patient is drawn from its own PRNG stream, seeded from (seed, patient index), and every
 * patient consumes the same draws whatever the options: the same seed gives the same bytes, and
 * --missing or --bias change only the cells they are about. The outcome model, its coefficients,
 * the bias and the censoring are written to truth.json by synth_write(); lumen(1), section
 * synth, describes the model in words. */
#ifndef LUMEN_SYNTH_H
#define LUMEN_SYNTH_H

#include <stdint.h>

#include "../util.h"

#define SYNTH_NLABS 30
#define SYNTH_NVLABS 4        /* labs repeated in visits.csv */
#define SYNTH_MAX_VISITS 100
#define SYNTH_MAX_PATIENTS 100000000L

/* The additive contributions written to truth_contrib.csv, in this order. The last one
 * (creatinine_slope, from visits.csv) exists only when visits > 0. */
enum {
	SC_AGE, SC_EGFR, SC_HBA1C, SC_SBP, SC_ALBUMIN, SC_SMOKING, SC_SODIUM, SC_CRP,
	SC_TREATMENT, SC_SLOPE, SC_N
};

typedef struct synth_opts {
	long patients;        /* >= 1 */
	int visits;           /* 0..SYNTH_MAX_VISITS: each patient gets 1..visits visits */
	uint64_t seed;
	double missing;       /* mean missing rate over the lab cells, 0 <= missing < 1 */
	int bias_col;         /* -1 none, else SYNTH_BIAS_SEX/ETHNICITY/SITE */
	int bias_level;       /* category index within bias_col */
	double bias_rate;     /* probability that a true 1 of the group is recorded as 0 */
	int force;            /* overwrite existing output files */
	int effect;           /* --biomarker given: the interaction coefficient is `biomarker`
			       * and DIR/truth_effect.csv holds each patient's true effect */
	double biomarker;     /* treatment x zl(crp) coefficient when effect (default -0.45) */
	const char *dir;      /* output directory, created when missing */
} synth_opts;

enum { SYNTH_BIAS_SEX, SYNTH_BIAS_ETHNICITY, SYNTH_BIAS_SITE };

/* One generated patient. Lab values are already rounded to the decimals written to the CSV,
 * so the truth computed from them is exactly the truth of the file. */
typedef struct synth_patient {
	long id;
	double age;
	int sex, ethnicity, site, smoking, diabetes, treatment;
	double lab[SYNTH_NLABS];
	unsigned char missing[SYNTH_NLABS];  /* 1: the cell is written empty */
	double slope;          /* latent yearly log-creatinine slope */
	double term[SC_N];     /* uncentred logit terms; the treatment x crp interaction,
	                        * -0.45 * treatment * z_crp, is not among them */
	double z_crp;          /* standardised log CRP, the interaction's biomarker */
	double logit, p;       /* true logit and probability (before bias) */
	double p_arm[2];       /* true probability under treatment 0 and 1 (before bias) */
	int outcome_true, outcome;
	long time;
	int event;
	int nvisits;
	long vday[SYNTH_MAX_VISITS];
	double vlab[SYNTH_MAX_VISITS][SYNTH_NVLABS];
	unsigned char vmissing[SYNTH_MAX_VISITS][SYNTH_NVLABS];
} synth_patient;

/* Static description of the cohort's columns (for truth.json, tests and the man page). */
typedef struct synth_lab {
	const char *name, *unit;
	int decimals;
} synth_lab;
const synth_lab *synth_lab_info(int i);        /* i in 0..SYNTH_NLABS-1; static, never freed */
int synth_lab_index(const char *name);          /* -1 when unknown */
/* Category labels: col is SYNTH_BIAS_SEX/ETHNICITY/SITE; returns NULL past the last level. */
const char *synth_level(int col, int level);
/* Names of the contribution columns (SC_*). */
const char *synth_contrib_name(int sc);
/* The model's intercept for the given visits setting. */
double synth_intercept(int visits);

/* Parses "sex=f", "ethnicity=black", "site=C" into o->bias_col/bias_level; 0 or EX_USAGE. */
int synth_parse_bias(synth_opts *o, const char *spec, lm_err *err);

/* Draws patient index i (0-based, id = i + 1) into *p. Pure function of (opts, i). */
void synth_patient_make(const synth_opts *o, long i, synth_patient *p);

/* The treatment x zl(crp) coefficient of o: o->biomarker with --biomarker, else -0.45. */
double synth_interaction(const synth_opts *o);

/* Writes DIR/patients.csv, DIR/visits.csv (visits > 0), DIR/truth.json,
 * DIR/truth_contrib.csv and, with o->effect, DIR/truth_effect.csv (id, treatment, p_0, p_1,
 * effect = p_1 - p_0: the true risk difference of treatment 1 against 0). Files are written under temporary names and renamed into place only
 * when all are complete. Returns 0, EX_CANTCREAT (directory or existing files without force)
 * or EX_IOERR, with err filled. */
int synth_write(const synth_opts *o, lm_err *err);

#endif
