/* plastix/deepnet.h -- deterministic deep networks in single precision:
 * convolution (stride, padding, groups), ReLU, max pooling (overlapping
 * allowed), local response normalisation, fully connected layers, and a
 * softmax cross-entropy loss.  Forward and backward passes over a batch go
 * through im2col and OpenBLAS sgemm; a forward-mode pass propagates a
 * tangent (d image / d theta) to every layer, which is what the
 * sensitivity probe D(y_l; theta) = |d y_l / d theta|^2 needs.
 *
 * Activations are sample-major: sample b of a layer with shape (C, H, W)
 * starts at b * C * H * W, channel-major inside.  Weights are row-major:
 * a conv's W is out_channels x (in_channels/groups * k * k), an fc's W is
 * out x in.  The architecture comes from a config list:
 *
 *   layers = ( { type = "conv"; name = "conv1"; out = 16; kernel = 5; stride = 2; },
 *              { type = "relu"; },
 *              { type = "maxpool"; kernel = 3; stride = 2; },
 *              { type = "lrn"; },
 *              { type = "fc"; name = "fc1"; out = 60; } );
 *
 * Residual networks (MobileNet and the like, e.g. imported by
 * scripts/import-tfjs.mjs) use three more: a relu with a ceiling (max = 6),
 * zeropad (pad before, pad_after after: Keras's asymmetric "same" padding
 * at stride 2) and add (from = "name": this layer's input plus the output
 * of an earlier layer of the same shape). */
#ifndef PLASTIX_DEEPNET_H
#define PLASTIX_DEEPNET_H

#include "plastix/config.h"
#include "plastix/h5io.h"
#include "plastix/rng.h"

typedef enum {
  PLX_LAYER_CONV,
  PLX_LAYER_RELU,
  PLX_LAYER_MAXPOOL,
  PLX_LAYER_LRN,
  PLX_LAYER_FC,
  PLX_LAYER_ZEROPAD, /* zero padding, possibly more after than before       */
  PLX_LAYER_ADD      /* residual: input + the output of an earlier layer     */
} plx_layer_kind;

typedef struct plx_layer {
  plx_layer_kind kind;
  char name[32];
  size_t in_c, in_h, in_w, out_c, out_h, out_w;
  size_t in_size, out_size;  /* per sample                              */
  /* conv / pool / lrn parameters; zeropad: pad rows and columns before
     (top, left) and pad_after after (bottom, right) */
  size_t k, stride, pad, groups, pad_after;
  float relu_max;            /* relu: ceiling (0: none; 6 is MobileNet's ReLU6) */
  size_t from;               /* add: index of the layer whose output is added */
  float *skip_delta;         /* d loss / d output arriving through add layers
                                (allocated when an add layer reads this one) */
  float lrn_alpha, lrn_beta, lrn_k;
  /* weights and gradients (conv, fc) */
  float *W, *b, *gW, *gb;
  size_t n_w;                /* elements of W                           */
  /* per batch: outputs, tangents, backward deltas, pooling argmax */
  float *out, *tan, *delta;
  int *argmax;
  float *lrn_scale;          /* LRN: (k + alpha/n sum a^2) per element   */
  float *noise;              /* conv, fc: noise added to the pre-activation
                                by plx_deepnet_forward_noisy (per batch)  */
} plx_layer;

typedef struct plx_deepnet {
  size_t n_layers;
  plx_layer *layers;
  size_t in_c, in_h, in_w, in_size, max_batch, batch;
  float *col, *dcol;         /* im2col workspaces (one sample), also the
                                LRN's in its forward and backward passes */
  size_t col_size;
  const float *input;        /* last forward's input (not owned)        */
} plx_deepnet;

extern const plx_param_spec plx_layer_spec[];

/* Build from a validated list of layer sections (plx_layer_spec) for input
 * shape (c, h, w) and up to max_batch samples.  Layer names default to
 * <type><index>. */
int plx_deepnet_new(plx_deepnet **out, const plx_params *layers, size_t c,
                    size_t h, size_t w, size_t max_batch, plx_error *err);
void plx_deepnet_free(plx_deepnet *net);

/* PyTorch's default initialisation (U(+-1/sqrt(fan_in)) for weights and
 * biases) times `scale`. */
void plx_deepnet_init(plx_deepnet *net, double scale, plx_rng *rng);

