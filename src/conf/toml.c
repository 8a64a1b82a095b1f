/* Strict reader for the TOML subset of the Blixard configuration: comments,
 * [table] and [[array]] headers, bare, quoted and dotted keys, one-line strings,
 * integers, floats, booleans and arrays. The rest is refused by line and column. */
#include "autoconfig.h"

#include <string.h>

#include "conf/toml.h"
#include "util/error.h"

/* Arrays of arrays recurse; this bounds the stack for hostile input. */
#define MAX_NESTING 32

typedef struct {
        guint line;
        guint column;
} Pos;

typedef struct {
        const char *filename;
        const char *p; /* next byte to read */
        const char *end;
        guint line;
        const char *line_start;
        const char *col_ptr; /* column cache: col_ptr is at column col */
        guint col;
        NetisoTomlValue *root;
        NetisoTomlValue *current; /* the table key/value lines go to */
        char *current_name;       /* "[a.b]" or "[[a.b]]"; NULL for the root table */
} Parser;

static void
parser_clear(Parser *P)
{
        g_free(P->current_name);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Parser, parser_clear)

static gboolean fail(Parser *P, Pos pos, GError **error, const char *format, ...)
        G_GNUC_PRINTF(4, 5);

static gboolean
fail(Parser *P, Pos pos, GError **error, const char *format, ...)
{
        va_list args;

        va_start(args, format);
        netiso_toml_set_error_va(error, P->filename, pos.line, pos.column, format, args);
        va_end(args);
        return FALSE;
}

/* Columns count characters, not bytes, as editors show them. */
static guint
count_chars(const char *from, const char *to)
{
        guint n = 0;

        for (; from < to; from++)
                if (((guchar)*from & 0xc0) != 0x80)
                        n++;
        return n;
}

static Pos
pos_at(Parser *P, const char *ptr)
{
        /* Positions are asked for in increasing order, so counting on from the
         * previous answer keeps a long line linear. */
        if (P->col_ptr < P->line_start || P->col_ptr > ptr) {
                P->col_ptr = P->line_start;
                P->col = 1;
        }
        P->col += count_chars(P->col_ptr, ptr);
        P->col_ptr = ptr;
        return (Pos){ P->line, P->col };
}

static char
peek(const Parser *P, gsize offset)
{
        /* NUL bytes were refused up front, so NUL safely means "end of input". */
        return P->p + offset < P->end ? P->p[offset] : '\0';
}

static gboolean
at_newline(const Parser *P)
{
        return peek(P, 0) == '\n' || (peek(P, 0) == '\r' && peek(P, 1) == '\n');
}

static void
skip_spaces(Parser *P)
{
        while (peek(P, 0) == ' ' || peek(P, 0) == '\t')
                P->p++;
}

/* What is at ptr, for "expected X, got Y" messages. */
static char *
describe_at(const Parser *P, const char *ptr)
{
        if (ptr >= P->end)
                return g_strdup("end of file");
        if (*ptr == '\n' || (*ptr == '\r' && ptr + 1 < P->end && ptr[1] == '\n'))
                return g_strdup("end of line");
        if (netiso_toml_is_control((guchar)*ptr))
                return g_strdup_printf("control character U+%04X", (guchar)*ptr);
        return g_strdup_printf("'%.*s'", (int)(g_utf8_next_char(ptr) - ptr), ptr);
}

static gboolean
skip_comment(Parser *P, GError **error)
{
        if (peek(P, 0) != '#')
                return TRUE;
        for (; P->p < P->end && !at_newline(P); P->p++)
                if (netiso_toml_is_control((guchar)*P->p)) {
                        g_autofree char *what = describe_at(P, P->p);
                        return fail(P, pos_at(P, P->p), error, "%s in a comment", what);
                }
        return TRUE;
}

/* Spaces, comments and newlines: between lines, and between array elements. */
static gboolean
skip_blank(Parser *P, GError **error)
{
        for (;;) {
                skip_spaces(P);
                if (!skip_comment(P, error))
                        return FALSE;
                if (!at_newline(P))
                        return TRUE;
                P->p += peek(P, 0) == '\r' ? 2 : 1;
                P->line++;
                P->line_start = P->p;
        }
}

