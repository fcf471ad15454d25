/* test_json.c -- the JSON reader on nested documents, escapes, numbers and
 * a real network file (Bredenberg et al. 2020 weights); the streaming
 * writer's layout and its exact round trip through the reader; every
 * syntax error with its line:column; nesting limits. */
#include "config.h"
#include "plastix/error.h"
#include "plastix/json.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TMP "test_json_tmp.json"
#define NETWORK "/work/shared/data/bredenberg2020_network_cr.json"

static plx_json *parse_ok(const char *text)
{
  plx_json *v = NULL;
  plx_error err = {0, ""};
  int rc = plx_json_parse(&v, text, strlen(text), "t.json", &err);
  ck_assert_msg(rc == PLX_OK, "%s: %s", text, err.msg);
  return v;
}

START_TEST(test_nested)
{
  const char *text =
      " {\n"
      "  \"name\": \"run 1\",\n"
      "  \"ok\": true, \"bad\": false, \"none\": null,\n"
      "  \"list\": [1, [2, [3, {}]], [], {\"k\": [true]}],\n"
      "  \"obj\": {\"a\": {\"b\": {\"c\": -4.5}}},\n"
      "  \"dup\": 1, \"dup\": 2\n"
      "} \n";
  plx_json *v = parse_ok(text);
  const plx_json *l, *x;

  ck_assert_int_eq(plx_json_type(v), PLX_JSON_OBJECT);
  ck_assert_uint_eq(plx_json_len(v), 8); /* both "dup" members kept */
  ck_assert_str_eq(plx_json_key_at(v, 0), "name");
  ck_assert_str_eq(plx_json_key_at(v, 7), "dup");
  ck_assert_ptr_null(plx_json_key_at(v, 8));
  ck_assert_str_eq(plx_json_string(plx_json_get(v, "name")), "run 1");
  ck_assert_str_eq(plx_json_string(plx_json_at(v, 0)), "run 1");
  ck_assert_int_eq(plx_json_bool(plx_json_get(v, "ok")), 1);
  ck_assert_int_eq(plx_json_type(plx_json_get(v, "bad")), PLX_JSON_BOOL);
  ck_assert_int_eq(plx_json_bool(plx_json_get(v, "bad")), 0);
  ck_assert_int_eq(plx_json_type(plx_json_get(v, "none")), PLX_JSON_NULL);
  ck_assert_ptr_nonnull(plx_json_get(v, "none"));
  ck_assert_ptr_null(plx_json_get(v, "absent"));
  ck_assert_double_eq(plx_json_number(plx_json_get(v, "dup")), 2);

  l = plx_json_get(v, "list");
  ck_assert_int_eq(plx_json_type(l), PLX_JSON_ARRAY);
  ck_assert_uint_eq(plx_json_len(l), 4);
  ck_assert_double_eq(plx_json_number(plx_json_at(l, 0)), 1);
  x = plx_json_at(plx_json_at(plx_json_at(l, 1), 1), 1);
  ck_assert_int_eq(plx_json_type(x), PLX_JSON_OBJECT);
  ck_assert_uint_eq(plx_json_len(x), 0);
  ck_assert_uint_eq(plx_json_len(plx_json_at(l, 2)), 0);
  ck_assert_int_eq(
      plx_json_bool(plx_json_at(plx_json_get(plx_json_at(l, 3), "k"), 0)), 1);
  ck_assert_ptr_null(plx_json_at(l, 4));
  x = plx_json_get(plx_json_get(plx_json_get(plx_json_get(v, "obj"), "a"),
                                "b"),
                   "c");
  ck_assert_double_eq(plx_json_number(x), -4.5);

  /* accessors on the wrong kind, or NULL */
  ck_assert(isnan(plx_json_number(plx_json_get(v, "name"))));
  ck_assert_ptr_null(plx_json_string(x));
  ck_assert_ptr_null(plx_json_get(l, "k"));
  ck_assert_ptr_null(plx_json_key_at(l, 0));
  ck_assert_uint_eq(plx_json_len(x), 0);
  ck_assert_int_eq(plx_json_type(NULL), PLX_JSON_NULL);
  ck_assert_ptr_null(plx_json_get(NULL, "a"));
  ck_assert_int_eq(plx_json_bool(NULL), 0);
  plx_json_free(v);
  plx_json_free(NULL);

  /* scalars at the top level */
  v = parse_ok("\"just text\"");
  ck_assert_str_eq(plx_json_string(v), "just text");
  plx_json_free(v);
  v = parse_ok("\xef\xbb\xbf  null  ");
  ck_assert_int_eq(plx_json_type(v), PLX_JSON_NULL);
  plx_json_free(v);
}
END_TEST

