# gnuplot script written by `nesgd report`; run from the report folder: gnuplot plots/figure3-f1.gp
set encoding utf8
set terminal svg size 720,480 dynamic noenhanced font "sans,12" background "white"
set output "figure3-f1.svg"
set grid
set key below
set title "F1: test accuracy against convergence time (10 seeds per point)"
set xlabel "convergence time (iterations)"
set ylabel "test accuracy (%)"
plot "plots/figure3-f1.dat" index 0 using 1:2:3:4 with xyerrorlines lw 2 pt 7 title "reduce B at alpha = 1 (B = 2500 down to 200)", \
     "" index 0 using 1:2:5 with labels offset char 1,0.7 font ",9" notitle
set terminal pngcairo size 1080,720 noenhanced font "sans,12" background "white"
set output "figure3-f1.png"
replot
