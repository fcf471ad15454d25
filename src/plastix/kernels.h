/* plastix/kernels.h -- small dense kernels of the Euler--Maruyama hot loop,
 * compiled for AVX2/FMA and for baseline x86-64 (GCC target clones,
 * chosen once at load time): y += A x for the small matrices of a rate
 * circuit (where a BLAS call costs more than the arithmetic), and the
 * softplus leak f^-1(r) = r + log(1 - e^{-g r}) / g with a branch-free
 * exp/log that vectorises (|error| < 4e-16 against libm), and the clip of
 * the rates to their range. */
#ifndef PLASTIX_KERNELS_H
#define PLASTIX_KERNELS_H

#include <stddef.h>

/* y[0..m) += A x, A m × n column-major with leading dimension lda. */
void plx_k_gemv_add(size_t m, size_t n, const double *A, size_t lda,
                    const double *x, double *y);
/* out[i] = r[i] + log(1 - exp(-g r[i])) / g for r[i] > 0. */
void plx_k_softplus_finv(size_t n, double g, const double *r, double *out);
/* The Euler--Maruyama update of a softplus rate unit, fused:
 * r[i] += dt (-(f^-1(r[i])) + h[i]) + xi[i]. */
void plx_k_softplus_euler(size_t n, double g, double dt, const double *h,
                          const double *xi, double *r);

/* Clip r[0..n) to [lo, hi] in place (NaN stays NaN).  Returns
 * PLX_CLIP_NONFINITE if any r[i] was NaN or infinite and PLX_CLIP_CLIPPED if
 * any value changed. */
enum { PLX_CLIP_NONFINITE = 1, PLX_CLIP_CLIPPED = 2 };
int plx_k_clip(size_t n, double lo, double hi, double *r);

#endif
