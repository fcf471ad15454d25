/* test_config.c -- config loading and validation: every error path gives a
 * one-line message with file:line and the key's dotted path. */
#include "config.h"
#include "plastix/config.h"
#include "plastix/error.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const plx_param_spec proj_spec[] = {
    PLX_P_FLOAT_MIN("eta", 0.0, 0.0, 0, "learning rate"),
    PLX_P_FLOAT_MIN("decay", 0.0, 0.0, 0, "weight decay"),
    PLX_P_END};
static const plx_param_spec inner_spec[] = {
    PLX_P_FLOAT_RANGE("sigma", 0.2, 0.0, 10.0, 0, "noise"),
    PLX_P_FLOAT_MIN("dt", 0.01, 0.0, PLX_PARAM_MIN_EXCL, "step"),
    PLX_P_INT_MIN("n", 40, 1, "units"),
    PLX_P_STRING("kind", "softplus", "softplus|relu|tanh", "nonlinearity"),
    PLX_P_BOOL("flag", 1, "a flag"),
    {"clip", PLX_PARAM_FLOAT_ARRAY, 0, 0, NULL, 0, 0, NULL, NULL, "bounds"},
    PLX_P_MAP("projections", proj_spec, "per-projection rates"),
    PLX_P_END};
static const plx_param_spec root_spec[] = {
    PLX_P_GROUP("model", inner_spec, "the model"),
    {"name", PLX_PARAM_STRING, PLX_PARAM_REQUIRED, 0, NULL, 0, 0, NULL, NULL,
     "experiment name"},
    PLX_P_END};

static int bind_text(const char *text, const plx_params **root,
                     plx_config **cfg, plx_error *err)
{
  int rc = plx_config_load_string(cfg, text, "t.cfg", err);
  if (rc)
    return rc;
  return plx_config_bind(*cfg, NULL, root_spec, NULL, root, err);
}

START_TEST(test_defaults_and_values)
{
  plx_config *cfg;
  const plx_params *root, *m, *pr;
  plx_error err;
  double clip[4];
  ck_assert_int_eq(bind_text("name = \"x\";\nmodel = { sigma = 1; n = 3;\n"
                             " clip = [0.001, 100.0];\n"
                             " projections = { W = { eta = 5e-6; }; }; };",
                             &root, &cfg, &err),
                   PLX_OK);
  m = plx_params_group(root, "model");
  ck_assert_ptr_nonnull(m);
  ck_assert_double_eq(plx_params_float(m, "sigma"), 1.0); /* int promoted */
  ck_assert_double_eq(plx_params_float(m, "dt"), 0.01);   /* default */
  ck_assert_int_eq(plx_params_int(m, "n"), 3);
  ck_assert_str_eq(plx_params_string(m, "kind"), "softplus");
  ck_assert_int_eq(plx_params_bool(m, "flag"), 1);
  ck_assert_uint_eq(plx_params_float_array(m, "clip", clip, 4), 2);
  ck_assert_double_eq(clip[1], 100.0);
  pr = plx_params_group(m, "projections");
  ck_assert_uint_eq(plx_params_count(pr), 1);
  ck_assert_str_eq(plx_params_key(pr, 0), "W");
  ck_assert_double_eq(plx_params_float(plx_params_at(pr, 0), "eta"), 5e-6);
  ck_assert_double_eq(plx_params_float(plx_params_at(pr, 0), "decay"), 0.0);
  plx_config_free(cfg);
}
END_TEST

/* each bad input -> (expected code, substring that must be in the message) */
static const struct {
  const char *text, *needle;
} bad[] = {
    {"name = \"x\";\nmodel = { sigmma = 0.1; };", "t.cfg:2: model.sigmma: unknown key (did you mean 'sigma'?"},
    {"name = \"x\";\nmodel = {\n sigma = \"big\"; };", "t.cfg:3: model.sigma: expected a number, got a string"},
    {"name = \"x\";\nmodel = { sigma = -0.2; };", "model.sigma: expected a number >= 0 and <= 10, got -0.2"},
    {"name = \"x\";\nmodel = { dt = 0.0; };", "model.dt: expected a number > 0, got 0"},
    {"name = \"x\";\nmodel = { n = 2.5; };", "model.n: expected an integer, got 2.5"},
    {"name = \"x\";\nmodel = { kind = \"sigmoid\"; };", "model.kind: expected one of: softplus, relu, tanh; got \"sigmoid\""},
    {"name = \"x\";\nmodel = { flag = 1; };", "model.flag: expected true or false, got an integer"},
    {"name = \"x\";\nmodel = { clip = [\"a\"]; };", "model.clip[0]: expected a number"},
    {"name = \"x\";\nmodel = { projections = { W = 1.0; }; };", "model.projections.W: expected a group"},
    {"name = \"x\";\nmodel = { projections = { W = { rate = 1.0; }; }; };", "model.projections.W.rate: unknown key"},
    {"model = { };", "t.cfg: name: missing required key"},
    {"name = \"x\";\nmodel = 3;", "t.cfg:2: model: expected a group"},
    {"name = \"x\";\nmodel = { sigma = ; };", "t.cfg:2: syntax error"},
};

