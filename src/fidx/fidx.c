/* SPDX-License-Identifier: MIT */
/*
 * Field indexes (fidx.h).
 */
#include <string.h>

#include "fidx/fidx.h"
#include "index.h"

/* ---- keys ------------------------------------------------------------------ */
/* A number's key keeps the numbers' order as unsigned integers: flip every
 * bit of a negative, the sign bit of a positive (and -0 is 0). */
static uint64_t num_key(double d) {
  if (d == 0) d = 0; /* -0 == 0 */
  uint64_t u;
  memcpy(&u, &d, 8);
  return u >> 63 ? ~u : u | (1ull << 63);
}

static uint64_t str_key(const uint8_t *p, size_t n) {
  /* 64-bit FNV-1a with a final mix. Equal keys with different strings are
   * possible in principle: the search checks its results against the
   * filter itself, so such a collision costs time, never a wrong hit. */
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ull;
  h ^= h >> 32;
  return h;
}

/* Class and key of a scalar; -1 for arrays and objects. */
static int scalar_class(const pv_aval *v, uint64_t *key) {
  switch (v->type) {
  case PV_A_NUM: *key = num_key(v->num); return PV_FC_NUM;
  case PV_A_STR: *key = str_key(v->p, v->len); return PV_FC_STR;
  case PV_A_FALSE: *key = 0; return PV_FC_BOOL;
  case PV_A_TRUE: *key = 1; return PV_FC_BOOL;
  case PV_A_NULL: *key = 0; return PV_FC_NULL;
  default: return -1;
  }
}

/* ---- runs ------------------------------------------------------------------ */
static void run_free(pv_index *idx, pv_run *r) {
  pv__free(idx, r->key, sizeof(uint64_t) * r->cap);
  pv__free(idx, r->id, sizeof(uint32_t) * r->cap);
  memset(r, 0, sizeof *r);
}

static int pair_less(const pv_run *r, uint32_t a, uint32_t b) {
  return r->key[a] < r->key[b] || (r->key[a] == r->key[b] && r->id[a] < r->id[b]);
}
static void pair_swap(pv_run *r, uint32_t a, uint32_t b) {
  uint64_t k = r->key[a];
  r->key[a] = r->key[b];
  r->key[b] = k;
  uint32_t i = r->id[a];
  r->id[a] = r->id[b];
  r->id[b] = i;
}

/* Sift entry i of the heap of n entries based at lo down to its place. */
static void sift(pv_run *r, uint32_t lo, uint32_t i, uint32_t n) {
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= n) return;
    if (c + 1 < n && pair_less(r, lo + c, lo + c + 1)) c++;
    if (!pair_less(r, lo + i, lo + c)) return;
    pair_swap(r, lo + i, lo + c);
    i = c;
  }
}

/* Heapsort of entries [lo, hi): no recursion, no allocation. */
static void sort_range(pv_run *r, uint32_t lo, uint32_t hi) {
  uint32_t n = hi - lo;
  for (uint32_t start = n / 2; start-- > 0;) sift(r, lo, start, n);
  for (uint32_t end = n; end-- > 1;) {
    pair_swap(r, lo, lo + end);
    sift(r, lo, 0, end);
  }
}

/* New key and id arrays with room for cap entries: both, or (PV_NOMEM)
 * neither. */
static int run_arrays(pv_index *idx, uint32_t cap, uint64_t **k, uint32_t **d) {
  *k = pv__malloc(idx, sizeof(uint64_t) * cap);
  *d = pv__malloc(idx, sizeof(uint32_t) * cap);
  if (*k && *d) return PV_OK;
  pv__free(idx, *k, *k ? sizeof(uint64_t) * cap : 0);
  pv__free(idx, *d, *d ? sizeof(uint32_t) * cap : 0);
  return PV_NOMEM;
}

