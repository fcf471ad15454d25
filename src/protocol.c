/* protocol.c -- frozen test protocols (grid-held angles; prior-distributed
 * angles) reduced to sufficient statistics.  Trials are grouped in chunks of
 * test.batch columns (a fixed size, never the thread count); chunks run in
 * parallel and are merged in chunk order. */
#include "config.h"
#include "plastix/protocol.h"
#include "plastix/blas_threads.h"
#include "plastix/error.h"
#include "plastix/parallel.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static double *zalloc(size_t n) { return calloc(n ? n : 1, sizeof(double)); }

void plx_grid_stats_release(plx_grid_stats *st)
{
  if (!st)
    return;
  free(st->theta);
  free(st->count);
  free(st->sum_r);
  free(st->sum_rr);
  free(st->sum_o);
  free(st->sum_oo);
  free(st->sum_err);
  free(st->sum_err2);
  free(st->sum_energy);
  free(st->sum_energy2);
  free(st->sum_energy_exact);
  free(st->sum_energy_exact2);
  free(st->sum_abs_rec);
  free(st->sum_abs_in);
  free(st->ex_t);
  free(st->ex_theta);
  free(st->ex_out);
  free(st->seg_g);
  free(st->seg_o);
  free(st->seg_rate);
  free(st->seg_err);
  free(st->seg_energy);
  free(st->act_t);
  free(st->act_theta);
  free(st->act_r);
  free(st->act_o);
  memset(st, 0, sizeof *st);
}

static int seg_reserve(plx_grid_stats *st, size_t cap)
{
  long *g;
  double *a;
  if (cap <= st->cap_seg)
    return PLX_OK;
  if (!(g = realloc(st->seg_g, cap * sizeof *g))) return PLX_ENOMEM;
  st->seg_g = g;
  if (!(a = realloc(st->seg_o, cap * st->n_out * sizeof *a))) return PLX_ENOMEM;
  st->seg_o = a;
  if (!(a = realloc(st->seg_rate, cap * sizeof *a))) return PLX_ENOMEM;
  st->seg_rate = a;
  if (!(a = realloc(st->seg_err, cap * sizeof *a))) return PLX_ENOMEM;
  st->seg_err = a;
  if (!(a = realloc(st->seg_energy, cap * sizeof *a))) return PLX_ENOMEM;
  st->seg_energy = a;
  st->cap_seg = cap;
  return PLX_OK;
}

/* Append segment rows of src to dst (in order). */
static int seg_append(plx_grid_stats *dst, const plx_grid_stats *src)
{
  size_t n = dst->n_seg, k = src->n_seg, no = dst->n_out;
  if (n + k > dst->cap_seg &&
      seg_reserve(dst, n + k > 2 * dst->cap_seg ? n + k + 16 : 2 * dst->cap_seg))
    return PLX_ENOMEM;
  memcpy(dst->seg_g + n, src->seg_g, k * sizeof *src->seg_g);
  memcpy(dst->seg_o + n * no, src->seg_o, k * no * sizeof(double));
  memcpy(dst->seg_rate + n, src->seg_rate, k * sizeof(double));
  memcpy(dst->seg_err + n, src->seg_err, k * sizeof(double));
  memcpy(dst->seg_energy + n, src->seg_energy, k * sizeof(double));
  dst->n_seg = n + k;
  return PLX_OK;
}

