/*
 * fa_fwd_sm90a.cuh -- flash-attention forward, sm90a family (wgmma + TMA, FlashAttention-3
 * class design), for Hopper GPUs (H100, H200) only.
 *
 * This file implements one templated CUDA kernel, fa_fwd_sm90a<...>, that computes
 *     O   = softmax(scale * Q K^T + mask) V            per (batch, query head)
 *     LSE = log(sum_j exp(scale * s_ij)) over visible keys (natural log, fp32)
 * for fp16/bf16 inputs with fp32 accumulation. It compiles with nvcc and NVRTC for
 * `sm_90a` only (wgmma and setmaxnreg need the "a" target). Sizes, strides and pointers
 * come from fa_params.h (the sm80 family's struct, unchanged); Q, K and V are additionally
 * read through three host-encoded TMA tensor maps:
 *
 *   // q, o: (B, Nq, Hq, D) or (B, Hq, Nq, D) through strides; k, v: (B, Nk, Hkv, D) ...
 *   // lse:  (B, Hq, Nq) fp32 through lse_batch_stride / lse_head_stride
 *   // tm_q: 4-d map over q, dims {D, Nq, Hq, B} (innermost first), byte strides
 *   //       {q_row_stride, q_head_stride, q_batch_stride} * 2, box {64, BLOCK_M, 1, 1}
 *   // tm_k, tm_v: dims {D, Nk, Hkv, B}, box {64, BLOCK_N, 1, 1}
 *   // all three: 16-bit elements, CU_TENSOR_MAP_SWIZZLE_128B, OOB fill zero (NONE)
 *   // varlen (IS_VARLEN): q, o packed (total_q, Hq, D), k, v (total_k, Hkv, D), lse (Hq,
 *   //       total_q); sequence b is rows [cu_seqlens[b], cu_seqlens[b + 1]); each map is
 *   //       ragged (fa_plan_sm90a.h): dims {D, L, H, FA_SM90A_RAGGED_ROWS}, byte strides
 *   //       {row, head, row} * 2, base ptr - L * row_stride * 2, L = max(seqlen, 1), so rows
 *   //       past a sequence's end load as zeros, never as the next sequence's rows
 *   // head dims 32 and 96: the maps' dim 0 is D, the 64-column boxes zero-fill the rest
 *   // packed QKV / KV (row stride > heads * D): any strides that are multiples of 16 bytes
 *
 * Causal masking is BOTTOM-RIGHT aligned: query i sees key j iff j <= i + seqlen_k -
 * seqlen_q; a row that sees no key writes O = 0 and LSE = -inf. GQA/MQA: query head h reads
 * kv head h / (heads_q / heads_kv).
 *
 * PackGQA (the entry point fa_fwd_sm90a_pack_gqa, same template arguments; fa_plan_sm90a.h):
 * with g = heads_q / heads_kv, a tile is T = BLOCK_M / g tokens of the g query heads of one KV
 * head, row r = (token m_block * T + r / g, head kv_head * g + r % g), so each K/V block feeds g
 * heads from one load and a short seqlen_q still fills the tile. Tiles: ceil(seqlen_q / T) x
 * heads_kv x batch. Q arrives by TMA through a 5-d map {D, g, rows, heads_kv, batch} (box {64,
 * g, T, 1, 1}, laid out in shared memory as the T * g rows above, tokens past seqlen_q
 * zero-filled); rows past T * g when g does not divide BLOCK_M are computed from stale shared
 * memory and never stored (rows of S, P and O depend only on their own Q row). Causal masking
 * uses the row's token; O and LSE are stored row by row to (token, head), in every mode
 * (fixed length, varlen through the ragged 5-d map, any strides). g > BLOCK_M cannot pack: the
 * plan refuses it, and the kernel returns at once. Why TMA and not cp.async for Q: heads of one
 * group are evenly strided in every layout fa_fwd_params describes, so one extra map
 * dimension expresses the packing; tiles start at a token boundary, which costs BLOCK_M % g
 * idle rows (FlashAttention-3 packs across token boundaries and loads Q with cp.async).
 *
 * Varlen: seqlen_q/k are the maxima; a tile (row block, head, batch) past its sequence's end
 * is skipped by the producer and the consumers alike (a few cached loads of cu_seqlens), so
 * the persistent scheduler's rounds stay in step; sequences may be empty; causal masking is
 * bottom-right per sequence (sq != sk). Keys past len_k load as zeros and are masked to -inf
 * in S by the same ragged-block mask as fixed length; O and LSE stores are bounded by len_q.
 *
 * Launch: 1-d grid of sm90a_num_tiles(seqlen_q, heads_q, batch, BLOCK_M) blocks, or with
 * PERSISTENT min(that, multiprocessor count); block 128 * (CWG + 1) threads; dynamic shared
 * memory FA_SM90A_SMEM_BYTES(HEAD_DIM, 64 * CWG, BLOCK_N, STAGES, FA_SM90A_O_BYTES(...)) (set
 * CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES first: every tile is over 48 KB); no
 * cluster. Any grid size is correct (blocks loop over rounds of gridDim.x tiles).
 * Kernel parameter: one fa::sm90a_args {fa_fwd_params p; tm_q, tm_k, tm_v} by value (layout in
 * sm90a/fa_plan_sm90a.h: the maps 128-byte aligned at 256, 384, 512; 640 bytes).
 *
 * Design (KERNELS.md "sm90a family"):
 *  1. Warp specialization. Warpgroup 0 is the producer: after setmaxnreg.dec one thread
 *     issues every TMA load (Q once, then K and V of each KV block into a STAGES-deep
 *     ring); its other warps exit. Warpgroups 1..CWG are consumers, each owning 64 query
 *     rows (BLOCK_M = 64 * CWG), after setmaxnreg.inc.
 *  2. Shared memory: Q [D/64][BLOCK_M][64], K and V rings [STAGES][D/64][BLOCK_N][64], all
 *     in TMA's 128-byte-swizzle image (fa_sm90a_ptx.cuh), so wgmma reads them through
 *     descriptors with no conversion: K-major for Q and K, MN-major (transposed B) for V.
 *     Tails of Q/K/V (rows >= seqlen) are zero-filled by TMA.
 *  3. mbarriers: q_full; per ring slot full_k/full_v (producer arrive.expect_tx, TMA
 *     completes the bytes) and empty_k/empty_v (one arrive per consumer warp once its
 *     warpgroup's wgmma that read the slot has completed). Phase parity = (it / STAGES) & 1;
 *     the producer waits on the opposite parity so its first pass over the ring is free.
 *     K and V have separate barriers so a K slot refills while the softmax runs.
 *  4. S = Q K^T: wgmma m64n{BLOCK_N}k16, both operands from shared memory (SS).
 *     O += P V: wgmma m64n{D}k16 with P from registers (RS): the fp32 S accumulator of
 *     n8 tiles (2k, 2k+1) is exactly the A fragment of k-step k once packed to 16 bits
 *     (the same identity as the sm80 family's mma.sync).
 *  5. Online softmax per thread on its 2 rows (fragment rows g and g + 8 of its warp's 16),
 *     quad shuffles, exp2 with scale * log2(e) folded into one FFMA, lazy O rescale (only
 *     when some row max of the warp moved), -inf maxima guarded. KV blocks run from the
 *     last visible one down to 0, so the masked ones (ragged last block, causal diagonal
 *     band) come first; causal CTAs never load blocks above the diagonal.
 *  6. OVERLAP (intra-warpgroup, FA3's schedule): iteration it issues S(it) = Q K(it) and
 *     then O += P(it-1) V(it-1) back to back, waits for S only (wait_group 1), runs the
 *     softmax of S(it) while the PV wgmma runs, then waits for PV, rescales O and packs
 *     P(it). The PV wait sits in both branches of the warpgroup's rescale test, or ptxas
 *     hoists it above the softmax (v14). Costs S + P + O accumulator registers instead of S + O.
 *  7. PINGPONG (FA3's inter-warpgroup schedule): the consumer warpgroups take turns to
 *     issue their wgmma phases, ordered by named barriers, so the tensor cores run one
 *     warpgroup's GEMMs while the others do their softmax.
 *  8. Tiles (row block, head, batch) form one 1-d sequence (sm90a_decode): causal row blocks
 *     descending (longest first) within groups of (head, batch) pairs whose K/V fit in 32 MB of
 *     L2 (one group for the persistent kernel), else heads-major. Each block loops
 *     over rounds of gridDim.x tiles in snake order (odd rounds reversed, so blocks that got
 *     the longest tile of one round get the shortest of the next); the ring position and the Q
 * phase carry over from tile to tile, so the producer runs ahead into the next tile's K/V. Q is
 * refilled once every consumer warp has released it (q_empty).
 *  9. Epilogue per consumer warpgroup, LSE = m * scale + log(l):
 *     PERSISTENT: Q is released right after the tile's last QK^T, so the next tile's Q loads
 *     under the last PV and the epilogue; O / l is staged through a dedicated O tile when it
 *     fits (FA_SM90A_STAGE_O) and written with coalesced 16-byte stores; else, when a 2 KB
 *     slice per consumer warp fits (FA_SM90A_STAGE_O_SLICES), a warp at a time through its
 *     slice, one 64-column slab after another; else stored straight from the accumulators
 *     (4-byte pairs, predicated on row < seqlen_q).
 *     otherwise: staged through the warpgroup's own (now free) Q rows in the same swizzled
 *     image (each warp only its own 16 rows: __syncwarp), written with coalesced 16-byte
 *     stores; Q is released after the epilogue.
 *
 * Legality (static_assert): HEAD_DIM in {32, 64, 96, 128, 192, 256} (64-column TMA slabs; 32
 * and 96 padded to 64 and 128 columns in shared memory, their k-steps and wgmma N exact);
 * BLOCK_N % 16 == 0, 16..256; CWG in {2, 3}; STAGES 1..4; shared memory Q + STAGES (K + V)
 * <= 224 KB; accumulator registers per thread S + O (+ P with OVERLAP) = BLOCK_N/2 + D/2
 * (+ BLOCK_N/4) <= 216 with 2 consumer warpgroups (240 - 24), <= 128 with 3 (160 - 32)
 * (FlashAttention's feasibility model, KERNELS.md item 9); with 3, BLOCK_N <= 192 as well
 * (FA_SM90A_3WG_MAX_BLOCK_N: ptxas stops at hd32's wider QK^T wgmma).
 *
 * Changelog (resources from `nvcc -gencode=arch=compute_90a,code=sm_90a -Xptxas=-v`, CUDA
 * 13.0; GPU numbers on an H200, bf16, FlashAttention's grid, bench/sm90a_check.sh):
 *  v0  TMA + warp specialization + setmaxnreg (24/240 with 2 consumer warpgroups, 32/160
 *      with 3), with and without OVERLAP. Every instance: 0 spills, 0 stack; ptxas reports
 *      the entry cap (168 registers at 384 threads, 128 at 512), consumers get 240 / 160
 *      after setmaxnreg. SASS: HGMMA.64xNx16.F32.BF16, UTMALDG.4D, SYNCS.*, no LDL/STL.
 *      setmaxnreg is not ablated: without it the 2-warpgroup tiles would have to fit S + P + O
 *      (160-212 registers) under the 168 cap.
 *      Correct on the first GPU run: 132/132 coverage checks + 121/121 on the timing list;
 *      racecheck and synccheck clean (bench/results/2026-12-03_h200_sm90a_v0).
 *      TFLOP/s, N = 512 / 1k / 2k / 4k / 8k / 16k (cuDNN 9.19 on the same GPU model,
 *      KERNELS.md: hd128 377-673, hd256 436-712, hd64 290-487):
 *        hd128 128x128 2wg ov          368 462 542 560 551 590
 *        hd128 128x176 2wg ov          314 414 518 586 596 610
 *        hd128 128x128 2wg no-ov       342 413 497 552 567 567
 *        hd128 192x128 3wg no-ov       385 479 604 648 623 629   (ThunderKittens' shape)
 *        hd128 128x128 2wg ov causal   219 327 420 508 574 571
 *        hd256 128x80  2wg ov          404 524 624 674 668 669
 *        hd256 128x64  2wg no-ov       365 432 519 587 621 611
 *        hd256 128x80  2wg ov causal   265 382 486 599 659 677
 *        hd64  192x128 3wg ov          286 354 445 473 488 496
 *        hd64  128x192 2wg ov          255 324 395 429 450 449
 *        hd64  192x128 3wg ov causal   164 229 337 391 447 462
 *      The intra-warpgroup overlap is worth +4% at hd128 128x128 (590 vs 567 at 16k), but a
 *      third consumer warpgroup without it is worth more (629-648): with 2 warpgroups the
 *      softmax of one warpgroup still stalls the tensor cores.
 *  v1  + PINGPONG (consumer warpgroups issue their wgmma phases in turn). 198/198 coverage +
 *      286/286 timing-list checks, racecheck/synccheck clean on the pingpong variant
 *      (bench/results/2026-12-03_h200_sm90a_v1). Same call, pingpong off -> on:
 *        hd128 128x128 2wg ov          408 512 587 581 589 588 -> 370 472 537 597 603 582
 *        hd256 128x80  2wg ov          420 545 645 692 668 648 -> 381 485 571 644 661 661
 *        hd64  192x128 3wg ov          297 358 439 471 486 489 -> 282 349 442 475 490 495
 *        hd128 128x128 2wg ov causal   256 366 473 548 572 570 -> 229 328 427 505 564 587
 *        hd256 128x80  2wg ov causal   254 364 483 563 636 696 -> 263 358 478 550 633 701
 *      Pingpong buys 0-3% at N >= 4k and loses 5-10% at N <= 2k: it mostly adds a wait
 *      when the other warpgroup is late, and with OVERLAP the softmax is already hidden.
 *      Best per shape in this call (cuDNN in brackets): hd128 3wg 192x128 no-ov 652 / 649 /
 *      656 at 4k / 8k / 16k (656 / 673 / 652); hd256 2wg 128x80 ov 692 at 4k (634), 648-668
 *      at 8k-16k (676 / 712); hd64 3wg 192x192 no-ov 512 at 8k (468); causal hd256 701 at
 *      16k (620), causal hd128 3wg no-ov 604 at 16k (589). Weak: short causal (hd64 N=512
 *      146-158 vs 213, hd128 202-256 vs 263). 3-warpgroup pingpong at hd128 (S + O = 128 of
 *      128) and hd256 BLOCK_N 112 with pingpong (212 of 216) spill: the model admits them,
 *      ptxas does not, so the tuner must also reject on the spill report.
 *  v2  + PERSISTENT (grid = SM count, blocks loop over tiles, causal longest first, Q
 *      released after the last QK^T, O stored straight from the accumulators). 275/275 +
 *      286/286 checks (persistent checks on 7 blocks, many tiles each), sanitizers clean
 *      (bench/results/2026-12-03_h200_sm90a_v2). Mixed: short N gains 10-25% (hd128 3wg
 *      no-ov 370 -> 398 at 512, hd64 3wg 192x192 229 -> 272), but hd128 2wg ov lost 5-17%
 *      (561 -> 468 at 2k: the 4-byte O stores of two warpgroups ending together), and causal
 *      lost 5-10% at 16k (hd128 3wg 612 -> 574, hd256 636 -> 575): static round-robin over
 *      longest-first tiles gives the first blocks the longest tile of every round (~12%
 *      more work than the last).
 *  v3  PERSISTENT blocks take tiles in snake-ordered rounds (odd rounds reversed) and stage
 *      O through a dedicated shared tile whenever Q + ring + O fit 224 KB (direct stores
 *      remain only for hd256 128x80). 275/275 + 286/286 checks, sanitizers clean
 *      (bench/results/2026-12-03_h200_sm90a_v3). Same call, persistent off -> on:
 *        hd128 192x128 3wg no-ov  361 450 584 616 633 638 -> 422 502 609 644 638 630
 *        hd128 128x128 2wg ov     369 475 551 601 594 598 -> 413 463 529 600 596 601
 *        hd128 128x176 2wg ov                             -> 389 474 558 589 596 615
 *        hd256 128x80  2wg ov     394 513 603 650 635 659 -> 369 483 582 638 668 668
 *        hd64  192x128 3wg ov     280 348 431 469 487 490 -> 337 377 442 462 493 496
 *        hd64  192x192 3wg no-ov  238 304 426 461 509 468 -> 279 328 444 473 507 510
 *        causal hd128 128x128 2wg ov  218 314 415 518 528 544 -> 256 338 418 497 525 563
 *        causal hd128 192x128 3wg     186 265 405 495 559 602 -> 233 309 430 520 572 583
 *        causal hd256 128x80  2wg ov  226 323 456 578 629 636 -> 201 298 440 572 635 636
 *        causal hd64  192x128 3wg ov  131 186 303 380 440 464 -> 186 239 326 401 423 438
 *      Best of this call per shape against cuDNN (KERNELS.md, same GPU model, other day):
 *        hd128 433 502 609 644 638 638 / 377 502 588 656 673 652 (0.95-1.15)
 *        hd256 394 513 603 658 676 668 / 436 455 574 634 676 712 (0.90-1.13)
 *        hd64  337 377 444 473 509 510 / 290 326 382 425 468 487 (1.05-1.16)
 *        causal hd128 262 346 430 520 572 602 / 263 378 409 557 543 589 (0.92-1.05)
 *        causal hd256 226 323 456 578 635 636 / 306 405 501 512 618 620 (0.74-1.13)
 *        causal hd64  186 247 344 412 441 467 / 213 289 357 410 442 444 (0.85-1.05)
 *      Run-to-run spread of one variant across calls: about +-3% (hd128 192x128 3wg no-ov
 *      non-persistent at 16k: 629, 656, 635, 638). Short causal and hd256 at 16k are where
 *      the gap to cuDNN is.
 *      Smaller tiles (bench/results/2026-12-03_h200_sm90a_v3_tiles, list 2): causal hd64
 *      128x128 2wg ov 229 299 353 at 512-2k (cuDNN 213 289 357), causal hd128 192x96 3wg
 *      no-ov 440 537 593 612 at 2k-16k (409 557 543 589), causal hd256 128x64 2wg ov 233 329
 *      at 512-1k (306 405). With them, best / cuDNN over FA's 36 shapes: geomean 1.02,
 *      0.76-1.16, 34 of 36 >= 0.9 (below: causal hd256 at N = 512 and 1k). Racecheck and
 *      synccheck clean on one small case of each pipeline shape (2wg overlap + pingpong,
 *      3wg plain, 4 stages, 1 stage; persistent with staged and with direct O stores).
 *      Not done: skipping the wgmma of KV blocks that are fully masked for one warpgroup
 *      of the diagonal band (the short-causal gap), a dynamic tile scheduler, P through
 *      shared memory (SS PV), varlen, hd96.
 *  v3.1 fa-tune integration (no GPU run yet): the kernel takes one argument, fa::sm90a_args
 *      {fa_fwd_params; tm_q, tm_k, tm_v} (the family seam passes one struct per kernel; the
 *      parameter-space layout is the old four parameters' one: 0, 256, 384, 512); includes are
 *      relative to templates/ (NVRTC's in-memory header names); the shared-memory formulas move
 *      to sm90a/fa_plan_sm90a.h for the host. PTX differs from v3 only in where ld.param
 *      loads are scheduled (same instructions); ptxas still reports 0 spills, 0 stack.
 *      Compile survey of the tuner's space (NVRTC 13.0, bf16 non-causal, stages 2-4): all
 *      644 configurations the legality model admits compile (424 at hd64, 204 at hd128, 16
 *      at hd256); 8 spill 4/16 bytes, all OVERLAP + PINGPONG at the register edge (hd128
 *      128x192, hd64 192x128); 3-warpgroup pingpong at hd128 no longer spills.
 *  v4  Modes (issue 15): IS_VARLEN (packed sequences through ragged tensor maps, tiles past a
 *      sequence's end skipped, per-sequence bottom-right causal), head dims 32 and 96 (TMA
 *      zero-fills the 64-column slabs past D; QK^T k-steps and the PV wgmma N stay exact),
 *      packed QKV strides. Fixed-length code paths unchanged except for the tile's sequence
 *      bookkeeping; ptxas: list 1 (26 timing seeds) 0 spills before and after; the hd192
 *      128x112 overlap coverage tile, already at the register edge, spills 16 (was 8) bytes
 *      non-causal and 28 (was 24) causal, so list 3 checks hd192 at 128x96. On an H200
 *      (bench/results/2026-12-03_h200_sm90a_v4_modes): list 3 (11 varlen variants on every
 *      head dim x 5 varlen shapes: lengths 0, 1, 5, 17, 257, 300, 1000, 4097, empty q / k /
 *      both, sq != sk per sequence, GQA 1/4/MQA, packed QKV; hd32/hd96 fixed; packed QKV
 *      fixed) 103/103; list 0 (fixed regression) 300/300; `sm90a.gpu_modes` varlen and hd
 *      32/96/192 through fa-tune bench 60/60; memcheck (3 varlen cases), racecheck (hd96),
 *      synccheck (varlen persistent) clean. Same call, same problem fixed vs packed (B
 *      sequences of N, bf16 hd128 non-causal, TFLOP/s at N = 512 .. 16k):
 *        192x128 3wg pe    fixed 478 564 666 698 654-719 659-666
 *                          varlen 426-429 501-504 602-603 648-659 661-671 655-678
 *        128x128 2wg ov    fixed 355 450 534 600 616 609 / varlen 390 499 583 636 628 620
 *      The persistent 3-warpgroup varlen tile (S + O = 128 of 128 registers) loses 6-11% at
 *      N <= 4k and 0-7% at 8k-16k; the non-persistent 2-warpgroup one does not (0-10% faster
 *      in this call; not understood, one call). Not done: the producer could hand the tile's
 *      sequence to the consumers through shared memory instead of each warp loading
 *      cu_seqlens (two registers less at the edge).
 *  v5  Causal, 2 consumer warpgroups (traits SKIP_MASKED): a warpgroup skips the wgmma and
 *      softmax of the diagonal band's KV blocks its own 64 rows cannot see (it still waits for
 *      and releases each load and keeps its pingpong turns). Not for 3 warpgroups: at 160
 *      registers their overlap tiles spill 8-28 bytes with the extra bookkeeping. ptxas: the
 *      hd128 causal space keeps its eligible set; hd256 causal 16/16 without spills. H200
 *      (bench/results/2026-12-03_h200_session3): sm90a.gpu_modes 132/132, synccheck and
 *      racecheck clean; FA grid with peers, same variants' space, before -> after: causal hd128
 *      512 / 1k / 2k 268 361 437 -> 264 359 456, hd256 512 / 1k 240 343 -> 245 348, hd64 2k
 *      335 -> 341 (within a call's noise except hd128 2k). fa-tune / cuDNN over the 36
 *      shapes: geomean 1.01 (31/36 >= 0.9) before, 1.10 (36/36) after -- mostly cuDNN's
 *      short shapes measuring lower in the second call.
 *  v6  PackGQA (issue 15), the second entry point fa_fwd_sm90a_pack_gqa over the same body
 *      (fa::fwd_sm90a<..., PACK_GQA>): a 5-d TMA load of Q, tiles over (token block, KV head,
 *      batch), per-row token in the causal mask, per-row O/LSE addresses in the epilogue (the
 *      row mapping is fa_plan_sm90a_pack_token/_head, which the CPU test checks against the
 *      map and the plan). The plain kernel's PTX differs only in parameter-space offsets and
 *      the order of two ld.param loads (the body moved into a device function); ptxas: 0
 *      spills, 0 stack on the PackGQA instances of sm90a.compile (hd32/64/128/192/256,
 *      causal, varlen, persistent with staged and direct O) and on all 260 legal PackGQA
 *      configurations at hd64/128/256, bf16, causal and not (NVRTC 13.0;
 *      bench/results/2026-12-03_cpu_sm90a_pack_gqa). PackGQA cubins are ~50% larger (the
 *      epilogue's per-row division by g and address arithmetic, unrolled). Not yet run on a
 *      GPU: the checks are in sm90a.gpu_modes (FA_SM90A_GPU_ONLY='pg$'), the timing in
 *      bench/sm90a_pack_gqa.sh.
 *  v7  Causal tile order for the one-block-per-tile grid (fa_plan_sm90a_tile): longest first
 *      within groups of (head, batch) pairs whose K/V fit 32 MB, instead of over the whole
 *      launch, which met a pair's K/V again only after every other pair had passed (a model,
 *      bench/causal_order_model.py: 2.4-5.6x the unique K/V read from DRAM at N <= 4k, within
 *      2.5% of the makespan). Persistent tiles keep one group (their static rounds lose
 *      10-40% in the model with groups). ptxas: the causal bf16 spaces at hd128/256 keep
 *      their eligible sets (the five hd128 m128n192 overlap tiles spilled before too).
 *      H200 (bench/results/2026-12-03_h200_session5): sm90a.gpu_modes 188/188 and the 22 other
 *      GPU tests pass; causal hd256 (FlashAttention's grid, halving, winners non-persistent)
 *      512 / 1k / 2k / 4k 243.5 / 346.3 / 474.8 / 557.6 -> 249.7 / 371.7 / 503.7 / 594.1
 *      TFLOP/s (another call: 247.2 / 356.3 / 494.9 / 583.9); session-to-session spread is
 *      about 3%. Persistent winners (most hd64/hd128 causal shapes) are unchanged by design.
 *  v8  Causal persistent tile order for short launches (fa_plan_sm90a_causal_group): with at most
 *      16 row blocks a pair (first 8, then 16 after an A/B at N = 2k), head-major (a pair's row
 * blocks consecutive, longest first) instead of longest first over the launch. ncu on the hd128
 * causal N = 512 winner (m128n128s2ovpppe, H200, bench/results/2026-12-04_h200_session7 call 2):
 * 122 us, DRAM 78% of peak (3.74 TB/s), tensor pipe 39%, issue slots 36%: the launch was
 * memory-bound, the K/V prefixes read about 2.4 times (the causal order model: 321 MB for 134 MB of
 * K/V). ptxas: registers, shared memory and spills unchanged on the FA grid's causal persistent
 *      winners (hd64 m192n128s3ovpe 128, hd128 m128n128s2ovpppe 168, hd256 m128n80s2ovpppe
 *      168 registers; 0 spills).
 *  v9  Causal, 2 consumer warpgroups, BLOCK_N a multiple of 32 from 96 (traits HALF_FIRST): when
 *      a warpgroup's rows see only the first half of its first KV block (fa_plan_sm90a_half_first;
 *      with 128 x 128 tiles and seqlen_q = seqlen_k, warpgroup 0 on every diagonal block), that
 *      block runs as its own step: QK^T m64n(BLOCK_N / 2), softmax on half the columns, PV on the
 *      k-steps that hold those keys. Its wgmmas complete inside the step: choosing the half
 *      inside the pipeline, by a branch around the wgmma or by a guard predicate in its asm, made
 *      ptxas (CUDA 13.0) serialize every wgmma of the kernel (C7520, C7511, C7515). ptxas on the
 *      FA grid's short-causal winners (hd128 m128n128s2ovpppe, hd64 m128n128s4pe): 168
 *      registers, 0 spills, +464 / +368 SASS instructions (8 HGMMA.64x64x16 for the half
 *      QK^T); every other variant's SASS is unchanged. Expected: at N = 512 with 128 x 128
 *      tiles 10% fewer MMAs (warpgroup 0's four diagonal blocks at half width), 5.5% at 1k.
 *      H200 (bench/results/2026-12-04_h200_session9): sm90a.gpu_modes (the 17 new checks
 *      too) and the 22 other GPU tests pass; racecheck 0 hazards and synccheck 0 errors on
 *      hd128 m128n128s2ovpppe (256/256) and hd64 m128n128s4pe (300/1001). A/B against
 *      FA_SM90A_HALF_FIRST 0, same kernels otherwise, 3 rounds (median TFLOP/s): hd128
 *      m128n128s2ovpppe N = 512 / 1k 303.5 -> 314.1 (+3.5%) / 395.7 -> 406.6 (+2.8%); hd64
 *      m128n128s4pe 512 / 1k 220.2 -> 226.2 (+2.7%) / 297.1 -> 295.0 (-0.7%, within the
 *      rounds' spread).
 *  v10 Persistent tiles with no room for an O tile (Q + ring + O over 224 KB) stage O through a
 *      2 KB slice per consumer warp when those fit (FA_SM90A_STAGE_O_SLICES): the warp writes
 *      its 16 rows of one 64-column slab to the slice, reads them back as 16-byte chunks and
 *      stores 4 rows x 128 bytes per instruction, slab after slab (st.global.v4 through asm:
 *      NVVM split the first slab's uint4 stores into 4-byte ones). Before, these tiles stored 4
 *      bytes a thread (8 rows x 16 bytes per warp instruction): at hd256 m128n64s2pe, 64 such
 *      stores a thread against 16 of 16 bytes now, on the critical path of short tiles (the
 *      FA grid's hd256 causal N = 512 winner, 0.86 of cuDNN in session 9). Overlap + pingpong
 *      tiles keep the direct stores (the slices' code made ptxas spill two of them). ptxas, the
 *      112 persistent bf16 configurations of the slices (hd96-256, stages 2-4, both pipeline
 *      flags, causal and not): 0 spill, as before; other variants' SASS is unchanged (6 compared).
 *      H200 (bench/results/2026-12-05_h200_session11): sm90a.gpu_modes' 14 new checks of the
 *      slices pass (hd256 m128n64s2pe bf16/fp16, hd96 m128n112s3pe, varlen, PackGQA, rows past
 *      seqlen_q); racecheck 0 hazards, synccheck 0 errors on hd256 causal m128n64s2pe
 *      (300/1001). A/B against FA_SM90A_STAGE_O_WARP 0 (the v9 stores), 3 rounds, median
 *      TFLOP/s, hd256 causal m128n64s2pe: N = 512 282.9 -> 321.3 (+13.6%), 1k 384.2 -> 414.9
 *      (+8.0%). The FA grid's hd256 causal 512 went from 0.86 to 1.02 of cuDNN.
 *  v11 Two blocks a multiprocessor (CTAS = 2, the _x2 entry points, the family's ctas axis).
 *      Short causal launches are latency-bound (session 7's
 *      ncu on hd128 causal N = 512: tensor pipe 39%, issue slots 36%; hd64 causal 512 at 0.89
 *      of cuDNN in session 9): with one block a multiprocessor its Q load, pipeline fill,
 *      softmax and epilogue leave the tensor cores idle. Two blocks of 2 consumer warpgroups
 *      take 80 registers a thread at launch (__launch_bounds__(384, 2)), 24 + 2 x 104 after
 *      setmaxnreg; two of 1 consumer warpgroup (BLOCK_M 64, new) 128 at launch, 24 + 232
 *      after. Each at most 113 KB of shared memory, one tile each, not persistent. ptxas
 *      (CUDA 13.0) over every hd32/64/96 configuration of 2 warpgroups drew the edge that the
 *      legality model states: accumulators <= 72 and BLOCK_N <= 96 compile without spilling
 *      (160 configurations over bf16 x causal x varlen, e.g. hd64 m128n64/n80, hd32 up to
 *      n96); hd64 n64 with overlap, hd64 n96 and hd96 n64 (80) spill; hd32 n112 stops ptxas at
 *      a wgmma (C7602, insufficient registers: ptxas sizes an instruction within the launch
 *      cap). With 1 warpgroup every legal hd32-128 configuration compiles without spilling
 *      (152, bf16 x causal, e.g. hd128 m64n80s2ov, hd64 m64n192s2ov); hd256's PV wgmma stops
 *      ptxas (C7602 at 128), so BLOCK_M 64 stops at head dim 128. No wgmma serialization
 *      warning; SASS of the one-block kernels unchanged (cuobjdump -sass on 6 winners).
 *      H200 (session 11): the 38 new sm90a.gpu_modes checks pass; racecheck / synccheck clean
 *      on hd64 causal m128n64s2x2 and hd128 causal m64n80s2ovx2 (300/1001). ncu on hd128
 *      causal m64n80s2ovx2 at N = 512: block limit 2 by registers and by shared memory
 *      (the driver's carveout allows two), theoretical occupancy 25%, achieved 15.4%. The
 *      tuner picked an x2 tile on one FA-grid shape (hd64 causal 2k, m128n80s2x2, 363.3
 *      TFLOP/s, 0.94 of cuDNN); at hd64 causal 512 the winner stayed m128n128s2ovpe (0.91).
 *  v12 The staged epilogue (store_staged: every non-persistent tile, and persistent ones with an O
 *      tile) stores O's 16-byte chunks with st.global.v4 (fa::st_global_v4, FA_SM90A_O_ST_V4),
 *      as v10's slices already did: its C++ uint4 stores had become four 4-byte STG.E each in
 *      most winners' SASS (CUDA 13.0; hd128 m192n128s2pe, hd256 m128n80s2ovpp, hd128 causal
 *      m128n128s2ovpppe, hd64 causal m128n128s2ovpe and m128n64s2x2: 16-64 STG.E a thread per
 *      tile, now 4-16 STG.E.128), so each warp wrote every 16-byte chunk in four partial
 *      requests. Found by ncu beside cuDNN on hd64 causal N = 512 (H200, session 17: the same
 *      DRAM bytes, 11% more instructions issued, 17% more cycles). Only the stores change: SASS
 *      otherwise equal up to register names; with FA_SM90A_O_ST_V4 0 the SASS is main's.
 *      PackGQA's staged stores were already 16 bytes wide. H100 (bench/results/
 *      2026-12-06_session17): sm90a.gpu_modes' bf16 checks 141 / 141 (every head dim); A/B
 *      against FA_SM90A_O_ST_V4 0, median TFLOP/s: hd128 causal 1k m128n128s2ovpppe 396.9 ->
 *      408.6 (+2.9%, 3 rounds), hd128 8k m192n128s2pe 646.0 -> 658.9 (+2.0%, 3 rounds, noisy),
 *      hd64 causal 512 m128n128s2ovpe 224.0 -> 225.8 (+0.8%), hd64 causal 1k m128n64s2x2
 *      293.1 -> 296.3 (+1.1%); hd256 m128n80s2ovpp 2k / 4k and causal 8k within 0.7% (5 rounds;
 *      a first 3-round A/B read 8.5% the other way: heavy kernels vary 10-15% between
 *      processes on this H100, placement.sh). The short-causal gap to cuDNN stays (hd64 causal
 *      512 at 0.90 of cuDNN, H200): the rest of the 11% is elsewhere.
 *  v13 (FA_SM90A_WG_UNIFORM, on since session 18.) The consumers' warpgroup index
 *      threadIdx.x / 128 is not warp-uniform to ptxas, so the wgmma descriptors derived from it
 *      and from the loop's stage were built in vector registers and moved to uniform registers
 *      (R2UR, two per descriptor) before every HGMMA: 32 R2UR per main-loop iteration of hd64
 *      causal m128n128s2ovpe. Broadcasting lane 0's index with __shfl_sync (as CUTLASS does for
 *      its warpgroup index) keeps them uniform. CUDA 13.0, same registers and shared memory: hd64
 *      causal m128n128s2ovpe R2UR 101 -> 27, SASS 2,760 -> 2,560 instructions, main loop 653
 *      -> 613 a iteration; hd256 m128n80s2ovpp 74 -> 16, 2,552 -> 2,456; hd128 m192n128s2pe
 *      26 -> 17, 1,744 -> 1,712. The bf16 spaces, causal and not: tiles that spill at hd128 7 ->
 *      0 of 524 (the m128n192 overlap tiles), at hd64 10 -> 0 of 1,124 (m192n128 overlap +
 *      pingpong, causal m128n224 overlap), at hd256 0 of 48 both ways; with varlen too, hd96
 *      89 -> 11 of 1,136 (none new) and hd192 43 -> 30 of 264 (4 new: PackGQA overlap tiles
 *      m128n96 / m128n112); launch registers unchanged, NVRTC time unchanged (hd128: 217.7 ->
 *      211.6 s). With the macro at 0 the SASS
 *      is v12's. H100 (session 18, bench/results/2026-12-06_session18): sm90a.gpu_modes 257 /
 *      257 with it on; A/B against it off (bench/ab_macro.sh, 4 rounds, median TFLOP/s): hd64
 *      causal 512 m128n128s2ovpe 225.9 -> 235.2 (+4.1%), hd64 causal 1k m128n64s2x2 293.3 ->
 *      304.7 (+3.9%), hd64 16k m192n192s2pepg 542.6 -> 559.1 (+3.0%), hd128 causal 512
 *      m128n128s2pe 302.5 -> 310.2 (+2.5%), hd256 causal 1k m128n64s2ovpe 414.9 -> 447.9 (+8.0%),
 *      hd256 4k m128n80s2ovpp 668.5 -> 684.6 (+2.4%), hd128 causal 1k m128n128s2ovpppe equal;
 *      hd128 8k m192n128s2pe 711.5 -> 687.4 (-3.4%, 32 fewer SASS instructions; heavy kernels
 *      vary 10-15% between processes on this H100). FlashAttention's grid tuned with it on, same
 *      call: fa-tune / cuDNN geomean 1.017 by the tuning run, 1.011 by h2hs (36 / 36 >= 0.9).
 *  v14 (FA_SM90A_PV_WAIT_IN_BRANCH, on.) OVERLAP's softmax now runs under the PV wgmma, as design
 *      item 6 always meant: in the overlap cubins read (v13), ptxas (CUDA 13.0) had put the
 *      wait for PV(it - 1) (WARPGROUP.DEPBAR.LE gsb0, 0x0) right after the mask, above the row
 *      maxima and every MUFU.EX2 of S(it), though the PTX had it after them: 0 exponentials
 *      between the two waits of the main loop in hd256 m128n80s2ov, hd128 m128n176s2ovpe, hd128
 *      causal m128n128s2ovpppe and hd64 causal m128n128s2ovpe. Moving the O rescale before PV
 *      (FlashAttention-3's order) and a __syncwarp did not move it; a wait in both branches of a
 *      test on the softmax's result does (42 / 90 / 66 / 66 exponentials between the waits). The
 *      test is the lazy rescale's own one, made warpgroup-wide (bar.red.or over the 128
 *      threads, fa::named_bar_any): a warp vote alone let the warps of one warpgroup take
 *      different branches, and synccheck reported "Mismatching warpgroup instruction pc"
 *      (wgmma.wait_group is .aligned). Same registers, 0 spills; +8 SASS instructions (hd256
 *      m128n80s2ov 2,432 -> 2,440). tests/sm90a/test_sm90a_sass.sh checks the order in the
 *      overlap cubins. H100 (bench/results/2026-12-06_session19, calls 2-4): sm90a.gpu_modes
 *      257 / 257; racecheck and synccheck clean on hd128 m128n176s2ovpe, hd128 causal
 *      m128n128s2ovpppe, hd64 m192n128s3ovpe; A/B against v13 (bench/ab_macro.sh, 4 rounds,
 *      median TFLOP/s) faster on 8 of 8 overlap winners: hd256 m128n80s2ov 16k 714.0 -> 755.0
 *      (+5.7%), 2k 634.5 -> 669.8 (+5.6%), hd128 m128n128s2ov 4k 597.5 -> 612.0 (+2.4%), hd128
 *      causal 1k m128n128s2ovpppe +1.2%, the other four +0.3-1.0%. FlashAttention's grid tuned
 *      with it, peers in the same call: fa-tune / cuDNN 1.019 (tuning run), 1.005 (h2hb), 1.005
 *      (h2hs); 36, 36 and 35 of 36 shapes >= 0.9.
 *  v15 (FA_SM90A_EPILOGUE_UNDER_QK, off: compiled and read in SASS, not yet run on a GPU.) ncu
 *      beside cuDNN on hd128 non-causal N = 512 (H100, session 19): same kernel shape, cuDNN 8%
 *      faster with the same DRAM bytes; with 4 KV blocks a tile, the two warpgroups' epilogues
 *      run with no wgmma in flight. Persistent non-causal overlap tiles of 2 warpgroups with an O
 *      tile (no pingpong, PackGQA or varlen) now owe a tile's epilogue to the next tile: O / l is
 *      packed before that tile's first QK^T is issued and the LSE and O stores run under it (the
 *      last tile's after the loop). What ptxas (CUDA 13.0) would not take: keeping the next S, or
 *      the next tile's P, across the persistent loop's back edge (C7512: every wgmma serialized;
 *      bench/results/2026-12-06_session19/next_qk_wip.patch), and reading the accumulators while
 *      a wgmma is in flight (C7517: a wait injected before the epilogue), hence the packing
 *      first. hd128 m128n128s2ovpe: 8 STG.128 and the LSE stores between the first HGMMA and
 *      its wait, the loop's softmax still under PV, 0 spills; 0 of 262 hd128 and 0 of 562 hd64
 *      non-causal bf16 tiles spill (3 warpgroups are left out: hd128 m192n80 spilled 56 bytes).
 *      With it off the SASS is v14's. The GPU
 *      checks, sanitizers and A/B: bench/results/2026-12-06_session19/call_next_epi.sh.
 */
