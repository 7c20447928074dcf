/**
 * The paper's hosts as `SystemConfig`s, for tests and, later, the built-in scenarios.
 *
 * Fig. 6 (section 4.2): one Pentium-IV 2.8 GHz CPU; Domain-1 runs a web server and may
 * use at most 60% of the CPU, Domain-0 (the IDD) at most 40%; httperf's load rises in
 * steps. The paper does not give the file size or the steps; we use 20 KB files and
 * `steps` increments of `stepRate` connections per second every `stepNs`.
 */
import { NS_PER_S } from '@isosim/core';
import { P4_2_8 } from '../profiles/profiles.ts';
import type { MechanismsConfig, SystemConfig, WorkloadConfig } from './config.ts';

const sedfPct = (pct: number) => ({ sliceNs: pct * 100_000, periodNs: 10_000_000, extratime: false });

export interface Fig6Options {
  readonly steps?: number;
  readonly stepRate?: number;
  readonly stepNs?: number;
  readonly fileBytes?: number;
  readonly mechanisms?: MechanismsConfig;
}

export function fig6Host(options: Fig6Options = {}): SystemConfig {
  const steps = options.steps ?? 8;
  const stepRate = options.stepRate ?? 150;
  const stepNs = options.stepNs ?? 5 * NS_PER_S;
  const workloads: WorkloadConfig[] = Array.from({ length: steps }, (_, k) => ({
    kind: 'web',
    rate: stepRate,
    fileBytes: options.fileBytes ?? 20_480,
    timeoutNs: 2 * NS_PER_S,
    startNs: k * stepNs,
  }));
  return {
    profile: P4_2_8,
    scheduler: 'sedf',
    idd: { name: 'Dom-0', vcpus: [{ pcpu: 0, sedf: sedfPct(40) }] },
    guests: [{ name: 'Dom-1', vcpus: [{ pcpu: 0, sedf: sedfPct(60) }], workloads }],
    mechanisms: options.mechanisms,
  };
}
