-- decode.sql: decode problems (the splitkv family) and a device copy ceiling for the report's
-- decode panels; run after fixture.sql. Written by hand (not by gen_fixture.py): the numbers
-- exercise the panels, not measurements. sm90 (the fixture's H100):
--   hd128 bf16 heads 32/8, 1 new token, contiguous:
--     b8 k2048 (16384 rows):     k0 1.2 TB/s, k8 unsupported          -> 1.2 k0
--     b1 k131072 (131072 rows):  k0 2.5, k8 4.1                        -> 4.1 k8
--     b64 k4096 (262144 rows):   k0 3.1, k8 4.5 in run 59 then 3.6 in run 60 (latest counts)
--                                                                      -> 3.6 k8
--     b128 k1024 (131072 rows, the x of b1 k131072): k0 3.0             -> 3.0 k0
--   hd128 bf16 heads 32/8, 4 new tokens, 64-row pages: b64 k4096, k0 'wrong' only -> not drawn
--   ceilings: copy 3.9 TB/s (run 59), copy 4.2 TB/s (run 60): the line is at 4.2
BEGIN;
INSERT INTO runs (id, uuid, device_id, fa_tune_version, source_hash, command_line, started_at, ended_at, status, host) VALUES
 (59, 'dec0de59-0000-4000-8000-000000000059', 1, '0.1.0', 'f00dfeed', 'fa-tune --arch sm90 --op decode --headdim 128', '2026-11-21T08:00:00.000Z', '2026-11-21T08:30:00.000Z', 'ok', 'gpu-node-01'),
 (60, 'dec0de60-0000-4000-8000-000000000060', 1, '0.1.0', 'f00dfeed', 'fa-tune --arch sm90 --op decode --headdim 128', '2026-11-21T09:00:00.000Z', '2026-11-21T09:30:00.000Z', 'ok', 'gpu-node-01');
INSERT INTO variants (id, name, family, op, dtype, head_dim, causal, varlen, params, threads, smem_dynamic) VALUES
 (600, 'decode_splitkv_hd128_bf16_m16n64w4s3k0', 'splitkv', 'decode', 'bf16', 128, 0, 0, 'block_m=16 block_n=64 warps=4 stages=3 splits=0', 128, 103040),
 (601, 'decode_splitkv_hd128_bf16_m16n64w4s3k8', 'splitkv', 'decode', 'bf16', 128, 0, 0, 'block_m=16 block_n=64 warps=4 stages=3 splits=8', 128, 103040);
INSERT INTO problems (id, name, op, dtype, head_dim, causal, varlen, batch, heads_q, heads_kv, gqa, seqlen_q, seqlen_k, bucket, layout, softmax_scale, seed, page_size, cache_seqlen) VALUES
 (600, 'b64_h32_kv8_q1_k4096_d128_bf16_decode', 'decode', 'bf16', 128, 0, 0, 64, 32, 8, 4, 1, 4096, 4096, 'bshd', 0.0, 1, 0, 4096),
 (601, 'b1_h32_kv8_q1_k131072_d128_bf16_decode', 'decode', 'bf16', 128, 0, 0, 1, 32, 8, 4, 1, 131072, 131072, 'bshd', 0.0, 1, 0, 131072),
 (602, 'b8_h32_kv8_q1_k2048_d128_bf16_decode', 'decode', 'bf16', 128, 0, 0, 8, 32, 8, 4, 1, 2048, 2048, 'bshd', 0.0, 1, 0, 2048),
 (603, 'b64_h32_kv8_q4_k4096_d128_bf16_decode_page64', 'decode', 'bf16', 128, 0, 0, 64, 32, 8, 4, 4, 4096, 4096, 'bshd', 0.0, 1, 64, 4096),
 (604, 'b128_h32_kv8_q1_k1024_d128_bf16_decode', 'decode', 'bf16', 128, 0, 0, 128, 32, 8, 4, 1, 1024, 1024, 'bshd', 0.0, 1, 0, 1024);
INSERT INTO measurements (uuid, run_id, variant_id, problem_id, arch, status, message, median_ms, tflops, measured_at) VALUES
 ('dec0de00-0000-4000-8000-000000000000', 59, 601, 600, 'sm90', 'ok', '', 0.015, 4.5, '2026-11-21T08:10:00.000Z'),
 ('dec0de00-0000-4000-8000-000000000001', 60, 600, 600, 'sm90', 'ok', '', 0.0217, 3.1, '2026-11-21T09:01:00.000Z'),
 ('dec0de00-0000-4000-8000-000000000002', 60, 601, 600, 'sm90', 'ok', '', 0.0186, 3.6, '2026-11-21T09:02:00.000Z'),
 ('dec0de00-0000-4000-8000-000000000003', 60, 600, 601, 'sm90', 'ok', '', 0.0268, 2.5, '2026-11-21T09:03:00.000Z'),
 ('dec0de00-0000-4000-8000-000000000004', 60, 601, 601, 'sm90', 'ok', '', 0.0164, 4.1, '2026-11-21T09:04:00.000Z'),
 ('dec0de00-0000-4000-8000-000000000005', 60, 600, 602, 'sm90', 'ok', '', 0.007, 1.2, '2026-11-21T09:05:00.000Z'),
 ('dec0de00-0000-4000-8000-000000000006', 60, 601, 602, 'sm90', 'unsupported', '', NULL, NULL, '2026-11-21T09:06:00.000Z'),
 ('dec0de00-0000-4000-8000-000000000007', 60, 600, 603, 'sm90', 'wrong', '', 0.0336, 2.0, '2026-11-21T09:07:00.000Z'),
 ('dec0de00-0000-4000-8000-000000000008', 60, 600, 604, 'sm90', 'ok', '', 0.0179, 3.0, '2026-11-21T09:08:00.000Z');
-- the decode variants' builds go into the compile-time histogram like the forward ones: two
-- compiles (run 60), one cache hit left out
UPDATE measurements SET compile_ms = 1500.0, cache_hit = 0 WHERE uuid = 'dec0de00-0000-4000-8000-000000000001';
UPDATE measurements SET compile_ms = 1700.0, cache_hit = 0 WHERE uuid = 'dec0de00-0000-4000-8000-000000000002';
UPDATE measurements SET compile_ms = 900.0, cache_hit = 1 WHERE uuid = 'dec0de00-0000-4000-8000-000000000003';
INSERT INTO ceilings (run_id, name, dtype, median_ms, tflops, measured_at) VALUES
 (59, 'copy', 'bf16', 2.2, 3.9, '2026-11-21T08:00:10.000Z'),
 (60, 'copy', 'bf16', 2.05, 4.2, '2026-11-21T09:00:10.000Z');
COMMIT;
