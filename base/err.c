/* base/err.c — error code descriptions. Any thread. */
#include "base/err.h"

const char *pc_strerror(int err)
{
    switch (err) {
    case PC_OK:
        return "ok";
    case PC_EINVAL:
        return "invalid input";
    case PC_ENOTFOUND:
        return "not found";
    case PC_EEXIST:
        return "already exists";
    case PC_ETOOBIG:
        return "too large";
    case PC_EDBDOWN:
        return "database unavailable";
    case PC_EDB:
        return "database error";
    case PC_ERETRY:
        return "transaction conflict";
    case PC_EIO:
        return "i/o error";
    case PC_ECRYPTO:
        return "crypto error";
    case PC_EBUSY:
        return "busy";
    case PC_ELIMIT:
        return "rate limited";
    case PC_EAUTH:
        return "authentication failed";
    case PC_ECONFLICT:
        return "conflict";
    case PC_ETIMEOUT:
        return "timed out";
    case PC_EUPSTREAM:
        return "upstream error";
    default:
        return "unknown error";
    }
}
