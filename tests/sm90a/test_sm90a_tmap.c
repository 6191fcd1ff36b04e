/*
 * This file implements the CPU test of the harness's tensor-map service (harness/fa_tmap.c)
 * fed by the sm90a family's argument builder, against a stub driver table that records each
 * cuTensorMapEncodeTiled call:
 *   - Q, K and V maps of a BSHD GQA problem and of a BHSD one get exactly the arguments
 *     bench/sm90a_check.cu's make_tmap gives the driver (4-d, dims {D, rows, heads, batch},
 *     byte strides, box {64, block_m or block_n, 1, 1}, unit element strides, no interleave,
 *     128-byte swizzle, L2 promotion 256B, OOB fill none = zeros), bf16 or fp16 type;
 *   - the maps the driver wrote land in the kernel's argument at FA_SM90A_TMAP_OFFSET(i);
 *   - PackGQA (BSHD 32/8 heads and BHSD MQA): Q's map reaches the driver as rank 5, dims {D, g,
 *     rows, heads_kv, batch}, byte strides {head, row, g * head, batch}, box {64, g,
 *     BLOCK_M / g, 1, 1}, the same swizzle, promotion and fill; K and V unchanged (rank 4);
 *   - misaligned pointers or strides, boxes outside 1..256 and empty tensors are FA_INVALID
 *     and never reach the driver;
 *   - a driver failure is FA_CUDA_ERROR naming cuTensorMapEncodeTiled; a driver without the
 *     entry point (optional in the table) is FA_UNSUPPORTED.
 */
#include <stdio.h>
#include <string.h>

#define FA_CHECK_COUNT
#include "fa_check.h"
#include "fa_family.h"
#include "fa_tmap.h"
#include "sm90a/fa_plan_sm90a.h"

typedef struct call {
    CUtensorMapDataType type;
    cuuint32_t rank;
    void *addr;
    cuuint64_t dims[5], strides[4];
    cuuint32_t box[5], elem[5];
    CUtensorMapInterleave il;
    CUtensorMapSwizzle sw;
    CUtensorMapL2promotion l2;
    CUtensorMapFloatOOBfill oob;
} call;

static call calls[8];
static int ncalls;
static CUresult result = CUDA_SUCCESS;

static CUresult CUDAAPI stub_encode(CUtensorMap *map, CUtensorMapDataType type, cuuint32_t rank,
                                    void *addr, const cuuint64_t *dims, const cuuint64_t *strides,
                                    const cuuint32_t *box, const cuuint32_t *elem,
                                    CUtensorMapInterleave il, CUtensorMapSwizzle sw,
                                    CUtensorMapL2promotion l2, CUtensorMapFloatOOBfill oob)
{
    if (result != CUDA_SUCCESS)
        return result;
    call *c = &calls[ncalls++ % 8];
    c->type = type;
    c->rank = rank;
    c->addr = addr;
    memset(c->dims, 0, sizeof c->dims);
    memset(c->strides, 0, sizeof c->strides);
    memset(c->box, 0, sizeof c->box);
    memset(c->elem, 0, sizeof c->elem);
    memcpy(c->dims, dims, rank * sizeof *dims);
    memcpy(c->strides, strides, (rank - 1) * sizeof *strides);
    memcpy(c->box, box, rank * sizeof *box);
    memcpy(c->elem, elem, rank * sizeof *elem);
    c->il = il;
    c->sw = sw;
    c->l2 = l2;
    c->oob = oob;
    memset(map, 0x5a + ncalls, sizeof *map);
    return CUDA_SUCCESS;
}

static CUresult CUDAAPI stub_error_name(CUresult r, const char **s)
{
    *s = r == CUDA_ERROR_INVALID_VALUE ? "CUDA_ERROR_INVALID_VALUE" : "CUDA_ERROR_UNKNOWN";
    return CUDA_SUCCESS;
}

static CUresult CUDAAPI stub_error_string(CUresult r, const char **s)
{
    (void)r;
    *s = "invalid argument";
    return CUDA_SUCCESS;
}

