/* oja.c -- an out-of-tree example rule: Oja's rule with an optional reward
 * gate, for any non-readout projection of any model:
 *
 *   w <- w + eta [g (post pre^T - post^2 .* w) - k w]
 *
 * where post^2 .* w scales row i of w by post_i^2 (the term that keeps each
 * row's norm bounded), g = 1 with gate = "none" (plain Oja), or with
 * gate = "reward" the task reward minus a running baseline
 *
 *   g = r - rbar,   rbar <- rbar + baseline_rate (r - rbar)
 *
 * (rbar starts at the trial's first reward; baseline_rate = 0 uses the raw
 * reward).  eta and k are set per projection; pre = 1 for a bias.  With a
 * batch of B independent trials each column has its own gate and baseline
 * and the update is the mean over columns, all computed from the weights
 * as they were at the start of the step.  Weights change only when
 * sig->learn is set; the baseline runs during warm-up too.
 *
 * It is the worked example of doc/plugin-guide.md: it includes nothing of
 * plastix but the installed <plastix/rule.h> and builds with
 *
 *   cc -shared -fPIC -O2 $(pkg-config --cflags plastix) oja.c \
 *      $(pkg-config --libs plastix) -o oja.so
 *
 * Config:
 *
 *   rule = { name = "oja"; gate = "none";
 *            projections = { W = { eta = 1e-8; decay = 0.0; }; }; };
 */
#include <plastix/rule.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct oja_proj {
  int on;
  double eta, decay;
} oja_proj;

typedef struct oja_state {
  size_t n, max_batch;
  int gated;            /* gate = "reward"                          */
  double baseline_rate; /* 0: g = raw reward                        */
  double *baseline;     /* [max_batch] running reward per column     */
  int baseline_ready;   /* baseline holds this trial's rewards       */
  double *gate;         /* [max_batch] g per column, this step       */
  double *sq;           /* [max n_post] (1/B) sum_b g_b post_b,i^2   */
  oja_proj *p;          /* [n], parallel to the model's projections  */
} oja_state;

static const plx_param_spec proj_spec[] = {
    PLX_P_FLOAT_MIN("eta", 0.0, 0.0, 0, "learning rate per Euler step"),
    PLX_P_FLOAT_MIN("decay", 0.0, 0.0, 0, "weight decay k"),
    PLX_P_END};

static const plx_param_spec oja_spec[] = {
    PLX_P_STRING("gate", "none", "none|reward",
                 "g in eta[g(post pre^T - post^2 w) - k w]: 1, or reward - baseline"),
    PLX_P_FLOAT_RANGE("baseline_rate", 0.01, 0.0, 1.0, 0,
                      "rate of the running reward baseline of gate = \"reward\" "
                      "(0: none)"),
    PLX_P_MAP("projections", proj_spec,
              "trained projections by name: { eta; decay; } (others frozen; "
              "not the readout)"),
    PLX_P_END};

static void oja_free(void *vs)
{
  oja_state *s = vs;
  if (!s)
    return;
  free(s->p);
  free(s->baseline);
  free(s->gate);
  free(s->sq);
  free(s);
}

/* "W, C, b, D" into buf, for error messages. */
static void proj_names(const plx_projection *proj, size_t n, char *buf,
                       size_t size)
{
  size_t j, len = 0;
  buf[0] = '\0';
  for (j = 0; j < n && len < size; j++) {
    int k = snprintf(buf + len, size - len, "%s%s", j ? ", " : "", proj[j].name);
    if (k < 0)
      break;
    len += (size_t)k;
  }
}