START_TEST(test_escapes)
{
  plx_json *v = parse_ok("[\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\","
                         " \"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\","
                         " \"raw \xc3\xa9 \xe2\x82\xac\","
                         " \"nul\\u0000byte\", \"\"]");
  ck_assert_str_eq(plx_json_string(plx_json_at(v, 0)),
                   "q\" b\\ s/ \b\f\n\r\t");
  ck_assert_str_eq(plx_json_string(plx_json_at(v, 1)),
                   "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  ck_assert_str_eq(plx_json_string(plx_json_at(v, 2)),
                   "raw \xc3\xa9 \xe2\x82\xac");
  ck_assert_uint_eq(plx_json_string_len(plx_json_at(v, 3)), 8);
  ck_assert_int_eq(memcmp(plx_json_string(plx_json_at(v, 3)), "nul\0byte", 9),
                   0);
  ck_assert_str_eq(plx_json_string(plx_json_at(v, 4)), "");
  plx_json_free(v);
}
END_TEST

START_TEST(test_numbers)
{
  plx_json *v = parse_ok("[0, -0, 7, -12, 1.5, 1.5e3, -2E-2, 1e+2, 0.1,"
                         " 123456789012345678901234567890,"
                         " 4.9406564584124654e-324, 1.7976931348623157e308,"
                         " 1e-400, NaN, Infinity, -Infinity, 0.30000000000000004]");
  ck_assert_uint_eq(plx_json_len(v), 17);
  ck_assert_double_eq(plx_json_number(plx_json_at(v, 0)), 0);
  ck_assert(signbit(plx_json_number(plx_json_at(v, 1))));
  ck_assert_double_eq(plx_json_number(plx_json_at(v, 2)), 7);
  ck_assert_double_eq(plx_json_number(plx_json_at(v, 3)), -12);
  ck_assert_double_eq(plx_json_number(plx_json_at(v, 4)), 1.5);
  ck_assert_double_eq(plx_json_number(plx_json_at(v, 5)), 1500);
  ck_assert_double_eq(plx_json_number(plx_json_at(v, 6)), -0.02);
  ck_assert_double_eq(plx_json_number(plx_json_at(v, 7)), 100);
  ck_assert_double_eq(plx_json_number(plx_json_at(v, 8)), 0.1);
  ck_assert_double_eq(plx_json_number(plx_json_at(v, 9)),
                      123456789012345678901234567890.0);
  ck_assert_double_eq(plx_json_number(plx_json_at(v, 10)), 4.9406564584124654e-324);
  ck_assert_double_eq(plx_json_number(plx_json_at(v, 11)), 1.7976931348623157e308);
  ck_assert_double_eq(plx_json_number(plx_json_at(v, 12)), 0); /* underflow */
  ck_assert(isnan(plx_json_number(plx_json_at(v, 13))));
  ck_assert(isinf(plx_json_number(plx_json_at(v, 14))));
  ck_assert_double_lt(plx_json_number(plx_json_at(v, 15)), 0);
  ck_assert_double_eq(plx_json_number(plx_json_at(v, 16)), 0.1 + 0.2);
  plx_json_free(v);
}
END_TEST

/* The number right after `prefix` in the raw text, read with strtod: an
 * independent check on the parser. */
static double raw_number_after(const char *text, const char *prefix)
{
  const char *p = strstr(text, prefix);
  ck_assert_msg(p != NULL, "no %s in file", prefix);
  return strtod(p + strlen(prefix), NULL);
}

