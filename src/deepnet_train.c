/* deepnet_train.c -- training helpers for plx_deepnet: momentum SGD with
 * frozen layers, weight snapshots and layer-change measures, weight copies,
 * the weight-shuffled control,
 * the two-interval logistic loss and node-perturbation gradients.  See
 * plastix/deepnet_train.h. */
#include "config.h"
#include "plastix/deepnet_train.h"
#include "plastix/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ snapshots */

void plx_deepnet_weights_free(plx_deepnet_weights *w)
{
  size_t i;
  if (!w)
    return;
  for (i = 0; i < w->n_layers; i++) {
    if (w->W)
      free(w->W[i]);
    if (w->b)
      free(w->b[i]);
  }
  free(w->W);
  free(w->b);
  free(w->n_w);
  free(w->n_b);
  free(w);
}

plx_deepnet_weights *plx_deepnet_weights_new(const plx_deepnet *net)
{
  plx_deepnet_weights *w = calloc(1, sizeof *w);
  size_t i;
  if (!w)
    return NULL;
  w->n_layers = net->n_layers;
  w->W = calloc(net->n_layers, sizeof *w->W);
  w->b = calloc(net->n_layers, sizeof *w->b);
  w->n_w = calloc(net->n_layers, sizeof *w->n_w);
  w->n_b = calloc(net->n_layers, sizeof *w->n_b);
  if (!w->W || !w->b || !w->n_w || !w->n_b) {
    plx_deepnet_weights_free(w);
    return NULL;
  }
  for (i = 0; i < net->n_layers; i++) {
    const plx_layer *l = &net->layers[i];
    if (!l->n_w)
      continue;
    w->n_w[i] = l->n_w;
    w->n_b[i] = l->out_c;
    w->W[i] = malloc(l->n_w * sizeof(float));
    w->b[i] = malloc(l->out_c * sizeof(float));
    if (!w->W[i] || !w->b[i]) {
      plx_deepnet_weights_free(w);
      return NULL;
    }
  }
  plx_deepnet_weights_get(w, net);
  return w;
}

void plx_deepnet_weights_get(plx_deepnet_weights *w, const plx_deepnet *net)
{
  size_t i;
  for (i = 0; i < w->n_layers && i < net->n_layers; i++)
    if (w->W[i]) {
      memcpy(w->W[i], net->layers[i].W, w->n_w[i] * sizeof(float));
      memcpy(w->b[i], net->layers[i].b, w->n_b[i] * sizeof(float));
    }
}

int plx_deepnet_weights_equal(const plx_deepnet_weights *a, const plx_deepnet_weights *b)
{
  size_t i;
  if (a->n_layers != b->n_layers)
    return 0;
  for (i = 0; i < a->n_layers; i++) {
    if (!a->W[i] != !b->W[i] || a->n_w[i] != b->n_w[i] || a->n_b[i] != b->n_b[i])
      return 0;
    if (a->W[i] && (memcmp(a->W[i], b->W[i], a->n_w[i] * sizeof(float)) ||
                    memcmp(a->b[i], b->b[i], a->n_b[i] * sizeof(float))))
      return 0;
  }
  return 1;
}

void plx_deepnet_weights_set(plx_deepnet *net, const plx_deepnet_weights *w)
{
  size_t i;
  for (i = 0; i < w->n_layers && i < net->n_layers; i++)
    if (w->W[i]) {
      memcpy(net->layers[i].W, w->W[i], w->n_w[i] * sizeof(float));
      memcpy(net->layers[i].b, w->b[i], w->n_b[i] * sizeof(float));
    }
}

int plx_deepnet_copy_weights(plx_deepnet *dst, const plx_deepnet *src)
{
  size_t i;
  if (dst->n_layers != src->n_layers)
    return PLX_EINVAL;
  for (i = 0; i < src->n_layers; i++)
    if (dst->layers[i].kind != src->layers[i].kind ||
        dst->layers[i].n_w != src->layers[i].n_w ||
        dst->layers[i].out_c != src->layers[i].out_c)
      return PLX_EINVAL;
  for (i = 0; i < src->n_layers; i++)
    if (src->layers[i].n_w) {
      memcpy(dst->layers[i].W, src->layers[i].W, src->layers[i].n_w * sizeof(float));
      memcpy(dst->layers[i].b, src->layers[i].b, src->layers[i].out_c * sizeof(float));
    }
  return PLX_OK;
}

