# tests/lua/workbench.bash: a small workbench for the Lua tests: the first N rows of
# sample_data/pbc.csv through `lumen import`, two column labels, and a model "bili_risk"
# whose stored predictions are known in closed form: p = bili / (bili + 2), y = (status == 2).
# Source it, then: make_wb FILE [N].
make_wb() {
	local wb=$1 n=${2:-30}
	rm -f "$wb"
	head -n $((n + 1)) "$DATA/pbc.csv" >"$T/.pbc_head.csv"
	"$LUMEN" import "$T/.pbc_head.csv" -o "$wb" --group sex --time time --event status \
		--treatment trt >/dev/null || return 1
	sqlite3 "$wb" <<SQL
UPDATE columns SET label = 'Sex' WHERE name = 'sex';
UPDATE columns SET label = 'Serum bilirubin (mg/dl)' WHERE name = 'bili';
INSERT INTO models(id, name, arch, target, positive, task, hyper, seed, folds, n_used, n_excluded,
  metrics, version, created_at) VALUES(1, 'bili_risk', 'logreg', 'status', '2', 'binary',
  '{"epochs":10,"lr":0.01}', 7, 5, $n, 0,
  '{"auc":0.812,"brier":0.164,"by_group":{"sex":{"f":{"auc":0.8},"m":{"auc":0.9}}}}',
  'lumen 0.1.0', '2026-11-19T00:00:00Z');
INSERT INTO predictions(model_id, patient, fold, y, p) SELECT 1, rowid, rowid % 5,
  status = 2, bili / (bili + 2.0) FROM patients;
SQL
}
