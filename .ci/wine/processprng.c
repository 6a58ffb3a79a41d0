/*
 * bcryptprimitives.dll for Wine 8, which lacks it.
 *
 * Rust's standard library on Windows draws its random bytes (HashMap seeds,
 * among others) from bcryptprimitives.dll's ProcessPrng. Wine 8 has no such
 * DLL, so every Rust program fails to start there with STATUS_DLL_NOT_FOUND
 * (c0000135). This DLL exports ProcessPrng on top of advapi32's
 * SystemFunction036 (RtlGenRandom), which Wine does implement. It is used
 * only to run the test suite under Wine in CI; real Windows has the DLL.
 */
#include <windows.h>

/* RtlGenRandom; advapi32 exports it under this name only. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* Documented to always return TRUE on real Windows; here it reports failure honestly. */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