START_TEST(test_network_file)
{
  plx_json *v = NULL;
  plx_error err = {0, ""};
  double *W = NULL, *C = NULL, *b = NULL, *D = NULL;
  size_t r, c, n;
  FILE *f;
  char *text;
  long len;

  if (access(NETWORK, R_OK) != 0)
    return; /* data set not present on this machine */
  ck_assert_msg(plx_json_parse_file(&v, NETWORK, &err) == PLX_OK, "%s",
                err.msg);
  ck_assert_int_eq(plx_json_type(v), PLX_JSON_OBJECT);
  ck_assert_double_eq(
      plx_json_number(plx_json_get(plx_json_get(v, "params"), "N")), 40);
  ck_assert_double_eq(
      plx_json_number(plx_json_get(plx_json_get(v, "params"), "sigma")), 0.2);

  ck_assert_int_eq(plx_json_matrix(plx_json_get(v, "W"), "W", &W, &r, &c,
                                   &err), PLX_OK);
  ck_assert_uint_eq(r, 40);
  ck_assert_uint_eq(c, 40);
  ck_assert_int_eq(plx_json_matrix(plx_json_get(v, "C"), "C", &C, &r, &c,
                                   &err), PLX_OK);
  ck_assert_uint_eq(r, 40);
  ck_assert_uint_eq(c, 12);
  ck_assert_int_eq(plx_json_vector(plx_json_get(v, "b"), "b", &b, &n, &err),
                   PLX_OK);
  ck_assert_uint_eq(n, 40);
  ck_assert_int_eq(plx_json_matrix(plx_json_get(v, "D"), "D", &D, &r, &c,
                                   &err), PLX_OK);
  ck_assert_uint_eq(r, 2);
  ck_assert_uint_eq(c, 40);

  /* entries as Python's json module reads them: W[i][j] is out[i + j*rows] */
  ck_assert_double_eq(W[0 + 0 * 40], -0.00311768390611894);
  ck_assert_double_eq(W[3 + 5 * 40], -0.028997254205932216);
  ck_assert_double_eq(W[0 + 39 * 40], -0.038570353736792434);
  ck_assert_double_eq(W[39 + 0 * 40], -0.008268853343104392);
  ck_assert_double_eq(W[39 + 39 * 40], 0.027687171939357474);
  ck_assert_double_eq(C[7 + 11 * 40], 0.08043295535829252);
  ck_assert_double_eq(C[39 + 0 * 40], 0.09019113047701817);
  ck_assert_double_eq(C[0 + 11 * 40], -0.07741856298776854);
  ck_assert_double_eq(D[1 + 39 * 2], 0.14039513769862427);
  ck_assert_double_eq(b[0], 0.012955975311063767);
  ck_assert_double_eq(b[39], 0.006332919012072006);
  /* and as strtod reads the raw text */
  f = fopen(NETWORK, "rb");
  ck_assert_ptr_nonnull(f);
  fseek(f, 0, SEEK_END);
  len = ftell(f);
  rewind(f);
  text = calloc((size_t)len + 1, 1);
  ck_assert_uint_eq(fread(text, 1, (size_t)len, f), (size_t)len);
  fclose(f);
  ck_assert_double_eq(D[0], raw_number_after(text, "\"D\": [["));
  ck_assert_double_eq(b[0], raw_number_after(text, "\"b\": ["));
  ck_assert_double_eq(W[0], raw_number_after(text, "\"W\": [["));
  free(text);

  free(D);
  D = NULL;
  /* the wrong shapes are refused, naming the matrix */
  ck_assert_int_eq(plx_json_matrix(plx_json_get(v, "b"), "b", &D, &r, &c,
                                   &err), PLX_EINVAL);
  ck_assert_str_eq(err.msg,
                   "b[0]: expected a row (a list of numbers), got a number");
  ck_assert_int_eq(plx_json_vector(plx_json_get(v, "W"), "W", &D, &n, &err),
                   PLX_EINVAL);
  ck_assert_str_eq(err.msg, "W[0]: expected a number, got a list");
  ck_assert_int_eq(plx_json_matrix(plx_json_get(v, "U"), "U", &D, &r, &c,
                                   &err), PLX_ENOTFOUND);
  ck_assert_str_eq(err.msg, "U: missing");
  ck_assert_ptr_null(D);
  free(W);
  free(C);
  free(b);
  plx_json_free(v);
}
END_TEST

