import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DiskOp, type DiskRequest } from './disk.ts';
import { CFQ, createElevator, DEADLINE, type ElevatorKind } from './elevator.ts';

const MS = 1_000_000;
const SEED = 20_060_611; // fixed: the properties are reproducible; fast-check prints it on failure

interface Arrival {
  readonly atNs: number;
  readonly req: DiskRequest;
}

interface Served {
  readonly req: DiskRequest;
  /** Index of the `next` call that returned it. */
  readonly call: number;
}

interface Run {
  readonly served: Served[];
  /** By request id: the call before which it was added. */
  readonly addCall: number[];
  /** By request id: the call that returned it. */
  readonly dispatchCall: number[];
  readonly problems: string[];
}

/**
 * A device that keeps asking: call `next` every `serviceNs` (call i at time i·serviceNs)
 * with the head at the end of the last request returned, adding each arrival (at its
 * own time) before the first call at or after it. Stops when everything was returned.
 */
function drive(
  kind: ElevatorKind,
  arrivals: readonly Arrival[],
  serviceNs: number,
  before?: (call: number, headSector: number, nowNs: number) => Arrival[],
  minCalls = 0,
): Run {
  let now = 0;
  const elevator = createElevator(kind, () => now);
  const served: Served[] = [];
  const addCall: number[] = [];
  const dispatchCall: number[] = [];
  const problems: string[] = [];
  let head = 0;
  let a = 0;
  const add = (x: Arrival, call: number) => {
    elevator.add(x.req, x.atNs);
    addCall[x.req.id] = call;
  };
  for (let call = 0; a < arrivals.length || elevator.length > 0 || call < minCalls; call++) {
    now = call * serviceNs;
    while (a < arrivals.length && arrivals[a].atNs <= now) add(arrivals[a++], call);
    for (const x of before?.(call, head, now) ?? []) add(x, call);
    const length = elevator.length;
    const r = elevator.next(head, now);
    if (r === undefined) {
      if (length !== 0) problems.push(`call ${call}: nothing returned with ${length} queued`);
      continue;
    }
    if (elevator.length !== length - 1) problems.push(`call ${call}: length ${length} -> ${elevator.length}`);
    if (dispatchCall[r.id] !== undefined) problems.push(`request ${r.id} returned twice`);
    dispatchCall[r.id] = call;
    served.push({ req: r, call });
    head = r.sector + r.sectors;
  }
  return { served, addCall, dispatchCall, problems };
}

/** Random request streams: gaps, directions, sectors, lengths, guests; some sequential runs. */
function streams(guests: number, maxLength = 250) {
  const item = fc.record({
    gapNs: fc.integer({ min: 0, max: 5 * MS }),
    write: fc.integer({ min: 0, max: 2 }).map((x) => x === 0), // a third are writes
    sector: fc.integer({ min: 0, max: 2_000_000 }),
    sectors: fc.integer({ min: 1, max: 256 }),
    guest: fc.integer({ min: 1, max: guests }),
    sequential: fc.boolean(), // starts where this guest's previous request ended
  });
  return fc.array(item, { minLength: 1, maxLength, size: 'max' }).map((items) => {
    let atNs = 0;
    const lastEnd = new Map<number, number>();
    return items.map((x, id): Arrival => {
      atNs += x.gapNs;
      const prev = lastEnd.get(x.guest);
      const sector = x.sequential && prev !== undefined ? prev : x.sector;
      lastEnd.set(x.guest, sector + x.sectors);
      const op = x.write ? DiskOp.WRITE : DiskOp.READ;
      return { atNs, req: { id, guest: x.guest, op, sector, sectors: x.sectors } };
    });
  });
}

/** The id of the request `sweepPastStarved` tries to starve. */
const STARVED = 2;

/**
 * The case a one-way sweep starves: a read below the head (added at call 1) while a
 * sequential stream keeps the sweep going just above it (one more request each call,
 * for `calls` calls), so the sweep always has a next request.
 */
function sweepPastStarved(kind: ElevatorKind, serviceNs: number, sectors: number, calls: number): Run {
  const read = (id: number, sector: number, atNs: number, length = sectors): Arrival => ({
    atNs,
    req: { id, guest: 1, op: DiskOp.READ, sector, sectors: length },
  });
  let cursor = 1_000_000 + 8 + sectors;
  let id = STARVED + 1;
  const stream = (atNs: number): Arrival => {
    const x = read(id++, cursor, atNs);
    cursor += sectors;
    return x;
  };
  const start = [read(0, 1_000_000, 0, 8), read(1, 1_000_008, 0)];
  return drive(
    kind,
    start,
    serviceNs,
    (call, _head, nowNs) => {
      if (call === 1) return [read(STARVED, 0, nowNs, 8), stream(nowNs)];
      return call > 1 && call < calls ? [stream(nowNs)] : [];
    },
    calls,
  );
}

