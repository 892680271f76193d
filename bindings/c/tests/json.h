/* A tiny JSON reader for the C tests (not part of the library): parses a document into a tree, keeps each
 * value's raw text span, decodes strings to UTF-8, and compares trees structurally (object keys in any
 * order, numbers by value). Header-only; written for hogflags, MIT licensed. */
#ifndef HOGFLAGS_TEST_JSON_H
#define HOGFLAGS_TEST_JSON_H

#include <stdlib.h>
#include <string.h>

typedef enum { J_NULL, J_FALSE, J_TRUE, J_NUM, J_STR, J_ARR, J_OBJ } jtype;

typedef struct jval {
  jtype t;
  const char *raw;      /* the value's text in the source */
  size_t raw_len;
  char *str;            /* J_STR: decoded, NUL-terminated */
  size_t str_len;
  double num;           /* J_NUM */
  int is_int;           /* J_NUM: the token has no fraction or exponent */
  size_t n;             /* J_ARR / J_OBJ: number of children */
  struct jval *items;   /* children */
  char **keys;          /* J_OBJ: decoded keys */
} jval;

typedef struct { const char *p, *end; int depth; } jparser;

static void j_free_children(jval *v) {
  size_t i;
  if (v->t == J_STR) free(v->str);
  for (i = 0; i < v->n; i++) {
    j_free_children(&v->items[i]);
    if (v->keys) free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
}

static void json_free(jval *v) {
  if (!v) return;
  j_free_children(v);
  free(v);
}

static void j_ws(jparser *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

static int j_hex4(const char *s, unsigned *out) {
  unsigned v = 0;
  int i;
  for (i = 0; i < 4; i++) {
    char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return 0;
  }
  *out = v;
  return 1;
}

static int j_string(jparser *ps, char **out, size_t *out_len) {
  /* ps->p is at the opening quote */
  const char *p = ps->p + 1;
  size_t cap = 16, len = 0;
  char *buf = (char *)malloc(cap);
  if (!buf) return 0;
  while (p < ps->end && *p != '"') {
    unsigned cp;
    char tmp[4];
    size_t k, tn = 0;
    if ((unsigned char)*p < 0x20) goto fail;
    if (*p != '\\') {
      tmp[tn++] = *p++;
    } else {
      p++;
      if (p >= ps->end) goto fail;
      switch (*p) {
        case '"': tmp[tn++] = '"'; p++; break;
        case '\\': tmp[tn++] = '\\'; p++; break;
        case '/': tmp[tn++] = '/'; p++; break;
        case 'b': tmp[tn++] = '\b'; p++; break;
        case 'f': tmp[tn++] = '\f'; p++; break;
        case 'n': tmp[tn++] = '\n'; p++; break;
        case 'r': tmp[tn++] = '\r'; p++; break;
        case 't': tmp[tn++] = '\t'; p++; break;
        case 'u':
          if (ps->end - p < 5 || !j_hex4(p + 1, &cp)) goto fail;
          p += 5;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            unsigned lo;
            if (ps->end - p < 6 || p[0] != '\\' || p[1] != 'u' || !j_hex4(p + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF)
              goto fail;
            p += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            goto fail;
          }
          if (cp < 0x80) tmp[tn++] = (char)cp;
          else if (cp < 0x800) { tmp[tn++] = (char)(0xC0 | (cp >> 6)); tmp[tn++] = (char)(0x80 | (cp & 0x3F)); }
          else if (cp < 0x10000) {
            tmp[tn++] = (char)(0xE0 | (cp >> 12)); tmp[tn++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            tmp[tn++] = (char)(0x80 | (cp & 0x3F));
          } else {
            tmp[tn++] = (char)(0xF0 | (cp >> 18)); tmp[tn++] = (char)(0x80 | ((cp >> 12) & 0x3F));
            tmp[tn++] = (char)(0x80 | ((cp >> 6) & 0x3F)); tmp[tn++] = (char)(0x80 | (cp & 0x3F));
          }
          break;
        default: goto fail;
      }
    }
    if (len + tn + 1 > cap) {
      char *nb;
      cap = cap * 2 + tn;
      nb = (char *)realloc(buf, cap);
      if (!nb) goto fail;
      buf = nb;
    }
    for (k = 0; k < tn; k++) buf[len++] = tmp[k];
  }
  if (p >= ps->end) goto fail;
  buf[len] = 0;
  ps->p = p + 1;
  *out = buf;
  *out_len = len;
  return 1;
fail:
  free(buf);
  return 0;
}

static int j_value(jparser *ps, jval *v);

static int j_push(jval *v, size_t *cap, int with_keys) {
  if (v->n == *cap) {
    size_t nc = *cap ? *cap * 2 : 4;
    jval *ni = (jval *)realloc(v->items, nc * sizeof(jval));
    if (!ni) return 0;
    v->items = ni;
    if (with_keys) {
      char **nk = (char **)realloc(v->keys, nc * sizeof(char *));
      if (!nk) return 0;
      v->keys = nk;
    }
    *cap = nc;
  }
  memset(&v->items[v->n], 0, sizeof(jval));
  return 1;
}

static int j_value(jparser *ps, jval *v) {
  memset(v, 0, sizeof *v);
  j_ws(ps);
  if (ps->p >= ps->end) return 0;
  v->raw = ps->p;
  if (++ps->depth > 200) return 0;
  switch (*ps->p) {
    case 'n': if (ps->end - ps->p < 4 || memcmp(ps->p, "null", 4)) return 0; ps->p += 4; v->t = J_NULL; break;
    case 't': if (ps->end - ps->p < 4 || memcmp(ps->p, "true", 4)) return 0; ps->p += 4; v->t = J_TRUE; break;
    case 'f': if (ps->end - ps->p < 5 || memcmp(ps->p, "false", 5)) return 0; ps->p += 5; v->t = J_FALSE; break;
    case '"':
      v->t = J_STR;
      if (!j_string(ps, &v->str, &v->str_len)) return 0;
      break;
    case '[': {
      size_t cap = 0;
      v->t = J_ARR;
      ps->p++;
      j_ws(ps);
      if (ps->p < ps->end && *ps->p == ']') { ps->p++; break; }
      for (;;) {
        if (!j_push(v, &cap, 0)) return 0;
        v->n++;
        if (!j_value(ps, &v->items[v->n - 1])) return 0;
        j_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') { ps->p++; continue; }
        if (ps->p < ps->end && *ps->p == ']') { ps->p++; break; }
        return 0;
      }
      break;
    }
    case '{': {
      size_t cap = 0;
      v->t = J_OBJ;
      ps->p++;
      j_ws(ps);
      if (ps->p < ps->end && *ps->p == '}') { ps->p++; break; }
      for (;;) {
        size_t kl;
        if (!j_push(v, &cap, 1)) return 0;
        v->keys[v->n] = NULL;
        v->n++;
        j_ws(ps);
        if (ps->p >= ps->end || *ps->p != '"' || !j_string(ps, &v->keys[v->n - 1], &kl)) return 0;
        j_ws(ps);
        if (ps->p >= ps->end || *ps->p != ':') return 0;
        ps->p++;
        if (!j_value(ps, &v->items[v->n - 1])) return 0;
        j_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') { ps->p++; continue; }
        if (ps->p < ps->end && *ps->p == '}') { ps->p++; break; }
        return 0;
      }
      break;
    }
    default: {
      const char *s = ps->p;
      char *endp, *tmp;
      size_t len;
      if (*s != '-' && (*s < '0' || *s > '9')) return 0;
      while (ps->p < ps->end && strchr("+-0123456789.eE", *ps->p)) ps->p++;
      len = (size_t)(ps->p - s);
      tmp = (char *)malloc(len + 1);
      if (!tmp) return 0;
      memcpy(tmp, s, len);
      tmp[len] = 0;
      v->t = J_NUM;
      v->num = strtod(tmp, &endp);
      v->is_int = strpbrk(tmp, ".eE") == NULL;
      if (*endp) { free(tmp); return 0; }
      free(tmp);
      break;
    }
  }
  ps->depth--;
  v->raw_len = (size_t)(ps->p - v->raw);
  return 1;
}

/* Parses `len` bytes; NULL on a syntax error. */
static jval *json_parse(const char *text, size_t len) {
  jparser ps;
  jval *v = (jval *)calloc(1, sizeof(jval));
  if (!v) return NULL;
  ps.p = text;
  ps.end = text + len;
  ps.depth = 0;
  if (!j_value(&ps, v)) { json_free(v); return NULL; }
  j_ws(&ps);
  if (ps.p != ps.end) { json_free(v); return NULL; }
  return v;
}

/* The member `key` of an object, or NULL. */
static const jval *json_get(const jval *obj, const char *key) {
  size_t i;
  if (!obj || obj->t != J_OBJ) return NULL;
  for (i = 0; i < obj->n; i++)
    if (strcmp(obj->keys[i], key) == 0) return &obj->items[i];
  return NULL;
}

/* A NUL-terminated copy of the raw text of a value (free it). */
static char *json_raw_copy(const jval *v) {
  char *s = (char *)malloc(v->raw_len + 1);
  if (!s) return NULL;
  memcpy(s, v->raw, v->raw_len);
  s[v->raw_len] = 0;
  return s;
}

/* Structural equality: objects compare as maps, numbers by value, strings byte for byte. */
static int json_equal(const jval *a, const jval *b) {
  size_t i;
  if (!a || !b) return a == b;
  if (a->t != b->t) return 0;
  switch (a->t) {
    case J_NULL: case J_TRUE: case J_FALSE: return 1;
    case J_NUM: return a->num == b->num;
    case J_STR: return a->str_len == b->str_len && memcmp(a->str, b->str, a->str_len) == 0;
    case J_ARR:
      if (a->n != b->n) return 0;
      for (i = 0; i < a->n; i++) if (!json_equal(&a->items[i], &b->items[i])) return 0;
      return 1;
    case J_OBJ:
      if (a->n != b->n) return 0;
      for (i = 0; i < a->n; i++) if (!json_equal(&a->items[i], json_get(b, a->keys[i]))) return 0;
      return 1;
  }
  return 0;
}

#endif /* HOGFLAGS_TEST_JSON_H */
