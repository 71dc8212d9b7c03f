"""A process's peak resident memory, for the checks that hostile input does not make the server grow (Linux)."""

from pathlib import Path


def peak_kb(pid: int | str = "self") -> int:
    """The process's peak resident memory (``VmHWM``), in kB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1])


def reset_peak(pid: int | str = "self") -> None:
    """Start the process's peak again from what it holds now (``clear_refs`` 5); where the kernel refuses, the peak
    keeps counting from before, so a rise measured after is an upper bound."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pass
