/* cmd_synth.c: `lumen synth`, a seeded synthetic cohort with known ground truth. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../data/synth.h"
#include "../util.h"
#include "cli.h"

static void usage(void)
{
	printf("usage: lumen synth --patients N [--visits K] [--seed S] [--missing RATE]\n"
	       "                   [--bias COLUMN=GROUP] [--bias-rate P] [--force] -o DIR\n"
	       "Writes a synthetic cohort with a known outcome model to DIR: patients.csv,\n"
	       "visits.csv (when K > 0), truth.json and truth_contrib.csv.\n"
	       "  -n, --patients N     number of patients (1..%ld)\n"
	       "  -k, --visits K       up to K visits per patient in visits.csv (default 0, max %d)\n"
	       "  -s, --seed S         seed, 0..2^53-1 (default 1): the same seed writes the same bytes\n"
	       "  -m, --missing RATE   mean share of missing lab cells (default 0.05, 0..0.9)\n"
	       "  -b, --bias COL=GROUP under-record the outcome for one group: sex=f, ethnicity=black,\n"
	       "                       site=C ... (true 1s written as 0 with --bias-rate)\n"
	       "      --bias-rate P    probability of that flip (default 0.5)\n"
	       "      --biomarker A    crp is a predictive biomarker of strength A: the treatment\n"
	       "                       changes the logit by -0.30 + A ln(crp / 2.5) (default A -0.45),\n"
	       "                       and truth_effect.csv gets every patient's true risk under\n"
	       "                       each arm and the effect p_1 - p_0 (for lumen train --effect)\n"
	       "  -f, --force          overwrite existing files in DIR\n"
	       "  -o, --output DIR     output directory (created when missing)\n"
	       "See lumen(1), SYNTH, for the outcome model.\n",
	       SYNTH_MAX_PATIENTS, SYNTH_MAX_VISITS);
}

int cmd_synth(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"patients", required_argument, NULL, 'n'},
		{"visits", required_argument, NULL, 'k'},
		{"seed", required_argument, NULL, 's'},
		{"missing", required_argument, NULL, 'm'},
		{"bias", required_argument, NULL, 'b'},
		{"bias-rate", required_argument, NULL, 'r'},
		{"biomarker", required_argument, NULL, 'B'},
		{"force", no_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	synth_opts o = {.patients = 0, .visits = 0, .seed = 1, .missing = 0.05, .bias_col = -1,
	                .bias_level = 0, .bias_rate = 0.5, .force = 0, .dir = NULL};
	int have_n = 0, c;
	const char *bias = NULL;
	lm_err err = {0};
	long v;
	double d;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:k:s:m:b:fo:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_long(optarg, &v) != 0 || v < 1 || v > SYNTH_MAX_PATIENTS)
				return cli_usage_error("synth", "--patients: '%s' is not a number of "
				                       "patients (1..%ld)", optarg, SYNTH_MAX_PATIENTS);
			o.patients = v;
			have_n = 1;
			break;
		case 'k':
			if (parse_long(optarg, &v) != 0 || v < 0 || v > SYNTH_MAX_VISITS)
				return cli_usage_error("synth", "--visits: '%s' is not 0..%d", optarg,
				                       SYNTH_MAX_VISITS);
			o.visits = (int)v;
			break;
		case 's':
			/* At most 2^53 - 1, so truth.json's number holds the seed exactly. */
			if (parse_long(optarg, &v) != 0 || v < 0 || v > 9007199254740991L)
				return cli_usage_error("synth", "--seed: '%s' is not an integer in "
				                       "0..9007199254740991", optarg);
			o.seed = (uint64_t)v;
			break;
		case 'm':
			if (parse_double(optarg, &d) != 0 || !(d >= 0 && d <= 0.9))
				return cli_usage_error("synth", "--missing: '%s' is not a rate in 0..0.9",
				                       optarg);
			o.missing = d;
			break;
		case 'b':
			bias = optarg;
			break;
		case 'r':
			if (parse_double(optarg, &d) != 0 || !(d >= 0 && d <= 1))
				return cli_usage_error("synth", "--bias-rate: '%s' is not a probability",
				                       optarg);
			o.bias_rate = d;
			break;
		case 'B':
			if (parse_double(optarg, &d) != 0 || !(d >= -5 && d <= 5))
				return cli_usage_error("synth", "--biomarker: '%s' is not a coefficient in "
				                       "-5..5", optarg);
			o.effect = 1;
			o.biomarker = d;
			break;
		case 'f':
			o.force = 1;
			break;
		case 'o':
			o.dir = optarg;
			break;
		case 'h':
			usage();
			return 0;
		case ':':
			return cli_usage_error("synth", "%s needs a value", argv[optind - 1]);
		default:
			return cli_usage_error("synth", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("synth", "unexpected argument '%s'", argv[optind]);
	if (!have_n)
		return cli_usage_error("synth", "--patients N is required");
	if (!o.dir || !o.dir[0])
		return cli_usage_error("synth", "-o DIR is required");
	if (bias && synth_parse_bias(&o, bias, &err) != 0)
		return cli_usage_error("synth", "%s", err.msg);
	int rc = synth_write(&o, &err);
	if (rc) {
		lm_report("synth", &err);
		return rc;
	}
	return 0;
}
