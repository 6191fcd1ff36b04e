/*
 * This file compiles the fixed C code of an emitted header from its source files
 * (reports/emit_src/, the text fa-tune emit copies into every header) on their own, as C99
 * with -Wall -Wextra -pedantic -Werror (tests/emit/CMakeLists.txt), with a stub table in the
 * place of the per-database tables that fa_emit_render.c writes. It then runs the lookup on
 * that table: one answer per step of the fallback chain, so a change to the source files
 * that breaks the lookup fails here before any golden file is looked at. The stub holds an
 * sm80 and an sm90a row (a header of several families: the files' "if" blocks are all in):
 * the lookup answers each key with its own family's kernel and launch geometry. The launcher
 * (fa_dispatch_launch.h) is compiled against cuda.h; its sm90a launch
 * (fa_dispatch_plan_sm90a.h) is run here through a cuTensorMapEncodeTiled and a
 * cuLaunchKernel that record their arguments: the Q/K/V maps' dims, strides and boxes for BSHD
 * and BHSD tensors, the argument layout, the grid (persistent: capped at the SM count),
 * block and shared memory; a row of two blocks a multiprocessor (ctas 2) runs its own kernel,
 * not the one-block kernel of the same tiles. emit.example_embedded.fake_* runs the sm80
 * launch through a fake driver.
 */
#include "emit_src_stub.h"

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            fprintf(stderr, "line %d: %s\n", __LINE__, #cond);                                     \
        }                                                                                          \
    } while (0)

