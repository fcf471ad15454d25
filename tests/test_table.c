/* test_table.c -- tidy CSV tables: write/read round trips with RFC 4180
 * quoting and header comments, column type inference, hand-written files
 * (CRLF, BOM, blanks, missing values, multi-line fields), and every reader
 * error with its file:line. */
#include "config.h"
#include "plastix/error.h"
#include "plastix/table.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TMP "test_table_tmp.csv"

static void write_text(const char *path, const char *text)
{
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  ck_assert_int_eq(fclose(f), 0);
}

static char *slurp(const char *path)
{
  FILE *f = fopen(path, "rb");
  char *buf = calloc(1, 65536);
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_lt(fread(buf, 1, 65535, f), 65535);
  fclose(f);
  return buf;
}

START_TEST(test_round_trip)
{
  const char *names[] = {"name", "x", "n", "note, with comma"};
  const char *s1[] = {"plain", "a,b"}, *s2[] = {"say \"hi\"", "two\nlines"};
  const char *s3[] = {"#not a comment", " padded "}, *s4[] = {"", NULL};
  double v1[] = {0.1, 3}, v2[] = {NAN, -12345678901.0};
  double v3[] = {INFINITY, 0}, v4[] = {-1.5e-300, 7};
  plx_error err = {0, ""};
  plx_table *t = plx_table_new(4, names, "sfis"), *r = NULL;
  char *text;
  size_t i;

  ck_assert_ptr_nonnull(t);
  ck_assert_int_eq(plx_table_comment(t, "made by test_table"), PLX_OK);
  ck_assert_int_eq(plx_table_comment(t, "seed = 1\nrule = hebb"), PLX_OK);
  ck_assert_int_eq(plx_table_append(t, s1, v1), PLX_OK);
  ck_assert_int_eq(plx_table_append(t, s2, v2), PLX_OK);
  ck_assert_int_eq(plx_table_append(t, s3, v3), PLX_OK);
  ck_assert_int_eq(plx_table_append(t, s4, v4), PLX_OK);
  ck_assert_uint_eq(plx_table_rows(t), 4);
  ck_assert_uint_eq(plx_table_cols(t), 4);
  ck_assert_int_eq(plx_table_write_csv(t, TMP, &err), PLX_OK);

  text = slurp(TMP);
  ck_assert_str_eq(text, "# made by test_table\n"
                         "# seed = 1\n"
                         "# rule = hebb\n"
                         "name,x,n,\"note, with comma\"\n"
                         "plain,0.1,3,\"a,b\"\n"
                         "\"say \"\"hi\"\"\",nan,-12345678901,\"two\nlines\"\n"
                         "\"#not a comment\",inf,0,\" padded \"\n"
                         ",-1.5e-300,7,\n");
  free(text);

  ck_assert_int_eq(plx_table_read_csv(&r, TMP, &err), PLX_OK);
  ck_assert_uint_eq(plx_table_rows(r), 4);
  ck_assert_uint_eq(plx_table_cols(r), 4);
  for (i = 0; i < 4; i++)
    ck_assert_str_eq(plx_table_name(r, i), names[i]);
  ck_assert_int_eq(plx_table_type(r, 0), 's');
  ck_assert_int_eq(plx_table_type(r, 1), 'f');
  ck_assert_int_eq(plx_table_type(r, 2), 'i');
  ck_assert_int_eq(plx_table_type(r, 3), 's');
  ck_assert_uint_eq(plx_table_n_comments(r), 3);
  ck_assert_str_eq(plx_table_comment_at(r, 0), "made by test_table");
  ck_assert_str_eq(plx_table_comment_at(r, 2), "rule = hebb");
  ck_assert_ptr_null(plx_table_comment_at(r, 3));
  ck_assert_str_eq(plx_table_get_string(r, 0, 0), "plain");
  ck_assert_str_eq(plx_table_get_string(r, 1, 0), "say \"hi\"");
  ck_assert_str_eq(plx_table_get_string(r, 2, 0), "#not a comment");
  ck_assert_str_eq(plx_table_get_string(r, 3, 0), "");
  ck_assert_str_eq(plx_table_get_string(r, 0, 3), "a,b");
  ck_assert_str_eq(plx_table_get_string(r, 1, 3), "two\nlines");
  ck_assert_str_eq(plx_table_get_string(r, 2, 3), " padded ");
  ck_assert_str_eq(plx_table_get_string(r, 3, 3), "");
  ck_assert_double_eq(plx_table_get(r, 0, 1), 0.1);
  ck_assert(isnan(plx_table_get(r, 1, 1)));
  ck_assert(isinf(plx_table_get(r, 2, 1)) && plx_table_get(r, 2, 1) > 0);
  ck_assert_double_eq(plx_table_get(r, 3, 1), -1.5e-300);
  ck_assert_double_eq(plx_table_get(r, 1, 2), -12345678901.0);
  ck_assert_double_eq(plx_table_get(r, 3, 2), 7);
  /* accessors on the wrong kind of column or out of range */
  ck_assert(isnan(plx_table_get(r, 0, 0)));
  ck_assert(isnan(plx_table_get(r, 4, 1)));
  ck_assert_ptr_null(plx_table_get_string(r, 0, 1));
  ck_assert_ptr_null(plx_table_get_string(r, 0, 9));
  ck_assert_ptr_null(plx_table_name(r, 4));
  ck_assert_int_eq(plx_table_type(r, 4), 0);
  ck_assert_int_eq(plx_table_col_index(r, "n"), 2);
  ck_assert_int_eq(plx_table_col_index(r, "note, with comma"), 3);
  ck_assert_int_eq(plx_table_col_index(r, "N"), -1);

  /* writing what was read gives the same file */
  ck_assert_int_eq(plx_table_write_csv(r, TMP, &err), PLX_OK);
  text = slurp(TMP);
  ck_assert_ptr_nonnull(strstr(text, "plain,0.1,3,\"a,b\"\n"));
  free(text);
  plx_table_free(r);
  plx_table_free(t);
  plx_table_free(NULL);
  unlink(TMP);
}
END_TEST

