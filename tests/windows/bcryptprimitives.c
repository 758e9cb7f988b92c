/* A stand-in for Windows' bcryptprimitives.dll, which Debian's wine 8
 * lacks: Rust's std on Windows takes its random bytes from ProcessPrng
 * there, and a program that cannot load it does not start. This one
 * draws them from advapi32's SystemFunction036 (RtlGenRandom), which
 * wine has. Built by .ci/windows with x86_64-w64-mingw32-gcc into the
 * wine prefix's system32; never shipped. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, n))
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
