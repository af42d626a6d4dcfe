// The Kafka transport contract against a real broker (dev/kafka), through the kafkajs driver.
import { kafkaContractSkip, kafkaTransportContract } from './kafka-contract.js';

kafkaTransportContract('kafkajs', await kafkaContractSkip('kafkajs'));