static gboolean
expect_line_end(Parser *P, const char *after, GError **error)
{
        g_autofree char *what = NULL;

        skip_spaces(P);
        if (!skip_comment(P, error))
                return FALSE;
        if (P->p >= P->end || at_newline(P))
                return TRUE;
        what = describe_at(P, P->p);
        return fail(P, pos_at(P, P->p), error, "expected end of line after %s, got %s", after,
                    what);
}

static gboolean
parse_escape(Parser *P, GString *out, GError **error)
{
        /* Pairs: the letter after the backslash, the byte it stands for. */
        static const char simple[] = "b\bt\tn\nf\fr\r\"\"\\\\";
        Pos pos = pos_at(P, P->p);
        char c = peek(P, 1);
        guint digits = c == 'u' ? 4 : c == 'U' ? 8 : 0;
        gunichar u = 0;

        for (const char *s = simple; c && *s; s += 2)
                if (*s == c) {
                        g_string_append_c(out, s[1]);
                        P->p += 2;
                        return TRUE;
                }
        if (digits == 0 && g_ascii_isgraph(c))
                return fail(P, pos, error, "invalid escape '\\%c'", c);
        if (digits == 0) {
                g_autofree char *what = describe_at(P, P->p + 1);
                return fail(P, pos, error, "invalid escape: '\\' followed by %s", what);
        }
        for (guint i = 0; i < digits; i++) {
                char h = peek(P, 2 + i);
                if (!g_ascii_isxdigit(h))
                        return fail(P, pos, error,
                                    "invalid escape: '\\%c' needs %u hexadecimal digits", c,
                                    digits);
                u = u * 16 + (gunichar)g_ascii_xdigit_value(h);
        }
        if (u == 0)
                return fail(P, pos, error, "invalid escape '\\%c%.*s': strings cannot contain NUL",
                            c, (int)digits, P->p + 2);
        if (u > 0x10ffff || (u >= 0xd800 && u <= 0xdfff))
                return fail(P, pos, error, "invalid escape '\\%c%.*s': not a Unicode scalar value",
                            c, (int)digits, P->p + 2);
        g_string_append_unichar(out, u);
        P->p += 2 + digits;
        return TRUE;
}

/* A one-line string: "basic" (with escapes) or 'literal' (without). */
static gboolean
parse_string(Parser *P, char **ret_string, GError **error)
{
        const char quote = *P->p;
        Pos open = pos_at(P, P->p);
        g_autoptr(GString) out = g_string_new(NULL);

        if (peek(P, 1) == quote && peek(P, 2) == quote)
                return fail(P, open, error, "multi-line strings are not supported");
        for (P->p++;;) {
                char c = peek(P, 0);

                if (P->p >= P->end || at_newline(P))
                        return fail(P, open, error, "unterminated string");
                if (c == quote)
                        break;
                if (c == '\\' && quote == '"') {
                        if (!parse_escape(P, out, error))
                                return FALSE;
                        continue;
                }
                if (netiso_toml_is_control((guchar)c)) {
                        g_autofree char *what = describe_at(P, P->p);
                        return fail(P, pos_at(P, P->p), error, "%s in a string%s", what,
                                    quote == '"' ? " must be escaped" : "");
                }
                g_string_append_c(out, c);
                P->p++;
        }
        P->p++;
        *ret_string = g_string_free(g_steal_pointer(&out), /* free_segment */ FALSE);
        return TRUE;
}

static gboolean
is_bare_key_char(char c)
{
        return g_ascii_isalnum(c) || c == '_' || c == '-';
}