/* Free r's arrays and give it k and d, of room cap. */
static void run_adopt(pv_index *idx, pv_run *r, uint64_t *k, uint32_t *d, uint32_t cap) {
  pv__free(idx, r->key, sizeof(uint64_t) * r->cap);
  pv__free(idx, r->id, sizeof(uint32_t) * r->cap);
  r->key = k;
  r->id = d;
  r->cap = cap;
}

/* Sort the tail into the sorted part, dropping dead entries, into new
 * arrays with room for `cap`. PV_OK/PV_NOMEM (run unchanged). */
static int run_merge(pv_index *idx, pv_run *r, uint32_t cap) {
  if (cap < 16) cap = 16;
  uint64_t *k;
  uint32_t *d;
  if (run_arrays(idx, cap, &k, &d) != PV_OK) return PV_NOMEM;
  sort_range(r, r->sorted, r->n);
  uint32_t a = 0, b = r->sorted, o = 0;
  for (;;) {
    /* Dead entries first: one compared as (key, PV_NONE) would let the
     * other side's entries of its key pass before live ones behind it. */
    while (a < r->sorted && r->id[a] == PV_NONE) a++;
    while (b < r->n && r->id[b] == PV_NONE) b++;
    if (a == r->sorted && b == r->n) break;
    uint32_t t = b >= r->n || (a < r->sorted && pair_less(r, a, b)) ? a++ : b++;
    k[o] = r->key[t];
    d[o++] = r->id[t];
  }
  run_adopt(idx, r, k, d, cap);
  r->n = r->sorted = o;
  r->dead = 0;
  return PV_OK;
}

static int run_push(pv_index *idx, pv_run *r, uint64_t key, uint32_t id) {
  if (idx->fidx.bulk && r->n == r->cap) {
    /* Many documents at once: grow the tail and sort once at the end, not
     * every PV_FIDX_TAIL entries (a load of 100k documents merged ~400
     * times). */
    uint32_t cap = r->cap < 64 ? 64 : r->cap * 2;
    uint64_t *k;
    uint32_t *d;
    if (run_arrays(idx, cap, &k, &d) != PV_OK) return PV_NOMEM;
    if (r->n) {
      memcpy(k, r->key, sizeof(uint64_t) * r->n);
      memcpy(d, r->id, sizeof(uint32_t) * r->n);
    }
    run_adopt(idx, r, k, d, cap);
  } else if (!idx->fidx.bulk && (r->n == r->cap || r->n - r->sorted >= PV_FIDX_TAIL)) {
    uint32_t live = r->n - r->dead + 1;
    uint32_t cap = live + live / 2 + PV_FIDX_TAIL;
    if (cap < r->cap && r->cap <= 2 * cap) cap = r->cap; /* keep: no need to shrink */
    if (run_merge(idx, r, cap) != PV_OK) return PV_NOMEM;
  }
  r->key[r->n] = key;
  r->id[r->n++] = id;
  return PV_OK;
}

