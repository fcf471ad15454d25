/* rng.c -- keyed xoshiro256** streams exposed as a GSL generator type, with
 * a ziggurat normal sampler (Marsaglia & Tsang 2000, in Doornik's 2005
 * ZIGNOR form with 128 layers) for the Euler--Maruyama hot loops. */
#include "config.h"
#include "plastix/rng.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>

static uint64_t splitmix64(uint64_t *x)
{
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t plx_rng_key(uint64_t seed, uint64_t trial, uint64_t population)
{
  uint64_t x = seed, k;
  k = splitmix64(&x);
  x = k ^ trial;
  k = splitmix64(&x);
  x = k ^ (population * 0xd1b54a32d192ed03ULL);
  return splitmix64(&x);
}

static void xo_set(void *vstate, unsigned long seed)
{
  plx_xoshiro_state *st = vstate;
  uint64_t x = (uint64_t)seed;
  int i;
  for (i = 0; i < 4; i++)
    st->s[i] = splitmix64(&x);
  if (!(st->s[0] | st->s[1] | st->s[2] | st->s[3]))
    st->s[0] = 1;
}

static unsigned long xo_get(void *vstate)
{
  plx_rng tmp;
  gsl_rng g;
  g.state = vstate;
  tmp.g = &g;
  return (unsigned long)(plx_rng_u64(&tmp) >> 32);
}

static double xo_get_double(void *vstate)
{
  plx_rng tmp;
  gsl_rng g;
  g.state = vstate;
  tmp.g = &g;
  return ((double)(plx_rng_u64(&tmp) >> 11) + 0.5) * 0x1.0p-53;
}

static const gsl_rng_type xoshiro_type = {
    "plx_xoshiro256ss", 0xffffffffUL, 0, sizeof(plx_xoshiro_state),
    xo_set, xo_get, xo_get_double};
const gsl_rng_type *plx_rng_xoshiro256ss = &xoshiro_type;

plx_rng *plx_rng_alloc(uint64_t seed, uint64_t trial, uint64_t population)
{
  plx_rng *r = malloc(sizeof *r);
  if (!r)
    return NULL;
  r->g = gsl_rng_alloc(plx_rng_xoshiro256ss);
  if (!r->g) {
    free(r);
    return NULL;
  }
  plx_rng_reseed(r, seed, trial, population);
  return r;
}

void plx_rng_free(plx_rng *r)
{
  if (r) {
    gsl_rng_free(r->g);
    free(r);
  }
}

void plx_rng_reseed(plx_rng *r, uint64_t seed, uint64_t trial,
                    uint64_t population)
{
  xo_set(r->g->state, (unsigned long)plx_rng_key(seed, trial, population));
}

gsl_rng *plx_rng_gsl(plx_rng *r) { return r->g; }

double plx_rng_uniform(plx_rng *r)
{
  return ((double)(plx_rng_u64(r) >> 11) + 0.5) * 0x1.0p-53;
}

uint64_t plx_rng_below(plx_rng *r, uint64_t n)
{
  /* Lemire's nearly divisionless method, exact (rejection on the tail) */
  unsigned __int128 m = (unsigned __int128)plx_rng_u64(r) * n;
  uint64_t l = (uint64_t)m;
  if (l < n) {
    uint64_t t = -n % n;
    while (l < t) {
      m = (unsigned __int128)plx_rng_u64(r) * n;
      l = (uint64_t)m;
    }
  }
  return (uint64_t)(m >> 64);
}

void plx_rng_uniform_fill(plx_rng *r, double *out, size_t n, double lo,
                          double hi)
{
  size_t i;
  for (i = 0; i < n; i++)
    out[i] = lo + (hi - lo) * plx_rng_uniform(r);
}

/* ------------------------------------------------------------ ziggurat */

#define ZIG_C 128
#define ZIG_R 3.442619855899
#define ZIG_V 9.91256303526217e-3

static double zig_x[ZIG_C + 1], zig_ratio[ZIG_C];
static pthread_once_t zig_once = PTHREAD_ONCE_INIT;

static void zig_init(void)
{
  double f = exp(-0.5 * ZIG_R * ZIG_R);
  int i;
  zig_x[0] = ZIG_V / f;
  zig_x[1] = ZIG_R;
  zig_x[ZIG_C] = 0.0;
  for (i = 2; i < ZIG_C; i++) {
    zig_x[i] = sqrt(-2.0 * log(ZIG_V / zig_x[i - 1] + f));
    f = exp(-0.5 * zig_x[i] * zig_x[i]);
  }
  for (i = 0; i < ZIG_C; i++)
    zig_ratio[i] = zig_x[i + 1] / zig_x[i];
}

static double zig_tail(plx_rng *r, int negative)
{
  double x, y;
  do {
    x = log(plx_rng_uniform(r)) / ZIG_R;
    y = log(plx_rng_uniform(r));
  } while (-2.0 * y < x * x);
  return negative ? x - ZIG_R : ZIG_R - x;
}

/* The rest of a draw whose first uniform u in layer i failed the fast test:
 * the base strip's tail, or the wedge test, and on rejection new draws. */
static double zig_finish(plx_rng *r, double u, unsigned i)
{
  for (;;) {
    uint64_t b;
    double x, f0, f1;
    if (i == 0)
      return zig_tail(r, u < 0);
    x = u * zig_x[i];
    f0 = exp(-0.5 * (zig_x[i] * zig_x[i] - x * x));
    f1 = exp(-0.5 * (zig_x[i + 1] * zig_x[i + 1] - x * x));
    if (f1 + plx_rng_uniform(r) * (f0 - f1) < 1.0)
      return x;
    b = plx_rng_u64(r);
    u = 2.0 * (((double)(b >> 11) + 0.5) * 0x1.0p-53) - 1.0;
    i = (unsigned)(b & 0x7f);
    if (fabs(u) < zig_ratio[i])
      return u * zig_x[i];
  }
}

static inline double zig_normal(plx_rng *r)
{
  const uint64_t b = plx_rng_u64(r);
  const double u = 2.0 * (((double)(b >> 11) + 0.5) * 0x1.0p-53) - 1.0;
  const unsigned i = (unsigned)(b & 0x7f);
  if (fabs(u) < zig_ratio[i])
    return u * zig_x[i];
  return zig_finish(r, u, i);
}

double plx_rng_normal(plx_rng *r)
{
  pthread_once(&zig_once, zig_init);
  return zig_normal(r);
}

/* The same draws as n calls of zig_normal, with the generator's state kept
 * in registers for the common case (the first test accepts ~99 % of draws);
 * the state is written back before a rejection step needs the generator. */
void plx_rng_normal_fill(plx_rng *r, double *out, size_t n, double sd)
{
  uint64_t *st = ((plx_xoshiro_state *)r->g->state)->s;
  uint64_t s0 = st[0], s1 = st[1], s2 = st[2], s3 = st[3];
  size_t i;
  pthread_once(&zig_once, zig_init);
  for (i = 0; i < n; i++) {
    const uint64_t x = s1 * 5, b = ((x << 7) | (x >> 57)) * 9, t = s1 << 17;
    const double u = 2.0 * (((double)(b >> 11) + 0.5) * 0x1.0p-53) - 1.0;
    const unsigned k = (unsigned)(b & 0x7f);
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 45) | (s3 >> 19);
    if (fabs(u) < zig_ratio[k]) {
      out[i] = sd * (u * zig_x[k]);
      continue;
    }
    /* rare: finish this draw the slow way, through the generator */
    st[0] = s0, st[1] = s1, st[2] = s2, st[3] = s3;
    out[i] = sd * zig_finish(r, u, k);
    s0 = st[0], s1 = st[1], s2 = st[2], s3 = st[3];
  }
  st[0] = s0, st[1] = s1, st[2] = s2, st[3] = s3;
}
