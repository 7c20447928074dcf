export type {
  ConsumerCounters,
  ConsumerInput,
  PipelineOptions,
  PipelineResult,
} from './examples/packetPipeline.ts';
export { consumerMachine, PacketPipeline } from './examples/packetPipeline.ts';
export type { ActorHostOptions, HostEvent, HostedActor } from './host/actorHost.ts';
export { ActorHost, stateKey } from './host/actorHost.ts';
export type { PendingEvent } from './host/channelBridge.ts';
export { connectChannel, hasPort, portsOf } from './host/channelBridge.ts';
