/* plastix/rng.h -- random streams keyed by (seed, trial, population).
 *
 * A plx_rng is a GSL generator (type plx_rng_xoshiro256ss, usable with every
 * gsl_ran_* function through plx_rng_gsl) whose state is derived from the
 * triple (seed, trial, population) by a SplitMix64 hash.  One stream per
 * trial and population -- never per thread -- is what makes a run bitwise
 * identical for any number of threads or processes.  The hot paths use the
 * inline bulk samplers below (xoshiro256** and a 128-layer ziggurat). */
#ifndef PLASTIX_RNG_H
#define PLASTIX_RNG_H

#include <gsl/gsl_rng.h>
#include <stddef.h>
#include <stdint.h>

/* Populations: which part of a simulation a stream feeds.  Streams of
 * different populations (or trials) are statistically independent. */
enum plx_population {
  PLX_POP_INIT = 1,         /* weight initialisation                */
  PLX_POP_STIMULUS = 2,     /* training stimulus process            */
  PLX_POP_NETWORK = 3,      /* network noise during training        */
  PLX_POP_TEST_STIMULUS = 4,/* stimuli of frozen test trials        */
  PLX_POP_TEST_NETWORK = 5, /* network noise of frozen test trials  */
  PLX_POP_EVAL_STIMULUS = 6,/* periodic evaluation during training  */
  PLX_POP_EVAL_NETWORK = 7,
  PLX_POP_DATA = 8,         /* data sets: patches, batches, labels  */
  PLX_POP_RULE = 9          /* rules that draw their own noise      */
};

/* Compose a population id with a sub-index (e.g. the evaluation number). */
#define PLX_POP_SUB(pop, sub) (((uint64_t)(sub) << 8) | (uint64_t)(pop))

extern const gsl_rng_type *plx_rng_xoshiro256ss;

typedef struct plx_rng {
  gsl_rng *g;
} plx_rng;

typedef struct plx_xoshiro_state {
  uint64_t s[4];
} plx_xoshiro_state;

/* Allocate a generator at stream (seed, trial, population); NULL on OOM. */
plx_rng *plx_rng_alloc(uint64_t seed, uint64_t trial, uint64_t population);
void plx_rng_free(plx_rng *r);
/* Move an existing generator to another stream (no allocation). */
void plx_rng_reseed(plx_rng *r, uint64_t seed, uint64_t trial,
                    uint64_t population);
/* The 64-bit key of a stream (for manifests and checkpoints). */
uint64_t plx_rng_key(uint64_t seed, uint64_t trial, uint64_t population);
gsl_rng *plx_rng_gsl(plx_rng *r);

/* out[i] ~ N(0, sd^2), i < n. */
void plx_rng_normal_fill(plx_rng *r, double *out, size_t n, double sd);
double plx_rng_normal(plx_rng *r);
/* Uniform in (0, 1): never exactly 0 or 1. */
double plx_rng_uniform(plx_rng *r);
/* Uniform integer in [0, n). */
uint64_t plx_rng_below(plx_rng *r, uint64_t n);
/* out[i] ~ U(lo, hi). */
void plx_rng_uniform_fill(plx_rng *r, double *out, size_t n, double lo,
                          double hi);

/* Raw 64-bit draw, inline for hot loops. */
static inline uint64_t plx_rng_u64(plx_rng *r)
{
  uint64_t *s = ((plx_xoshiro_state *)r->g->state)->s;
  const uint64_t x = s[1] * 5;
  const uint64_t res = ((x << 7) | (x >> 57)) * 9;
  const uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = (s[3] << 45) | (s[3] >> 19);
  return res;
}

#endif
