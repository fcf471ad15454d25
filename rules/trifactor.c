/* trifactor.c -- reward-modulated Hebbian (tri-factor) rule of Bredenberg,
 * Simoncelli & Savin (2020), as their code runs it:
 *
 *   A   <- (1 - theta) A + theta post pre^T          (every step, warm-up too)
 *   w   <- w + eta [alpha (post pre^T - A) - k w]    (after warm-up)
 *
 * for every plastic projection (pre = 1 for a bias), alpha the task reward
 * (no baseline unless reward_baseline > 0), and for the readout the delta
 * rule  D <- D + eta [-dL/dz pre^T - k D].  With a batch of B independent
 * trials each column keeps its own running average and the update is the
 * batch mean.  With batch 1 the learning pass also sums the model's next
 * input current (plx_signal.drive), so the weights are read once per step.
 * Built into libplastix and also as a loadable module. */
#include "plastix/rule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct tf_proj {
  int on, readout;
  double eta, decay;
  double *avg;     /* n_post × n_pre × max_batch */
  size_t avg_size; /* elements of avg            */
} tf_proj;

typedef struct tf_state {
  size_t n, max_batch;
  int fusable; /* drive_fusable() of the projections */
  double theta, baseline_rate;
  double *baseline; /* [max_batch] running reward per column */
  int baseline_ready;
  tf_proj *p;
  void (*hebb)(const struct plx_projection *, struct tf_proj *, size_t, double,
               double, double, double, int);
  void (*hebb_drive)(const struct plx_projection *, struct tf_proj *, double,
                     double, double, double, double *);
} tf_state;

static const plx_param_spec proj_spec[] = {
    PLX_P_FLOAT_MIN("eta", 0.0, 0.0, 0, "learning rate per Euler step"),
    PLX_P_FLOAT_MIN("decay", 0.0, 0.0, 0, "weight decay k"),
    PLX_P_END};

static const plx_param_spec tf_spec[] = {
    PLX_P_FLOAT_RANGE("average_rate", 0.0015, 0.0, 1.0, PLX_PARAM_MIN_EXCL,
                      "rate theta of the running averages <post pre^T>"),
    PLX_P_FLOAT_RANGE("reward_baseline", 0.0, 0.0, 1.0, 0,
                      "rate of a running reward baseline subtracted from "
                      "alpha (0: none, as in the paper)"),
    PLX_P_MAP("projections", proj_spec,
              "plastic projections by name: { eta; decay; } (others frozen)"),
    PLX_P_END};

typedef void hebbian_fn(const plx_projection *, tf_proj *, size_t, double, double,
                        double, double, int);
typedef void hebbian_drive_fn(const plx_projection *, tf_proj *, double, double,
                              double, double, double *);
static hebbian_fn *pick_hebbian(void);
static hebbian_drive_fn *pick_hebbian_drive(void);
static int drive_fusable(const tf_state *s, const plx_projection *proj, size_t n);

static void tf_free(void *vs)
{
  tf_state *s = vs;
  size_t i;
  if (!s)
    return;
  if (s->p)
    for (i = 0; i < s->n; i++)
      free(s->p[i].avg);
  free(s->p);
  free(s->baseline);
  free(s);
}

