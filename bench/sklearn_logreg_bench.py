"""scikit-learn reference for bench/bench_logreg.sh: fits LogisticRegression (lbfgs, its
defaults but max_iter 1000 so that it reaches its own tolerance) on exactly the encoding and
rows of every member of a lumen logreg model (K folds and the final model; the encoding as in
tests/e2e/sklearn_logreg_coef.py, vectorised), with the same penalty (C = 1 / (l2 n_train)).
Times only the fits (wall and CPU), not the encoding. Prints "key value" lines:
sklearn_folds_s, sklearn_folds_cpu_s, sklearn_final_s, sklearn_all_cpu_s (6 fits), sklearn_iters (per member),
max_coef_diff (lbfgs vs lumen's stored coefficients, over every member), setup.
Usage: /usr/bin/python3 sklearn_logreg_bench.py FILE.lumen MODEL"""
import json
import sqlite3
import sys
import time
import warnings

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression

db = sqlite3.connect(sys.argv[1])
name = sys.argv[2]
mid, hyper = db.execute("SELECT id, hyper FROM models WHERE name = ?", (name,)).fetchone()
hyper = json.loads(hyper)
l2 = hyper["l2"]
slots = db.execute("SELECT slot, source_column, kind, category, center, scale FROM model_inputs "
                   "WHERE model_id = ? ORDER BY slot", (mid,)).fetchall()
pred = db.execute("SELECT patient, fold, y FROM predictions WHERE model_id = ? ORDER BY patient",
                  (mid,)).fetchall()
pid = np.array([r[0] for r in pred])
fold = np.array([r[1] for r in pred])
y = np.array([r[2] for r in pred])
del pred
raw = {}
rowid = np.array([r[0] for r in db.execute("SELECT rowid FROM patients ORDER BY rowid")])
pos = np.searchsorted(rowid, pid)
for col in sorted({s[1] for s in slots}):
    q = 'SELECT "%s" FROM patients ORDER BY rowid' % col.replace('"', '""')
    vals = [r[0] for r in db.execute(q)]
    if any(isinstance(v, str) for v in vals):
        raw[col] = np.array([vals[i] for i in pos], dtype=object)
    else:
        raw[col] = np.array([np.nan if vals[i] is None else float(vals[i]) for i in pos])
    del vals


def tensor(member, tname):
    b = db.execute("SELECT data FROM model_tensors WHERE model_id = ? AND member = ? AND name = ?",
                   (mid, member, tname)).fetchone()
    return np.frombuffer(b[0], dtype="<f4").astype(np.float64)


def encode(center, scale):
    X = np.zeros((len(y), len(slots)))
    for s, (_, col, kind, cat, _, _) in enumerate(slots):
        if scale[s] == 0:
            continue
        v = raw[col]
        miss = np.array([x is None for x in v]) if v.dtype == object else np.isnan(v)
        if kind == "numeric":
            X[:, s] = np.where(miss, 0.0, (np.where(miss, 0.0, v).astype(float) - center[s]) / scale[s])
        elif kind == "onehot":
            X[:, s] = np.array([x is not None and str(x) == cat for x in v], dtype=float)
        else:
            X[:, s] = miss
    return X


folds_s = folds_cpu = final_s = all_cpu = 0.0
iters = []
worst = 0.0
for k in sorted(set(fold.tolist())) + [-1]:
    if k < 0:
        tr = np.arange(len(y))
        center = np.array([s[4] for s in slots])
        scale = np.array([s[5] for s in slots])
    else:
        tr = np.where(fold != k)[0]
        center, scale = tensor(k, "input.center"), tensor(k, "input.scale")
    X = encode(center, scale)[tr]
    clf = LogisticRegression(C=1.0 / (l2 * len(tr)), max_iter=1000)
    t, c = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y[tr])
    t, c = time.perf_counter() - t, time.process_time() - c
    all_cpu += c
    if k < 0:
        final_s = t
    else:
        folds_s += t
        folds_cpu += c
    iters.append(int(clf.n_iter_[0]))
    w = tensor(k, "w").reshape(len(slots), -1)
    worst = max(worst, np.abs(clf.coef_ - w.T).max(), np.abs(clf.intercept_ - tensor(k, "b")).max())
    del X
try:
    from threadpoolctl import threadpool_info
    pools = ", ".join("%s %s threads" % (p["internal_api"], p["num_threads"]) for p in threadpool_info())
except ImportError:
    pools = "threadpoolctl absent"
print("sklearn_folds_s %.4f" % folds_s)
print("sklearn_folds_cpu_s %.4f" % folds_cpu)
print("sklearn_final_s %.4f" % final_s)
print("sklearn_all_cpu_s %.4f" % all_cpu)
print("sklearn_iters %s" % ",".join(map(str, iters)))
print("max_coef_diff %.2g" % worst)
print("setup scikit-learn %s lbfgs (tol 1e-4, max_iter 1000), numpy %s, %s" % (
    sklearn.__version__, np.__version__, pools))