START_TEST(test_numbers_and_one_column)
{
  const char *one[] = {"label"}, *e[] = {""}, *x[] = {"x"};
  const char *names[] = {"a", "b"};
  double v[2];
  plx_error err = {0, ""};
  plx_table *t = plx_table_new(1, one, "s"), *r = NULL;
  char *text;
  int i;

  /* an empty string in a one-column table is not a blank line */
  ck_assert_int_eq(plx_table_append(t, x, NULL), PLX_OK);
  ck_assert_int_eq(plx_table_append(t, e, NULL), PLX_OK);
  ck_assert_int_eq(plx_table_write_csv(t, TMP, &err), PLX_OK);
  ck_assert_int_eq(plx_table_read_csv(&r, TMP, &err), PLX_OK);
  ck_assert_uint_eq(plx_table_rows(r), 2);
  ck_assert_str_eq(plx_table_get_string(r, 1, 0), "");
  plx_table_free(r);
  plx_table_free(t);

  /* %.10g for floats, %.0f for integers */
  t = plx_table_new(2, names, "fi");
  v[0] = 1.0 / 3.0;
  v[1] = 2.6;
  ck_assert_int_eq(plx_table_append(t, NULL, v), PLX_OK);
  for (i = 0; i < 1000; i++) {
    v[0] = i * 0.5;
    v[1] = i;
    ck_assert_int_eq(plx_table_append(t, NULL, v), PLX_OK);
  }
  ck_assert_int_eq(plx_table_write_csv(t, TMP, &err), PLX_OK);
  text = slurp(TMP);
  ck_assert_ptr_nonnull(strstr(text, "a,b\n0.3333333333,3\n0,0\n0.5,1\n"));
  free(text);
  ck_assert_int_eq(plx_table_read_csv(&r, TMP, &err), PLX_OK);
  ck_assert_uint_eq(plx_table_rows(r), 1001);
  ck_assert_int_eq(plx_table_type(r, 0), 'f');
  ck_assert_int_eq(plx_table_type(r, 1), 'i');
  ck_assert_double_eq(plx_table_get(r, 1000, 0), 499.5);
  ck_assert_double_eq(plx_table_get(r, 1000, 1), 999);
  plx_table_free(r);
  plx_table_free(t);

  /* a table without rows */
  t = plx_table_new(2, names, "ss");
  ck_assert_int_eq(plx_table_write_csv(t, TMP, &err), PLX_OK);
  ck_assert_int_eq(plx_table_read_csv(&r, TMP, &err), PLX_OK);
  ck_assert_uint_eq(plx_table_rows(r), 0);
  ck_assert_uint_eq(plx_table_cols(r), 2);
  ck_assert_str_eq(plx_table_name(r, 1), "b");
  plx_table_free(r);
  plx_table_free(t);
  unlink(TMP);
}
END_TEST

