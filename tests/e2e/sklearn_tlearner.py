"""Oracle for tests/e2e/effect.sh: refits a lumen T-learner's cross-validation with
scikit-learn, one classifier per arm on the same folds and the same encoding, and compares.

Usage: /usr/bin/python3 sklearn_tlearner.py FILE.lumen MODEL TRUTH_EFFECT.csv [mlp]
The model's inputs must be numeric columns without missing values (the test's --features):
lumen's encoding is then the fold's standardisation (mean, population sd of the fold's
training rows, every arm). logreg: LogisticRegression(C = 1 / (l2 n_arm)) per arm, which is
lumen's penalised objective; mlp: MLPClassifier(64, 64) with early stopping (the same kind of
network, not the same fit). Prints, one per line:
  max_abs_p     largest |p_sklearn - p_lumen| over patients and arms (logreg only)
  rho_sklearn   Spearman of sklearn's out-of-fold effect with the true effect
  rho_lumen     the same for lumen's stored effect
  qini_sklearn  Qini area of sklearn's effects (the formula of lumen(1), written anew here)
  qini_lumen    Qini area of lumen's stored effects by that formula
  qini_stored   the Qini area lumen stored"""
import csv
import json
import sqlite3
import sys

import numpy as np
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

path, name, truth_csv = sys.argv[1:4]
kind = sys.argv[4] if len(sys.argv) > 4 else "logreg"
db = sqlite3.connect(path)
mid, inputs, hyper, metrics, target = db.execute(
    "SELECT id, inputs, hyper, metrics, target FROM models WHERE name = ?", (name,)).fetchone()
cols = [c["column"] for c in json.loads(inputs)]
hyper = json.loads(hyper)
arms = hyper["effect"]["arms"]
armcol = hyper["effect"]["column"]
l2 = hyper.get("l2", 1e-3)
q = 'SELECT rowid, "%s", "%s", %s FROM patients ORDER BY rowid' % (
    armcol, target, ", ".join('"%s"' % c for c in cols))
rows = db.execute(q).fetchall()
rowid = np.array([r[0] for r in rows])
arm = np.array([str(r[1]) for r in rows])
y = np.array([float(r[2]) for r in rows])
X = np.array([[float(v) for v in r[3:]] for r in rows])
eff = {}
for pat, a, fold, p, e in db.execute(
        "SELECT patient, arm, fold, p, effect FROM effects WHERE model_id = ?", (mid,)):
    eff.setdefault(pat, {})["fold"] = fold
    eff[pat][a] = (p, e)
fold = np.array([eff[r]["fold"] for r in rowid])
lp = np.array([[eff[r][a][0] for a in arms] for r in rowid])
le = np.array([eff[r][arms[1]][1] for r in rowid])
truth = {int(r["id"]): float(r["effect"]) for r in csv.DictReader(open(truth_csv))}
t = np.array([truth[r] for r in rowid])

sp = np.zeros_like(lp)
for k in sorted(set(fold)):
    tr, te = fold != k, fold == k
    mu, sd = X[tr].mean(0), X[tr].std(0)
    sd[sd < 1e-12] = 1
    Z = (X - mu) / sd
    for j, a in enumerate(arms):
        s = tr & (arm == a)
        if kind == "logreg":
            clf = LogisticRegression(C=1.0 / (l2 * s.sum()), max_iter=10000, tol=1e-10)
        else:
            clf = MLPClassifier(hidden_layer_sizes=(64, 64), early_stopping=True,
                                validation_fraction=0.15, n_iter_no_change=10, max_iter=100,
                                random_state=int(k))
        clf.fit(Z[s], y[s])
        sp[te, j] = clf.predict_proba(Z[te])[:, 1]
se = sp[:, 1] - sp[:, 0]


def qini_area(effect, treated, yy):
    order = sorted(range(len(effect)), key=lambda i: (-(-effect[i]), i))
    n = len(order)
    nt = nr = yt = yr = 0
    qs = []
    for i in order:
        if treated[i]:
            nt += 1
            yt += yy[i]
        else:
            nr += 1
            yr += yy[i]
        qs.append((yr * nt / nr - yt) / n if nr else 0.0)
    return sum(qv - (k + 1) / n * qs[-1] for k, qv in enumerate(qs)) / n


two = (arm == arms[0]) | (arm == arms[1])
treated = (arm == arms[1])[two]
if kind == "logreg":
    print("max_abs_p %.6f" % np.abs(sp - lp).max())
print("rho_sklearn %.4f" % spearmanr(se, t)[0])
print("rho_lumen %.4f" % spearmanr(le, t)[0])
print("qini_sklearn %.6f" % qini_area(se[two], treated, y[two]))
print("qini_lumen %.6f" % qini_area(le[two], treated, y[two]))
print("qini_stored %.6f" % json.loads(metrics)["effect"]["arms"][0]["curves"]["qini_area"])
