/*
 * fuzz_header.c -- libFuzzer harness for the C code fa-tune emit copies into every header
 * (reports/emit_src/): the code a user's build runs with the user's own shapes and strides.
 * It runs on tests/emit/emit_src_stub.h (the emit_src files around stub tables, with a
 * recording driver), the program test_emit_src runs with the documented answers; here every
 * argument comes from the input, full range: int shapes from -2^31 to 2^31 - 1, 64-bit strides,
 * any kernel index, split count, scratch size and SM count. Built with UBSan, so any undefined
 * behaviour (an overflowing multiply, a shift, an out-of-range index) stops it. Besides that
 * it checks what a launch must never do, against values it computes itself in 64 bits:
 *   - the lookups: a kernel index in the table or -1, an answer only for a supported head dim
 *     and dtype, and the kernel's tiles those of the answer;
 *   - a launch that reports success launched exactly what the plan says: the sm80 grid
 *     (ceil(seqlen_q / BLOCK_M), heads_q, batch); the sm90a grid the tile count (PackGQA: token
 *     blocks x KV heads x batch), at most 2^31 - 1, capped at the SM count when persistent; the
 *     decode split grid (M tiles x batch x KV heads, splits) and a combine that covers every
 *     output row; with more than one split, scratch of at least the partials' size; never a
 *     grid that wrapped (a zero or short grid would silently skip work);
 *   - success with no launch only for an empty problem (batch 0 or seqlen_q 0);
 *   - a refused launch launched nothing.
 *
 * Input: byte 0 picks the call (lookup, decode lookup, launch of a given kernel, launch through
 * the lookup, decode launch of a given kernel, decode launch through the lookup, the BSHD
 * params helper); the rest is read as the call's arguments, each value one of a few special
 * ones (0, 1, -1, 2^31 - 1, -2^31, a power of two, ...) or raw bytes (fuzz_int).
 *
 * Build and run (clang; TMPDIR on a RAM disk):
 *   CC=clang CFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
 *       -g -O1" cmake -S . -B /tmp/fz -DFA_FUZZ=ON && cmake --build /tmp/fz --target fuzz_header
 *   /tmp/fz/tests/fuzz/fuzz_header -max_total_time=600 /tmp/corpus tests/fuzz/header
 * Without -DFA_FUZZ, fuzz_replay.c gives it a main() and tests/fuzz/header/ runs as the CPU
 * test fuzz.header.
 */
#include "emit_src_stub.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- reading the input ----------------------------------------------------------------- */

typedef struct reader {
    const uint8_t *p;
    size_t n;
} reader;

static uint64_t take_bytes(reader *r, int k)
{
    uint64_t v = 0;
    for (int i = 0; i < k && r->n > 0; i++, r->p++, r->n--)
        v |= (uint64_t)*r->p << (8 * i);
    return v;
}

/* An int: one of the special values when the first byte is under twice their count (50 of 256
 * byte values), else the next 4 raw bytes (the edges are where arithmetic overflows; raw bytes
 * find the rest). */
static int fuzz_int(reader *r)
{
    static const int special[] = {0,         1,
                                  -1,        2,
                                  3,         7,
                                  8,         16,
                                  17,        64,
                                  100,       128,
                                  132,       1000,
                                  4096,      65535,
                                  65536,     131072,
                                  1 << 24,   INT32_MAX,
                                  INT32_MIN, INT32_MAX - 1,
                                  1 << 30,   (1 << 30) + 1,
                                  46341};
    const unsigned tag = (unsigned)take_bytes(r, 1);
    const unsigned n = (unsigned)(sizeof special / sizeof special[0]);
    if (tag < 2 * n)
        return special[tag % n];
    return (int)(uint32_t)take_bytes(r, 4);
}

/* A 64-bit stride: a multiple of a small int, or 8 raw bytes. */
static int64_t fuzz_i64(reader *r)
{
    const unsigned tag = (unsigned)take_bytes(r, 1);
    if (tag < 200)
        return (int64_t)fuzz_int(r) * (int64_t)(tag % 4 == 0 ? 1 : tag % 4 == 1 ? 64 : 128);
    return (int64_t)take_bytes(r, 8);
}

static void fail(const char *what, int line)
{
    fprintf(stderr, "fuzz_header: %s (line %d)\n", what, line);
    abort();
}
#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fail(#cond, __LINE__);                                                                 \
    } while (0)

/* ---- the reference plan, in 64 bits ---------------------------------------------------- */

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
    return (a + b - 1) / b;
}

