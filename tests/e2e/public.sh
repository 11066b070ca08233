#!/bin/bash
# The world's data: public cohorts from Debian's R packages (survival, MASS, mlbench) and
# scikit-learn's bundled data, written out as their users would (write.csv, with and without
# row names), imported, trained on, and checked for the id rule and the leak warnings.
# Skips with a message when R or a package is absent.
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1

if ! command -v Rscript >/dev/null 2>&1; then
	skip "public cohorts from R" "Rscript is not installed (Debian r-base-core, r-cran-survival)"
	echo "1..$T_N"
	exit 0
fi
Rscript - >r.log 2>&1 <<'R'
w <- function(d, f, rn = FALSE) write.csv(d, f, row.names = rn)
if (requireNamespace("survival", quietly = TRUE)) {
	d <- survival::lung; w(d, "lung.csv")
	d <- survival::veteran; w(d, "veteran.csv", TRUE)
	d <- survival::colon; w(d, "colon.csv")
	d <- survival::retinopathy; w(d, "retinopathy.csv")
	d <- survival::rotterdam; w(d, "rotterdam.csv", TRUE)
	d <- survival::mgus2; w(d, "mgus2.csv")
}
if (requireNamespace("MASS", quietly = TRUE)) {
	d <- MASS::birthwt; w(d, "birthwt.csv", TRUE)
	d <- MASS::Pima.tr; w(d, "pima_tr.csv")
}
if (requireNamespace("mlbench", quietly = TRUE)) {
	e <- new.env(); utils::data("BreastCancer", package = "mlbench", envir = e); w(e$BreastCancer, "breastcancer.csv")
}
R

# imp NAME.csv EXPECT-IDS-LINE [options]: the import succeeds and says where the ids come from
imp() {
	local f=$1 want=$2
	shift 2
	if [ ! -s "$f" ]; then
		skip "import $f" "the R package that ships it is not installed"
		return 1
	fi
	run import "$f" -o "${f%.csv}.lumen" "$@"
	IMPORTED=$OUT
	eq "import $f $*" "$RC/$(printf '%s\n' "$OUT" | sed -n 2p)" "0/$want"
}
# trains NAME.lumen --target ...: a logistic regression trains; ERR keeps the warnings
trains() {
	local f=$1
	shift
	[ -e "$f" ] || return 1
	run train "$f" --model logreg --name lr --quiet "$@"
	eq "train on $f" "$RC" 0
}

if imp lung.csv "patient ids: the row numbers 1..228, in column 'row' (the CSV has no id column)" --time time --event status; then
	trains lung.lumen --target status --positive 2
	eq "lung: no warnings once time is the time column" "$ERR" ""
fi
imp veteran.csv "patient ids: column 'rownames'" --time time --event status &&
	trains veteran.lumen --target status --positive 1
if [ -s colon.csv ]; then
	run import colon.csv -o colon.lumen
	eq "colon (two rows per patient): refused with the ways out" "$RC/$ERR" "65/lumen: import: colon.csv:3:1: column 'id' looks like the patient id but repeats: 1858 rows, 929 distinct values ('1' also on line 2); name the id with --id COL, number the rows with --row-ids, or import a long table with --visits"
	imp colon.csv "patient ids: the row numbers 1..1858, in column 'row' (--row-ids)" --row-ids
	eq "colon: the repeating id is ignored" "$(sqlite3 colon.lumen "SELECT role FROM columns WHERE name = 'id'")" ignore
fi
if imp retinopathy.csv "patient ids: the row numbers 1..394, in column 'row' (--row-ids)" --row-ids; then
	trains retinopathy.lumen --target status --positive 1
	contains "retinopathy: futime as a feature is warned of" "$ERR" "warning: input 'futime' looks like a date or a follow-up time"
fi
if imp rotterdam.csv "patient ids: column 'pid'"; then
	trains rotterdam.lumen --target death --positive 1
	contains "rotterdam: dtime (time to death) is warned of" "$ERR" "warning: input 'dtime' looks like a date or a follow-up time"
	contains "rotterdam: the row names beside the pid are said to be ignored" "$IMPORTED" "column 'rownames' is named like an id: its role is 'ignore' (never a model input)"
	eq "rotterdam: the pid and the row names are no inputs" "$(sqlite3 rotterdam.lumen "SELECT count(*) FROM model_inputs WHERE source_column IN ('pid', 'rownames')")" 0
fi
imp mgus2.csv "patient ids: column 'id'" && trains mgus2.lumen --target death --positive 1 &&
	contains "mgus2: futime is warned of" "$ERR" "warning: input 'futime'"
if imp birthwt.csv "patient ids: column 'rownames'"; then
	trains birthwt.lumen --target low --positive 1
	contains "birthwt: bwt (the birth weight that defines low) is a leak" "$ERR" "warning: input 'bwt' alone almost determines the target (its own AUC 1.000)"
fi
if imp pima_tr.csv "patient ids: the row numbers 1..200, in column 'row' (the CSV has no id column)"; then
	trains pima_tr.lumen --target type --positive Yes
	contains "Pima.tr: --positive Yes on a Yes/No column" "$OUT" "target type = Yes, 200 patients"
fi
if imp breastcancer.csv "patient ids: the row numbers 1..699, in column 'row' (--row-ids)" --row-ids; then
	trains breastcancer.lumen --target Class --positive malignant
	eq "BreastCancer: the repeating Id is ignored" "$(sqlite3 breastcancer.lumen "SELECT role FROM columns WHERE name = 'Id'")" ignore
fi

if /usr/bin/python3 -c 'import sklearn' 2>/dev/null; then
	/usr/bin/python3 - <<'PY'
import csv
from sklearn.datasets import load_breast_cancer
d = load_breast_cancer()
with open("sk_breast_cancer.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(list(d.feature_names) + ["malignant"])
    for x, y in zip(d.data, d.target):
        w.writerow(list(x) + [1 - y])
PY
	imp sk_breast_cancer.csv "patient ids: the row numbers 1..569, in column 'row' (the CSV has no id column)" &&
		trains sk_breast_cancer.lumen --target malignant --positive 1 &&
		contains "scikit-learn's breast cancer: out-of-fold AUC" "$OUT" "569 patients (0 left out), 5 folds, out-of-fold AUC 0.99"
else
	skip "scikit-learn's bundled data" "Debian python3-sklearn is not installed"
fi
echo "1..$T_N"
