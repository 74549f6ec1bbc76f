/* SPDX-License-Identifier: MIT */
/*
 * The HNSW graph over slots: the beam search of a layer (with an accept
 * predicate), insertion as a read-only plan and a commit that allocates
 * nothing, the neighbour-selection heuristic, compaction and the checker.
 * The graph knows slots, levels, links and distances (through the codec);
 * not ids, keys or encodings.
 *
 * Deleted nodes (tombstones) stay in the graph until compaction. Searches
 * walk through them, because they still connect their neighbourhoods, but
 * never return them; inserts may link to them like to any node; and a node
 * whose full link list is re-selected drops them on the way.
 */
#ifndef PV_GRAPH_H
#define PV_GRAPH_H

#include "codec/codec.h"
#include "query/context.h"

typedef struct pv_graph {
  uint32_t m, m0;  /* max links on upper layers / on layer 0 */
  uint32_t entry;  /* entry point slot, PV_NONE when empty */
  int max_level;   /* its level, -1 when empty */
  uint64_t rng;    /* the level generator's state */
  uint32_t twins;  /* slots in rings of exact copies (below) */
} pv_graph;

/* Exact copies. A vector inserted where an identical one already is (the
 * same code, and the same parameters) joins that one's ring: a cycle of
 * slots through the twins column, which the layer-0 walks follow like one
 * more link. The heuristic keeps a node from linking only to its copies
 * (pv__select), so a new copy often gets no link back from the graph; the
 * ring is what makes it reachable: reach one copy, or a tombstone of one,
 * and the walk can reach them all. Compaction keeps every ring whole and
 * turns links into a deleted copy into links to a live one
 * (pv__twin and pv__twin_set in index.h.) A copy is found by the insert's
 * own beam, so one that the beam does not reach starts no ring: under dot,
 * where a longer vector in the same direction is nearer than a copy, that
 * happens once ef_construction copies of such vectors crowd the beam.
 * Compaction's last step (compact.c) then restores reachability; an index
 * of exact codes (a hash) would find every copy. */

/* Which nodes a search may return, besides being live: the graph walks
 * through the others. fn is called once per reached live node. */
typedef struct pv_accept {
  int (*fn)(const struct pv_accept *a, uint32_t slot);
} pv_accept;

/* Within the graph module: the greedy descent from the entry point through
 * the layers above `to`, returning the best node on layer to + 1 (the entry
 * of layer `to`); and the beam search of layer l where every node, even a
 * tombstone, may be a result (an insert's), into c->W. */
pv_pair pv__descend(const pv_index *idx, const pv_ref *q, int to);
uint32_t pv__search_layer_all(const pv_index *idx, pv_ctx *c, const pv_ref *q, pv_pair ep,
                              uint32_t ef, int l);
/* Random level for a new node, advancing *rng. */
int pv__random_level(const pv_index *idx, uint64_t *rng);
/* The k nearest live (and accepted, when acc is not NULL) slots to q with
 * beam width ef (k <= ef <= the context's room) into out, ascending.
 * Allocates nothing. Returns the number written. */
size_t pv__graph_search(const pv_index *idx, pv_ctx *c, const pv_ref *q, size_t k,
                        uint32_t ef, const pv_accept *acc, pv_pair *out);
/* The k nearest live slots to q whose id's bit is set in bits (and that
 * verify, when not NULL, accepts), by a two-hop filtered walk of layer 0
 * (search.c says why); k <= ef <= the context's room. Allocates nothing.
 * Returns the number written to out, ascending. */
size_t pv__graph_search_bits(const pv_index *idx, pv_ctx *c, const pv_ref *q, size_t k,
                             uint32_t ef, const uint64_t *bits, const pv_accept *verify,
                             pv_pair *out);
/* Plan the links of slot s (stored, level set, links empty): search every
 * layer it joins and select its neighbours into c->plan (per layer, a count
 * then m slots). Reads the graph only, so plans could be made in parallel;
 * c must hold a beam of ef_construction. */
void pv__insert_plan(const pv_index *idx, pv_ctx *c, uint32_t s);
/* Link slot s as planned: its own lists, the links back, and the entry
 * point. Allocates nothing and cannot fail. */
void pv__insert_commit(pv_index *idx, pv_ctx *c, uint32_t s);
/* The neighbour-selection heuristic: from cand[0..n) sorted ascending by
 * distance to node (slot s, whose ref is node), keep at most max that are
 * not closer to an already kept one than to the node. Writes kept slots to
 * out, returns how many. */
uint32_t pv__select(const pv_index *idx, const pv_ref *node, uint32_t s, const pv_pair *cand,
                    uint32_t n, uint32_t max, uint32_t *out);
/* Reachability (check.c): the nodes the walks of a search can reach, as a
 * bit per slot, and the queue of the breadth-first walk that marks them.
 * open allocates both for the index's n slots (PV_OK/PV_NOMEM), start
 * marks what is reachable from where searches start, add marks s and what
 * is reachable from it (after a link to s was made), close frees. */
typedef struct pv_reach {
  uint64_t *seen;
  uint32_t *queue, tail;
} pv_reach;
int pv__reach_open(pv_index *idx, pv_reach *r);
void pv__reach_start(const pv_index *idx, pv_reach *r);
void pv__reach_from(const pv_index *idx, pv_reach *r, uint32_t head);
void pv__reach_add(const pv_index *idx, pv_reach *r, uint32_t s);
void pv__reach_close(pv_index *idx, pv_reach *r);
static inline int pv__reached(const pv_reach *r, uint32_t s) { return r->seen[s >> 6] >> (s & 63) & 1; }
/* Bytes of the upper lists of a node on `level`. */
size_t pv__upper_bytes(const pv_index *idx, int level);
/* Free the upper lists of slots [from, to) and set them NULL (pv_free, a
 * batch that failed to allocate them all). */
void pv__graph_free_upper(pv_index *idx, uint32_t from, uint32_t to);

#endif /* PV_GRAPH_H */