/* a x b, UINT64_MAX when it would wrap: the reference must not wrap where the launcher might
 * (three int factors reach 2^93), or a wrapped grid could match a wrapped reference. */
static uint64_t mul(uint64_t a, uint64_t b)
{
    uint64_t t;
    return __builtin_mul_overflow(a, b, &t) ? UINT64_MAX : t;
}

/* Tiles of an sm90a launch (top of templates/sm90a/fa_plan_sm90a.h), exact; UINT64_MAX if
   PackGQA's tile cannot hold the group. */
static uint64_t sm90a_tiles(const fa_dispatch_kernel *k, const fa_fwd_params *p)
{
    if (!k->pack_gqa)
        return mul(mul(ceil_div((uint64_t)p->seqlen_q, (uint64_t)k->block_m), (uint64_t)p->heads_q),
                   (uint64_t)p->batch);
    const int64_t g = p->heads_q / p->heads_kv;
    if (g < 1 || g > k->block_m)
        return UINT64_MAX;
    const uint64_t tokens = (uint64_t)(k->block_m / g);
    return mul(mul(ceil_div((uint64_t)p->seqlen_q, tokens), (uint64_t)p->heads_kv),
               (uint64_t)p->batch);
}

/* ---- the calls -------------------------------------------------------------------------- */

static fa_dispatch_module module(reader *r)
{
    fa_dispatch_module m;
    static char handles[FA_DISPATCH_MAX_KERNELS + 2]; /* distinct function handles */
    memset(&m, 0, sizeof m);
    m.arch = 0;
    m.cc = 90;
    m.loaded = 1;
    for (int i = 0; i < FA_DISPATCH_MAX_KERNELS; i++)
        m.functions[i] = (CUfunction)(void *)&handles[i];
    m.decode_split[0] = (CUfunction)(void *)&handles[FA_DISPATCH_MAX_KERNELS];
    m.decode_combine[0] = (CUfunction)(void *)&handles[FA_DISPATCH_MAX_KERNELS + 1];
    m.decode_loaded = 1;
    m.multiprocessors = fuzz_int(r);
    return m;
}

/* Shapes, then a byte whose bits choose what else comes from the input (strides, a zero
   softmax_scale_log2, the decode fields) instead of fa_dispatch_params_bshd's values. */
static void params(reader *r, fa_fwd_params *p)
{
    const int batch = fuzz_int(r), hq = fuzz_int(r), hkv = fuzz_int(r), sq = fuzz_int(r),
              sk = fuzz_int(r), hd = fuzz_int(r);
    const unsigned own = (unsigned)take_bytes(r, 1);
    memset(p, 0, sizeof *p);
    fa_dispatch_params_bshd(p, 0x10000, 0x20000, 0x30000, 0x40000, 0x50000, batch, hq, hkv, sq, sk,
                            hd, 0.125f);
    if (own & 1) {
        p->q_row_stride = fuzz_i64(r);
        p->q_head_stride = fuzz_i64(r);
        p->q_batch_stride = fuzz_i64(r);
        p->k_row_stride = p->v_row_stride = fuzz_i64(r);
        p->k_head_stride = p->v_head_stride = fuzz_i64(r);
        p->k_batch_stride = p->v_batch_stride = fuzz_i64(r);
    }
    if (own & 2)
        p->softmax_scale_log2 = 0.0f; /* the launcher fills it in */
    if (own & 4) {
        p->page_size = fuzz_int(r);
        p->block_table = own & 8 ? 0x60000 : 0;
        p->block_table_stride = fuzz_int(r);
        p->seqused_k = own & 16 ? 0x70000 : 0;
    }
}