#ifndef FA_FWD_SM90A_CUH
#define FA_FWD_SM90A_CUH

#include <cuda_fp16.h>
#include <cuda_bf16.h>

/* Includes name files relative to templates/ (the names NVRTC's in-memory headers have; nvcc
   needs -I<templates>). */
#include "fa_params.h"
#include "fa_ptx.cuh"
#include "sm90a/fa_plan_sm90a.h"
#include "sm90a/fa_sm90a_ptx.cuh"
#include "sm90a/fa_wgmma.cuh"

/* 1: the half-width first block of sm90a_traits::HALF_FIRST (a macro so that bench/ab_macro.sh
   can time the same kernels without it). */
#ifndef FA_SM90A_HALF_FIRST
#define FA_SM90A_HALF_FIRST 1
#endif

#ifndef FA_NEG_INF
#define FA_NEG_INF (__int_as_float((int)0xff800000u))
#endif

/* 1: the staged epilogue stores O's 16-byte chunks with st.global.v4 (fa::st_global_v4); 0: with
   C++ uint4 stores, which NVVM (CUDA 13.0) splits into four 4-byte stores in most tiles (v12; a
   macro so that bench/ab_macro.sh can time the same kernels both ways). */
#ifndef FA_SM90A_O_ST_V4
#define FA_SM90A_O_ST_V4 1
#endif

