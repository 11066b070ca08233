"""Compares the Markdown of the bias_audit report with `lumen audit --json` for the same
arguments: every figure the report prints, formatted as the report formats it, and every flag,
significance and small-group mark, and the "Why the groups differ" section against the JSON's
importance. Used by tests/lua/reports.sh:
    python3 bias_audit_check.py AUDIT.json REPORT.md BY
prints one line per section, "SECTION: N figures, M differ", then the differences."""
import json
import sys

audit = json.load(open(sys.argv[1]))
md = open(sys.argv[2], encoding="utf-8").read().splitlines()
by = sys.argv[3]

# tables keyed by the heading or caption line that precedes them
tables, key, i = {}, None, 0
while i < len(md):
    line = md[i]
    if line.startswith("## ") or line.startswith("**"):
        key = line
    if line.startswith("|"):
        rows = []
        while i < len(md) and md[i].startswith("|"):
            rows.append([c.strip() for c in md[i].strip().strip("|").split(" | ")])
            i += 1
        head, body = rows[0], rows[2:]
        tables[key] = [dict(zip(head, r)) for r in body]
        continue
    i += 1


def table(prefix):
    for k, v in tables.items():
        if k.startswith(prefix):
            return v
    raise SystemExit("no table after a line starting with %r" % prefix)


def show(label):
    if "," not in by and label.startswith(by + "="):
        return label[len(by) + 1:]
    return label


def f3(x):
    return "NA" if x is None else "%.3f" % x


def ci(e, lo="lower", hi="upper", d=3):
    if e.get(lo) is None or e.get(hi) is None:
        return ""
    return "[%.*f, %.*f]" % (d, e[lo], d, e[hi])


ref = audit["reference"]
groups = audit["groups"]


def glabel(g):
    return show(g["group"]) + (" (reference)" if g["group"] == ref else "") + \
        (" ?" if g["too_small"] else "")


def mark(g, key):
    d = g["disparities"][key]
    if g["too_small"] and g["group"] != ref:
        return " ?"
    star = "*" if d["significant"] else ""
    if d["flag"] > 0:
        return " \u25b2" + star
    if d["flag"] < 0:
        return " \u25bc" + star
    return ""


results = []


def section(name, pairs):
    bad = [(w, g) for w, g in pairs if w != g]
    results.append((name, len(pairs), bad))


cls = [("prevalence", "prevalence"), ("selection_rate", "selection rate"), ("tpr", "TPR"),
       ("fpr", "FPR"), ("fnr", "FNR"), ("tnr", "TNR"), ("ppv", "PPV"), ("npv", "NPV"),
       ("accuracy", "accuracy")]
rows = table("**Metrics by")
pairs = [(len(groups), len(rows))]
for g, r in zip(groups, rows):
    pairs.append((glabel(g), r["group"]))
    pairs.append((str(g["n"]), r["n"]))
    for key, col in cls:
        want = f3(g["metrics"][key]["value"]) + ("" if key == "prevalence" else mark(g, key))
        pairs.append((want, r[col]))
section("classification", pairs)

cal = [("auc", "AUC"), ("brier", "Brier"), ("mean_predicted", "mean risk"),
       ("prevalence", "observed"), ("calibration_in_the_large", "risk - observed"),
       ("calibration_slope", "slope"), ("calibration_intercept", "intercept"),
       ("net_benefit", "net benefit"), ("net_benefit_treat_all", "treat all")]
rows = table("**risk - observed")
pairs = [(len(groups), len(rows))]
for g, r in zip(groups, rows):
    for key, col in cal:
        pairs.append((f3(g["metrics"][key]["value"]), r[col]))
section("calibration", pairs)

if audit["bootstrap"] > 0:
    rows = table("## 95% bootstrap intervals")
    pairs = [(len(groups), len(rows))]
    for g, r in zip(groups, rows):
        for key, col in [("selection_rate", "selection rate"), ("tpr", "TPR"), ("fpr", "FPR"),
                         ("ppv", "PPV"), ("auc", "AUC"),
                         ("calibration_in_the_large", "risk - observed")]:
            e = g["metrics"][key]
            pairs.append(((f3(e["value"]) + " " + ci(e)).strip(), r[col]))
    section("intervals", pairs)

judged = [("selection_rate", "selection rate"), ("tpr", "TPR"), ("fpr", "FPR"), ("fnr", "FNR"),
          ("tnr", "TNR"), ("ppv", "PPV"), ("npv", "NPV"), ("accuracy", "accuracy")]
want_rows = []
tol = audit["tolerance"]
for g in groups:
    for key, col in judged:
        d = g["disparities"][key]
        if d["flag"] == 0:
            continue
        want_rows.append([
            show(g["group"]), col,
            ("\u25b2 above %.2f" % (1 / tol)) if d["flag"] > 0 else ("\u25bc below %.2f" % tol),
            "%.2f" % d["ratio"], ci(d, "ratio_lower", "ratio_upper", 2),
            "no bootstrap" if audit["bootstrap"] == 0 else
            ("significant" if d["significant"] else "not significant"),
            "%+.3f" % d["difference"]])
cols = ["group", "metric", "flag", "ratio", "95% CI", "significance", "difference"]
if want_rows:
    got_rows = [[r[c] for c in cols] for r in table("**%d flagged" % len(want_rows))]
