/* The TOML reader on its own: positions, decoding, numbers, the rules for
 * tables, headers and dotted keys, line endings and hostile nesting. */
#include "autoconfig.h"

#include <math.h>
#include <string.h>

#include "conf/toml.h"
#include "util/error.h"

static NetisoTomlValue *
parse_ok(const char *text)
{
        g_autoptr(GError) error = NULL;
        NetisoTomlValue *root = netiso_toml_parse("t.toml", text, strlen(text), &error);

        g_assert_no_error(error);
        g_assert_nonnull(root);
        return root;
}

static void
assert_error(const char *text, const char *message)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoTomlValue) root = netiso_toml_parse("t.toml", text, strlen(text), &error);

        g_assert_null(root);
        g_assert_error(error, NETISO_ERROR, NETISO_ERROR_CONFIG);
        g_assert_cmpstr(error->message, ==, message);
}

/* Follows a dotted path of table keys from a table. */
static const NetisoTomlValue *
get(const NetisoTomlValue *table, const char *path)
{
        g_auto(GStrv) keys = g_strsplit(path, ".", -1);

        for (char **key = keys; *key; key++) {
                const NetisoTomlEntry *entry;

                g_assert_cmpint(table->type, ==, NETISO_TOML_TABLE);
                entry = netiso_toml_table_lookup(table, *key);
                g_assert_nonnull(entry);
                table = entry->value;
        }
        return table;
}

static const NetisoTomlValue *
item(const NetisoTomlValue *array, guint index)
{
        g_assert_cmpint(array->type, ==, NETISO_TOML_ARRAY);
        g_assert_cmpuint(index, <, array->array->len);
        return g_ptr_array_index(array->array, index);
}

static void
test_positions(void)
{
        g_autoptr(NetisoTomlValue) root = parse_ok("# comment\n"
                                                   "[a]\n"
                                                   "x = 1\n"
                                                   "  y = \"\xc3\xa9\"\n"
                                                   "\"\xc3\xa9\" = 'after a two-byte key'\n"
                                                   "z = [\n"
                                                   "  1,\n"
                                                   "\t\"two\", [3]\n"
                                                   "]\n"
                                                   "[b.c]\n");
        const NetisoTomlValue *a = get(root, "a");
        const NetisoTomlEntry *y = netiso_toml_table_lookup(a, "y");
        const NetisoTomlEntry *e = netiso_toml_table_lookup(a, "\xc3\xa9");
        const NetisoTomlValue *z = get(a, "z");
        const NetisoTomlEntry *c = netiso_toml_table_lookup(get(root, "b"), "c");

        g_assert_cmpuint(a->line, ==, 2);
        g_assert_cmpuint(a->column, ==, 1);
        g_assert_cmpuint(get(a, "x")->line, ==, 3);
        g_assert_cmpuint(get(a, "x")->column, ==, 5);
        g_assert_cmpuint(y->line, ==, 4);
        g_assert_cmpuint(y->column, ==, 3);
        g_assert_cmpuint(y->value->column, ==, 7);
        /* Columns count characters: the key is 3 characters, 4 bytes. */
        g_assert_cmpuint(e->column, ==, 1);
        g_assert_cmpuint(e->value->column, ==, 7);
        g_assert_cmpuint(z->line, ==, 6);
        g_assert_cmpuint(z->column, ==, 5);
        g_assert_cmpuint(item(z, 0)->line, ==, 7);
        g_assert_cmpuint(item(z, 0)->column, ==, 3);
        g_assert_cmpuint(item(z, 1)->line, ==, 8);
        g_assert_cmpuint(item(z, 1)->column, ==, 2);
        g_assert_cmpuint(item(z, 2)->column, ==, 9);
        g_assert_cmpuint(item(item(z, 2), 0)->column, ==, 10);
        g_assert_cmpuint(c->line, ==, 10);
        g_assert_cmpuint(c->column, ==, 4);
        g_assert_cmpuint(c->value->column, ==, 1);
}

