/**
 * A small end-to-end model that exercises every part of the foundation: a packet
 * source (a plain kernel endpoint, as hardware is) fills a shared ring and notifies an
 * event channel when the ring says so; the channel's upcall reaches an XState
 * consumer actor over RxJS; the consumer works through the ring in batches, spending
 * a service time per batch (an XState `after` timer on the kernel's clock).
 *
 * The consumer polls the way netback and NAPI do: an upcall wakes it; while busy it
 * leaves the ring's event index where it was, so the producer does not notify again;
 * when a batch's service time ends it takes whatever arrived meanwhile, and only when
 * the ring is empty does it re-arm (`finalCheckForRequests`) and go idle. Batching
 * comes from the model, not from a tuning knob: the busier the consumer, the larger
 * its batches and the fewer its interrupts. Packet counters live in a plain object
 * outside XState's context, as hot counters should.
 *
 * It is the shape of netback→netfront without the domains and schedulers; the
 * benchmark and the determinism tests run it, and `isosim demo` prints its result.
 */
import { type BackRing, createRing, EventChannelSet, Kernel, type LogWriter, Priority } from '@isosim/core';
import { setup } from 'xstate';
import { ActorHost } from '../host/actorHost.ts';
import { connectChannel, type PendingEvent } from '../host/channelBridge.ts';

export interface ConsumerCounters {
  packets: number;
  bytes: number;
  batches: number;
  /** Size of the batch being served. */
  batch: number;
}

export interface ConsumerInput {
  readonly ring: BackRing<number, number>;
  readonly channels: EventChannelSet;
  readonly port: number;
  readonly counters: ConsumerCounters;
  /** Fixed cost of a batch, in XState delay units (ms). */
  readonly batchMs: number;
  /** Cost of each packet in a batch, ms. */
  readonly packetMs: number;
}

/** Takes every published request, acknowledging each slot. */
function takeBatch({ ring, channels, port, counters }: ConsumerInput): void {
  channels.clearPending(port);
  let n = 0;
  for (let bytes = ring.takeRequest(); bytes !== undefined; bytes = ring.takeRequest()) {
    n++;
    counters.bytes += bytes;
    ring.putResponse(bytes);
  }
  ring.pushResponsesAndCheckNotify();
  counters.packets += n;
  counters.batches++;
  counters.batch = n;
}

export const consumerMachine = setup({
  types: {
    input: {} as ConsumerInput,
    context: {} as ConsumerInput,
    events: {} as PendingEvent,
  },
  actions: {
    takeBatch: ({ context }) => takeBatch(context),
    rearm: ({ context }) => {
      context.channels.clearPending(context.port);
      context.ring.finalCheckForRequests();
    },
  },
  guards: {
    hasWork: ({ context }) => context.ring.unconsumedRequests() > 0,
  },
  delays: {
    service: ({ context }) => context.batchMs + context.packetMs * context.counters.batch,
  },
}).createMachine({
  id: 'consumer',
  context: ({ input }) => input,
  initial: 'idle',
  states: {
    idle: {
      entry: 'rearm',
      always: { guard: 'hasWork', target: 'busy' },
      on: { 'evtchn.pending': 'busy' },
    },
    busy: {
      entry: 'takeBatch',
      after: {
        service: [{ guard: 'hasWork', target: 'busy', reenter: true }, { target: 'idle' }],
      },
    },
  },
});

export interface PipelineOptions {
  readonly seed: number;
  /** Mean gap between packets, ns (exponential arrivals). */
  readonly meanGapNs?: number;
  /** Delay from notification to upcall, ns. */
  readonly upcallLatencyNs?: number;
  readonly ringSize?: number;
  /** Fixed service time per batch, ns. */
  readonly batchNs?: number;
  /** Service time per packet, ns. */
  readonly packetNs?: number;
  readonly log?: LogWriter;
}

export interface PipelineResult {
  readonly offered: number;
  readonly delivered: number;
  readonly droppedRingFull: number;
  readonly batches: number;
  readonly notifies: number;
  readonly upcalls: number;
  readonly events: number;
}

export class PacketPipeline {
  readonly kernel: Kernel;
  readonly host: ActorHost;
  readonly counters: ConsumerCounters = { packets: 0, bytes: 0, batches: 0, batch: 0 };
  private offered = 0;
  private dropped = 0;
  private readonly channels: EventChannelSet;

  constructor(options: PipelineOptions) {
    const meanGapNs = options.meanGapNs ?? 1_000;
    const kernel = new Kernel({ seed: options.seed, log: options.log });
    this.kernel = kernel;
    this.host = new ActorHost(kernel);
    const rng = kernel.prng.fork('source');
    const { front, back } = createRing<number, number>(options.ringSize ?? 256);
    this.channels = new EventChannelSet(kernel, 'consumer.evtchn', {
      latencyNs: options.upcallLatencyNs ?? 5_000,
    });
    const port = this.channels.bind('rx');
    const consumer = this.host.spawn('consumer', consumerMachine, {
      input: {
        ring: back,
        channels: this.channels,
        port,
        counters: this.counters,
        batchMs: (options.batchNs ?? 2_000) / 1e6,
        packetMs: (options.packetNs ?? 300) / 1e6,
      },
    });
    connectChannel(this.host, this.channels, consumer);

    const rx = kernel.type('source.packet', ['bytes']);
    const source = kernel.endpoint('source', (ev) => {
      this.offered++;
      while (front.takeResponse() !== undefined) {}
      if (!front.putRequest(ev.a0)) this.dropped++;
      else if (front.pushRequestsAndCheckNotify()) this.channels.notify(port, source);
      kernel.postIn(rng.exponentialNs(meanGapNs), Priority.HARDWARE, source, rx, source, rng.int(64, 1500));
    });
    kernel.post(0, Priority.HARDWARE, source, rx, source, rng.int(64, 1500));
  }

  /** Runs for `durationNs` of simulated time. */
  run(durationNs: number): PipelineResult {
    this.kernel.runUntil(this.kernel.nowNs + durationNs);
    return this.result();
  }

  result(): PipelineResult {
    return {
      offered: this.offered,
      delivered: this.counters.packets,
      droppedRingFull: this.dropped,
      batches: this.counters.batches,
      notifies: this.channels.stats.notifies,
      upcalls: this.channels.stats.upcalls,
      events: this.kernel.dispatched,
    };
  }
}
