"""Lab hardware: build a device's power, cooling, temperature, CPU, memory and storage from its platform,
check and apply the hardware actions, and render the MIBs a real device of that platform would serve.

Renderers (platforms.yaml `hardware.mib`): `cisco-envmon` (a Catalyst 2960-X: CISCO-ENVMON-MIB supplies,
fans and temperature), `cisco-fru` (a Nexus: ENTITY-MIB rows for power supplies, fans and a chassis
sensor, CISCO-ENTITY-FRU-CONTROL-MIB states, CISCO-ENTITY-SENSOR-MIB temperature with thresholds), both
with CISCO-PROCESS-MIB and CISCO-MEMORY-POOL-MIB; `host-resources` (a Linux server under net-snmp).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pysnmp.proto import rfc1902

from monitor.lab.model import LabDevice, LabFilesystem, LabHardware, jitter

ACTIONS = {"fail_power_supply", "fail_fan", "overheat", "fill_storage", "fail_disk"}
Row = tuple[tuple[int, ...], object]
GIB = 2**30


def build(spec: dict[str, Any] | None) -> LabHardware | None:
    """The platform's hardware at time 0: everything working, at its normal temperature."""
    if not spec:
        return None
    t = spec.get("temperature") or {}
    hw = LabHardware(
        power_supplies={str(n): True for n in spec.get("power_supplies", ())},
        fans={str(n): True for n in spec.get("fans", ())},
        normal_c=float(t.get("normal", 38.0)), warn_c=float(t.get("warn", 60.0)), alarm_c=float(t.get("alarm", 68.0)),
        shutdown_c=float(t.get("shutdown", 75.0)), heat_per_fan_c=float(t.get("heat_per_fan", 6.0)),
        rate_c_per_s=float(t.get("rate_c_per_min", 2.0)) / 60.0,
        cpu_pct=float(spec.get("cpu_pct", 12.0)), cpus=int(spec.get("cpus", 1)),
        memory_bytes=int(spec.get("memory_mb", 512)) * 2**20,
        memory_used_pct=float(spec.get("memory_used_pct", 40.0)),
        disks={str(n): True for n in spec.get("disks", ())},
        filesystems={str(m): LabFilesystem(str(m), str(f["disk"]), int(float(f["size_gb"]) * GIB),
                                           float(f["used_pct"])) for m, f in (spec.get("filesystems") or {}).items()},
    )
    hw.temp_from = hw.temp_to = hw.normal_c
    return hw


def _unit(names: list[str], ref: object) -> str | None:
    """A unit by name ("PS2") or 1-based number."""
    if isinstance(ref, int) and not isinstance(ref, bool) and 1 <= ref <= len(names):
        return names[ref - 1]
    return str(ref) if str(ref) in names else None


def check(do: str, step: dict[str, Any], spec: dict[str, Any] | None, platform: str) -> str | None:
    """Why a hardware step cannot be played on this platform, or None."""
    spec = spec or {}
    if do in ("fail_power_supply", "fail_fan"):
        names = [str(n) for n in spec.get("power_supplies" if do == "fail_power_supply" else "fans", ())]
        what = "power supplies" if do == "fail_power_supply" else "fans"
        if not names:
            return f"{platform} shows no {what} in the lab"
        if _unit(names, step.get("unit")) is None:
            return f"{do} needs unit: one of {', '.join(names)} (or 1-{len(names)})"
    elif do == "overheat":
        if not spec.get("temperature"):
            return f"{platform} shows no chassis temperature in the lab"
        c = step.get("celsius")
        if not isinstance(c, int | float) or isinstance(c, bool) or not -20 <= c <= 150:
            return "overheat needs celsius (a number from -20 to 150)"
    elif do == "fill_storage":
        mounts = list(spec.get("filesystems") or {})
        if step.get("mount") not in mounts:
            return f"fill_storage needs mount: one of {', '.join(mounts) or '(none on ' + platform + ')'}"
        p, over = step.get("percent"), step.get("over", 0)
        if not isinstance(p, int | float) or isinstance(p, bool) or not 0 <= p <= 100:
            return "fill_storage needs percent (0 to 100)"
        if not isinstance(over, int | float) or isinstance(over, bool) or over < 0:
            return "fill_storage over must be seconds, 0 or more"
    elif do == "fail_disk":
        disks = [str(d) for d in spec.get("disks", ())]
        if str(step.get("disk")) not in disks:
            return f"fail_disk needs disk: one of {', '.join(disks) or '(none on ' + platform + ')'}"
    return None


def apply(dev: LabDevice, do: str, a: dict[str, Any], now: float) -> None:
    hw = dev.hw
    assert hw is not None
    if do == "fail_power_supply":
        name = _unit(list(hw.power_supplies), a["unit"])
        assert name is not None
        hw.fail_power_supply(now, name)
    elif do == "fail_fan":
        name = _unit(list(hw.fans), a["unit"])
        assert name is not None
        hw.fail_fan(now, name)
    elif do == "overheat":
        hw.heat_to(now, float(a["celsius"]))
    elif do == "fill_storage":
        hw.filesystems[str(a["mount"])].fill(now, float(a["percent"]), float(a.get("over", 0)))
    elif do == "fail_disk":
        hw.disks[str(a["disk"])] = False


