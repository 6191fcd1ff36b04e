/*
 * fa_dispatch_types.h -- the constants and types of an emitted dispatch header (fa-tune emit,
 * reports/fa_emit_render.c), written here as the C99 they are. The text between the two
 * "fa-tune emit" marker lines is copied into every header, with "fa_dispatch" and
 * "FA_DISPATCH" replaced by the header's prefix; lines that only say "clang-format off/on"
 * are left out (they keep the layout that headers had before this file existed, which wraps
 * the same whatever the prefix). Lines between "fa-tune emit: if NAME" and "fa-tune emit:
 * endif" are copied only into headers that hold winners of kernel family NAME, or, for NAME
 * "families", of any family besides sm80 (so that an sm80-only header keeps its bytes); the
 * marker lines themselves never are. tests/emit/test_emit_src.c compiles it with a stub table.
 */
/* fa-tune emit: begin */

/* ---- constants and types ------------------------------------------------------- */

#define FA_DISPATCH_FORMAT 1 /* layout of this header's tables */
#define FA_DISPATCH_FP16 0   /* dtype: __half */
#define FA_DISPATCH_BF16 1   /* dtype: __nv_bfloat16 */

/* Where a lookup's tiles came from (fa_dispatch_choice.source), best first. */
#define FA_DISPATCH_UNSUPPORTED (-1)
#define FA_DISPATCH_EXACT 0
#define FA_DISPATCH_NEAREST_BUCKET 1
#define FA_DISPATCH_NEAREST_GQA 2
#define FA_DISPATCH_SAME_HEAD_DIM 3
#define FA_DISPATCH_DEFAULT 4

/* fa-tune emit: if families */
/* Kernel families (the family column of entries, kernels and choices): which template an
   instance is and how it is launched.
   SM80:  fa_fwd_sm80; grid (ceil(seqlen_q / block_m), heads_q, batch), threads = warps * 32,
          one fa_fwd_params argument (fa_plan_sm80.h).
   SM90A: fa_fwd_sm90a, sm_90a only; a 1-d grid of fa_plan_sm90a_tiles_gqa (persistent: at
          most one block per multiprocessor: fa_plan_sm90a_grid_gqa), threads = 128 *
          (block_m / 64 + 1), one argument of fa_fwd_params and the Q, K, V tensor maps
          (fa_plan_sm90a.h, above when the header holds sm90a winners). warps is threads / 32
          and q_in_regs 0; overlap, pingpong, persistent and pack_gqa are its other axes (0
          for sm80). pack_gqa 1: the kernel is fa_fwd_sm90a_pack_gqa (same template
          arguments), its tiles are (token block, KV head, batch) and Q's map is rank 5
          (fa_plan_sm90a_tmaps_gqa); it serves problems whose g = heads_q / heads_kv query
          heads fit a tile (fa_plan_sm90a_pack_tokens(block_m, heads_q, heads_kv) >= 1), and
          the kernel's fallback (the same tiles without pack_gqa) the others. ctas 2: two
          blocks a multiprocessor, the kernel fa_fwd_sm90a_x2 (or fa_fwd_sm90a_pack_gqa_x2),
          same template arguments, launched like the others (never persistent); 1 otherwise,
          and for sm80. */
#define FA_DISPATCH_FAMILY_SM80 0
#define FA_DISPATCH_FAMILY_SM90A 1

/* fa-tune emit: endif */
/* Alignment of embedded cubins. */
#if defined(__GNUC__) || defined(__clang__)
#define FA_DISPATCH_CUBIN_ALIGN __attribute__((aligned(64)))
#else
#define FA_DISPATCH_CUBIN_ALIGN
#endif

/* Tiles of one template instance (the mode flags live beside them). */
typedef struct fa_dispatch_tiles {
    int head_dim, block_m, block_n, warps, stages, q_in_regs;
    /* fa-tune emit: if families */
    int family;                                  /* FA_DISPATCH_FAMILY_* */
    int overlap, pingpong, persistent, pack_gqa; /* sm90a's other axes; 0 for sm80 */
    int ctas; /* sm90a: blocks a multiprocessor (1, 2); 1 for sm80 */
    /* fa-tune emit: endif */
} fa_dispatch_tiles;

