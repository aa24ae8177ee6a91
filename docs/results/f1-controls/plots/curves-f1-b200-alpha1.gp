# gnuplot script written by `nesgd report`; run from the report folder: gnuplot plots/curves-f1-b200-alpha1.gp
set encoding utf8
set terminal svg size 720,480 dynamic noenhanced font "sans,12" background "white"
set output "curves-f1-b200-alpha1.svg"
set grid
set key below
set title "F1, B = 200, alpha = 1: training loss of each seed"
set logscale y
set format y "%g"
set xlabel "iteration"
set ylabel "training loss (epoch-mean; log scale)"
plot "plots/curves-f1-b200-alpha1.dat" index 0 using 1:2 with lines lw 2 title "seed 1: converged at 7800", \
     "" index 1 using 1:2 with lines lw 2 title "seed 2: converged at 7450", \
     "" index 2 using 1:2 with lines lw 2 title "seed 3: converged at 8100", \
     "" index 3 using 1:2 with lines lw 2 title "seed 4: converged at 7350", \
     "" index 4 using 1:2 with lines lw 2 title "seed 5: converged at 6300", \
     "" index 5 using 1:2 with lines lw 2 title "seed 6: converged at 6900", \
     "" index 6 using 1:2 with lines lw 2 title "seed 7: converged at 6050", \
     "" index 7 using 1:2 with lines lw 2 title "seed 8: converged at 6500", \
     "" index 8 using 1:2 with lines lw 2 title "seed 9: converged at 8100", \
     "" index 9 using 1:2 with lines lw 2 title "seed 10: converged at 8050", \
     0.01 with lines dt 2 lw 2 lc rgb "#555555" title "L* = 0.01 (LR halved)", \
     0.001 with lines dt 3 lw 2 lc rgb "black" title "L** = 0.001 (stop)"
set terminal pngcairo size 1080,720 noenhanced font "sans,12" background "white"
set output "curves-f1-b200-alpha1.png"
replot
