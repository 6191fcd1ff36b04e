# fa-tune report: NVRTC compile time per variant: sm90 (758 compiles, cache hits left out)
# Draws compile_time.dat (same folder). Restyle freely, then redraw with
#     gnuplot compile_time.gp
# which writes compile_time.png and compile_time.svg beside it. Unknown values in the data are NaN.
if (!exists("out")) out = 'compile_time'
set encoding utf8
datafile = 'compile_time'.'.dat'
footer = 'sm90 | NVIDIA H100 80GB HBM3 | CUDA driver 13.0 | fa-tune 0.1.0 | data of 2026-11-21 18:00 UTC'
title = 'NVRTC compile time per variant: sm90 (758 compiles, cache hits left out)'
set label 97 title at screen 0.5, screen 0.965 center font ',13'
set tmargin 3.5
set label 99 footer at screen 0.01, screen 0.025 left font ',8' textcolor rgb '#666666'
set bmargin 6
set border 3 lc rgb '#444444'
set tics nomirror out
set grid back lc rgb '#e0e0e0' lw 1 dt 1
set key outside right top vertical Left reverse noautotitle spacing 1.3 samplen 3 box lc rgb '#cccccc'
pos(x) = x > 0 ? x : NaN
scale = 1000.0
median = 1217.83
set xlabel 'NVRTC compile time per variant (s)'
set ylabel 'compiles (count)'
set xrange [*:*]
set offsets 0, 0, graph 0.08, 0
set key at screen 0.5, screen 0.078 center center horizontal Left reverse width 2
set bmargin 8
set yrange [0:*]
set style fill solid 0.85 border lc rgb '#7f2704'
set arrow 1 from median/scale, graph 0 to median/scale, graph 1 nohead dt 2 lw 1.5 lc rgb '#000000' front

set terminal pngcairo size 1024,640 noenhanced font 'Sans,10' background rgb 'white'
set output out.'.png'
plot datafile using (($1+$2)/2/scale):3:(($2-$1)/scale) with boxes lc rgb '#fd8d3c' title '758 compiles (cubin cache hits left out)', \
     NaN with lines dt 2 lw 1.5 lc rgb '#000000' title sprintf('median %.1f s', median/scale)

set terminal svg size 1024,640 noenhanced font 'Sans,10' background rgb 'white'
set output out.'.svg'
replot
set output
