#!/usr/bin/env python3
"""C_Initialize must read only the six fields of the standard CK_C_INITIALIZE_ARGS.

p11-kit (and so GnuTLS, p11-kit server), libp11 and others pass exactly the
standard struct: {CreateMutex, DestroyMutex, LockMutex, UnlockMutex, flags,
pReserved}. NSS's pkcs11t.h inserts `LibraryParameters` before `pReserved`, so a
module compiled with that header and reading `pReserved` reads one word past the
caller's struct. Here the word after the struct holds a pointer to a string, as a
caller's stack may; the module must still answer CKR_OK.
usage: init_args_check.py <module.so>   (FERROHSM_CONF names the store)
"""
import ctypes
import sys

CKF_OS_LOCKING_OK = 0x2


class StandardArgsAndOneMore(ctypes.Structure):
    _fields_ = [("CreateMutex", ctypes.c_void_p), ("DestroyMutex", ctypes.c_void_p),
                ("LockMutex", ctypes.c_void_p), ("UnlockMutex", ctypes.c_void_p),
                ("flags", ctypes.c_ulong), ("pReserved", ctypes.c_void_p),
                ("caller_owned", ctypes.c_void_p)]  # not part of the struct given to the module


lib = ctypes.CDLL(sys.argv[1])
fl = ctypes.c_void_p()
rv = lib.C_GetFunctionList(ctypes.byref(fl))
assert rv == 0, f"C_GetFunctionList rv=0x{rv:x}"
# CK_FUNCTION_LIST: CK_VERSION (padded to 8 bytes), then C_Initialize, C_Finalize, ...
slots = ctypes.cast(fl.value + 8, ctypes.POINTER(ctypes.c_void_p))
Fn = ctypes.CFUNCTYPE(ctypes.c_ulong, ctypes.c_void_p)
c_initialize, c_finalize = Fn(slots[0]), Fn(slots[1])

junk = ctypes.create_string_buffer(b"caller data, not a FerroHSM config")
args = StandardArgsAndOneMore(flags=CKF_OS_LOCKING_OK, pReserved=None,
                              caller_owned=ctypes.cast(junk, ctypes.c_void_p).value)
rv = c_initialize(ctypes.byref(args))
print(f"C_Initialize(standard args, flags=CKF_OS_LOCKING_OK, pReserved=NULL) -> 0x{rv:x}")
if rv != 0:
    sys.exit(1)
rv = c_finalize(None)
print(f"C_Finalize -> 0x{rv:x}")
sys.exit(0 if rv == 0 else 1)
