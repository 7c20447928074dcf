/**
 * The log's running hash: 64 bits from two independent 32-bit lanes, each a
 * murmur3-style word mix, fed the log's bytes as one stream: the magic and the header,
 * then every block's payload (schema 2). Words that straddle two
 * `update` calls are carried over, so the digest depends only on the bytes, never on
 * how they were split into blocks. `digest()` finalises a copy and leaves the state
 * as it was, so it can be read after every block (the hash chain in the trailers).
 */
const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const D1 = 0x85ebca77;
const D2 = 0xc2b2ae3d;

/** murmur3's 32-bit finaliser: a bijection on 32-bit words with full avalanche. */
export function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class RunningHash {
  private h1 = 0x6a09e667;
  private h2 = 0xbb67ae85;
  private carry = 0;
  private carryLen = 0;
  private length = 0;

  update(bytes: Uint8Array, start = 0, end = bytes.length): void {
    this.length += end - start;
    let i = start;
    while (this.carryLen !== 0 && i < end) {
      this.carry |= bytes[i++] << (8 * this.carryLen);
      if (++this.carryLen === 4) {
        this.mixWord(this.carry);
        this.carry = 0;
        this.carryLen = 0;
      }
    }
    let h1 = this.h1;
    let h2 = this.h2;
    const wordsEnd = end - ((end - i) & 3);
    for (; i < wordsEnd; i += 4) {
      const k = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
      let k1 = Math.imul(k, C1);
      k1 = Math.imul((k1 << 15) | (k1 >>> 17), C2);
      h1 ^= k1;
      h1 = (Math.imul((h1 << 13) | (h1 >>> 19), 5) + 0xe6546b64) | 0;
      let k2 = Math.imul(k, D1);
      k2 = Math.imul((k2 << 13) | (k2 >>> 19), D2);
      h2 ^= k2;
      h2 = (Math.imul((h2 << 17) | (h2 >>> 15), 5) + 0x561ccd1b) | 0;
    }
    this.h1 = h1;
    this.h2 = h2;
    for (; i < end; i++) this.carry |= bytes[i] << (8 * this.carryLen++);
  }

  /** One word through both lanes; the loop in `update` is this, inlined. */
  private mixWord(k: number): void {
    let k1 = Math.imul(k, C1);
    k1 = Math.imul((k1 << 15) | (k1 >>> 17), C2);
    this.h1 ^= k1;
    this.h1 = (Math.imul((this.h1 << 13) | (this.h1 >>> 19), 5) + 0xe6546b64) | 0;
    let k2 = Math.imul(k, D1);
    k2 = Math.imul((k2 << 13) | (k2 >>> 19), D2);
    this.h2 ^= k2;
    this.h2 = (Math.imul((this.h2 << 17) | (this.h2 >>> 15), 5) + 0x561ccd1b) | 0;
  }

  /** The state as five numbers, to persist (a replay index) and `restore` later. */
  save(): [number, number, number, number, number] {
    return [this.h1, this.h2, this.carry, this.carryLen, this.length];
  }

  static restore(state: readonly number[]): RunningHash {
    const h = new RunningHash();
    [h.h1, h.h2, h.carry, h.carryLen, h.length] = state as [number, number, number, number, number];
    return h;
  }

  clone(): RunningHash {
    const copy = new RunningHash();
    copy.h1 = this.h1;
    copy.h2 = this.h2;
    copy.carry = this.carry;
    copy.carryLen = this.carryLen;
    copy.length = this.length;
    return copy;
  }

  /** The 64-bit digest so far as two unsigned 32-bit words `[lo, hi]`. */
  digestWords(): [number, number] {
    let h1 = this.h1;
    let h2 = this.h2;
    if (this.carryLen !== 0) {
      h1 ^= Math.imul(Math.imul(this.carry, C1), C2);
      h2 ^= Math.imul(Math.imul(this.carry, D1), D2);
    }
    const lenLo = this.length >>> 0;
    const lenHi = Math.floor(this.length / 4294967296) >>> 0;
    h1 = fmix(h1 ^ lenLo ^ Math.imul(lenHi, 0x9e3779b1));
    h2 = fmix(h2 ^ lenLo ^ Math.imul(lenHi, 0x7f4a7c15));
    h1 = (h1 + h2) >>> 0;
    h2 = (h2 + h1) >>> 0;
    return [h1, h2];
  }

  /** The digest so far as 16 lowercase hex digits (high word first). */
  digest(): string {
    return digestHex(this.digestWords());
  }
}

export function digestHex([lo, hi]: readonly [number, number]): string {
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

const frame = new Uint8Array(12);
const frameView = new DataView(frame.buffer);

/**
 * A block's trailer (schema 2): the running digest after its payload, XOR the digest
 * of the block header's three counts (payload bytes, records, definitions) hashed on
 * their own. So the trailer vouches for the block header too, while the running
 * digest, and the log's digest with it, still depends only on the records.
 */
export function blockTrailerWords(
  running: RunningHash,
  payloadBytes: number,
  records: number,
  definitions: number,
): [number, number] {
  frameView.setUint32(0, payloadBytes, true);
  frameView.setUint32(4, records, true);
  frameView.setUint32(8, definitions, true);
  const counts = new RunningHash();
  counts.update(frame);
  const [c0, c1] = counts.digestWords();
  const [r0, r1] = running.digestWords();
  return [(r0 ^ c0) >>> 0, (r1 ^ c1) >>> 0];
}