# --- rendering ------------------------------------------------------------------------------------------

def _oid(text: str, *suffix: int) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(".")) + suffix


def _s(text: str) -> rfc1902.OctetString:
    return rfc1902.OctetString(text.encode())


def _i(n: float) -> rfc1902.Integer32:
    return rfc1902.Integer32(round(n))


def _g(n: float) -> rfc1902.Gauge32:
    return rfc1902.Gauge32(max(0, min(2**32 - 1, round(n))))


def render(d: LabDevice, now: float) -> Iterator[Row]:
    hw = d.hw
    if hw is None:
        return
    spec = d.profile.get("hardware")
    style = str(spec.get("mib", "")) if isinstance(spec, dict) else ""
    if style == "host-resources":
        yield from _host_resources(d, hw, now)
        return
    if style == "cisco-envmon":
        yield from _envmon(d, hw, now)
    elif style == "cisco-fru":
        yield from _fru(d, hw, now)
    yield from _cisco_cpu_memory(d, hw, now)


def _temperature(d: LabDevice, hw: LabHardware, now: float) -> float:
    return hw.temperature(now) + jitter(f"{d.name}:temp:{int(now)}", 0.3)


def _envmon(d: LabDevice, hw: LabHardware, now: float) -> Iterator[Row]:
    base = "1.3.6.1.4.1.9.9.13.1"
    for n, (name, ok) in enumerate(hw.power_supplies.items(), 1):
        idx = 1000 + n
        # A 2960-X writes the state into the description: identity is the index, never these words.
        yield _oid(f"{base}.5.1.2", idx), _s(f"Sw1, {name} {'Normal' if ok else 'Faulty'}, RPS NotExist")
        yield _oid(f"{base}.5.1.3", idx), _i(1 if ok else 3)  # normal | critical
        yield _oid(f"{base}.5.1.4", idx), _i(2)  # ac
    for n, (name, ok) in enumerate(hw.fans.items(), 1):
        yield _oid(f"{base}.4.1.2", 2000 + n), _s(f"Switch#1, {name}")
        yield _oid(f"{base}.4.1.3", 2000 + n), _i(1 if ok else 6)  # normal | notFunctioning
    c = _temperature(d, hw, now)
    state, colour = (3, "RED") if c >= hw.alarm_c else (2, "YELLOW") if c >= hw.warn_c else (1, "GREEN")
    yield _oid(f"{base}.3.1.2", 1008), _s(f"SW#1, Sensor#1, {colour}")
    yield _oid(f"{base}.3.1.3", 1008), _g(c)
    yield _oid(f"{base}.3.1.4", 1008), _i(hw.alarm_c)
    yield _oid(f"{base}.3.1.5", 1008), _i(0)
    yield _oid(f"{base}.3.1.6", 1008), _i(state)


_SENSOR_ENTITY = 30001


def _entity(idx: int, cls: int, name: str) -> Iterator[Row]:
    e = "1.3.6.1.2.1.47.1.1.1.1"
    for col, val in ((2, _s(name)), (3, rfc1902.ObjectIdentifier("0.0")), (4, _i(1)), (5, _i(cls)), (7, _s(name)),
                     (8, _s("")), (11, _s("")), (12, _s("")), (13, _s("")), (14, _s("")), (16, _i(1 if cls != 8 else 2))):
        yield _oid(e, col, idx), val


def _fru(d: LabDevice, hw: LabHardware, now: float) -> Iterator[Row]:
    power, fan = "1.3.6.1.4.1.9.9.117.1.1.2.1", "1.3.6.1.4.1.9.9.117.1.4.1.1"
    for n, (name, ok) in enumerate(hw.power_supplies.items(), 1):
        idx = 470 + n
        yield from _entity(idx, 6, f"PowerSupply-{name}")
        yield _oid(power, 1, idx), _i(1)  # admin on
        yield _oid(power, 2, idx), _i(2 if ok else 8)  # on | failed
    for n, (name, ok) in enumerate(hw.fans.items(), 1):
        idx = 534 + n
        yield from _entity(idx, 7, f"Fan Module-{name}")
        yield _oid(fan, 1, idx), _i(2 if ok else 3)  # up | down
    yield from _entity(_SENSOR_ENTITY, 8, "Chassis Temperature Sensor")
    v, t = "1.3.6.1.4.1.9.9.91.1.1.1.1", "1.3.6.1.4.1.9.9.91.1.2.1.1"
    for col, val in ((1, 8), (2, 9), (3, 0), (4, round(_temperature(d, hw, now))), (5, 1)):  # celsius, units
        yield _oid(v, col, _SENSOR_ENTITY), _i(val)
    for row, (severity, limit) in enumerate(((10, hw.warn_c), (20, hw.alarm_c)), 1):  # minor, major; greaterThan
        yield _oid(t, 2, _SENSOR_ENTITY, row), _i(severity)
        yield _oid(t, 3, _SENSOR_ENTITY, row), _i(3)
        yield _oid(t, 4, _SENSOR_ENTITY, row), _i(limit)


