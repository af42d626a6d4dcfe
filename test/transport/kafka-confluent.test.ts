// The Kafka transport contract against a real broker (dev/kafka), through the confluent driver
// (@confluentinc/kafka-javascript, an optional dependency: required in CI, skipped elsewhere if absent).
import { kafkaContractSkip, kafkaTransportContract } from './kafka-contract.js';

kafkaTransportContract('confluent', await kafkaContractSkip('confluent'));
