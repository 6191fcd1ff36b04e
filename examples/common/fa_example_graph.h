/*
 * fa_example_graph.h -- one launch captured into a CUDA graph and replayed, as inference
 * engines run their decode (and often prefill) steps (C99 over the Driver API; needs cuda.h).
 *
 * fa_ex_graph_capture makes a stream of its own (the legacy NULL stream cannot be captured),
 * captures whatever launch(arg, stream) issues on it in global mode -- where a call that a
 * capture forbids (allocating, copying, synchronizing) fails the capture -- and instantiates
 * the graph. fa_ex_graph_replay runs it and waits for it. What the launch fixed at capture
 * (kernels, grids, pointers, sizes) stays; buffers are read as they are at each replay.
 */
#ifndef FA_EXAMPLE_GRAPH_H
#define FA_EXAMPLE_GRAPH_H

#include <cuda.h>

typedef struct fa_ex_graph {
    CUstream stream;
    CUgraph graph;
    CUgraphExec exec;
} fa_ex_graph;

/* The launch to capture: arg is the caller's, stream the one being captured. */
typedef CUresult (*fa_ex_launch_fn)(void *arg, CUstream stream);

static inline void fa_ex_graph_free(fa_ex_graph *x)
{
    if (x->exec)
        cuGraphExecDestroy(x->exec);
    if (x->graph)
        cuGraphDestroy(x->graph);
    if (x->stream)
        cuStreamDestroy(x->stream);
    x->exec = NULL;
    x->graph = NULL;
    x->stream = NULL;
}

/* Capture launch(arg, stream) and instantiate it into x (zeroed first; fa_ex_graph_free it
 * in any case). The launch's own error comes first, then the capture's. */
static inline CUresult fa_ex_graph_capture(fa_ex_graph *x, fa_ex_launch_fn launch, void *arg)
{
    CUresult r, launched;
    x->stream = NULL;
    x->graph = NULL;
    x->exec = NULL;
    if ((r = cuStreamCreate(&x->stream, CU_STREAM_NON_BLOCKING)) != CUDA_SUCCESS ||
        (r = cuStreamBeginCapture(x->stream, CU_STREAM_CAPTURE_MODE_GLOBAL)) != CUDA_SUCCESS)
        return r;
    launched = launch(arg, x->stream);
    r = cuStreamEndCapture(x->stream, &x->graph);
    if (launched != CUDA_SUCCESS)
        return launched;
    if (r != CUDA_SUCCESS)
        return r;
    return cuGraphInstantiate(&x->exec, x->graph, 0);
}

/* Run the graph on its stream and wait for it. */
static inline CUresult fa_ex_graph_replay(const fa_ex_graph *x)
{
    CUresult r = cuGraphLaunch(x->exec, x->stream);
    return r != CUDA_SUCCESS ? r : cuStreamSynchronize(x->stream);
}

#endif /* FA_EXAMPLE_GRAPH_H */