def _cpu(d: LabDevice, hw: LabHardware, now: float, n: int = 0) -> float:
    return max(0.0, min(100.0, hw.cpu_pct + jitter(f"{d.name}:cpu{n}:{int(now)}", 3.0)))


def _cisco_cpu_memory(d: LabDevice, hw: LabHardware, now: float) -> Iterator[Row]:
    cpm, pool = "1.3.6.1.4.1.9.9.109.1.1.1.1", "1.3.6.1.4.1.9.9.48.1.1.1"
    yield _oid(cpm, 2, 1), _i(0)
    yield _oid(cpm, 8, 1), _g(_cpu(d, hw, now))
    used = int(hw.memory_bytes * hw.memory_used_pct / 100)
    for col, val in ((2, _s("Processor")), (3, _i(0)), (4, _i(1)), (5, _g(used)), (6, _g(hw.memory_bytes - used))):
        yield _oid(pool, col, 1), val


_HR_RAM, _HR_VIRTUAL, _HR_OTHER, _HR_FIXED = (f"1.3.6.1.2.1.25.2.1.{n}" for n in (2, 3, 1, 4))


def _host_resources(d: LabDevice, hw: LabHardware, now: float) -> Iterator[Row]:
    storage, device, cpu, disk = ("1.3.6.1.2.1.25.2.3.1", "1.3.6.1.2.1.25.3.2.1", "1.3.6.1.2.1.25.3.3.1",
                                  "1.3.6.1.2.1.25.3.6.1")
    kib = hw.memory_bytes // 1024
    buffers, cache = kib * 5 // 100, kib * 25 // 100  # net-snmp counts buffers and cache as used memory
    used = min(kib, int(kib * hw.memory_used_pct / 100) + buffers + cache)
    rows: list[tuple[int, str, str, int, int, int]] = [  # index, type, descr, units, size, used
        (1, _HR_RAM, "Physical memory", 1024, kib, used), (3, _HR_VIRTUAL, "Virtual memory", 1024, 2 * kib, used),
        (6, _HR_OTHER, "Memory buffers", 1024, kib, buffers), (7, _HR_OTHER, "Cached memory", 1024, cache, cache),
        (10, _HR_VIRTUAL, "Swap space", 1024, kib, 0), (60, _HR_FIXED, "/dev/shm", 4096, kib // 8, 0),
        (61, _HR_FIXED, "/run", 4096, kib // 40, kib // 400),  # pseudo filesystems: never watched
    ]
    for n, fs in enumerate(hw.filesystems.values(), 31):
        blocks = fs.size_bytes // 4096
        rows.append((n, _HR_FIXED, fs.mount, 4096, blocks, int(blocks * fs.used_at(now) / 100)))
    for idx, kind, descr, units, size, used_units in rows:
        for col, val in ((1, _i(idx)), (2, rfc1902.ObjectIdentifier(kind)), (3, _s(descr)), (4, _i(units)),
                         (5, _i(size)), (6, _i(used_units)), (7, rfc1902.Counter32(0))):
            yield _oid(storage, col, idx), val
    for n in range(hw.cpus):
        idx = 196608 + n
        for col, val in ((1, _i(idx)), (2, rfc1902.ObjectIdentifier("1.3.6.1.2.1.25.3.1.3")),
                         (3, _s("GenuineIntel: Intel(R) Xeon(R) Silver 4210R CPU @ 2.40GHz")), (5, _i(2)),
                         (6, rfc1902.Counter32(0))):
            yield _oid(device, col, idx), val
        yield _oid(cpu, 1, idx), rfc1902.ObjectIdentifier("0.0")
        yield _oid(cpu, 2, idx), _i(_cpu(d, hw, now, n))
    for n, (name, ok) in enumerate(hw.disks.items()):
        idx = 393216 + n
        capacity = sum(fs.size_bytes for fs in hw.filesystems.values() if fs.disk == name) + 8 * GIB
        for col, val in ((1, _i(idx)), (2, rfc1902.ObjectIdentifier("1.3.6.1.2.1.25.3.1.6")),
                         (3, _s(f"SCSI disk (/dev/{name})")), (5, _i(2 if ok else 5)),
                         (6, rfc1902.Counter32(0 if ok else 37))):
            yield _oid(device, col, idx), val
        for col, val in ((1, _i(1)), (2, _i(3)), (3, _i(2)), (4, _i(capacity // 1024))):  # rw, hardDisk, fixed
            yield _oid(disk, col, idx), val
