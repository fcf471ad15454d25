/* plastix/config.h -- loading libconfig files and validating them.
 *
 * A plx_config owns one parsed file (plus --set overrides) and every
 * plx_params node bound from it.  Binding a section validates it against a
 * plx_param_spec table: unknown keys ("did you mean ...?"), wrong types,
 * out-of-range values and missing required keys are one-line errors of the
 * form "file:line: section.key: what was expected, got what". */
#ifndef PLASTIX_CONFIG_H
#define PLASTIX_CONFIG_H

#include "plastix/rule.h"
#include <libconfig.h>

typedef struct plx_config plx_config;

/* Parse `path`, then apply overrides of the form "a.b.c=value" (value in
 * libconfig syntax: 0.3, "text", true, [1.0, 2.0]).  *out is owned by the
 * caller (plx_config_free). */
int plx_config_load(plx_config **out, const char *path,
                    const char *const *overrides, size_t n_overrides,
                    plx_error *err);
/* Same from a string (tests); `name` stands in for the file name. */
int plx_config_load_string(plx_config **out, const char *text,
                           const char *name, plx_error *err);
void plx_config_free(plx_config *cfg);

const char *plx_config_path(const plx_config *cfg);
/* A file named in the config: `name` as is when absolute or when the
 * config has no folder (a string config), else relative to the config
 * file's folder; into buf (n bytes). */
void plx_config_relative(const plx_config *cfg, const char *name, char *buf, size_t n);
/* Whether the file at `path` reads as libconfig and its task.type is the
 * string `type`: how `plastix run` picks the experiment a config is for.
 * Never an error: anything unreadable is simply not a match (the chosen
 * experiment's loader then reports it properly). */
int plx_config_task_is(const char *path, const char *type);
config_t *plx_config_raw(plx_config *cfg);
/* The file exactly as read (NULL for string configs). */
const char *plx_config_text(const plx_config *cfg);
/* Write the resolved configuration (after overrides) in libconfig syntax. */
int plx_config_write(plx_config *cfg, const char *path, plx_error *err);

/* Where two configs first differ (depth first, in file order): the dotted
 * key ("model.layers.[3].out", as --set writes it) and both values as
 * text ("absent" where a config lacks the key) with their lines (0 when
 * absent).  Numbers compare as values
 * (2 and 2.0 are equal).  Keys in `ignore` (NULL-terminated; a group's
 * name covers all of it) are skipped.  Returns 1 and fills *d when the
 * configs differ, 0 when they do not. */
typedef struct plx_config_diff {
  char key[256];
  char a[128], b[128];
  int line_a, line_b;
} plx_config_diff;
int plx_config_first_difference(plx_config *a, plx_config *b, const char *const *ignore,
                                plx_config_diff *d);
/* Runs whose configs a and b are must share their design: PLX_OK when they
 * differ only in the keys may_differ lists, else PLX_EINVAL with one line
 * naming b's file and line, the key, both values and the keys that may
 * differ (then `hint`, if any). */
int plx_config_same_design(plx_config *a, plx_config *b, const char *const *may_differ,
                           const char *hint, plx_error *err);

/* Validate the section at `path` ("" or NULL for the root) against the
 * concatenation of spec tables `head` and `body` (either may be NULL) and
 * return its params tree (owned by cfg).  A missing section binds as all
 * defaults unless it has required keys. */
int plx_config_bind(plx_config *cfg, const char *path,
                    const plx_param_spec *head, const plx_param_spec *body,
                    const plx_params **out, plx_error *err);

/* Validate an already-bound ANY/GROUP child `key` of `parent` against
 * (head, body); used for sections whose schema depends on another key
 * (model.type, rule.name). */
int plx_params_bind_child(const plx_params *parent, const char *key,
                          const plx_param_spec *head,
                          const plx_param_spec *body, const plx_params **out,
                          plx_error *err);

/* "file:line" of a raw setting, for messages. */
void plx_config_where(const plx_config *cfg, const config_setting_t *s,
                      char *buf, size_t n);
/* "file:line" of a key (or the section), for messages. */
void plx_params_where(const plx_params *p, const char *key, char *buf,
                      size_t n);
/* Dotted path of the section ("model.init"). */
const char *plx_params_path(const plx_params *p);
/* Raw setting for a key (NULL when absent). */
config_setting_t *plx_params_setting(const plx_params *p, const char *key);
/* The config this node belongs to. */
plx_config *plx_params_config(const plx_params *p);

/* Levenshtein distance (for "did you mean" suggestions); 99 for long names. */
size_t plx_edit_distance(const char *a, const char *b);

/* Print a spec table as a reference list (for `plastix list keys`). */
void plx_params_describe(const plx_param_spec *spec, const char *prefix,
                         void (*emit)(const char *line, void *ctx),
                         void *ctx);

/* Spec shorthands (PLX_P_FLOAT, ...) are in plastix/rule.h. */

#endif
