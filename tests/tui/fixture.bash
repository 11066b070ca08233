# tests/tui/fixture.bash: builds the TUI tests' workbench (sourced by tests/tui/*.sh and
# bench/bench_tui.sh; not a test itself).
#
# tui_fixture FILE: imports $SHARED/data/pbc.csv (+ pbcseq.csv visits) with `lumen import`,
# then, until `lumen train/predict/explain` are in the binary, writes two models' rows the way
# those commands store them (schema in src/data/store.h): a logistic model "lr" on death
# (status == 2) with fixed weights, its predictions p = sigmoid(b0 + sum w_j z_j) and its exact
# integrated gradients against the mean baseline (w_j z_j per column, so the attributions sum
# to logit - b0 and the completeness error is 0), plus an "attention" vector; and a second
# model "lr2" with the opposite weights for model switching. The tests read the same rows back
# through sqlite3, so they check the TUI against the file, not against these formulas.
tui_fixture() {
	local f=$1
	"$LUMEN" import "$SHARED/data/pbc.csv" --visits "$SHARED/data/pbcseq.csv" -o "$f" --force \
		--target status --group sex --time time --event status --treatment trt >/dev/null || return 1
	python3 - "$f" <<'PY'
import math, sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1])
cols = ["bili", "albumin", "age", "edema", "protime", "sex"]
stats = {}
for c in cols[:-1]:
    m, s = db.execute('SELECT mean, sd FROM columns WHERE dataset="patients" AND name=?', (c,)).fetchone()
    stats[c] = (m, s)
rows = db.execute('SELECT rowid, bili, albumin, age, edema, protime, sex, status FROM patients ORDER BY rowid').fetchall()
def add_model(mid, name, w, b0):
    db.execute("INSERT INTO models(id, name, arch, target, positive, task, seed, folds, final, created_at)"
               " VALUES(?, ?, 'logreg', 'status', '2', 'binary', 1, 5, 'refit', '2026-11-23T00:00:00Z')", (mid, name))
    slots = [(c, c, 'numeric', None) for c in cols[:-1]] + [("sex=f", "sex", "onehot", "f"), ("sex=m", "sex", "onehot", "m")]
    for i, (sn, src, kind, cat) in enumerate(slots):
        db.execute("INSERT INTO model_inputs VALUES(?, ?, ?, ?, ?, ?, 0, 1)", (mid, i, sn, src, kind, cat))
    for r in rows:
        rid, vals, status = r[0], r[1:7], r[7]
        a = []
        for c, v in zip(cols[:-1], vals[:-1]):
            m, s = stats[c]
            z = 0.0 if v is None else (v - m) / s
            a.append(w[c] * z)
        a.append(w["sex"] * (1.0 if vals[-1] == "m" else -1.0))
        logit = b0 + sum(a)
        p = 1 / (1 + math.exp(-logit))
        db.execute("INSERT INTO predictions VALUES(?, ?, ?, ?, ?, ?, ?, NULL)",
                   (mid, rid, rid % 5, 1 if status == 2 else 0, p, 0.02, logit))
        blob = struct.pack("<%df" % len(a), *a)
        db.execute("INSERT INTO attributions VALUES(?, 'ig', ?, NULL, ?, ?, ?, 0.0, 64, 'mean', NULL)",
                   (mid, rid, blob, logit, b0))
        tot = sum(abs(x) for x in a) or 1.0
        att = struct.pack("<%df" % len(a), *[abs(x) / tot for x in a])
        db.execute("INSERT INTO attributions VALUES(?, 'attention', ?, NULL, ?, NULL, NULL, NULL, NULL, NULL, NULL)",
                   (mid, rid, att))
w = {"bili": 1.1, "albumin": -0.6, "age": 0.4, "edema": 0.5, "protime": 0.3, "sex": 0.2}
add_model(1, "lr", w, -0.7)
add_model(2, "lr2", {k: -v for k, v in w.items()}, -0.7)
db.commit()
PY
}