/* 1: the warpgroup index is made warp-uniform for ptxas (v13, above: wgmma descriptors stay in
   uniform registers); 0: threadIdx.x / 128, as through v12. A macro so that bench/ab_macro.sh
   can time the same kernels both ways. */
#ifndef FA_SM90A_WG_UNIFORM
#define FA_SM90A_WG_UNIFORM 1
#endif

/* 1: with OVERLAP, the wait for PV(it - 1) sits in both branches of a test on the softmax's
   result (v14): whether O needs rescaling anywhere in the warpgroup, a barrier reduction over
   its 128 threads (the branch must be warpgroup-uniform: wgmma.wait_group is .aligned, and
   compute-sanitizer's synccheck flags a warpgroup whose warps wait at different PCs). Written
   as one wait after the softmax, ptxas (CUDA 13.0) scheduled that wait first thing after the
   mask, so the softmax ran after PV(it - 1) had finished instead of under it; a wait behind a
   branch on the softmax's result cannot move above it. 0: the v13 code. A macro so that
   bench/ab_macro.sh can time the same kernels both ways. */
#ifndef FA_SM90A_PV_WAIT_IN_BRANCH
#define FA_SM90A_PV_WAIT_IN_BRANCH 1
#endif

/* 1: persistent non-causal overlap tiles with an O tile store a tile's O and LSE under the next
   tile's first QK^T instead of with the tensor cores idle (`EPI_UNDER_QK` in the kernel; ncu put
   the short-shape gap to cuDNN in the per-tile schedule, session 19). Experimental: compiled
   and read in SASS, not yet run on a GPU, hence 0. */