START_TEST(test_bad_inputs)
{
  plx_config *cfg = NULL;
  const plx_params *root;
  plx_error err;
  int rc = bind_text(bad[_i].text, &root, &cfg, &err);
  ck_assert_int_eq(rc, PLX_EINVAL);
  ck_assert_msg(strstr(err.msg, bad[_i].needle) != NULL,
                "case %d: message '%s' lacks '%s'", _i, err.msg,
                bad[_i].needle);
  ck_assert_ptr_null(strchr(err.msg, '\n')); /* one line */
  ck_assert_int_eq(plx_exit_status(rc), PLX_EXIT_BADINPUT);
  plx_config_free(cfg);
}
END_TEST

START_TEST(test_missing_file)
{
  plx_config *cfg;
  plx_error err;
  ck_assert_int_eq(plx_config_load(&cfg, "/nonexistent/x.cfg", NULL, 0, &err),
                   PLX_EINVAL);
  ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/x.cfg: cannot open"));
}
END_TEST

START_TEST(test_overrides)
{
  const char *path = "test_config_ov.cfg";
  FILE *f = fopen(path, "w");
  plx_config *cfg;
  const plx_params *root;
  plx_error err;
  const char *ov[] = {"model.sigma=0.33", "model.kind=\"tanh\"",
                      "model.projections.C.eta=1e-3"};
  const char *badov[] = {"model.sigma=0.33.3"};
  const char *badrange[] = {"model.sigma=-1.0"};
  ck_assert_ptr_nonnull(f);
  fputs("name = \"x\";\nmodel = { sigma = 0.2; };\n", f);
  fclose(f);
  ck_assert_int_eq(plx_config_load(&cfg, path, ov, 3, &err), PLX_OK);
  ck_assert_int_eq(plx_config_bind(cfg, NULL, root_spec, NULL, &root, &err), PLX_OK);
  ck_assert_double_eq(plx_params_float(plx_params_group(root, "model"), "sigma"), 0.33);
  ck_assert_str_eq(plx_params_string(plx_params_group(root, "model"), "kind"), "tanh");
  ck_assert_double_eq(
      plx_params_float(plx_params_group(plx_params_group(plx_params_group(root, "model"), "projections"), "C"), "eta"),
      1e-3);
  plx_config_free(cfg);
  ck_assert_int_eq(plx_config_load(&cfg, path, badov, 1, &err), PLX_EINVAL);
  ck_assert_ptr_nonnull(strstr(err.msg, "--set model.sigma"));
  ck_assert_int_eq(plx_config_load(&cfg, path, badrange, 1, &err), PLX_OK);
  ck_assert_int_eq(plx_config_bind(cfg, NULL, root_spec, NULL, &root, &err), PLX_EINVAL);
  ck_assert_ptr_nonnull(strstr(err.msg, "--set: model.sigma: expected a number >= 0"));
  plx_config_free(cfg);
  /* values of any length (a list of photographs runs to kilobytes); a bad
   * long value is quoted in part, so the reason still fits the message */
  {
    char *longov = malloc(5000), *badlong = malloc(5000);
    const char *one[1];
    size_t i;
    strcpy(longov, "name=\"");
    for (i = 6; i < 4006; i++)
      longov[i] = 'a' + (char)(i % 26);
    strcpy(longov + 4006, "\"");
    one[0] = longov;
    ck_assert_int_eq(plx_config_load(&cfg, path, one, 1, &err), PLX_OK);
    ck_assert_int_eq(plx_config_bind(cfg, NULL, root_spec, NULL, &root, &err), PLX_OK);
    ck_assert_uint_eq(strlen(plx_params_string(root, "name")), 4000);
    ck_assert_int_eq(memcmp(plx_params_string(root, "name"), longov + 6, 4000), 0);
    plx_config_free(cfg);
    strcpy(badlong, "model.sigma=");
    for (i = 12; i < 4012; i++)
      badlong[i] = i % 2 ? '.' : '1';
    badlong[4012] = '\0';
    one[0] = badlong;
    ck_assert_int_eq(plx_config_load(&cfg, path, one, 1, &err), PLX_EINVAL);
    ck_assert_msg(strstr(err.msg, "...' is not valid config syntax"), "%s", err.msg);
    free(longov);
    free(badlong);
  }
  remove(path);
}
END_TEST

