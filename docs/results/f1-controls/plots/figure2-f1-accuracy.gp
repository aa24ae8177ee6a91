# gnuplot script written by `nesgd report`; run from the report folder: gnuplot plots/figure2-f1-accuracy.gp
set encoding utf8
set terminal svg size 720,480 dynamic noenhanced font "sans,12" background "white"
set output "figure2-f1-accuracy.svg"
set grid
set key below
set title "F1: test accuracy against batch size (10 seeds per point)"
set logscale x
set xrange [112.46826503806982:4445.698525097307]
set xtics (200, 2500)
set xlabel "batch size B (log scale)"
set ylabel "test accuracy (%), mean +- std over converged seeds"
plot "plots/figure2-f1-accuracy.dat" index 0 using 1:2:3 with yerrorlines lw 2 pt 7 title "alpha = 1"
set terminal pngcairo size 1080,720 noenhanced font "sans,12" background "white"
set output "figure2-f1-accuracy.png"
replot
