/* base/err.h — the one error convention of portraitd.
 *
 * Every fallible function returns 0 on success or one of these negative codes.
 * Functions that return pointers return NULL only where their comment says so. */
#ifndef PC_BASE_ERR_H
#define PC_BASE_ERR_H

enum pc_err {
    PC_OK = 0,
    PC_EINVAL = -1,     /* invalid argument or malformed input */
    PC_ENOTFOUND = -2,  /* no such row / key / file */
    PC_EEXIST = -3,     /* duplicate key or already present */
    PC_ETOOBIG = -4,    /* a bounded buffer or limit would be exceeded */
    PC_EDBDOWN = -5,    /* database unreachable: the caller answers 503 */
    PC_EDB = -6,        /* any other database error (logged where it happens) */
    PC_ERETRY = -7,     /* deadlock or lock timeout: retry the transaction */
    PC_EIO = -8,        /* file or socket error */
    PC_ECRYPTO = -9,    /* signature, hash or random source failure */
    PC_EBUSY = -10,     /* queue full or server draining */
    PC_ELIMIT = -11,    /* rate limited */
    PC_EAUTH = -12,     /* authentication failed */
    PC_ECONFLICT = -13, /* state conflict */
    PC_ETIMEOUT = -14,  /* an outbound call or wait timed out */
    PC_EUPSTREAM = -15  /* an upstream (WeChat) answered with an error */
};

/* Static English description of an error code; never NULL. Any thread. */
const char *pc_strerror(int err);

#endif