/* A key, dotted or not: a.b."c d".'e', spaces allowed around the dots. */
static gboolean
parse_key(Parser *P, GArray **ret_keys, GError **error)
{
        g_autoptr(GArray) keys = netiso_toml_keys_new();

        for (;;) {
                const char *start = P->p;
                Pos pos = pos_at(P, start);
                NetisoTomlKey key = { .line = pos.line, .column = pos.column };

                if (peek(P, 0) == '"' || peek(P, 0) == '\'') {
                        if (!parse_string(P, &key.key, error))
                                return FALSE;
                } else {
                        while (is_bare_key_char(peek(P, 0)))
                                P->p++;
                        if (P->p == start) {
                                g_autofree char *what = describe_at(P, P->p);
                                return fail(P, pos, error, "expected a key, got %s", what);
                        }
                        key.key = g_strndup(start, P->p - start);
                }
                g_array_append_val(keys, key);
                skip_spaces(P);
                if (peek(P, 0) != '.')
                        break;
                P->p++;
                skip_spaces(P);
        }
        *ret_keys = g_steal_pointer(&keys);
        return TRUE;
}

/* Digits with single underscores between them, as TOML writes 1_000_000. */
static gboolean
is_digits(const char *s, gsize n)
{
        if (n == 0 || !g_ascii_isdigit(s[0]) || !g_ascii_isdigit(s[n - 1]))
                return FALSE;
        for (gsize i = 1; i < n; i++)
                if (!g_ascii_isdigit(s[i]) && !(s[i] == '_' && g_ascii_isdigit(s[i + 1])))
                        return FALSE;
        return TRUE;
}

static gboolean
parse_integer(Parser *P, Pos pos, const char *token, gint64 *ret_value, GError **error)
{
        gboolean negative = token[0] == '-';
        const char *digits = token + (token[0] == '-' || token[0] == '+');
        guint64 limit = negative ? (guint64)G_MAXINT64 + 1 : (guint64)G_MAXINT64;
        guint64 value = 0;

        if (!is_digits(digits, strlen(digits)))
                return fail(P, pos, error, "invalid integer '%s'", token);
        if (digits[0] == '0' && digits[1] != '\0')
                return fail(P, pos, error, "leading zeros are not allowed in '%s'", token);
        for (const char *c = digits; *c; c++) {
                guint d;

                if (*c == '_')
                        continue;
                d = (guint)(*c - '0');
                if (value > (limit - d) / 10)
                        return fail(P, pos, error, "integer %s does not fit in 64 bits", token);
                value = value * 10 + d;
        }
        *ret_value = negative && value > 0 ? -(gint64)(value - 1) - 1 : (gint64)value;
        return TRUE;
}

/* An integer part, then a fraction, an exponent or both; or inf and nan. */
static gboolean
parse_float(Parser *P, Pos pos, const char *token, double *ret_value, GError **error)
{
        const char *s = token + (token[0] == '-' || token[0] == '+');
        const char *end = s + strlen(s);
        const char *exp = strpbrk(s, "eE");
        const char *dot = strchr(s, '.');
        const char *int_end = dot ? dot : exp ? exp : end;
        g_autoptr(GString) plain = g_string_new(NULL);

        if (!g_str_equal(s, "inf") && !g_str_equal(s, "nan")) {
                const char *exp_digits = exp ? exp + 1 + (exp[1] == '+' || exp[1] == '-') : end;

                if (!is_digits(s, int_end - s) || (dot && exp && exp < dot) ||
                    (dot && !is_digits(dot + 1, (exp ? exp : end) - dot - 1)) ||
                    (exp && !is_digits(exp_digits, end - exp_digits)))
                        return fail(P, pos, error, "invalid float '%s'", token);
                if (s[0] == '0' && int_end - s > 1)
                        return fail(P, pos, error, "leading zeros are not allowed in '%s'", token);
        }
        for (const char *c = token; *c; c++)
                if (*c != '_')
                        g_string_append_c(plain, *c);
        *ret_value = g_ascii_strtod(plain->str, NULL);
        return TRUE;
}

static gboolean
is_token_char(char c)
{
        return g_ascii_isalnum(c) || c == '_' || c == '-' || c == '+' || c == '.' || c == ':';
}

/* Values without quotes or brackets: booleans and numbers, and the
 * look-alikes this reader refuses (dates, hexadecimal, forgotten quotes). */