#ifndef FA_SM90A_EPILOGUE_UNDER_QK
#define FA_SM90A_EPILOGUE_UNDER_QK 0
#endif

/* FA_SM90A_STAGE_O, FA_SM90A_SMEM_BYTES and the argument layout: sm90a/fa_plan_sm90a.h. */

namespace fa
{

/* The kernel's one argument: the problem and the three tensor maps (layout: fa_plan_sm90a.h). */
struct sm90a_args {
    fa_fwd_params p;
    sm90a_tmap tm_q, tm_k, tm_v;
};
/* fa_fwd_params (200 bytes) first, then 128-byte-aligned maps: offsets 256, 384, 512. */
static_assert(sizeof(fa_fwd_params) <= FA_SM90A_TMAP_OFFSET(0) &&
                  sizeof(sm90a_tmap) == FA_SM90A_TMAP_BYTES && alignof(sm90a_tmap) == 128 &&
                  sizeof(sm90a_args) == FA_SM90A_ARGS_BYTES,
              "sm90a_args drifted from fa_plan_sm90a.h");

} // namespace fa

namespace fa
{

template <typename Element, int HEAD_DIM, int BLOCK_N, int CWG, int STAGES, bool IS_CAUSAL,
          bool OVERLAP, bool PINGPONG, bool PERSISTENT, bool IS_VARLEN, int CTAS>
struct sm90a_traits {
    static constexpr bool BF16 = elem_traits<Element>::is_bf16;
    static constexpr int BLOCK_M = 64 * CWG;
    static constexpr int NT = 128 * (CWG + 1);
    static constexpr int SLABS = FA_SM90A_DPAD(HEAD_DIM) / 64; /* 64-column TMA boxes per row */
    static constexpr int Q_SLAB = BLOCK_M * 128;               /* bytes of one Q slab */
    static constexpr int KV_SLAB = BLOCK_N * 128;              /* bytes of one K or V slab */
    static constexpr int Q_BYTES = SLABS * Q_SLAB;             /* = BLOCK_M * DPAD(HEAD_DIM) * 2 */
    static constexpr int KV_BYTES = SLABS * KV_SLAB;           /* = BLOCK_N * DPAD(HEAD_DIM) * 2 */
    static constexpr bool STAGE_O =
        FA_SM90A_STAGE_O(HEAD_DIM, BLOCK_M, BLOCK_N, STAGES, PERSISTENT);
    static constexpr bool STAGE_O_SLICES =
        FA_SM90A_STAGE_O_SLICES(HEAD_DIM, BLOCK_M, BLOCK_N, STAGES, PERSISTENT);
    /* the O tile: the Q tile's image; the slices: one per consumer warp */
    static constexpr int O_BYTES = FA_SM90A_O_BYTES(HEAD_DIM, BLOCK_M, BLOCK_N, STAGES, PERSISTENT);
    static_assert(O_BYTES == (STAGE_O          ? Q_BYTES
                              : STAGE_O_SLICES ? BLOCK_M * 128
                                               : 0),
                  "O staging: the tile, the warps' 16-row slices, or none");
    /* Overlap + pingpong tiles keep the direct stores: with the slices' code ptxas spilled two
       of them at the register edge (hd128 causal m128n176s2ovpppe, hd256 causal
       m128n64s2ovpppe, none before). The host still reserves the slices (its formula takes no
       pipeline flags); they stay unused. */
    static constexpr bool USE_O_SLICES = STAGE_O_SLICES && !(OVERLAP && PINGPONG);
    static constexpr int SMEM = FA_SM90A_SMEM_BYTES(HEAD_DIM, BLOCK_M, BLOCK_N, STAGES, O_BYTES);
    static constexpr int KQ = HEAD_DIM / 16;                /* k-steps of Q K^T */
    static constexpr int KP = BLOCK_N / 16;                 /* k-steps of P V */
    static constexpr int NS = BLOCK_N / 2;                  /* S accumulators per thread */
    static constexpr int KP_HALF = (BLOCK_N / 2 + 15) / 16; /* HALF_FIRST: PV k-steps kept */
    static constexpr int NO = HEAD_DIM / 2;                 /* O accumulators per thread */
    /* setmaxnreg: the block's registers (the launch-bounds cap times its threads) moved from
       the producer to the consumers. Two blocks a multiprocessor (CTAS, FA_SM90A_REGS) halve
       them: 80 x 384 at entry, 24 + 2 x 104 after. */
    static constexpr int REG_PRODUCER = FA_SM90A_REG_PRODUCER(CWG, CTAS);
    static constexpr int REG_CONSUMER = FA_SM90A_REG_CONSUMER(CWG, CTAS);
    static constexpr int ACC_BUDGET = FA_SM90A_ACC_BUDGET(CWG, CTAS);
    static constexpr int ACC_REGS = NS + NO + (OVERLAP ? BLOCK_N / 4 : 0);
    /* Causal: skip the diagonal band's blocks that a warpgroup's 64 rows cannot see. Only
       with 2 consumer warpgroups: at 160 registers the 3-warpgroup tiles spill 8-28 bytes
       with the extra bookkeeping (ptxas, CUDA 13.0). */
    static constexpr bool SKIP_MASKED = IS_CAUSAL && CWG == 2;
    /* Causal, with SKIP_MASKED: when a warpgroup's rows see only the first BLOCK_N / 2 keys of
       the first KV block it computes (with BLOCK_M = BLOCK_N = 128, warpgroup 0 on every
       diagonal block), that block runs as its own step with QK^T at half width and PV on the
       k-steps holding those keys. BLOCK_N / 2 must be a wgmma N of fa_wgmma.cuh (a multiple of
       16); from 96 keys, as with BLOCK_N = 64 and 128-row tiles no warpgroup's first block is
       half visible when seqlen_q = seqlen_k. */
    static constexpr bool HALF_FIRST =
        FA_SM90A_HALF_FIRST && SKIP_MASKED && BLOCK_N % 32 == 0 && BLOCK_N >= 96;

