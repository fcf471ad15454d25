/* plastix/linear.h -- the linear_deep model: a product of N square d x d
 * matrices, y = W x with W = W_N ... W_2 W_1 (W_1 applied first, no
 * bottleneck), or the reference code's symmetric variant W = Q^T Q with
 * Q = W_N ... W_1 (its "1-layer" net is N = 1: W = A^T A), trained by
 * gradient descent on the mean-squared error
 *
 *   L = (1/d) E || M x - W x ||^2 = (1/d) tr((W - M) S (W - M)^T),
 *
 * where S = E[x x^T] is the (batch or full-data) covariance and M the
 * target map (M = I: reconstruction; y = M x: the supervised variant).
 * The loss depends on the data only through S, and so does its gradient
 *
 *   dL/dW = (2/d) (W - M) S,
 *
 * pushed through the product by the chain rule: for W = W_N ... W_1,
 * dL/dW_l = (W_N ... W_{l+1})^T (dL/dW) (W_{l-1} ... W_1)^T; for W = Q^T Q,
 * dL/dQ = Q (G + G^T).  A minibatch step uses the batch covariance and is
 * the reference code's SGD step exactly (in exact arithmetic); a full-batch
 * step uses the covariance of all patches.  One step costs 3N - 2 GEMMs of
 * d x d (one for a single free matrix) plus one for the symmetric variant. */
#ifndef PLASTIX_LINEAR_H
#define PLASTIX_LINEAR_H

#include "plastix/rng.h"
#include "plastix/rule.h"

#include <stddef.h>

typedef struct plx_linear {
  size_t d, layers;
  int symmetric;
  double **w;      /* [layers] factors, d x d column-major; w[0] = W_1     */
  double *prod;    /* the map W (kept current by every call below)          */
  double *q;       /* Q = W_N ... W_1 (== prod unless symmetric)           */
  double **pre;    /* [layers] pre[l] = W_{l+1} ... W_1; pre[0] is w[0],
                      pre[layers-1] is q                                   */
  double *r, *r2, *t; /* workspace, d x d each                              */
} plx_linear;

/* NULL on bad sizes (d = 0, layers = 0) or out of memory.  Factors start
 * at zero. */
plx_linear *plx_linear_new(size_t d, size_t layers, int symmetric);
void plx_linear_free(plx_linear *m);

/* Every factor entry ~ U(-scale/2, scale/2), factor 1 first, column-major,
 * from `rng` (the reference code's init with scale s). */
void plx_linear_init_uniform(plx_linear *m, double scale, plx_rng *rng);
/* Every factor = U diag(a) U^T (U: d x d column-major, orthonormal
 * columns; a: [d]).  Then W = U diag(a^N) U^T, or U diag(a^(2N)) U^T when
 * symmetric: aligned with the principal components when U holds them. */
void plx_linear_init_aligned(plx_linear *m, const double *U, const double *a);
/* Recompute the products after the factors were changed by hand. */
void plx_linear_update(plx_linear *m);

/* One gradient-descent step of size eta on L for second moment S (d x d
 * symmetric) and target map M (NULL: identity).  `extra` (NULL or d x d)
 * is added to dL/dW (the reference code's output noise, see
 * plx_linear_noise_grad).  *loss (may be NULL) receives L before the
 * step. */
void plx_linear_step(plx_linear *m, const double *S, const double *M,
                     const double *extra, double eta, double *loss);

/* L at the current weights (one GEMM; uses the workspace). */
double plx_linear_loss(plx_linear *m, const double *S, const double *M);

/* The output-noise term of the gradient.  With y = W x + n, n ~ N(0,
 * sd^2 I) per sample, the batch-mean loss over B samples adds
 * (2/(B d)) sum_b n_b x_b^T to dL/dW, whose rows are independent
 * N(0, sd^2 B S).  Given a factor F with F F^T = S (d x d), writes that
 * term exactly in distribution: out = (2 sd / (d sqrt(B))) Z F^T, Z iid
 * N(0, 1) drawn from rng.  `z` is d x d workspace. */
void plx_linear_noise_grad(size_t d, const double *F, double sd, double B,
                           plx_rng *rng, double *z, double *out);
/* F (d x d) with F F^T = S: the Cholesky factor when S is positive
 * definite, else V diag(sqrt(max(lambda, 0))) from an eigendecomposition.
 * `w_work` holds d doubles.  PLX_EINVAL when S is not finite. */
int plx_linear_sqrt(const double *S, size_t d, double *F, double *w_work);

/* Probes of the map along unit vectors U[:, 0..K): diag[k] = u^T W u,
 * gain[k] = || W u ||^2 (the output's sensitivity to PC k+1).  `work`
 * is d x K. */
void plx_linear_pc_probe(const plx_linear *m, const double *U, size_t K,
                         double *diag, double *gain, double *work);

#endif