static gboolean
parse_bare_value(Parser *P, Pos pos, NetisoTomlValue *value, GError **error)
{
        const char *start = P->p;
        g_autofree char *token = NULL;
        const char *body;

        while (is_token_char(peek(P, 0)))
                P->p++;
        if (P->p == start) {
                g_autofree char *what = describe_at(P, start);
                return fail(P, pos, error, "expected a value, got %s", what);
        }
        token = g_strndup(start, P->p - start);
        body = token + (token[0] == '-' || token[0] == '+');
        if (g_str_equal(token, "true") || g_str_equal(token, "false")) {
                value->type = NETISO_TOML_BOOLEAN;
                value->boolean = token[0] == 't';
                return TRUE;
        }
        if (g_str_equal(body, "inf") || g_str_equal(body, "nan")) {
                value->type = NETISO_TOML_FLOAT;
                return parse_float(P, pos, token, &value->floating, error);
        }
        if (g_ascii_isalpha(token[0]))
                return fail(P, pos, error, "invalid value '%s' (strings must be quoted)", token);
        if (strchr(token, ':') || (strlen(token) > 4 && token[4] == '-' && is_digits(token, 4)))
                return fail(P, pos, error, "dates and times are not supported");
        if (body[0] == '0' && (body[1] == 'x' || body[1] == 'o' || body[1] == 'b'))
                return fail(P, pos, error,
                            "hexadecimal, octal and binary integers are not supported");
        if (strpbrk(body, ".eE")) {
                value->type = NETISO_TOML_FLOAT;
                return parse_float(P, pos, token, &value->floating, error);
        }
        value->type = NETISO_TOML_INTEGER;
        return parse_integer(P, pos, token, &value->integer, error);
}

static gboolean parse_value(Parser *P, guint depth, NetisoTomlValue **ret_value, GError **error);

/* Blanks inside an array, then whether ']' is next; the end of input there
 * means the array was never closed, reported where it was opened. */
static gboolean
skip_array_blank(Parser *P, Pos open, gboolean *ret_closed, GError **error)
{
        if (!skip_blank(P, error))
                return FALSE;
        if (P->p >= P->end)
                return fail(P, open, error, "unterminated array");
        *ret_closed = peek(P, 0) == ']';
        return TRUE;
}

static gboolean
parse_array(Parser *P, guint depth, GPtrArray **ret_array, GError **error)
{
        Pos open = pos_at(P, P->p);
        g_autoptr(GPtrArray) items =
                g_ptr_array_new_with_free_func((GDestroyNotify)netiso_toml_value_free);
        gboolean closed = FALSE;

        if (depth >= MAX_NESTING)
                return fail(P, open, error, "arrays nested more than %d deep", MAX_NESTING);
        for (P->p++;;) {
                NetisoTomlValue *item = NULL;

                if (!skip_array_blank(P, open, &closed, error))
                        return FALSE;
                if (closed)
                        break;
                if (!parse_value(P, depth + 1, &item, error))
                        return FALSE;
                g_ptr_array_add(items, item);
                if (!skip_array_blank(P, open, &closed, error))
                        return FALSE;
                if (closed)
                        break;
                if (peek(P, 0) != ',') {
                        g_autofree char *what = describe_at(P, P->p);
                        return fail(P, pos_at(P, P->p), error,
                                    "expected ',' or ']' in the array, got %s", what);
                }
                P->p++;
        }
        P->p++;
        *ret_array = g_steal_pointer(&items);
        return TRUE;
}

static gboolean
parse_value(Parser *P, guint depth, NetisoTomlValue **ret_value, GError **error)
{
        g_autoptr(NetisoTomlValue) value = g_new0(NetisoTomlValue, 1);
        Pos pos = pos_at(P, P->p);
        gboolean ok;

        value->line = pos.line;
        value->column = pos.column;
        switch (peek(P, 0)) {
        case '"':
        case '\'':
                value->type = NETISO_TOML_STRING;
                ok = parse_string(P, &value->string, error);
                break;
        case '[':
                value->type = NETISO_TOML_ARRAY;
                ok = parse_array(P, depth, &value->array, error);
                break;
        case '{':
                return fail(P, pos, error, "inline tables are not supported");
        default:
                ok = parse_bare_value(P, pos, value, error);
        }
        if (!ok)
                return FALSE;
        *ret_value = g_steal_pointer(&value);
        return TRUE;
}

