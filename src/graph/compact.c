/* SPDX-License-Identifier: MIT */
/*
 * Compaction: remove tombstones for good without changing any live id.
 *
 * Deletes only mark a slot (see pv_delete), because unlinking a node at once
 * needs its in-links, which HNSW does not store. Compaction does the repair
 * in one pass instead:
 *   1. every live node that links to a tombstone on some layer keeps its
 *      live links there, and each link to a tombstone is replaced by the
 *      nearest live node reached through the tombstones (following chains
 *      of tombstones breadth-first, up to a bounded number of candidates);
 *   2. a new entry point is chosen if the old one was deleted;
 *   3. live slots slide down over the dead ones, keeping their order, so the
 *      slot -> id column stays ascending and every id keeps its vector (the
 *      store moves every column of the registry);
 *   4. links are renumbered and the arrays shrink to fit;
 *   5. every live node that no search could reach gets a link from its
 *      nearest reachable node, so a compacted index is reachable whole.
 * All scratch is allocated before step 1, so PV_NOMEM changes nothing. The
 * only scratch that grows with the index, the old -> new slot map, is
 * optional: without it (an index at the memory limit, where deleting is
 * how a user makes room) links are renumbered through the ids instead, a
 * binary search per link.
 */
#include <string.h>

#include "index.h"

/* Step 1 for node s on layer l: keep the live links where they are (the
 * heuristic chose them, so they are already spread out) and refill each slot
 * freed by a tombstone with the nearest live node reached through the
 * tombstones. Running the full heuristic over all those candidates instead
 * cost O(candidates x links) distances per node, as much as rebuilding the
 * index; this costs one distance per candidate, and the benchmark's delete
 * experiment shows no loss of recall against a fresh index.
 * cand and queue hold up to lim entries. */
static void repair(pv_index *idx, pv_ctx *c, uint32_t s, int l, pv_pair *cand, uint32_t *queue,
                   uint32_t lim) {
  uint32_t *ln = pv__links(idx, s, l);
  uint32_t i, kept = 0, nq = 0, nc = 0;
  for (i = 1; i <= ln[0]; i++)
    if (!pv__is_live(idx, ln[i])) break;
  if (i > ln[0]) return; /* nothing deleted here */

  pv__visit_reset(c);
  pv__visit(c, s);
  for (i = 1; i <= ln[0]; i++) pv__visit(c, ln[i]);
  for (i = 1; i <= ln[0]; i++) {
    uint32_t t = ln[i];
    if (pv__is_live(idx, t)) {
      ln[1 + kept++] = t;
      continue;
    }
    /* A deleted copy points at a live one of its ring (prune_rings): the
     * same vector, so the link keeps its meaning. */
    uint32_t u = idx->g.twins ? pv__twin(idx, t) : PV_NONE;
    if (u != PV_NONE && u != s && pv__is_live(idx, u) && pv__level(idx, u) >= l && !pv__visit(c, u))
      ln[1 + kept++] = u;
    else queue[nq++] = t;
  }
  uint32_t freed = ln[0] - kept;
  pv__set_count(ln, kept, pv__maxlinks(idx, l));
  /* Breadth-first through the tombstones: their live links are candidates,
   * their deleted links lead further out. Past the direct deleted
   * neighbours, go on only while candidates are short: at a few percent of
   * deletes the tombstones already form one connected web, and walking all
   * of it for every node cost as much as a rebuild. */
  uint32_t direct = nq;
  for (uint32_t qi = 0; qi < nq && nc < lim; qi++) {
    if (qi >= direct && nc >= freed) break;
    const uint32_t *dl = pv__links(idx, queue[qi], l);
    for (i = 1; i <= dl[0] && nc < lim; i++) {
      uint32_t t = dl[i];
      if (pv__visit(c, t)) continue;
      if (pv__is_live(idx, t)) cand[nc++].s = t;
      else if (nq < lim) queue[nq++] = t;
    }
  }
  if (nc > freed) {
    pv_ref r = pv__ref(idx, s);
    for (i = 0; i < nc; i++) cand[i].d = pv__dist(idx, &r, cand[i].s);
    pv__sort_pairs(cand, nc);
    nc = freed;
  }
  for (i = 0; i < nc; i++) ln[1 + kept + i] = cand[i].s;
  ln[0] = kept + nc;
}

/* Before the repair: take the dead copies out of every ring, and point
 * each dead copy at the next live copy of its ring (both in ring order),
 * so that repair can turn a link into a dead copy into a link to a live
 * one: the same vector, so the same distance, and the link into the ring
 * (perhaps its only one from the graph) survives. A ring left with one
 * live copy is no ring. c's visit marks note the rings done. */