const serviceTimes = fc.integer({ min: 100_000, max: 15 * MS });

describe('elevators: conservation', () => {
  for (const kind of ['fifo', 'deadline', 'cfq'] as const) {
    it(`${kind} returns every request added exactly once, and nothing only when empty (fast-check)`, () => {
      fc.assert(
        fc.property(streams(4), serviceTimes, (arrivals, serviceNs) => {
          const r = drive(kind, arrivals, serviceNs);
          expect(r.problems).toEqual([]);
          expect(r.served.map((s) => s.req.id).sort((x, y) => x - y)).toEqual(arrivals.map((x) => x.req.id));
          for (const s of r.served) expect(s.req).toBe(arrivals[s.req.id].req);
        }),
        { seed: SEED, numRuns: 60 },
      );
    });
  }
});

describe('fifo (noop)', () => {
  it('returns requests in arrival order (fast-check)', () => {
    fc.assert(
      fc.property(streams(3), serviceTimes, (arrivals, serviceNs) => {
        const r = drive('fifo', arrivals, serviceNs);
        expect(r.served.map((s) => s.req.id)).toEqual(arrivals.map((x) => x.req.id));
      }),
      { seed: SEED + 1, numRuns: 40 },
    );
  });
});

describe('deadline', () => {
  /**
   * A request is due once it has expired and every older request of its direction has
   * been dispatched (then it heads the FIFO). From then on, at most the rest of a batch
   * (fifo_batch − 1), then for a read at most one write batch (writes_starved lets
   * writes in at most once between two read batches) and for a write at most two read
   * batches, and then the FIFO check serves it: 2·fifo_batch calls for a read,
   * 3·fifo_batch for a write, counting the call that serves it.
   */
  function dueCall(r: Run, arrivals: readonly Arrival[], x: Arrival, serviceNs: number): number {
    const expire = x.req.op === DiskOp.READ ? DEADLINE.readExpireNs : DEADLINE.writeExpireNs;
    let due = Math.max(r.addCall[x.req.id], Math.floor((x.atNs + expire) / serviceNs) + 1);
    for (const y of arrivals) {
      if (y.req.id >= x.req.id) break;
      if (y.req.op === x.req.op) due = Math.max(due, r.dispatchCall[y.req.id] + 1);
    }
    return due;
  }

  it('serves a read within 2·fifo_batch requests, a write within 3·fifo_batch, once due (fast-check)', () => {
    let late = 0;
    fc.assert(
      fc.property(streams(2, 300), serviceTimes, (arrivals, serviceNs) => {
        const r = drive('deadline', arrivals, serviceNs);
        for (const x of arrivals) {
          const due = dueCall(r, arrivals, x, serviceNs);
          const batches = x.req.op === DiskOp.READ ? 2 : 3;
          expect(r.dispatchCall[x.req.id]).toBeLessThanOrEqual(due + batches * DEADLINE.fifoBatch - 1);
          if (
            r.dispatchCall[x.req.id] >
            r.addCall[x.req.id] +
              (x.req.op === DiskOp.READ ? DEADLINE.readExpireNs : DEADLINE.writeExpireNs) / serviceNs
          )
            late++;
        }
      }),
      { seed: SEED + 2, numRuns: 80 },
    );
    expect(late).toBeGreaterThan(0); // the streams do overload it: some requests expire
  });

  it('does not let a one-way sweep starve a read: it waits read_expire + at most 2·fifo_batch requests (fast-check)', () => {
    fc.assert(
      fc.property(serviceTimes, fc.integer({ min: 1, max: 64 }), (serviceNs, sectors) => {
        const expiresCall = Math.floor((serviceNs + DEADLINE.readExpireNs) / serviceNs) + 1;
        const r = sweepPastStarved('deadline', serviceNs, sectors, expiresCall + 4 * DEADLINE.fifoBatch);
        expect(r.problems).toEqual([]);
        const at = r.dispatchCall[STARVED];
        expect(at).toBeGreaterThanOrEqual(expiresCall);
        expect(at).toBeLessThan(expiresCall + 2 * DEADLINE.fifoBatch);
      }),
      { seed: SEED + 3, numRuns: 40 },
    );
  });

  it('prefers reads, but lets writes in after writes_starved read batches (Linux 2.6.16 order)', () => {
    // Scattered requests: every dispatch starts a new batch (no request is sequential).
    const arrivals: Arrival[] = [];
    for (let i = 0; i < 12; i++) {
      arrivals.push({
        atNs: 0,
        req: { id: 2 * i, guest: 1, op: DiskOp.READ, sector: 10_000 * (i + 1), sectors: 8 },
      });
      arrivals.push({
        atNs: 0,
        req: { id: 2 * i + 1, guest: 1, op: DiskOp.WRITE, sector: 5_000 * (i + 1), sectors: 8 },
      });
    }
    const r = drive('deadline', arrivals, MS);
    const ops = r.served.map((s) => (s.req.op === DiskOp.READ ? 'R' : 'W')).join('');
    expect(ops).toBe(`${'RRW'.repeat(6)}WWWWWW`);
  });

  it('batches up to fifo_batch sequential requests in sector order', () => {
    const arrivals: Arrival[] = [];
    for (let i = 0; i < 40; i++)
      arrivals.push({ atNs: 0, req: { id: i, guest: 1, op: DiskOp.READ, sector: 8 * (39 - i), sectors: 8 } });
    arrivals.push({ atNs: 0, req: { id: 40, guest: 1, op: DiskOp.WRITE, sector: 0, sectors: 8 } });
    const r = drive('deadline', arrivals, MS);
    const ops = r.served.map((s) => (s.req.op === DiskOp.READ ? 'R' : 'W')).join('');
    // 16 in the batch, one more from the sweep at the next choice (deadline_dispatch_requests
    // keeps `batching` when it continues the sweep), then the starved write.
    expect(ops.indexOf('W')).toBe(DEADLINE.fifoBatch + 1);
    const reads = r.served.filter((s) => s.req.op === DiskOp.READ).map((s) => s.req.sector);
    expect(reads).toEqual([...reads].sort((x, y) => x - y));
  });
});