static gboolean
parse_header(Parser *P, GError **error)
{
        Pos pos = pos_at(P, P->p);
        gboolean array = peek(P, 1) == '[';
        g_autoptr(GArray) keys = NULL;
        g_autofree char *name = NULL;

        P->p += array ? 2 : 1;
        skip_spaces(P);
        if (!parse_key(P, &keys, error))
                return FALSE;
        if (peek(P, 0) != ']' || (array && peek(P, 1) != ']')) {
                const char *at = P->p + (peek(P, 0) == ']');
                g_autofree char *what = describe_at(P, at);
                return fail(P, pos_at(P, at), error,
                            "expected '%s' to close the table header, got %s", array ? "]]" : "]",
                            what);
        }
        P->p += array ? 2 : 1;
        if (!netiso_toml_tree_open(P->root, P->filename, keys, array, pos.line, pos.column,
                                   &P->current, error))
                return FALSE;
        name = netiso_toml_keys_to_string(keys, 0, keys->len);
        g_free(P->current_name);
        P->current_name = g_strdup_printf(array ? "[[%s]]" : "[%s]", name);
        return expect_line_end(P, "the table header", error);
}

static gboolean
parse_keyval(Parser *P, GError **error)
{
        g_autoptr(GArray) keys = NULL;
        NetisoTomlValue *value = NULL;

        if (!parse_key(P, &keys, error))
                return FALSE;
        if (peek(P, 0) != '=') {
                g_autofree char *key = netiso_toml_keys_to_string(keys, 0, keys->len);
                g_autofree char *what = describe_at(P, P->p);
                return fail(P, pos_at(P, P->p), error, "expected '=' after key '%s', got %s", key,
                            what);
        }
        P->p++;
        skip_spaces(P);
        if (!parse_value(P, 0, &value, error))
                return FALSE;
        if (!netiso_toml_tree_add(P->current, P->filename, P->current_name, keys, value, error))
                return FALSE;
        return expect_line_end(P, "the value", error);
}

/* Where ptr is, for problems found before parsing starts. */
static Pos
locate(const char *data, const char *ptr)
{
        const char *line_start = data;
        Pos pos = { 1, 1 };

        for (const char *c = data; c < ptr; c++)
                if (*c == '\n') {
                        pos.line++;
                        line_start = c + 1;
                }
        pos.column += count_chars(line_start, ptr);
        return pos;
}

static gboolean
check_input(const char *filename, const char *data, gsize len, GError **error)
{
        const char *nul, *bad = NULL;
        Pos pos;

        if (len > NETISO_TOML_MAX_SIZE) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_CONFIG,
                            "%s: larger than 1 MiB, the limit for a configuration file", filename);
                return FALSE;
        }
        nul = memchr(data, '\0', len);
        if (nul) {
                pos = locate(data, nul);
                netiso_toml_set_error(error, filename, pos.line, pos.column,
                                      "NUL byte in the file");
                return FALSE;
        }
        if (!g_utf8_validate_len(data, len, &bad)) {
                pos = locate(data, bad);
                netiso_toml_set_error(error, filename, pos.line, pos.column, "invalid UTF-8");
                return FALSE;
        }
        return TRUE;
}

NetisoTomlValue *
netiso_toml_parse(const char *filename, const char *data, gsize len, GError **error)
{
        g_autoptr(NetisoTomlValue) root = netiso_toml_root_new();
        g_auto(Parser) P = { .filename = filename, .line = 1, .col = 1 };

        if (len == 0)
                data = "";
        if (!check_input(filename, data, len, error))
                return NULL;
        /* Editors on some systems start UTF-8 files with a byte order mark. */
        if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
                data += 3;
                len -= 3;
        }
        P.p = P.line_start = P.col_ptr = data;
        P.end = data + len;
        P.root = P.current = root;
        for (;;) {
                if (!skip_blank(&P, error))
                        return NULL;
                if (P.p >= P.end)
                        break;
                if (!(peek(&P, 0) == '[' ? parse_header(&P, error) : parse_keyval(&P, error)))
                        return NULL;
        }
        return g_steal_pointer(&root);
}
