/* audit_effect.h: `lumen audit` of a treatment-effect model: who would be helped — the
 * predicted and observed benefit of every arm by group (audit_effect.c over ops_effect). */
#ifndef LUMEN_AUDIT_EFFECT_H
#define LUMEN_AUDIT_EFFECT_H

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "../util.h"

/* For an effect model: {"arms": [ops_effect_groups_json per arm and --by column]}; NULL for
 * any other model (err untouched) or on an error (err set). A column with more than 20
 * groups is skipped with a note. */
cJSON *audit_effect_json(sqlite3 *db, const char *model, const char *by, lm_err *err);
void audit_effect_print(const cJSON *j);

#endif
