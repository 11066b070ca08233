# tests/stats_fixture.sh: builds workbench files for the stats tests with sqlite3 alone (so
# they do not depend on `lumen import`). Source after tests/lib.sh.
#   wb_schema FILE            empty workbench: the schema is taken from src/data/store.c
#   wb_pbc FILE               pbc.csv as `patients` with typed columns (sex is text)
#   wb_model FILE NAME        a `models` row; prints its id

wb_schema() {
	sed -n '/^static const char schema_sql/,/\\n";$/p' "$TOP/src/data/store.c" |
		sed -e '1d' -e 's/^[[:space:]]*"//' -e 's/\\n"[;]*$//' -e 's/"[;]*$//' >"$T/.schema.sql"
	sqlite3 "$1" <"$T/.schema.sql" &&
		sqlite3 "$1" "INSERT INTO meta VALUES('schema_version','1'),('program','test fixture');"
}

wb_pbc() {
	wb_schema "$1" || return 1
	sqlite3 "$1" <<SQL
.import --csv $DATA/pbc.csv raw
CREATE TABLE patients(id INTEGER, time INTEGER, status INTEGER, trt INTEGER, age REAL,
  sex TEXT, ascites INTEGER, hepato INTEGER, spiders INTEGER, edema REAL, bili REAL,
  chol REAL, albumin REAL, copper REAL, "alk.phos" REAL, ast REAL, trig REAL,
  platelet REAL, protime REAL, stage INTEGER);
INSERT INTO patients SELECT
  nullif(id,'NA'), nullif(time,'NA'), nullif(status,'NA'), nullif(nullif(trt,'NA'),''),
  nullif(age,'NA'), sex, nullif(nullif(ascites,'NA'),''), nullif(nullif(hepato,'NA'),''),
  nullif(nullif(spiders,'NA'),''), nullif(edema,'NA'), nullif(bili,'NA'),
  nullif(nullif(chol,'NA'),''), nullif(albumin,'NA'), nullif(nullif(copper,'NA'),''),
  nullif(nullif("alk.phos",'NA'),''), nullif(nullif(ast,'NA'),''), nullif(nullif(trig,'NA'),''),
  nullif(nullif(platelet,'NA'),''), nullif(nullif(protime,'NA'),''), nullif(nullif(stage,'NA'),'')
  FROM raw ORDER BY rowid;
DROP TABLE raw;
INSERT INTO columns(dataset, position, name, type, role, missing, distinct_count, categories)
SELECT 'patients', cid, name, CASE WHEN name = 'sex' THEN 'text' WHEN type = 'REAL' THEN 'real'
  ELSE 'integer' END, CASE name WHEN 'id' THEN 'id' WHEN 'time' THEN 'time' WHEN 'status'
  THEN 'event' WHEN 'sex' THEN 'group' ELSE 'feature' END, 0,
  CASE WHEN name = 'sex' THEN 2 ELSE NULL END,
  CASE WHEN name = 'sex' THEN '[{"value":"f","n":374},{"value":"m","n":44}]' END
FROM pragma_table_info('patients');
SQL
}

wb_model() {
	sqlite3 "$1" "INSERT INTO models(name, arch, target, task) VALUES('$2', 'logreg', 'status', 'binary'); SELECT last_insert_rowid();"
}