START_TEST(test_matrix_errors)
{
  plx_json *v = parse_ok("{\"ragged\": [[1, 2], [3, 4], [5]],"
                         " \"text\": [[1, 2], [3, \"x\"]],"
                         " \"flat\": {\"a\": 1}, \"nan\": [[1, null]],"
                         " \"empty\": [], \"vec\": [1, true]}");
  plx_error err = {0, ""};
  double *a = NULL;
  size_t r = 9, c = 9, n = 9;

  ck_assert_int_eq(plx_json_matrix(plx_json_get(v, "ragged"), "W", &a, &r,
                                   &c, &err), PLX_EINVAL);
  ck_assert_str_eq(err.msg, "W[2]: expected 2 numbers (as in W[0]), got 1");
  ck_assert_ptr_null(a);
  ck_assert_int_eq(plx_json_matrix(plx_json_get(v, "text"), "C", &a, &r, &c,
                                   &err), PLX_EINVAL);
  ck_assert_str_eq(err.msg, "C[1][1]: expected a number, got a string");
  ck_assert_int_eq(plx_json_matrix(plx_json_get(v, "flat"), "D", &a, &r, &c,
                                   &err), PLX_EINVAL);
  ck_assert_str_eq(err.msg, "D: expected a list of rows, got an object");
  ck_assert_int_eq(plx_json_vector(plx_json_get(v, "vec"), "b", &a, &n,
                                   &err), PLX_EINVAL);
  ck_assert_str_eq(err.msg, "b[1]: expected a number, got a boolean");
  ck_assert_int_eq(plx_json_vector(plx_json_get(v, "flat"), "b", &a, &n,
                                   &err), PLX_EINVAL);
  ck_assert_str_eq(err.msg, "b: expected a list of numbers, got an object");
  /* null is the writer's non-finite number */
  ck_assert_int_eq(plx_json_matrix(plx_json_get(v, "nan"), "N", &a, &r, &c,
                                   &err), PLX_OK);
  ck_assert_uint_eq(r, 1);
  ck_assert_uint_eq(c, 2);
  ck_assert(isnan(a[1]));
  free(a);
  ck_assert_int_eq(plx_json_matrix(plx_json_get(v, "empty"), "E", &a, &r, &c,
                                   &err), PLX_OK);
  ck_assert_ptr_nonnull(a);
  ck_assert_uint_eq(r, 0);
  ck_assert_uint_eq(c, 0);
  free(a);
  plx_json_free(v);
}
END_TEST

