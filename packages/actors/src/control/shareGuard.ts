/**
 * ShareGuard (paper section 5; spec "ShareGuard (control)"): caps the IDD CPU spent on
 * behalf of a guest by cutting the guest's traffic for a while.
 *
 * Every `t` it reads, for each limited guest i, `used_i`: the fraction of one CPU the
 * IDD spent for i over the last `t`. If `used_i > limit_i`, it blocks i's traffic in
 * the IDD for `t_def = t * ceil(used_i / limit_i - 1)`, so the average over `t + t_def`
 * comes back to at most the limit; then restores it. Blocking drops i's inbound
 * packets in the IDD after the driver has paid for receiving them, and i's outbound
 * packets in netback before they enter the IDD's stack (netback.ts).
 *
 * Reading of the spec. The spec says `t_def = t * (used / limit - 1)` "rounded down to
 * whole t"; rounding down makes `t_def = 0` whenever `used < 2 * limit`, so a guest at
 * 1.9 times its limit would never be stopped, and the average over `t + t_def` would
 * exceed the limit for any non-integer ratio. We round up, which keeps the guarantee
 * the paper states ("the average over that interval complies"). The paper's worked
 * example (limit 5%, used 30%, t = 0.5 s: t_def = 2.5 s) is the same either way.
 *
 * Several driver domains (issue 16): one ShareGuard per driver domain where a guest is
 * limited, each reading what that domain spent for the guest and acting in its own
 * backends. In a domain that runs blkback, blocking *holds* the guest's block requests
 * in its ring (block/blkback.ts) instead of dropping them: a block request cannot be
 * dropped as a packet can without the guest's file system seeing an I/O error. The t_def
 * rule is the same, `t_def = t · ceil(used / limit − 1)`; what differs is what still
 * costs during the hold: no new request is taken, so the domain spends for the guest
 * only on the requests it had already taken (at most `MAX_PENDING_REQS`, each completing
 * as usual), a bounded amount, where a network block keeps paying for inbound packets
 * until their senders back off. `docs/disk.md` and invariant 3 of docs/verification.md
 * give the bound.
 *
 * Every action is in the log: `shareguard.block` (guest, t_def, used and limit in
 * parts per million) and `shareguard.restore` (guest), from the endpoint `shareguard`
 * (one driver domain) or `shareguard.<driver domain>` (several).
 */
import { IsosimError, type Kernel } from '@isosim/core';
import type { DebtSource } from './debtCollector.ts';

export interface ShareGuardLimit {
  readonly guest: number;
  /** Fraction of one CPU, 0 < limit < the IDD's share. */
  readonly limit: number;
}

export interface ShareGuardAction {
  readonly timeNs: number;
  readonly guest: number;
  readonly kind: 'block' | 'restore';
  readonly tdefNs: number;
  readonly used: number;
}

export class ShareGuard {
  readonly actions: ShareGuardAction[] = [];
  private readonly last: number[] = [];
  private readonly blockedUntil: number[] = [];
  private readonly blockType: number;
  private readonly restoreType: number;
  private readonly endpoint: number;
  /** Called when a guest's traffic is restored (blkback re-polls its held requests). */
  onRestore: ((guest: number) => void) | undefined;

  constructor(
    private readonly kernel: Kernel,
    readonly periodNs: number,
    readonly limits: readonly ShareGuardLimit[],
    /** The IDD's own reservation, s_IDD / p_IDD. */
    iddShare: number,
    private readonly source: DebtSource,
    where = 'shareGuard',
    /** The endpoint its records name: `shareguard`, or per driver domain `shareguard.<name>`. */
    name = 'shareguard',
  ) {
    for (const l of limits) {
      if (!(l.limit > 0 && l.limit < iddShare)) {
        throw new IsosimError(
          where,
          `limits[${l.guest}]`,
          `a limit of ${(100 * l.limit).toFixed(2)}% is not below the IDD's share of ${(100 * iddShare).toFixed(2)}%`,
          "give each guest a limit above 0 and below the IDD's CPU share (limit_i < CPUshare_IDD)",
        );
      }
    }
    this.blockType = kernel.type('shareguard.block', ['guest', 'tdefNs', 'usedPpm', 'limitPpm']);
    this.restoreType = kernel.type('shareguard.restore', ['guest']);
    this.endpoint = kernel.registry.name(name);
  }

  /** Whether the guest's traffic is being dropped now. */
  blocked(guest: number): boolean {
    return this.kernel.nowNs < (this.blockedUntil[guest] ?? 0);
  }

  /** One interval `t` has passed. */
  tick(): void {
    const now = this.kernel.nowNs;
    const totals = this.source();
    for (const { guest, limit } of this.limits) {
      const total = totals[guest] ?? 0;
      const used = (total - (this.last[guest] ?? 0)) / this.periodNs;
      this.last[guest] = total;
      const until = this.blockedUntil[guest] ?? 0;
      if (until > 0 && now >= until) {
        this.blockedUntil[guest] = 0;
        this.kernel.record(this.restoreType, this.endpoint, this.endpoint, guest);
        this.actions.push({ timeNs: now, guest, kind: 'restore', tdefNs: 0, used });
        this.onRestore?.(guest);
      }
      if (this.blocked(guest) || used <= limit) continue;
      const tdefNs = this.periodNs * Math.ceil(used / limit - 1 - 1e-9);
      if (tdefNs <= 0) continue;
      this.blockedUntil[guest] = now + tdefNs;
      const ppm = (x: number) => Math.round(x * 1e6);
      this.kernel.record(this.blockType, this.endpoint, this.endpoint, guest, tdefNs, ppm(used), ppm(limit));
      this.actions.push({ timeNs: now, guest, kind: 'block', tdefNs, used });
    }
  }
}
