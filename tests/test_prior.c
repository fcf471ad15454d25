/* test_prior.c -- stimulus priors: densities integrate to one, scores are
 * derivatives of log densities, samplers draw from their densities
 * (moments with sample-size margins); mixtures, shifted and tightened
 * variants, and a density tabulated in a file; file errors. */
#include "config.h"
#include "plastix/error.h"
#include "plastix/prior.h"

#include <check.h>
#include <gsl/gsl_sf_bessel.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static plx_prior *from_text(const char *text, plx_config **cfg, int *rc,
                            plx_error *err)
{
  const plx_params *root;
  plx_prior *p = NULL;
  ck_assert_int_eq(plx_config_load_string(cfg, text, PLX_BUILDDIR "/prior.cfg", err), PLX_OK);
  *rc = plx_config_bind(*cfg, "prior", plx_prior_spec, NULL, &root, err);
  if (!*rc)
    *rc = plx_prior_from_params(&p, root, err);
  return p;
}

/* integral of the density, its score against finite differences, and the
 * sampler's first circular moments against the density's */
static void check_prior(const plx_prior *p)
{
  const int n = 4000;
  double z = 0, c = 0, s = 0, mc = 0, ms = 0;
  int i;
  plx_rng *r = plx_rng_alloc(3, 0, PLX_POP_STIMULUS);
  for (i = 0; i < n; i++) {
    double t = -M_PI + 2 * M_PI * (i + 0.5) / n, d = plx_prior_density(p, t);
    double h = 1e-5, fd;
    z += d * 2 * M_PI / n;
    c += cos(t) * d * 2 * M_PI / n;
    s += sin(t) * d * 2 * M_PI / n;
    if (i % 97 == 0 && d > 1e-6) {
      fd = (log(plx_prior_density(p, t + h)) - log(plx_prior_density(p, t - h))) / (2 * h);
      ck_assert_double_eq_tol(plx_prior_dlog(p, t), fd, 1e-3 * (1 + fabs(fd)));
    }
  }
  ck_assert_double_eq_tol(z, 1.0, 1e-6);
  for (i = 0; i < 100000; i++) {
    double t = plx_prior_sample(p, r);
    ck_assert(t >= -M_PI && t < M_PI);
    mc += cos(t);
    ms += sin(t);
  }
  mc /= 100000;
  ms /= 100000;
  /* s.d. of cos, sin <= 1: 5 standard errors */
  ck_assert_double_lt(fabs(mc - c), 5.0 / sqrt(100000.0));
  ck_assert_double_lt(fabs(ms - s), 5.0 / sqrt(100000.0));
  plx_rng_free(r);
}

START_TEST(test_families)
{
  static const char *const texts[] = {
      "prior = { type = \"von_mises\"; mu = 0.5; kappa = 2.0; };",
      "prior = { type = \"uniform\"; };",
      "prior = { type = \"von_mises\"; mu = 0.0; kappa = 0.75; shift = 1.0; tighten = 3.0; };",
      "prior = { type = \"mixture\"; components = {"
      " a = { mu = -2.0; kappa = 4.0; weight = 1.0; };"
      " b = { mu = 1.0; kappa = 1.0; weight = 2.0; };"
      " c = { type = \"uniform\"; weight = 0.5; }; }; };",
  };
  size_t k;
  for (k = 0; k < sizeof texts / sizeof texts[0]; k++) {
    plx_config *cfg;
    plx_error err;
    int rc;
    plx_prior *p = from_text(texts[k], &cfg, &rc, &err);
    ck_assert_msg(rc == PLX_OK, "%s", err.msg);
    check_prior(p);
    plx_prior_free(p);
    plx_config_free(cfg);
  }
}
END_TEST

START_TEST(test_shift_and_tighten)
{
  plx_config *cfg;
  plx_error err;
  int rc;
  plx_prior *p = from_text("prior = { mu = 0.0; kappa = 0.75; shift = 1.0; tighten = 2.0; };",
                           &cfg, &rc, &err);
  ck_assert_int_eq(rc, PLX_OK);
  ck_assert_double_eq_tol(plx_prior_density(p, 0.3), plx_von_mises_density(0.3, 1.0, 1.5), 1e-12);
  ck_assert_double_eq(plx_prior_kappa(p), 1.5);
  plx_prior_free(p);
  plx_config_free(cfg);
}
END_TEST

START_TEST(test_tabulated)
{
  const char *path = PLX_BUILDDIR "/prior_table.csv";
  FILE *f = fopen(path, "w");
  plx_config *cfg;
  plx_error err;
  plx_prior *p;
  int i, rc;
  ck_assert_ptr_nonnull(f);
  fputs("# von Mises(mu = 0.4, kappa = 1.5), unnormalised on purpose\ntheta,density\n", f);
  for (i = 0; i < 360; i++) {
    double t = -M_PI + 2 * M_PI * i / 360.0;
    fprintf(f, "%.17g,%.17g\n", t, 3.0 * exp(1.5 * cos(t - 0.4)));
  }
  fclose(f);
  p = from_text("prior = { type = \"tabulated\"; file = \"prior_table.csv\"; };", &cfg, &rc, &err);
  ck_assert_msg(rc == PLX_OK, "%s", err.msg);
  /* linear interpolation on a 1-degree grid: close to the exact density */
  for (i = 0; i < 100; i++) {
    double t = -3.0 + 0.06 * i;
    ck_assert_double_eq_tol(plx_prior_density(p, t), plx_von_mises_density(t, 0.4, 1.5), 2e-4);
  }
  check_prior(p);
  plx_prior_free(p);
  plx_config_free(cfg);
  remove(path);
}
END_TEST

START_TEST(test_tabulated_errors)
{
  static const struct {
    const char *csv, *needle;
  } cases[] = {
      {NULL, "prior.file: "},
      {"theta,weight\n0,1\n1,1\n2,1\n", "expected numeric columns theta, density"},
      {"theta,density\n0,1\n-1,1\n2,1\n", "row 2: theta must increase"},
      {"theta,density\n0,1\n1,-1\n2,1\n", "row 2: theta must increase within [-pi, pi) and density be >= 0"},
      {"theta,density\n0,1\n1\n", "prior_bad.csv:3: expected 2 fields, got 1"},
  };
  size_t k;
  for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    const char *path = PLX_BUILDDIR "/prior_bad.csv";
    plx_config *cfg;
    plx_error err;
    int rc;
    plx_prior *p;
    remove(path);
    if (cases[k].csv) {
      FILE *f = fopen(path, "w");
      fputs(cases[k].csv, f);
      fclose(f);
    }
    p = from_text("prior = {\n type = \"tabulated\";\n file = \"prior_bad.csv\"; };", &cfg, &rc, &err);
    ck_assert_ptr_null(p);
    ck_assert_int_eq(rc, PLX_EINVAL);
    ck_assert_msg(strstr(err.msg, cases[k].needle) && strstr(err.msg, "prior.cfg:3: prior.file"),
                  "case %zu: %s", k, err.msg);
    plx_config_free(cfg);
    remove(path);
  }
}
END_TEST

int main(void)
{
  Suite *s = suite_create("prior");
  TCase *tc = tcase_create("core");
  SRunner *sr;
  int nf;
  tcase_set_timeout(tc, 60); /* 100000 draws per family, slower under the sanitizers */
  tcase_add_test(tc, test_families);
  tcase_add_test(tc, test_shift_and_tighten);
  tcase_add_test(tc, test_tabulated);
  tcase_add_test(tc, test_tabulated_errors);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf == 0 ? 0 : 1;
}