START_TEST(test_hand_written)
{
  plx_error err = {0, ""};
  plx_table *r = NULL;
  /* BOM, CRLF, comments, blank lines, blanks around fields, a quoted field
   * over two lines, missing values, numbers that look like strings */
  write_text(TMP, "\xef\xbb\xbf# exported\r\n#\r\n\r\n"
                  "id, value , tag,code,empty\r\n"
                  "1, 2.5e3 ,\"multi\r\nline\",007,\r\n"
                  "\r\n"
                  "2,,x,1e2,\r\n"
                  "3,NA,\"\",-4,\r\n"
                  "4,-inf,y,+5,");
  ck_assert_int_eq(plx_table_read_csv(&r, TMP, &err), PLX_OK);
  ck_assert_uint_eq(plx_table_n_comments(r), 2);
  ck_assert_str_eq(plx_table_comment_at(r, 0), "exported");
  ck_assert_str_eq(plx_table_comment_at(r, 1), "");
  ck_assert_uint_eq(plx_table_rows(r), 4);
  ck_assert_str_eq(plx_table_name(r, 0), "id");
  ck_assert_str_eq(plx_table_name(r, 1), "value");
  ck_assert_int_eq(plx_table_col_index(r, "tag"), 2);
  ck_assert_int_eq(plx_table_type(r, 0), 'i');
  ck_assert_int_eq(plx_table_type(r, 1), 'f');
  ck_assert_int_eq(plx_table_type(r, 2), 's');
  ck_assert_int_eq(plx_table_type(r, 3), 'f'); /* 1e2 is not an integer literal */
  ck_assert_int_eq(plx_table_type(r, 4), 's'); /* nothing but empty cells */
  ck_assert_double_eq(plx_table_get(r, 0, 1), 2500);
  ck_assert(isnan(plx_table_get(r, 1, 1)));
  ck_assert(isnan(plx_table_get(r, 2, 1)));
  ck_assert(isinf(plx_table_get(r, 3, 1)) && plx_table_get(r, 3, 1) < 0);
  ck_assert_str_eq(plx_table_get_string(r, 0, 2), "multi\r\nline");
  ck_assert_str_eq(plx_table_get_string(r, 2, 2), "");
  ck_assert_double_eq(plx_table_get(r, 0, 3), 7);
  ck_assert_double_eq(plx_table_get(r, 1, 3), 100);
  ck_assert_double_eq(plx_table_get(r, 3, 3), 5);
  ck_assert_str_eq(plx_table_get_string(r, 3, 4), "");
  plx_table_free(r);

  /* hex and words keep a column textual */
  write_text(TMP, "a,b\n0x10,1\nabc,2\n");
  ck_assert_int_eq(plx_table_read_csv(&r, TMP, &err), PLX_OK);
  ck_assert_int_eq(plx_table_type(r, 0), 's');
  ck_assert_str_eq(plx_table_get_string(r, 0, 0), "0x10");
  plx_table_free(r);
  unlink(TMP);
}
END_TEST

static void expect_read_error(const char *text, int code, const char *msg)
{
  plx_error err = {0, ""};
  plx_table *r = NULL;
  write_text(TMP, text);
  ck_assert_int_eq(plx_table_read_csv(&r, TMP, &err), code);
  ck_assert_ptr_null(r);
  ck_assert_int_eq(err.code, code);
  ck_assert_str_eq(err.msg, msg);
}

START_TEST(test_errors)
{
  const char *names[] = {"a", "b"}, *s[] = {"x"};
  double v[] = {1, 2};
  plx_error err = {0, ""};
  plx_table *r = NULL, *t;

  unlink("no_such_table.csv");
  ck_assert_int_eq(plx_table_read_csv(&r, "no_such_table.csv", &err),
                   PLX_EIO);
  ck_assert_str_eq(err.msg,
                   "no_such_table.csv: cannot read: No such file or directory");
  ck_assert_ptr_null(r);

  /* ragged row: line 7 counts the comment and the multi-line field */
  expect_read_error("# c\na,b,c\n1,2,3\n4,\"5\n5\",6\n\n7,8\n",
                    PLX_EINVAL, TMP ":7: expected 3 fields, got 2");
  expect_read_error("a,b\n1,2,3\n", PLX_EINVAL,
                    TMP ":2: expected 2 fields, got 3");
  expect_read_error("a,b\n1,\"2\n3\n", PLX_EINVAL,
                    TMP ":2: unterminated quoted field");
  expect_read_error("a,b\n1,\"2\"x\n", PLX_EINVAL,
                    TMP ":2: expected ',' or end of line after closing quote "
                    "of field 2");
  expect_read_error("", PLX_EINVAL, TMP ":1: no header row");
  expect_read_error("# only\n# comments\n\n", PLX_EINVAL,
                    TMP ":4: no header row");
  unlink(TMP);

  /* bad construction and appends */
  ck_assert_ptr_null(plx_table_new(2, names, "fx"));
  ck_assert_ptr_null(plx_table_new(2, names, "f"));
  ck_assert_ptr_null(plx_table_new(0, names, ""));
  ck_assert_ptr_null(plx_table_new(2, NULL, "ff"));
  t = plx_table_new(2, names, "sf");
  ck_assert_int_eq(plx_table_append(t, NULL, v), PLX_EINVAL);
  ck_assert_int_eq(plx_table_append(t, s, NULL), PLX_EINVAL);
  ck_assert_int_eq(plx_table_append(NULL, s, v), PLX_EINVAL);
  ck_assert_uint_eq(plx_table_rows(t), 0);
  ck_assert_int_eq(plx_table_append(t, s, v), PLX_OK);
  ck_assert_int_eq(plx_table_comment(t, NULL), PLX_EINVAL);

  /* unwritable path */
  ck_assert_int_eq(plx_table_write_csv(t, "/no/such/dir/t.csv", &err),
                   PLX_EIO);
  ck_assert_str_eq(err.msg, "/no/such/dir/t.csv: cannot open for writing: "
                            "No such file or directory");
  plx_table_free(t);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("table");
  TCase *tc = tcase_create("core");
  SRunner *sr;
  int nf;
  tcase_add_test(tc, test_round_trip);
  tcase_add_test(tc, test_numbers_and_one_column);
  tcase_add_test(tc, test_hand_written);
  tcase_add_test(tc, test_errors);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf == 0 ? 0 : 1;
}
