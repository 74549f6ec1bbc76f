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