static void
test_strings(void)
{
        g_autoptr(NetisoTomlValue) root =
                parse_ok("basic = \"q\\\"b\\\\s\\bb\\tt\\nn\\ff\\rr \\u00e9 \\U0001F600\"\n"
                         "literal = 'C:\\path\\\"raw\"'\n"
                         "empty = \"\"\n"
                         "tab = \"a\tb\"\n"
                         "utf8 = \"\xe2\x82\xac\"\n");

        g_assert_cmpstr(get(root, "basic")->string, ==,
                        "q\"b\\s\bb\tt\nn\ff\rr \xc3\xa9 \xf0\x9f\x98\x80");
        g_assert_cmpstr(get(root, "literal")->string, ==, "C:\\path\\\"raw\"");
        g_assert_cmpstr(get(root, "empty")->string, ==, "");
        g_assert_cmpstr(get(root, "tab")->string, ==, "a\tb");
        g_assert_cmpstr(get(root, "utf8")->string, ==, "\xe2\x82\xac");
}

static void
test_numbers(void)
{
        g_autoptr(NetisoTomlValue) root = parse_ok("max = 9223372036854775807\n"
                                                   "min = -9223372036854775808\n"
                                                   "plus = +5\n"
                                                   "under = 1_000_000\n"
                                                   "zero = 0\n"
                                                   "negzero = -0\n"
                                                   "f1 = 1.5\n"
                                                   "f2 = 1e-1\n"
                                                   "f3 = -2E+3\n"
                                                   "f4 = 1_000.2_5\n"
                                                   "f5 = 0.5e0_1\n"
                                                   "pinf = +inf\n"
                                                   "ninf = -inf\n"
                                                   "qnan = nan\n"
                                                   "yes = true\n"
                                                   "no = false\n");

        g_assert_cmpint(get(root, "max")->integer, ==, G_MAXINT64);
        g_assert_cmpint(get(root, "min")->integer, ==, G_MININT64);
        g_assert_cmpint(get(root, "plus")->integer, ==, 5);
        g_assert_cmpint(get(root, "under")->integer, ==, 1000000);
        g_assert_cmpint(get(root, "zero")->integer, ==, 0);
        g_assert_cmpint(get(root, "negzero")->integer, ==, 0);
        g_assert_cmpint(get(root, "f1")->type, ==, NETISO_TOML_FLOAT);
        g_assert_cmpfloat(get(root, "f1")->floating, ==, 1.5);
        g_assert_cmpfloat_with_epsilon(get(root, "f2")->floating, 0.1, 1e-12);
        g_assert_cmpfloat(get(root, "f3")->floating, ==, -2000.0);
        g_assert_cmpfloat(get(root, "f4")->floating, ==, 1000.25);
        g_assert_cmpfloat(get(root, "f5")->floating, ==, 5.0);
        g_assert_true(isinf(get(root, "pinf")->floating) && get(root, "pinf")->floating > 0);
        g_assert_true(isinf(get(root, "ninf")->floating) && get(root, "ninf")->floating < 0);
        g_assert_true(isnan(get(root, "qnan")->floating));
        g_assert_cmpint(get(root, "yes")->type, ==, NETISO_TOML_BOOLEAN);
        g_assert_true(get(root, "yes")->boolean);
        g_assert_false(get(root, "no")->boolean);
}

static void
test_number_errors(void)
{
        assert_error("x = 1e\n", "t.toml:1:5: invalid float '1e'");
        assert_error("x = .5\n", "t.toml:1:5: invalid float '.5'");
        assert_error("x = 1.5.2\n", "t.toml:1:5: invalid float '1.5.2'");
        assert_error("x = 01.5\n", "t.toml:1:5: leading zeros are not allowed in '01.5'");
        assert_error("x = _1\n", "t.toml:1:5: invalid integer '_1'");
        assert_error("x = 1_\n", "t.toml:1:5: invalid integer '1_'");
        assert_error("x = +\n", "t.toml:1:5: invalid integer '+'");
        assert_error("x = 0b101\n",
                     "t.toml:1:5: hexadecimal, octal and binary integers are not supported");
        assert_error("x = -0o7\n",
                     "t.toml:1:5: hexadecimal, octal and binary integers are not supported");
        assert_error("x = infinity\n",
                     "t.toml:1:5: invalid value 'infinity' (strings must be quoted)");
        assert_error("x = True\n", "t.toml:1:5: invalid value 'True' (strings must be quoted)");
}

