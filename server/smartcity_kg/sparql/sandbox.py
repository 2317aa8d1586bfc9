"""A seccomp filter that takes the network away from a query worker process, for good.

pyoxigraph evaluates `SERVICE <http://…>` by making the HTTP request itself, from the worker.
The text check (rdf/sparql_text.py) refuses SERVICE before a query reaches a worker; this is the
second wall behind it: once installed, the kernel answers `socket()` for any family but AF_UNIX
(the worker's pipe to its parent) and `io_uring_setup()` with EACCES, whatever the worker runs.
A system call made through another architecture's table (x86 32-bit `int 0x80`) kills the
process, and x32 system calls are refused, so neither can go around the filter.

Only Linux on x86_64 and aarch64 is supported; elsewhere `check_supported` says so. The filter
is inherited by every thread started afterwards and cannot be removed (PR_SET_NO_NEW_PRIVS).

Usage, in a freshly forked child before it starts any thread::

    forbid_network()   # raises SandboxUnavailable if the kernel refuses
"""

import ctypes
import errno
import os
import platform
import struct

from smartcity_kg.errors import SandboxUnavailable

PR_SET_SECCOMP, PR_GET_SECCOMP, PR_SET_NO_NEW_PRIVS = 22, 21, 38
SECCOMP_MODE_FILTER = 2
RET_KILL_PROCESS, RET_ERRNO, RET_ALLOW = 0x80000000, 0x00050000, 0x7FFF0000
LD_W_ABS, JEQ_K, JGE_K, RET_K = 0x20, 0x15, 0x35, 0x06  # BPF_LD|BPF_W|BPF_ABS, BPF_JMP|…, BPF_RET
NR, ARCH, ARG0 = 0, 4, 16  # offsets in struct seccomp_data (args[0]'s low half: little-endian)
AF_UNIX = 1
X32_BIT = 0x40000000  # x86_64's x32 ABI: the same numbers with this bit set
# machine: (AUDIT_ARCH_*, socket, io_uring_setup), from the kernel's unistd tables
ARCHITECTURES = {
    "x86_64": (0xC000003E, 41, 425),
    "aarch64": (0xC00000B7, 198, 425),
}
ARCHITECTURES["amd64"] = ARCHITECTURES["x86_64"]
ARCHITECTURES["arm64"] = ARCHITECTURES["aarch64"]


class _Fprog(ctypes.Structure):
    """struct sock_fprog: the length of a BPF program in instructions, and where it is."""

    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


def check_supported() -> None:
    """Raise SandboxUnavailable unless this machine can install the filter (checked, not done)."""
    _architecture()
    if _prctl(PR_GET_SECCOMP, 0) < 0:
        raise SandboxUnavailable(f"this kernel has no seccomp support ({_errno_name()})")


def forbid_network() -> None:
    """Install the filter in the calling thread; threads it starts later inherit it."""
    program = _program(*_architecture(), x32=platform.machine() in ("x86_64", "amd64"))
    fprog = _Fprog(len(program) // 8, program)
    if _prctl(PR_SET_NO_NEW_PRIVS, 1) < 0:
        raise SandboxUnavailable(f"prctl(PR_SET_NO_NEW_PRIVS) failed ({_errno_name()})")
    if _prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog)) < 0:
        raise SandboxUnavailable(f"the kernel refused the seccomp filter ({_errno_name()})")


def _program(arch: int, socket: int, io_uring_setup: int, *, x32: bool) -> bytes:
    """Return the BPF program: wrong arch kills; socket(not AF_UNIX), io_uring get EACCES."""
    refuse = RET_ERRNO | errno.EACCES
    steps = [
        (LD_W_ABS, 0, 0, ARCH),
        (JEQ_K, 1, 0, arch),
        (RET_K, 0, 0, RET_KILL_PROCESS),
        (LD_W_ABS, 0, 0, NR),
        *([(JGE_K, 4, 0, X32_BIT)] if x32 else []),  # to `refuse` (jumps are relative)
        (JEQ_K, 3, 0, io_uring_setup),  # to `refuse`
        (JEQ_K, 0, 3, socket),  # else to `allow`
        (LD_W_ABS, 0, 0, ARG0),
        (JEQ_K, 1, 0, AF_UNIX),  # to `allow`
        (RET_K, 0, 0, refuse),
        (RET_K, 0, 0, RET_ALLOW),
    ]
    return b"".join(struct.pack("=HBBI", *step) for step in steps)


def _architecture() -> tuple[int, int, int]:
    machine = platform.machine()
    if platform.system() != "Linux" or machine not in ARCHITECTURES:
        raise SandboxUnavailable(
            f"seccomp filters are supported on Linux x86_64 and aarch64, not "
            f"{platform.system()} {machine}"
        )
    return ARCHITECTURES[machine]


_libc = None


def _prctl(option: int, arg: int, arg3: int = 0) -> int:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc.prctl(
        ctypes.c_int(option), ctypes.c_ulong(arg), ctypes.c_ulong(arg3),
        ctypes.c_ulong(0), ctypes.c_ulong(0),
    )  # fmt: skip


def _errno_name() -> str:
    code = ctypes.get_errno()
    return f"{errno.errorcode.get(code, code)}: {os.strerror(code)}"
