/* placeholder */
#ifndef PLX_h5io_H
#define PLX_h5io_H
#endif
