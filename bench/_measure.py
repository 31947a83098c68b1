"""Measurement helpers shared by the benchmark scripts (`python bench/<script>.py` puts this folder on the import path)."""
import time
from pathlib import Path
import numpy as np


def reset_peak():
    "Reset this process's peak resident memory (VmHWM); False where the kernel does not allow it"
    try: Path('/proc/self/clear_refs').write_text('5'); return True
    except OSError: return False


def peak_mb():
    "Peak resident memory of this process since the last `reset_peak`, in MB (NaN where /proc has no VmHWM)"
    for line in Path('/proc/self/status').read_text().splitlines():
        if line.startswith('VmHWM:'): return int(line.split()[1]) / 1024
    return float('nan')


def now():
    "(wall, CPU) seconds: `time.perf_counter()` and this process's `time.process_time()` (all threads)"
    return np.array([time.perf_counter(), time.process_time()])
