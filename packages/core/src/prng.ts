/**
 * Seeded pseudo-random numbers with an integer API.
 *
 * Design: one root seed (a non-negative safe integer) gives the root `Prng`; every
 * component asks for its own stream with `fork(label)`. A fork depends only on the
 * root seed and the label path, never on how many numbers the parent has drawn, so
 * adding a draw in one component does not perturb any other (TigerBeetle derives a
 * sub-seed per component the same way).
 *
 * Generator: xoshiro128** (32-bit words, so it runs on Math.imul and shifts);
 * seeding and label mixing use the murmur3 finaliser. Probabilities are integer
 * ratios (`chance(num, den)`); integer ranges are unbiased (rejection sampling).
 * The only floating point is in `float01`/`exponential`, which use IEEE doubles and
 * V8's own `Math.log` (fdlibm): identical on every run of one Node version.
 */
import { IsosimError } from './errors.ts';

const TWO_32 = 4294967296;

function mix32(x: number): number {
  let h = x | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function hashLabel(label: string, h0: number): number {
  let h = h0 ^ 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return mix32(h);
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

export function validateSeed(seed: unknown, where = 'seed'): number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw new IsosimError(
      where,
      'seed',
      `${JSON.stringify(seed)} is not a seed`,
      `give a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`,
    );
  }
  return seed;
}

export class Prng {
  /** The words this stream was derived from; forks derive from these, not from the state. */
  private readonly origin: readonly [number, number, number, number];
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  private constructor(origin: readonly [number, number, number, number]) {
    this.origin = origin;
    [this.s0, this.s1, this.s2, this.s3] = origin;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 0x9e3779b9;
  }

  /** The root stream of a run. Throws `IsosimError` for anything but a safe non-negative integer. */
  static fromSeed(seed: number): Prng {
    validateSeed(seed);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_32) >>> 0;
    return new Prng([
      mix32(lo ^ 0x243f6a88),
      mix32(hi ^ 0x85a308d3),
      mix32(lo ^ mix32(hi ^ 0x13198a2e)),
      mix32(hi ^ mix32(lo ^ 0x03707344)),
    ]);
  }

  /** An independent stream for a component, named by a label ("nic0", "dom1/web"). */
  fork(label: string): Prng {
    const [a, b, c, d] = this.origin;
    const h = hashLabel(label, a ^ rotl(d, 7));
    return new Prng([
      mix32(a ^ h),
      mix32(b ^ rotl(h, 11)),
      mix32(c ^ rotl(h, 19)),
      mix32(d ^ h ^ 0x5bd1e995),
    ]);
  }

  /** Next 32 random bits as an unsigned integer. */
  nextU32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform integer in [lo, hi], both inclusive, unbiased. Range up to 2^53. */
  int(lo: number, hi: number): number {
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || hi < lo) {
      throw new IsosimError('Prng.int', 'range', `[${lo}, ${hi}] is not an integer range`, 'pass lo <= hi');
    }
    const span = hi - lo + 1;
    if (span <= TWO_32) {
      // Reject the top partial bucket so every value is equally likely.
      const limit = TWO_32 - (TWO_32 % span);
      let x = this.nextU32();
      while (x >= limit) x = this.nextU32();
      return lo + (x % span);
    }
    const limit = 2 ** 53 - (2 ** 53 % span);
    let x = this.bits53();
    while (x >= limit) x = this.bits53();
    return lo + (x % span);
  }

  /** True with probability num/den (integers, 0 <= num <= den, den > 0). */
  chance(num: number, den: number): boolean {
    return this.int(0, den - 1) < num;
  }

  /** Uniform in [0, 1) with 53 bits. For sampling only; never stored as time. */
  float01(): number {
    return this.bits53() / 2 ** 53;
  }

  /** Exponentially distributed integer nanoseconds with the given mean (Poisson arrivals). */
  exponentialNs(meanNs: number): number {
    return Math.round(-Math.log(1 - this.float01()) * meanNs);
  }

  private bits53(): number {
    return (this.nextU32() >>> 5) * 67108864 + (this.nextU32() >>> 6);
  }
}
