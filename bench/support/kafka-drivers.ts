// Shared by the Kafka benchmarks: the drivers installed here (kafkajs always; Confluent's client
// where its native build is present).
import { loadKafkaDriver, type KafkaDriverName } from '../../src/transport/kafka/index.js';

export function installedKafkaDrivers(): KafkaDriverName[] {
  try {
    loadKafkaDriver('confluent');
    return ['kafkajs', 'confluent'];
  } catch {
    console.error('# confluent driver not installed: measuring kafkajs only');
    return ['kafkajs'];
  }
}