/* One map as the sm90a kernel reads it: dims {D, rows, heads, batch}, strides in bytes. */
static void expect_map(const encoded *e, uint64_t base, int rows, int heads, int batch, int64_t rs,
                       int64_t hs, int64_t bs, unsigned box_rows)
{
    CHECK(e->type == CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 && e->rank == 4 && e->base == base);
    CHECK(e->dims[0] == 128 && e->dims[1] == (cuuint64_t)rows && e->dims[2] == (cuuint64_t)heads &&
          e->dims[3] == (cuuint64_t)batch);
    CHECK(e->strides[0] == (cuuint64_t)rs * 2 && e->strides[1] == (cuuint64_t)hs * 2 &&
          e->strides[2] == (cuuint64_t)bs * 2);
    CHECK(e->box[0] == 64 && e->box[1] == box_rows && e->box[2] == 1 && e->box[3] == 1);
    CHECK(e->elem[0] == 1 && e->elem[1] == 1 && e->elem[2] == 1 && e->elem[3] == 1);
    CHECK(e->interleave == CU_TENSOR_MAP_INTERLEAVE_NONE &&
          e->swizzle == CU_TENSOR_MAP_SWIZZLE_128B && e->l2 == CU_TENSOR_MAP_L2_PROMOTION_L2_256B &&
          e->oob == CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
}

/* The sm90a launch of kernel 2 (192 x 128, persistent) on p through module m. */
static void launch_sm90a(const fa_dispatch_module *m, const fa_fwd_params *p)
{
    fa_fwd_params got;
    nenc = 0;
    memset(&launched, 0, sizeof launched);
    CHECK(fa_dispatch_launch_kernel(m, 2, p, 0) == CUDA_SUCCESS);
    CHECK(nenc == 3 && launched.f == m->functions[2]);
    CHECK(launched.block[0] == 512 && launched.block[1] == 1 && launched.block[2] == 1);
    CHECK(launched.smem == 230656 && launched.grid[1] == 1 && launched.grid[2] == 1);
    memcpy(&got, launched.args, sizeof got);
    CHECK(got.q == p->q && got.seqlen_k == p->seqlen_k && got.head_dim == 128 &&
          got.softmax_scale_log2 == p->softmax_scale * 1.44269504088896340736f);
    CHECK(launched.args[FA_FWD_PARAMS_SIZE] == 0 &&
          launched.args[FA_SM90A_TMAP_OFFSET(0) - 1] == 0);
    CHECK(launched.args[FA_SM90A_TMAP_OFFSET(0)] == 0xa0 &&
          launched.args[FA_SM90A_TMAP_OFFSET(1)] == 0xa1 &&
          launched.args[FA_SM90A_TMAP_OFFSET(2) + FA_SM90A_TMAP_BYTES - 1] == 0xa2);
}

static void test_sm90a(void)
{
    fa_dispatch_module m;
    fa_fwd_params p;
    int bshd;
    memset(&m, 0, sizeof m);
    m.arch = 0;
    m.cc = 90;
    m.functions[2] = (CUfunction)&m; /* any distinct handle */
    m.multiprocessors = 132;
    /* BSHD: batch 2, 1000 queries, 2000 keys, 16 query heads over 4 kv heads. */
    fa_dispatch_params_bshd(&p, 0x10000, 0x20000, 0x30000, 0x40000, 0x50000, 2, 16, 4, 1000, 2000,
                            128, 0.125f);
    p.softmax_scale_log2 = 0.0f; /* launch_kernel fills it in */
    for (bshd = 1; bshd >= 0; bshd--) {
        if (!bshd) { /* BHSD: (batch, heads, seqlen, head_dim) */
            p.q_row_stride = 128;
            p.q_head_stride = 1000 * 128;
            p.q_batch_stride = 16 * 1000 * 128;
            p.k_row_stride = p.v_row_stride = 128;
            p.k_head_stride = p.v_head_stride = 2000 * 128;
            p.k_batch_stride = p.v_batch_stride = 4 * 2000 * 128;
        }
        launch_sm90a(&m, &p);
        expect_map(&enc[0], 0x10000, 1000, 16, 2, p.q_row_stride, p.q_head_stride, p.q_batch_stride,
                   192);
        expect_map(&enc[1], 0x20000, 2000, 4, 2, p.k_row_stride, p.k_head_stride, p.k_batch_stride,
                   128);
        expect_map(&enc[2], 0x30000, 2000, 4, 2, p.v_row_stride, p.v_head_stride, p.v_batch_stride,
                   128);
        /* ceil(1000 / 192) * 16 * 2 = 192 tiles, persistent: one block per SM */
        CHECK(launched.grid[0] == 132);
    }
    CHECK(enc[1].strides[0] == 256 && enc[1].strides[1] == 2000 * 256); /* BHSD by hand */
    m.multiprocessors = 0; /* unknown: every tile its block */
    launch_sm90a(&m, &p);
    CHECK(launched.grid[0] == 192);
    CHECK(launched.smem == (unsigned)fa_plan_sm90a_smem(128, 3, 128, 2, 1)); /* the stub's */
    p.seqlen_k = 0; /* a tensor map cannot be empty */
    CHECK(fa_dispatch_launch_kernel(&m, 2, &p, 0) == CUDA_ERROR_INVALID_VALUE);
    /* Past the kernel's int tile index: 2^31 - 1 queries of 16 heads of 16 sequences (2.9e9
       tiles of 192 rows) is refused, no launch (the count was computed in 32 bits: signed
       overflow); tile counts saturate instead of wrapping. */
    p.seqlen_k = 2000;
    p.seqlen_q = 2147483647;
    p.heads_q = p.heads_kv = p.batch = 16;
    nenc = 0;
    memset(&launched, 0, sizeof launched);
    CHECK(fa_dispatch_launch_kernel(&m, 2, &p, 0) == CUDA_ERROR_INVALID_VALUE && nenc == 0 &&
          launched.f == 0);
    CHECK(fa_plan_sm90a_tiles(2147483647, 2, 2, 3) == 4u * 11184811u &&
          fa_plan_sm90a_tiles(2147483647, 2147483647, 2147483647, 1) == 0xffffffffu &&
          fa_plan_sm90a_tiles_gqa(2147483647, 64, 1, 65536, 2, 1) == 0xffffffffu &&
          fa_plan_sm90a_tiles(1000, 16, 2, 3) == 192u);
}

/* PackGQA: kernel 3 (128 x 128, fallback 4) encodes Q as the 5-d map of fa_plan_sm90a.h and
 * launches the (token block, KV head, batch) grid; a problem whose heads_q / heads_kv do not fit
 * 128 rows runs kernel 4 instead, with the plain maps and grid; kernel 5 (no fallback) refuses
 * it. */
static void test_sm90a_pack_gqa(void)
{
    fa_dispatch_module m;
    fa_fwd_params p;
    memset(&m, 0, sizeof m);
    m.arch = 0;
    m.cc = 90;
    m.functions[3] = (CUfunction)&m.functions[3]; /* distinct handles */
    m.functions[4] = (CUfunction)&m.functions[4];
    m.functions[5] = (CUfunction)&m.functions[5];
    m.multiprocessors = 132;
    /* BSHD: batch 2, 100 queries, 300 keys, 16 query heads over 4 kv heads (g 4: 32 tokens) */
    fa_dispatch_params_bshd(&p, 0x10000, 0x20000, 0x30000, 0x40000, 0x50000, 2, 16, 4, 100, 300,
                            128, 0.125f);
    nenc = 0;
    memset(&launched, 0, sizeof launched);
    CHECK(fa_dispatch_launch_kernel(&m, 3, &p, 0) == CUDA_SUCCESS);
    CHECK(nenc == 3 && launched.f == m.functions[3]);
    CHECK(enc[0].rank == 5 && enc[0].base == 0x10000);
    CHECK(enc[0].dims[0] == 128 && enc[0].dims[1] == 4 && enc[0].dims[2] == 100 &&
          enc[0].dims[3] == 4 && enc[0].dims[4] == 2);
    CHECK(enc[0].strides[0] == 128 * 2 && enc[0].strides[1] == 16 * 128 * 2 &&
          enc[0].strides[2] == 4 * 128 * 2 && enc[0].strides[3] == 100 * 16 * 128 * 2);
    CHECK(enc[0].box[0] == 64 && enc[0].box[1] == 4 && enc[0].box[2] == 32 && enc[0].box[3] == 1 &&
          enc[0].box[4] == 1 && enc[0].elem[4] == 1);
    expect_map(&enc[1], 0x20000, 300, 4, 2, p.k_row_stride, p.k_head_stride, p.k_batch_stride, 128);
    /* ceil(100 / 32) token blocks x 4 kv heads x 2 batches */
    CHECK(launched.grid[0] == 32 &&
          launched.grid[0] == fa_plan_sm90a_grid_gqa(100, 16, 4, 2, 2, 0, 1, 132));
    CHECK(launched.block[0] == 384 && launched.smem == 165120);
    /* MQA with 256 query heads: 256 > 128 rows, the fallback runs, as the plain kernel would */
    p.heads_q = 256;
    p.heads_kv = 1;
    p.q_row_stride = p.o_row_stride = 256 * 128;
    p.q_batch_stride = p.o_batch_stride = 100 * 256 * 128;
    p.k_row_stride = p.v_row_stride = 128;
    p.k_batch_stride = p.v_batch_stride = 300 * 128;
    nenc = 0;
    memset(&launched, 0, sizeof launched);
    CHECK(fa_dispatch_launch_kernel(&m, 3, &p, 0) == CUDA_SUCCESS);
    CHECK(nenc == 3 && launched.f == m.functions[4]);
    expect_map(&enc[0], 0x10000, 100, 256, 2, p.q_row_stride, p.q_head_stride, p.q_batch_stride,
               128);
    CHECK(launched.grid[0] == 512); /* ceil(100 / 128) x 256 heads x 2 batches */
    /* Without a fallback: not found, nothing launched. */
    nenc = 0;
    memset(&launched, 0, sizeof launched);
    CHECK(fa_dispatch_launch_kernel(&m, 5, &p, 0) == CUDA_ERROR_NOT_FOUND);
    CHECK(nenc == 0 && launched.f == 0);
    /* ... and a problem that fits runs it. */
    p.heads_q = 128;
    CHECK(fa_dispatch_launch_kernel(&m, 5, &p, 0) == CUDA_SUCCESS && launched.f == m.functions[5] &&
          enc[0].rank == 5 && enc[0].box[1] == 128 && enc[0].box[2] == 1);
}

/* The decode lookup (one answer per step), the plan's scratch and the decode launcher's two
 * launches through the recording driver. */
static void expect_decode(int line, int hd, int causal, int gqa, int seqlen_k, int source,
                          int block_m, int splits, int kernel)
{
    fa_dispatch_decode_choice c =
        fa_dispatch_lookup_decode(90, FA_DISPATCH_BF16, hd, causal, gqa, 1, seqlen_k, 0);
    if (c.source != source || c.block_m != block_m || c.splits != splits || c.kernel != kernel ||
        (source >= 0 &&
         (c.arch != 0 || c.threads != c.warps * 32 ||
          c.smem_bytes != FA_DECODE_SMEM_BYTES(hd, c.block_m, c.block_n, c.warps, c.stages)))) {
        failures++;
        fprintf(stderr,
                "line %d: got %s block_m %d splits %d kernel %d; expected %s block_m %d "
                "splits %d kernel %d\n",
                line, fa_dispatch_source_name(c.source), c.block_m, c.splits, c.kernel,
                fa_dispatch_source_name(source), block_m, splits, kernel);
    }
}

static void test_decode(void)
{
    fa_dispatch_module m;
    fa_fwd_params p, got;
    fa_decode_args a;
    fa_dispatch_decode_choice c;
    uint64_t bytes;
    expect_decode(__LINE__, 128, 0, 4, 4096, FA_DISPATCH_EXACT, 16, 0, 0);
    expect_decode(__LINE__, 128, 0, 4, 100000, FA_DISPATCH_EXACT, 16, 8, 0);
    expect_decode(__LINE__, 128, 0, 4, 16384, FA_DISPATCH_NEAREST_BUCKET, 16, 0, 0);
    expect_decode(__LINE__, 128, 0, 4, 40000, FA_DISPATCH_NEAREST_BUCKET, 16, 8, 0);
    expect_decode(__LINE__, 128, 0, 8, 4096, FA_DISPATCH_NEAREST_GQA, 16, 0, 0);
    /* gqa 32: its own rows; 8192 is one bucket from 4096 and from 16384, and a tie takes the
       larger bucket (3 splits) */
    expect_decode(__LINE__, 128, 0, 32, 4096, FA_DISPATCH_EXACT, 16, 2, 0);
    expect_decode(__LINE__, 128, 0, 32, 8192, FA_DISPATCH_NEAREST_BUCKET, 16, 3, 0);
    expect_decode(__LINE__, 128, 0, 32, 2048, FA_DISPATCH_NEAREST_BUCKET, 16, 2, 0);
    expect_decode(__LINE__, 128, 1, 4, 1000, FA_DISPATCH_EXACT, 32, 2, -1);
    expect_decode(__LINE__, 128, 1, 4, 4096, FA_DISPATCH_NEAREST_BUCKET, 32, 2, -1);
    expect_decode(__LINE__, 128, 1, 1, 4096, FA_DISPATCH_NEAREST_GQA, 32, 2, -1);
    expect_decode(__LINE__, 64, 0, 4, 4096, FA_DISPATCH_DEFAULT, 16, 0, -1);
    expect_decode(__LINE__, 256, 0, 4, 4096, FA_DISPATCH_UNSUPPORTED, 0, 0, -1);
    expect_decode(__LINE__, 80, 0, 4, 4096, FA_DISPATCH_UNSUPPORTED, 0, 0, -1);
    c = fa_dispatch_lookup_decode(90, FA_DISPATCH_FP16, 128, 0, 4, 1, 4096, 0);
    CHECK(c.source == FA_DISPATCH_SAME_HEAD_DIM && c.kernel == -1);

    /* Scratch: the family's plan (fa_plan_splitkv.h) for the shape. 64 x 4096 at gqa 4 fills
     * 132 SMs (one split, no scratch); 1 x 128k with 8 splits needs 8 partials. */
    memset(&m, 0, sizeof m);
    m.arch = 0;
    m.cc = 90;
    m.multiprocessors = 132;
    m.decode_split[0] = (CUfunction)&m;
    m.decode_combine[0] = (CUfunction)&p;
    memset(&p, 0, sizeof p); /* contiguous caches, no lengths: the fields bshd leaves alone */
    fa_dispatch_params_bshd(&p, 0x10000, 0x20000, 0x30000, 0x40000, 0x50000, 64, 32, 8, 1, 4096,
                            128, 0.125f);
    CHECK(fa_dispatch_decode_scratch_bytes(&m, FA_DISPATCH_BF16, 0, &p) == 0);
    p.batch = 1;
    p.seqlen_k = 131072;
    bytes = fa_dispatch_decode_scratch_bytes(&m, FA_DISPATCH_BF16, 0, &p);
    CHECK(bytes == fa_plan_splitkv_scratch(8, 1, 32, 1, 128) &&
          bytes == 4352 + 8ull * 32 * 129 * 4);
    /* Fused: the split kernel alone, told so by its argument; the same scratch. */
    nlaunches = 0;
    args_bytes = FA_DECODE_ARGS_BYTES;
    CHECK(fa_dispatch_launch_decode_fused(&m, 0, 8, 1, &p, 0x900000, bytes, 0) == CUDA_SUCCESS &&
          nlaunches == 1 && launches[0].f == m.decode_split[0] && launches[0].grid[0] == 8 &&
          launches[0].grid[1] == 8);
    memcpy(&a, launches[0].args, sizeof a);
    CHECK(a.fused == 1 && a.scratch == 0x900000);
    /* ... and with fuse 0 (the old entry point), split then combine, the flag clear. */
    nlaunches = 0;
    CHECK(fa_dispatch_launch_decode_kernel(&m, 0, 8, &p, 0x900000, bytes, 0) == CUDA_SUCCESS &&
          nlaunches == 2);
    memcpy(&a, launches[0].args, sizeof a);
    CHECK(a.fused == 0);
    /* More CTAs than the scratch header's counters (1032 sequences x 8 KV heads, 2 splits):
       the combine kernel after all. */
    p.batch = 129 * 8;
    p.seqlen_k = 1024;
    bytes = fa_plan_splitkv_scratch(2, p.batch, 32, 1, 128);
    nlaunches = 0;
    CHECK(fa_dispatch_launch_decode_fused(&m, 0, 2, 1, &p, 0x900000, bytes, 0) == CUDA_SUCCESS &&
          nlaunches == 2 && launches[0].grid[0] == 129 * 8 * 8 && launches[0].grid[1] == 2);
    memcpy(&a, launches[0].args, sizeof a);
    CHECK(a.fused == 0);
    p.batch = 1;
    p.seqlen_k = 131072;
    /* 2 sequences of 4096 (bucket 4096, auto): 16 CTAs on 132 SMs -> the auto rule splits */
    p.batch = 2;
    p.seqlen_k = 4096;
    bytes = fa_dispatch_decode_scratch_bytes(&m, FA_DISPATCH_BF16, 0, &p);
    {
        int s = fa_plan_splitkv_splits(0, 2, 32, 8, 1, 4096, 16, 64, 132);
        CHECK(s > 1 && bytes == fa_plan_splitkv_scratch(s, 2, 32, 1, 128));
        /* Too little scratch is refused before any launch. */
        nlaunches = 0;
        args_bytes = FA_DECODE_ARGS_BYTES;
        CHECK(fa_dispatch_launch_decode(&m, FA_DISPATCH_BF16, 0, &p, 0x900000, bytes - 1, 0, &c) ==
                  CUDA_ERROR_INVALID_VALUE &&
              nlaunches == 0 && c.source == FA_DISPATCH_EXACT);
        CHECK(fa_dispatch_launch_decode(&m, FA_DISPATCH_BF16, 0, &p, 0x900000, bytes, 0, &c) ==
                  CUDA_SUCCESS &&
              nlaunches == 2);
        /* split: (m_blocks * batch * heads_kv, splits), 128 threads, the plan's smem */
        CHECK(launches[0].f == m.decode_split[0] && launches[0].grid[0] == 1 * 2 * 8 &&
              launches[0].grid[1] == (unsigned)s && launches[0].block[0] == 128 &&
              launches[0].smem == 103040);
        /* combine: one warp per (b, h, i) row, FA_DECODE_COMBINE_ROWS rows a block. The stub's
           cubins are sm80 ones, whose combine has no griddepcontrol.wait: a plain launch even
           on this cc 9.0 device (an early one could read partials not yet written). */
        CHECK(launches[1].f == m.decode_combine[0] &&
              launches[1].grid[0] ==
                  (2 * 32 + FA_DECODE_COMBINE_ROWS - 1) / FA_DECODE_COMBINE_ROWS &&
              launches[1].block[0] == 32 * FA_DECODE_COMBINE_ROWS && launches[1].smem == 0 &&
              launches[1].pdl == 0 && launches[0].pdl == 0);
        memcpy(&a, launches[1].args, sizeof a);
        got = a.p;
        CHECK(a.scratch == 0x900000 && got.seqlen_k == 4096 && got.batch == 2 &&
              got.softmax_scale_log2 == 0.125f * 1.44269504088896340736f);
        void *argv1[1] = {&a};
        /* Early only where both the cubins (sm_90+: their combine waits) and the device
           (cc >= 90) have it; the launch itself, with the attribute, below. */
        CHECK(
            fa_dispatch_decode_early_combine(90, 90) && fa_dispatch_decode_early_combine(100, 90) &&
            !fa_dispatch_decode_early_combine(80, 90) &&
            !fa_dispatch_decode_early_combine(90, 86) && !fa_dispatch_decode_early_combine(86, 86));
        nlaunches = 0;
        CHECK(fa_dispatch_decode_launch_combine(m.decode_combine[0], 3, 1, 0, argv1) ==
                  CUDA_SUCCESS &&
              nlaunches == 1 && launches[0].pdl == 1 && launches[0].grid[0] == 3 &&
              launches[0].block[0] == 32 * FA_DECODE_COMBINE_ROWS);
        nlaunches = 0;
        CHECK(fa_dispatch_decode_launch_combine(m.decode_combine[0], 3, 0, 0, argv1) ==
                  CUDA_SUCCESS &&
              nlaunches == 1 && launches[0].pdl == 0);
    }
    /* One split (64 sequences): the split kernel alone, scratch 0 passed on as 0. */
    p.batch = 64;
    nlaunches = 0;
    CHECK(fa_dispatch_launch_decode(&m, FA_DISPATCH_BF16, 0, &p, 0, 0, 0, 0) == CUDA_SUCCESS &&
          nlaunches == 1 && launches[0].grid[1] == 1);
    memcpy(&a, launches[0].args, sizeof a);
    CHECK(a.scratch == 0);
    /* A grid too large for the split kernel (2^28 sequences x 8 KV heads): refused, no launch. */
    p.batch = 1 << 28;
    nlaunches = 0;
    CHECK(fa_dispatch_launch_decode_kernel(&m, 0, 1, &p, 0, 0, 0) == CUDA_ERROR_INVALID_VALUE &&
          nlaunches == 0);
    p.batch = 64;
    /* So are 2^31 - 1 new tokens (the packed rows g * seqlen_q overflowed an int) and a cache
       of 2^31 - 1 rows is planned without overflow (auto splits: one, 64 sequences fill the
       GPU). */
    p.seqlen_q = 2147483647;
    nlaunches = 0;
    CHECK(fa_dispatch_launch_decode_kernel(&m, 0, 0, &p, 0, 0, 0) == CUDA_ERROR_INVALID_VALUE &&
          nlaunches == 0);
    CHECK(fa_plan_splitkv_mblocks(64, 1, 2147483647, 16) == 2147483647 &&
          fa_plan_splitkv_mblocks(32, 8, 4, 16) == 1 &&
          fa_plan_splitkv_splits(0, 64, 32, 8, 1, 2147483647, 16, 64, 132) == 1 &&
          fa_plan_splitkv_splits(0, 1, 32, 8, 1, 2147483647, 16, 64, 132) > 1);
    p.seqlen_q = 1;
    /* Paged without a block table; the causal row's tiles have no kernel; hd 256 none. */
    p.page_size = 64;
    CHECK(fa_dispatch_launch_decode(&m, FA_DISPATCH_BF16, 0, &p, 0, 0, 0, 0) ==
          CUDA_ERROR_INVALID_VALUE);
    p.page_size = 0;
    CHECK(fa_dispatch_launch_decode(&m, FA_DISPATCH_BF16, 1, &p, 0, 0, 0, 0) ==
          CUDA_ERROR_NOT_FOUND);
    args_bytes = FA_SM90A_ARGS_BYTES;
}

static void expect(int line, int dtype, int hd, int causal, int gqa, int seqlen, int source,
                   int block_m, int kernel)
{
    fa_dispatch_choice c = fa_dispatch_lookup(86, dtype, hd, causal, 0, gqa, seqlen);
    if (c.source != source || c.block_m != block_m || c.kernel != kernel ||
        (source >= 0 &&
         (c.arch != 0 || c.cc != 80 || c.threads != c.warps * 32 ||
          c.family != (block_m == 192 ? FA_DISPATCH_FAMILY_SM90A : 0) ||
          c.smem_bytes != (block_m == 192
                               ? 230656
                               : FA_SM80_SMEM_BYTES(hd, c.block_m, c.block_n, c.stages))))) {
        failures++;
        fprintf(stderr, "line %d: got %s block_m %d kernel %d; expected %s block_m %d kernel %d\n",
                line, fa_dispatch_source_name(c.source), c.block_m, c.kernel,
                fa_dispatch_source_name(source), block_m, kernel);
    }
}

int main(void)
{
    fa_fwd_params p;
    expect(__LINE__, FA_DISPATCH_FP16, 64, 0, 1, 2048, FA_DISPATCH_EXACT, 128, 0);
    expect(__LINE__, FA_DISPATCH_FP16, 64, 0, 1, 100, FA_DISPATCH_NEAREST_BUCKET, 128, 0);
    expect(__LINE__, FA_DISPATCH_BF16, 128, 0, 4, 1024, FA_DISPATCH_NEAREST_GQA, 64, 1);
    expect(__LINE__, FA_DISPATCH_FP16, 128, 0, 1, 1024, FA_DISPATCH_SAME_HEAD_DIM, 64, -1);
    /* The sm90a row: its own kernel and geometry; the sm80 row's key still gets sm80. */
    expect(__LINE__, FA_DISPATCH_BF16, 128, 1, 1, 4096, FA_DISPATCH_EXACT, 192, 2);
    expect(__LINE__, FA_DISPATCH_BF16, 128, 1, 1, 3000, FA_DISPATCH_EXACT, 192, 2);
    expect(__LINE__, FA_DISPATCH_BF16, 128, 0, 1, 1024, FA_DISPATCH_EXACT, 64, 1);
    expect(__LINE__, FA_DISPATCH_BF16, 256, 0, 1, 1024, FA_DISPATCH_DEFAULT, 64, -1);
    expect(__LINE__, FA_DISPATCH_BF16, 80, 0, 1, 1024, FA_DISPATCH_UNSUPPORTED, 0, -1);
    expect(__LINE__, 7, 64, 0, 1, 1024, FA_DISPATCH_UNSUPPORTED, 0, -1);
    /* A ctas 2 row runs the ctas 2 instance, not the one-block kernel of the same tiles. */
    {
        const fa_dispatch_choice c = fa_dispatch_lookup(90, FA_DISPATCH_BF16, 64, 1, 0, 1, 512);
        if (c.source != FA_DISPATCH_EXACT || c.kernel != 7 || c.ctas != 2 ||
            c.family != FA_DISPATCH_FAMILY_SM90A || c.threads != 384 || c.smem_bytes != 50432) {
            failures++;
            fprintf(stderr, "ctas 2 row: %s kernel %d ctas %d; expected exact kernel 7 ctas 2\n",
                    fa_dispatch_source_name(c.source), c.kernel, c.ctas);
        }
    }
    /* No arch of the same major: the highest below, else the lowest. */
    if (fa_dispatch_select_arch(90) != 0 || fa_dispatch_select_arch(75) != 0 ||
        fa_dispatch_select_cubin_arch(90) != -1 || fa_dispatch_select_cubin_arch(86) != 0) {
        failures++;
        fprintf(stderr, "arch selection\n");
    }
    fa_dispatch_params_bshd(&p, 1, 2, 3, 4, 5, 2, 8, 2, 100, 300, 64, 0.125f);
    if (p.q_row_stride != 8 * 64 || p.k_batch_stride != 300 * 2 * 64 || p.lse_head_stride != 100 ||
        p.softmax_scale_log2 != 0.125f * 1.44269504088896340736f) {
        failures++;
        fprintf(stderr, "params_bshd strides\n");
    }
    test_sm90a();
    test_sm90a_pack_gqa();
    test_decode();
    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    else
        printf("emit_src: the header's source files compile as C99 and look up as documented\n");
    return failures != 0;
}
