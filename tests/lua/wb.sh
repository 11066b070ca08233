# tests/lua/wb.sh: builds a small workbench for the Lua tests with the sqlite3 shell, in the
# schema of src/data/store.c (version 1), from the first N rows of ../shared/data/pbc.csv, with
# a model "bili_risk" whose stored predictions are p = bili / (bili + 2) and y = (status == 2).
# Source it, then: make_wb FILE [N]. (Used until `lumen import` and `lumen train` are in main.)
make_wb() {
	local wb=$1 n=${2:-30}
	rm -f "$wb"
	head -n $((n + 1)) "$SHARED/data/pbc.csv" >"$T/.pbc_head.csv"
	sqlite3 "$wb" <<SQL
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE datasets(name TEXT PRIMARY KEY, file TEXT, sha256 TEXT, rows INTEGER,  columns INTEGER, delimiter TEXT, imported_at TEXT);
CREATE TABLE columns(dataset TEXT NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL,  type TEXT NOT NULL, role TEXT NOT NULL, missing INTEGER, distinct_count INTEGER,  categories TEXT, mean REAL, sd REAL, min REAL, max REAL, label TEXT,  PRIMARY KEY(dataset, name));
CREATE TABLE models(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, arch TEXT NOT NULL,  target TEXT, positive TEXT, task TEXT, classes TEXT, hyper TEXT, inputs TEXT,  seed INTEGER, folds INTEGER, final TEXT, data_sha256 TEXT, n_used INTEGER,  n_excluded INTEGER, metrics TEXT, importance TEXT, version TEXT, created_at TEXT);
CREATE TABLE model_inputs(model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,  slot INTEGER NOT NULL, name TEXT NOT NULL, source_column TEXT, kind TEXT, category TEXT,  center REAL, scale REAL, PRIMARY KEY(model_id, slot));
CREATE TABLE model_tensors(model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,  member INTEGER NOT NULL, name TEXT NOT NULL, shape TEXT, data BLOB,  PRIMARY KEY(model_id, member, name));
CREATE TABLE predictions(model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,  patient INTEGER NOT NULL, fold INTEGER, y INTEGER, p REAL, p_sd REAL, logit REAL,  probs BLOB, PRIMARY KEY(model_id, patient));
CREATE TABLE attributions(model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,  method TEXT NOT NULL, patient INTEGER NOT NULL, slots BLOB, columns BLOB, logit REAL,  baseline_logit REAL, delta REAL, steps INTEGER, baseline TEXT, agreement REAL,  PRIMARY KEY(model_id, method, patient));
CREATE TABLE audits(id INTEGER PRIMARY KEY, model_id INTEGER REFERENCES models(id)  ON DELETE CASCADE, created_at TEXT, params TEXT, result TEXT);
CREATE TABLE reports(id INTEGER PRIMARY KEY, script TEXT, args TEXT, output TEXT,  created_at TEXT, sha256 TEXT);
CREATE TABLE access_log(id INTEGER PRIMARY KEY, time TEXT NOT NULL, user TEXT NOT NULL,  action TEXT NOT NULL, patient INTEGER, detail TEXT);
INSERT INTO meta VALUES('schema_version','1'),('program','lumen 0.1.0'),('created_at','2026-11-19T00:00:00Z');
.import --csv $T/.pbc_head.csv raw
CREATE TABLE patients("id" INTEGER, "time" INTEGER, "status" INTEGER, "trt" INTEGER, "age" REAL,
  "sex" TEXT, "ascites" INTEGER, "hepato" INTEGER, "spiders" INTEGER, "edema" REAL, "bili" REAL,
  "chol" INTEGER, "albumin" REAL, "copper" INTEGER, "alk.phos" REAL, "ast" REAL, "trig" INTEGER,
  "platelet" INTEGER, "protime" REAL, "stage" INTEGER);
INSERT INTO patients SELECT CAST(id AS INTEGER), CAST(time AS INTEGER), CAST(status AS INTEGER),
  CAST(NULLIF(trt,'') AS INTEGER), CAST(age AS REAL), NULLIF(sex,''),
  CAST(NULLIF(ascites,'') AS INTEGER), CAST(NULLIF(hepato,'') AS INTEGER),
  CAST(NULLIF(spiders,'') AS INTEGER), CAST(NULLIF(edema,'') AS REAL), CAST(NULLIF(bili,'') AS REAL),
  CAST(NULLIF(chol,'') AS INTEGER), CAST(NULLIF(albumin,'') AS REAL), CAST(NULLIF(copper,'') AS INTEGER),
  CAST(NULLIF("alk.phos",'') AS REAL), CAST(NULLIF(ast,'') AS REAL), CAST(NULLIF(trig,'') AS INTEGER),
  CAST(NULLIF(platelet,'') AS INTEGER), CAST(NULLIF(protime,'') AS REAL), CAST(NULLIF(stage,'') AS INTEGER)
  FROM raw;
DROP TABLE raw;
INSERT INTO datasets VALUES('patients','pbc.csv','0',$n,20,',','2026-11-19T00:00:00Z');
CREATE TEMP TABLE spec(position, name, type, role);
INSERT INTO spec VALUES(0,'id','integer','id'),(1,'time','integer','time'),(2,'status','integer','event'),
  (3,'trt','integer','treatment'),(4,'age','real','feature'),(5,'sex','text','group'),
  (6,'ascites','boolean','feature'),(7,'hepato','boolean','feature'),(8,'spiders','boolean','feature'),
  (9,'edema','real','feature'),(10,'bili','real','feature'),(11,'chol','integer','feature'),
  (12,'albumin','real','feature'),(13,'copper','integer','feature'),(14,'alk.phos','real','feature'),
  (15,'ast','real','feature'),(16,'trig','integer','feature'),(17,'platelet','integer','feature'),
  (18,'protime','real','feature'),(19,'stage','integer','feature');
$(i=0; for c in id time status trt age sex ascites hepato spiders edema bili chol albumin copper alk.phos ast trig platelet protime stage; do
	if [ "$c" = sex ]; then
		echo "INSERT INTO columns SELECT 'patients', s.position, s.name, s.type, s.role,
		  (SELECT count(*) FROM patients WHERE \"sex\" IS NULL),
		  (SELECT count(DISTINCT \"sex\") FROM patients),
		  (SELECT json_group_array(json_object('value', v, 'n', k)) FROM
		    (SELECT \"sex\" v, count(*) k FROM patients WHERE \"sex\" IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1)),
		  NULL, NULL, NULL, NULL, 'Sex' FROM spec s WHERE s.name = 'sex';"
	else
		echo "INSERT INTO columns SELECT 'patients', s.position, s.name, s.type, s.role,
		  sum(\"$c\" IS NULL), count(DISTINCT \"$c\"),
		  CASE s.type WHEN 'boolean' THEN (SELECT json_group_array(json_object('value', v, 'n', k)) FROM
		    (SELECT CAST(\"$c\" AS TEXT) v, count(*) k FROM patients WHERE \"$c\" IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1)) END,
		  avg(\"$c\"), sqrt((sum(1.0 * \"$c\" * \"$c\") - 1.0 * sum(\"$c\") * sum(\"$c\") / count(\"$c\")) / (count(\"$c\") - 1)),
		  min(\"$c\"), max(\"$c\"), NULL FROM patients, spec s WHERE s.name = '$c' GROUP BY s.name;"
	fi
done)
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