static const plx_param_spec layer_spec[] = {
    PLX_P_STRING("type", "fc", "fc|relu", "layer type"),
    PLX_P_INT_MIN("out", 1, 1, "units"),
    PLX_P_END};
static const plx_param_spec net_spec[] = {
    PLX_P_LIST("layers", layer_spec, "layers in order"),
    PLX_P_END};

START_TEST(test_group_lists)
{
  plx_config *cfg;
  const plx_params *root, *l;
  plx_error err;
  ck_assert_int_eq(plx_config_load_string(&cfg, "layers = ( { type = \"fc\"; out = 10; },\n"
                                          " { type = \"relu\"; } );", "n.cfg", &err), PLX_OK);
  ck_assert_int_eq(plx_config_bind(cfg, NULL, net_spec, NULL, &root, &err), PLX_OK);
  l = plx_params_group(root, "layers");
  ck_assert_uint_eq(plx_params_count(l), 2);
  ck_assert_int_eq(plx_params_int(plx_params_at(l, 0), "out"), 10);
  ck_assert_str_eq(plx_params_string(plx_params_at(l, 1), "type"), "relu");
  plx_config_free(cfg);
  ck_assert_int_eq(plx_config_load_string(&cfg, "layers = ( { type = \"fc\"; },\n"
                                          " { outt = 3; } );", "n.cfg", &err), PLX_OK);
  ck_assert_int_eq(plx_config_bind(cfg, NULL, net_spec, NULL, &root, &err), PLX_EINVAL);
  ck_assert_msg(strstr(err.msg, "n.cfg:2: layers[1].outt: unknown key (did you mean 'out'?") != NULL,
                "%s", err.msg);
  plx_config_free(cfg);
  ck_assert_int_eq(plx_config_load_string(&cfg, "layers = ( 3 );", "n.cfg", &err), PLX_OK);
  ck_assert_int_eq(plx_config_bind(cfg, NULL, net_spec, NULL, &root, &err), PLX_EINVAL);
  ck_assert_msg(strstr(err.msg, "layers[0]: expected a group") != NULL, "%s", err.msg);
  plx_config_free(cfg);
  ck_assert_int_eq(plx_config_load_string(&cfg, "layers = { a = 1; };", "n.cfg", &err), PLX_OK);
  ck_assert_int_eq(plx_config_bind(cfg, NULL, net_spec, NULL, &root, &err), PLX_EINVAL);
  ck_assert_msg(strstr(err.msg, "layers: expected a list of groups") != NULL, "%s", err.msg);
  plx_config_free(cfg);
}
END_TEST

/* where two configs first differ: nested keys in --set syntax, numbers by
 * value, keys missing on either side, ignored keys and groups */
static int differ(const char *ta, const char *tb, const char *const *ignore,
                  plx_config_diff *d)
{
  plx_config *a, *b;
  plx_error err;
  int r;
  ck_assert_int_eq(plx_config_load_string(&a, ta, "a.cfg", &err), PLX_OK);
  ck_assert_int_eq(plx_config_load_string(&b, tb, "b.cfg", &err), PLX_OK);
  r = plx_config_first_difference(a, b, ignore, d);
  plx_config_free(a);
  plx_config_free(b);
  return r;
}

/* the config "e / m / output" with each line replaced where given */
static const char *const base_lines[3] = {
    "e = { seed = 1; name = \"x\"; };",
    "m = { layers = ( { out = 8; }, { out = 16; k = [1.0, 2.0]; } ); };",
    "output = { figures = [\"png\"]; };"};
static int differ_from_base(const char *e, const char *m, const char *out,
                            const char *const *ignore, plx_config_diff *d)
{
  char a[512], b[512];
  snprintf(a, sizeof a, "%s\n%s\n%s", base_lines[0], base_lines[1], base_lines[2]);
  snprintf(b, sizeof b, "%s\n%s\n%s", e ? e : base_lines[0], m ? m : base_lines[1],
           out ? out : base_lines[2]);
  return differ(a, b, ignore, d);
}