static uint64_t next_u64(uint64_t *s)
{
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

START_TEST(test_writer_round_trip)
{
  enum { N = 2000 };
  static const char *tricky = "quote \" backslash \\ newline\n tab\t "
                              "ctl \x01\x1f del \x7f unicode \xc3\xa9\xe2\x82"
                              "\xac\xf0\x9f\x98\x80 </script>";
  double *x = malloc(N * sizeof *x);
  uint64_t seed = 12345;
  plx_error err = {0, ""};
  plx_json *v = NULL;
  const plx_json *a;
  plx_jw *w;
  FILE *f;
  size_t i;

  for (i = 0; i < N; i++) {
    uint64_t bits;
    do {
      bits = next_u64(&seed);
      memcpy(&x[i], &bits, sizeof x[i]);
    } while (!isfinite(x[i]));
  }
  x[0] = 0.1;
  x[1] = -0.0;
  x[2] = 5e-324;
  x[3] = 1.7976931348623157e308;
  x[4] = 1.0 / 3.0;

  f = fopen(TMP, "w");
  ck_assert_ptr_nonnull(f);
  w = plx_jw_new(f);
  plx_jw_object_begin(w, NULL);
  plx_jw_string(w, "tricky", tricky);
  plx_jw_string(w, "quote\"key\n", "v");
  plx_jw_int(w, "big", 9007199254740993LL);
  plx_jw_int(w, "neg", -42);
  plx_jw_bool(w, "yes", 1);
  plx_jw_bool(w, "no", 0);
  plx_jw_null(w, "nothing");
  plx_jw_string(w, "nullstr", NULL);
  plx_jw_number(w, "nan", NAN);
  plx_jw_number(w, "inf", -INFINITY);
  plx_jw_array_begin(w, "empty");
  plx_jw_array_end(w);
  plx_jw_object_begin(w, "nested");
  plx_jw_array_begin(w, "rows");
  plx_jw_array_begin(w, "ignored key");
  plx_jw_number(w, NULL, 1);
  plx_jw_number(w, NULL, 2.5);
  plx_jw_array_end(w);
  plx_jw_object_begin(w, NULL);
  plx_jw_object_end(w);
  plx_jw_array_end(w);
  plx_jw_object_end(w);
  plx_jw_array_begin(w, "x");
  for (i = 0; i < N; i++)
    plx_jw_number(w, NULL, x[i]);
  plx_jw_array_end(w);
  plx_jw_object_end(w);
  ck_assert_int_eq(plx_jw_status(w), PLX_OK);
  plx_jw_free(w);
  ck_assert_int_eq(fclose(f), 0);

  ck_assert_msg(plx_json_parse_file(&v, TMP, &err) == PLX_OK, "%s", err.msg);
  ck_assert_str_eq(plx_json_string(plx_json_get(v, "tricky")), tricky);
  ck_assert_str_eq(plx_json_key_at(v, 1), "quote\"key\n");
  ck_assert_double_eq(plx_json_number(plx_json_get(v, "big")),
                      9007199254740992.0);
  ck_assert_double_eq(plx_json_number(plx_json_get(v, "neg")), -42);
  ck_assert_int_eq(plx_json_bool(plx_json_get(v, "yes")), 1);
  ck_assert_int_eq(plx_json_type(plx_json_get(v, "no")), PLX_JSON_BOOL);
  ck_assert_int_eq(plx_json_type(plx_json_get(v, "nothing")), PLX_JSON_NULL);
  ck_assert_int_eq(plx_json_type(plx_json_get(v, "nullstr")), PLX_JSON_NULL);
  ck_assert_int_eq(plx_json_type(plx_json_get(v, "nan")), PLX_JSON_NULL);
  ck_assert_int_eq(plx_json_type(plx_json_get(v, "inf")), PLX_JSON_NULL);
  ck_assert_double_eq(
      plx_json_number(plx_json_at(
          plx_json_at(plx_json_get(plx_json_get(v, "nested"), "rows"), 0),
          1)),
      2.5);
  a = plx_json_get(v, "x");
  ck_assert_uint_eq(plx_json_len(a), N);
  for (i = 0; i < N; i++) {
    double y = plx_json_number(plx_json_at(a, i));
    ck_assert_msg(memcmp(&y, &x[i], sizeof y) == 0, "x[%zu] = %.17g != %.17g",
                  i, y, x[i]);
  }
  plx_json_free(v);
  free(x);
  unlink(TMP);
}
END_TEST

static char *write_to_string(void (*fill)(plx_jw *), int *status)
{
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  plx_jw *w = plx_jw_new(f);
  fill(w);
  *status = plx_jw_status(w);
  plx_jw_free(w);
  fclose(f);
  return buf;
}

static void fill_small(plx_jw *w)
{
  plx_jw_object_begin(w, NULL);
  plx_jw_string(w, "plastix", "0.1");
  plx_jw_number(w, "dt", 0.1);
  plx_jw_array_begin(w, "shape");
  plx_jw_int(w, NULL, 40);
  plx_jw_int(w, NULL, 12);
  plx_jw_array_end(w);
  plx_jw_object_begin(w, "empty");
  plx_jw_object_end(w);
  plx_jw_object_end(w);
}

static void fill_unbalanced(plx_jw *w)
{
  plx_jw_array_begin(w, NULL);
  plx_jw_object_end(w);
}

static void fill_unfinished(plx_jw *w)
{
  plx_jw_array_begin(w, NULL);
}

static void fill_no_key(plx_jw *w)
{
  plx_jw_object_begin(w, NULL);
  plx_jw_int(w, NULL, 1);
  plx_jw_object_end(w);
}

static void fill_two_values(plx_jw *w)
{
  plx_jw_int(w, NULL, 1);
  plx_jw_int(w, NULL, 2);
}

START_TEST(test_writer_layout)
{
  int status;
  char *s = write_to_string(fill_small, &status);
  ck_assert_int_eq(status, PLX_OK);
  ck_assert_str_eq(s, "{\n"
                      "  \"plastix\": \"0.1\",\n"
                      "  \"dt\": 0.1,\n"
                      "  \"shape\": [\n"
                      "    40,\n"
                      "    12\n"
                      "  ],\n"
                      "  \"empty\": {}\n"
                      "}\n");
  free(s);
  free(write_to_string(fill_unbalanced, &status));
  ck_assert_int_eq(status, PLX_EINVAL);
  free(write_to_string(fill_unfinished, &status));
  ck_assert_int_eq(status, PLX_EINVAL);
  free(write_to_string(fill_no_key, &status));
  ck_assert_int_eq(status, PLX_EINVAL);
  free(write_to_string(fill_two_values, &status));
  ck_assert_int_eq(status, PLX_EINVAL);
  /* NULL-safe */
  ck_assert_ptr_null(plx_jw_new(NULL));
  plx_jw_number(NULL, "x", 1);
  plx_jw_object_end(NULL);
  plx_jw_free(NULL);
  ck_assert_int_eq(plx_jw_status(NULL), PLX_EINVAL);
}
END_TEST

static void expect_error(const char *text, size_t len, const char *msg)
{
  plx_json *v = (plx_json *)1;
  plx_error err = {0, ""};
  ck_assert_int_eq(plx_json_parse(&v, text, len, "t.json", &err),
                   PLX_EINVAL);
  ck_assert_ptr_null(v);
  ck_assert_int_eq(err.code, PLX_EINVAL);
  ck_assert_str_eq(err.msg, msg);
}

#define EXPECT_ERROR(text, msg) expect_error(text, strlen(text), msg)

START_TEST(test_errors)
{
  plx_json *v = NULL;
  plx_error err = {0, ""};

  EXPECT_ERROR("[1 2]", "t.json:1:4: expected ',' or ']'");
  EXPECT_ERROR("{\n  \"a\": [1, 2,\n        3 4]\n}",
               "t.json:3:11: expected ',' or ']'");
  EXPECT_ERROR("[\n  1,\n  2\n", "t.json:4:1: expected ',' or ']'");
  EXPECT_ERROR("{\"a\" 1}", "t.json:1:6: expected ':'");
  EXPECT_ERROR("{\"a\":1,}", "t.json:1:8: expected a string key");
  EXPECT_ERROR("{1:2}", "t.json:1:2: expected a string key");
  EXPECT_ERROR("{\"a\":1 \"b\":2}", "t.json:1:8: expected ',' or '}'");
  EXPECT_ERROR("[1,]", "t.json:1:4: expected a value");
  EXPECT_ERROR("", "t.json:1:1: expected a value, got end of input");
  EXPECT_ERROR("  \n ", "t.json:2:2: expected a value, got end of input");
  EXPECT_ERROR("tru", "t.json:1:1: expected a value");
  EXPECT_ERROR("[1] x", "t.json:1:5: expected end of input after the value");
  EXPECT_ERROR("01", "t.json:1:2: expected end of input after the value");
  EXPECT_ERROR("\"abc", "t.json:1:1: unterminated string");
  EXPECT_ERROR("[\"abc\\", "t.json:1:2: unterminated string");
  EXPECT_ERROR("\"a\\qb\"", "t.json:1:3: invalid escape in string");
  EXPECT_ERROR("\"\\u12G4\"",
               "t.json:1:2: invalid \\u escape (expected 4 hex digits)");
  EXPECT_ERROR("\"\\ud800x\"",
               "t.json:1:2: unpaired high surrogate in \\u escape");
  EXPECT_ERROR("\"\\ud800\\u0041\"",
               "t.json:1:2: unpaired high surrogate in \\u escape");
  EXPECT_ERROR("\"\\udc00\"", "t.json:1:2: unpaired low surrogate in \\u escape");
  EXPECT_ERROR("\"a\tb\"",
               "t.json:1:3: control character in string (use an escape)");
  EXPECT_ERROR("-", "t.json:1:2: invalid number (expected a digit)");
  EXPECT_ERROR("-x", "t.json:1:2: invalid number (expected a digit)");
  EXPECT_ERROR("1.", "t.json:1:3: invalid number (expected a digit after '.')");
  EXPECT_ERROR("1e+", "t.json:1:4: invalid number (expected a digit in exponent)");
  EXPECT_ERROR("[.5]", "t.json:1:2: expected a value");
  EXPECT_ERROR("[+1]", "t.json:1:2: expected a value");
  EXPECT_ERROR("[1, 1e400]", "t.json:1:5: number out of range");
  /* columns count characters, not bytes; a BOM is not a column */
  EXPECT_ERROR("[\"\xc3\xa9\xe2\x82\xac\" x]", "t.json:1:7: expected ',' or ']'");
  EXPECT_ERROR("\xef\xbb\xbf[1,,]", "t.json:1:4: expected a value");
  /* the length is honoured: no reading past it */
  expect_error("[1, 2]", 5, "t.json:1:6: expected ',' or ']'");
  expect_error("\"ab\"", 3, "t.json:1:1: unterminated string");

  /* files */
  unlink("no_such.json");
  ck_assert_int_eq(plx_json_parse_file(&v, "no_such.json", &err), PLX_EIO);
  ck_assert_str_eq(err.msg, "no_such.json: cannot read: No such file or directory");
  ck_assert_ptr_null(v);
  {
    FILE *f = fopen(TMP, "w");
    fputs("{\n  \"W\": [[1, 2],\n        [3, 4]]],\n}\n", f);
    fclose(f);
  }
  ck_assert_int_eq(plx_json_parse_file(&v, TMP, &err), PLX_EINVAL);
  ck_assert_str_eq(err.msg, TMP ":3:16: expected ',' or '}'");
  unlink(TMP);
}
END_TEST

START_TEST(test_depth)
{
  enum { DEEP = 100000 };
  char *s = malloc(2 * DEEP + 1);
  plx_json *v = NULL;
  plx_error err = {0, ""};
  size_t i;
  const plx_json *x;

  /* exactly the limit parses */
  for (i = 0; i < PLX_JSON_MAX_DEPTH; i++) {
    s[i] = '[';
    s[2 * PLX_JSON_MAX_DEPTH - 1 - i] = ']';
  }
  ck_assert_int_eq(plx_json_parse(&v, s, 2 * PLX_JSON_MAX_DEPTH, "deep.json",
                                  &err), PLX_OK);
  for (x = v, i = 1; plx_json_len(x) == 1; i++)
    x = plx_json_at(x, 0);
  ck_assert_uint_eq(i, PLX_JSON_MAX_DEPTH);
  plx_json_free(v);

  /* one more level is refused */
  memset(s, '[', DEEP);
  memset(s + DEEP, ']', DEEP);
  ck_assert_int_eq(plx_json_parse(&v, s + DEEP - 513, 2 * 513, "deep.json",
                                  &err), PLX_EINVAL);
  ck_assert_str_eq(err.msg, "deep.json:1:513: nesting deeper than 512 levels");
  ck_assert_ptr_null(v);
  /* far deeper input fails the same way, without touching the C stack */
  ck_assert_int_eq(plx_json_parse(&v, s, 2 * DEEP, "deep.json", &err),
                   PLX_EINVAL);
  ck_assert_str_eq(err.msg, "deep.json:1:513: nesting deeper than 512 levels");
  /* objects count too */
  for (i = 0; i < DEEP / 5; i++)
    memcpy(s + 5 * i, "{\"a\":", 5);
  ck_assert_int_eq(plx_json_parse(&v, s, DEEP, "deep.json", &err),
                   PLX_EINVAL);
  ck_assert_str_eq(err.msg, "deep.json:1:2561: nesting deeper than 512 levels");
  free(s);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("json");
  TCase *tc = tcase_create("core");
  SRunner *sr;
  int nf;
  tcase_add_test(tc, test_nested);
  tcase_add_test(tc, test_escapes);
  tcase_add_test(tc, test_numbers);
  tcase_add_test(tc, test_network_file);
  tcase_add_test(tc, test_matrix_errors);
  tcase_add_test(tc, test_writer_round_trip);
  tcase_add_test(tc, test_writer_layout);
  tcase_add_test(tc, test_errors);
  tcase_add_test(tc, test_depth);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf == 0 ? 0 : 1;
}