static void prune_rings(pv_index *idx, pv_ctx *c) {
  uint32_t n = idx->st.n;
  pv__visit_reset(c);
  for (uint32_t s = 0; s < n; s++) {
    if (pv__twin(idx, s) == PV_NONE || pv__visit(c, s)) continue;
    /* Mark the ring and find a live member to start from. */
    uint32_t first = pv__is_live(idx, s) ? s : PV_NONE;
    for (uint32_t t = pv__twin(idx, s); t != s; t = pv__twin(idx, t)) {
      pv__visit(c, t);
      if (first == PV_NONE && pv__is_live(idx, t)) first = t;
    }
    if (first == PV_NONE) continue; /* all dead: the slide removes them */
    /* From each live member to the next: the dead ones between point at
     * that next live one, and so does the live one before them. */
    uint32_t prev = first, t = pv__twin(idx, first), dead = PV_NONE;
    for (;;) {
      if (!pv__is_live(idx, t)) {
        uint32_t nx = pv__twin(idx, t);
        pv__twin_set(idx, t, dead); /* a chain of the dead run, for now */
        dead = t;
        t = nx;
        continue;
      }
      for (uint32_t d = dead; d != PV_NONE;) {
        uint32_t nx = pv__twin(idx, d);
        pv__twin_set(idx, d, t);
        d = nx;
      }
      dead = PV_NONE;
      pv__twin_set(idx, prev, t);
      if (t == first) break;
      prev = t;
      t = pv__twin(idx, t);
    }
    if (pv__twin(idx, first) == first) pv__twin_set(idx, first, PV_NONE); /* alone */
  }
}

/* Step 5. The heuristic and the repair choose links by distance, not by
 * who else links to a node, so now and then a node loses its last link in
 * (at a few in ten thousand; more with small m and many deletes), and
 * only the brute-force fallback can still return it. Here each such node
 * gets a link from the nearest node a search does reach: one with room in
 * its list if the beam finds one, else any reached node with room, else
 * the nearest, giving up its farthest link (whose target the next round
 * checks). The walk from where searches start (pv_check_reachable's) is
 * O(n m), plus a beam search per unreachable node. Needs n / 8 + 4 n
 * bytes; without them it is skipped (searches stay correct through the
 * fallback). Returns the links it wrote. */
static uint32_t relink(pv_index *idx) {
  uint32_t n = idx->st.n, m0 = idx->g.m0, made = 0;
  pv_reach re;
  if (!n) return 0;
  if (pv__reach_open(idx, &re)) {
    pv__log_stop(idx); /* a replay with the memory might relink */
    return 0;
  }
  uint32_t ef = idx->opt.ef_construction < 4 * m0 ? 4 * m0 : idx->opt.ef_construction;
  pv_ctx *c = pv__ctx_acquire(idx, ef, n);
  if (!c) pv__log_stop(idx);
  for (int round = 0; c && round < 4; round++) {
    uint32_t moved = 0;
    pv__reach_start(idx, &re);
    for (uint32_t u = 0; u < n && re.tail < n; u++) {
      if (pv__reached(&re, u)) continue;
      pv_ref q = pv__ref(idx, u);
      pv_pair ep = pv__descend(idx, &q, 0);
      uint32_t nw = pv__search_layer_all(idx, c, &q, ep, ef, 0);
      pv__maxheap_sort(c->W, nw);
      uint32_t r = PV_NONE, near = PV_NONE;
      for (uint32_t i = 0; i < nw && r == PV_NONE; i++) {
        uint32_t t = c->W[i].s;
        if (t == u || !pv__reached(&re, t)) continue;
        if (near == PV_NONE) near = t;
        if (pv__links(idx, t, 0)[0] < m0) r = t;
      }
      /* Else any reached node with room, though far: a link that only
       * makes u reachable, which is what matters here. */
      for (uint32_t i = 0; i < re.tail && r == PV_NONE; i++)
        if (pv__links(idx, re.queue[i], 0)[0] < m0) r = re.queue[i];
      if (r == PV_NONE) r = near;
      if (r == PV_NONE) continue; /* the beam found nothing: a later round */
      /* A loaded index read in place gets its own copy before a write. */
      if (!made && pv__store_materialize(idx, 0) != PV_OK) break;
      made++;
      uint32_t *ln = pv__links(idx, r, 0);
      if (ln[0] == m0) {
        pv_ref rr = pv__ref(idx, r);
        uint32_t far = 1;
        float fd = pv__dist(idx, &rr, ln[1]);
        for (uint32_t i = 2; i <= ln[0]; i++) {
          float d = pv__dist(idx, &rr, ln[i]);
          if (d > fd) fd = d, far = i;
        }
        ln[far] = u;
        moved++;
      } else {
        ln[1 + ln[0]++] = u;
      }
      pv__reach_add(idx, &re, u);
    }
    if (!moved) break; /* no link given up: every node is reached */
  }
  pv__ctx_release(idx, c);
  pv__reach_close(idx, &re);
  return made;
}

