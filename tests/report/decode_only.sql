-- decode_only.sql: the fixture's H100 (device 1) and nothing else, so that decode.sql after it
-- makes a database with decode results only (no forward problem): test_report.sh decode_peers.
INSERT INTO devices (id, name, arch, cc, sm_count, clock_khz, mem_clock_khz, memory_bytes, l2_bytes, driver_version, cuda_version, nvrtc_version) VALUES
 (1, 'NVIDIA H100 80GB HBM3', 'sm90', 90, 132, 1980000, 2619000, 85520809984, 52428800, 12040, 12040, 12040);
