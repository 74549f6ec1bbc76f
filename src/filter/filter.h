/* SPDX-License-Identifier: MIT */
/*
 * Filters: the language of docs/FILTER.md, compiled once into a small tree
 * that the evaluator runs against a document's encoded attributes (in
 * place, allocating nothing), and that the query planner reads to use the
 * field indexes.
 *
 * Semantics the planner relies on: a comparison (CMP, IN, CONTAINS) on a
 * missing field or on a value of another type is false; NOT negates its
 * whole child, so `not (x == 1)` matches a document without x while
 * `x != 1` does not.
 */
#ifndef PV_FILTER_H
#define PV_FILTER_H

#include "attr/attr.h"

enum {
  PV_F_TRUE,     /* matches every document (the empty filter) */
  PV_F_AND,      /* a and b */
  PV_F_OR,       /* a or b */
  PV_F_NOT,      /* not a */
  PV_F_CMP,      /* path op lit[0] */
  PV_F_IN,       /* path in lit[0..nlit) ("not in" is a CMP-like leaf: NIN) */
  PV_F_NIN,      /* path not in lit[..]: the field exists, is a scalar, and equals none */
  PV_F_CONTAINS, /* path contains lit[0]: an array with an element equal to it, or
                    (string literal) a string with it as a substring */
  PV_F_EXISTS    /* exists(path): the field is present (any value, null included) */
};
enum { PV_OP_EQ, PV_OP_NE, PV_OP_LT, PV_OP_LE, PV_OP_GT, PV_OP_GE };

/* Nesting limit of the language: "(" and "not" count a level each (a
 * deeper filter is PV_INVALID), so the parser's and the evaluator's
 * recursion stay shallow on WebAssembly's 64 KB stack. Chains of "and"
 * and "or" do not nest: they compile to trees leaning right (a and b and
 * c is AND(a, AND(b, c))), which walkers follow down b in a loop. */
#define PV_FILTER_DEPTH 64

/* A path segment: an object member name. */
typedef struct pv_fseg {
  const char *name;
  uint32_t len;
} pv_fseg;

/* A literal: type PV_A_NULL/FALSE/TRUE/NUM/STR (p, len: the string's bytes). */
typedef pv_aval pv_flit;

typedef struct pv_fnode {
  uint8_t kind; /* PV_F_* */
  uint8_t op;   /* PV_OP_* for CMP */
  uint32_t a, b; /* children (node indexes) of AND/OR (a, b) and NOT (a) */
  const pv_fseg *seg; /* the path of a leaf */
  uint32_t nseg;
  const pv_flit *lit; /* the literals of a leaf */
  uint32_t nlit;
} pv_fnode;

/* A compiled filter: one allocation from alloc holding the nodes, the
 * segments, the literals and their strings; root is nodes[root]. */
struct pv_filter {
  pv_allocator alloc;
  size_t bytes;
  const pv_fnode *node;
  uint32_t nnode, root;
};

/* 1 if the document whose encoded attributes are a (n bytes; n = 0: {})
 * matches f, else 0. Pure, allocation-free, safe from any thread. */
int pv__filter_eval(const pv_filter *f, const uint8_t *a, size_t n);

/* Whether the value v satisfies leaf node x (the leaf's own test, once its
 * path has been resolved to v): the planner and the field indexes use it. */
int pv__filter_leaf(const pv_fnode *x, const pv_aval *v);

#endif /* PV_FILTER_H */
