"""Helper of explain_synth.sh: compares a model's stored IG with a lumen synth truth.
Prints: overlap of the top-k columns by mean |IG| with the truth's k signal columns, and
the median over patients of the Spearman correlation (average ranks for ties) between IG
and the truth's additive contributions, over the signal columns and over all columns
(noise counting as 0). Usage: explain_truth.py FILE.lumen MODEL TRUTH_DIR"""
import csv
import json
import sqlite3
import struct
import sys

db, name, truthdir = sys.argv[1:4]
c = sqlite3.connect(db)
mid = c.execute("SELECT id FROM models WHERE name = ?", (name,)).fetchone()[0]
imp = json.loads(c.execute("SELECT importance FROM models WHERE id = ?", (mid,)).fetchone()[0])
spec = []
for (col,) in c.execute("SELECT source_column FROM model_inputs WHERE model_id = ? ORDER BY slot", (mid,)):
    if col not in spec:
        spec.append(col)
truth = json.load(open(truthdir + "/truth.json"))
sig = truth["signal_columns"]
top = [x["column"] for x in imp["ig"]["columns"][:len(sig)]]
contrib = {int(r["id"]): r for r in csv.DictReader(open(truthdir + "/truth_contrib.csv"))}
ids = {rowid: int(pid) for rowid, pid in c.execute("SELECT rowid, id FROM patients")}


def ranks(v):
    o = sorted(range(len(v)), key=lambda i: v[i])
    r = [0.0] * len(v)
    i = 0
    while i < len(v):
        j = i
        while j + 1 < len(v) and v[o[j + 1]] == v[o[i]]:
            j += 1
        for t in range(i, j + 1):
            r[o[t]] = (i + j) / 2 + 1
        i = j + 1
    return r


def spearman(a, b):
    a, b = ranks(a), ranks(b)
    n = len(a)
    ma, mb = sum(a) / n, sum(b) / n
    sab = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    saa = sum((x - ma) ** 2 for x in a)
    sbb = sum((y - mb) ** 2 for y in b)
    return sab / (saa * sbb) ** 0.5 if saa > 0 and sbb > 0 else None


rs, ra = [], []
for rowid, blob in c.execute("SELECT patient, columns FROM attributions WHERE model_id = ? AND method = 'ig'", (mid,)):
    ig = dict(zip(spec, struct.unpack("<%df" % (len(blob) // 4), blob)))
    t = contrib[ids[rowid]]
    s = spearman([ig[k] for k in sig], [float(t[k]) for k in sig])
    a = spearman([ig[k] for k in spec], [float(t[k]) if k in sig else 0.0 for k in spec])
    if s is not None:
        rs.append(s)
    if a is not None:
        ra.append(a)
rs.sort()
ra.sort()
print("%.4f %.4f %.4f %d" % (len(set(top) & set(sig)) / len(sig), rs[len(rs) // 2], ra[len(ra) // 2], len(rs)))