    static_assert(HEAD_DIM == 32 || HEAD_DIM == 64 || HEAD_DIM == 96 || HEAD_DIM == 128 ||
                      HEAD_DIM == 192 || HEAD_DIM == 256,
                  "sm90a: HEAD_DIM must be 32, 64, 96, 128, 192 or 256");
    static_assert(BLOCK_N % 16 == 0 && BLOCK_N >= 16 && BLOCK_N <= 256,
                  "sm90a: BLOCK_N must be a multiple of 16 in 16..256");
    static_assert(CWG == 2 || CWG == 3 || (CWG == 1 && CTAS == 2 && !PINGPONG && HEAD_DIM <= 128),
                  "sm90a: 2 or 3 consumer warpgroups (1 only with two blocks a multiprocessor, "
                  "without pingpong, head dims up to 128)");
    static_assert(STAGES >= 1 && STAGES <= 4, "sm90a: STAGES must be 1..4");
    static_assert(Q_BYTES + STAGES * 2 * KV_BYTES <= 224 * 1024,
                  "sm90a: Q + STAGES * (K + V) exceeds 224 KB of shared memory");
    static_assert(ACC_REGS <= ACC_BUDGET,
                  "sm90a: accumulators exceed the consumer register budget");
    static_assert(CWG != 3 || BLOCK_N <= FA_SM90A_3WG_MAX_BLOCK_N,
                  "sm90a: 3 consumer warpgroups take BLOCK_N at most 192");
    static_assert(CTAS == 1 || (CTAS == 2 && CWG <= 2),
                  "sm90a: two blocks a multiprocessor only with 1 or 2 consumer warpgroups");
    static_assert(CTAS == 1 || SMEM <= FA_SM90A_SMEM_2CTAS,
                  "sm90a: two blocks a multiprocessor need at most 113 KB of shared memory each");
    static_assert(CTAS == 1 || (!PERSISTENT && (CWG == 1 || BLOCK_N <= FA_SM90A_2CTAS_MAX_BLOCK_N)),
                  "sm90a: two blocks a multiprocessor run one tile each, BLOCK_N <= 96");
};

} // namespace fa

namespace fa
{

/* Row block, query head and batch of work tile t. */
struct sm90a_tile {
    int m_block, h, b;
};

/* Row block, head and batch of work tile t (order: fa_plan_sm90a_tile). */
template <bool IS_CAUSAL>
__device__ __forceinline__ sm90a_tile sm90a_decode(int t, int m_blocks, int heads, int batch,
                                                   int group)
{
    sm90a_tile r;
    int bh;
    fa_plan_sm90a_tile(t, IS_CAUSAL, m_blocks, heads * batch, group, &r.m_block, &bh);
    r.h = bh % heads;
    r.b = bh / heads;
    return r;
}

} // namespace fa

/*
 * Grid of a launch: 1-d, sm90a_num_tiles(...) blocks, or with PERSISTENT at most one block
 * per multiprocessor (min(tiles, SM count)); each block loops over rounds of gridDim.x tiles.
 */
__host__ __device__ inline int sm90a_num_tiles(int seqlen_q, int heads_q, int batch, int block_m)
{
    return (seqlen_q + block_m - 1) / block_m * heads_q * batch;
}

