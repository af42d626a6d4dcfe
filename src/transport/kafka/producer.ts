/**
 * The producer side of the transport: batches of keyed records to Kafka, acknowledged by the broker
 * before `send` resolves, in the order they were given (docs/guarantees.md: ack-after-durable,
 * ordered-retries).
 *
 * - acks=all and the idempotent producer, with each driver's in-flight limit for idempotence.
 * - The partition is computed here, murmur2 of the key bytes over the topic's actual partition
 *   count, exactly as Java's producer does, and passed explicitly: both drivers agree with Java.
 * - Sends run one after another. If one fails, every send issued before the failure and still
 *   waiting is rejected too, without being sent: nothing overtakes a failed batch. Retry them in
 *   the original order (the idempotent producer makes a retried batch land once, after what went
 *   before; an ack lost in transit can still duplicate it, which the apply side tolerates).
 */
import { channel } from 'node:diagnostics_channel';
import { SluiceError } from '../../core/errors.js';
import { partitionCounts } from './admin.js';
import { transportError, TRANSPORT_ERROR_CODE } from './errors.js';
import { partitionFor } from './murmur2.js';
import { connect, type ProducerOptions } from './options.js';
import type { DriverKafka, DriverMessage, DriverProducer, KafkaConstructor, ProduceRecord } from './types.js';

const produceChannel = channel('sluice:transport:produce');

export class KafkaProducer {
  readonly #Kafka: KafkaConstructor;
  readonly #kafka: DriverKafka;
  readonly #producer: DriverProducer;
  readonly #partitions = new Map<string, number>();
  #connected = false;
  #tail: Promise<unknown> = Promise.resolve();
  /** Bumped by every failed send; a send queued under an older epoch is rejected unsent. */
  #epoch = 0;
  #lastFailure: SluiceError | undefined;

  constructor(opts: ProducerOptions) {
    const { Kafka, kafka } = connect(opts, 'producer');
    this.#Kafka = Kafka;
    this.#kafka = kafka;
    this.#producer = kafka.producer({ deliveryTimeoutMs: opts.deliveryTimeoutMs ?? 120_000 });
  }

  get driverName(): string {
    return this.#Kafka.driverName;
  }

  async connect(): Promise<void> {
    if (this.#connected) return;
    try {
      await this.#producer.connect();
      this.#connected = true;
    } catch (err) {
      throw transportError(this.#Kafka, 'producer connect', err);
    }
  }

  /** The topic's partition count as the producer hashes over it (read once per topic). */
  async partitionCount(topic: string): Promise<number> {
    const known = this.#partitions.get(topic);
    if (known !== undefined) return known;
    const admin = this.#kafka.admin();
    try {
      await admin.connect();
      const counts = await partitionCounts(admin, [topic]);
      const n = counts.get(topic) ?? 0;
      if (n < 1) {
        throw new SluiceError(
          TRANSPORT_ERROR_CODE,
          `Kafka topic "${topic}" does not exist; sluice creates its topics at start (ensureTopics)`,
          {
            retriable: false,
            context: { topic },
          },
        );
      }
      this.#partitions.set(topic, n);
      return n;
    } catch (err) {
      throw transportError(this.#Kafka, 'topic metadata', err, { topic });
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }

  /**
   * Resolves once the broker acknowledged every record (acks=all); rejects with a SluiceError
   * (`retriable` set) otherwise, in which case any subset of the records may have been written.
   */
  send(records: readonly ProduceRecord[]): Promise<void> {
    const epoch = this.#epoch;
    const run = async () => {
      if (epoch !== this.#epoch) {
        throw new SluiceError(TRANSPORT_ERROR_CODE, 'Kafka send not attempted: an earlier send failed; retry the sends in order', {
          retriable: true,
          cause: this.#lastFailure,
        });
      }
      try {
        await this.#send(records);
      } catch (err) {
        this.#epoch++;
        this.#lastFailure = transportError(this.#Kafka, 'send', err, { records: records.length });
        throw this.#lastFailure;
      }
    };
    const p = this.#tail.then(run, run);
    this.#tail = p.catch(() => {});
    return p;
  }

  async #send(records: readonly ProduceRecord[]): Promise<void> {
    if (records.length === 0) return;
    if (!this.#connected) await this.connect();
    const started = performance.now();
    const byTopic = new Map<string, DriverMessage[]>();
    for (const r of records) {
      let list = byTopic.get(r.topic);
      if (!list) {
        list = [];
        byTopic.set(r.topic, list);
        await this.partitionCount(r.topic);
      }
      const n = this.#partitions.get(r.topic)!;
      list.push({ key: r.key, value: r.value, partition: partitionFor(r.key, n), ...(r.headers ? { headers: { ...r.headers } } : {}) });
    }
    await this.#producer.sendBatch([...byTopic].map(([topic, messages]) => ({ topic, messages })));
    if (produceChannel.hasSubscribers) {
      produceChannel.publish({ driver: this.#Kafka.driverName, records: records.length, durationMs: performance.now() - started });
    }
  }

  /** Waits for sends in progress, then disconnects. */
  async close(): Promise<void> {
    await this.#tail;
    if (!this.#connected) return;
    this.#connected = false;
    await this.#producer.disconnect().catch(() => {});
  }
}
