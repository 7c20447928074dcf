import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRing } from './ring.ts';

describe('shared rings (ring.h semantics)', () => {
  it('notifies only when a batch crosses the consumer event index', () => {
    const { front, back } = createRing<number, number>(8);
    front.putRequest(1);
    expect(front.pushRequestsAndCheckNotify()).toBe(true); // req_event starts at 1
    front.putRequest(2);
    expect(front.pushRequestsAndCheckNotify()).toBe(false); // consumer has not re-armed
    expect(back.takeRequest()).toBe(1);
    expect(back.takeRequest()).toBe(2);
    expect(back.finalCheckForRequests()).toBe(false); // re-arms: req_event = 3
    front.putRequest(3);
    expect(front.pushRequestsAndCheckNotify()).toBe(true);
  });

  it("final check catches requests published between the consumer's last look and re-arming", () => {
    const { front, back } = createRing<number, number>(8);
    front.putRequest(1);
    front.pushRequestsAndCheckNotify();
    back.takeRequest();
    front.putRequest(2);
    expect(front.pushRequestsAndCheckNotify()).toBe(false);
    expect(back.finalCheckForRequests()).toBe(true);
  });

  it('same for responses', () => {
    const { front, back } = createRing<number, number>(8);
    front.putRequest(1);
    front.putRequest(2);
    front.pushRequestsAndCheckNotify();
    back.takeRequest();
    back.takeRequest();
    back.putResponse(10);
    expect(back.pushResponsesAndCheckNotify()).toBe(true);
    back.putResponse(20);
    expect(back.pushResponsesAndCheckNotify()).toBe(false);
    expect(front.takeResponse()).toBe(10);
    expect(front.takeResponse()).toBe(20);
    expect(front.finalCheckForResponses()).toBe(false);
  });

  it('refuses more than `size` outstanding requests and frees slots as responses are consumed', () => {
    const { front, back } = createRing<number, number>(4);
    for (let i = 0; i < 4; i++) expect(front.putRequest(i)).toBe(true);
    expect(front.putRequest(9)).toBe(false);
    front.pushRequestsAndCheckNotify();
    back.takeRequest();
    back.putResponse(0);
    back.pushResponsesAndCheckNotify();
    expect(front.putRequest(9)).toBe(false); // response not consumed yet
    front.takeResponse();
    expect(front.putRequest(9)).toBe(true);
  });

  it('keeps working across the 32-bit wrap of its indices', () => {
    const { shared, front, back } = createRing<number, number>(4);
    const start = 2 ** 32 - 3;
    shared.reqProd = shared.rspProd = start;
    shared.reqEvent = shared.rspEvent = (start + 1) >>> 0;
    front.reqProdPvt = front.rspCons = start;
    back.rspProdPvt = back.reqCons = start;
    for (let round = 0; round < 5; round++) {
      front.putRequest(round);
      expect(front.pushRequestsAndCheckNotify()).toBe(true);
      expect(back.unconsumedRequests()).toBe(1);
      expect(back.takeRequest()).toBe(round);
      back.putResponse(round);
      back.pushResponsesAndCheckNotify();
      expect(front.takeResponse()).toBe(round);
      expect(back.finalCheckForRequests()).toBe(false);
      expect(front.finalCheckForResponses()).toBe(false);
    }
    expect(front.reqProdPvt).toBe((start + 5) >>> 0);
  });

  it('delivers every item once and in order under random operation sequences', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 300 }), (ops) => {
        const { front, back } = createRing<number, number>(8);
        let next = 0;
        let expectReq = 0;
        let expectRsp = 0;
        for (const op of ops) {
          if (op === 0) {
            if (front.putRequest(next)) next++;
            front.pushRequestsAndCheckNotify();
          } else if (op === 1) {
            const r = back.takeRequest();
            if (r !== undefined) {
              expect(r).toBe(expectReq++);
              back.putResponse(r);
            }
          } else if (op === 2) {
            back.pushResponsesAndCheckNotify();
          } else {
            const r = front.takeResponse();
            if (r !== undefined) expect(r).toBe(expectRsp++);
          }
          expect(front.freeRequests()).toBeGreaterThanOrEqual(0);
          expect(expectRsp).toBeLessThanOrEqual(expectReq);
        }
      }),
      { seed: 7, numRuns: 200 },
    );
  });
});
