#ifndef PARTNERSYNC_CSQLITE_SHIM_H
#define PARTNERSYNC_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
