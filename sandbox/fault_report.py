"""The faults section of the sandbox report: per kind, the rate, the faults injected and what absorbed them."""

from __future__ import annotations

from sandbox.faults import FaultInjector

HEADER = ("fault", "rate", "chances", "injected", "absorbed by")


def fault_rows(faults: FaultInjector) -> list[tuple[str, str, int, int, str]]:
    injected = faults.injected
    return [
        (
            kind,
            f"{rate:g}",
            faults.opportunities[kind],
            injected[kind],
            ", ".join(f"{how} {count}" for how, count in faults.absorbed[kind].most_common()) or "-",
        )
        for kind, rate in faults.spec.rates.items()
    ]


def fault_lines(faults: FaultInjector) -> list[str]:
    lines = ["", f"faults injected ({faults.spec}; compared with a fault-free run of the same seed)"]
    lines += [
        f"  {kind}: {count} injected of {chances} chances at {rate} -> {absorbed}"
        for kind, rate, chances, count, absorbed in fault_rows(faults)
    ]
    lines.append(f"  the SDK's backoff between retries, counted instead of waited: {faults.backoff_seconds:.1f} s")
    unexercised = [kind for kind, rate in faults.spec.rates.items() if rate > 0 and not faults.injected[kind]]
    if unexercised:
        lines.append(
            f"  not exercised (no fault injected; raise the rate or change the seed): {', '.join(unexercised)}"
        )
    return lines
