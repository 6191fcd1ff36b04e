# fa-tune report: Forward TFLOP/s vs sequence length: sm90, hd128 fp16 causal varlen GQA 4
# Draws tflops_hd128_fp16_causal_varlen_gqa4.dat (same folder). Restyle freely, then redraw with
#     gnuplot tflops_hd128_fp16_causal_varlen_gqa4.gp
# which writes tflops_hd128_fp16_causal_varlen_gqa4.png and tflops_hd128_fp16_causal_varlen_gqa4.svg beside it. Unknown values in the data are NaN.
if (!exists("out")) out = 'tflops_hd128_fp16_causal_varlen_gqa4'
set encoding utf8
datafile = 'tflops_hd128_fp16_causal_varlen_gqa4'.'.dat'
footer = 'sm90 | NVIDIA H100 80GB HBM3 | CUDA driver 13.0 | fa-tune 0.1.0 | data of 2026-11-21 18:00 UTC'
title = 'Forward TFLOP/s vs sequence length: sm90, hd128 fp16 causal varlen GQA 4'
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
set xrange [787.692:5324.8]
set xtics ('1k' 1024, '2k' 2048, '4k' 4096)
set xlabel 'max sequence length N (tokens; varlen lengths in [N/2, N])'
set label 98 'TFLOP/s = 4·B·Hq·Nq·Nk·D / time, halved for causal with Nq = Nk (FlashAttention''s benchmark convention; varlen sums over sequences), forward pass, median time' at screen 0.01, screen 0.055 left font ',8' textcolor rgb '#666666'
set ylabel 'TFLOP/s (forward)'
set yrange [0:300]
ceiling = NaN

set terminal pngcairo size 1024,640 noenhanced font 'Sans,10' background rgb 'white'
set output out.'.png'
plot datafile using 1:(pos($2)) with linespoints lw 2.5 pt 7 ps 1.1 lc rgb '#d62728' title 'fa-tune (best variant per problem)', \
     datafile using 1:(pos($3)) with linespoints lw 1.5 pt 5 ps 0.9 lc rgb '#7f7f7f' title 'eager (cuBLAS + softmax + cuBLAS)', \
     datafile using 1:(pos($2)) with linespoints lw 2.5 pt 7 ps 1.1 lc rgb '#d62728' notitle

set terminal svg size 1024,640 noenhanced font 'Sans,10' background rgb 'white'
set output out.'.svg'
replot
set output
