/**
 * A checked scenario as the library's `SystemConfig` (integer nanoseconds: times in the
 * file are rounded to the nearest ns; Credit caps pass as they are, in hundredths of a
 * percent). Name-keyed maps keep every own key, `__proto__` included.
 */
import {
  type ChargingPolicyId,
  type DiskModel,
  HDD_7200,
  PROFILES,
  SSD_SATA,
  type SystemConfig,
  type VcpuConfig,
  type WorkloadConfig,
} from '@isosim/actors';
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
        ...(w.clientClass === undefined ? {} : { clientClass: w.clientClass }),
        ...timing,
      };
    case 'cpu':
      return { kind: 'cpu', ...timing };
    case 'bulk':
      return { kind: 'bulk', direction: w.direction, windowSegments: w.windowSegments, ...timing };
    case 'udp':
      return { kind: 'udp', direction: w.direction, rate: w.rate, bytes: w.bytes, ...timing };
    case 'disk':
      return {
        kind: 'disk',
        pattern: w.pattern,
        readPct: w.readPct,
        blockBytes: w.blockBytes,
        iodepth: w.iodepth,
        thinkNs: nsMs(w.thinkMs),
        vbd: w.vbd,
        ...timing,
      };
    case 'db':
      // DB_MIX (docs/disk.md): random 8 KiB pages, 70% reads.
      return {
        kind: 'disk',
        pattern: 'random',
        readPct: DB_MIX.readPct,
        blockBytes: DB_MIX.blockBytes,
        iodepth: w.iodepth,
        thinkNs: nsMs(w.thinkMs),
        vbd: w.vbd,
        ...timing,
      };
  }
}

/**
 * The `db` workload's mix: 8 KiB I/Os (the page of PostgreSQL and Oracle's default
 * db_block_size), at random offsets, 70% reads (TPC-C's I/O is read-heavy, about two
 * reads per write; a stated approximation).
 */
export const DB_MIX = { blockBytes: 8192, readPct: 70 } as const;

/** The disk models a scenario names (actors' hardware/disk.ts). */
export const DISK_MODELS: Readonly<Record<string, DiskModel>> = {
  'hdd-7200': HDD_7200,
  'ssd-sata': SSD_SATA,
};

export function toSystemConfig(s: Scenario): SystemConfig {
  const idds = s.domains.filter((d) => d.role === 'idd');
  const idd = idds[0];
  if (idd === undefined) throw new Error('scenario has no driver domain (checked by parseScenario)');
  const driver = (d: (typeof idds)[number]) => ({
    name: d.name,
    vcpus: d.vcpus.map(vcpuConfig),
    ...(d.devices === undefined ? {} : { devices: d.devices }),
  });
  const m = s.mechanisms;
  // fromEntries defines own properties: a guest named `__proto__` keeps its limit.
  const nameToLimit: Record<string, number | Record<string, number>> = Object.fromEntries(
    Object.entries(m.shareGuard?.limitsPct ?? {}).map(([name, pct]) => [
      name,
      typeof pct === 'number'
        ? pct / 100
        : Object.fromEntries(Object.entries(pct).map(([dn, p]) => [dn, p / 100])),
    ]),
  );
  return {
    profile: PROFILES[s.host.profile],
    pcpus: s.host.pcpus,
    scheduler: s.host.scheduler,
    idd: driver(idd),
    ...(idds.length > 1 ? { drivers: idds.slice(1).map(driver) } : {}),
    ...(s.disks === undefined
      ? {}
      : {
          disks: s.disks.map((d) => ({
            name: d.name,
            model: DISK_MODELS[d.model],
            elevator: d.elevator,
            queueDepth: d.queueDepth,
          })),
        }),
    guests: s.domains
      .filter((d) => d.role === 'guest')
      .map((d) => ({
        name: d.name,
        vcpus: d.vcpus.map(vcpuConfig),
        workloads: d.workloads.map(workload),
        ...(d.vbds === undefined ? {} : { vbds: d.vbds }),
        ...(d.containers === undefined
          ? {}
          : {
              containers: {
                classes: Object.entries(d.containers.classes).map(([name, k]) => ({
                  name,
                  sharePct: k.sharePct,
                })),
                mode: d.containers.mode,
                ...(d.containers.queuePackets === undefined
                  ? {}
                  : { queuePackets: d.containers.queuePackets }),
              },
            }),
      })),
    mechanisms: {
      debt:
        m.debt && m.debt.mode !== 'off'
          ? {
              mode: m.debt.mode,
              spread: m.debt.spread,
              feedbackNs: nsMs(m.debt.feedbackMs),
              source: m.debt.source,
              ...(m.debt.drivers === undefined ? {} : { drivers: m.debt.drivers }),
            }
          : undefined,
      shareGuard: m.shareGuard
        ? { periodNs: nsMs(m.shareGuard.periodMs), limits: nameToLimit, source: m.shareGuard.source }
        : undefined,
      ...(m.charging === undefined ? {} : { charging: m.charging as ChargingPolicyId }),
    },
  };
}