describe('cfq', () => {
  /** Runs of consecutive dispatches of one guest. */
  function runsOf(r: Run): { guest: number; first: number; last: number }[] {
    const runs: { guest: number; first: number; last: number }[] = [];
    for (const s of r.served) {
      const top = runs[runs.length - 1];
      if (top !== undefined && top.guest === s.req.guest) top.last = s.call;
      else runs.push({ guest: s.req.guest, first: s.call, last: s.call });
    }
    return runs;
  }

  it('serves a guest with queued requests within the slices of the other guests, one each (fast-check)', () => {
    const cases = fc
      .integer({ min: 1, max: 5 })
      .chain((guests) => fc.tuple(streams(guests, 200), serviceTimes));
    fc.assert(
      fc.property(cases, ([arrivals, serviceNs]) => {
        const r = drive('cfq', arrivals, serviceNs);
        const runs = runsOf(r);
        const guestCount = new Set(arrivals.map((x) => x.req.guest)).size;
        const callsPerSlice = Math.ceil(CFQ.sliceSyncNs / serviceNs);
        for (const x of arrivals) {
          const g = x.req.guest;
          const added = r.addCall[x.req.id];
          // The first dispatch of this guest at or after the request was added.
          const served = r.served.find((s) => s.call >= added && s.req.guest === g) as Served;
          const others = runs.filter((u) => u.guest !== g && u.last >= added && u.first < served.call);
          expect(others.length).toBeLessThanOrEqual(guestCount - 1);
          expect(served.call - added).toBeLessThanOrEqual((guestCount - 1) * callsPerSlice);
        }
      }),
      { seed: SEED + 4, numRuns: 60 },
    );
  });

  it('gives each backlogged queue its slice in turn: 100 ms for reads, 40 ms for writes', () => {
    const arrivals: Arrival[] = [];
    for (let i = 0; i < 400; i++) {
      arrivals.push({ atNs: 0, req: { id: 2 * i, guest: 1, op: DiskOp.READ, sector: 8 * i, sectors: 8 } });
      arrivals.push({
        atNs: 0,
        req: { id: 2 * i + 1, guest: 2, op: DiskOp.WRITE, sector: 8 * i, sectors: 8 },
      });
    }
    const r = drive('cfq', arrivals, MS);
    const runs = runsOf(r).map((u) => [u.guest, u.last - u.first + 1]);
    expect(runs.slice(0, 6)).toEqual([
      [1, 100],
      [2, 40],
      [1, 100],
      [2, 40],
      [1, 100],
      [2, 40],
    ]);
  });

  it('serves an expired request first, so a sweep inside one queue cannot starve it (fast-check)', () => {
    fc.assert(
      fc.property(serviceTimes, fc.integer({ min: 1, max: 64 }), (serviceNs, sectors) => {
        const expiresCall = Math.floor((serviceNs + CFQ.fifoExpireSyncNs) / serviceNs) + 1;
        const r = sweepPastStarved('cfq', serviceNs, sectors, expiresCall + 10);
        expect(r.problems).toEqual([]);
        expect(r.dispatchCall[STARVED]).toBe(expiresCall);
      }),
      { seed: SEED + 5, numRuns: 40 },
    );
  });
});
