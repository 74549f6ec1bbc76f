/* SPDX-License-Identifier: MIT */
/*
 * The column registry: every per-slot array of an index, once. The store
 * grows, shrinks and moves them from this table; the section registry
 * (persist/sections.c) names the ones saved raw. A new per-document item (a key, attributes, a
 * text length) is one line here and one enum value in store.h.
 */
#include "index.h"

static size_t u32_size(const pv_index *idx) { (void)idx; return sizeof(uint32_t); }
static size_t u8_size(const pv_index *idx) { (void)idx; return 1; }
static size_t ptr_size(const pv_index *idx) { (void)idx; return sizeof(uint32_t *); }
static size_t param_size(const pv_index *idx) { return idx->codec->param_bytes; }
static size_t walk_size(const pv_index *idx) {
  return idx->codec->walks ? idx->codec->walks(idx->dim) : 0;
}

const pv_coldef pv_columns[PV_COL_COUNT] = {
    [PV_COL_ID] = {"ids", PV_COL_MOVED, u32_size},
    [PV_COL_LEVEL] = {"levels", PV_COL_MOVED, u8_size},
    [PV_COL_FLAGS] = {"flags", PV_COL_MOVED | PV_COL_ZERO, u8_size},
    [PV_COL_UPPER] = {"upper links", PV_COL_MOVED | PV_COL_ZERO, ptr_size},
    [PV_COL_PARAM] = {"codec parameters", PV_COL_MOVED, param_size},
    [PV_COL_DOC] = {"documents", PV_COL_MOVED | PV_COL_ZERO, ptr_size},
    [PV_COL_TEXT] = {"text records", PV_COL_MOVED | PV_COL_ZERO, ptr_size},
    [PV_COL_TWIN] = {"twins", PV_COL_MOVED | PV_COL_ZERO, u32_size},
    [PV_COL_WALK] = {"binary codes", PV_COL_MOVED, walk_size},
};
