/*
 * fa_dispatch_decode_types.h -- the decode op's types in an emitted dispatch header (fa-tune
 * emit), copied only into headers that hold decode winners (the splitkv family), before the
 * decode tables that fa_emit_render.c writes per database; fa_dispatch_decode.h then looks
 * them up. Needs fa_params.h and fa_dispatch_types.h before it. Copied between the marker
 * lines as fa_dispatch_types.h says.
 */
/* fa-tune emit: begin */

/* ---- decode against a KV cache (the splitkv family) ----------------------------- */
/*
 * A decode problem: seqlen_q (1 to 16) new tokens per sequence against a KV cache of
 * per-sequence lengths (fa_fwd_params.seqused_k; seqlen_k the longest), contiguous or paged
 * (block_table, page_size): fa_fwd_params above says how. Two kernels run it:
 * fa_decode_splitkv (grid (m_blocks * batch * heads_kv, splits), one split of the cache range
 * per block) and, with more than one split, fa_decode_combine, which merges the splits' fp32
 * partial O and LSE from a scratch buffer the caller provides
 * (fa_dispatch_decode_plan_scratch) -- unless the winner fuses the combine (fuse): then the
 * split kernel's last split of each group merges them and one launch does it all. Both take
 * fa_decode_args (fa_plan_splitkv.h above).
 * The decode table is keyed by (dtype, head_dim, causal, gqa, seqlen_q bucket, paged, cache
 * bucket): the seqlen_q bucket is fa_dispatch_decode_q_bucket(seqlen_q) (1; 2-4: 4; 5-16: 16),
 * paged is page_size > 0, and the cache bucket is fa_dispatch_bucket(max(seqlen_q, seqlen_k)),
 * as for the forward table.
 */

/* Tiles of one decode instance; splits is the plan's (0: auto, on the device's
   multiprocessors), fuse too (1: the split kernel merges the splits, no combine launch). */
typedef struct fa_dispatch_decode_tiles {
    int head_dim, block_m, block_n, warps, stages, splits, fuse;
} fa_dispatch_decode_tiles;

/* The decode rows of one arch of fa_dispatch_archs() (the same index). */
typedef struct fa_dispatch_decode_arch {
    int first_entry, num_entries;         /* its rows of fa_dispatch_decode_entries() */
    int first_kernel, num_kernels;        /* its rows of fa_dispatch_decode_kernels() */
    fa_dispatch_decode_tiles defaults[6]; /* head dims 32 .. 256; head_dim 0: none fits */
} fa_dispatch_decode_arch;

/* One decode winner: key -> tiles, splits, launch geometry of the split kernel, measured
   rate. */
typedef struct fa_dispatch_decode_entry {
    int arch;                                    /* index into fa_dispatch_archs() */
    int dtype, head_dim, causal, gqa;            /* the key: the mode, */
    int q_bucket, paged, bucket;                 /* seqlen_q bucket, paging, cache bucket */
    int block_m, block_n, warps, stages, splits; /* the tiles and splits (0: auto) */
    int fuse;                                    /* 1: the fused combine */
    int threads, smem_bytes;                     /* of the split kernel */
    int kernel;                                  /* index into fa_dispatch_decode_kernels() */
    double tbps;      /* measured K/V bytes read per second, TB/s, mean over the key's problems */
    const char *name; /* fa-tune's procedural variant name */
} fa_dispatch_decode_entry;

/* One distinct decode instance of one arch: a split kernel and its combine kernel, in one
   cubin when embedded. */
typedef struct fa_dispatch_decode_kernel {
    int arch;
    int dtype, head_dim, causal;
    int block_m, block_n, warps, stages;
    int threads, smem_bytes;
    const char *name;
    const char *symbol;         /* the split kernel's lowered name; "" without cubins */
    const char *combine_symbol; /* the combine kernel's; "" without cubins */
    const unsigned char *cubin; /* 0 without cubins */
    unsigned long cubin_size;
} fa_dispatch_decode_kernel;

/* A decode lookup's answer. */
typedef struct fa_dispatch_decode_choice {
    int source; /* FA_DISPATCH_EXACT .. FA_DISPATCH_DEFAULT, or FA_DISPATCH_UNSUPPORTED */
    int arch;   /* index into fa_dispatch_archs() of the table that answered; -1 unsupported */
    int cc;     /* that arch's compute capability * 10 */
    int dtype, head_dim, causal, gqa;            /* as requested */
    int q_bucket, paged;                         /* the request's seqlen_q bucket, paging */
    int block_m, block_n, warps, stages, splits; /* the tiles and splits (0: auto) */
    int fuse;                                    /* 1: the fused combine */
    int threads, smem_bytes;                     /* of the split kernel */
    int kernel; /* index into fa_dispatch_decode_kernels() of this instance; -1 if absent */
    const fa_dispatch_decode_entry *entry; /* the row the tiles came from; 0 for the default */
} fa_dispatch_decode_choice;
/* fa-tune emit: end */
