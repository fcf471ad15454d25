/* placeholder */
#ifndef PLX_plot_H
#define PLX_plot_H
#endif