static int grid_alloc(plx_grid_stats *st, size_t G, size_t N, size_t no,
                      size_t ni, size_t ex_cap)
{
  memset(st, 0, sizeof *st);
  st->G = G;
  st->N = N;
  st->n_out = no;
  st->n_in = ni;
  st->theta = zalloc(G);
  st->count = zalloc(G);
  st->sum_r = zalloc(N * G);
  st->sum_rr = zalloc(N * N * G);
  st->sum_o = zalloc(no * G);
  st->sum_oo = zalloc(no * no * G);
  st->sum_err = zalloc(G);
  st->sum_err2 = zalloc(G);
  st->sum_energy = zalloc(G);
  st->sum_energy2 = zalloc(G);
  st->sum_energy_exact = zalloc(G);
  st->sum_energy_exact2 = zalloc(G);
  st->sum_abs_rec = zalloc(G);
  st->sum_abs_in = zalloc(G);
  st->ex_t = zalloc(ex_cap);
  st->ex_theta = zalloc(ex_cap);
  st->ex_out = zalloc(no * ex_cap);
  if (!st->theta || !st->count || !st->sum_r || !st->sum_rr || !st->sum_o ||
      !st->sum_oo || !st->sum_err || !st->sum_err2 || !st->sum_energy ||
      !st->sum_energy2 || !st->sum_energy_exact || !st->sum_energy_exact2 ||
      !st->sum_abs_rec || !st->sum_abs_in || !st->ex_t || !st->ex_theta ||
      !st->ex_out) {
    plx_grid_stats_release(st);
    return PLX_ENOMEM;
  }
  return PLX_OK;
}

static void grid_zero(plx_grid_stats *st)
{
  size_t G = st->G, N = st->N, no = st->n_out;
  memset(st->count, 0, G * sizeof(double));
  memset(st->sum_r, 0, N * G * sizeof(double));
  memset(st->sum_rr, 0, N * N * G * sizeof(double));
  memset(st->sum_o, 0, no * G * sizeof(double));
  memset(st->sum_oo, 0, no * no * G * sizeof(double));
  memset(st->sum_err, 0, G * sizeof(double));
  memset(st->sum_err2, 0, G * sizeof(double));
  memset(st->sum_energy, 0, G * sizeof(double));
  memset(st->sum_energy2, 0, G * sizeof(double));
  memset(st->sum_energy_exact, 0, G * sizeof(double));
  memset(st->sum_energy_exact2, 0, G * sizeof(double));
  memset(st->sum_abs_rec, 0, G * sizeof(double));
  memset(st->sum_abs_in, 0, G * sizeof(double));
  st->ex_n = 0;
  st->n_seg = 0;
}

static void add_into(double *dst, const double *src, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    dst[i] += src[i];
}

static void grid_merge(plx_grid_stats *dst, const plx_grid_stats *src)
{
  size_t G = dst->G, N = dst->N, no = dst->n_out;
  add_into(dst->count, src->count, G);
  add_into(dst->sum_r, src->sum_r, N * G);
  add_into(dst->sum_rr, src->sum_rr, N * N * G);
  add_into(dst->sum_o, src->sum_o, no * G);
  add_into(dst->sum_oo, src->sum_oo, no * no * G);
  add_into(dst->sum_err, src->sum_err, G);
  add_into(dst->sum_err2, src->sum_err2, G);
  add_into(dst->sum_energy, src->sum_energy, G);
  add_into(dst->sum_energy2, src->sum_energy2, G);
  add_into(dst->sum_energy_exact, src->sum_energy_exact, G);
  add_into(dst->sum_energy_exact2, src->sum_energy_exact2, G);
  add_into(dst->sum_abs_rec, src->sum_abs_rec, G);
  add_into(dst->sum_abs_in, src->sum_abs_in, G);
}

/* Per-thread working set. */
typedef struct worker {
  plx_model *m;
  plx_rng **stim, **net; /* one per batch column */
  double *x;             /* n_in × B                      */
  double *y;             /* n_out                         */
  double *wr, *cs;       /* N, N workspaces               */
  double *theta;         /* [B] current angles            */
  long *gidx;            /* B × k grid indices            */
  double *terr;          /* [B] per-trial error sums      */
  double *tcnt;          /* [B] per-trial sample counts   */
  double *sacc;          /* B × (n_out + 4) segment sums: o, rate, err, energy, count */
  plx_grid_stats gs;
  plx_prior_stats ps;
} worker;

