"""The machine a bench records beside its results, and the line that says it."""

from __future__ import annotations

import os
import platform

from fluidspec import _bench_machine as machine

X86_CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R)   Processor @ 2.80GHz
flags\t\t: fpu vme

processor\t: 1
model name\t: Intel(R) Xeon(R) Processor @ 2.80GHz
"""
ARM_CPUINFO = """processor\t: 0
BogoMIPS\t: 50.00
CPU implementer\t: 0x41
CPU part\t: 0xd0c
"""
MOUNTS = """/dev/vda / ext4 rw,relatime 0 0
proc /proc proc rw 0 0
tmpfs /tmp tmpfs rw,nosuid 0 0
/dev/vdb /mnt/my\\040disk xfs rw 0 0
/dev/vdc /tmp/deeper btrfs rw 0 0
"""


def test_the_cpu_is_the_first_model_name_or_what_an_arm_cpuinfo_has():
    assert machine.cpu_model(X86_CPUINFO) == "Intel(R) Xeon(R) Processor @ 2.80GHz"
    assert machine.cpu_model(ARM_CPUINFO) == "0xd0c"


def test_the_huge_page_mode_is_the_bracketed_choice():
    assert machine.huge_page_mode("always [madvise] never\n") == "madvise"
    assert machine.huge_page_mode("[always] madvise never") == "always"
    assert machine.huge_page_mode("always madvise never") is None
    assert machine.huge_page_mode(None) is None


def test_the_filesystem_is_the_longest_mount_holding_the_directory():
    def kind(directory: str) -> tuple[str, str]:
        fs = machine.filesystem_of(directory, MOUNTS)
        assert fs is not None
        return fs["type"], fs["mount"]

    assert kind("/tmp/bench") == ("tmpfs", "/tmp")
    assert kind("/tmp/deeper/x") == ("btrfs", "/tmp/deeper")
    assert kind("/tmpfoo/x") == ("ext4", "/")  # a name that only starts like a mount point
    assert kind("/mnt/my disk/runs") == ("xfs", "/mnt/my disk")  # \040 in the mounts table
    assert kind("/") == ("ext4", "/")
    assert machine.filesystem_of("/tmp", "") is None


def test_this_machine_is_described_with_what_it_has(tmp_path):
    here = machine.describe(str(tmp_path))
    assert here["logical_cpus"] == os.cpu_count()
    assert here["kernel"] == f"{platform.system()} {platform.release()}"
    assert here["python"] == platform.python_version()
    assert here["numpy"] and here["numba"]
    fs = here["filesystem"]
    if fs is not None:  # a Linux /proc; the mount holds the directory
        real = os.path.realpath(tmp_path)
        assert real == fs["mount"] or real.startswith(fs["mount"].rstrip("/") + "/")
    line = machine.summary(here)
    assert here["kernel"] in line and f"of {os.cpu_count()} CPUs" in line


def test_the_summary_says_what_is_unknown_and_when_nothing_was_recorded():
    assert "not recorded" in machine.summary(None) and "not recorded" in machine.summary({})
    line = machine.summary({"cpu": None, "logical_cpus": 4, "usable_cpus": 2,
                            "filesystem": {"type": "ext4", "mount": "/", "journal": True}})
    assert line.startswith("?, 2 of 4 CPUs usable, ? GiB") and "ext4 on /, journal;" in line