int pv__compact(pv_index *idx) {
  uint32_t n = idx->st.n;
  if (idx->live == n) { /* nothing to remove: only step 5 */
    if (relink(idx)) idx->changes++;
    return PV_OK;
  }

  /* Candidates of one repair: the live links plus up to m0 links from each
   * of up to m0 tombstones reached, which covers one full ring of deleted
   * neighbours. */
  uint32_t lim = idx->g.m0 * (idx->g.m0 + 1);
  uint32_t *remap = pv__malloc(idx, sizeof(uint32_t) * n);
  pv_pair *cand = pv__malloc(idx, sizeof(pv_pair) * lim);
  uint32_t *queue = pv__malloc(idx, sizeof(uint32_t) * lim);
  pv_ctx *c = pv__ctx_acquire(idx, 0, idx->st.n);
  /* Repair writes links anywhere, and slots slide down: a loaded index read
   * in place gets its own copy first. Copying changes no content, so it may
   * happen before we know whether the rest succeeds. */
  int ok = cand && queue && c && pv__store_materialize(idx, 0) == PV_OK;
  if (!ok) {
    pv__free(idx, remap, sizeof(uint32_t) * n);
    pv__free(idx, cand, sizeof(pv_pair) * lim);
    pv__free(idx, queue, sizeof(uint32_t) * lim);
    pv__ctx_release(idx, c);
    return PV_NOMEM;
  }

  /* 1. repair */
  if (idx->g.twins) prune_rings(idx, c);
  for (uint32_t s = 0; s < n; s++) {
    if (!pv__is_live(idx, s)) continue;
    for (int l = 0; l <= pv__level(idx, s); l++) repair(idx, c, s, l, cand, queue, lim);
  }
  pv__ctx_release(idx, c);

  /* 2. entry point: the live node on the highest layer (first such slot) */
  if (idx->g.entry != PV_NONE && !pv__is_live(idx, idx->g.entry)) {
    uint32_t best = PV_NONE;
    for (uint32_t s = 0; s < n; s++)
      if (pv__is_live(idx, s) && (best == PV_NONE || pv__level(idx, s) > pv__level(idx, best)))
        best = s;
    idx->g.entry = best;
    idx->g.max_level = best == PV_NONE ? -1 : pv__level(idx, best);
  }

  /* 3. slide live slots down. Without a map, first turn every live node's
   * links into ids (repair left only live targets), which survive the
   * slide; 4. turns them back into slots. */
  uint32_t **up = pv__upper(idx);
  if (!remap)
    for (uint32_t s = 0; s < n; s++) {
      if (!pv__is_live(idx, s)) continue;
      for (int l = 0; l <= pv__level(idx, s); l++) {
        uint32_t *ln = pv__links(idx, s, l);
        for (uint32_t i = 1; i <= ln[0]; i++) ln[i] = pv__id(idx, ln[i]);
      }
      uint32_t t = pv__twin(idx, s); /* live too, after prune_rings */
      if (t != PV_NONE) pv__twin_set(idx, s, pv__id(idx, t));
    }
  uint32_t entry_id = idx->g.entry != PV_NONE ? pv__id(idx, idx->g.entry) : PV_NONE;
  uint32_t j = 0;
  for (uint32_t s = 0; s < n; s++) {
    if (!pv__is_live(idx, s)) {
      if (remap) remap[s] = PV_NONE;
      pv__free(idx, up[s], pv__upper_bytes(idx, pv__level(idx, s)));
      up[s] = NULL;
      continue;
    }
    if (remap) remap[s] = j;
    if (j != s) {
      pv__store_move(idx, j, s);
      up[s] = NULL; /* moved with the slot: one owner */
    }
    j++;
  }
  idx->st.n = j;

  /* 4. renumber links; repair left only live targets, but stay defensive */
  idx->g.twins = 0;
  for (uint32_t s = 0; s < j; s++) {
    uint32_t tw = pv__twin(idx, s);
    if (tw != PV_NONE) {
      pv__twin_set(idx, s, remap ? remap[tw] : pv__slot_of(idx, tw));
      idx->g.twins++;
    }
    for (int l = 0; l <= pv__level(idx, s); l++) {
      uint32_t *ln = pv__links(idx, s, l);
      uint32_t w = 0;
      for (uint32_t i = 1; i <= ln[0]; i++) {
        uint32_t t = remap ? remap[ln[i]] : pv__slot_of(idx, ln[i]);
        if (t != PV_NONE) ln[1 + w++] = t;
      }
      pv__set_count(ln, w, pv__maxlinks(idx, l));
    }
  }
  if (entry_id != PV_NONE) idx->g.entry = pv__slot_of(idx, entry_id);
  idx->changes++;
  pv__free(idx, remap, sizeof(uint32_t) * n);
  pv__free(idx, cand, sizeof(pv_pair) * lim);
  pv__free(idx, queue, sizeof(uint32_t) * lim);
  pv__store_shrink(idx, j);
  pv__ctx_shrink_all(idx, j);
  relink(idx); /* after the ++ above: the index changed anyway */
  pv__fidx_sweep(idx); /* the field indexes still list the ids just removed */
  pv__text_compact(idx); /* and the postings */
  return PV_OK;
}