void plx_deepnet_shuffle(plx_deepnet *net, plx_rng *rng, const plx_deepnet_weights *keep_b,
                         int centred)
{
  size_t k, i;
  for (k = 0; k < net->n_layers; k++) {
    plx_layer *l = &net->layers[k];
    float *t[2] = {l->W, l->b};
    size_t n[2] = {l->n_w, l->out_c}, a;
    if (!l->n_w)
      continue;
    if (keep_b)
      memcpy(l->b, keep_b->b[k], l->out_c * sizeof *l->b);
    for (a = 0; a < (keep_b ? 1u : 2u); a++)
      for (i = n[a]; i > 1; i--) {
        size_t j = (size_t)plx_rng_below(rng, i);
        float tmp = t[a][i - 1];
        t[a][i - 1] = t[a][j];
        t[a][j] = tmp;
      }
    if (centred) {
      double m = 0.0;
      for (i = 0; i < l->n_w; i++)
        m += l->W[i];
      m /= (double)l->n_w;
      for (i = 0; i < l->n_w; i++)
        l->W[i] = (float)(l->W[i] - m);
    }
  }
}

void plx_deepnet_layer_change(const plx_deepnet *net, const plx_deepnet_weights *w0,
                              size_t li, plx_layer_change *c)
{
  const plx_layer *l = &net->layers[li];
  double s1 = 0, s2 = 0, a1 = 0, a2 = 0, n;
  size_t j;
  memset(c, 0, sizeof *c);
  if (!l->n_w || li >= w0->n_layers || !w0->W[li])
    return;
  for (j = 0; j < l->n_w; j++) {
    double w = (double)w0->W[li][j], d = (double)l->W[j] - w;
    s1 += fabs(d);
    s2 += d * d;
    a1 += fabs(w);
    a2 += w * w;
  }
  n = (double)l->n_w;
  c->m1 = s1 / n;
  c->m2 = sqrt(s2 / n);
  c->rel1 = a1 > 0 ? s1 / a1 : s1 / n;
  c->rel2 = a2 > 0 ? sqrt(s2) / sqrt(a2) : sqrt(s2) / sqrt(n);
}

/* ------------------------------------------------------------- momentum */

void plx_deepnet_momentum_free(plx_deepnet_momentum *m)
{
  size_t i;
  if (!m)
    return;
  for (i = 0; i < m->n_layers; i++) {
    if (m->vW)
      free(m->vW[i]);
    if (m->vb)
      free(m->vb[i]);
  }
  free(m->vW);
  free(m->vb);
  free(m->frozen);
  free(m->n_w);
  free(m->n_b);
  free(m);
}

plx_deepnet_momentum *plx_deepnet_momentum_new(const plx_deepnet *net)
{
  plx_deepnet_momentum *m = calloc(1, sizeof *m);
  size_t i;
  if (!m)
    return NULL;
  m->n_layers = net->n_layers;
  m->vW = calloc(net->n_layers, sizeof *m->vW);
  m->vb = calloc(net->n_layers, sizeof *m->vb);
  m->frozen = calloc(net->n_layers, 1);
  m->n_w = calloc(net->n_layers, sizeof *m->n_w);
  m->n_b = calloc(net->n_layers, sizeof *m->n_b);
  if (!m->vW || !m->vb || !m->frozen || !m->n_w || !m->n_b) {
    plx_deepnet_momentum_free(m);
    return NULL;
  }
  for (i = 0; i < net->n_layers; i++) {
    const plx_layer *l = &net->layers[i];
    if (!l->n_w)
      continue;
    m->n_w[i] = l->n_w;
    m->n_b[i] = l->out_c;
    m->vW[i] = calloc(l->n_w, sizeof(float));
    m->vb[i] = calloc(l->out_c, sizeof(float));
    if (!m->vW[i] || !m->vb[i]) {
      plx_deepnet_momentum_free(m);
      return NULL;
    }
  }
  return m;
}