namespace fa
{

/* Online softmax of one block of S at key column n0, W columns wide (W / 2 accumulators per
   thread: rows g and g + 8 of its warp, hh = 0 / 1, columns 8 j + 2 t4 + e). Keys past sk and,
   causal, past row_tok(hh) + diag (row_tok: the row's query token) become -inf first when the
   block is ragged or crosses the diagonal of the warpgroup's first row wrow0. Exponentiates S
   in place with exp2 and the scale folded in (sl2 = scale * log2 e), updates row_max /
   row_sum and returns through row_alpha the factor O must be rescaled by. */
template <int W, bool IS_CAUSAL, typename RowTok>
__device__ __forceinline__ void
sm90a_softmax(float (&acc_s)[W / 2], int n0, int sk, int diag, int wrow0, RowTok row_tok, int t4,
              float sl2, float (&row_max)[2], float (&row_sum)[2], float (&row_alpha)[2])
{
    const bool ragged = n0 + W > sk;
    const bool crosses = IS_CAUSAL && (n0 + W - 1 > wrow0 + diag);
    if (ragged || crosses) {
#pragma unroll
        for (int hh = 0; hh < 2; ++hh) {
            const int r = row_tok(hh);
            int lim = sk - 1 - n0; /* last visible column (relative to n0) of row r */
            if constexpr (IS_CAUSAL)
                lim = min(lim, r + diag - n0);
#pragma unroll
            for (int j = 0; j < W / 8; ++j)
#pragma unroll
                for (int e = 0; e < 2; ++e)
                    if (j * 8 + 2 * t4 + e > lim)
                        acc_s[4 * j + 2 * hh + e] = FA_NEG_INF;
        }
    }
#pragma unroll
    for (int hh = 0; hh < 2; ++hh) {
        float mx = row_max[hh];
#pragma unroll
        for (int j = 0; j < W / 8; ++j)
            mx = fmaxf(mx, fmaxf(acc_s[4 * j + 2 * hh], acc_s[4 * j + 2 * hh + 1]));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
        /* A row that has seen only masked keys keeps max -inf: use 0 as its offset so
           exp2(-inf - 0) = 0 instead of NaN. */
        const float mx_g = (mx == FA_NEG_INF) ? 0.f : mx;
        const float mx_s = mx_g * sl2;
        const float alpha = fa::exp2_approx((row_max[hh] - mx_g) * sl2);
        row_max[hh] = mx;
        float sum = 0.f;
#pragma unroll
        for (int j = 0; j < W / 8; ++j)
#pragma unroll
            for (int e = 0; e < 2; ++e) {
                const float pe = fa::exp2_approx(fmaf(acc_s[4 * j + 2 * hh + e], sl2, -mx_s));
                acc_s[4 * j + 2 * hh + e] = pe;
                sum += pe;
            }
        row_sum[hh] = row_sum[hh] * alpha + sum;
        row_alpha[hh] = alpha;
    }
}

/* A row's LSE from its max m (unscaled) and its quad-reduced sum l: -inf for a row that saw no
   key (l = 0). */
__device__ __forceinline__ float sm90a_lse(float m, float l, float scale)
{
    return l > 0.f ? m * scale + logf(l) : FA_NEG_INF;
}

/* One 16-byte chunk of O to global memory (ptr 16-byte aligned), as FA_SM90A_O_ST_V4 says. */
__device__ __forceinline__ void sm90a_store_o16(void *ptr, uint4 v)
{
#if FA_SM90A_O_ST_V4
    fa::st_global_v4(ptr, v);
#else
    *reinterpret_cast<uint4 *>(ptr) = v;
#endif
}

/* S = Q K^T, W keys wide (W / 2 accumulators per thread), issued and committed as one wgmma
   group: KQ k-steps of m64nWk16, both operands in shared memory through the descriptors dq and
   dk of the Q and K images (64-column slabs of Q_SLAB / KV_SLAB bytes). The caller waits. */
template <int W, bool BF16, int KQ, int Q_SLAB, int KV_SLAB>
__device__ __forceinline__ void sm90a_issue_qk(float (&acc_s)[W / 2], uint64_t dq, uint64_t dk)
{
    fa::wgmma_fence();
#pragma unroll
    for (int kk = 0; kk < KQ; ++kk) {
        const uint32_t qa = (kk / 4) * Q_SLAB + (kk % 4) * 32;
        const uint32_t ka = (kk / 4) * KV_SLAB + (kk % 4) * 32;
        fa::wgmma_ss<W, BF16>(acc_s, dq + (qa >> 4), dk + (ka >> 4), kk > 0);
    }
    fa::wgmma_commit();
}

/* P (the exponentiated S, fp32) packed to 16 bits as the A fragments of PV's first KS
   k-steps: S's n8 tiles (2k, 2k + 1) are k-step k's fragment. */
template <typename Element, int KS>
__device__ __forceinline__ void sm90a_pack_p(const float (&acc_s)[KS * 8], uint32_t (*p_frag)[4])
{
#pragma unroll
    for (int kk = 0; kk < KS; ++kk) {
        p_frag[kk][0] = fa::pack2<Element>(acc_s[8 * kk + 0], acc_s[8 * kk + 1]);
        p_frag[kk][1] = fa::pack2<Element>(acc_s[8 * kk + 2], acc_s[8 * kk + 3]);
        p_frag[kk][2] = fa::pack2<Element>(acc_s[8 * kk + 4], acc_s[8 * kk + 5]);
        p_frag[kk][3] = fa::pack2<Element>(acc_s[8 * kk + 6], acc_s[8 * kk + 7]);
    }
}

/* The kernel body of both entry points (below): PACK_GQA selects GQA packing. args is the
   entry's __grid_constant__ parameter. */
template <typename Element, int HEAD_DIM, int BLOCK_N, int CWG, int STAGES, bool IS_CAUSAL,
          bool OVERLAP, bool PINGPONG, bool PERSISTENT, bool IS_VARLEN, bool PACK_GQA, int CTAS>
__device__ __forceinline__ void fwd_sm90a(const sm90a_args &args)
{
    /* References into the parameter space: TMA reads the maps where they are. */
    const fa_fwd_params &p = args.p;
    const fa::sm90a_tmap &tm_q = args.tm_q, &tm_k = args.tm_k, &tm_v = args.tm_v;
    using T = fa::sm90a_traits<Element, HEAD_DIM, BLOCK_N, CWG, STAGES, IS_CAUSAL, OVERLAP,
                               PINGPONG, PERSISTENT, IS_VARLEN, CTAS>;
    constexpr int BLOCK_M = T::BLOCK_M;
    constexpr int NS = T::NS, NO = T::NO, KQ = T::KQ, KP = T::KP;
    constexpr int CH = HEAD_DIM / 8; /* 16-byte chunks per row */
    extern __shared__ char fa_sm90a_smem[];

    /* PackGQA (fa_plan_sm90a.h): the gq query heads of one KV head share a tile of tpb tokens,
       row r = token (r / gq) x head (r % gq); tiles run over KV heads. Otherwise a tile is
       BLOCK_M tokens of one query head. */
    const int gq = PACK_GQA ? p.heads_q / p.heads_kv : 1;
    const int tpb = PACK_GQA ? BLOCK_M / gq : BLOCK_M;
    const int heads_t = PACK_GQA ? p.heads_kv : p.heads_q;
    if (PACK_GQA && tpb == 0)
        return; /* more heads per KV head than rows: the plan refuses such a launch */

    /* Row blocks per (head, batch): over the maximum length with varlen. */
    const int m_blocks = (p.seqlen_q + tpb - 1) / tpb;
    const int num_tiles = m_blocks * heads_t * p.batch;
    const int group = fa_plan_sm90a_causal_group(
        IS_CAUSAL, PERSISTENT, m_blocks, p.seqlen_k, FA_SM90A_DPAD(HEAD_DIM),
        PACK_GQA ? 1 : p.heads_q / p.heads_kv, heads_t * p.batch);

    /* The sequence of a tile: lengths, first packed row (varlen) and the TMA row and batch
       coordinates of its row 0 (fa_plan_sm90a.h: varlen maps are ragged, so rows past the
       sequence's end read as zeros). */
    struct seq_t {
        int sq, sk, q0, k0; /* lengths; first packed rows (varlen, else 0) */
        int qy, qz, ky, kz; /* TMA coordinates (dims 1 and 3) of the sequence's row 0 */
    };
    auto seq_of = [&](int b) {
        seq_t s;
        if constexpr (IS_VARLEN) {
            const int *cu_q = reinterpret_cast<const int *>(p.cu_seqlens_q);
            const int *cu_k = reinterpret_cast<const int *>(p.cu_seqlens_k);
            s.q0 = cu_q[b];
            s.qz = cu_q[b + 1];
            s.k0 = cu_k[b];
            s.kz = cu_k[b + 1];
            s.sq = s.qz - s.q0;
            s.sk = s.kz - s.k0;
            s.qy = FA_SM90A_RAGGED_L(p.seqlen_q) - s.sq;
            s.ky = FA_SM90A_RAGGED_L(p.seqlen_k) - s.sk;
        } else {
            s.sq = p.seqlen_q, s.sk = p.seqlen_k;
            s.q0 = s.k0 = s.qy = s.ky = 0;
            s.qz = s.kz = b;
        }
        return s;
    };

    /* Tile of this block in round r: rounds cover tiles [r G, r G + G) for a grid of G
       blocks, in snake order (odd rounds reversed), so that with tiles of decreasing length
       (causal) every block's total work stays close to the mean. */
    auto tile_of = [&](int r) {
        const int G = gridDim.x;
        return r * G + ((r & 1) ? G - 1 - (int)blockIdx.x : (int)blockIdx.x);
    };

    /* KV blocks that query rows [.., row_end) can see: [0, n). Causal: up to the diagonal. */
    auto kv_blocks_to = [&](int row_end, int sq, int sk) {
        int n_limit = sk;
        if constexpr (IS_CAUSAL)
            n_limit = min(sk, row_end + sk - sq);
        return n_limit > 0 ? (n_limit + BLOCK_N - 1) / BLOCK_N : 0;
    };
    /* KV blocks row block m can see (the blocks the producer loads). */
    auto kv_blocks = [&](int m_block, int sq, int sk) {
        return kv_blocks_to(m_block * tpb + tpb, sq, sk);
    };

    const uint32_t base = (fa::smem_u32(fa_sm90a_smem) + 1023u) & ~1023u;
    const uint32_t sQ = base;
    const uint32_t sK = sQ + T::Q_BYTES;
    const uint32_t sV = sK + STAGES * T::KV_BYTES;
    const uint32_t sO = sV + STAGES * T::KV_BYTES; /* O staging (STAGE_O, STAGE_O_SLICES) */
    const uint32_t bars = sO + T::O_BYTES;
    const uint32_t q_full = bars, q_empty = bars + 8u;
    auto full_k = [&](int s) { return bars + 8u * (2 + s); };
    auto full_v = [&](int s) { return bars + 8u * (2 + STAGES + s); };
    auto empty_k = [&](int s) { return bars + 8u * (2 + 2 * STAGES + s); };
    auto empty_v = [&](int s) { return bars + 8u * (2 + 3 * STAGES + s); };

    if (threadIdx.x == 0) {
        fa::mbar_init(q_full, 1);
        fa::mbar_init(q_empty, 4 * CWG);
        for (int s = 0; s < STAGES; ++s) {
            fa::mbar_init(full_k(s), 1);
            fa::mbar_init(full_v(s), 1);
            fa::mbar_init(empty_k(s), 4 * CWG);
            fa::mbar_init(empty_v(s), 4 * CWG);
        }
        fa::mbar_fence_init();
    }
    __syncthreads();

    /* FA_SM90A_WG_UNIFORM: lane 0's warpgroup index through a shuffle, which ptxas takes as
       warp-uniform, so the wgmma descriptors and shared addresses derived from it stay in
       uniform registers. */
    const int wg = FA_SM90A_WG_UNIFORM ? __shfl_sync(0xffffffffu, (int)(threadIdx.x / 128), 0)
                                       : (int)(threadIdx.x / 128);
    if (wg == 0) {
        /* ---- producer ------------------------------------------------------------------ */
        fa::setmaxnreg_dec<T::REG_PRODUCER>();
        if (threadIdx.x == 0) {
            fa::tmap_prefetch(&tm_q);
            fa::tmap_prefetch(&tm_k);
            fa::tmap_prefetch(&tm_v);
            int kv_it = 0, q_it = 0; /* ring position and Q fills, over all tiles */
            for (int round = 0;; ++round) {
                const int t = tile_of(round);
                if (t >= num_tiles)
                    break;
                const fa::sm90a_tile tl =
                    fa::sm90a_decode<IS_CAUSAL>(t, m_blocks, heads_t, p.batch, group);
                const seq_t sn = seq_of(tl.b);
                if (IS_VARLEN && tl.m_block * tpb >= sn.sq)
                    continue; /* past the sequence's end (the consumers skip it too) */
                const int n_blocks = kv_blocks(tl.m_block, sn.sq, sn.sk);
                if (n_blocks == 0)
                    continue;
                const int hk = PACK_GQA ? tl.h : tl.h / (p.heads_q / p.heads_kv);
                fa::mbar_wait(q_empty, (q_it & 1) ^ 1);
                if constexpr (PACK_GQA) {
                    /* tpb tokens x gq heads: gq * tpb rows of each slab (the rest unused) */
                    fa::mbar_arrive_expect_tx(q_full, T::SLABS * gq * tpb * 128);
#pragma unroll
                    for (int c = 0; c < T::SLABS; ++c)
                        fa::tma_load_5d(sQ + c * T::Q_SLAB, &tm_q, q_full, c * 64, 0,
                                        sn.qy + tl.m_block * tpb, tl.h, sn.qz);
                } else {
                    fa::mbar_arrive_expect_tx(q_full, T::Q_BYTES);
#pragma unroll
                    for (int c = 0; c < T::SLABS; ++c)
                        fa::tma_load_4d(sQ + c * T::Q_SLAB, &tm_q, q_full, c * 64,
                                        sn.qy + tl.m_block * BLOCK_M, tl.h, sn.qz);
                }
                ++q_it;
                for (int it = 0; it < n_blocks; ++it, ++kv_it) {
                    const int s = kv_it % STAGES;
                    const uint32_t ph = (kv_it / STAGES) & 1;
                    const int n0 = (n_blocks - 1 - it) * BLOCK_N;
                    fa::mbar_wait(empty_k(s), ph ^ 1);
                    fa::mbar_arrive_expect_tx(full_k(s), T::KV_BYTES);
#pragma unroll
                    for (int c = 0; c < T::SLABS; ++c)
                        fa::tma_load_4d(sK + s * T::KV_BYTES + c * T::KV_SLAB, &tm_k, full_k(s),
                                        c * 64, sn.ky + n0, hk, sn.kz);
                    fa::mbar_wait(empty_v(s), ph ^ 1);
                    fa::mbar_arrive_expect_tx(full_v(s), T::KV_BYTES);
#pragma unroll
                    for (int c = 0; c < T::SLABS; ++c)
                        fa::tma_load_4d(sV + s * T::KV_BYTES + c * T::KV_SLAB, &tm_v, full_v(s),
                                        c * 64, sn.ky + n0, hk, sn.kz);
                }
            }
        }
        return;
    }

    /* ---- consumer warpgroup cw owns tile rows [64 cw, 64 cw + 64) ------------------------ */
    fa::setmaxnreg_inc<T::REG_CONSUMER>();
    const int cw = wg - 1;
    const int tw = threadIdx.x % 128;
    const int warp = tw / 32, lane = tw % 32;
    const int g = lane / 4, t4 = lane % 4;
    const uint32_t sQw = sQ + cw * 64 * 128; /* this warpgroup's rows in slab 0 */
    const float sl2 = p.softmax_scale_log2;
    /* The tile's key count and causal offset (key j visible from row r iff j <= r + diag):
       registers with varlen, parameter-space operands otherwise (no register at the
       accumulator edge). */
    int sk_vl = 0, diag_vl = 0;
    int tok0 = 0; /* PackGQA: the tile's first token */
    auto seq_k = [&]() { return IS_VARLEN ? sk_vl : p.seqlen_k; };
    auto diag_of = [&]() { return IS_VARLEN ? diag_vl : p.seqlen_k - p.seqlen_q; };

    float acc_o[NO];
    /* FA_SM90A_EPILOGUE_UNDER_QK: a tile's epilogue is deferred to the next tile, whose first
       QK^T runs under its stores; only persistent non-causal fixed-length overlap tiles of 2
       consumer warpgroups with an O tile and no pingpong or PackGQA (every tile has the same KV
       blocks; at 3 warpgroups' 160 registers hd128 m192n80 spilled 56 bytes). prev_*: the tile
       whose epilogue is owed. */
    constexpr bool EPI_UNDER_QK = FA_SM90A_EPILOGUE_UNDER_QK && PERSISTENT && OVERLAP &&
                                  !PINGPONG && !IS_CAUSAL && !IS_VARLEN && !PACK_GQA &&
                                  T::STAGE_O && CWG == 2;
    bool prev_owed = false;
    Element *prev_o = nullptr;
    float *prev_lse = nullptr;
    int prev_rows = 0;
    float prev_max[2] = {0.f, 0.f}, prev_sum[2] = {0.f, 0.f};
    /* Its two parts: O / l packed to 16 bits before the next QK^T is issued (ptxas waits for
       every wgmma in flight before an instruction that reads an accumulator register), then the
       LSE and O, through the O tile, stored under it. */
    uint32_t prev_pk[EPI_UNDER_QK ? HEAD_DIM / 4 : 1];
    auto prev_pack = [&]() {
#pragma unroll
        for (int hh = 0; hh < 2; ++hh) {
            float l = prev_sum[hh];
            l += __shfl_xor_sync(0xffffffffu, l, 1);
            l += __shfl_xor_sync(0xffffffffu, l, 2);
            const float inv = l > 0.f ? __fdividef(1.f, l) : 0.f;
            prev_sum[hh] = l;
#pragma unroll
            for (int j = 0; j < HEAD_DIM / 8; ++j)
                prev_pk[2 * j + hh] = fa::pack2<Element>(acc_o[4 * j + 2 * hh] * inv,
                                                         acc_o[4 * j + 2 * hh + 1] * inv);
        }
    };
    auto prev_store = [&]() {
#pragma unroll
        for (int hh = 0; hh < 2; ++hh) {
            const float l = prev_sum[hh];
            const int r = warp * 16 + g + 8 * hh;
            if (t4 == 0 && r < prev_rows)
                prev_lse[r] = fa::sm90a_lse(prev_max[hh], l, p.softmax_scale);
        }
        const uint32_t so = sO + cw * 64 * 128; /* this warpgroup's rows of the O tile */
#pragma unroll
        for (int hh = 0; hh < 2; ++hh) {
            const int r = warp * 16 + g + 8 * hh;
#pragma unroll
            for (int j = 0; j < HEAD_DIM / 8; ++j)
                fa::st_shared_u32(so + (j / 8) * T::Q_SLAB + r * 128 + (((j % 8) ^ (r & 7)) << 4) +
                                      t4 * 4,
                                  prev_pk[2 * j + hh]);
        }
        __syncwarp();
#pragma unroll
        for (int i = 0; i < 16 * CH / 32; ++i) {
            const int idx = lane + 32 * i;
            const int r = warp * 16 + idx / CH, c = idx % CH;
            const uint4 v =
                fa::ld_shared_v4(so + (c / 8) * T::Q_SLAB + r * 128 + (((c % 8) ^ (r & 7)) << 4));
            if (r < prev_rows)
                fa::sm90a_store_o16(prev_o + (int64_t)r * p.o_row_stride + c * 8, v);
        }
        __syncwarp();
    };
    float row_max[2], row_sum[2];
    uint32_t p_frag[KP][4];

    /* Q/K descriptors: K-major, SBO 1024; V: MN-major, LBO = slab stride, SBO 1024. */
    const uint64_t dq = fa::wgmma_desc(sQw, 16, 1024);

    auto issue_qk = [&](float(&acc_s)[NS], int s) {
        const uint64_t dk = fa::wgmma_desc(sK + s * T::KV_BYTES, 16, 1024);
        sm90a_issue_qk<BLOCK_N, T::BF16, KQ, T::Q_SLAB, T::KV_SLAB>(acc_s, dq, dk);
    };
    auto issue_pv = [&](int s) {
        const uint64_t dv = fa::wgmma_desc(sV + s * T::KV_BYTES, T::KV_SLAB, 1024);
        fa::wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < KP; ++kk)
            fa::wgmma_rs<HEAD_DIM, T::BF16>(acc_o, p_frag[kk], dv + ((kk * 2048) >> 4), 1);
        fa::wgmma_commit();
    };

