import { PGlite } from '@electric-sql/pglite';
import { createSink } from './src/apply/index.js';
import { createTableSql } from './test/support/databases.js';
const db = await PGlite.create();
const t: any = { name: 'x', primaryKey: ['id'], columns: [{ name: 'id', type: { kind: 'int64' }, nullable: false }, { name: 'f32', type: { kind: 'float32' }, nullable: true }, { name: 's', type: { kind: 'string' }, nullable: true }] };
await db.exec(createTableSql('pglite', t));
const sink = createSink({ dialect: 'pglite', connection: db, tables: [t] });
console.log(await sink.apply([{ table: { name: 'x' }, op: 'c', key: { id: 5n }, after: { id: 5n, f32: NaN, s: null }, source: { connector: 'a', position: '1' }, version: 1n }]));
console.log(await sink.deadLetters.list());