static int tf_init(void **out, plx_projection *proj, size_t n,
                   size_t max_batch, const plx_params *p, plx_error *err)
{
  const plx_params *map = plx_params_group(p, "projections");
  tf_state *s = calloc(1, sizeof *s);
  size_t i, k;
  *out = NULL;
  if (!s || !(s->p = calloc(n, sizeof *s->p)) ||
      !(s->baseline = calloc(max_batch, sizeof *s->baseline))) {
    tf_free(s);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  s->n = n;
  s->max_batch = max_batch;
  s->hebb = pick_hebbian();
  s->hebb_drive = pick_hebbian_drive();
  s->theta = plx_params_float(p, "average_rate");
  s->baseline_rate = plx_params_float(p, "reward_baseline");
  for (k = 0; k < plx_params_count(map); k++) {
    const char *name = plx_params_key(map, k);
    const plx_params *pp = plx_params_at(map, k);
    for (i = 0; i < n; i++)
      if (strcmp(proj[i].name, name) == 0)
        break;
    if (i == n) {
      char names[256];
      size_t j, len = 0;
      names[0] = '\0';
      for (j = 0; j < n && len < sizeof names; j++)
        len += (size_t)snprintf(names + len, sizeof names - len, "%s%s",
                                j ? ", " : "", proj[j].name);
      tf_free(s);
      return plx_params_error(map, name, err,
                              "the model has no projection '%s' (it has: %s)",
                              name, names);
    }
    s->p[i].on = 1;
    s->p[i].readout = !!(proj[i].flags & PLX_PROJ_READOUT);
    s->p[i].eta = plx_params_float(pp, "eta");
    s->p[i].decay = plx_params_float(pp, "decay");
    proj[i].flags |= PLX_PROJ_PLASTIC;
    if (!s->p[i].readout) {
      s->p[i].avg_size = proj[i].n_post * proj[i].n_pre * max_batch;
      s->p[i].avg = calloc(s->p[i].avg_size, sizeof(double));
      if (!s->p[i].avg) {
        tf_free(s);
        return plx_error_set(err, PLX_ENOMEM, "out of memory");
      }
    }
  }
  s->fusable = drive_fusable(s, proj, n);
  *out = s;
  return 0;
}

/* The learning step of one weight and its running average, element i of
 * column q (pre p##q, average a##q, weights w##q); keep = 1 - theta,
 * ea = eta alpha / B, ek = eta k.  Written once: the plain and the fused
 * passes below must round alike (the fused pass's current is checked bit
 * for bit against the model's own). */
#define TF_LEARN(q)                                            \
  do {                                                         \
    const double c = post[i] * p##q;                           \
    const double ai = keep * a##q[i] + theta * c;              \
    a##q[i] = ai;                                              \
    w##q[i] += ea * (c - ai) - ek * w##q[i];                   \
  } while (0)

/* Running average and Hebbian update of one projection, column b.  The
 * body is instantiated for AVX2+FMA and for baseline x86-64; the version
 * the CPU supports is chosen on first use. */
static inline __attribute__((always_inline)) void hebbian_body(const plx_projection *pr, tf_proj *tp, size_t b,
                    double theta, double alpha, double eta_b, double ek,
                    int learn)
{
  const size_t np = pr->n_post, nq = pr->n_pre, ld = pr->ld;
  const double *post = pr->post + b * np;
  const double *pre = pr->pre ? pr->pre + b * nq : NULL;
  double *avg = tp->avg + b * np * nq;
  const double keep = 1.0 - theta;
  size_t i, j;
  for (j = 0; j < nq; j++) {
    const double p0 = pre ? pre[j] : 1.0;
    double *a0 = avg + j * np;
    double *w0 = pr->w + j * ld;
    if (learn) {
      const double ea = eta_b * alpha;
      for (i = 0; i < np; i++)
        TF_LEARN(0);
    } else {
      for (i = 0; i < np; i++)
        a0[i] = keep * a0[i] + theta * post[i] * p0;
    }
  }
}

/* The learning pass of one projection with batch 1, fused with the model's
 * next input current (plx_signal.drive): h = b_new for the bias, then
 * h += w_new pre column by column, four columns per sweep with h held in
 * registers -- the same multiply-adds in the same order as the model's own
 * gemv, so the current is bit for bit what the model would compute, while
 * the weights are read once per step instead of twice.  The update itself
 * is hebbian_body's, term for term. */

/* Four columns (pre p0..p3) in one sweep over the post units.  Every
 * column is its own restrict pointer: with one base and a run-time stride
 * GCC cannot prove the columns apart and does not vectorise. */
static inline __attribute__((always_inline)) void
learn4_drive(size_t np, const double *restrict post, double p0, double p1,
             double p2, double p3, double *restrict a0, double *restrict a1,
             double *restrict a2, double *restrict a3, double *restrict w0,
             double *restrict w1, double *restrict w2, double *restrict w3,
             double keep, double theta, double ea, double ek,
             double *restrict h)
{
  size_t i;
  for (i = 0; i < np; i++) {
    double hi = h[i];
    TF_LEARN(0);
    hi += w0[i] * p0;
    TF_LEARN(1);
    hi += w1[i] * p1;
    TF_LEARN(2);
    hi += w2[i] * p2;
    TF_LEARN(3);
    hi += w3[i] * p3;
    h[i] = hi;
  }
}

static inline __attribute__((always_inline)) void
hebbian_drive_body(const plx_projection *pr, tf_proj *tp, double theta,
                   double alpha, double eta_b, double ek, double *restrict h)
{
  const size_t np = pr->n_post, nq = pr->n_pre, ld = pr->ld;
  const double *restrict post = pr->post;
  const double *pre = pr->pre;
  const double keep = 1.0 - theta, ea = eta_b * alpha;
  size_t i, j = 0;
  if (!pre) { /* a bias: the current starts from it */
    double *restrict a0 = tp->avg, *restrict w0 = pr->w;
    const double p0 = 1.0;
    for (i = 0; i < np; i++) {
      TF_LEARN(0);
      h[i] = w0[i];
    }
    return;
  }
  for (; j + 4 <= nq; j += 4) {
    double *a = tp->avg + j * np, *w = pr->w + j * ld;
    learn4_drive(np, post, pre[j], pre[j + 1], pre[j + 2], pre[j + 3], a,
                 a + np, a + 2 * np, a + 3 * np, w, w + ld, w + 2 * ld,
                 w + 3 * ld, keep, theta, ea, ek, h);
  }
  for (; j < nq; j++) {
    const double p0 = pre[j];
    double *restrict a0 = tp->avg + j * np, *restrict w0 = pr->w + j * ld;
    for (i = 0; i < np; i++) {
      TF_LEARN(0);
      h[i] += w0[i] * p0;
    }
  }
}
#undef TF_LEARN

static void hebbian_drive_base(const plx_projection *pr, tf_proj *tp,
                               double theta, double alpha, double eta_b,
                               double ek, double *h)
{
  hebbian_drive_body(pr, tp, theta, alpha, eta_b, ek, h);
}

/* w -= ek w, written as the reference does (w + eta(... - k w)). */
static void hebbian_base(const plx_projection *pr, tf_proj *tp, size_t b, double theta,
                         double alpha, double eta_b, double ek, int learn)
{
  hebbian_body(pr, tp, b, theta, alpha, eta_b, ek, learn);
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__)
static __attribute__((target("avx2,fma"))) void
hebbian_avx2(const plx_projection *pr, tf_proj *tp, size_t b, double theta,
             double alpha, double eta_b, double ek, int learn)
{
  hebbian_body(pr, tp, b, theta, alpha, eta_b, ek, learn);
}

static __attribute__((target("avx2,fma"))) void
hebbian_drive_avx2(const plx_projection *pr, tf_proj *tp, double theta,
                   double alpha, double eta_b, double ek, double *h)
{
  hebbian_drive_body(pr, tp, theta, alpha, eta_b, ek, h);
}

static int cpu_has_avx2_fma(void)
{
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

static hebbian_fn *pick_hebbian(void)
{
  return cpu_has_avx2_fma() ? hebbian_avx2 : hebbian_base;
}

static hebbian_drive_fn *pick_hebbian_drive(void)
{
  return cpu_has_avx2_fma() ? hebbian_drive_avx2 : hebbian_drive_base;
}
#else
static hebbian_fn *pick_hebbian(void) { return hebbian_base; }
static hebbian_drive_fn *pick_hebbian_drive(void) { return hebbian_drive_base; }
#endif

/* One readout unit's weights w[j * ld], j < nq: decay (ek > 0) and the
 * delta rule's step -f pre_j. */
static void readout_column(double *restrict w, size_t ld,
                           const double *restrict pre, size_t nq, double f,
                           double ek)
{
  size_t j;
  if (ld == 1 && ek > 0) {
    for (j = 0; j < nq; j++) {
      const double t = w[j] - ek * w[j];
      w[j] = t - f * pre[j];
    }
  } else if (ld == 1) {
    for (j = 0; j < nq; j++)
      w[j] -= f * pre[j];
  } else {
    for (j = 0; j < nq; j++) {
      double t = w[j * ld];
      if (ek > 0)
        t -= ek * t;
      w[j * ld] = t - f * pre[j];
    }
  }
}

/* Whether the update can also sum the model's next input current (fixed
 * by the projections, so decided once in init): every projection in the
 * current is trained here, with exactly one bias among them (it starts
 * the sum). */
static int drive_fusable(const tf_state *s, const plx_projection *proj, size_t n)
{
  size_t i, n_bias = 0, n_drive = 0;
  for (i = 0; i < n; i++)
    if (proj[i].flags & PLX_PROJ_DRIVE) {
      if (!s->p[i].on || s->p[i].readout)
        return 0;
      n_drive++;
      n_bias += !!(proj[i].flags & PLX_PROJ_BIAS);
    }
  return n_drive > 0 && n_bias == 1;
}

static int tf_apply(void *vs, plx_projection *proj, size_t n,
                    const plx_signal *sig)
{
  tf_state *s = vs;
  const size_t B = sig->batch;
  const double inv_b = 1.0 / (double)B;
  size_t i, b;
  int fused;
  double alpha[256];
  double *al = B <= 256 ? alpha : NULL;
  if (!al || !sig->reward)
    return PLX_EINVAL;
  for (b = 0; b < B; b++) {
    al[b] = sig->reward[b];
    if (s->baseline_rate > 0) {
      if (!s->baseline_ready)
        s->baseline[b] = al[b];
      al[b] -= s->baseline[b];
      s->baseline[b] += s->baseline_rate * (sig->reward[b] - s->baseline[b]);
    }
  }
  s->baseline_ready = 1;
  /* and this step: batch 1, a learning step, a current offered */
  fused = s->fusable && sig->drive && sig->drive_ready && B == 1 && sig->learn;
  if (fused) {
    /* the bias first (it starts the current), then projection order */
    size_t pass;
    for (pass = 0; pass < 2; pass++)
      for (i = 0; i < n; i++)
        if ((proj[i].flags & PLX_PROJ_DRIVE) &&
            !!(proj[i].flags & PLX_PROJ_BIAS) == (pass == 0)) {
          const double eta = s->p[i].eta * sig->lr_scale;
          s->hebb_drive(&proj[i], &s->p[i], s->theta, al[0], eta,
                        eta * s->p[i].decay, sig->drive);
        }
    *sig->drive_ready = 1;
  }
  for (i = 0; i < n; i++) {
    plx_projection *pr = &proj[i];
    tf_proj *tp = &s->p[i];
    const double eta = tp->eta * sig->lr_scale;
    if (!tp->on || (fused && (pr->flags & PLX_PROJ_DRIVE)))
      continue;
    if (tp->readout) {
      /* delta rule: D += eta [-(1/B) sum_b g_b pre_b^T - k D] */
      const size_t np = pr->n_post, nq = pr->n_pre;
      size_t o;
      if (!sig->learn)
        continue;
      if (!sig->dl_dout)
        return PLX_EINVAL;
      /* the decay is folded into the first column's pass: per weight the
       * same two steps, w - ek w and then - f_o pre_j, in one sweep */
      for (b = 0; b < B; b++) {
        const double *g = sig->dl_dout + b * np;
        const double ek = b == 0 ? eta * tp->decay : 0.0;
        for (o = 0; o < np; o++)
          readout_column(pr->w + o, pr->ld, pr->pre + b * nq, nq,
                         eta * inv_b * g[o], ek);
      }
      continue;
    }
    /* decay k w once per step, fused into the first column's pass */
    for (b = 0; b < B; b++)
      s->hebb(pr, tp, b, s->theta, al[b], eta * inv_b,
              b == 0 ? eta * tp->decay : 0.0, sig->learn);
  }
  return 0;
}

/* New trial: running averages and the reward baseline start from zero. */
static void tf_reset(void *vs)
{
  tf_state *s = vs;
  size_t i;
  for (i = 0; i < s->n; i++)
    if (s->p[i].avg)
      memset(s->p[i].avg, 0, s->p[i].avg_size * sizeof(double));
  s->baseline_ready = 0;
}

#ifdef PLX_RULE_MODULE
static
#endif
const plx_rule_type plx_rule_trifactor = {
    PLX_RULE_ABI_VERSION,
    "trifactor",
    "reward-modulated Hebbian rule: eta[alpha(post pre^T - <post pre^T>) - k w]",
    PLX_NEEDS_REWARD | PLX_NEEDS_OUTPUT_GRAD,
    tf_spec,
    tf_init,
    tf_apply,
    tf_reset,
    tf_free,
    NULL};

#ifdef PLX_RULE_MODULE
PLX_RULE_EXPORT(plx_rule_trifactor);
#endif