static void expect(const call *c, uint64_t ptr, CUtensorMapDataType type, int d, int rows,
                   int heads, int batch, int64_t rs, int64_t hs, int64_t bs, int box_rows)
{
    CHECK(c->type == type && c->rank == 4 && c->addr == (void *)(uintptr_t)ptr);
    CHECK_MSG(c->dims[0] == (cuuint64_t)d && c->dims[1] == (cuuint64_t)rows &&
                  c->dims[2] == (cuuint64_t)heads && c->dims[3] == (cuuint64_t)batch,
              "dims %llu %llu %llu %llu", (unsigned long long)c->dims[0],
              (unsigned long long)c->dims[1], (unsigned long long)c->dims[2],
              (unsigned long long)c->dims[3]);
    CHECK_MSG(c->strides[0] == (cuuint64_t)rs * 2 && c->strides[1] == (cuuint64_t)hs * 2 &&
                  c->strides[2] == (cuuint64_t)bs * 2,
              "strides %llu %llu %llu", (unsigned long long)c->strides[0],
              (unsigned long long)c->strides[1], (unsigned long long)c->strides[2]);
    CHECK(c->box[0] == 64 && c->box[1] == (cuuint32_t)box_rows && c->box[2] == 1 && c->box[3] == 1);
    CHECK(c->elem[0] == 1 && c->elem[1] == 1 && c->elem[2] == 1 && c->elem[3] == 1);
    CHECK(c->il == CU_TENSOR_MAP_INTERLEAVE_NONE && c->sw == CU_TENSOR_MAP_SWIZZLE_128B);
    CHECK(c->l2 == CU_TENSOR_MAP_L2_PROMOTION_L2_256B &&
          c->oob == CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
}

/* PackGQA's Q map: rank 5, dims {D, g, rows, hkv, batch}, strides {hs, rs, g hs, bs} (elements),
   box {64, g, tokens, 1, 1}. */
static void expect_pack(const call *c, uint64_t ptr, CUtensorMapDataType type, int d, int g,
                        int rows, int hkv, int batch, int64_t rs, int64_t hs, int64_t bs,
                        int tokens)
{
    CHECK(c->type == type && c->rank == 5 && c->addr == (void *)(uintptr_t)ptr);
    CHECK_MSG(c->dims[0] == (cuuint64_t)d && c->dims[1] == (cuuint64_t)g &&
                  c->dims[2] == (cuuint64_t)rows && c->dims[3] == (cuuint64_t)hkv &&
                  c->dims[4] == (cuuint64_t)batch,
              "dims %llu %llu %llu %llu %llu", (unsigned long long)c->dims[0],
              (unsigned long long)c->dims[1], (unsigned long long)c->dims[2],
              (unsigned long long)c->dims[3], (unsigned long long)c->dims[4]);
    CHECK_MSG(c->strides[0] == (cuuint64_t)hs * 2 && c->strides[1] == (cuuint64_t)rs * 2 &&
                  c->strides[2] == (cuuint64_t)(g * hs) * 2 && c->strides[3] == (cuuint64_t)bs * 2,
              "strides %llu %llu %llu %llu", (unsigned long long)c->strides[0],
              (unsigned long long)c->strides[1], (unsigned long long)c->strides[2],
              (unsigned long long)c->strides[3]);
    CHECK_MSG(c->box[0] == 64 && c->box[1] == (cuuint32_t)g && c->box[2] == (cuuint32_t)tokens &&
                  c->box[3] == 1 && c->box[4] == 1,
              "box %u %u %u %u %u", c->box[0], c->box[1], c->box[2], c->box[3], c->box[4]);
    for (int i = 0; i < 5; i++)
        CHECK(c->elem[i] == 1);
    CHECK(c->il == CU_TENSOR_MAP_INTERLEAVE_NONE && c->sw == CU_TENSOR_MAP_SWIZZLE_128B);
    CHECK(c->l2 == CU_TENSOR_MAP_L2_PROMOTION_L2_256B &&
          c->oob == CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
}

/* A dense problem: BSHD (row stride = heads * D) or BHSD (row stride = D). */
static fa_fwd_params problem(int bhsd, int batch, int hq, int hkv, int sq, int sk, int d)
{
    fa_fwd_params p;
    memset(&p, 0, sizeof p);
    p.q = 0x7f0000000000ull;
    p.k = 0x7f1000000000ull;
    p.v = 0x7f2000000000ull;
    p.batch = batch;
    p.heads_q = hq;
    p.heads_kv = hkv;
    p.seqlen_q = sq;
    p.seqlen_k = sk;
    p.head_dim = d;
    if (bhsd) {
        p.q_row_stride = d, p.q_head_stride = (int64_t)sq * d,
        p.q_batch_stride = (int64_t)hq * sq * d;
        p.k_row_stride = d, p.k_head_stride = (int64_t)sk * d,
        p.k_batch_stride = (int64_t)hkv * sk * d;
    } else {
        p.q_row_stride = (int64_t)hq * d, p.q_head_stride = d,
        p.q_batch_stride = (int64_t)sq * hq * d;
        p.k_row_stride = (int64_t)hkv * d, p.k_head_stride = d,
        p.k_batch_stride = (int64_t)sk * hkv * d;
    }
    p.v_row_stride = p.k_row_stride, p.v_head_stride = p.k_head_stride;
    p.v_batch_stride = p.k_batch_stride;
    return p;
}

static fa_cuda cu;

static fa_status svc_encode(void *ctx, const fa_tma_desc *d, void *map, fa_err *err)
{
    (void)ctx;
    return fa_tmap_encode(&cu, d, map, err);
}

/* The sm90a family's args() for variant name on p, maps encoded through the harness's
 * service; the argument buffer in args. */
static fa_status build(const char *name, const fa_fwd_params *p, unsigned char *args, fa_err *err)
{
    fa_variant v;
    fa_status st = fa_variant_parse(name, &v, err);
    if (st != FA_OK)
        return st;
    fa_arg_services svc = {.ctx = NULL, .encode_tiled = svc_encode};
    fa_args_in in = {.base = p, .scratch = 0, .svc = &svc};
    return v.family->args(&v, 0, &in, args, err);
}

int main(void)
{
    memset(&cu, 0, sizeof cu);
    cu.cuTensorMapEncodeTiled = stub_encode;
    cu.cuGetErrorName = stub_error_name;
    cu.cuGetErrorString = stub_error_string;
    fa_err err;
    static _Alignas(64) unsigned char args[FA_MAX_ARG_BYTES];

    /* BSHD, GQA 8:2, odd lengths, bf16, a 3-warpgroup tile (192 x 128). */
    fa_fwd_params p = problem(0, 3, 8, 2, 1000, 4097, 128);
    fa_err_clear(&err);
    ncalls = 0;
    CHECK_OK(build("fwd_sm90a_hd128_bf16_m192n128s2", &p, args, &err), &err);
    CHECK(ncalls == 3);
    expect(&calls[0], p.q, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 128, 1000, 8, 3, 8 * 128, 128,
           1000 * 8 * 128, 192);
    expect(&calls[1], p.k, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 128, 4097, 2, 3, 2 * 128, 128,
           4097 * 2 * 128, 128);
    expect(&calls[2], p.v, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 128, 4097, 2, 3, 2 * 128, 128,
           4097 * 2 * 128, 128);
    /* What the driver wrote is in the kernel's argument, one map each, after the params. */
    CHECK(memcmp(args, &p, sizeof p) == 0);
    for (int i = 0; i < 3; i++) {
        const unsigned char *b = args + FA_SM90A_TMAP_OFFSET(i);
        CHECK_MSG(b[0] == (unsigned char)(0x5a + i + 1) && b[FA_SM90A_TMAP_BYTES - 1] == b[0],
                  "map %d not the driver's", i);
    }

    /* BHSD, MQA, fp16, hd256 with a 2-warpgroup tile. */
    p = problem(1, 2, 4, 1, 17, 1, 256);
    ncalls = 0;
    CHECK_OK(build("fwd_sm90a_hd256_fp16_m128n80s2", &p, args, &err), &err);
    CHECK(ncalls == 3);
    expect(&calls[0], p.q, CU_TENSOR_MAP_DATA_TYPE_FLOAT16, 256, 17, 4, 2, 256, 17 * 256,
           4 * 17 * 256, 128);
    expect(&calls[2], p.v, CU_TENSOR_MAP_DATA_TYPE_FLOAT16, 256, 1, 1, 2, 256, 256, 256, 80);

    /* PackGQA, BSHD 32 query / 8 kv heads (g = 4), 64 tokens, batch 8, hd128: 32 tokens a tile. */
    p = problem(0, 8, 32, 8, 64, 8191, 128);
    ncalls = 0;
    CHECK_OK(build("fwd_sm90a_hd128_bf16_m128n128s2ovpg", &p, args, &err), &err);
    CHECK(ncalls == 3);
    expect_pack(&calls[0], p.q, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 128, 4, 64, 8, 8, 32 * 128, 128,
                64 * 32 * 128, 32);
    expect(&calls[1], p.k, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 128, 8191, 8, 8, 8 * 128, 128,
           8191LL * 8 * 128, 128);
    expect(&calls[2], p.v, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 128, 8191, 8, 8, 8 * 128, 128,
           8191LL * 8 * 128, 128);
    /* BHSD MQA (g = 12), fp16 hd64, 3 warpgroups: 16 tokens of 12 heads a tile. */
    p = problem(1, 2, 12, 1, 7, 33, 64);
    ncalls = 0;
    CHECK_OK(build("fwd_sm90a_hd64_fp16_causal_m192n128s2ovpepg", &p, args, &err), &err);
    CHECK(ncalls == 3);
    expect_pack(&calls[0], p.q, CU_TENSOR_MAP_DATA_TYPE_FLOAT16, 64, 12, 7, 1, 2, 64, 7 * 64,
                12 * 7 * 64, 16);
    expect(&calls[2], p.v, CU_TENSOR_MAP_DATA_TYPE_FLOAT16, 64, 33, 1, 2, 64, 33 * 64, 33 * 64,
           128);

    /* Refused before the driver: each with its reason. */
    struct {
        const char *why, *want;
        fa_fwd_params p;
    } bad[8];
    int nb = 0;
    bad[nb].why = "misaligned q", bad[nb].want = "base address",
    bad[nb].p = problem(0, 1, 2, 2, 9, 9, 64);
    bad[nb].p.q += 8, nb++;
    bad[nb].why = "odd row stride", bad[nb].want = "row stride",
    bad[nb].p = problem(0, 1, 2, 2, 9, 9, 64);
    bad[nb].p.k_row_stride = 132, nb++;
    bad[nb].why = "empty k", bad[nb].want = "empty tensor",
    bad[nb].p = problem(0, 1, 2, 2, 9, 0, 64);
    bad[nb].p.k_batch_stride = bad[nb].p.v_batch_stride = 128, nb++;
    for (int i = 0; i < nb; i++) {
        ncalls = 0;
        fa_err_clear(&err);
        fa_status st = build("fwd_sm90a_hd64_bf16_m128n128s2", &bad[i].p, args, &err);
        CHECK_MSG(st == FA_INVALID && strstr(err.msg, bad[i].want) && strstr(err.msg, "tensor map"),
                  "%s: %s '%s'", bad[i].why, fa_status_str(st), err.msg);
        /* Q is encoded before K is checked; nothing invalid reaches the driver. */
        CHECK_MSG(ncalls <= 1 && (ncalls == 0 || bad[i].p.q % 16 == 0), "%s: %d driver calls",
                  bad[i].why, ncalls);
    }
    /* A descriptor no family makes today: a box past 256 rows, a box wider than its swizzle. */
    fa_tma_desc d;
    memset(&d, 0, sizeof d);
    d.dtype = FA_DTYPE_BF16, d.rank = 2, d.base = 0x7f0000000000ull;
    d.dims[0] = 64, d.dims[1] = 1000, d.strides[0] = 128, d.box[0] = 64, d.box[1] = 272;
    d.swizzle = 128;
    unsigned char map[128];
    ncalls = 0;
    fa_err_clear(&err);
    CHECK(fa_tmap_encode(&cu, &d, map, &err) == FA_INVALID && strstr(err.msg, "box of 272"));
    d.box[1] = 64, d.box[0] = 128;
    CHECK(fa_tmap_encode(&cu, &d, map, &err) == FA_INVALID && strstr(err.msg, "swizzle"));
    CHECK(ncalls == 0);

    /* The driver's own refusal. */
    result = CUDA_ERROR_INVALID_VALUE;
    p = problem(0, 1, 2, 2, 9, 9, 64);
    fa_err_clear(&err);
    fa_status st = build("fwd_sm90a_hd64_bf16_m128n128s2", &p, args, &err);
    CHECK_MSG(st == FA_CUDA_ERROR && strstr(err.msg, "cuTensorMapEncodeTiled") &&
                  strstr(err.msg, "CUDA_ERROR_INVALID_VALUE"),
              "driver error: %s '%s'", fa_status_str(st), err.msg);

    /* A driver without the entry point (it is optional in the table). */
    cu.cuTensorMapEncodeTiled = NULL;
    fa_err_clear(&err);
    st = build("fwd_sm90a_hd64_bf16_m128n128s2", &p, args, &err);
    CHECK_MSG(st == FA_UNSUPPORTED && strstr(err.msg, "cuTensorMapEncodeTiled"),
              "no entry point: %s '%s'", fa_status_str(st), err.msg);

    if (fa_check_failures) {
        fprintf(stderr, "test_sm90a_tmap: %d check(s) failed\n", fa_check_failures);
        return 1;
    }
    fprintf(stderr, "test_sm90a_tmap: ok\n");
    return 0;
}
