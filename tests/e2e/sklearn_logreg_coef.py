"""Oracle for tests/e2e/train.sh: refits every member of a lumen logreg model (each fold's model
and the final one) with scikit-learn's LogisticRegression on exactly lumen's encoding and rows,
and prints one line per member: "MEMBER MAX_ABS_DIFF" (coefficients and intercepts), then
"max MAX" over all members and "final W0 W1 ... B" (sklearn's final coefficients, for keeping).

Usage: /usr/bin/python3 sklearn_logreg_coef.py FILE.lumen MODEL
The encoding is rebuilt from what lumen stored: the slots of model_inputs (kind, source column,
category), each fold's centre and scale (tensors input.center and input.scale of the member;
the final model's are model_inputs' own): numeric (x - center) / scale, 0 when missing; one-hot
1 when the value is the category; missing indicator 1 when the value is missing; a slot of scale
0 is always 0. Fold k's model saw the rows whose stored fold is not k; the final one every row.
lumen's objective, mean log-loss + 0.5 l2 |W|^2 with the intercept unpenalised, is sklearn's
with C = 1 / (l2 n_train); class_weight "balanced" is the same formula in both."""
import json
import sqlite3
import sys
import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression

db = sqlite3.connect(sys.argv[1])
name = sys.argv[2]
mid, hyper, nclass = db.execute(
    "SELECT id, hyper, json_array_length(classes) FROM models WHERE name = ?", (name,)).fetchone()
hyper = json.loads(hyper)
l2 = hyper["l2"]
balanced = hyper.get("class_weight") == "balanced"
slots = db.execute("SELECT slot, source_column, kind, category, center, scale FROM model_inputs "
                   "WHERE model_id = ? ORDER BY slot", (mid,)).fetchall()
cols = sorted({s[1] for s in slots})
q = "SELECT p.fold, p.y, %s FROM predictions p JOIN patients t ON t.rowid = p.patient " \
    "WHERE p.model_id = ? ORDER BY p.patient" % ", ".join('t."%s"' % c.replace('"', '""') for c in cols)
rows = db.execute(q, (mid,)).fetchall()
fold = np.array([r[0] for r in rows])
y = np.array([r[1] for r in rows])
raw = {c: [r[2 + j] for r in rows] for j, c in enumerate(cols)}


def tensor(member, tname):
    b = db.execute("SELECT data FROM model_tensors WHERE model_id = ? AND member = ? AND name = ?",
                   (mid, member, tname)).fetchone()
    return None if b is None else np.frombuffer(b[0], dtype="<f4").astype(np.float64)


def encode(center, scale):
    X = np.zeros((len(rows), len(slots)))
    for s, (_, col, kind, cat, _, _) in enumerate(slots):
        if scale[s] == 0:
            continue
        v = raw[col]
        if kind == "numeric":
            X[:, s] = [0.0 if x is None else (float(x) - center[s]) / scale[s] for x in v]
        elif kind == "onehot":
            X[:, s] = [1.0 if x is not None and str(x) == cat else 0.0 for x in v]
        else:
            X[:, s] = [1.0 if x is None else 0.0 for x in v]
    return X


worst = 0.0
members = sorted(set(fold.tolist())) + [-1]
for k in members:
    if k < 0:
        tr = np.arange(len(rows))
        center = np.array([s[4] for s in slots])
        scale = np.array([s[5] for s in slots])
    else:
        tr = np.where(fold != k)[0]
        center, scale = tensor(k, "input.center"), tensor(k, "input.scale")
    X = encode(center, scale)[tr]
    # sklearn's exact solvers: lbfgs stops on its ftol (64 eps relative decrease) and is
    # left up to 1e-3 from the optimum along the flat directions of collinear inputs
    # (pbc's missing indicators), so the comparison would measure lbfgs, not lumen
    solver = "newton-cholesky" if nclass == 2 else "newton-cg"
    clf = LogisticRegression(C=1.0 / (l2 * len(tr)), tol=1e-12, max_iter=1000, solver=solver,
                             class_weight="balanced" if balanced else None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # newton-cg never declares tol 1e-12 reached
        clf.fit(X, y[tr])
    w = tensor(k, "w").reshape(len(slots), -1)  # [n_in x K]
    b = tensor(k, "b")
    d = max(np.abs(clf.coef_ - w.T).max(), np.abs(clf.intercept_ - b).max())
    worst = max(worst, d)
    print("%d %.3g" % (k, d))
    if k < 0:
        final = list(clf.coef_.ravel()) + list(clf.intercept_)
print("max %.3g" % worst)
print("final " + " ".join("%.7f" % v for v in final))