    /* Mask and exponentiate S of the KV block at column n0 in place (fa::sm90a_softmax): W
       of its columns, BLOCK_N or the first half in HALF_FIRST's step. */
    auto row_tok = [&](int wrow0) {
        /* row hh's query token (PackGQA: rows of gq heads share a token; the same as
           fa_plan_sm90a_pack_token for the rows that are stored) */
        return [=](int hh) {
            return PACK_GQA ? tok0 + (cw * 64 + warp * 16 + g + 8 * hh) / gq
                            : wrow0 + warp * 16 + g + 8 * hh;
        };
    };
    auto softmax = [&](float(&acc_s)[NS], int n0, int wrow0, float(&row_alpha)[2]) {
        fa::sm90a_softmax<BLOCK_N, IS_CAUSAL>(acc_s, n0, seq_k(), diag_of(), wrow0, row_tok(wrow0),
                                              t4, sl2, row_max, row_sum, row_alpha);
    };
    /* O is rescaled lazily: only when some row max of the warp moved (v14's overlap loop: of
       the warpgroup; a warp vote first keeps that branch's code small). */
    auto o_moved = [&](const float(&row_alpha)[2]) {
        return __any_sync(0xffffffffu, (row_alpha[0] != 1.f) | (row_alpha[1] != 1.f));
    };
    auto scale_o = [&](const float(&row_alpha)[2]) {
#pragma unroll
        for (int j = 0; j < HEAD_DIM / 8; ++j) {
            acc_o[4 * j + 0] *= row_alpha[0];
            acc_o[4 * j + 1] *= row_alpha[0];
            acc_o[4 * j + 2] *= row_alpha[1];
            acc_o[4 * j + 3] *= row_alpha[1];
        }
    };
    auto rescale_o = [&](const float(&row_alpha)[2]) {
        if (o_moved(row_alpha))
            scale_o(row_alpha);
    };
    auto pack_p = [&](const float(&acc_s)[NS]) { fa::sm90a_pack_p<Element, KP>(acc_s, p_frag); };
    auto fence_acc = [&](float(&acc)[NS]) {
#pragma unroll
        for (int i = 0; i < NS; ++i)
            fa::reg_fence(acc[i]);
    };
    auto fence_o = [&]() {
#pragma unroll
        for (int i = 0; i < NO; ++i)
            fa::reg_fence(acc_o[i]);
    };
    auto release = [&](uint32_t bar) {
        if (lane == 0)
            fa::mbar_arrive(bar);
    };
    /* PINGPONG: the consumer warpgroups issue their wgmma phases in turn (0, 1, .., CWG-1, 0,
       ..): warpgroup cw waits on named barrier PP_BAR + cw, which the previous warpgroup
       arrives on once it has issued its own phase. Each barrier instance counts 256 threads
       (128 waiting + 128 arriving). The last warpgroup opens the first turn; warpgroup 0
       absorbs its final pass after the last tile, so no instance is left pending at exit. */
    constexpr int PP_BAR = 4;
    auto pp_wait = [&]() {
        if constexpr (PINGPONG)
            fa::named_bar_sync(PP_BAR + cw, 256);
    };
    auto pp_pass = [&]() {
        if constexpr (PINGPONG)
            fa::named_bar_arrive(PP_BAR + (cw + 1) % CWG, 256);
    };
    if constexpr (PINGPONG) {
        if (cw == CWG - 1)
            fa::named_bar_arrive(PP_BAR, 256);
    }