void plx_deepnet_momentum_reset(plx_deepnet_momentum *m)
{
  size_t i;
  for (i = 0; i < m->n_layers; i++)
    if (m->vW[i]) {
      memset(m->vW[i], 0, m->n_w[i] * sizeof(float));
      memset(m->vb[i], 0, m->n_b[i] * sizeof(float));
    }
}

void plx_deepnet_momentum_step(plx_deepnet_momentum *m, plx_deepnet *net, double lr,
                               double mu, double decay)
{
  const float f = (float)lr, u = (float)mu, k = (float)decay;
  size_t i, j;
  for (i = 0; i < net->n_layers && i < m->n_layers; i++) {
    plx_layer *l = &net->layers[i];
    float *v, *vb;
    if (!l->n_w || m->frozen[i])
      continue;
    v = m->vW[i];
    vb = m->vb[i];
    for (j = 0; j < l->n_w; j++) {
      v[j] = u * v[j] - f * (l->gW[j] + k * l->W[j]);
      l->W[j] += v[j];
    }
    for (j = 0; j < l->out_c; j++) {
      vb[j] = u * vb[j] - f * (l->gb[j] + k * l->b[j]);
      l->b[j] += vb[j];
    }
  }
}

/* ------------------------------------------------------ two-interval loss */

double plx_deepnet_pair_logistic(const plx_deepnet *net, size_t B,
                                 const unsigned char *label, float *dout,
                                 double *conf, double *each)
{
  const plx_layer *l = &net->layers[net->n_layers - 1];
  const float *h = l->out;
  double loss = 0;
  size_t b;
  for (b = 0; b < B; b++) {
    double d = (double)h[b] - (double)h[B + b];
    /* log p = -log(1 + e^-d), log(1 - p) = -log(1 + e^d), stably */
    double lp = d >= 0 ? -log1p(exp(-d)) : d - log1p(exp(d));
    double lq = d >= 0 ? -d - log1p(exp(-d)) : -log1p(exp(d));
    double p = exp(lp), li = label[b] ? -lp : -lq;
    loss += li;
    if (each)
      each[b] = li;
    if (conf)
      conf[b] = label[b] ? p : exp(lq);
    if (dout) {
      double g = (p - (label[b] ? 1.0 : 0.0)) / (double)B;
      dout[b] = (float)g;
      dout[B + b] = (float)-g;
    }
  }
  return B ? loss / (double)B : 0.0;
}

/* --------------------------------------------------- node perturbation */

size_t plx_deepnet_np_work(const plx_deepnet *net)
{
  size_t i, m = 1;
  for (i = 0; i < net->n_layers; i++)
    if (net->layers[i].n_w && net->layers[i].out_size > m)
      m = net->layers[i].out_size;
  return m * net->max_batch;
}

void plx_deepnet_np_grad(plx_deepnet *net, const double *loss, double baseline,
                         double scale, const unsigned char *skip, float *work)
{
  const size_t B = net->batch;
  size_t li, s, q;
  for (li = 0; li < net->n_layers; li++) {
    const plx_layer *l = &net->layers[li];
    if (!l->n_w || (skip && skip[li]))
      continue;
    for (s = 0; s < B; s++) {
      const double c = scale * (loss[s] - baseline);
      const float *xi = l->noise + s * l->out_size;
      float *d = work + s * l->out_size;
      for (q = 0; q < l->out_size; q++)
        d[q] = (float)(c * (double)xi[q]);
    }
    plx_deepnet_layer_grad(net, li, work);
  }
}

int plx_deepnet_np_softmax_ce(plx_deepnet *net, const float *x, size_t B, const int *labels,
                              const unsigned char *mask, const double *clean, double sigma,
                              plx_rng *rng, double *each, float *work)
{
  size_t s, used = 0;
  int rc;
  if ((rc = plx_deepnet_forward_noisy(net, x, B, sigma, NULL, rng)))
    return rc;
  plx_deepnet_softmax_ce_each(net, labels, each);
  for (s = 0; s < B; s++) {
    const int in = !mask || mask[s];
    each[s] = in ? each[s] - clean[s] : 0.0; /* a dropped label has no loss */
    used += (size_t)in;
  }
  plx_deepnet_np_grad(net, each, 0.0, 1.0 / (sigma * sigma * (double)(used ? used : 1)), NULL,
                      work);
  return PLX_OK;
}
