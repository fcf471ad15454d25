/* kernels.c -- vectorisable kernels of the rate-circuit hot loop (see
 * plastix/kernels.h).  The exp and log below are the classic Cody--Waite
 * reduction plus polynomials, written without branches so that GCC turns
 * the loops into 4-wide AVX2 code; the clones are picked at load time. */
#include "config.h"
#include "plastix/kernels.h"

/* No floating-point traps are ever enabled in plastix; telling GCC so lets
 * it turn the clamps below into vector selects.  Results are unchanged. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Each kernel is written once as an always-inline body, instantiated for
 * baseline x86-64 and for AVX2+FMA, and bound at load time by a GNU ifunc
 * resolver that checks the CPU's features (not its model: AMD and Intel
 * alike).  Sanitizer builds keep the baseline version only. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__)
#define PLX_DISPATCH 1
#define PLX_KERNEL(ret, name, params, args)                                     \
  static __attribute__((target("avx2,fma"))) ret name##_avx2 params           \
  { return name##_body args; }                                                \
  static ret name##_base params { return name##_body args; }                  \
  static ret(*resolve_##name(void)) params                                    \
  {                                                                           \
    __builtin_cpu_init();                                                     \
    return (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))  \
               ? name##_avx2 : name##_base;                                   \
  }                                                                           \
  ret name params __attribute__((ifunc("resolve_" #name)));
#else
#define PLX_KERNEL(ret, name, params, args) \
  ret name params { return name##_body args; }
#endif
#define PLX_BODY static inline __attribute__((always_inline))

static inline __attribute__((always_inline)) double as_double(uint64_t i)
{
  double d;
  memcpy(&d, &i, sizeof d);
  return d;
}

static inline __attribute__((always_inline)) uint64_t as_bits(double d)
{
  uint64_t i;
  memcpy(&i, &d, sizeof i);
  return i;
}

/* exp(x) for x in [-700, 0]: x = k ln2 + t, |t| <= ln2/2; e^t by a degree-12
 * Taylor polynomial (error < 2e-17 on that interval); 2^k by exponent bits.
 * k is rounded with the 1.5 * 2^52 shifter so that every step is a lane-wise
 * float or 64-bit integer operation (AVX2 has no double -> int64). */
static inline __attribute__((always_inline)) double exp_neg(double x)
{
  const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  const double shifter = 6755399441055744.0; /* 1.5 * 2^52 */
  double kd, k, t, p;
  uint64_t ki;
  x = x < -700.0 ? -700.0 : x;
  kd = x * 1.44269504088896340736 + shifter;
  ki = as_bits(kd);           /* low bits hold k (two's complement) */
  k = kd - shifter;
  t = (x - k * ln2_hi) - k * ln2_lo;
  p = 1.0 / 479001600.0;
  p = p * t + 1.0 / 39916800.0;
  p = p * t + 1.0 / 3628800.0;
  p = p * t + 1.0 / 362880.0;
  p = p * t + 1.0 / 40320.0;
  p = p * t + 1.0 / 5040.0;
  p = p * t + 1.0 / 720.0;
  p = p * t + 1.0 / 120.0;
  p = p * t + 1.0 / 24.0;
  p = p * t + 1.0 / 6.0;
  p = p * t + 0.5;
  p = p * t + 1.0;
  p = p * t + 1.0;
  /* 2^k: add k to the exponent field of 1.0 */
  return p * as_double(as_bits(1.0) + (ki << 52));
}

/* log(y) for a positive normal y: y = z 2^k with z in [sqrt(1/2), sqrt(2));
 * log z = 2 atanh(s), s = (z - 1)/(z + 1), |s| < 0.1716: odd series to s^23
 * (truncation < 3e-17).  k comes from the bits with logical shifts only
 * (a bias of 1024 keeps the field non-negative) and becomes a double
 * through the 2^52 magic number, so the loop vectorises with AVX2. */
static inline __attribute__((always_inline)) double log_unit(double y)
{
  const uint64_t bits = as_bits(y);
  const uint64_t off = 0x3fe6a09e667f3bcdULL; /* sqrt(1/2) */
  const uint64_t kf = (bits + (1024ULL << 52) - off) >> 52; /* k + 1024 */
  const double z = as_double(bits - (kf << 52) + (1024ULL << 52));
  const double k = (as_double(0x4330000000000000ULL + kf) - 4503599627370496.0) - 1024.0;
  double s, s2, p;
  s = (z - 1.0) / (z + 1.0);
  s2 = s * s;
  p = 1.0 / 23.0;
  p = p * s2 + 1.0 / 21.0;
  p = p * s2 + 1.0 / 19.0;
  p = p * s2 + 1.0 / 17.0;
  p = p * s2 + 1.0 / 15.0;
  p = p * s2 + 1.0 / 13.0;
  p = p * s2 + 1.0 / 11.0;
  p = p * s2 + 1.0 / 9.0;
  p = p * s2 + 1.0 / 7.0;
  p = p * s2 + 1.0 / 5.0;
  p = p * s2 + 1.0 / 3.0;
  p = p * s2 + 1.0;
  return k * 6.93147180559945309417e-01 + 2.0 * s * p;
}

PLX_BODY void plx_k_gemv_add_body(size_t m, size_t n, const double *restrict A,
                                  size_t lda, const double *restrict x,
                                  double *restrict y)
{
  size_t i, j;
  for (j = 0; j < n; j++) {
    const double xj = x[j];
    const double *a = A + j * lda;
    for (i = 0; i < m; i++)
      y[i] += a[i] * xj;
  }
}

PLX_BODY void plx_k_softplus_finv_body(size_t n, double g, const double *restrict r,
                                       double *restrict out)
{
  const double ig = 1.0 / g;
  size_t i;
  for (i = 0; i < n; i++)
    out[i] = r[i] + log_unit(1.0 - exp_neg(-g * r[i])) * ig;
}

PLX_BODY void plx_k_softplus_euler_body(size_t n, double g, double dt,
                                        const double *restrict h,
                                        const double *restrict xi,
                                        double *restrict r)
{
  const double ig = 1.0 / g;
  size_t i;
  for (i = 0; i < n; i++) {
    const double ri = r[i];
    const double finv = ri + log_unit(1.0 - exp_neg(-g * ri)) * ig;
    r[i] = ri + dt * (-finv + h[i]) + xi[i];
  }
}

PLX_BODY int plx_k_clip_body(size_t n, double lo, double hi, double *restrict r)
{
  int bad = 0, any = 0;
  size_t i;
  for (i = 0; i < n; i++) {
    const double ri = r[i], ci = ri < lo ? lo : (ri > hi ? hi : ri);
    bad |= (ri - ri) != 0.0; /* 0 for a finite rate, NaN otherwise */
    any |= ci != ri;
    r[i] = ci;
  }
  return (bad ? PLX_CLIP_NONFINITE : 0) | (any ? PLX_CLIP_CLIPPED : 0);
}

PLX_KERNEL(int, plx_k_clip, (size_t n, double lo, double hi, double *restrict r),
           (n, lo, hi, r))
PLX_KERNEL(void, plx_k_gemv_add,
           (size_t m, size_t n, const double *restrict A, size_t lda,
            const double *restrict x, double *restrict y),
           (m, n, A, lda, x, y))
PLX_KERNEL(void, plx_k_softplus_finv,
           (size_t n, double g, const double *restrict r, double *restrict out),
           (n, g, r, out))
PLX_KERNEL(void, plx_k_softplus_euler,
           (size_t n, double g, double dt, const double *restrict h,
            const double *restrict xi, double *restrict r),
           (n, g, dt, h, xi, r))
