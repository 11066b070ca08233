"""Oracle for tests/e2e/train.sh: refits a lumen logreg model's cross-validation with
scikit-learn's LogisticRegression on the same folds and the same encoding, and prints
"SKLEARN_AUC LUMEN_AUC" (pooled out-of-fold AUC of each, both computed by sklearn).

Usage: /usr/bin/python3 sklearn_logreg.py FILE.lumen MODEL
Encoding (as lumen's cohort.h): per training fold, numeric columns standardised with the
fold's mean and population sd, missing values imputed with the mean (0 after standardising)
plus a missing indicator when the fold's training rows have a missing value; text columns
one-hot over the categories seen in the fold's training rows. lumen's penalty
0.5 * l2 * |W|^2 added to the mean log-loss equals sklearn's C = 1 / (l2 * n_train)."""
import json
import math
import sqlite3
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

db = sqlite3.connect(sys.argv[1])
name = sys.argv[2]
mid, inputs, hyper = db.execute("SELECT id, inputs, hyper FROM models WHERE name = ?", (name,)).fetchone()
inputs = json.loads(inputs)
l2 = json.loads(hyper)["l2"]
cols = [c["column"] for c in inputs]
types = {c["column"]: c["type"] for c in inputs}
q = "SELECT p.patient, p.fold, p.y, p.p, %s FROM predictions p JOIN patients t ON t.rowid = p.patient WHERE p.model_id = ? ORDER BY p.patient" % ", ".join('t."%s"' % c.replace('"', '""') for c in cols)
rows = db.execute(q, (mid,)).fetchall()
fold = np.array([r[1] for r in rows])
y = np.array([r[2] for r in rows])
lumen_p = np.array([r[3] for r in rows])
raw = {c: [r[4 + j] for r in rows] for j, c in enumerate(cols)}


def encode(train, rows_idx):
    out = []
    for c in cols:
        v = raw[c]
        if types[c] == "text":
            cats = []
            for i in train:
                if v[i] is not None and v[i] not in cats:
                    cats.append(v[i])
            for cat in cats:
                out.append([1.0 if v[i] == cat else 0.0 for i in rows_idx])
        else:
            tv = [float(v[i]) for i in train if v[i] is not None]
            m = sum(tv) / len(tv)
            sd = math.sqrt(sum((x - m) ** 2 for x in tv) / len(tv))
            if sd <= 1e-12:
                sd = 1.0
            out.append([0.0 if v[i] is None else (float(v[i]) - m) / sd for i in rows_idx])
        if any(v[i] is None for i in train):
            out.append([1.0 if v[i] is None else 0.0 for i in rows_idx])
    return np.array(out).T


oof = np.zeros(len(rows))
for k in sorted(set(fold)):
    tr = np.where(fold != k)[0]
    te = np.where(fold == k)[0]
    clf = LogisticRegression(C=1.0 / (l2 * len(tr)), max_iter=10000, tol=1e-10)
    clf.fit(encode(tr, tr), y[tr])
    oof[te] = clf.predict_proba(encode(tr, te))[:, 1]
print("%.6f %.6f" % (roc_auc_score(y, oof), roc_auc_score(y, lumen_p)))
