/** The charging lab's generated hosts: one per seed, homogeneous, refused names. */
import { describe, expect, it } from 'vitest';
import { generatedChargingHost, generatedSeed } from './chargingHosts.ts';

describe('generatedChargingHost', () => {
  it('gives the same host for a seed and another for another seed', () => {
    expect(generatedChargingHost(7)).toEqual(generatedChargingHost(7));
    const hosts = [1, 2, 3, 4, 5].map((s) => JSON.stringify(generatedChargingHost(s).domains));
    expect(new Set(hosts).size).toBe(5);
  });

  it('has homogeneous traffic: every guest receives UDP of one size, and its reservations fit', () => {
    for (let seed = 0; seed < 50; seed++) {
      const s = generatedChargingHost(seed);
      const guests = s.domains.filter((d) => d.role === 'guest');
      expect(guests.length).toBeGreaterThanOrEqual(2);
      const udp = guests.flatMap((d) => (d.workloads ?? []).filter((w) => w.kind === 'udp'));
      expect(udp).toHaveLength(guests.length);
      expect(new Set(udp.map((w) => (w.kind === 'udp' ? `${w.direction} ${w.bytes}` : ''))).size).toBe(1);
      expect(udp.every((w) => w.kind === 'udp' && w.direction === 'receive')).toBe(true);
      const sliceMs = s.domains.reduce((n, d) => n + (d.vcpus[0].sedf?.sliceMs ?? 0), 0);
      expect(sliceMs).toBeLessThanOrEqual(10);
      expect(s.mechanisms.debt?.source).toBe('estimate');
    }
  });
});

describe('generatedSeed', () => {
  it('reads gen:N, leaves other names alone, refuses a bad seed', () => {
    expect(generatedSeed('gen:42')).toBe(42);
    expect(generatedSeed('table1-sedfdc')).toBeUndefined();
    expect(() => generatedSeed('gen:x')).toThrow("'x' is not a seed; give gen:N");
    expect(() => generatedSeed('gen:-1')).toThrow('is not a seed');
  });
});