static void
test_tables(void)
{
        g_autoptr(NetisoTomlValue) root = parse_ok("top = 0\n"
                                                   "p.q.r = 1\n"
                                                   "\"a.b\" = 2\n"
                                                   "'c d'.e = 3\n"
                                                   "[x.y.z]\n"
                                                   "[x]\n"
                                                   "k = 4\n"
                                                   "[[arr]]\n"
                                                   "n = 1\n"
                                                   "[arr.sub]\n"
                                                   "m = 2\n"
                                                   "[[arr]]\n"
                                                   "n = 2\n"
                                                   "[fruit]\n"
                                                   "apple.color = 'red'\n"
                                                   "[fruit.apple.texture]\n"
                                                   "smooth = true\n"
                                                   "[ spaced . \"quoted key\" ]\n"
                                                   "v = 5\n");
        const NetisoTomlValue *arr = get(root, "arr");
        const NetisoTomlEntry *quoted = netiso_toml_table_lookup(get(root, "spaced"), "quoted key");
        static const char *const order[] = {
                "top", "p", "a.b", "c d", "x", "arr", "fruit", "spaced"
        };

        g_assert_cmpint(get(root, "p.q.r")->integer, ==, 1);
        g_assert_cmpint(netiso_toml_table_lookup(root, "a.b")->value->integer, ==, 2);
        g_assert_cmpint(get(netiso_toml_table_lookup(root, "c d")->value, "e")->integer, ==, 3);
        g_assert_cmpint(get(root, "x.k")->integer, ==, 4);
        g_assert_cmpuint(netiso_toml_table_size(get(root, "x.y.z")), ==, 0);
        g_assert_true(arr->array_of_tables);
        g_assert_cmpuint(arr->array->len, ==, 2);
        g_assert_cmpint(get(item(arr, 0), "sub.m")->integer, ==, 2);
        g_assert_cmpint(get(item(arr, 1), "n")->integer, ==, 2);
        g_assert_cmpuint(item(arr, 1)->line, ==, 12);
        g_assert_true(get(root, "fruit.apple.texture.smooth")->boolean);
        g_assert_cmpstr(get(root, "fruit.apple.color")->string, ==, "red");
        g_assert_cmpint(get(quoted->value, "v")->integer, ==, 5);
        g_assert_cmpuint(netiso_toml_table_size(root), ==, G_N_ELEMENTS(order));
        for (guint i = 0; i < G_N_ELEMENTS(order); i++)
                g_assert_cmpstr(netiso_toml_table_nth(root, i)->key, ==, order[i]);
}

static void
test_table_errors(void)
{
        assert_error("[fruit]\napple.color = 'red'\n[fruit.apple]\n",
                     "t.toml:3:1: table [fruit.apple] is already defined at line 2");
        assert_error("[a]\n[b]\n[a]\n", "t.toml:3:1: table [a] is already defined at line 1");
        assert_error("a = [1]\n[[a]]\n",
                     "t.toml:2:1: cannot define [[a]]: 'a' is already an array at line 1");
        assert_error("[[a]]\n[a]\n",
                     "t.toml:2:1: cannot define [a]: 'a' is already an array of tables at line 1");
        assert_error("a = 1\n[a.b]\n",
                     "t.toml:2:1: cannot define [a.b]: 'a' is already an integer at line 1");
        assert_error("[a.b.c]\n[a]\nb.d = 1\n",
                     "t.toml:3:1: cannot set 'b.d': 'b' is already a table at line 1");
        assert_error("\"a b\" = 1\n'a b' = 2\n",
                     "t.toml:2:1: duplicate key '\"a b\"' (first defined at line 1)");
        assert_error("p.q = 1\np.q = 2\n",
                     "t.toml:2:3: duplicate key 'p.q' (first defined at line 1)");
        assert_error("[[a]]\n[[a]]\nx = 1\nx = 2\n",
                     "t.toml:4:1: duplicate key 'x' in [[a]] (first defined at line 3)");
        assert_error("[a]]\n", "t.toml:1:4: expected end of line after the table header, got ']'");
        assert_error("[[a]\n",
                     "t.toml:1:5: expected ']]' to close the table header, got end of line");
        assert_error("[]\n", "t.toml:1:2: expected a key, got ']'");
        assert_error("= 1\n", "t.toml:1:1: expected a key, got '='");
        assert_error("a. = 1\n", "t.toml:1:4: expected a key, got '='");
}

