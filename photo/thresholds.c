/* photo/thresholds.c — the threshold table of thresholds.h (constant data only). */
#include "photo/thresholds.h"

const struct pc__thr pc__thresholds[PC__T_COUNT] = {
#define PC__THR_ROW(name, v, src) [PC__T_##name] = {#name, (v), (src)},
    PC__THRESHOLDS(PC__THR_ROW)
#undef PC__THR_ROW
};
