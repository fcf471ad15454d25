/* plastix/deepnet_train.h -- training helpers shared by the deep-net
 * experiments, on top of plastix/deepnet.h: SGD with momentum in Caffe's
 * form (v <- mu v - lr (g + decay w), w <- w + v) with layers that can be
 * frozen, snapshots of a network's weights and the layer-change measures of
 * Wenliang & Seitz (2018) against a snapshot, copying weights between
 * networks of one architecture, the two-interval logistic loss of a
 * scalar-output network, and the node-perturbation estimate of every
 * layer's weight gradient. */
#ifndef PLASTIX_DEEPNET_TRAIN_H
#define PLASTIX_DEEPNET_TRAIN_H

#include "plastix/deepnet.h"

/* ------------------------------------------------------------ snapshots */

/* A copy of every conv and fc layer's W and b (layers without weights hold
 * NULL).  Owned by the caller (plx_deepnet_weights_free). */
typedef struct plx_deepnet_weights {
  size_t n_layers;
  float **W, **b;
  size_t *n_w, *n_b;
} plx_deepnet_weights;

/* Snapshot of net's current weights; NULL when out of memory. */
plx_deepnet_weights *plx_deepnet_weights_new(const plx_deepnet *net);
void plx_deepnet_weights_free(plx_deepnet_weights *w);
/* Copy net's weights into an existing snapshot of the same architecture. */
void plx_deepnet_weights_get(plx_deepnet_weights *w, const plx_deepnet *net);
/* 1 when two snapshots of one architecture hold the same bits, else 0. */
int plx_deepnet_weights_equal(const plx_deepnet_weights *a, const plx_deepnet_weights *b);
/* Copy a snapshot into net (same architecture). */
void plx_deepnet_weights_set(plx_deepnet *net, const plx_deepnet_weights *w);
/* Copy the weights of src into dst; PLX_EINVAL (nothing copied) when the
 * two differ in any layer's kind or weight shape. */
int plx_deepnet_copy_weights(plx_deepnet *dst, const plx_deepnet *src);
/* The weight-shuffled control (Benjamin et al. 2022): permute every conv
 * and fc weight tensor within itself (Fisher--Yates with rng), which keeps
 * each tensor's distribution and destroys its spatial structure, and every
 * bias vector too unless keep_b (may be NULL) is given: then the biases
 * become keep_b's.  With centred != 0 each weight tensor's mean is then
 * subtracted: a permuted filter is its tensor's mean times a box over the
 * kernel plus noise, and a box on a square grid passes more of an
 * oscillation at the cardinal orientations than at the obliques. */
void plx_deepnet_shuffle(plx_deepnet *net, plx_rng *rng, const plx_deepnet_weights *keep_b,
                         int centred);

/* Change of layer li's W from the snapshot (Wenliang & Seitz 2018, Eq. 4,
 * 4a-c), with dw = W - W0 and N = |W|:
 *   rel1 = sum |dw| / sum |W0|,  rel2 = sqrt(sum dw^2) / sqrt(sum W0^2),
 *   m1 = sum |dw| / N,           m2 = sqrt(sum dw^2 / N).
 * When W0 is all zeros (a zero-initialised readout) rel1 and rel2 divide
 * by N and sqrt(N) instead, as the paper does.  Biases are not counted.
 * Layers without weights give zeros. */
typedef struct plx_layer_change {
  double rel1, rel2, m1, m2;
} plx_layer_change;
void plx_deepnet_layer_change(const plx_deepnet *net, const plx_deepnet_weights *w0,
                              size_t li, plx_layer_change *c);

/* ------------------------------------------------------------- momentum */

typedef struct plx_deepnet_momentum {
  size_t n_layers;
  float **vW, **vb;       /* velocity per weight layer (NULL otherwise) */
  size_t *n_w, *n_b;      /* their lengths                              */
  unsigned char *frozen;  /* [n_layers] 1: the step leaves this layer alone */
} plx_deepnet_momentum;

/* Velocities of zero for every conv and fc layer of net, nothing frozen.
 * NULL when out of memory. */
plx_deepnet_momentum *plx_deepnet_momentum_new(const plx_deepnet *net);
void plx_deepnet_momentum_free(plx_deepnet_momentum *m);
/* Zero the velocities (frozen flags are kept). */
void plx_deepnet_momentum_reset(plx_deepnet_momentum *m);
/* One step from the gradients in every layer's gW, gb:
 *   v <- mu v - lr (g + decay w);  w <- w + v
 * on every layer that is not frozen (Wenliang & Seitz 2018, Eqs. 2-3;
 * Caffe's SGD solver). */
void plx_deepnet_momentum_step(plx_deepnet_momentum *m, plx_deepnet *net, double lr,
                               double mu, double decay);

/* ------------------------------------------------------ two-interval loss */

/* Two-interval forced choice on a network with one output: after a forward
 * pass of 2B samples, samples [0, B) are the targets and [B, 2B) the
 * references of B pairs; p_b = logistic(h_t - h_r) is the probability of
 * "clockwise" and label[b] = 1 when clockwise is correct.  Returns the mean
 * cross-entropy; dout (2B, may be NULL) receives d(mean loss)/d h of every
 * sample; conf (B, may be NULL) the confidence of the correct label,
 * p_b or 1 - p_b; each (B, may be NULL) the loss of every pair. */
double plx_deepnet_pair_logistic(const plx_deepnet *net, size_t B,
                                 const unsigned char *label, float *dout,
                                 double *conf, double *each);

/* --------------------------------------------------- node perturbation */

/* After plx_deepnet_forward_noisy, the node-perturbation estimate of every
 * conv and fc layer's weight gradient: the local gradient
 * (plx_deepnet_layer_grad) of a layer whose output delta for sample s is
 *   scale * (loss[s] - baseline) * noise_s,
 * i.e. gW ~ scale sum_s (loss_s - baseline) xi_s pre_s^T.  With scale =
 * 1 / (sigma^2 n) this estimates d(mean loss)/dW.  Layers marked in skip
 * (may be NULL) are left alone.  work must hold max_l out_size x batch
 * floats. */
void plx_deepnet_np_grad(plx_deepnet *net, const double *loss, double baseline,
                         double scale, const unsigned char *skip, float *work);
/* Floats plx_deepnet_np_grad needs in `work` for the net's max batch. */
size_t plx_deepnet_np_work(const plx_deepnet *net);
/* Node perturbation for the softmax cross-entropy: a pass of x (batch B)
 * with N(0, sigma^2) noise from rng, and every conv and fc layer's gW, gb
 * the estimate of the gradient of the mean loss over the samples with
 * mask[s] set (all when mask is NULL) -- the loss change each sample's
 * noise caused against clean[s], its loss in a clean pass of the same x
 * (plx_deepnet_softmax_ce_each), which removes the stimulus-driven spread
 * of the losses from the estimate.  each: B doubles of scratch; work:
 * plx_deepnet_np_work floats. */
int plx_deepnet_np_softmax_ce(plx_deepnet *net, const float *x, size_t B, const int *labels,
                              const unsigned char *mask, const double *clean, double sigma,
                              plx_rng *rng, double *each, float *work);

#endif
