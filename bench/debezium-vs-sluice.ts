// sluice PostgreSQL → Kafka → PostgreSQL against Debezium (PostgreSQL connector + JDBC sink on Kafka
// Connect) on the same backlog: the harness is bench/peers/debezium.ts (this file only puts it where
// scripts/run-bench.mjs looks).
// Run: npm run bench -- debezium   (or: node --import tsx bench/debezium-vs-sluice.ts [ROWS=200000])
import './peers/debezium.js';
