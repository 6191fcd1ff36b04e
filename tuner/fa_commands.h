/*
 * fa_commands.h -- the entry point of every `fa-tune <command>`, one source file each
 * (tuner/cmd_<name>.c). Each takes argv starting at the command name and returns the exit
 * code; each prints its own usage for --help on stdout and exits 0.
 */
#ifndef FA_COMMANDS_H
#define FA_COMMANDS_H

int cmd_tune(int argc, char **argv);
int cmd_compile(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_emit(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_db(int argc, char **argv);
int cmd_info(int argc, char **argv);

#endif /* FA_COMMANDS_H */
