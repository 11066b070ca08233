#!/bin/bash
# Audit of 1,000,000 patients in 4 groups with 1,000 bootstrap replicates (goal: under 10 s).
# Baselines in the same run: the point group metrics by one SQL GROUP BY in sqlite3, and,
# when /usr/bin/python3 has numpy, the same within-group bootstrap written in numpy
# (timed on 20 replicates and scaled to 1,000).
# BENCH_SCALE=small: 100,000 patients.
set -u
top=${LUMEN_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
LUMEN=${LUMEN:-$top/build/lumen}
N=1000000
[ "${BENCH_SCALE:-}" = small ] && N=100000
B=1000
T=$(mktemp -d "${TMPDIR:-/tmp}/lumen-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
W=$T/audit.lumen
now() { date +%s.%N; }
sed -n '/^static const char schema_sql/,/\\n";$/p' "$top/src/data/store.c" |
	sed -e '1d' -e 's/^[[:space:]]*"//' -e 's/\\n"[;]*$//' -e 's/"[;]*$//' >"$T/schema.sql"
t0=$(now)
sqlite3 "$W" <<SQL
.read $T/schema.sql
INSERT INTO meta VALUES('schema_version', '1');
CREATE TABLE patients(id INTEGER, grp TEXT);
INSERT INTO columns(dataset, position, name, type, role, missing, distinct_count, categories)
VALUES ('patients', 0, 'id', 'integer', 'id', 0, $N, NULL),
  ('patients', 1, 'grp', 'text', 'group', 0, 4,
   '[{"value":"a","n":0},{"value":"b","n":0},{"value":"c","n":0},{"value":"d","n":0}]');
INSERT INTO models(id, name, arch, task) VALUES (1, 'bench', 'logreg', 'binary');
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $N)
INSERT INTO patients SELECT i, char(97 + abs(random()) % 4) FROM s;
-- risk from a uniform draw; outcome drawn with that risk, group d with a shifted score
INSERT INTO predictions(model_id, patient, fold, y, p)
SELECT 1, rowid, rowid % 5, (abs(random()) % 1000000) / 1e6 < u, min(0.999, u + (grp = 'd') * 0.05)
FROM (SELECT rowid, grp, (abs(random()) % 1000000) / 1e6 AS u FROM patients);
SQL
t1=$(now)
printf 'workbench: %d patients built with sqlite3 in %.1f s\n' "$N" "$(echo "$t1 - $t0" | bc)"

t0=$(now)
sqlite3 "$W" "SELECT pt.grp, count(*), avg(pr.y), avg(pr.p >= 0.5),
  sum(pr.p >= 0.5 AND pr.y) * 1.0 / sum(pr.y), sum(pr.p >= 0.5 AND NOT pr.y) * 1.0 / sum(NOT pr.y),
  sum(pr.p >= 0.5 AND pr.y) * 1.0 / sum(pr.p >= 0.5), avg((pr.p - pr.y) * (pr.p - pr.y))
  FROM predictions pr JOIN patients pt ON pt.rowid = pr.patient GROUP BY pt.grp" >"$T/sql.txt"
t1=$(now)
sql_s=$(echo "$t1 - $t0" | bc)

# wall, user and system seconds and peak RSS of each lumen run (the machine may be shared:
# the load average is printed so that a slow wall time can be read against it)
/usr/bin/time -f '%e %U %S %M' -o "$T/t0" "$LUMEN" audit "$W" --model bench --by grp --json >"$T/a0.json" || exit 1
/usr/bin/time -f '%e %U %S %M' -o "$T/t1" "$LUMEN" audit "$W" --model bench --by grp --bootstrap $B --json >"$T/a1.json" || exit 1
read -r pt_s pt_u pt_y pt_m <"$T/t0"
read -r bs_s bs_u bs_y bs_m <"$T/t1"

printf 'load average before the runs: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'SQL GROUP BY (n, prevalence, selection, TPR, FPR, PPV, Brier): %.2f s wall\n' "$sql_s"
printf 'lumen audit, no bootstrap (+ AUC, calibration, thresholds):   %.2f s wall, %.2f s CPU\n' "$pt_s" "$(echo "$pt_u + $pt_y" | bc)"
printf 'lumen audit, %d bootstrap replicates (2 threads): %.2f s wall, %.2f s CPU (goal < 10 s)\n' "$B" "$bs_s" "$(echo "$bs_u + $bs_y" | bc)"
printf 'peak RSS: %s kB without, %s kB with the bootstrap\n' "$pt_m" "$bs_m"
# the audit's TPR of group a agrees with SQL's
sqla=$(awk -F'|' '$1 == "a" { print $5 }' "$T/sql.txt")
ta=$(sqlite3 :memory: "SELECT json_extract(readfile('$T/a0.json'), '\$.groups[0].metrics.tpr.value')")
printf 'check: TPR of group a, SQL %s, lumen %s\n' "$sqla" "$ta"

if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
	/usr/bin/python3 - "$W" "$B" <<'PY'
import sqlite3, sys, time
import numpy as np
db = sqlite3.connect(sys.argv[1]); B = int(sys.argv[2])
rows = np.array(db.execute("SELECT unicode(pt.grp) - 97, pr.y, pr.p FROM predictions pr JOIN patients pt ON pt.rowid = pr.patient").fetchall(), dtype=float)
g, y, p = rows[:, 0].astype(int), rows[:, 1], rows[:, 2]
groups = []
for k in range(4):
    m = g == k
    o = np.argsort(-p[m], kind="stable")
    groups.append((y[m][o], p[m][o]))
rng = np.random.default_rng(1)
R = 20
t0 = time.perf_counter()
for r in range(R):
    for yy, pp in groups:
        n = len(yy)
        c = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
        pos = (c * yy).sum(); neg = c.sum() - pos
        sel = pp >= 0.5
        tpr = (c * yy * sel).sum() / pos; fpr = (c * (1 - yy) * sel).sum() / neg
        brier = (c * (pp - yy) ** 2).sum() / c.sum()
        # AUC from the sorted order (ties ignored: an under-estimate of the work)
        cp = np.cumsum(c * yy)
        auc = (c * (1 - yy) * cp).sum() / (pos * neg)
t1 = time.perf_counter()
print("numpy bootstrap (same resampling, TPR/FPR/Brier/AUC): %.2f s per %d replicates -> %.1f s for %d" % (t1 - t0, R, (t1 - t0) * B / R, B))
PY
else
	echo "numpy baseline skipped: /usr/bin/python3 has no numpy"
fi