/* First sorted entry with key >= k. */
static uint32_t lower(const pv_run *r, uint64_t k) {
  uint32_t lo = 0, hi = r->sorted;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (r->key[mid] < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

static void run_kill(pv_run *r, uint64_t key, uint32_t id) {
  /* The sorted part is ordered by (key, id): a binary search on both, so a
   * value that many documents share costs no more to take out than any.
   * Entries killed since the last merge (id PV_NONE) are holes in that
   * order: a probe that lands on one looks at the next live entry. */
  uint32_t lo = 0, hi = r->sorted;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2, m = mid;
    while (m < hi && r->id[m] == PV_NONE) m++;
    if (m < hi && (r->key[m] < key || (r->key[m] == key && r->id[m] < id))) lo = m + 1;
    else hi = mid;
  }
  while (lo < r->sorted && r->id[lo] == PV_NONE) lo++;
  if (lo < r->sorted && r->key[lo] == key && r->id[lo] == id) {
    r->id[lo] = PV_NONE;
    r->dead++;
    return;
  }
  for (uint32_t i = r->sorted; i < r->n; i++)
    if (r->key[i] == key && r->id[i] == id) {
      r->id[i] = PV_NONE;
      r->dead++;
      return;
    }
}

/* Where a leaf's candidates go: a bitmap, a list, or (neither) a count. */
typedef struct lv {
  uint64_t *o;     /* bitmap mode: the bits */
  uint32_t *list;  /* list mode: the ids, room for cap */
  size_t cap;
  uint64_t count;  /* count mode: entries; list mode: ids listed */
  int exact;       /* 0: the set is a superset, the evaluator decides */
  int all;         /* the leaf cannot be indexed: every document may match */
  int fail;        /* list mode: no list (see above) */
} lv;

/* One id of a leaf's candidates, into the bitmap (set or cleared) or onto
 * the list (more ids than it holds make the list fail: the caller builds
 * the bitmap instead; op fails it on a removal). */
static inline void put_id(lv *v, uint32_t id, int set) {
  if (v->o) {
    if (set) v->o[id >> 6] |= 1ull << (id & 63);
    else v->o[id >> 6] &= ~(1ull << (id & 63));
  } else if (v->count < v->cap) {
    v->list[v->count++] = id;
  } else {
    v->fail = 1;
  }
}

/* The ids of r's entries with keys in [lo, hi] into v (bitmap or list). */
static void run_mark(const pv_run *r, uint64_t lo, uint64_t hi, lv *v, int set) {
  for (uint32_t i = lower(r, lo); i < r->sorted && r->key[i] <= hi; i++)
    if (r->id[i] != PV_NONE) put_id(v, r->id[i], set);
  for (uint32_t i = r->sorted; i < r->n; i++)
    if (r->id[i] != PV_NONE && r->key[i] >= lo && r->key[i] <= hi) put_id(v, r->id[i], set);
}

/* ---- paths ------------------------------------------------------------------ */
static uint32_t path_hash(const uint8_t *p, uint32_t n) { return (uint32_t)str_key(p, n); }

static pv_fpath *path_find(const pv_fidx *x, const uint8_t *p, uint32_t n) {
  if (!x->tcap) return NULL;
  for (uint32_t j = path_hash(p, n) & (x->tcap - 1); x->tab[j]; j = (j + 1) & (x->tcap - 1)) {
    pv_fpath *f = &x->path[x->tab[j] - 1];
    if (f->len == n && !memcmp(f->name, p, n)) return f;
  }
  return NULL;
}

static pv_fpath *path_get(pv_index *idx, const uint8_t *p, uint32_t n) {
  pv_fidx *x = &idx->fidx;
  pv_fpath *f = path_find(x, p, n);
  if (f) return f;
  if (2 * (x->npath + 1) > x->tcap) {
    uint32_t cap = x->tcap ? 2 * x->tcap : 32;
    uint32_t *t = pv__malloc(idx, sizeof(uint32_t) * cap);
    if (!t) return NULL;
    memset(t, 0, sizeof(uint32_t) * cap);
    for (uint32_t i = 0; i < x->npath; i++) {
      uint32_t j = path_hash(x->path[i].name, x->path[i].len) & (cap - 1);
      while (t[j]) j = (j + 1) & (cap - 1);
      t[j] = i + 1;
    }
    pv__free(idx, x->tab, sizeof(uint32_t) * x->tcap);
    x->tab = t;
    x->tcap = cap;
  }
  if (x->npath == x->pcap) {
    uint32_t cap = x->pcap ? 2 * x->pcap : 8;
    pv_fpath *np = pv__realloc(idx, x->path, sizeof(pv_fpath) * x->pcap, sizeof(pv_fpath) * cap);
    if (!np) return NULL;
    x->path = np;
    x->pcap = cap;
  }
  uint8_t *name = pv__malloc(idx, n ? n : 1);
  if (!name) return NULL;
  memcpy(name, p, n);
  f = &x->path[x->npath++];
  memset(f, 0, sizeof *f);
  f->name = name;
  f->len = n;
  uint32_t j = path_hash(p, n) & (x->tcap - 1);
  while (x->tab[j]) j = (j + 1) & (x->tcap - 1);
  x->tab[j] = x->npath;
  return f;
}

/* ---- documents ----------------------------------------------------------- */
typedef struct walker {
  pv_index *idx;
  uint32_t id;
  int add; /* 1: add entries, 0: kill them */
  uint8_t path[4096];
  uint32_t len;
  int fail;
} walker;

static void entry(walker *w, int cls, uint64_t key) {
  if (w->fail) return;
  if (!w->add) {
    pv_fpath *f = path_find(&w->idx->fidx, w->path, w->len);
    if (!f) return;
    pv_run *r = &f->run[cls];
    run_kill(r, key, w->id);
    /* Holes slow the search of run_kill (and fill memory): past a quarter
     * of the run, merge them away. */
    if (r->dead > 64 && 4 * r->dead > r->n &&
        run_merge(w->idx, r, r->n - r->dead + PV_FIDX_TAIL) != PV_OK)
      w->fail = 1;
    return;
  }
  pv_fpath *f = path_get(w->idx, w->path, w->len);
  if (!f || run_push(w->idx, &f->run[cls], key, w->id) != PV_OK) w->fail = 1;
}

static void walk_obj(walker *w, const pv_aval *o) {
  const uint8_t *cur = o->p;
  const char *name;
  size_t nlen;
  pv_aval v;
  while (!w->fail && pv__attr_next(o, &cur, &name, &nlen, &v)) {
    uint32_t keep = w->len;
    if (keep + 4 + nlen > sizeof w->path) continue; /* a path this long is left unindexed */
    uint32_t l = (uint32_t)nlen;
    memcpy(w->path + keep, &l, 4);
    memcpy(w->path + keep + 4, name, nlen);
    w->len = keep + 4 + l;
    entry(w, PV_FC_PRESENT, 0);
    uint64_t key;
    int cls = scalar_class(&v, &key);
    if (cls >= 0) {
      entry(w, cls, key);
    } else if (v.type == PV_A_ARR) {
      const uint8_t *ac = v.p;
      pv_aval e;
      while (pv__attr_next(&v, &ac, NULL, NULL, &e)) {
        int ec = scalar_class(&e, &key);
        if (ec >= 0) entry(w, ec + PV_FC_E_NUM, key);
      }
    } else {
      walk_obj(w, &v);
    }
    w->len = keep;
  }
}

static void doc(pv_index *idx, uint32_t id, const uint8_t *a, size_t n, int add) {
  if (!n || idx->fidx.stale) return;
  static PV_THREAD_LOCAL walker w; /* 4 KB: off the WebAssembly stack */
  w.idx = idx;
  w.id = id;
  w.add = add;
  w.len = 0;
  w.fail = 0;
  pv_aval root;
  pv__attr_root(a, n, &root);
  walk_obj(&w, &root);
  if (w.fail) idx->fidx.stale = 1;
}

void pv__fidx_add(pv_index *idx, uint32_t id, const uint8_t *a, size_t n) { doc(idx, id, a, n, 1); }
void pv__fidx_remove(pv_index *idx, uint32_t id, const uint8_t *a, size_t n) {
  doc(idx, id, a, n, 0);
}

void pv__fidx_free(pv_index *idx) {
  pv_fidx *x = &idx->fidx;
  for (uint32_t i = 0; i < x->npath; i++) {
    for (int c = 0; c < PV_FC_COUNT; c++) run_free(idx, &x->path[i].run[c]);
    pv__free(idx, x->path[i].name, x->path[i].len ? x->path[i].len : 1);
  }
  pv__free(idx, x->path, sizeof(pv_fpath) * x->pcap);
  pv__free(idx, x->tab, sizeof(uint32_t) * x->tcap);
  memset(x, 0, sizeof *x);
}

void pv__fidx_sweep(pv_index *idx) {
  pv_fidx *x = &idx->fidx;
  if (x->stale) return;
  for (uint32_t i = 0; i < x->npath; i++)
    for (int c = 0; c < PV_FC_COUNT; c++) {
      pv_run *r = &x->path[i].run[c];
      /* A run is sorted by key, not id: look each id up (the ids column is
       * sorted; compaction costs this much anyway). */
      for (uint32_t e = 0; e < r->n; e++)
        if (r->id[e] != PV_NONE && pv__live_slot(idx, r->id[e]) == PV_NONE) {
          r->id[e] = PV_NONE;
          r->dead++;
        }
      if (r->dead && run_merge(idx, r, r->n - r->dead + PV_FIDX_TAIL) != PV_OK) x->stale = 1;
    }
}

void pv__fidx_bulk(pv_index *idx, int on) {
  pv_fidx *x = &idx->fidx;
  int was = x->bulk;
  x->bulk = on;
  if (on || !was || x->stale) return; /* only the end of a bulk sorts */
  for (uint32_t i = 0; i < x->npath && !x->stale; i++)
    for (int c = 0; c < PV_FC_COUNT; c++) {
      pv_run *r = &x->path[i].run[c];
      if (r->n > r->sorted && run_merge(idx, r, r->n - r->dead + PV_FIDX_TAIL) != PV_OK)
        x->stale = 1;
    }
}

void pv__fidx_refresh(pv_index *idx) {
  if (!idx->fidx.stale) return;
  pv__fidx_free(idx);
  pv__fidx_bulk(idx, 1);
  for (uint32_t s = 0; s < idx->st.n && !idx->fidx.stale; s++) {
    const pv_rec *r = pv__rec_of(idx, s);
    if (r && r->attr_len) pv__fidx_add(idx, pv__id(idx, s), pv__rec_attr(r), r->attr_len);
  }
  pv__fidx_bulk(idx, 0);
}

/* ---- filters as bitmaps ------------------------------------------------------ */
/* Set bits of a word. The builtin is one instruction in WebAssembly and on
 * CPUs built for; elsewhere GCC makes it a library call per word, which
 * cost more than the rest of counting a bitmap, so the bit trick instead. */
static inline int popcount64(uint64_t x) {
#if defined(__wasm__) || defined(__POPCNT__)
  return __builtin_popcountll(x);
#else
  x -= (x >> 1) & 0x5555555555555555ull;
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
  return (int)((x * 0x0101010101010101ull) >> 56);
#endif
}

uint32_t pv__fidx_depth(const pv_filter *f) {
  /* Nodes come after their children or before: walk with an explicit
   * stack bounded by the node count. The compiler limits nesting, so
   * depth stays small; this computes it without trusting that. */
  uint32_t best = 1;
  uint32_t stack[128], dep[128], top = 0;
  stack[top] = f->root;
  dep[top++] = 1;
  while (top) {
    top--;
    uint32_t n = stack[top], d = dep[top];
    if (d > best) best = d;
    const pv_fnode *x = &f->node[n];
    if ((x->kind == PV_F_AND || x->kind == PV_F_OR || x->kind == PV_F_NOT) && top + 2 <= 128) {
      stack[top] = x->a;
      dep[top++] = d + 1;
      if (x->kind != PV_F_NOT) {
        stack[top] = x->b;
        dep[top++] = d + 1;
      }
    }
  }
  return best;
}

typedef struct bm {
  const pv_fidx *x;
  size_t words;
  uint64_t all_bits_last; /* mask of valid bits in the last word */
} bm;

static void fill_all(const bm *b, uint64_t *o) {
  for (size_t i = 0; i < b->words; i++) o[i] = ~0ull;
}

/* Encode a leaf's path as the index stores it; 0 if too long. */
static uint32_t leaf_path(const pv_fnode *x, uint8_t *buf, uint32_t cap) {
  uint32_t len = 0;
  for (uint32_t i = 0; i < x->nseg; i++) {
    uint32_t l = x->seg[i].len;
    if (len + 4 + l > cap) return 0;
    memcpy(buf + len, &l, 4);
    memcpy(buf + len + 4, x->seg[i].name, l);
    len += 4 + l;
  }
  return len;
}

/* Entries with lo <= key <= hi (dead ones too: an upper bound). */
static uint64_t run_count(const pv_run *r, uint64_t lo, uint64_t hi) {
  uint32_t a = lower(r, lo), z = hi == UINT64_MAX ? r->sorted : lower(r, hi + 1);
  uint64_t n = z > a ? z - a : 0;
  for (uint32_t i = r->sorted; i < r->n; i++) n += r->key[i] >= lo && r->key[i] <= hi;
  return n;
}

/* What a leaf does with its runs (lv): marks their ids into o, lists
 * them, or (neither) counts the entries it adds, for an estimate. One walk
 * of a leaf's meaning serves all three, so they cannot disagree. */
static void op(lv *v, const pv_run *r, uint64_t lo, uint64_t hi, int add) {
  if (v->list && !add) v->fail = 1;
  else if (v->o || v->list) run_mark(r, lo, hi, v, add);
  else if (add) v->count += run_count(r, lo, hi);
}

static void leaf_runs(const pv_fidx *X, const pv_fnode *x, lv *v) {
  static PV_THREAD_LOCAL uint8_t pbuf[4096];
  v->exact = 1;
  uint32_t plen = leaf_path(x, pbuf, sizeof pbuf);
  if (!plen || x->kind < PV_F_CMP) {
    v->all = 1;
    return;
  }
  const pv_fpath *p = path_find(X, pbuf, plen);
  if (!p) return; /* nobody has the path: no document matches any leaf */
  const pv_run *R = p->run;
  uint64_t key;
  int c = x->nlit ? scalar_class(&x->lit[0], &key) : -1;
  switch (x->kind) {
  case PV_F_EXISTS:
    op(v, &R[PV_FC_PRESENT], 0, 0, 1);
    return;
  case PV_F_NIN: /* the scalars, less the listed values */
  case PV_F_IN:
    for (int k = PV_FC_NUM; x->kind == PV_F_NIN && k <= PV_FC_NULL; k++)
      op(v, &R[k], 0, UINT64_MAX, 1);
    for (uint32_t i = 0; i < x->nlit; i++)
      if ((c = scalar_class(&x->lit[i], &key)) >= 0) op(v, &R[c], key, key, x->kind == PV_F_IN);
    return;
  case PV_F_CONTAINS:
    if (c >= 0) op(v, &R[c + PV_FC_E_NUM], key, key, 1);
    if (c == PV_FC_STR && R[PV_FC_STR].n > R[PV_FC_STR].dead) {
      /* A substring of a string value: only its type is indexed. (Where no
       * document has a string there, the set is exact.) */
      op(v, &R[PV_FC_STR], 0, UINT64_MAX, 1);
      v->exact = 0;
    }
    return;
  default: /* PV_F_CMP */
    if (c < 0) return;
    if (x->op == PV_OP_EQ) {
      op(v, &R[c], key, key, 1);
    } else if (x->op == PV_OP_NE) {
      op(v, &R[c], 0, UINT64_MAX, 1);
      op(v, &R[c], key, key, 0);
      /* What != means for booleans and null is the evaluator's to say. */
      v->exact = c == PV_FC_NUM || c == PV_FC_STR;
    } else if (c == PV_FC_NUM) {
      /* No number maps to key 0 or to the largest key, so key - 1 and
       * key + 1 stay in range. */
      op(v, &R[c], x->op >= PV_OP_GT ? key + (x->op == PV_OP_GT) : 0,
         x->op <= PV_OP_LE ? key - (x->op == PV_OP_LT) : UINT64_MAX, 1);
    } else {
      /* Order on strings (and whatever the evaluator makes of booleans):
       * the values of that type, checked by the evaluator. */
      op(v, &R[c], 0, UINT64_MAX, 1);
      v->exact = 0;
    }
  }
}

/* Mark a leaf's candidates into o (cleared first); *exact 0 when the set
 * is a superset. */
static void leaf(const bm *b, const pv_fnode *x, uint64_t *o, int *exact) {
  memset(o, 0, sizeof(uint64_t) * b->words);
  lv v = {o, NULL, 0, 0, 1, 0, 0};
  leaf_runs(b->x, x, &v);
  if (v.all) fill_all(b, o);
  *exact = v.exact && !v.all;
}

/* About how many documents leaf x matches, from the run sizes alone. */
static uint64_t leaf_estimate(const pv_fidx *X, const pv_fnode *x, uint64_t all) {
  lv v = {NULL, NULL, 0, 0, 1, 0, 0};
  leaf_runs(X, x, &v);
  return v.all ? all : v.count;
}

static uint64_t estimate(const pv_fidx *X, const pv_filter *f, uint32_t n, uint64_t all) {
  const pv_fnode *x = &f->node[n];
  uint64_t a, b;
  switch (x->kind) {
  case PV_F_TRUE: return all;
  case PV_F_AND:
    a = estimate(X, f, x->a, all), b = estimate(X, f, x->b, all);
    return a < b ? a : b;
  case PV_F_OR:
    a = estimate(X, f, x->a, all), b = estimate(X, f, x->b, all);
    return a + b < all ? a + b : all;
  case PV_F_NOT:
    a = estimate(X, f, x->a, all);
    return a < all ? all - a : 0;
  default: {
    uint64_t e = leaf_estimate(X, x, all);
    return e < all ? e : all;
  }
  }
}

int64_t pv__fidx_estimate(const pv_index *idx, const pv_filter *f) {
  if (idx->fidx.stale) return -1;
  return (int64_t)estimate(&idx->fidx, f, f->root, idx->live);
}

static void fill(const bm *b, const pv_filter *f, uint32_t n, uint64_t *o, uint64_t *tmp,
                 int *exact) {
  const pv_fnode *x = &f->node[n];
  int ea = 1, eb = 1;
  switch (x->kind) {
  case PV_F_TRUE:
    fill_all(b, o);
    *exact = 1;
    return;
  case PV_F_AND:
  case PV_F_OR:
    fill(b, f, x->a, o, tmp + b->words, &ea);
    fill(b, f, x->b, tmp, tmp + b->words, &eb);
    if (x->kind == PV_F_AND)
      for (size_t i = 0; i < b->words; i++) o[i] &= tmp[i];
    else
      for (size_t i = 0; i < b->words; i++) o[i] |= tmp[i];
    *exact = ea && eb;
    return;
  case PV_F_NOT:
    fill(b, f, x->a, o, tmp, &ea);
    if (ea) {
      for (size_t i = 0; i < b->words; i++) o[i] = ~o[i];
    } else {
      fill_all(b, o); /* the complement of a superset is no superset */
    }
    *exact = ea;
    return;
  default:
    leaf(b, x, o, exact);
  }
}

int64_t pv__fidx_list(const pv_index *idx, const pv_filter *f, uint32_t *ids, size_t cap,
                      int *exact) {
  const pv_fnode *x = &f->node[f->root];
  if (idx->fidx.stale || x->kind < PV_F_CMP) return -1;
  lv v = {NULL, ids, cap, 0, 1, 0, 0};
  leaf_runs(&idx->fidx, x, &v);
  if (v.all || v.fail) return -1;
  *exact = v.exact;
  return (int64_t)v.count;
}

int64_t pv__fidx_bitmap(const pv_index *idx, const pv_filter *f, uint64_t *bits, uint64_t *tmp,
                        size_t words, int *exact) {
  if (idx->fidx.stale) return -1;
  bm b = {&idx->fidx, words, 0};
  fill(&b, f, f->root, bits, tmp, exact);
  /* Complements set bits past the last id: clear them, so counts are true. */
  uint32_t tail = idx->next_id & 63;
  if (tail && words) bits[words - 1] &= (1ull << tail) - 1;
  int64_t n = 0;
  for (size_t i = 0; i < words; i++) n += popcount64(bits[i]);
  return n;
}
