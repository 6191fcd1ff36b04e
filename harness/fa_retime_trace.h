/*
 * fa_retime_trace.h -- a record of each interleaved re-timing's rounds (FA_TUNE_RETIME_TRACE).
 *
 * Halving's rung 1 and the finalists are interleaved re-timings (fa_runner_retime): most of a
 * warm halving run's GPU time, spent on the rounds that tell near-ties apart. Whether a stop
 * rule could end them sooner without changing the winners is a question about those rounds,
 * so with FA_TUNE_RETIME_TRACE set to a file each group's rounds are appended to it, one
 * block per group written at once (workers are separate processes; O_APPEND keeps each block
 * whole):
 *
 *     group <problem name> <jobs>
 *     <variant name> <raced 0|1> <rounds> <ms of round 0> <ms of round 1> ...
 *
 * A job's k-th time is from round k of the group (every unraced job runs once a round), so
 * bench/retime_replay.py can replay stop rules on the same rounds offline. A variant's own
 * timing (halving's rung 0, exhaustive's sweep) is one line, its median and repetitions:
 *
 *     time <problem name> <variant name> <raced 0|1> <repetitions> <median ms>
 *
 * which says where each variant ranked on rung 0, the cut that decides a group's members.
 * Off (no cost) when the variable is unset or empty; a file that cannot be written is skipped
 * silently: the trace is a diagnostic and never fails a timing.
 */
#ifndef FA_RETIME_TRACE_H
#define FA_RETIME_TRACE_H

#include "fa_harness.h"

/* Append group jobs[0..n) to the trace file, if one is set: active[i] says job i was timed,
 * raced[i] that racing stopped it, x[i][0..nx[i]) its times in ms, one per round. */
void fa_retime_trace(const fa_job *jobs, int n, const int *active, const int *raced,
                     double *const *x, const int *nx);

/* Append a variant's own timing of job (its statistics ts, raced or not), if a file is set. */
void fa_retime_trace_timing(const fa_job *job, const fa_time_stats *ts, int raced);

#endif
