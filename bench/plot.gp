# The picture of a benchmark run; bench/plot.py writes the data and calls this with
# dir (the data files), out (the SVG), stages (how many object stages there are) and
# xlo, xhi (the object-count axis).
set terminal svg size 1400,1000 dynamic noenhanced font "sans,11" background rgb "white"
set output out
set multiplot

# Top: ratio to raw OpenSSL per operation, 1 thread.
set origin 0,0.38
set size 1,0.62
set title "Throughput as a ratio of raw OpenSSL (EVP called directly), 1 thread — higher is better"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics rotate by -40 left font ",9" nomirror
set ytics nomirror
set grid ytics
set yrange [0:*]
set key top right
set datafile missing "NaN"
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dashtype 2 lc rgb "black"
plot dir."/ratios.dat" using 2:xtic(1) title "FerroHSM" lc rgb "#c0392b", \
     "" using 3 title "SoftHSMv2" lc rgb "#7f8c8d"
unset arrow 1
unset style
set style data linespoints

# Bottom: the object-count curves.
if (stages > 0) {
  unset xtics
  set xtics nomirror
  set logscale xy
  set xrange [xlo:xhi]
  set yrange [*:*]
  set xlabel "token objects"
  set key top left
  set origin 0,0
  set size 0.5,0.36
  set title "find by label (µs per find) — lower is better"
  plot dir."/objects.dat" using 1:2 title "FerroHSM" lw 2 pt 7 lc rgb "#c0392b", \
       "" using 1:3 title "SoftHSMv2" lw 2 pt 5 lc rgb "#7f8c8d"
  set origin 0.5,0
  set title "C_Initialize + C_OpenSession + C_Login, fresh process (ms) — lower is better"
  plot dir."/objects.dat" using 1:4 title "FerroHSM" lw 2 pt 7 lc rgb "#c0392b", \
       "" using 1:5 title "SoftHSMv2" lw 2 pt 5 lc rgb "#7f8c8d"
}
unset multiplot
