-- Numbers no measurement makes, in every kind of rate and time a report plots: +inf, 1e308,
-- negative. The report reads them as missing (no "inf" in a script, no axis to 1e308).
INSERT INTO ceilings (run_id, name, dtype, median_ms, tflops, measured_at) VALUES
 (3, 'gemm_bf16_inf', 'bf16', 1, 9e999, '2026-11-20T16:00:30.000Z');
UPDATE measurements SET compile_ms = 9e999 WHERE id = 1;
UPDATE measurements SET tflops = 1e308 WHERE id = 7;
UPDATE measurements SET median_ms = -1, eager_median_ms = 9e999 WHERE id = 3;
UPDATE peers SET tflops = 1e308 WHERE rowid = 1;
UPDATE peers SET tflops = -9e999 WHERE rowid = 2;
