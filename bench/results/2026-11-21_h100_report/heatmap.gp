# fa-tune report: TFLOP/s by tile size (BLOCK_M x BLOCK_N): sm90, b16_h32_kv32_q1024_k1024_d64_bf16
# Draws heatmap.dat (same folder). Restyle freely, then redraw with
#     gnuplot heatmap.gp
# which writes heatmap.png and heatmap.svg beside it. Unknown values in the data are NaN.
if (!exists("out")) out = 'heatmap'
set encoding utf8
datafile = 'heatmap'.'.dat'
footer = 'sm90 | NVIDIA H100 80GB HBM3 | CUDA driver 13.0 | fa-tune 0.1.0 | data of 2026-11-21 18:00 UTC'
title = 'TFLOP/s by tile size (BLOCK_M x BLOCK_N): sm90, b16_h32_kv32_q1024_k1024_d64_bf16'
set label 97 title at screen 0.5, screen 0.965 center font ',13'
set tmargin 3.5
set label 99 footer at screen 0.01, screen 0.025 left font ',8' textcolor rgb '#666666'
set bmargin 6
set border 3 lc rgb '#444444'
set tics nomirror out
set grid back lc rgb '#e0e0e0' lw 1 dt 1
set key outside right top vertical Left reverse noautotitle spacing 1.3 samplen 3 box lc rgb '#cccccc'
pos(x) = x > 0 ? x : NaN
set xrange [-0.5:6.5]
set yrange [-0.5:1.5]
set xtics ('32' 0, '48' 1, '64' 2, '80' 3, '96' 4, '112' 5, '128' 6) scale 0
set ytics ('64' 0, '128' 1) scale 0
set xlabel 'BLOCK_N (keys per tile)'
set ylabel 'BLOCK_M (queries per tile)'
set cblabel 'TFLOP/s (best over warps, stages, Q in registers)'
set palette defined (0 '#fff5eb', 0.5 '#fdae6b', 1 '#e6550d')
unset grid
set border 15
set tics front
set key at screen 0.5, screen 0.078 center center horizontal Left reverse width 2
set bmargin 8
set style textbox opaque noborder margins 2, 1
ok(s) = s eq 'ok'
failed(s) = s ne 'ok' && s ne '-'
cell(s) = ok(s) ? sprintf("%.0f\n%s", column(5), strcol(7)) : (s eq '-' ? 'not measured' : s)
best_label = 'best: fwd_sm80_hd64_bf16_m128n128w4s3, 315 TFLOP/s'
set object 1 rect center 6, 1 size 0.96, 0.96 front fs empty border lc rgb '#000000' lw 3

set terminal pngcairo size 1024,640 noenhanced font 'Sans,10' background rgb 'white'
set output out.'.png'
plot datafile using 1:2:(0.5):(0.5):(ok(strcol(6)) ? $5 : NaN) with boxxyerror fs solid 1.0 noborder lc palette notitle, \
     datafile using 1:(ok(strcol(6)) ? $2 : NaN):(cell(strcol(6))) with labels font ',10' notitle, \
     datafile using 1:(ok(strcol(6)) ? NaN : $2):(cell(strcol(6))) with labels boxed font ',10' notitle, \
     NaN with boxes fs empty lw 3 lc rgb '#000000' title best_label

set terminal svg size 1024,640 noenhanced font 'Sans,10' background rgb 'white'
set output out.'.svg'
replot
set output
