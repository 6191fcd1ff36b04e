# fa-tune report: Tuning convergence, best TFLOP/s so far: sm90, b16_h32_kv32_q1024_k1024_d64_bf16
# Draws convergence.dat (same folder). Restyle freely, then redraw with
#     gnuplot convergence.gp
# which writes convergence.png and convergence.svg beside it. Unknown values in the data are NaN.
if (!exists("out")) out = 'convergence'
set encoding utf8
datafile = 'convergence'.'.dat'
footer = 'sm90 | NVIDIA H100 80GB HBM3 | CUDA driver 13.0 | fa-tune 0.1.0 | data of 2026-11-21 18:00 UTC'
title = 'Tuning convergence, best TFLOP/s so far: sm90, b16_h32_kv32_q1024_k1024_d64_bf16'
set label 97 title at screen 0.5, screen 0.965 center font ',13'
set tmargin 3.5
set label 99 footer at screen 0.01, screen 0.025 left font ',8' textcolor rgb '#666666'
set bmargin 6
set border 3 lc rgb '#444444'
set tics nomirror out
set grid back lc rgb '#e0e0e0' lw 1 dt 1
set key outside right top vertical Left reverse noautotitle spacing 1.3 samplen 3 box lc rgb '#cccccc'
pos(x) = x > 0 ? x : NaN
scale = 1
set xlabel 'time since the run started (s)'
set ylabel 'TFLOP/s (best so far)'
set xrange [0:*]
set yrange [*:*]
set offsets 0, 0, graph 0.08, graph 0.08
set label 98 'problem b16_h32_kv32_q1024_k1024_d64_bf16; line: best so far in the run; dots: every ok measurement' at screen 0.01, screen 0.055 left font ',8' textcolor rgb '#666666'

set terminal pngcairo size 1024,640 noenhanced font 'Sans,10' background rgb 'white'
set output out.'.png'
plot datafile index 0 using ($1/scale):3 with steps lw 2.5 lc rgb '#1f77b4' title 'exhaustive, run 6a0690c7', \
     datafile index 0 using ($1/scale):2 with points pt 7 ps 0.6 lc rgb '#1f77b4' notitle

set terminal svg size 1024,640 noenhanced font 'Sans,10' background rgb 'white'
set output out.'.svg'
replot
set output
