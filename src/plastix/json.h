/* placeholder */
#ifndef PLX_json_H
#define PLX_json_H
#endif
