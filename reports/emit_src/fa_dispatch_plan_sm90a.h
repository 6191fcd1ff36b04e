/*
 * fa_dispatch_plan_sm90a.h -- the sm90a family's launch in the launcher of a header emitted
 * with --embed-cubin (fa_dispatch_launch.h calls it for kernels of FA_DISPATCH_FAMILY_SM90A):
 * the Q, K and V tensor maps encoded at launch from the caller's pointers and strides
 * (cuTensorMapEncodeTiled, libcuda), the kernel's one argument (fa_fwd_params, then the three
 * maps: templates/sm90a/fa_plan_sm90a.h) and its plan's grid, block and shared memory. The
 * maps' dims, strides and boxes come from fa_plan_sm90a_tmaps_gqa, the function fa-tune's
 * own harness encodes them with (a PackGQA kernel's Q map is rank 5), the grid from
 * fa_plan_sm90a_grid_gqa. Needs cuda.h, fa_plan_sm90a.h and fa_dispatch_types.h before
 * it; the renderer copies it (between the marker lines, as fa_dispatch_types.h says) only
 * into headers that hold sm90a winners.
 */
/* fa-tune emit: begin */

#include <string.h> /* memset */

/* ---- the sm90a family's launch (TMA tensor maps, a 1-d grid of tiles) ------------- */

/* The argument of fa_fwd_sm90a and fa_fwd_sm90a_pack_gqa (fa::sm90a_args): the layout of
 * fa_plan_sm90a.h. */
typedef struct fa_dispatch_sm90a_args {
    fa_fwd_params p;
    unsigned char pad[FA_SM90A_TMAP_OFFSET(0) - FA_FWD_PARAMS_SIZE];
    CUtensorMap maps[3]; /* Q, K, V */
} fa_dispatch_sm90a_args;
typedef char
    fa_dispatch_sm90a_args_size[sizeof(fa_dispatch_sm90a_args) == FA_SM90A_ARGS_BYTES ? 1 : -1];

/* Encode d (a map of fa_plan_sm90a.h, of its own rank: 4, or 5 for PackGQA's Q) over 16-bit
   elements of dtype into map. */
static inline CUresult fa_dispatch_sm90a_encode(CUtensorMap *map, int dtype,
                                                const fa_sm90a_tmap_desc *d)
{
    cuuint64_t dims[FA_SM90A_TMAP_RANK_PACK_GQA], strides[FA_SM90A_TMAP_RANK_PACK_GQA - 1];
    cuuint32_t box[FA_SM90A_TMAP_RANK_PACK_GQA], elem[FA_SM90A_TMAP_RANK_PACK_GQA];
    int i;
    if (d->rank < 1 || d->rank > FA_SM90A_TMAP_RANK_PACK_GQA)
        return CUDA_ERROR_INVALID_VALUE;
    for (i = 0; i < d->rank; i++) {
        dims[i] = d->dims[i];
        box[i] = d->box[i];
        elem[i] = 1;
        if (i < d->rank - 1)
            strides[i] = d->strides[i];
    }
    return cuTensorMapEncodeTiled(map,
                                  dtype == FA_DISPATCH_BF16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
                                                            : CU_TENSOR_MAP_DATA_TYPE_FLOAT16,
                                  (cuuint32_t)d->rank, (void *)(uintptr_t)d->base, dims, strides,
                                  box, elem, CU_TENSOR_MAP_INTERLEAVE_NONE,
                                  CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                                  CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
}

/* Run sm90a kernel k (its function fn) on p (checked and with softmax_scale_log2 set by
   fa_dispatch_launch_kernel), asynchronously on stream. multiprocessors: the device's, which
   caps a persistent grid (0: uncapped, still correct). The maps need q, k, v 16-byte
   aligned, every stride a multiple of 8 elements and seqlen_k >= 1: otherwise
   CUDA_ERROR_INVALID_VALUE (from the driver, or here for seqlen_k). A PackGQA kernel
   (k->pack_gqa) needs the problem's heads_q / heads_kv to fit its tile
   (fa_plan_sm90a_pack_tokens >= 1; fa_dispatch_launch_kernel runs its fallback otherwise):
   CUDA_ERROR_INVALID_VALUE if not, as for a problem of more than 2^31 - 1 tiles. */
// clang-format off
static inline CUresult fa_dispatch_launch_sm90a(
    CUfunction fn, const fa_dispatch_kernel *k, const fa_fwd_params *p, int multiprocessors,
    CUstream stream)
// clang-format on
{
    fa_dispatch_sm90a_args args;
    fa_sm90a_tmap_desc d[3];
    void *argv[1];
    CUresult r = CUDA_SUCCESS;
    unsigned grid;
    int i;
    if (p->seqlen_k < 1)
        return CUDA_ERROR_INVALID_VALUE; /* a tensor map has no empty dimension */
    if (k->pack_gqa && fa_plan_sm90a_pack_tokens(k->block_m, p->heads_q, p->heads_kv) < 1)
        return CUDA_ERROR_INVALID_VALUE;
    /* The kernel numbers its tiles with an int (persistent blocks loop over them). */
    if (fa_plan_sm90a_tiles_gqa(p->seqlen_q, p->heads_q, p->heads_kv, p->batch, k->block_m / 64,
                                k->pack_gqa) > 0x7fffffffu)
        return CUDA_ERROR_INVALID_VALUE;
    memset(&args, 0, sizeof args);
    args.p = *p;
    fa_plan_sm90a_tmaps_gqa(p, k->block_m, k->block_n, k->varlen, k->pack_gqa, d);
    for (i = 0; i < 3 && r == CUDA_SUCCESS; i++)
        r = fa_dispatch_sm90a_encode(&args.maps[i], k->dtype, &d[i]);
    if (r != CUDA_SUCCESS)
        return r;
    grid = fa_plan_sm90a_grid_gqa(p->seqlen_q, p->heads_q, p->heads_kv, p->batch, k->block_m / 64,
                                  k->persistent, k->pack_gqa, multiprocessors);
    argv[0] = &args;
    return cuLaunchKernel(fn, grid, 1, 1, (unsigned)k->threads, 1, 1, (unsigned)k->smem_bytes,
                          stream, argv, 0);
}
/* fa-tune emit: end */
