/* consts.c - printable names for protocol numbers (proto_consts.h). */
#include "gtidproxy/proto_consts.h"

const char *proto_com_name(uint8_t com)
{
    switch (com) {
#define PROTO_COM_CASE(name, value)                                            \
    case value:                                                                \
        return #name;
        PROTO_COM_LIST(PROTO_COM_CASE)
#undef PROTO_COM_CASE
    }
    return "COM_UNKNOWN";
}
