/**
 * Shared I/O rings between a front end (in a guest) and a back end (in the driver
 * domain), with the semantics of Xen's `xen/include/public/io/ring.h`, written anew.
 *
 * A shared ring has `size` slots (a power of two) and four shared indices:
 * `reqProd`/`reqEvent` and `rspProd`/`rspEvent`. Each side keeps private indices
 * (front: `reqProdPvt`, `rspCons`; back: `rspProdPvt`, `reqCons`). Indices are free-
 * running unsigned 32-bit counters; slot = index & (size - 1).
 *
 * Notification avoidance: a producer publishes a batch and notifies the peer only if
 * the batch crossed the peer's event index (`new - event < new - old`, unsigned).
 * A consumer that finds no more work sets its event index to `cons + 1` and looks once
 * more (the "final check"), closing the race with a producer that published meanwhile.
 *
 * Flow control: the front end may have at most `size` requests outstanding (issued
 * but whose responses it has not consumed); `putRequest` refuses beyond that.
 */
import { InvariantError } from './errors.ts';

const u32 = (x: number): number => x >>> 0;

export class SharedRing<Req, Rsp> {
  readonly size: number;
  readonly mask: number;
  reqProd = 0;
  reqEvent = 1;
  rspProd = 0;
  rspEvent = 1;
  readonly requests: (Req | undefined)[];
  readonly responses: (Rsp | undefined)[];

  constructor(size = 256) {
    if (!(size > 0 && (size & (size - 1)) === 0 && size <= 1 << 20)) {
      throw new InvariantError(`ring size ${size} is not a power of two up to 2^20`);
    }
    this.size = size;
    this.mask = size - 1;
    this.requests = new Array(size).fill(undefined);
    this.responses = new Array(size).fill(undefined);
  }
}

export class FrontRing<Req, Rsp> {
  reqProdPvt = 0;
  rspCons = 0;
  constructor(readonly shared: SharedRing<Req, Rsp>) {}

  /** Requests that may still be issued before the ring is full. */
  freeRequests(): number {
    return this.shared.size - u32(this.reqProdPvt - this.rspCons);
  }

  isFull(): boolean {
    return this.freeRequests() === 0;
  }

  /** Writes a request privately (not yet visible). False if the ring is full. */
  putRequest(req: Req): boolean {
    if (this.isFull()) return false;
    this.shared.requests[this.reqProdPvt & this.shared.mask] = req;
    this.reqProdPvt = u32(this.reqProdPvt + 1);
    return true;
  }

  /** Publishes private requests; true if the back end must be notified. */
  pushRequestsAndCheckNotify(): boolean {
    const s = this.shared;
    const old = s.reqProd;
    const now = this.reqProdPvt;
    s.reqProd = now;
    return u32(now - s.reqEvent) < u32(now - old);
  }

  unconsumedResponses(): number {
    return u32(this.shared.rspProd - this.rspCons);
  }

  takeResponse(): Rsp | undefined {
    if (this.unconsumedResponses() === 0) return undefined;
    const s = this.shared;
    const i = this.rspCons & s.mask;
    const rsp = s.responses[i];
    s.responses[i] = undefined;
    this.rspCons = u32(this.rspCons + 1);
    return rsp;
  }

  /** Re-arms the response event index; true if responses arrived meanwhile. */
  finalCheckForResponses(): boolean {
    if (this.unconsumedResponses() > 0) return true;
    this.shared.rspEvent = u32(this.rspCons + 1);
    return this.unconsumedResponses() > 0;
  }
}

export class BackRing<Req, Rsp> {
  rspProdPvt = 0;
  reqCons = 0;
  constructor(readonly shared: SharedRing<Req, Rsp>) {}

  /** Requests published by the front end and not yet taken here. */
  unconsumedRequests(): number {
    const published = u32(this.shared.reqProd - this.reqCons);
    const room = this.shared.size - u32(this.reqCons - this.rspProdPvt);
    return Math.min(published, room);
  }

  takeRequest(): Req | undefined {
    if (this.unconsumedRequests() === 0) return undefined;
    const s = this.shared;
    const i = this.reqCons & s.mask;
    const req = s.requests[i];
    s.requests[i] = undefined;
    this.reqCons = u32(this.reqCons + 1);
    return req;
  }

  /** Writes a response privately. Only as many responses as requests taken. */
  putResponse(rsp: Rsp): void {
    if (u32(this.reqCons - this.rspProdPvt) === 0) {
      throw new InvariantError('ring: response without an outstanding request');
    }
    this.shared.responses[this.rspProdPvt & this.shared.mask] = rsp;
    this.rspProdPvt = u32(this.rspProdPvt + 1);
  }

  /** Publishes private responses; true if the front end must be notified. */
  pushResponsesAndCheckNotify(): boolean {
    const s = this.shared;
    const old = s.rspProd;
    const now = this.rspProdPvt;
    s.rspProd = now;
    return u32(now - s.rspEvent) < u32(now - old);
  }

  /** Re-arms the request event index; true if requests arrived meanwhile. */
  finalCheckForRequests(): boolean {
    if (this.unconsumedRequests() > 0) return true;
    this.shared.reqEvent = u32(this.reqCons + 1);
    return this.unconsumedRequests() > 0;
  }
}

/** A shared ring with its two ends, as netfront and netback see it. */
export function createRing<Req, Rsp>(
  size = 256,
): {
  shared: SharedRing<Req, Rsp>;
  front: FrontRing<Req, Rsp>;
  back: BackRing<Req, Rsp>;
} {
  const shared = new SharedRing<Req, Rsp>(size);
  return { shared, front: new FrontRing(shared), back: new BackRing(shared) };
}