static void
test_line_endings_and_bom(void)
{
        g_autoptr(NetisoTomlValue) root = parse_ok("\xef\xbb\xbf"
                                                   "a = 1\r\nb = [\r\n  2, # two\r\n]\r\n# end");

        g_assert_cmpuint(get(root, "a")->line, ==, 1);
        g_assert_cmpuint(get(root, "a")->column, ==, 5);
        g_assert_cmpuint(item(get(root, "b"), 0)->line, ==, 3);
        g_assert_cmpuint(item(get(root, "b"), 0)->column, ==, 3);
}

static void
test_nesting_is_bounded(void)
{
        g_autoptr(GString) ok = g_string_new("x = ");
        g_autoptr(GString) deep = g_string_new("x = ");
        g_autoptr(NetisoTomlValue) root = NULL;

        for (int i = 0; i < 32; i++)
                g_string_append_c(ok, '[');
        for (int i = 0; i < 32; i++)
                g_string_append_c(ok, ']');
        root = parse_ok(ok->str);
        for (int i = 0; i < 100000; i++)
                g_string_append_c(deep, '[');
        assert_error(deep->str, "t.toml:1:37: arrays nested more than 32 deep");
}

static void
test_long_line_is_linear(void)
{
        /* 100k elements on one line: column counting must not restart per value. */
        g_autoptr(GString) text = g_string_new("x = [");
        g_autoptr(NetisoTomlValue) root = NULL;
        const NetisoTomlValue *x;

        for (int i = 0; i < 100000; i++)
                g_string_append(text, "1,");
        g_string_append(text, "\"last\"]\n");
        root = parse_ok(text->str);
        x = get(root, "x");
        g_assert_cmpuint(x->array->len, ==, 100001);
        g_assert_cmpuint(item(x, 100000)->column, ==, 6 + 2 * 100000);
}

static void
test_errors_stay_on_one_line(void)
{
        g_autoptr(GError) error = NULL;

        netiso_toml_set_error(&error, "f.toml", 3, 4, "got \"%s\"", "a\nb\tc\x01\x7f");
        g_assert_error(error, NETISO_ERROR, NETISO_ERROR_CONFIG);
        g_assert_cmpstr(error->message, ==, "f.toml:3:4: got \"a\\nb\\tc\\u0001\\u007F\"");
}

static void
test_type_names(void)
{
        g_assert_cmpstr(netiso_toml_type_describe(NETISO_TOML_STRING), ==, "a string");
        g_assert_cmpstr(netiso_toml_type_describe(NETISO_TOML_INTEGER), ==, "an integer");
        g_assert_cmpstr(netiso_toml_type_describe(NETISO_TOML_FLOAT), ==, "a float");
        g_assert_cmpstr(netiso_toml_type_describe(NETISO_TOML_BOOLEAN), ==, "a boolean");
        g_assert_cmpstr(netiso_toml_type_describe(NETISO_TOML_ARRAY), ==, "an array");
        g_assert_cmpstr(netiso_toml_type_describe(NETISO_TOML_TABLE), ==, "a table");
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/toml/values-remember-line-and-column", test_positions);
        g_test_add_func("/toml/strings-decode-escapes", test_strings);
        g_test_add_func("/toml/numbers-and-booleans-parse", test_numbers);
        g_test_add_func("/toml/bad-numbers-are-refused", test_number_errors);
        g_test_add_func("/toml/tables-follow-toml-rules", test_tables);
        g_test_add_func("/toml/table-redefinitions-are-refused", test_table_errors);
        g_test_add_func("/toml/crlf-and-bom-are-accepted", test_line_endings_and_bom);
        g_test_add_func("/toml/array-nesting-is-bounded", test_nesting_is_bounded);
        g_test_add_func("/toml/long-lines-parse-in-linear-time", test_long_line_is_linear);
        g_test_add_func("/toml/errors-stay-on-one-line", test_errors_stay_on_one_line);
        g_test_add_func("/toml/type-names-read-in-messages", test_type_names);
        return g_test_run();
}
