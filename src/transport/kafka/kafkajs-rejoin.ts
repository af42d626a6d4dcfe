/**
 * A revoke hook for kafkajs, which has none: before one of our consumers rejoins its group, its
 * revoke callback runs (drain in-flight work, commit) while it still owns its partitions, so the
 * group cannot hand them to another member meanwhile.
 *
 * kafkajs offers no public way to do this: its REBALANCING event is emitted without being awaited
 * right before the rejoin, and a partition assigner's protocol() is synchronous and its assign()
 * runs only on the leader. So ConsumerGroup.prototype.joinAndSync is wrapped, found by its module
 * path inside kafkajs 2.x (pinned by package.json; the loader refuses any other shape). This is
 * the reason `transport.driver: auto` prefers @confluentinc/kafka-javascript, whose async
 * rebalance callback does the same through its public API: kafkajs is the pure-JS fallback.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface KafkaJSConsumerGroup {
  groupId: string;
  memberId: string | null;
  heartbeat(opts: { interval: number }): Promise<void>;
  joinAndSync(): Promise<void>;
}

export type RejoinHook = (group: KafkaJSConsumerGroup) => Promise<void>;

/** Before-rejoin hooks of our kafkajs consumers, by group id + member id (set at each GROUP_JOIN). */
const rejoinHooks = new Map<string, RejoinHook>();
const PATCHED = Symbol.for('sluice.kafkajs.joinAndSync');

export const rejoinHookKey = (groupId: string, memberId: string): string => `${groupId}\u0000${memberId}`;

export function setRejoinHook(key: string, hook: RejoinHook): void {
  rejoinHooks.set(key, hook);
}

export function deleteRejoinHook(key: string): void {
  rejoinHooks.delete(key);
}

/** Installs the wrapper once per process; idempotent. */
export function installKafkaJSRejoinHook(): void {
  const ConsumerGroup = require('kafkajs/src/consumer/consumerGroup.js') as { prototype: KafkaJSConsumerGroup & Record<symbol, unknown> };
  const proto = ConsumerGroup.prototype;
  if (proto[PATCHED]) return;
  const original = proto.joinAndSync;
  if (typeof original !== 'function') throw new Error('kafkajs ConsumerGroup.joinAndSync not found: unsupported kafkajs version');
  proto.joinAndSync = async function joinAndSync(this: KafkaJSConsumerGroup) {
    // First join (no member id yet) and re-joins after being fenced have nothing of ours to revoke.
    const hook = this.memberId ? rejoinHooks.get(rejoinHookKey(this.groupId, this.memberId)) : undefined;
    if (hook) await hook(this);
    return original.call(this);
  };
  proto[PATCHED] = true;
}
