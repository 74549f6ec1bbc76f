/* SPDX-License-Identifier: MIT */
/*
 * pocketvec: the command-line tool. Dispatch and usage only; each subcommand
 * lives in its own cmd_*.c file and is one row of the table below.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>

#include "cli.h"

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

/* ------------------------------------------------------------------------ */
/* The command table                                                        */
/* ------------------------------------------------------------------------ */

/* Order is the order of `pocketvec help`. */
static const cli_command commands[] = {
    {"demo", "[--n N] [--dim D] [--seed S]",
     "build F32 and SQ8 indexes on a synthetic dataset and measure them",
     "Generates a seeded set of clustered, unit-length embeddings (default\n"
     "10,000 vectors of 384 dimensions plus 200 held-out queries), builds a\n"
     "cosine index with F32 storage and one with SQ8 storage, and reports for\n"
     "each the build speed, recall@10 against exact brute-force neighbours at\n"
     "ef 64 and 128, query latency and memory per vector. It then deletes 10%\n"
     "of the vectors, shows they no longer come back, compacts the index and\n"
     "checks it again.\n"
     "\n"
     "  --n N       number of base vectors (100 .. 10,000,000; default 10,000)\n"
     "  --dim D     dimensions per vector (2 .. 65,536; default 384)\n"
     "  --seed S    seed of the dataset (default 42)\n"
     "\n"
     "Exit status: 0 if every check passed, 1 if one failed (an index that\n"
     "fails pv_check, recall below 0.5, a deleted id in results), 2 on bad\n"
     "flags.",
     cmd_demo},
    {"build",
     "INPUT -o OUT.pvec [--attributes ATTRS.jsonl] [--format fvecs|npy|raw|jsonl]\n"
     "       [--dim D] [--metric cosine|l2|dot] [--storage f32|sq8|binary|binary-f32] [--m M]\n"
     "       [--ef-construction N] [--ef-search N] [--seed S] [--batch N]\n"
     "       [--stem] [--stopwords]",
     "build an index file from vectors, or from documents (.jsonl)",
     "Reads the vectors or documents of INPUT and writes an index of them to\n"
     "OUT.pvec. The ids are the vectors' numbers in INPUT: 0 for the first,\n"
     "n-1 for the last (the library issues ids in insertion order; documents\n"
     "that a later one with the same key replaces are not counted). The file\n"
     "loads in the JS package (Index.fromBytes) as well as here.\n"
     "\n"
     "Input formats, chosen by INPUT's extension unless --format says:\n"
     "  .fvecs           per vector an int32 dim, then dim float32 (little-endian)\n"
     "  .npy             NumPy float32 ('<f4'), C order, shape (n, d)\n"
     "  .f32 .bin .raw   float32 back to back, no header: needs --dim\n"
     "  .jsonl .ndjson   documents, one JSON object per line:\n"
     "                     {\"key\":\"doc-1\",\"vector\":[0.1,0.2],\"attributes\":{\"tag\":\"a\"}}\n"
     "                   \"vector\" is required (numbers; the first line's length is\n"
     "                   the dim), \"key\" (a string, unique), \"attributes\" (an\n"
     "                   object) and \"text\" (a string) are optional (null: none),\n"
     "                   other members are ignored. Blank lines are skipped,\n"
     "                   CRLF is fine. A key that comes again replaces the\n"
     "                   earlier document: the last one wins\n"
     "\n"
     "A document's \"text\" is indexed for full-text search ('query --text':\n"
     "BM25, alone or fused with a vector), but not stored: keep it in the\n"
     "attributes too if it must come back. Every document needs a vector, text\n"
     "or not.\n"
     "\n"
     "Documents are checked whole before the index is built: a bad line fails\n"
     "at once, named with its line and byte column ('docs.jsonl:17:33:\n"
     "expected a number in \"vector\"'), and nothing is written.\n"
     "\n"
     "  -o, --output OUT      the index file to write (required); checked before\n"
     "                        INPUT is read: not a directory, nor a FIFO or device,\n"
     "                        in a directory that exists and is writable\n"
     "  --attributes ATTRS    with vectors (.npy, .fvecs, raw): a JSON Lines file\n"
     "                        of their attributes, a line per vector in order\n"
     "                        (line 1: vector 0), each an object ({} for none); a\n"
     "                        \"key\" member in it is that document's key, not an\n"
     "                        attribute (a \"text\" member is an attribute like any\n"
     "                        other: text to index comes with .jsonl documents)\n"
     "  --format F            fvecs, npy, raw or jsonl (default: from the extension)\n"
     "  --dim D               values per vector (raw input; a check for others)\n"
     "  --metric M            cosine (default), l2 (squared) or dot\n"
     "  --storage S           f32 (default, exact), sq8 (1 byte per value), binary\n"
     "                        (1 bit per value to walk the graph, sq8 to rescore)\n"
     "                        or binary-f32 (the same, f32 to rescore)\n"
     "  --m M                 links per node, 2 .. 128 (default 16)\n"
     "  --ef-construction N   candidates while building, 1 .. 65,536 (default 200)\n"
     "  --ef-search N         default ef of searches, saved in the file (default 64)\n"
     "  --seed S              seed of the level generator (default: a fixed one):\n"
     "                        same seed and input give the same file\n"
     "  --batch N             vectors (documents) read and added at a time\n"
     "                        (default 1,000)\n"
     "  --stem                index and search English words by their stem\n"
     "                        (Porter2): \"running\" finds \"runs\"\n"
     "  --stopwords           leave English stopwords (\"the\", \"of\", ...) out of\n"
     "                        the text index and out of text queries\n"
     "                        The two text options are saved in OUT: upserts and\n"
     "                        text queries use them, and cannot change them\n"
     "\n"
     "The input is read in batches, so memory is the index plus one batch.\n"
     "Vectors are numbered from 0 in messages, as ids are: a NaN is reported\n"
     "as 'vector 1234: element 17 is NaN' and nothing is written. On a\n"
     "terminal a progress line shows the rate and time left; a summary line\n"
     "is always printed. OUT is written to OUT.tmp-XXXXXX first (OUT's name\n"
     "cut short if the whole is too long a name), flushed to disk and\n"
     "renamed over OUT, so a crash or Ctrl-C never leaves a partial OUT (an\n"
     "existing OUT stays as it was until the new one is complete).\n"
     "\n"
     "Exit status: 0 on success, 1 on a bad input or a failed write, 2 on\n"
     "bad flags.",
     cmd_build},
    {"query",
     "INDEX.pvec QUERIES [--k K] [--ef EF] [--exact] [--filter F] [--attributes]\n"
     "       [--json] [--threads N] [--format fvecs|npy|raw|jsonl] [--dim D]\n"
     "       [--text WORDS] [--prefix] [--k1 X] [--b X]\n"
     "       [--fusion rrf|rrf:C|weighted|weighted:V,T] [--window N]\n"
     "   or: pocketvec query INDEX.pvec --text WORDS [flags as above]",
     "nearest neighbours, full-text (BM25) and hybrid queries",
     "Loads INDEX.pvec and, for each vector of QUERIES (any format 'build'\n"
     "reads, .jsonl included: the \"vector\" of each line; raw queries default\n"
     "to the index's dim), prints one line:\n"
     "\n"
     "  QUERY<TAB>HIT HIT ...      HIT: ID:DISTANCE[:\"KEY\"][:{ATTRIBUTES}]\n"
     "\n"
     "queries numbered from 0, nearest first, distances as the index's metric\n"
     "defines them (cosine: 1 - cos; l2: squared; dot: minus the product).\n"
     "A document's key follows as a JSON string, and with --attributes its\n"
     "attributes as JSON; spaces in them are written \\u0020, so hits never\n"
     "contain one. With --json each line is a JSON array instead:\n"
     "  [{\"id\":3,\"key\":\"doc-1\",\"distance\":0.12,\"attributes\":{...}},...]\n"
     "(\"key\" only for documents that have one). The query count and latency\n"
     "(mean, p50, p99) go to stderr.\n"
     "\n"
     "Text. A query with text searches the documents' \"text\" (build's .jsonl)\n"
     "by BM25; with a vector too it is hybrid: the two ranked lists are fused.\n"
     "--text WORDS alone is one text query; with QUERIES, every query of the\n"
     "file gets WORDS (hybrid). In .jsonl QUERIES each line may carry \"text\",\n"
     "\"vector\" or both: {\"text\":\"red shoes\",\"vector\":[0.1,...]}. The hits\n"
     "of a text or hybrid query are best first, as ID:SCORE (larger is better:\n"
     "BM25, or the fused score) with the key and attributes as above; in --json\n"
     "  {\"id\":3,\"key\":\"doc-1\",\"score\":0.031,\"textScore\":4.2,\"distance\":0.12}\n"
     "with \"textScore\" (BM25) when the text side returned the document and\n"
     "\"distance\" when the vector side did. A text query finds the documents\n"
     "holding any of its words, so it may return fewer than K hits. The\n"
     "index's text options (build --stem, --stopwords) apply to queries too.\n"
     "An index without text is an error for a text query, not an empty answer.\n"
     "\n"
     "  --k K       neighbours per query, 1 .. 100,000 (default 10)\n"
     "  --ef EF     candidates searched, 1 .. 65,536 (default: the index's\n"
     "              ef_search); more is slower and finds more true neighbours\n"
     "  --exact     compare with every vector (brute force): the true k nearest\n"
     "  --filter F  only documents that match the filter F (docs/FILTER.md),\n"
     "              e.g. 'tag == \"news\" and year >= 2020'; a query then gets\n"
     "              fewer than K hits only when fewer documents match. A\n"
     "              syntax error is shown with a caret under its place\n"
     "  --attributes  print each hit's attributes\n"
     "  --json      one JSON array per query\n"
     "  --threads N search with N threads at once, 1 .. 256 (default 1): the\n"
     "              queries are split among them, all searching the one loaded\n"
     "              index; the output is the same, line for line and in query\n"
     "              order, as with one thread. The stderr line then adds the\n"
     "              queries per second\n"
     "  --format F  fvecs, npy, raw or jsonl (default: from the extension)\n"
     "  --dim D     values per query vector (raw input)\n"
     "  --text WORDS  a text query (see above)\n"
     "  --prefix    the last word of a query's text also matches the words it\n"
     "              begins (\"pock\" finds \"pocket\"): search as you type\n"
     "  --k1 X      BM25's term-frequency saturation, 0 .. 1,000,000 (default\n"
     "              1.2; 0: a word counts once however often it appears)\n"
     "  --b X       BM25's length normalisation, 0 .. 1 (default 0.75; 0: long\n"
     "              documents are not penalised)\n"
     "  --fusion F  how a hybrid query fuses its two lists: rrf (default:\n"
     "              reciprocal rank, the sum of 1 / (60 + rank)), rrf:C (the\n"
     "              constant C instead of 60, above 0), weighted (0.5 times each\n"
     "              side's score scaled to 0..1 over its list), weighted:V,T\n"
     "              (V times the vector side's, T times the text side's; 0 or\n"
     "              more, not both 0)\n"
     "  --window N  hits each side of a hybrid query gives the fusion, K ..\n"
     "              65,536 (default: max(K, 50))\n"
     "With text, --exact also scores every document holding a query word\n"
     "(instead of skipping those that cannot reach the top K), and --k is at\n"
     "most 65,536. The text flags must apply to some query: --prefix, --k1\n"
     "and --b to one with text, --fusion and --window to a hybrid one.\n"
     "\n"
     "Exit status: 0 on success, 1 if a file cannot be read, the dimensions\n"
     "differ, a query is invalid (NaN) or a text query meets an index without\n"
     "text, 2 on bad flags.",
     cmd_query},
    {"info", "INDEX.pvec", "show an index file's settings, counts, size and integrity",
     "Prints the format version, the settings the index was built with (dim,\n"
     "metric, storage, m, ef_construction, ef_search, seed, compact\n"
     "threshold), the counts (live and deleted vectors, slots, next id), the\n"
     "documents (how many have a key, how many attributes), whether there is\n"
     "a text index and its options (stemming, stopwords), the attribute\n"
     "paths live documents use with their types and how many documents\n"
     "have each, the memory it takes when loaded (loaded as 'query' and the JS package load\n"
     "it: the file's bytes kept for the vectors, plus the link arrays), the\n"
     "file size and bytes per vector, and whether every checksum matches.\n"
     "Then the section table: per section its kind (a number), name,\n"
     "whether a reader must know it (required) or may skip it (optional),\n"
     "its offset and length in bytes, its checksum and whether that matches\n"
     "('DOES NOT MATCH' marks the damaged part). For a damaged file it still\n"
     "shows what the header says, whether the header's own checksum matches,\n"
     "and the section table if the table itself is intact.\n"
     "\n"
     "Exit status: 0 if the file is intact, 1 if it is damaged or unreadable,\n"
     "2 on bad arguments.",
     cmd_info},
    {"verify", "INDEX.pvec...", "check that index files are intact",
     "Runs every check of loading (checksums, counts, links) on each file,\n"
     "without keeping the index, and prints 'PATH: ok ...' or 'PATH: FAILED:\n"
     "reason' per file. For an intact file it also walks the graph from its\n"
     "entry point and says whether every live vector is reachable; one that\n"
     "is not can never be returned by a search. That is reported, not\n"
     "counted as a failure: the file is intact and loads.\n"
     "\n"
     "Exit status: 0 if every file is intact, 1 if any is not, 2 on bad\n"
     "arguments.",
     cmd_verify},
    {"get", "INDEX.pvec KEY... [--id N]... [--vector]",
     "print documents by key or id: key, id, attributes (and vector)",
     "Prints each document asked for as one line of JSON, in the order asked:\n"
     "\n"
     "  {\"key\":\"doc-1\",\"id\":3,\"attributes\":{\"tag\":\"a\"}}\n"
     "\n"
     "(\"key\":null for a document without one, \"attributes\":{} for none).\n"
     "With --vector the vector follows as \"vector\":[...] (under cosine the\n"
     "stored, unit-length one), so the line is a document 'build' and\n"
     "'upsert' read back. Keys and attribute strings are printed as JSON\n"
     "escapes where they hold control characters.\n"
     "\n"
     "  --id N      a document by its id (repeatable; with keys or without)\n"
     "  --vector    print the vector too\n"
     "  --          what follows is a key even if it starts with '-'\n"
     "\n"
     "Exit status: 0 if every document was found, 1 if one was not (the\n"
     "others are still printed) or the file cannot be read, 2 on bad flags.",
     cmd_get},
    {"find", "INDEX.pvec [FILTER] [--limit N] [--count] [--vector]",
     "list (or count) the documents that match a filter",
     "Prints every live document that matches FILTER (docs/FILTER.md; none\n"
     "or '' matches all), in id order, one line of JSON each as 'get' prints\n"
     "it; then on stderr how many matched. With --vector the lines are\n"
     "documents 'build' reads back: an export.\n"
     "\n"
     "  --limit N   print at most N of them (the count still counts all)\n"
     "  --count     print only the number of matching documents\n"
     "  --vector    print each document's vector too\n"
     "\n"
     "A filter syntax error is shown with a caret under its place. Exit\n"
     "status: 0 on success, 1 on a bad filter or an unreadable file, 2 on bad\n"
     "flags.",
     cmd_find},
    {"count", "INDEX.pvec [FILTER]", "print how many documents match a filter",
     "Prints the number of live documents that match FILTER (docs/FILTER.md;\n"
     "none or '' counts all): 'find --count'.\n"
     "\n"
     "Exit status: 0 on success, 1 on a bad filter or an unreadable file, 2 on\n"
     "bad flags.",
     cmd_find},
    {"upsert", "INDEX.pvec DOCS.jsonl [--attributes ATTRS.jsonl] [--format F] [--batch N]\n"
               "       [--whole | --append]",
     "add documents to an index file, replacing those with the same keys",
     "Reads documents as 'build' does (a .jsonl file; or vectors with\n"
     "--attributes) and upserts them into INDEX.pvec: a document whose key a\n"
     "live document has replaces it (the old id is deleted; the new document\n"
     "gets a new id: ids are never reused), any other is added. The vectors\n"
     "must have the index's dimension. A document's \"text\" is indexed with\n"
     "the index's text options (set by build --stem and --stopwords).\n"
     "\n"
     "The file changes as a whole or not at all: the input is checked whole\n"
     "first. Then the changes are appended to INDEX.pvec as one change log\n"
     "record (flushed; a load replays it) when replaying the file's log\n"
     "would cost a load at most 0.1 of loading the index; otherwise the new\n"
     "index is written whole to a temporary file next to INDEX.pvec, flushed\n"
     "and renamed over it, keeping its permissions (a symbolic link is\n"
     "followed, not replaced). On any error, or Ctrl-C, the file stays as it\n"
     "was. Writers of one file take turns (INDEX.pvec.lock, also taken by the\n"
     "JS package's saves), so two upserts at once keep both.\n"
     "\n"
     "  --attributes ATTRS    as for build: a line of attributes (and \"key\") per\n"
     "                        vector, in order\n"
     "  --format F            fvecs, npy, raw or jsonl (default: from the extension)\n"
     "  --batch N             documents upserted at a time (default 1,000)\n"
     "  --whole               write the whole index (a checkpoint: no change log)\n"
     "  --append              append a change log record whatever its cost\n"
     "\n"
     "Exit status: 0 on success, 1 on a bad input or a failed write, 2 on bad\n"
     "flags.",
     cmd_upsert},
    {"delete", "INDEX.pvec KEY... [--id N]... [--ignore-missing] [--whole | --append]",
     "delete documents from an index file by key or id",
     "Deletes the documents with these keys (and ids) from INDEX.pvec, in\n"
     "place and atomically, as 'upsert' changes a file. Every key is looked\n"
     "up first: a key no document has is an error and nothing is deleted,\n"
     "unless --ignore-missing (then it is reported and the others deleted).\n"
     "When nothing is left to delete the file is not rewritten.\n"
     "\n"
     "  --id N            a document by its id (repeatable)\n"
     "  --ignore-missing  report keys and ids not found, delete the others\n"
     "  --whole, --append as for upsert\n"
     "  --                what follows is a key even if it starts with '-'\n"
     "\n"
     "Exit status: 0 on success, 1 if a key is missing (without\n"
     "--ignore-missing) or invalid, or the write fails, 2 on bad flags.",
     cmd_delete},
    {"version", "", "print the library version and the distance kernels in use",
     "Prints the pocketvec library version and which distance kernels this\n"
     "machine uses (avx2, simd128 or scalar).",
     cmd_version},
    {"help", "[COMMAND]", "show this list, or the details of one command",
     "With no argument, lists the commands. With a command name, shows its\n"
     "flags. 'pocketvec --help' and 'pocketvec COMMAND --help' do the same.",
     cmd_help},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

const cli_command *cli_find_command(const char *name) {
  for (size_t i = 0; i < N_COMMANDS; i++)
    if (strcmp(commands[i].name, name) == 0) return &commands[i];
  return NULL;
}

void cli_print_command_help(const cli_command *cmd, FILE *f) {
  fprintf(f, "usage: pocketvec %s%s%s\n\n%s\n", cmd->name,
          cmd->synopsis[0] ? " " : "", cmd->synopsis, cmd->help);
}

static void print_usage(FILE *f) {
  fprintf(f,
          "pocketvec %s: an embedded vector index (HNSW, F32 or SQ8 storage)\n"
          "\n"
          "usage: pocketvec COMMAND [FLAGS]\n"
          "\n"
          "commands:\n",
          pv_version());
  for (size_t i = 0; i < N_COMMANDS; i++)
    fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
  fprintf(f,
          "\n"
          "Run 'pocketvec help COMMAND' for the flags of one command.\n"
          "Try 'pocketvec demo' first.\n");
}

/* ------------------------------------------------------------------------ */
/* Built-in commands                                                        */
/* ------------------------------------------------------------------------ */

static int cmd_help(int argc, char **argv) {
  if (argc == 1) {
    print_usage(stdout);
    return CLI_OK;
  }
  if (argc > 2) return cli_usage_error("help", "expects at most one command name");
  const cli_command *cmd = cli_find_command(argv[1]);
  if (!cmd) return cli_usage_error("help", "unknown command '%s'", argv[1]);
  cli_print_command_help(cmd, stdout);
  return CLI_OK;
}

static int cmd_version(int argc, char **argv) {
  if (argc > 1) return cli_usage_error("version", "unexpected argument '%s'", argv[1]);
  printf("pocketvec %s (kernels: %s)\n", pv_version(), pv_kernels_name());
  return CLI_OK;
}

/* ------------------------------------------------------------------------ */
/* Dispatch                                                                 */
/* ------------------------------------------------------------------------ */

static int is_help_flag(const char *s) {
  return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    print_usage(stderr);
    return CLI_USAGE;
  }
  const char *name = argv[1];
  if (is_help_flag(name)) {
    print_usage(stdout);
    return CLI_OK;
  }
  if (strcmp(name, "--version") == 0) name = "version";
  const cli_command *cmd = cli_find_command(name);
  if (!cmd) {
    cli_error("unknown command '%s'", name);
    fprintf(stderr, "Run 'pocketvec help' for the list of commands.\n");
    return CLI_USAGE;
  }
  /* "--help" anywhere after the command asks for that command's help, so no
   * subcommand has to handle it (and none mistakes it for a bad flag). */
  for (int i = 2; i < argc; i++) {
    if (is_help_flag(argv[i])) {
      cli_print_command_help(cmd, stdout);
      return CLI_OK;
    }
  }
  return cmd->run(argc - 1, argv + 1);
}