/* What a forward launch that returned r did, checked against the plan. */
static void check_forward(CUresult r, const fa_dispatch_module *m, int kernel,
                          const fa_fwd_params *p)
{
    int n;
    const fa_dispatch_kernel *k = fa_dispatch_kernels(&n);
    if (r != CUDA_SUCCESS) {
        EXPECT(nlaunches == 0);
        return;
    }
    EXPECT(kernel >= 0 && kernel < n);
    if (p->batch == 0 || p->seqlen_q == 0) {
        EXPECT(nlaunches == 0);
        return;
    }
    EXPECT(nlaunches == 1 && p->batch > 0 && p->seqlen_q > 0 && p->heads_q >= 1 &&
           p->heads_kv >= 1 && p->heads_q % p->heads_kv == 0);
    /* the kernel that ran: this one or (PackGQA that does not fit) its fallback */
    int ran = (int)((const char *)(void *)launched.f - (const char *)(void *)m->functions[0]);
    EXPECT(ran >= 0 && ran < n && (ran == kernel || ran == k[kernel].fallback));
    const fa_dispatch_kernel *kr = &k[ran];
    EXPECT(kr->head_dim == p->head_dim);
    EXPECT(launched.block[0] == (unsigned)kr->threads && launched.block[1] == 1 &&
           launched.block[2] == 1);
    if (kr->family != FA_DISPATCH_FAMILY_SM90A) {
        EXPECT(launched.grid[0] == ceil_div((uint64_t)p->seqlen_q, (uint64_t)kr->block_m) &&
               launched.grid[1] == (unsigned)p->heads_q && launched.grid[2] == (unsigned)p->batch);
        return;
    }
    const uint64_t tiles = sm90a_tiles(kr, p);
    EXPECT(tiles >= 1 && tiles <= 0x7fffffffu && p->seqlen_k >= 1);
    const uint64_t cap =
        kr->persistent && m->multiprocessors > 0 ? (uint64_t)m->multiprocessors : UINT64_MAX;
    EXPECT(launched.grid[0] == (tiles < cap ? tiles : cap) && launched.grid[1] == 1 &&
           launched.grid[2] == 1 && launched.smem == (unsigned)kr->smem_bytes);
    EXPECT(nenc == 3);
}

/* What a decode launch of kernel `kernel` with `splits` (0: auto) that returned r did. */
static void check_decode(CUresult r, const fa_dispatch_module *m, int kernel, int splits,
                         const fa_fwd_params *p, uint64_t scratch_bytes)
{
    int n;
    const fa_dispatch_decode_kernel *k = fa_dispatch_decode_kernels(&n);
    if (r != CUDA_SUCCESS) {
        EXPECT(nlaunches == 0);
        return;
    }
    EXPECT(kernel >= 0 && kernel < n && splits >= 0);
    if (p->batch == 0 || p->seqlen_q == 0) {
        EXPECT(nlaunches == 0);
        return;
    }
    EXPECT(nlaunches >= 1 && nlaunches <= 2 && p->batch > 0 && p->seqlen_q > 0 && p->heads_q >= 1 &&
           p->heads_kv >= 1 && p->heads_q % p->heads_kv == 0 && p->head_dim == k[kernel].head_dim &&
           p->seqlen_k >= 0 && p->page_size >= 0 && (p->page_size == 0 || p->block_table));
    const uint64_t g = (uint64_t)(p->heads_q / p->heads_kv);
    const uint64_t mblocks = ceil_div(g * (uint64_t)p->seqlen_q, (uint64_t)k[kernel].block_m);
    const uint64_t ctas = mul(mul(mblocks, (uint64_t)p->batch), (uint64_t)p->heads_kv);
    const launch_rec *split = &launches[0];
    EXPECT(split->f == m->decode_split[0] && ctas <= 0x7fffffffu && split->grid[0] == ctas &&
           split->grid[2] == 1 && split->block[0] == 32u * (unsigned)k[kernel].warps);
    const uint64_t s = split->grid[1];
    const uint64_t kv_blocks = ceil_div((uint64_t)p->seqlen_k, (uint64_t)k[kernel].block_n);
    EXPECT(s >= 1 && (s == 1 || s <= kv_blocks) && (splits == 0 || s <= (uint64_t)splits));
    const uint64_t rows = mul(mul((uint64_t)p->batch, (uint64_t)p->heads_q), (uint64_t)p->seqlen_q);
    if (s > 1) { /* partial O and LSE of every split and row, after the header */
        EXPECT(scratch_bytes >= FA_DECODE_SCRATCH_HEADER &&
               (scratch_bytes - FA_DECODE_SCRATCH_HEADER) / 4 / s / ((uint64_t)p->head_dim + 1) >=
                   rows);
    }
    if (nlaunches == 2) { /* the combine: one warp per row, every row */
        const launch_rec *comb = &launches[1];
        EXPECT(s > 1 && comb->f == m->decode_combine[0] &&
               (uint64_t)comb->grid[0] * FA_DECODE_COMBINE_ROWS >= rows &&
               ((uint64_t)comb->grid[0] - 1) * FA_DECODE_COMBINE_ROWS < rows &&
               comb->block[0] == 32u * FA_DECODE_COMBINE_ROWS);
    }
}

