// Benchmark: serialize + deserialize through sluice's codec (Confluent framing, registry lookups
// warm) as a ratio to bare avsc encode + decode of the same records with the same types: the
// framing and lookup overhead. Goal ≥ 0.8. Prints JSON and one markdown line.
// Run: npm run bench -- codec   (or: node --import tsx bench/codec-serde.ts [RECORDS])
import avro from 'avsc';
import { AvroSerde, avroType } from '../src/codec/avro-serde.js';
import { tableAvroSchema } from '../src/codec/table-avro-schema.js';
import type { TableSchema } from '../src/core/table-schema.js';
import { MemoryRegistry } from '../test/codec/memory-registry.js';
import { median } from './support/measure.js';

const N = Number(process.argv[2] ?? 200_000);
const ROUNDS = 5;
const table: TableSchema = {
  schema: 'public',
  name: 'coupon',
  primaryKey: ['id'],
  columns: [
    { name: 'id', type: { kind: 'int64' }, nullable: false },
    { name: 'code', type: { kind: 'string' }, nullable: false },
    { name: 'amount', type: { kind: 'decimal', precision: 12, scale: 2 }, nullable: false },
    { name: 'currency', type: { kind: 'string' }, nullable: false },
    { name: 'active', type: { kind: 'boolean' }, nullable: false },
    { name: 'uses', type: { kind: 'int32' }, nullable: false },
    { name: 'ratio', type: { kind: 'float64' }, nullable: true },
    { name: 'note', type: { kind: 'string' }, nullable: true },
    { name: 'valid_from', type: { kind: 'date' }, nullable: true },
    { name: 'created_at', type: { kind: 'timestamptz' }, nullable: false },
    { name: 'owner', type: { kind: 'uuid' }, nullable: true },
    { name: 'version', type: { kind: 'int64' }, nullable: false },
  ],
};
const rows = Array.from({ length: 1000 }, (_, i) => ({
  id: BigInt(i),
  code: `CODE-${i}`,
  amount: `${i}.${String(i % 100).padStart(2, '0')}`,
  currency: 'EUR',
  active: i % 2 === 0,
  uses: i % 17,
  ratio: i / 7,
  note: i % 3 ? null : `note ${i}`,
  valid_from: '2024-03-01',
  created_at: '2024-03-01T10:00:00.123456Z',
  owner: i % 5 ? null : '123e4567-e89b-12d3-a456-426614174000',
  version: BigInt(i * 10),
}));

function rate(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return N / (Number(process.hrtime.bigint() - t0) / 1e9);
}

const type = avroType(tableAvroSchema(table));
const serde = new AvroSerde(new MemoryRegistry());
const writer = await serde.writer('coupons-sluice.public.coupon', type);
const BATCH = 500;

function bare(): void {
  for (let i = 0; i < N; i++) {
    const buf = type.toBuffer(rows[i % rows.length]);
    type.fromBuffer(buf);
  }
}

async function sluice(): Promise<number> {
  const t0 = process.hrtime.bigint();
  const bufs: Buffer[] = new Array(BATCH);
  for (let i = 0; i < N; i += BATCH) {
    for (let j = 0; j < BATCH; j++) bufs[j] = writer.encode(rows[(i + j) % rows.length]);
    await serde.deserializeBatch(bufs, type);
  }
  return N / (Number(process.hrtime.bigint() - t0) / 1e9);
}

bare();
await sluice(); // warm-up: JIT and caches
const bareRates: number[] = [];
const sluiceRates: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  bareRates.push(rate(bare));
  sluiceRates.push(await sluice());
}
const result = {
  bench: 'codec-serde',
  records: N,
  fields: table.columns.length,
  bare_avsc_records_per_s: Math.round(median(bareRates)),
  sluice_records_per_s: Math.round(median(sluiceRates)),
  ratio: Number((median(sluiceRates) / median(bareRates)).toFixed(3)),
  goal: 0.8,
  avsc: (avro as unknown as { version?: string }).version ?? '5.7.9',
};
console.log(JSON.stringify(result));
console.log(
  `| codec serialize+deserialize | ${result.sluice_records_per_s} rec/s | bare avsc ${result.bare_avsc_records_per_s} rec/s | ratio **${result.ratio}** (goal ≥ 0.8) |`,
);
