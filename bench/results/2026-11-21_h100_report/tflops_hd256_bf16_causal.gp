# fa-tune report: Forward TFLOP/s vs sequence length: sm90, hd256 bf16 causal
# Draws tflops_hd256_bf16_causal.dat (same folder). Restyle freely, then redraw with
#     gnuplot tflops_hd256_bf16_causal.gp
# which writes tflops_hd256_bf16_causal.png and tflops_hd256_bf16_causal.svg beside it. Unknown values in the data are NaN.
if (!exists("out")) out = 'tflops_hd256_bf16_causal'
set encoding utf8
datafile = 'tflops_hd256_bf16_causal'.'.dat'
footer = 'sm90 | NVIDIA H100 80GB HBM3 | CUDA driver 13.0 | fa-tune 0.1.0 | data of 2026-11-21 18:00 UTC'
title = 'Forward TFLOP/s vs sequence length: sm90, hd256 bf16 causal'
set label 97 title at screen 0.5, screen 0.965 center font ',13'
set tmargin 3.5
set label 99 footer at screen 0.01, screen 0.025 left font ',8' textcolor rgb '#666666'
set bmargin 6
set border 3 lc rgb '#444444'
set tics nomirror out
set grid back lc rgb '#e0e0e0' lw 1 dt 1
set key outside right top vertical Left reverse noautotitle spacing 1.3 samplen 3 box lc rgb '#cccccc'
pos(x) = x > 0 ? x : NaN
set logscale x 2
set xrange [393.846:21299.2]
set xtics ('512' 512, '1k' 1024, '2k' 2048, '4k' 4096, '8k' 8192, '16k' 16384)
set xlabel 'sequence length N (tokens; Nq = Nk = N)'
set label 98 'TFLOP/s = 4·B·Hq·Nq·Nk·D / time, halved for causal with Nq = Nk (FlashAttention''s benchmark convention; varlen sums over sequences), forward pass, median time' at screen 0.01, screen 0.055 left font ',8' textcolor rgb '#666666'
set ylabel 'TFLOP/s (forward)'
set yrange [0:800]
ceiling = 764.85
set y2label '% of the measured bf16 GEMM ceiling'
set link y2 via y*100.0/ceiling inverse y*ceiling/100.0
set y2tics 20 format '%g%%' nomirror out

set terminal pngcairo size 1024,640 noenhanced font 'Sans,10' background rgb 'white'
set output out.'.png'
plot datafile using 1:(pos($2)) with linespoints lw 2.5 pt 7 ps 1.1 lc rgb '#d62728' title 'fa-tune (best variant per problem)', \
     datafile using 1:(pos($3)) with linespoints lw 1.5 pt 5 ps 0.9 lc rgb '#7f7f7f' title 'eager (cuBLAS + softmax + cuBLAS)', \
     datafile using 1:(pos($4)) with linespoints lw 1.5 dt 2 pt 9 ps 0.9 lc rgb '#1f77b4' title 'PyTorch eager', \
     datafile using 1:(pos($5)) with linespoints lw 1.5 pt 11 ps 0.9 lc rgb '#2ca02c' title 'PyTorch SDPA cuDNN', \
     datafile using 1:(pos($6)) with linespoints lw 1.5 pt 13 ps 0.9 lc rgb '#9467bd' title 'PyTorch SDPA mem-efficient', \
     datafile using 1:(pos($7)) with linespoints lw 1.5 pt 15 ps 0.9 lc rgb '#ff7f0e' title 'PyTorch SDPA flash (FA2)', \
     NaN with lines lc rgb '#ffffff' title '(peers: version torch 2.11.0+cu130, cuDNN 91900)', \
     ceiling with lines dt 3 lw 2 lc rgb '#000000' title sprintf('bf16 GEMM ceiling (measured): %.0f TFLOP/s', ceiling), \
     datafile using 1:(pos($2)) with linespoints lw 2.5 pt 7 ps 1.1 lc rgb '#d62728' notitle

set terminal svg size 1024,640 noenhanced font 'Sans,10' background rgb 'white'
set output out.'.svg'
replot
set output