static void call_lookup(reader *r)
{
    int n;
    const int cc = fuzz_int(r), dtype = fuzz_int(r), hd = fuzz_int(r), causal = fuzz_int(r),
              varlen = fuzz_int(r), gqa = fuzz_int(r), seqlen = fuzz_int(r);
    const fa_dispatch_choice c = fa_dispatch_lookup(cc, dtype, hd, causal, varlen, gqa, seqlen);
    const fa_dispatch_kernel *k = fa_dispatch_kernels(&n);
    const int supported = fa_dispatch_head_dim_index(hd) >= 0 &&
                          (dtype == FA_DISPATCH_FP16 || dtype == FA_DISPATCH_BF16);
    EXPECT((c.source == FA_DISPATCH_UNSUPPORTED) == !supported);
    EXPECT(c.kernel >= -1 && c.kernel < n);
    if (c.kernel >= 0)
        EXPECT(k[c.kernel].head_dim == hd && k[c.kernel].dtype == dtype &&
               k[c.kernel].block_m == c.block_m && k[c.kernel].block_n == c.block_n &&
               k[c.kernel].family == c.family && k[c.kernel].causal == (causal != 0));
    (void)fa_dispatch_source_name(c.source);
}

static void call_lookup_decode(reader *r)
{
    int n;
    const int cc = fuzz_int(r), dtype = fuzz_int(r), hd = fuzz_int(r), causal = fuzz_int(r),
              gqa = fuzz_int(r), sq = fuzz_int(r), sk = fuzz_int(r), page = fuzz_int(r);
    const fa_dispatch_decode_choice c =
        fa_dispatch_lookup_decode(cc, dtype, hd, causal, gqa, sq, sk, page);
    const fa_dispatch_decode_kernel *k = fa_dispatch_decode_kernels(&n);
    EXPECT(c.kernel >= -1 && c.kernel < n);
    if (c.kernel >= 0)
        EXPECT(c.source != FA_DISPATCH_UNSUPPORTED && k[c.kernel].head_dim == hd &&
               k[c.kernel].dtype == dtype && k[c.kernel].block_m == c.block_m &&
               k[c.kernel].block_n == c.block_n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader rd = {data, size};
    reader *r = &rd;
    fa_fwd_params p;
    fa_dispatch_module m;
    const unsigned op = (unsigned)take_bytes(r, 1) % 7;
    args_bytes = FA_FWD_PARAMS_SIZE; /* the smallest argument of the three families */
    nlaunches = 0;
    nenc = 0;
    memset(&launched, 0, sizeof launched);
    switch (op) {
    case 0:
        call_lookup(r);
        break;
    case 1:
        call_lookup_decode(r);
        break;
    case 2: { /* a given kernel */
        m = module(r);
        const int kernel = fuzz_int(r);
        params(r, &p);
        check_forward(fa_dispatch_launch_kernel(&m, kernel, &p, 0), &m, kernel, &p);
        break;
    }
    case 3: { /* through the lookup */
        fa_dispatch_choice c;
        memset(&c, 0, sizeof c);
        m = module(r);
        const int dtype = fuzz_int(r) & 3, causal = fuzz_int(r), varlen = fuzz_int(r);
        params(r, &p);
        const CUresult res = fa_dispatch_launch(&m, dtype, causal, varlen, &p, 0, &c);
        check_forward(res, &m, res == CUDA_SUCCESS ? c.kernel : -1, &p);
        break;
    }
    case 4: { /* a given decode kernel, splits and scratch */
        m = module(r);
        const int kernel = fuzz_int(r), splits = fuzz_int(r), fuse = fuzz_int(r);
        const uint64_t bytes = (uint64_t)fuzz_i64(r);
        params(r, &p);
        check_decode(
            fa_dispatch_launch_decode_fused(&m, kernel, splits, fuse, &p, 0x900000, bytes, 0), &m,
            kernel, splits, &p, bytes);
        break;
    }
    case 5: { /* decode through the lookup, with the scratch it asks for (or an input's) */
        fa_dispatch_decode_choice c;
        memset(&c, 0, sizeof c); /* the launch fills it in only past its checks */
        m = module(r);
        const int dtype = fuzz_int(r) & 3, causal = fuzz_int(r);
        const int own_bytes = (int)(take_bytes(r, 1) & 1);
        const uint64_t asked = (uint64_t)fuzz_i64(r);
        params(r, &p);
        const uint64_t bytes =
            own_bytes ? asked : fa_dispatch_decode_scratch_bytes(&m, dtype, causal, &p);
        const CUresult res =
            fa_dispatch_launch_decode(&m, dtype, causal, &p, 0x900000, bytes, 0, &c);
        check_decode(res, &m, res == CUDA_SUCCESS ? c.kernel : -1, c.splits, &p, bytes);
        break;
    }
    default: /* the BSHD helper alone (its strides for any shape) */
        params(r, &p);
        break;
    }
    return 0;
}