static int oja_init(void **out, plx_projection *proj, size_t n,
                    size_t max_batch, const plx_params *p, plx_error *err)
{
  const plx_params *map = plx_params_group(p, "projections");
  oja_state *s;
  size_t i, k, max_post = 1;
  *out = NULL;

  /* semantic checks the spec table cannot express (types, ranges and the
   * gate's choices were validated by the core before init runs) */
  if (plx_params_count(map) == 0)
    return plx_params_error(p, "projections", err,
                            "no projections to train (projections = "
                            "{ W = { eta = 1e-8; }; })");
  if (strcmp(plx_params_string(p, "gate"), "reward") != 0 &&
      plx_params_has(p, "baseline_rate"))
    return plx_params_error(p, "baseline_rate", err,
                            "only used with gate = \"reward\"");

  if (max_batch == 0)
    max_batch = 1;
  s = calloc(1, sizeof *s);
  if (!s || !(s->p = calloc(n ? n : 1, sizeof *s->p)) ||
      !(s->baseline = calloc(max_batch, sizeof *s->baseline)) ||
      !(s->gate = calloc(max_batch, sizeof *s->gate))) {
    oja_free(s);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  s->n = n;
  s->max_batch = max_batch;
  s->gated = strcmp(plx_params_string(p, "gate"), "reward") == 0;
  s->baseline_rate = plx_params_float(p, "baseline_rate");

  for (k = 0; k < plx_params_count(map); k++) {
    const char *name = plx_params_key(map, k);
    const plx_params *pp = plx_params_at(map, k);
    for (i = 0; i < n; i++)
      if (strcmp(proj[i].name, name) == 0)
        break;
    if (i == n) {
      char names[256];
      proj_names(proj, n, names, sizeof names);
      oja_free(s);
      return plx_params_error(map, name, err,
                              "the model has no projection '%s' (it has: %s)",
                              name, names);
    }
    if (proj[i].flags & PLX_PROJ_READOUT) {
      oja_free(s);
      return plx_params_error(map, name, err,
                              "'%s' is the readout; oja trains only "
                              "non-readout projections",
                              name);
    }
    s->p[i].on = 1;
    s->p[i].eta = plx_params_float(pp, "eta");
    s->p[i].decay = plx_params_float(pp, "decay");
    if (proj[i].n_post > max_post)
      max_post = proj[i].n_post;
    proj[i].flags |= PLX_PROJ_PLASTIC;
  }
  /* apply must not allocate: its scratch is sized here */
  if (!(s->sq = calloc(max_post, sizeof *s->sq))) {
    oja_free(s);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  *out = s;
  return PLX_OK;
}

/* One projection: w += eta [(1/B) sum_b g_b (post_b pre_b^T - post_b^2 .* w)
 * - k w], every term from the weights as they were on entry. */
static void oja_update(plx_projection *pr, const oja_proj *op, double *sq,
                       const double *g, size_t B, double lr_scale)
{
  const size_t np = pr->n_post, nq = pr->n_pre, ld = pr->ld;
  const double inv_b = 1.0 / (double)B;
  const double eta = op->eta * lr_scale, ek = eta * op->decay;
  size_t i, j, b;
  for (i = 0; i < np; i++) {
    double acc = 0.0;
    for (b = 0; b < B; b++) {
      const double y = pr->post[b * np + i];
      acc += g[b] * y * y;
    }
    sq[i] = acc * inv_b;
  }
  for (j = 0; j < nq; j++) {
    double *w = pr->w + j * ld;
    for (i = 0; i < np; i++) {
      double hebb = 0.0;
      for (b = 0; b < B; b++)
        hebb += g[b] * pr->post[b * np + i] * (pr->pre ? pr->pre[b * nq + j] : 1.0);
      w[i] += eta * (hebb * inv_b - sq[i] * w[i]) - ek * w[i];
    }
  }
}

static int oja_apply(void *vs, plx_projection *proj, size_t n,
                     const plx_signal *sig)
{
  oja_state *s = vs;
  const size_t B = sig->batch;
  size_t i, b;
  if (B == 0 || B > s->max_batch || n != s->n)
    return PLX_EINVAL;
  if (s->gated) {
    if (!sig->reward)
      return PLX_EINVAL; /* this task gives no reward: use gate = "none" */
    for (b = 0; b < B; b++) {
      const double r = sig->reward[b];
      if (s->baseline_rate > 0) {
        if (!s->baseline_ready)
          s->baseline[b] = r;
        s->gate[b] = r - s->baseline[b];
        s->baseline[b] += s->baseline_rate * (r - s->baseline[b]);
      } else {
        s->gate[b] = r;
      }
    }
    s->baseline_ready = 1;
  } else {
    for (b = 0; b < B; b++)
      s->gate[b] = 1.0;
  }
  if (!sig->learn)
    return PLX_OK; /* warm-up: the baseline ran, the weights stay */
  for (i = 0; i < n; i++)
    if (s->p[i].on)
      oja_update(&proj[i], &s->p[i], s->sq, s->gate, B, sig->lr_scale);
  return PLX_OK;
}

/* New trial: the reward baseline restarts from the trial's first reward. */
static void oja_reset(void *vs)
{
  oja_state *s = vs;
  if (!s)
    return;
  memset(s->baseline, 0, s->max_batch * sizeof *s->baseline);
  s->baseline_ready = 0;
}

/* Designated initializers: fields added to plx_rule_type in later versions
 * of the header start out zero (NULL) here without a source change. */
static const plx_rule_type oja_rule = {
    .abi_version = PLX_RULE_ABI_VERSION,
    .name = "oja",
    .summary = "Oja's rule eta[g(post pre^T - post^2 w) - k w], "
               "g = 1 or reward - baseline",
    .needs = 0, /* the reward is read only with gate = "reward" (see apply) */
    .params = oja_spec,
    .init = oja_init,
    .apply = oja_apply,
    .reset = oja_reset,
    .free = oja_free};

PLX_RULE_EXPORT(oja_rule);
