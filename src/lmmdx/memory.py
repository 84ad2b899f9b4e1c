"""How much memory is available, and refusing work that would not fit in it.

Large allocations (arrays proportional to rows × columns, or to levels²) are
estimated first and refused with :class:`~lmmdx.errors.ResourceError` when they
exceed what the process can still allocate:

    this model needs about 0.62 GB for the cross-products of 2,000,000 rows × 8 columns;
    the machine has 0.11 GB available

"Available" is the smallest of the memory the kernel reports as available
(``MemAvailable``), the headroom left by the process's own limits (``ulimit -v``
counts virtual memory: ``RLIMIT_AS`` minus ``VmSize``; ``RLIMIT_DATA`` minus
``VmData``) and the headroom of its cgroup (``memory.max`` − ``memory.current``).
Where none of these can be read, nothing is refused in advance. Allocations below
:data:`CHECK_FLOOR` are not checked at all: asking the system costs more than fitting such a
model (reading /proc took 40% of building sleepstudy's model).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .errors import ResourceError

__all__ = ["CHECK_FLOOR", "available_bytes", "format_gb", "out_of_memory", "require"]

#: Estimates below this many bytes (16 MiB) are not compared with what is available. The
#: interpreter with numpy, scipy and pandas loaded already holds several times as much, so a
#: process that got this far can almost always allocate it; where it cannot, numpy's MemoryError
#: is still turned into one line by :func:`out_of_memory` (the CLI does this for every command).
CHECK_FLOOR = 16 * 2**20

_STATUS = Path("/proc/self/status")
_MEMINFO = Path("/proc/meminfo")


def _proc_field(path: Path, field: str) -> int | None:
    """A ``Name:  1234 kB`` field of a /proc file, in bytes."""
    try:
        text = path.read_text()
    except OSError:
        return None
    match = re.search(rf"^{field}:\s+(\d+)\s*kB", text, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None


def _rlimit_headroom() -> list[int]:
    try:
        import resource
    except ImportError:  # not on Unix
        return []
    out = []
    for name, field in (("RLIMIT_AS", "VmSize"), ("RLIMIT_DATA", "VmData")):
        limit = getattr(resource, name, None)
        if limit is None:
            continue
        soft = resource.getrlimit(limit)[0]
        if soft == resource.RLIM_INFINITY or soft < 0:
            continue
        used = _proc_field(_STATUS, field)
        if used is not None:
            out.append(max(0, soft - used))
    return out


def _cgroup_headroom() -> int | None:
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("0::"):
            base = Path("/sys/fs/cgroup") / line[3:].lstrip("/")
            try:
                limit = (base / "memory.max").read_text().strip()
                current = int((base / "memory.current").read_text().strip())
            except (OSError, ValueError):
                return None
            return None if limit == "max" else max(0, int(limit) - current)
    return None


def available_bytes() -> int | None:
    """Bytes this process can still allocate, as far as the system says; None when unknown."""
    candidates = [*_rlimit_headroom()]
    free = _proc_field(_MEMINFO, "MemAvailable")
    if free is None and hasattr(os, "sysconf"):
        try:
            free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError):
            free = None
    if free is not None:
        candidates.append(free)
    cgroup = _cgroup_headroom()
    if cgroup is not None:
        candidates.append(cgroup)
    return min(candidates) if candidates else None


def format_gb(nbytes: float) -> str:
    """``"0.62 GB"``, ``"25 GB"``, ``"0.0031 GB"``: two significant digits, never exponents."""
    gb = nbytes / 1e9
    if gb >= 10:
        return f"{gb:,.0f} GB"
    if gb >= 1:
        return f"{gb:.1f} GB"
    if gb >= 0.01:
        return f"{gb:.2f} GB"
    return f"{gb:.2g} GB" if gb >= 1e-4 else "0.0001 GB"


_REMEDY = "use fewer rows or a simpler model, or a machine with more memory"


def require(nbytes: float, what: str, remedy: str = _REMEDY) -> None:
    """Refuse, before allocating, work that needs more memory than is available
    (estimates below :data:`CHECK_FLOOR` pass without asking the system).

    Parameters
    ----------
    nbytes : float
        Estimated peak of the allocation.
    what : str
        What the memory is for, e.g. ``"the cross-products of 2,000,000 rows × 8 columns"``.
    remedy : str
        What to do instead (the end of the message).

    Raises
    ------
    ResourceError
    """
    if nbytes < CHECK_FLOOR:
        return
    available = available_bytes()
    if available is not None and nbytes > available:
        raise ResourceError(
            f"this model needs about {format_gb(nbytes)} for {what}; the machine has {format_gb(available)} "
            f"available: {remedy}"
        )


def out_of_memory(exc: MemoryError, step: str) -> ResourceError:
    """A one-line :class:`ResourceError` for a :class:`MemoryError` raised while doing ``step``."""
    text = str(exc).strip().splitlines()
    detail = ""
    if text:
        match = re.search(r"allocate ([0-9.]+ [KMGT]?i?B)(?: for an array with shape (\([^)]*\)))?", text[0])
        detail = f" (an array of {match.group(1)}{' of shape ' + match.group(2) if match.group(2) else ''} " \
                 "could not be allocated)" if match else ""
    available = available_bytes()
    where = f"; the machine has {format_gb(available)} available" if available is not None else ""
    return ResourceError(f"out of memory {step}{detail}{where}: {_REMEDY}")
