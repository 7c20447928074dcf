/**
 * A checked scenario as the library's `SystemConfig` (integer nanoseconds: times in the
 * file are rounded to the nearest ns; Credit caps pass as they are, in hundredths of a
 * percent). Name-keyed maps keep every own key, `__proto__` included.
 */
import { PROFILES, type SystemConfig, type VcpuConfig, type WorkloadConfig } from '@isosim/actors';
import { NS_PER_MS, NS_PER_S } from '@isosim/core';
import type { Scenario } from './schema.ts';

const ns = (s: number): number => Math.round(s * NS_PER_S);
const nsMs = (ms: number): number => Math.round(ms * NS_PER_MS);

export function vcpuConfig(v: Scenario['domains'][number]['vcpus'][number]): VcpuConfig {
  return {
    pcpu: v.pcpu,
    sedf: v.sedf
      ? { sliceNs: nsMs(v.sedf.sliceMs), periodNs: nsMs(v.sedf.periodMs), extratime: v.sedf.extratime }
      : undefined,
    credit: v.credit ? { weight: v.credit.weight, capPct: v.credit.capPct } : undefined,
  };
}

function workload(w: Scenario['domains'][number]['workloads'][number]): WorkloadConfig {
  const timing = {
    startNs: ns(w.startS),
    stopNs: w.stopS === undefined ? undefined : ns(w.stopS),
    ...(w.vcpu === undefined ? {} : { vcpu: w.vcpu }),
  };
  switch (w.kind) {
    case 'web':
      return {
        kind: 'web',
        rate: w.rate,
        fileBytes: w.fileBytes,
        timeoutNs: ns(w.timeoutS),
        arrivals: w.arrivals,
        ...timing,
      };
    case 'cpu':
      return { kind: 'cpu', ...timing };
    case 'bulk':
      return { kind: 'bulk', direction: w.direction, windowSegments: w.windowSegments, ...timing };
    case 'udp':
      return { kind: 'udp', direction: w.direction, rate: w.rate, bytes: w.bytes, ...timing };
  }
}

export function toSystemConfig(s: Scenario): SystemConfig {
  const idd = s.domains.find((d) => d.role === 'idd');
  if (idd === undefined) throw new Error('scenario has no driver domain (checked by parseScenario)');
  const m = s.mechanisms;
  // fromEntries defines own properties: a guest named `__proto__` keeps its limit.
  const nameToLimit: Record<string, number> = Object.fromEntries(
    Object.entries(m.shareGuard?.limitsPct ?? {}).map(([name, pct]) => [name, pct / 100]),
  );
  return {
    profile: PROFILES[s.host.profile],
    pcpus: s.host.pcpus,
    scheduler: s.host.scheduler,
    idd: { name: idd.name, vcpus: idd.vcpus.map(vcpuConfig) },
    guests: s.domains
      .filter((d) => d.role === 'guest')
      .map((d) => ({ name: d.name, vcpus: d.vcpus.map(vcpuConfig), workloads: d.workloads.map(workload) })),
    mechanisms: {
      debt:
        m.debt && m.debt.mode !== 'off'
          ? {
              mode: m.debt.mode,
              spread: m.debt.spread,
              feedbackNs: nsMs(m.debt.feedbackMs),
              source: m.debt.source,
            }
          : undefined,
      shareGuard: m.shareGuard
        ? { periodNs: nsMs(m.shareGuard.periodMs), limits: nameToLimit, source: m.shareGuard.source }
        : undefined,
    },
  };
}
