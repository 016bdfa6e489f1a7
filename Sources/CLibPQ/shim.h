#ifndef PARTNERSYNC_CLIBPQ_SHIM_H
#define PARTNERSYNC_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
