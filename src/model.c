/* model.c -- the table of built-in models, lookup by name, creation from a
 * config section, weight snapshots and weight initialisation. */
#include "config.h"
#include "plastix/model.h"
#include "plastix/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const plx_model_type plx_model_feedforward;
extern const plx_model_type plx_model_recurrent_langevin;

const plx_model_type *const plx_model_types[] = {
    &plx_model_feedforward,
    &plx_model_recurrent_langevin,
    NULL};

const plx_model_type *plx_model_lookup(const char *name, plx_error *err)
{
  char list[512], hint[128] = "";
  const char *best = NULL;
  size_t i, k = 0, bd = 99;
  for (i = 0; plx_model_types[i]; i++)
    if (strcmp(plx_model_types[i]->name, name) == 0)
      return plx_model_types[i];
  list[0] = '\0';
  for (i = 0; plx_model_types[i]; i++) {
    /* a misspelt prefix counts: "recurent" -> "recurrent_langevin" */
    char pre[64];
    size_t d = plx_edit_distance(name, plx_model_types[i]->name), dp;
    snprintf(pre, sizeof pre, "%.*s", (int)strlen(name) + 1, plx_model_types[i]->name);
    dp = plx_edit_distance(name, pre);
    if (dp < d)
      d = dp;
    k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", i ? ", " : "",
                          plx_model_types[i]->name);
    if (d < bd) {
      bd = d;
      best = plx_model_types[i]->name;
    }
  }
  if (best && bd <= 2)
    snprintf(hint, sizeof hint, "did you mean '%s'? ", best);
  plx_error_set(err, PLX_ENOTFOUND, "unknown model '%s' (%svalid models: %s)",
                name, hint, list);
  return NULL;
}

/* Keys every model section has besides its type's own. */
const plx_param_spec plx_model_common_spec[] = {
    {"type", PLX_PARAM_STRING, PLX_PARAM_REQUIRED, 0, NULL, 0, 0, NULL, NULL,
     "model name (plastix list models)"},
    PLX_P_STRING("weights", "", NULL,
                 "file of initial weights: a plastix results.h5 or the "
                 "authors' JSON network (bredenberg2020_network_cr.json)"),
    PLX_P_STRING("weights_set", "final", "final|initial",
                 "which weights of that file to load"),
    PLX_P_END};
#define type_key plx_model_common_spec

int plx_model_create(plx_model **out, const plx_params *parent, size_t n_in,
                     size_t n_out, size_t max_batch, plx_error *err)
{
  const plx_params *sec;
  const plx_model_type *type;
  config_setting_t *ts;
  plx_model *m;
  int rc;
  *out = NULL;
  ts = config_setting_get_member(plx_params_setting(parent, "model"), "type");
  if (!plx_params_setting(parent, "model"))
    return plx_params_error(parent, "model", err,
                            "missing required section model { type = ...; }");
  if (!ts || config_setting_type(ts) != CONFIG_TYPE_STRING) {
    const plx_params *sec0;
    char names[256];
    size_t i, k = 0;
    for (i = 0; plx_model_types[i]; i++)
      k += (size_t)snprintf(names + k, sizeof names - k, "%s%s", i ? ", " : "",
                            plx_model_types[i]->name);
    if (ts) { /* present but not a string: let the validator phrase it */
      rc = plx_params_bind_child(parent, "model", type_key, NULL, &sec0, err);
      if (rc)
        return rc;
    }
    return plx_params_error(parent, "model", err,
                            "missing required key model.type (one of: %s)", names);
  }
  type = plx_model_lookup(config_setting_get_string(ts), err);
  if (!type) {
    char where[512];
    plx_config_where(plx_params_config(parent), ts, where, sizeof where);
    plx_error_prefix(err, "%s: model.type", where);
    return PLX_EINVAL;
  }
  if ((rc = plx_params_bind_child(parent, "model", type_key, type->params,
                                  &sec, err)))
    return rc;
  m = calloc(1, sizeof *m);
  if (!m)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  m->type = type;
  m->params = sec;
  m->n_in = n_in;
  m->n_out = n_out;
  m->max_batch = max_batch ? max_batch : 1;
  m->batch = 1;
  if ((rc = type->alloc(m, sec, err))) {
    free(m);
    return rc;
  }
  *out = m;
  return PLX_OK;
}

void plx_model_free(plx_model *m)
{
  if (m) {
    if (m->type && m->type->free)
      m->type->free(m);
    free(m);
  }
}

int plx_model_clone(const plx_model *m, size_t max_batch, plx_model **out,
                    plx_error *err)
{
  plx_model *c = calloc(1, sizeof *c);
  double *buf;
  int rc;
  *out = NULL;
  if (!c)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  c->type = m->type;
  c->params = m->params;
  c->n_in = m->n_in;
  c->n_out = m->n_out;
  c->max_batch = max_batch ? max_batch : 1;
  c->batch = 1;
  if ((rc = m->type->alloc(c, m->params, err))) {
    free(c);
    return rc;
  }
  buf = malloc(plx_model_weight_count(m) * sizeof *buf);
  if (!buf) {
    plx_model_free(c);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  plx_model_get_weights(m, buf);
  plx_model_set_weights(c, buf);
  free(buf);
  *out = c;
  return PLX_OK;
}

plx_projection *plx_model_projection(plx_model *m, const char *name)
{
  size_t i;
  for (i = 0; i < m->n_proj; i++)
    if (strcmp(m->proj[i].name, name) == 0)
      return &m->proj[i];
  return NULL;
}

size_t plx_model_weight_count(const plx_model *m)
{
  size_t i, n = 0;
  for (i = 0; i < m->n_proj; i++)
    n += m->proj[i].n_post * m->proj[i].n_pre;
  return n;
}

void plx_model_get_weights(const plx_model *m, double *buf)
{
  size_t i, j;
  for (i = 0; i < m->n_proj; i++) {
    const plx_projection *p = &m->proj[i];
    for (j = 0; j < p->n_pre; j++) {
      memcpy(buf, p->w + j * p->ld, p->n_post * sizeof *buf);
      buf += p->n_post;
    }
  }
}

void plx_model_set_weights(plx_model *m, const double *buf)
{
  size_t i, j;
  m->drive_ready = 0; /* a current a rule accumulated is stale now */
  for (i = 0; i < m->n_proj; i++) {
    plx_projection *p = &m->proj[i];
    for (j = 0; j < p->n_pre; j++) {
      memcpy(p->w + j * p->ld, buf, p->n_post * sizeof *buf);
      buf += p->n_post;
    }
  }
}

void plx_init_fill(const plx_params *init, double *w, size_t n_post,
                   size_t n_pre, size_t ld, plx_rng *rng)
{
  const char *dist = plx_params_string(init, "dist");
  const char *fan = plx_params_string(init, "fan");
  double a = plx_params_float(init, "scale");
  size_t i, j;
  if (strcmp(fan, "sqrt") == 0)
    a /= sqrt((double)n_pre);
  else if (strcmp(fan, "linear") == 0)
    a /= (double)n_pre;
  /* row-major draw order (w[i][j], j fastest) as numpy fills a matrix */
  for (i = 0; i < n_post; i++)
    for (j = 0; j < n_pre; j++) {
      double v;
      if (strcmp(dist, "uniform") == 0)
        v = -a + 2.0 * a * plx_rng_uniform(rng);
      else if (strcmp(dist, "normal") == 0)
        v = a * plx_rng_normal(rng);
      else
        v = a;
      w[i + j * ld] = v;
    }
}