/* Forward pass of `batch` samples (input stays referenced until the next
 * backward). */
int plx_deepnet_forward(plx_deepnet *net, const float *x, size_t batch);
/* Output of the last layer (logits for a classifier). */
const float *plx_deepnet_output(const plx_deepnet *net, size_t *size);
/* Softmax cross-entropy of the last layer's outputs against labels; a
 * sample with mask[b] == 0 (a dropped label) contributes nothing.  Returns
 * the mean loss over unmasked samples; dlogits receives d(mean loss)/d
 * logits (batch × classes); correct[b] = 1 when argmax == label. */
double plx_deepnet_softmax_ce(const plx_deepnet *net, const int *labels,
                              const unsigned char *mask, float *dlogits,
                              unsigned char *correct);
/* Squared error of the last layer's outputs against targets (batch x
 * outputs): returns the mean over samples of half the sum of squares;
 * dout (may be NULL) receives its gradient, (output - target) / batch. */
double plx_deepnet_mse(const plx_deepnet *net, const float *target, float *dout);
/* The loss of every sample (NaN-free; 0 for masked samples) into each[]. */
void plx_deepnet_softmax_ce_each(const plx_deepnet *net, const int *labels,
                                 double *each);
/* Forward pass with N(0, sigma^2) noise added to every conv and fc
 * pre-activation (kept in layer->noise): the perturbations of node
 * perturbation.  Drawn from rng in a fixed order.  Layers marked in skip
 * (indexed like net->layers; may be NULL) get none: a frozen layer's
 * noise would only add variance to the other layers' estimates. */
int plx_deepnet_forward_noisy(plx_deepnet *net, const float *x, size_t batch,
                              double sigma, const unsigned char *skip, plx_rng *rng);
/* Weight gradient of layer li alone from d loss / d (its output), without
 * propagating further (node perturbation's local update). */
int plx_deepnet_layer_grad(plx_deepnet *net, size_t li, const float *dout);
/* Backward pass from d loss / d output: fills every layer's gW, gb. */
int plx_deepnet_backward(plx_deepnet *net, const float *dout);
/* The same pass stopped at layer `lowest`: the gradients of layers lowest
 * .. n_layers - 1, bit for bit those of plx_deepnet_backward; the layers
 * below are left alone (frozen layers need no gradient).  PLX_EINVAL when
 * lowest is not a layer. */
int plx_deepnet_backward_to(plx_deepnet *net, const float *dout, size_t lowest);
/* SGD step w -= lr (g + decay w) on every conv and fc layer. */
void plx_deepnet_sgd(plx_deepnet *net, double lr, double decay);
/* Forward-mode pass: tangent dx of the input (same layout) to every
 * layer's `tan` (call after plx_deepnet_forward on the same x). */
int plx_deepnet_jvp(plx_deepnet *net, const float *dx);
/* Index of the layer called `name`, or -1. */
int plx_deepnet_find(const plx_deepnet *net, const char *name);
/* Write every conv and fc layer's weights to `h` as float datasets
 * <group>/<layer name>/W (out x fan-in) and <group>/<layer name>/b. */
int plx_deepnet_save(const plx_deepnet *net, plx_h5 *h, const char *group,
                     plx_error *err);
/* Read them back: every conv and fc layer of `net` must be present under
 * `group` by name with exactly its shape (an error names the file, the
 * dataset, and the shape expected and found).  Extra datasets in the file
 * are ignored, so a file saved from a larger network can seed the layers
 * it shares by name when `only_present` is set; then layers missing from
 * the file keep their values. */
int plx_deepnet_load(plx_deepnet *net, plx_h5 *h, const char *group,
                     int only_present, plx_error *err);
/* The same for the conv and fc layers k that want(net, k, ctx) accepts
 * (all of them when want is NULL); the others keep their values. */
int plx_deepnet_load_some(plx_deepnet *net, plx_h5 *h, const char *group,
                          int (*want)(const plx_deepnet *, size_t, void *), void *ctx,
                          int only_present, plx_error *err);
/* Parameter count. */
size_t plx_deepnet_params(const plx_deepnet *net);
/* Offset, within one sample of layer l's output, of channel 0's unit at the
 * spatial centre (row (out_h - 1) / 2, column (out_w - 1) / 2); channel c's
 * is c out_h out_w further. */
size_t plx_layer_centre(const plx_layer *l);

#endif