START_TEST(test_first_difference)
{
  static const char *const seed_and_out[] = {"e.seed", "output", NULL};
  plx_config_diff d;
  ck_assert_int_eq(differ_from_base(NULL, NULL, NULL, NULL, &d), 0);
  /* 16 and 16.0 are one number; group members in another order are equal */
  ck_assert_int_eq(differ_from_base("e = { name = \"x\"; seed = 1; };",
                                    "m = { layers = ( { out = 8.0; }, "
                                    "{ k = [1.0, 2.0]; out = 16.0; } ); };",
                                    NULL, NULL, &d), 0);
  ck_assert_int_eq(differ_from_base(NULL, "m = { layers = ( { out = 8; }, "
                                    "{ out = 16; k = [1.0, 2.5]; } ); };", NULL, NULL, &d), 1);
  ck_assert_str_eq(d.key, "m.layers.[1].k.[1]");
  ck_assert_str_eq(d.a, "2");
  ck_assert_str_eq(d.b, "2.5");
  ck_assert_int_eq(d.line_a, 2);
  ck_assert_int_eq(d.line_b, 2);
  /* a key only one side has, either way round */
  ck_assert_int_eq(differ_from_base("e = { seed = 1; name = \"x\"; extra = true; };", NULL,
                                    NULL, NULL, &d), 1);
  ck_assert_str_eq(d.key, "e.extra");
  ck_assert_str_eq(d.a, "absent");
  ck_assert_str_eq(d.b, "true");
  ck_assert_int_eq(differ("e = { seed = 1; name = \"x\"; extra = \"y\"; };",
                          "e = { seed = 1; name = \"x\"; };", NULL, &d), 1);
  ck_assert_str_eq(d.key, "e.extra");
  ck_assert_str_eq(d.a, "\"y\"");
  ck_assert_str_eq(d.b, "absent");
  /* lists of another length, and a type change */
  ck_assert_int_eq(differ_from_base(NULL, "m = { layers = ( { out = 8; } ); };", NULL, NULL,
                                    &d), 1);
  ck_assert_str_eq(d.key, "m.layers");
  ck_assert_str_eq(d.a, "a list of 2 elements");
  ck_assert_str_eq(d.b, "a list of 1 elements");
  ck_assert_int_eq(differ("e = { seed = 1; };", "e = { seed = \"1\"; };", NULL, &d), 1);
  ck_assert_str_eq(d.key, "e.seed");
  /* ignored: one key, and a whole group by its name, but not a prefix of a name */
  ck_assert_int_eq(differ_from_base("e = { seed = 2; name = \"x\"; };", NULL,
                                    "output = { figures = []; dir = \"o\"; };", seed_and_out,
                                    &d), 0);
  ck_assert_int_eq(differ("e = { seed = 1; seeds = 3; };", "e = { seed = 1; seeds = 4; };",
                          seed_and_out, &d), 1);
  ck_assert_str_eq(d.key, "e.seeds");
  /* the one-line refusal of runs of two designs */
  {
    static const char *const three[] = {"e.seed", "e.name", "output", NULL};
    plx_config *a, *b;
    plx_error err;
    ck_assert_int_eq(plx_config_load_string(&a, "e = { seed = 1; };\nm = { n = 2; };", "a.cfg",
                                            &err), PLX_OK);
    ck_assert_int_eq(plx_config_load_string(&b, "e = { seed = 5; };\nm = { n = 3; };", "b.cfg",
                                            &err), PLX_OK);
    ck_assert_int_eq(plx_config_same_design(a, b, three, "; hint", &err), PLX_EINVAL);
    ck_assert_str_eq(err.msg, "b.cfg:2: m.n: 3, but 2 in a.cfg; runs of one report must share "
                              "their design (they may differ only in e.seed, e.name and "
                              "output; hint)");
    ck_assert_int_eq(plx_config_same_design(a, a, three, NULL, &err), PLX_OK);
    plx_config_free(a);
    plx_config_free(b);
  }
}
END_TEST

int main(void)
{
  Suite *s = suite_create("config");
  TCase *tc = tcase_create("core");
  SRunner *sr;
  int nf;
  tcase_add_test(tc, test_defaults_and_values);
  tcase_add_loop_test(tc, test_bad_inputs, 0, (int)(sizeof bad / sizeof bad[0]));
  tcase_add_test(tc, test_missing_file);
  tcase_add_test(tc, test_overrides);
  tcase_add_test(tc, test_group_lists);
  tcase_add_test(tc, test_first_difference);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf == 0 ? 0 : 1;
}