    int kv_it = 0, q_it = 0; /* ring position and Q fills, over all tiles */
    for (int round = 0;; ++round) {
        const int t = tile_of(round);
        if (t >= num_tiles)
            break;
        const fa::sm90a_tile tl = fa::sm90a_decode<IS_CAUSAL>(t, m_blocks, heads_t, p.batch, group);
        const seq_t sn = seq_of(tl.b);
        if (IS_VARLEN && tl.m_block * tpb >= sn.sq)
            continue; /* past the sequence's end: nothing to load, compute or store */
        sk_vl = sn.sk;
        diag_vl = sn.sk - sn.sq;
        tok0 = tl.m_block * tpb;
        int n_blocks = kv_blocks(tl.m_block, sn.sq, sn.sk);
        /* first query row of the wg (PackGQA: its first row's token, the causal mask's bound) */
        const int wrow0 = PACK_GQA ? tok0 + cw * 64 / gq : tl.m_block * BLOCK_M + cw * 64;
        const int rows_w = sn.sq - wrow0; /* valid rows of this warpgroup (may be <= 0) */
        /* O rows and LSE of this warpgroup: varlen O is packed (total_q, heads, D) and LSE
           (heads, total_q); rows_w bounds every store, so no row of another sequence is
           written. */
        Element *og =
            reinterpret_cast<Element *>(p.o) +
            (IS_VARLEN ? (int64_t)(sn.q0 + wrow0) * p.o_row_stride
                       : (int64_t)tl.b * p.o_batch_stride + (int64_t)wrow0 * p.o_row_stride) +
            (int64_t)tl.h * p.o_head_stride;
        float *lse = reinterpret_cast<float *>(p.lse) +
                     (IS_VARLEN ? (int64_t)sn.q0 : (int64_t)tl.b * p.lse_batch_stride) +
                     (int64_t)tl.h * p.lse_head_stride + wrow0;
        /* PackGQA: row r of this warpgroup holds token tok0 + (64 cw + r) / gq of query head
           gq * kv head + (64 cw + r) % gq; pg_o / pg_lse give its O row and LSE element, or
           nullptr for rows past the tile's gq * tpb or past the sequence (never stored). */
        auto pg_o = [&](int r) -> Element * {
            const int pr = cw * 64 + r, tok = fa_plan_sm90a_pack_token(tl.m_block, tpb, gq, pr);
            if (tok < 0 || tok >= sn.sq)
                return nullptr;
            return reinterpret_cast<Element *>(p.o) +
                   (IS_VARLEN ? (int64_t)(sn.q0 + tok) * p.o_row_stride
                              : (int64_t)tl.b * p.o_batch_stride + (int64_t)tok * p.o_row_stride) +
                   (int64_t)fa_plan_sm90a_pack_head(tl.h, gq, pr) * p.o_head_stride;
        };
        auto pg_lse = [&](int r) -> float * {
            const int pr = cw * 64 + r, tok = fa_plan_sm90a_pack_token(tl.m_block, tpb, gq, pr);
            if (tok < 0 || tok >= sn.sq)
                return nullptr;
            return reinterpret_cast<float *>(p.lse) +
                   (IS_VARLEN ? (int64_t)sn.q0 : (int64_t)tl.b * p.lse_batch_stride) +
                   (int64_t)fa_plan_sm90a_pack_head(tl.h, gq, pr) * p.lse_head_stride + tok;
        };

        if (n_blocks == 0 && PACK_GQA) {
            /* No row of this tile sees a key: O = 0, LSE = -inf. */
            for (int idx = tw; idx < 64 * CH; idx += 128) {
                Element *orow = pg_o(idx / CH);
                if (orow)
                    *reinterpret_cast<uint4 *>(orow + (idx % CH) * 8) = make_uint4(0u, 0u, 0u, 0u);
            }
            if (tw < 64) {
                float *l = pg_lse(tw);
                if (l)
                    *l = FA_NEG_INF;
            }
            continue;
        }
        if (n_blocks == 0) {
            /* No row of this tile sees a key: O = 0, LSE = -inf. */
            for (int idx = tw; idx < 64 * CH; idx += 128) {
                const int r = idx / CH, c = idx % CH;
                if (r < rows_w)
                    *reinterpret_cast<uint4 *>(og + (int64_t)r * p.o_row_stride + c * 8) =
                        make_uint4(0u, 0u, 0u, 0u);
            }
            if (tw < 64 && tw < rows_w)
                lse[tw] = FA_NEG_INF;
            continue;
        }

        if constexpr (!EPI_UNDER_QK) {
#pragma unroll
            for (int i = 0; i < NO; ++i)
                acc_o[i] = 0.f;
        }
        row_max[0] = row_max[1] = FA_NEG_INF;
        row_sum[0] = row_sum[1] = 0.f;
        auto stage = [&](int it) { return (kv_it + it) % STAGES; };
        auto phase = [&](int it) { return (uint32_t)((kv_it + it) / STAGES) & 1; };
        /* S of the tile's last KV block is done: with PERSISTENT the Q tile may be refilled
           (the epilogue does not stage through it). */
        auto qk_done = [&](int it) {
            release(empty_k(stage(it)));
            if (PERSISTENT && it == n_blocks - 1)
                release(q_empty);
        };

        /* one past the last token of the warpgroup's rows (PackGQA: row r is token r / gq) */
        const int row_end = PACK_GQA ? tok0 + (cw * 64 + 63) / gq + 1 : wrow0 + 64;
        fa::mbar_wait(q_full, q_it & 1);
        if constexpr (T::SKIP_MASKED) {
            /* The tile's first KV blocks (its diagonal band: blocks run last to first) may be
               fully masked for this warpgroup's 64 rows though not for the tile's last rows.
               The warpgroup skips their wgmma and softmax but still waits for each load and
               releases it, and keeps its pingpong turns (two phases a block without OVERLAP,
               one with it), so the pipeline runs as before. Then the ring position moves past
               them and the loops below see only the blocks this warpgroup can see. */
            const int n_skip = n_blocks - kv_blocks_to(row_end, sn.sq, sn.sk);
            for (int it = 0; it < n_skip; ++it) {
                const int s = stage(it);
                fa::mbar_wait(full_k(s), phase(it));
                pp_wait();
                pp_pass();
                qk_done(it);
                fa::mbar_wait(full_v(s), phase(it));
                if constexpr (!OVERLAP) {
                    pp_wait();
                    pp_pass();
                }
                release(empty_v(s));
            }
            kv_it += n_skip;
            n_blocks -= n_skip;
            if (OVERLAP && n_blocks == 0) {
                pp_wait(); /* the final PV phase of a warpgroup that sees no key of the tile */
                pp_pass();
            }
        }
        /* HALF_FIRST: the warpgroup's first block holds all the keys its rows see in its first
           half (fa_plan_sm90a_half_first). It runs as its own step, whose wgmmas
           complete inside it: a wgmma whose shape or count depends on a runtime value inside
           the pipeline makes ptxas serialize every wgmma of the kernel (C7520, C7511). Its
           softmax and P cover the first half only (P's other k-steps are not read). Pingpong
           turns: two without OVERLAP, as a block of the loop below; with it one, for the QK^T
           (the half PV is issued outside a turn), so that with the pipeline's n + 1 turns over
           the other n blocks the tile still takes n_blocks + 1, as the other warpgroup's does. */
        int first = 0;
        if constexpr (T::HALF_FIRST) {
            if (fa_plan_sm90a_half_first(n_blocks, BLOCK_N, row_end, sn.sq, sn.sk)) {
                const int s = stage(0);
                float acc_h[NS / 2];
                fa::mbar_wait(full_k(s), phase(0));
                pp_wait();
                sm90a_issue_qk<BLOCK_N / 2, T::BF16, KQ, T::Q_SLAB, T::KV_SLAB>(
                    acc_h, dq, fa::wgmma_desc(sK + s * T::KV_BYTES, 16, 1024));
                pp_pass();
                fa::wgmma_wait<0>();
#pragma unroll
                for (int i = 0; i < NS / 2; ++i)
                    fa::reg_fence(acc_h[i]);
                qk_done(0);
                float row_alpha[2];
                fa::sm90a_softmax<BLOCK_N / 2, IS_CAUSAL>(acc_h, (n_blocks - 1) * BLOCK_N, seq_k(),
                                                          diag_of(), wrow0, row_tok(wrow0), t4, sl2,
                                                          row_max, row_sum, row_alpha);
                fa::sm90a_pack_p<Element, T::KP_HALF>(acc_h, p_frag);
                fa::mbar_wait(full_v(s), phase(0));
                if constexpr (!OVERLAP)
                    pp_wait();
                {
                    const uint64_t dv = fa::wgmma_desc(sV + s * T::KV_BYTES, T::KV_SLAB, 1024);
                    fa::wgmma_fence();
#pragma unroll
                    for (int kk = 0; kk < T::KP_HALF; ++kk)
                        fa::wgmma_rs<HEAD_DIM, T::BF16>(acc_o, p_frag[kk], dv + ((kk * 2048) >> 4),
                                                        1);
                    fa::wgmma_commit();
                }
                if constexpr (!OVERLAP)
                    pp_pass();
                fa::wgmma_wait<0>();
                fence_o();
                release(empty_v(s));
                first = 1;
                if (OVERLAP && n_blocks == 1) {
                    pp_wait(); /* the pipeline's final PV turn, which has no block to run */
                    pp_pass();
                }
            }
        }
        if constexpr (!OVERLAP) {
            for (int it = first; it < n_blocks; ++it) {
                const int s = stage(it);
                float acc_s[NS];
                fa::mbar_wait(full_k(s), phase(it));
                pp_wait();
                issue_qk(acc_s, s);
                pp_pass();
                fa::wgmma_wait<0>();
                fence_acc(acc_s);
                qk_done(it);
                float row_alpha[2];
                softmax(acc_s, (n_blocks - 1 - it) * BLOCK_N, wrow0, row_alpha);
                rescale_o(row_alpha);
                pack_p(acc_s);
                fa::mbar_wait(full_v(s), phase(it));
                pp_wait();
                issue_pv(s);
                pp_pass();
                fa::wgmma_wait<0>();
                fence_o();
                release(empty_v(s));
            }
        } else if (!T::SKIP_MASKED || n_blocks > first) {
            {
                float acc_s[NS];
                fa::mbar_wait(full_k(stage(first)), phase(first));
                if (EPI_UNDER_QK && prev_owed)
                    prev_pack();
                pp_wait();
                issue_qk(acc_s, stage(first));
                pp_pass();
                if (EPI_UNDER_QK && prev_owed) {
                    prev_store(); /* under this QK^T */
                    prev_owed = false;
                }
                fa::wgmma_wait<0>();
                fence_acc(acc_s);
                if constexpr (EPI_UNDER_QK) {
                    fence_o();
#pragma unroll
                    for (int i = 0; i < NO; ++i)
                        acc_o[i] = 0.f;
                }
                qk_done(first);
                float row_alpha[2];
                softmax(acc_s, (n_blocks - 1 - first) * BLOCK_N, wrow0, row_alpha);
                if (T::HALF_FIRST && first > 0)
                    rescale_o(row_alpha);
                pack_p(acc_s);
            }
            for (int it = first + 1; it < n_blocks; ++it) {
                const int s = stage(it), sp = stage(it - 1);
                float acc_s[NS];
                fa::mbar_wait(full_k(s), phase(it));
                fa::mbar_wait(full_v(sp), phase(it - 1));
                pp_wait();
                issue_qk(acc_s, s);
                issue_pv(sp);
                pp_pass();
                fa::wgmma_wait<1>(); /* S(it) done; PV(it-1) may still run */
                fence_acc(acc_s);
                qk_done(it);
                float row_alpha[2];
                softmax(acc_s, (n_blocks - 1 - it) * BLOCK_N, wrow0, row_alpha);
#if FA_SM90A_PV_WAIT_IN_BRANCH
                /* named barrier 1 + cw: the warpgroup's own (the epilogue's, never both at once) */
                if (fa::named_bar_any(1 + cw, 128, o_moved(row_alpha))) {
                    fa::wgmma_wait<0>(); /* PV(it-1) done: O and P are free */
                    fence_o();
                    scale_o(row_alpha);
                } else {
                    fa::wgmma_wait<0>();
                    fence_o();
                }
                release(empty_v(sp));
#else
                fa::wgmma_wait<0>(); /* PV(it-1) done: O and P are free */
                fence_o();
                release(empty_v(sp));
                rescale_o(row_alpha);
#endif
                pack_p(acc_s);
            }
            {
                const int sp = stage(n_blocks - 1);
                fa::mbar_wait(full_v(sp), phase(n_blocks - 1));
                pp_wait();
                issue_pv(sp);
                pp_pass();
                fa::wgmma_wait<0>();
                fence_o();
                release(empty_v(sp));
            }
        }
        kv_it += n_blocks;
        ++q_it;
        if constexpr (EPI_UNDER_QK) { /* owed to the next tile, or stored after the loop */
            prev_owed = true;
            prev_o = og;
            prev_lse = lse;
            prev_rows = rows_w;
            prev_max[0] = row_max[0];
            prev_max[1] = row_max[1];
            prev_sum[0] = row_sum[0];
            prev_sum[1] = row_sum[1];
            continue;
        }

        /* ---- epilogue: normalize, LSE, store O ------------------------------------------ */
        const float scale = p.softmax_scale;
        float inv[2];
#pragma unroll
        for (int hh = 0; hh < 2; ++hh) {
            float l = row_sum[hh];
            l += __shfl_xor_sync(0xffffffffu, l, 1);
            l += __shfl_xor_sync(0xffffffffu, l, 2);
            inv[hh] = l > 0.f ? __fdividef(1.f, l) : 0.f;
            const int r = warp * 16 + g + 8 * hh; /* row within the warpgroup */
            if constexpr (PACK_GQA) {
                float *lp = t4 == 0 ? pg_lse(r) : nullptr;
                if (lp)
                    *lp = fa::sm90a_lse(row_max[hh], l, scale);
            } else if (t4 == 0 && r < rows_w)
                lse[r] = fa::sm90a_lse(row_max[hh], l, scale);
        }
        /* Stage O / l through `stage` (this warpgroup's rows of a [D/64][BLOCK_M][64]
           swizzled image, each warp only its own 16 rows) and store it with coalesced 16-byte
           stores. */
        auto store_staged = [&](uint32_t stage) {
#pragma unroll
            for (int hh = 0; hh < 2; ++hh) {
                const int r = warp * 16 + g + 8 * hh;
#pragma unroll
                for (int j = 0; j < HEAD_DIM / 8; ++j)
                    fa::st_shared_u32(stage + (j / 8) * T::Q_SLAB + r * 128 +
                                          (((j % 8) ^ (r & 7)) << 4) + t4 * 4,
                                      fa::pack2<Element>(acc_o[4 * j + 2 * hh] * inv[hh],
                                                         acc_o[4 * j + 2 * hh + 1] * inv[hh]));
            }
            __syncwarp();
#pragma unroll
            for (int i = 0; i < 16 * CH / 32; ++i) {
                const int idx = lane + 32 * i;
                const int r = warp * 16 + idx / CH, c = idx % CH;
                const uint4 v = fa::ld_shared_v4(stage + (c / 8) * T::Q_SLAB + r * 128 +
                                                 (((c % 8) ^ (r & 7)) << 4));
                if constexpr (PACK_GQA) {
                    Element *orow = pg_o(r);
                    if (orow)
                        fa::sm90a_store_o16(orow + c * 8, v);
                } else if (r < rows_w)
                    fa::sm90a_store_o16(og + (int64_t)r * p.o_row_stride + c * 8, v);
            }
            __syncwarp();
        };
        if constexpr (!PERSISTENT) {
            /* Through this warpgroup's Q rows (free: every warp of the warpgroup is past its
               last wgmma reading them); Q is released afterwards. */
            fa::named_bar_sync(1 + cw, 128);
            store_staged(sQw);
            release(q_empty);
        } else if constexpr (T::STAGE_O) {
            /* Through the O tile; Q was released after the last QK^T. */
            store_staged(sO + cw * 64 * 128);
        } else if constexpr (T::USE_O_SLICES) {
            /* Through this warp's 16-row slice, one 64-column slab at a time (the slab's
               chunks of 16 bytes per row in the Q tile's swizzle; head dims 32 and 96 end
               with a slab of 4 chunks). The thread's lane and warp come from an opaque read
               of %tid.x here, so that nothing derived from them is hoisted out of the tile
               loop: at the register edge (overlap + pingpong, causal) the hoisted slice and
               row offsets were live across the whole loop and ptxas spilled. */
            const int tid_e = fa::tid_x_opaque();
            const int lane = tid_e % 32, warp = tid_e / 32 % 4, g = lane / 4, t4 = lane % 4;
            const uint32_t slice = sO + (tid_e / 32 - 4) * FA_SM90A_O_SLICE_BYTES;
#pragma unroll
            for (int sl = 0; sl < (CH + 7) / 8; ++sl) {
                const int nc = CH - 8 * sl < 8 ? CH - 8 * sl : 8; /* chunks in this slab */
#pragma unroll
                for (int hh = 0; hh < 2; ++hh) {
                    const int rs = g + 8 * hh; /* row within the slice */
#pragma unroll
                    for (int j = 8 * sl; j < 8 * sl + nc; ++j)
                        fa::st_shared_u32(slice + rs * 128 + (((j % 8) ^ (rs & 7)) << 4) + t4 * 4,
                                          fa::pack2<Element>(acc_o[4 * j + 2 * hh] * inv[hh],
                                                             acc_o[4 * j + 2 * hh + 1] * inv[hh]));
                }
                __syncwarp();
#pragma unroll
                for (int i = 0; i < 16 * 8 / 32; ++i) {
                    const int idx = lane + 32 * i;
                    const int rs = idx / 8, c = idx % 8, r = warp * 16 + rs;
                    if (c >= nc)
                        continue;
                    const uint4 v = fa::ld_shared_v4(slice + rs * 128 + ((c ^ (rs & 7)) << 4));
                    if constexpr (PACK_GQA) {
                        Element *orow = pg_o(r);
                        if (orow)
                            fa::st_global_v4(orow + sl * 64 + c * 8, v);
                    } else if (r < rows_w)
                        fa::st_global_v4(og + (int64_t)r * p.o_row_stride + sl * 64 + c * 8, v);
                }
                __syncwarp();
            }
        } else {
            /* Straight from the accumulators (no room for an O tile): 4-byte pairs. */
#pragma unroll
            for (int hh = 0; hh < 2; ++hh) {
                const int r = warp * 16 + g + 8 * hh;
                Element *orow = PACK_GQA ? pg_o(r) : nullptr;
                if (PACK_GQA ? orow != nullptr : r < rows_w) {
                    if constexpr (PACK_GQA)
                        orow += 2 * t4;
                    else
                        orow = og + (int64_t)r * p.o_row_stride + 2 * t4;
#pragma unroll
                    for (int j = 0; j < HEAD_DIM / 8; ++j)
                        *reinterpret_cast<uint32_t *>(orow + 8 * j) = fa::pack2<Element>(
                            acc_o[4 * j + 2 * hh] * inv[hh], acc_o[4 * j + 2 * hh + 1] * inv[hh]);
                }
            }
        }
    }
    if (EPI_UNDER_QK && prev_owed) {
        prev_pack();
        prev_store();
    }
    if constexpr (PINGPONG) {
        if (cw == 0)
            pp_wait(); /* the last warpgroup's final pass */
    }
}

} // namespace fa

/* The entry points: one tile per (row block, query head, batch), and with PackGQA one per
   (token block, KV head, batch) holding the KV head's query heads (fa_plan_sm90a.h); the _x2
   ones run two blocks a multiprocessor (CTAS = 2, fa_plan_sm90a.h). Four kernels instead of
   more template parameters keep the names and code of the plain one. */
#define FA_SM90A_ENTRY(NAME, PACK_GQA, CTAS)                                                       \
    template <typename Element, int HEAD_DIM, int BLOCK_N, int CWG, int STAGES, bool IS_CAUSAL,    \
              bool OVERLAP, bool PINGPONG, bool PERSISTENT, bool IS_VARLEN>                        \
    __global__ void __launch_bounds__(128 * (CWG + 1), CTAS)                                       \
        NAME(const __grid_constant__ fa::sm90a_args args)                                          \
    {                                                                                              \
        fa::fwd_sm90a<Element, HEAD_DIM, BLOCK_N, CWG, STAGES, IS_CAUSAL, OVERLAP, PINGPONG,       \
                      PERSISTENT, IS_VARLEN, PACK_GQA, CTAS>(args);                                \
    }
FA_SM90A_ENTRY(fa_fwd_sm90a, false, 1)
FA_SM90A_ENTRY(fa_fwd_sm90a_pack_gqa, true, 1)
FA_SM90A_ENTRY(fa_fwd_sm90a_x2, false, 2)
FA_SM90A_ENTRY(fa_fwd_sm90a_pack_gqa_x2, true, 2)
#undef FA_SM90A_ENTRY

#endif /* FA_FWD_SM90A_CUH */
