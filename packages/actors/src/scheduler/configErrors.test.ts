/**
 * Bad scheduler parameters are configuration errors that name the call, the field, what
 * is wrong and what would be accepted (the CLI prints them as they are). Each check is
 * tested at its boundary: the last bad value is refused, the first good one accepted.
 */
import { IsosimError } from '@isosim/core';
import { describe, expect, it } from 'vitest';
import { credit, MAX_WEIGHT, peakNs } from './credit.ts';
import { sedf } from './sedf.ts';
import type { DebtMode, VcpuSpec } from './types.ts';

/** The IsosimError `f` throws, as its message. */
function refused(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(IsosimError);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

const sedfVcpu = (sliceNs: number, periodNs: number, pcpu = 0): VcpuSpec => ({
  domain: 1,
  pcpu,
  sedf: { sliceNs, periodNs, extratime: false },
});

describe('SEDF refuses bad parameters, naming the field and the fix', () => {
  it('pCPU count', () => {
    expect(refused(() => sedf.init(0, 0))).toBe(
      'sedf: pcpus: 0 is not a CPU count; give a whole number >= 1',
    );
    expect(refused(() => sedf.init(1.5, 0))).toMatch(/^sedf: pcpus: 1.5 is not/);
    expect(sedf.init(1, 0).pcpus).toHaveLength(1);
  });

  it('pCPU of a vCPU', () => {
    const st = sedf.init(2, 0);
    expect(refused(() => sedf.addVcpu(st, sedfVcpu(1, 10, 2), 0))).toBe(
      'sedf: pcpu: 2 is not a pCPU of this host; give 0..1',
    );
    expect(refused(() => sedf.addVcpu(st, sedfVcpu(1, 10, -1), 0))).toMatch(/^sedf: pcpu: -1 /);
    expect(refused(() => sedf.addVcpu(st, sedfVcpu(1, 10, 0.5), 0))).toMatch(/^sedf: pcpu: 0.5 /);
    expect(sedf.addVcpu(st, sedfVcpu(1, 10, 1), 0)).toBe(0);
  });

  it('period and slice', () => {
    const st = sedf.init(1, 0);
    expect(refused(() => sedf.addVcpu(st, sedfVcpu(0, 0), 0))).toBe(
      'sedf: periodNs: 0 is not a period; give a positive whole number of ns',
    );
    expect(refused(() => sedf.addVcpu(st, sedfVcpu(0, 1.5), 0))).toMatch(/^sedf: periodNs: 1.5 /);
    expect(refused(() => sedf.addVcpu(st, sedfVcpu(11, 10), 0))).toBe(
      'sedf: sliceNs: 11 does not fit the period 10; give 0 <= slice <= period',
    );
    expect(refused(() => sedf.addVcpu(st, sedfVcpu(-1, 10), 0))).toMatch(/^sedf: sliceNs: -1 /);
    expect(refused(() => sedf.addVcpu(st, sedfVcpu(0.5, 10), 0))).toMatch(/^sedf: sliceNs: 0.5 /);
    expect(sedf.addVcpu(st, sedfVcpu(10, 10), 0)).toBe(0);
    expect(sedf.addVcpu(st, sedfVcpu(0, 1), 0)).toBe(1);
  });

  it('adjust: no migration, and the same checks', () => {
    const st = sedf.init(2, 0);
    const v = sedf.addVcpu(st, sedfVcpu(1, 10), 0);
    expect(refused(() => sedf.adjust(st, v, { pcpu: 1 }, 0))).toBe(
      'sedf.adjust: pcpu: vCPU 0 is pinned to pCPU 0; migration is not modelled',
    );
    expect(
      refused(() => sedf.adjust(st, v, { sedf: { sliceNs: 11, periodNs: 10, extratime: false } }, 0)),
    ).toMatch(/^sedf\.adjust: sliceNs: /);
    sedf.adjust(st, v, { pcpu: 0 }, 0);
  });

  it('debt options', () => {
    const st = sedf.init(1, 0);
    expect(
      refused(() => sedf.configureDebt?.(st, { mode: 'later' as DebtMode, spread: false, feedbackNs: 1 })),
    ).toBe("sedf: debt.mode: 'later' is not a mode; use off, immediate, next-quantum");
    expect(refused(() => sedf.configureDebt?.(st, { mode: 'immediate', spread: false, feedbackNs: 0 }))).toBe(
      'sedf: debt.feedbackNs: 0 is not an interval; give ns > 0',
    );
    expect(
      refused(() => sedf.configureDebt?.(st, { mode: 'immediate', spread: false, feedbackNs: 0.5 })),
    ).toMatch(/feedbackNs: 0.5 /);
    sedf.configureDebt?.(st, { mode: 'next-quantum', spread: true, feedbackNs: 1 });
  });
});

const creditVcpu = (weight: number, capPct: number, pcpu = 0): VcpuSpec => ({
  domain: 1,
  pcpu,
  credit: { weight, capPct },
});

describe('Credit refuses bad parameters, naming the field and the fix', () => {
  it('pCPU count and pCPU of a vCPU', () => {
    expect(refused(() => credit.init(0, 0))).toBe(
      'credit: pcpus: 0 is not a CPU count; give a whole number >= 1',
    );
    expect(refused(() => credit.init(2.5, 0))).toMatch(/^credit: pcpus: 2.5 /);
    const st = credit.init(2, 0);
    expect(refused(() => credit.addVcpu(st, creditVcpu(256, 0, 2), 0))).toBe(
      'credit: pcpu: 2 is not a pCPU of this host; give 0..1',
    );
    expect(refused(() => credit.addVcpu(st, creditVcpu(256, 0, -1), 0))).toMatch(/^credit: pcpu: -1 /);
    expect(credit.addVcpu(st, creditVcpu(256, 0, 1), 0)).toBe(0);
  });

  it('weight and cap', () => {
    const st = credit.init(1, 0);
    expect(refused(() => credit.addVcpu(st, creditVcpu(0, 0), 0))).toBe(
      `credit: weight: 0 is not a weight; give a whole number in 1..${MAX_WEIGHT}`,
    );
    expect(refused(() => credit.addVcpu(st, creditVcpu(MAX_WEIGHT + 1, 0), 0))).toMatch(
      /^credit: weight: 65536 /,
    );
    expect(refused(() => credit.addVcpu(st, creditVcpu(1.5, 0), 0))).toMatch(/^credit: weight: 1.5 /);
    expect(refused(() => credit.addVcpu(st, creditVcpu(1, -1), 0))).toBe(
      'credit: capPct: -1 is not a cap; give a percentage >= 0 in hundredths, such as 10.25 (0 = no cap)',
    );
    expect(refused(() => credit.addVcpu(st, creditVcpu(1, 0.005), 0))).toMatch(/^credit: capPct: 0.005 /);
    expect(refused(() => credit.addVcpu(st, creditVcpu(1, Number.NaN), 0))).toMatch(/^credit: capPct: NaN /);
    expect(credit.addVcpu(st, creditVcpu(1, 0), 0)).toBe(0);
    expect(credit.addVcpu(st, creditVcpu(MAX_WEIGHT, 100), 0)).toBe(1);
    expect(credit.addVcpu(st, creditVcpu(1, 10.25), 0)).toBe(2);
    expect(peakNs(st.vcpus[2])).toBe(3_075_000);
    expect(credit.addVcpu(st, creditVcpu(1, 0.29), 0)).toBe(3);
    expect(peakNs(st.vcpus[3])).toBe(87_000);
  });

  it('adjust: no migration, and the same checks', () => {
    const st = credit.init(2, 0);
    const v = credit.addVcpu(st, creditVcpu(256, 0), 0);
    expect(refused(() => credit.adjust(st, v, { pcpu: 1 }, 0))).toBe(
      'credit.adjust: pcpu: vCPU 0 is pinned to pCPU 0; migration is not modelled',
    );
    expect(refused(() => credit.adjust(st, v, { credit: { weight: 0, capPct: 0 } }, 0))).toMatch(
      /^credit\.adjust: weight: /,
    );
  });

  it('debt options', () => {
    const st = credit.init(1, 0);
    expect(
      refused(() => credit.configureDebt?.(st, { mode: 'x' as DebtMode, spread: false, feedbackNs: 1 })),
    ).toBe("credit: debt.mode: 'x' is not a mode; use off, immediate, next-quantum");
  });
});