/* One GPU arch of the header. */
// clang-format off
typedef struct fa_dispatch_arch {
    const char *name;              /* "sm90" */
    int cc;                        /* compute capability * 10 */
    int first_entry, num_entries;  /* its rows of fa_dispatch_entries() */
    int first_kernel, num_kernels; /* its rows of fa_dispatch_kernels() */
    fa_dispatch_tiles defaults[6];    /* head dims 32, 64, 96, 128, 192, 256 */
} fa_dispatch_arch;

/* One winner: key -> tiles, launch geometry, measured speed. */
typedef struct fa_dispatch_entry {
    int arch;                                   /* index into fa_dispatch_archs() */
    int dtype, head_dim, causal, varlen, gqa, bucket; /* the key */
    int block_m, block_n, warps, stages, q_in_regs;   /* the tiles */
    int threads, smem_bytes; /* block size; dynamic shared memory, bytes */
    int kernel;              /* index into fa_dispatch_kernels() */
    double tflops;           /* measured, mean over the key's problems */
    const char *name;        /* fa-tune's procedural variant name */
    /* fa-tune emit: if families */
    int family;                        /* FA_DISPATCH_FAMILY_*: the template and launch plan */
    int overlap, pingpong, persistent, pack_gqa; /* sm90a's other axes; 0 for sm80 */
    int ctas; /* sm90a: blocks a multiprocessor (1, 2); 1 for sm80 */
    /* fa-tune emit: endif */
} fa_dispatch_entry;
// clang-format on

/* One distinct template instance of one arch (with its cubin when embedded). */
typedef struct fa_dispatch_kernel {
    int arch;
    int dtype, head_dim, causal, varlen;
    int block_m, block_n, warps, stages, q_in_regs;
    int threads, smem_bytes;
    const char *name;
    const char *symbol;         /* lowered kernel name; "" without cubins */
    const unsigned char *cubin; /* 0 without cubins */
    unsigned long cubin_size;
    /* fa-tune emit: if families */
    int family; /* FA_DISPATCH_FAMILY_*: the template and launch plan */
    int overlap, pingpong, persistent, pack_gqa; /* sm90a's other axes; 0 for sm80 */
    int ctas;     /* sm90a: blocks a multiprocessor (1, 2); 1 for sm80 */
    int fallback; /* pack_gqa: the kernel (index) to run when the problem's query heads per KV
                     head do not fit a tile (the same tiles without pack_gqa); -1 if none */
    /* fa-tune emit: endif */
} fa_dispatch_kernel;

/* A lookup's answer: the instance to launch for the requested mode. */
// clang-format off
typedef struct fa_dispatch_choice {
    int source; /* FA_DISPATCH_EXACT .. FA_DISPATCH_DEFAULT, or FA_DISPATCH_UNSUPPORTED */
    int arch;   /* index into fa_dispatch_archs() of the table that answered; -1 unsupported */
    int cc;     /* that arch's compute capability * 10 */
    int dtype, head_dim, causal, varlen;             /* as requested */
    int block_m, block_n, warps, stages, q_in_regs;  /* the tiles */
    int threads, smem_bytes;                         /* launch geometry */
    int kernel; /* index into fa_dispatch_kernels() of exactly this instance; -1 if absent */
    const fa_dispatch_entry *entry; /* the row the tiles came from; 0 for the default */
    /* fa-tune emit: if families */
    int family;                        /* FA_DISPATCH_FAMILY_* of the tiles */
    int overlap, pingpong, persistent, pack_gqa; /* sm90a's other axes; 0 for sm80 */
    int ctas; /* sm90a: blocks a multiprocessor (1, 2); 1 for sm80 */
    /* fa-tune emit: endif */
} fa_dispatch_choice;
// clang-format on
/* fa-tune emit: end */
