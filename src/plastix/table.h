/* placeholder */
#ifndef PLX_table_H
#define PLX_table_H
#endif