else:
    got_rows = [] if any(l.startswith("No disparity") for l in md) else [["missing"]]
section("disparities", [(len(want_rows), len(got_rows))] + list(zip(want_rows, got_rows)))

names = {"demographic_parity_difference": "demographic parity difference",
         "demographic_parity_ratio": "demographic parity ratio",
         "equalized_odds_difference": "equalized odds difference",
         "equalized_odds_ratio": "equalized odds ratio",
         "equal_opportunity_difference": "equal opportunity difference"}
rows = {r["measure"]: r for r in table("**max - min")}
pairs = []
for k, name in names.items():
    e = audit["summary"][k]
    pairs.append((f3(e["value"]), rows[name]["value"]))
    pairs.append((ci(e), rows[name]["95% CI"]))
section("summary", pairs)

rows = table("**Deterministic thresholds")
pairs = [(len(groups), len(rows))]
for g, r in zip(groups, rows):
    th = g["thresholds"]
    acc = th["accuracy_at_common_threshold"]

    def chg(x):
        return "NA" if x is None or acc is None else "%+.3f" % (x - acc)
    pairs += [(f3(acc), r["accuracy at t"]), (f3(th["equal_opportunity"]), r["equal opportunity t"]),
              (f3(th["equal_opportunity_tpr"]), r["TPR"]),
              (chg(th["equal_opportunity_accuracy"]), r["accuracy change (EO)"]),
              (f3(th["equal_selection"]), r["equal selection t"]),
              (f3(th["equal_selection_rate"]), r["selection rate"]),
              (chg(th["equal_selection_accuracy"]), r["accuracy change (selection)"])]
section("thresholds", pairs)


def g4(x):
    # the renderer's %.4g (C and Python agree on it)
    return "NA" if x is None else "%.4g" % x


def pos(x):
    # the ratios the log axis can draw: positive and finite (else a gap, NA)
    return x is not None and 0 < x < float("inf")


pairs = []
for title, key in [("Selection rate", "selection_rate"), ("True-positive rate", "tpr"),
                   ("False-positive rate", "fpr"), ("Positive predictive value", "ppv")]:
    rows = table("**%s by %s: ratio to %s" % (title, by, show(audit["reference"])))
    pairs.append((len(groups), len(rows)))
    for g, r in zip(groups, rows):
        d = g["disparities"][key]
        pairs.append((show(g["group"]) + (" (reference)" if g["group"] == audit["reference"] else "")
                      + (" (small)" if g["too_small"] else ""), r["label"]))
        for k, col in [("ratio", "value"), ("ratio_lower", "lower"), ("ratio_upper", "upper")]:
            x = d.get(k)
            pairs.append((g4(x) if pos(x) else "NA", r[col]))
section("charts", pairs)

# "Why the groups differ": the top inputs overall and per group, the charts and the warnings
# against the JSON's importance (inputs in slot order, warnings with rank and reason)
pairs = []
imp = audit.get("importance")
if "## Why the groups differ" not in md:
    pairs.append(("## Why the groups differ", "missing"))
elif imp is None:
    after = md[md.index("## Why the groups differ") + 2]
    pairs.append(("No integrated-gradient attributions stored for this model "
                  "(lumen explain adds them).", after))
else:
    ins = sorted(imp["inputs"], key=lambda c: -c["all"])  # stable: ties keep slot order
    top = min(5, len(ins))
    rows = table("**Top inputs by mean |integrated gradient|")
    pairs.append((top, len(rows)))
    for k, (c, r) in enumerate(zip(ins, rows)):
        pairs += [(str(k + 1), r["rank"]), (c["column"], r["input"]), ("%.4f" % c["all"], r["all"])]
        for g in groups:
            v = c["groups"].get(g["group"])
            pairs.append(("NA" if v is None else "%.4f" % v, r[show(g["group"])]))
    for g in groups:
        within = [c for c in imp["inputs"] if c["groups"].get(g["group"]) is not None]
        within = sorted(within, key=lambda c: -c["groups"][g["group"]])[:5]
        rows = table("**Top inputs for %s** (attributions)" % show(g["group"]))
        pairs.append((len(within), len(rows)))
        for c, r in zip(within, rows):
            pairs += [(c["column"], r["label"]), (g4(c["groups"][g["group"]]), r["value"])]
    want = []
    for w in imp["warnings"]:
        if w["reason"] == "group column":
            want.append("! warning: %s, a grouping column, is input #%d of the model"
                        % (w["column"], w["rank"]))
        else:
            want.append("! warning: %s (input #%d) is associated with the grouping (%.2f > 0.5): "
                        "a proxy for it" % (w["column"], w["rank"], w["association"]))
    got = [l for l in md if l.startswith("! warning: ")]
    if not want:
        got = [] if any(l.startswith("No warning: ") for l in md) else got + ["no 'No warning' line"]
    pairs.append((len(want), len(got)))
    pairs += list(zip(want, got))
section("why", pairs)

for name, n, bad in results:
    print("%s: %d figures, %d differ" % (name, n, len(bad)))
for name, n, bad in results:
    for w, g in bad[:5]:
        print("  %s: want %r, got %r" % (name, w, g))