static void worker_free(worker *w, size_t B)
{
  size_t b;
  if (!w)
    return;
  plx_model_free(w->m);
  for (b = 0; b < B; b++) {
    if (w->stim) plx_rng_free(w->stim[b]);
    if (w->net) plx_rng_free(w->net[b]);
  }
  free(w->stim);
  free(w->net);
  free(w->x);
  free(w->y);
  free(w->wr);
  free(w->cs);
  free(w->theta);
  free(w->gidx);
  free(w->terr);
  free(w->tcnt);
  free(w->sacc);
  plx_grid_stats_release(&w->gs);
  plx_prior_stats_release(&w->ps);
}

static int worker_init(worker *w, plx_experiment *e, size_t B, size_t k,
                       plx_error *err)
{
  size_t b, N;
  int rc;
  memset(w, 0, sizeof *w);
  if ((rc = plx_model_clone(e->model, B, &w->m, err)))
    return rc;
  N = w->m->n_hidden;
  w->stim = calloc(B, sizeof *w->stim);
  w->net = calloc(B, sizeof *w->net);
  w->x = zalloc(e->encoder.n * B);
  w->y = zalloc(e->task.n_out);
  w->wr = zalloc(N);
  w->cs = zalloc(N);
  w->theta = zalloc(B);
  w->gidx = calloc(B * (k ? k : 1), sizeof *w->gidx);
  w->terr = zalloc(B);
  w->tcnt = zalloc(B);
  w->sacc = zalloc(B * (e->task.n_out + 4));
  if (!w->sacc || !w->stim || !w->net || !w->x || !w->y || !w->wr || !w->cs ||
      !w->theta || !w->gidx || !w->terr || !w->tcnt)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  for (b = 0; b < B; b++) {
    w->stim[b] = plx_rng_alloc(0, 0, 0);
    w->net[b] = plx_rng_alloc(0, 0, 0);
    if (!w->stim[b] || !w->net[b])
      return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  return PLX_OK;
}

/* ---------------------------------------------------------------- grid */

static void grid_sample(plx_experiment *e, worker *w, size_t b, double theta,
                        long g, unsigned long k, int example, long trial,
                        plx_grid_stats *shared)
{
  plx_grid_stats *st = &w->gs;
  const plx_model *m = w->m;
  const size_t N = st->N, no = st->n_out, ni = st->n_in;
  const double *r = m->hidden + b * N, *o = m->out + b * no;
  const double *x = m->input + b * ni;
  plx_projection *W = plx_model_projection(w->m, "W");
  plx_projection *C = plx_model_projection(w->m, "C");
  double er;
  size_t i, j;

  st->count[g] += 1;
  add_into(st->sum_r + g * N, r, N);
  cblas_dsyr(CblasColMajor, CblasUpper, (int)N, 1.0, r, 1,
             st->sum_rr + g * N * N, (int)N);
  for (i = 0; i < no; i++) {
    st->sum_o[i + g * no] += o[i];
    for (j = 0; j < no; j++)
      st->sum_oo[i + j * no + g * no * no] += o[i] * o[j];
  }
  plx_task_target(&e->task, theta, w->y);
  er = plx_task_error(&e->task, o, w->y);
  st->sum_err[g] += er;
  st->sum_err2[g] += er * er;
  {
    double *sa = w->sacc + b * (no + 4), rate = 0;
    for (i = 0; i < no; i++)
      sa[i] += o[i];
    for (i = 0; i < N; i++)
      rate += r[i];
    sa[no] += rate / (double)N;
    sa[no + 1] += er;
    sa[no + 3] += 1;
  }
  if (m->type->energy) {
    double en = m->type->energy(m, r, x, 0);
    w->sacc[b * (no + 4) + no + 2] += en;
    st->sum_energy[g] += en;
    st->sum_energy2[g] += en * en;
    if (e->test.energy_exact) {
      en = m->type->energy(m, r, x, 1);
      st->sum_energy_exact[g] += en;
      st->sum_energy_exact2[g] += en * en;
    }
    st->has_energy = 1;
  }
  if (W && C) {
    double sr = 0, sc = 0;
    cblas_dgemv(CblasColMajor, CblasNoTrans, (int)W->n_post, (int)W->n_pre,
                1.0, W->w, (int)W->ld, r, 1, 0.0, w->wr, 1);
    cblas_dgemv(CblasColMajor, CblasNoTrans, (int)C->n_post, (int)C->n_pre,
                1.0, C->w, (int)C->ld, x, 1, 0.0, w->cs, 1);
    for (i = 0; i < W->n_post; i++) {
      sr += fabs(w->wr[i]);
      sc += fabs(w->cs[i]);
    }
    st->sum_abs_rec[g] += sr / (double)W->n_post;
    st->sum_abs_in[g] += sc / (double)W->n_post;
  }
  if (trial < (long)shared->act_trials) {
    /* disjoint slot per (trial, sample): safe from any thread */
    size_t rec = (size_t)e->test.record_every;
    size_t slot = (size_t)trial * shared->act_per_trial + (k / rec - 1);
    if (k / rec - 1 < shared->act_per_trial) {
      shared->act_t[slot] = (double)k * m->dt;
      shared->act_theta[slot] = theta;
      memcpy(shared->act_r + slot * N, r, N * sizeof *r);
      memcpy(shared->act_o + slot * no, o, no * sizeof *o);
    }
  }
  if (example && st->ex_t) {
    size_t n = st->ex_n++;
    st->ex_t[n] = (double)k * m->dt;
    st->ex_theta[n] = theta;
    for (i = 0; i < no; i++)
      st->ex_out[i + n * no] = o[i];
  }
}

/* Close column b's current segment (angle g) into the segment table. */
static int seg_flush(worker *w, size_t b, long g)
{
  plx_grid_stats *st = &w->gs;
  const size_t no = st->n_out;
  double *sa = w->sacc + b * (no + 4), c = sa[no + 3];
  size_t i, n = st->n_seg;
  if (c > 0) {
    if (n == st->cap_seg && seg_reserve(st, 2 * st->cap_seg + 16))
      return PLX_ENOMEM;
    st->seg_g[n] = g;
    for (i = 0; i < no; i++)
      st->seg_o[i + n * no] = sa[i] / c;
    st->seg_rate[n] = sa[no] / c;
    st->seg_err[n] = sa[no + 1] / c;
    st->seg_energy[n] = st->has_energy ? sa[no + 2] / c : NAN;
    st->n_seg = n + 1;
  }
  memset(sa, 0, (no + 4) * sizeof *sa);
  return PLX_OK;
}

static int grid_chunk(plx_experiment *e, worker *w, long t0, size_t B,
                      unsigned long K, size_t spt, plx_grid_stats *shared,
                      plx_error *err)
{
  const plx_encoder *enc = &e->encoder;
  const size_t ni = enc->n, G = shared->G;
  const double *grid = shared->theta;
  const unsigned long L = K / spt;
  const long rec = e->test.record_every;
  size_t b, s;
  unsigned long k;
  int rc;

  for (b = 0; b < B; b++) {
    plx_rng_reseed(w->stim[b], e->seed, (uint64_t)(t0 + (long)b), PLX_POP_TEST_STIMULUS);
    plx_rng_reseed(w->net[b], e->seed, (uint64_t)(t0 + (long)b), PLX_POP_TEST_NETWORK);
    for (s = 0; s < spt; s++)
      w->gidx[b * spt + s] = (long)plx_rng_below(w->stim[b], G);
    w->theta[b] = grid[w->gidx[b * spt]];
    plx_encoder_encode(enc, w->theta[b], w->x + b * ni);
  }
  if ((rc = w->m->type->reset(w->m, w->x, B)))
    return plx_error_set(err, rc, "model reset failed");
  memset(w->sacc, 0, B * (e->task.n_out + 4) * sizeof *w->sacc);
  /* samples of column b are kept in column order within the chunk: flush
   * segments of all columns at each boundary, column by column */
  for (k = 1; k < K; k++) {
    size_t seg = (size_t)(k / L), prev = (size_t)((k - 1) / L);
    if (seg >= spt)
      seg = spt - 1;
    if (prev >= spt)
      prev = spt - 1;
    if (seg != prev)
      for (b = 0; b < B; b++)
        if (seg_flush(w, b, w->gidx[b * spt + prev]))
          return plx_error_set(err, PLX_ENOMEM, "out of memory");
    for (b = 0; b < B; b++) {
      double th = grid[w->gidx[b * spt + seg]];
      if (th != w->theta[b]) {
        w->theta[b] = th;
        plx_encoder_encode(enc, th, w->x + b * ni);
      }
    }
    if ((rc = w->m->type->step(w->m, w->x, w->net, err))) {
      char where[64];
      snprintf(where, sizeof where, "test trials %ld-%ld", t0, t0 + (long)B - 1);
      return rc == PLX_EDIVERGE ? plx_experiment_diverged(e, err, where, (double)k * w->m->dt) : rc;
    }
    if (k % (unsigned long)rec == 0)
      for (b = 0; b < B; b++)
        grid_sample(e, w, b, w->theta[b], w->gidx[b * spt + seg], k,
                    t0 == 0 && b == 0, t0 + (long)b, shared);
  }
  for (b = 0; b < B; b++)
    if (seg_flush(w, b, w->gidx[b * spt + spt - 1]))
      return plx_error_set(err, PLX_ENOMEM, "out of memory");
  return PLX_OK;
}

static int protocol_grid(plx_experiment *e, plx_grid_stats *st, int threads,
                         const plx_progress *prog, plx_error *err)
{
  const long T = e->test.trials;
  const size_t B = (size_t)(e->test.batch < T ? e->test.batch : (T > 0 ? T : 1));
  const size_t chunks = T > 0 ? (size_t)((T + (long)B - 1) / (long)B) : 0;
  const size_t spt = (size_t)e->test.stimuli_per_trial;
  const unsigned long K = plx_experiment_steps(e, e->test.duration);
  const size_t N = e->model->n_hidden, no = e->model->n_out, ni = e->encoder.n;
  const size_t G = e->test.angles > 0 ? (size_t)e->test.angles : e->encoder.n;
  const size_t ex_cap = K / (size_t)e->test.record_every + 1;
  int nt = plx_team_size(threads, chunks), fail = 0;
  worker *ws;
  plx_error first;
  size_t g;

  if (grid_alloc(st, G, N, no, ni, ex_cap))
    return plx_error_set(err, PLX_ENOMEM, "out of memory (test statistics)");
  for (g = 0; g < G; g++) /* the input population's preferred angles by default */
    st->theta[g] = -M_PI + 2.0 * M_PI * (double)g / (double)G;
  if (e->test.record_trials > 0) {
    size_t n;
    st->act_trials = (size_t)e->test.record_trials;
    st->act_per_trial = (K - 1) / (size_t)e->test.record_every;
    n = st->act_trials * st->act_per_trial;
    st->act_t = calloc(n ? n : 1, sizeof(double));
    st->act_theta = calloc(n ? n : 1, sizeof(double));
    st->act_r = calloc(n * N + 1, sizeof(double));
    st->act_o = calloc(n * no + 1, sizeof(double));
    if (!st->act_t || !st->act_theta || !st->act_r || !st->act_o) {
      plx_grid_stats_release(st);
      return plx_error_set(err, PLX_ENOMEM, "out of memory (test.record_trials = %ld)",
                           e->test.record_trials);
    }
  }
  ws = calloc((size_t)nt, sizeof *ws);
  if (!ws) {
    plx_grid_stats_release(st);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  plx_error_clear(&first);
  if (prog && prog->fn)
    prog->fn(prog->ctx, "test", 0.0);

#pragma omp parallel num_threads(nt)
  {
    int tid = 0;
    long c;
    worker *w;
    plx_error lerr;
    int rc;
#ifdef _OPENMP
    tid = omp_get_thread_num();
#endif
    w = &ws[tid];
    rc = worker_init(w, e, B, spt, &lerr);
    if (!rc && grid_alloc(&w->gs, G, N, no, ni, ex_cap))
      rc = plx_error_set(&lerr, PLX_ENOMEM, "out of memory");
#pragma omp for ordered schedule(static, 1)
    for (c = 0; c < (long)chunks; c++) {
      long t0 = c * (long)B;
      size_t nb = (size_t)((T - t0) < (long)B ? (T - t0) : (long)B);
      if (!rc) {
        grid_zero(&w->gs);
        rc = grid_chunk(e, w, t0, nb, K, spt, st, &lerr);
      }
#pragma omp ordered
      {
        if (rc && !fail) {
          fail = rc;
          first = lerr;
        } else if (!fail && seg_append(st, &w->gs)) {
          fail = PLX_ENOMEM;
          plx_error_set(&first, PLX_ENOMEM, "out of memory");
        } else if (!fail) {
          grid_merge(st, &w->gs);
          if (c == 0) {
            st->ex_n = w->gs.ex_n;
            memcpy(st->ex_t, w->gs.ex_t, w->gs.ex_n * sizeof(double));
            memcpy(st->ex_theta, w->gs.ex_theta, w->gs.ex_n * sizeof(double));
            memcpy(st->ex_out, w->gs.ex_out, w->gs.ex_n * no * sizeof(double));
          }
          st->has_energy |= w->gs.has_energy;
          if (prog && prog->fn)
            prog->fn(prog->ctx, "test", (double)(c + 1) / (double)chunks);
        }
      }
    }
  }
  for (g = 0; g < (size_t)nt; g++)
    worker_free(&ws[g], B);
  free(ws);
  if (fail) {
    plx_grid_stats_release(st);
    if (err)
      *err = first;
    return fail;
  }
  /* dsyr filled the upper triangle: mirror it */
  for (g = 0; g < G; g++) {
    double *S = st->sum_rr + g * N * N;
    size_t i, j;
    for (j = 0; j < N; j++)
      for (i = j + 1; i < N; i++)
        S[i + j * N] = S[j + i * N];
  }
  return PLX_OK;
}

/* --------------------------------------------------------------- prior */

void plx_prior_stats_release(plx_prior_stats *st)
{
  if (!st)
    return;
  free(st->bin_center);
  free(st->bin_count);
  free(st->bin_err);
  free(st->bin_err2);
  free(st->trial_err);
  memset(st, 0, sizeof *st);
}

static int prior_alloc(plx_prior_stats *st, size_t no, size_t nbins, long trials)
{
  size_t i;
  memset(st, 0, sizeof *st);
  st->n_out = no;
  st->n_bins = nbins;
  st->trials = trials;
  st->bin_center = zalloc(nbins);
  st->bin_count = zalloc(nbins);
  st->bin_err = zalloc(nbins);
  st->bin_err2 = zalloc(nbins);
  st->trial_err = zalloc((size_t)trials);
  if (!st->bin_center || !st->bin_count || !st->bin_err || !st->bin_err2 ||
      !st->trial_err) {
    plx_prior_stats_release(st);
    return PLX_ENOMEM;
  }
  for (i = 0; i < nbins; i++)
    st->bin_center[i] = -M_PI + 2.0 * M_PI * ((double)i + 0.5) / (double)nbins;
  return PLX_OK;
}

static void prior_zero(plx_prior_stats *st)
{
  size_t n = st->n_bins;
  st->n[0] = st->n[1] = st->sum_z[0] = st->sum_z[1] = 0;
  st->sum_zz[0] = st->sum_zz[1] = 0;
  memset(st->bin_count, 0, n * sizeof(double));
  memset(st->bin_err, 0, n * sizeof(double));
  memset(st->bin_err2, 0, n * sizeof(double));
  st->count = st->err = st->err2 = 0;
}

static int prior_chunk(plx_experiment *e, worker *w, long t0, size_t B,
                       unsigned long K, unsigned long k0, long rec,
                       int eval_index, plx_error *err)
{
  const plx_encoder *enc = &e->encoder;
  const size_t ni = enc->n, no = e->task.n_out;
  plx_prior_stats *st = &w->ps;
  uint64_t pop_s = eval_index < 0 ? PLX_POP_SUB(PLX_POP_TEST_STIMULUS, 1)
                                  : PLX_POP_SUB(PLX_POP_EVAL_STIMULUS, eval_index);
  uint64_t pop_n = eval_index < 0 ? PLX_POP_SUB(PLX_POP_TEST_NETWORK, 1)
                                  : PLX_POP_SUB(PLX_POP_EVAL_NETWORK, eval_index);
  size_t b;
  unsigned long k;
  int rc;
  for (b = 0; b < B; b++) {
    plx_rng_reseed(w->stim[b], e->seed, (uint64_t)(t0 + (long)b), pop_s);
    plx_rng_reseed(w->net[b], e->seed, (uint64_t)(t0 + (long)b), pop_n);
    w->theta[b] = plx_process_start(&e->process, w->stim[b]);
    plx_encoder_encode(enc, w->theta[b], w->x + b * ni);
    w->terr[b] = w->tcnt[b] = 0;
  }
  if ((rc = w->m->type->reset(w->m, w->x, B)))
    return plx_error_set(err, rc, "model reset failed");
  for (k = 1; k < K; k++) {
    for (b = 0; b < B; b++) {
      w->theta[b] = plx_process_step(&e->process, w->theta[b], k, w->stim[b]);
      plx_encoder_encode(enc, w->theta[b], w->x + b * ni);
    }
    if ((rc = w->m->type->step(w->m, w->x, w->net, err))) {
      char where[96];
      if (eval_index >= 0)
        snprintf(where, sizeof where, "evaluation %d, trials %ld-%ld", eval_index, t0,
                 t0 + (long)B - 1);
      else
        snprintf(where, sizeof where, "prior test trials %ld-%ld", t0, t0 + (long)B - 1);
      return rc == PLX_EDIVERGE ? plx_experiment_diverged(e, err, where, (double)k * w->m->dt) : rc;
    }
    if (k > k0 && k % (unsigned long)rec == 0)
      for (b = 0; b < B; b++) {
        const double *o = w->m->out + b * no;
        double th = w->theta[b], er, z = o[0];
        int cls;
        size_t bin;
        plx_task_target(&e->task, th, w->y);
        er = plx_task_error(&e->task, o, w->y);
        cls = e->task.kind == PLX_TASK_CLASSIFICATION ? (w->y[0] > 0.5)
                                                       : (th >= 0);
        st->n[cls] += 1;
        st->sum_z[cls] += z;
        st->sum_zz[cls] += z * z;
        bin = (size_t)floor((th + M_PI) / (2.0 * M_PI) * (double)st->n_bins);
        if (bin >= st->n_bins)
          bin = st->n_bins - 1;
        st->bin_count[bin] += 1;
        st->bin_err[bin] += er;
        st->bin_err2[bin] += er * er;
        st->count += 1;
        st->err += er;
        st->err2 += er * er;
        w->terr[b] += er;
        w->tcnt[b] += 1;
      }
  }
  return PLX_OK;
}

static int protocol_prior(plx_experiment *e, long trials, double duration,
                          double transient, long record_every, int eval_index,
                          size_t n_bins, plx_prior_stats *st, int threads,
                          plx_error *err)
{
  const size_t B = (size_t)(e->test.batch < trials ? e->test.batch
                                                    : (trials > 0 ? trials : 1));
  const size_t chunks = trials > 0 ? (size_t)((trials + (long)B - 1) / (long)B) : 0;
  const unsigned long K = plx_experiment_steps(e, duration);
  const unsigned long k0 = (unsigned long)llround(transient / e->model->dt);
  const size_t no = e->task.n_out;
  int nt = plx_team_size(threads, chunks), fail = 0;
  worker *ws;
  plx_error first;
  size_t i;

  if (prior_alloc(st, no, n_bins, trials))
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  ws = calloc((size_t)nt, sizeof *ws);
  if (!ws) {
    plx_prior_stats_release(st);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  plx_error_clear(&first);
#pragma omp parallel num_threads(nt)
  {
    int tid = 0, rc;
    long c;
    worker *w;
    plx_error lerr;
#ifdef _OPENMP
    tid = omp_get_thread_num();
#endif
    w = &ws[tid];
    rc = worker_init(w, e, B, 1, &lerr);
    if (!rc && prior_alloc(&w->ps, no, n_bins, 1))
      rc = plx_error_set(&lerr, PLX_ENOMEM, "out of memory");
#pragma omp for ordered schedule(static, 1)
    for (c = 0; c < (long)chunks; c++) {
      long t0 = c * (long)B;
      size_t nb = (size_t)((trials - t0) < (long)B ? (trials - t0) : (long)B), b;
      if (!rc) {
        prior_zero(&w->ps);
        rc = prior_chunk(e, w, t0, nb, K, k0, record_every, eval_index, &lerr);
      }
#pragma omp ordered
      {
        if (rc && !fail) {
          fail = rc;
          first = lerr;
        } else if (!fail) {
          for (i = 0; i < 2; i++) {
            st->n[i] += w->ps.n[i];
            st->sum_z[i] += w->ps.sum_z[i];
            st->sum_zz[i] += w->ps.sum_zz[i];
          }
          add_into(st->bin_count, w->ps.bin_count, n_bins);
          add_into(st->bin_err, w->ps.bin_err, n_bins);
          add_into(st->bin_err2, w->ps.bin_err2, n_bins);
          st->count += w->ps.count;
          st->err += w->ps.err;
          st->err2 += w->ps.err2;
          for (b = 0; b < nb; b++)
            st->trial_err[t0 + (long)b] =
                w->tcnt[b] > 0 ? w->terr[b] / w->tcnt[b] : NAN;
        }
      }
    }
  }
  for (i = 0; i < (size_t)nt; i++)
    worker_free(&ws[i], B);
  free(ws);
  if (fail) {
    plx_prior_stats_release(st);
    if (err)
      *err = first;
    return fail;
  }
  return PLX_OK;
}

/* the entry point: with OpenBLAS single-threaded (plastix/blas_threads.h) */
int plx_protocol_grid(plx_experiment *e, plx_grid_stats *st, int threads,
                      const plx_progress *prog, plx_error *err)
{
  int rc;
  plx_blas_serial_enter();
  rc = protocol_grid(e, st, threads, prog, err);
  plx_blas_serial_leave();
  return rc;
}

/* the entry point: with OpenBLAS single-threaded (plastix/blas_threads.h) */
int plx_protocol_prior(plx_experiment *e, long trials, double duration,
                       double transient, long record_every, int eval_index,
                       size_t n_bins, plx_prior_stats *st, int threads,
                       plx_error *err)
{
  int rc;
  plx_blas_serial_enter();
  rc = protocol_prior(e, trials, duration, transient, record_every, eval_index, n_bins, st,
                      threads, err);
  plx_blas_serial_leave();
  return rc;
}
