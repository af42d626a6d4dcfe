/**
 * The official clients, unchanged, against the server on a real port: Confluent's JavaScript
 * client (@confluentinc/schemaregistry, with its Avro serde) and @kafkajs/confluent-schema-registry.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AvroDeserializer, AvroSerializer, SchemaRegistryClient, SerdeType } from '@confluentinc/schemaregistry';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { createRegistryServer, type RegistryServer } from '../../../src/registry/server.js';
import { tempPglite, type TempPglite } from '../store/test-stores.js';

const orderV1 = {
  type: 'record',
  name: 'Order',
  namespace: 'shop',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'item', type: 'string' },
  ],
};
const orderV2 = { ...orderV1, fields: [...orderV1.fields, { name: 'note', type: ['null', 'string'], default: null }] };
const orderBad = { ...orderV1, fields: [...orderV1.fields, { name: 'qty', type: 'int' }] };

/** Decoders hand back avsc record instances; compare the data only. */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

describe('official clients against the registry', () => {
  let db: TempPglite;
  let server: RegistryServer;
  let url: string;
  before(async () => {
    db = await tempPglite();
    server = createRegistryServer({ store: db.store, logger: false });
    url = await server.listen(0);
  });
  after(async () => {
    await server.close();
    await db.cleanup();
  });

  test('@confluentinc/schemaregistry: register, fetch by id, look up, check compatibility', async () => {
    const client = new SchemaRegistryClient({ baseURLs: [url] });
    const id = await client.register('orders-value', { schemaType: 'AVRO', schema: JSON.stringify(orderV1) });
    assert.equal(await client.register('orders-copy', { schemaType: 'AVRO', schema: JSON.stringify(orderV1) }), id);
    const byId = await client.getBySubjectAndId('orders-value', id);
    assert.deepEqual(JSON.parse(byId.schema), orderV1);
    assert.equal(await client.getId('orders-value', { schemaType: 'AVRO', schema: JSON.stringify(orderV1) }), id);
    assert.equal(await client.getVersion('orders-value', { schemaType: 'AVRO', schema: JSON.stringify(orderV1) }), 1);
    assert.equal(await client.testSubjectCompatibility('orders-value', { schemaType: 'AVRO', schema: JSON.stringify(orderV2) }), true);
    assert.equal(await client.testCompatibility('orders-value', 1, { schemaType: 'AVRO', schema: JSON.stringify(orderBad) }), false);
    await assert.rejects(
      client.register('orders-value', { schemaType: 'AVRO', schema: JSON.stringify(orderBad) }),
      (err: { status?: number }) => {
        assert.equal(err.status, 409);
        return true;
      },
    );
    const id2 = await client.register('orders-value', { schemaType: 'AVRO', schema: JSON.stringify(orderV2) });
    const latest = await client.getLatestSchemaMetadata('orders-value');
    assert.deepEqual([latest.id, latest.version], [id2, 2]);
    assert.deepEqual(await client.getAllVersions('orders-value'), [1, 2]);
    assert.ok((await client.getAllSubjects()).includes('orders-value'));
    assert.equal(await client.getDefaultCompatibility(), 'BACKWARD');
    assert.equal(await client.updateCompatibility('orders-copy', 'FULL' as never), 'FULL');
    assert.equal(await client.getCompatibility('orders-copy'), 'FULL');
  });

  test('@confluentinc/schemaregistry: Avro serializer (autoRegisterSchemas) and deserializer round-trip', async () => {
    const client = new SchemaRegistryClient({ baseURLs: [url] });
    const ser = new AvroSerializer(client, SerdeType.VALUE, { autoRegisterSchemas: true });
    const de = new AvroDeserializer(client, SerdeType.VALUE, {});
    const value = { id: 7, name: 'widget', price: 2.5, tags: ['a', 'b'] };
    const bytes = await ser.serialize('auto-topic', value);
    assert.equal(bytes[0], 0); // Confluent wire format magic byte
    const id = bytes.readInt32BE(1);
    assert.deepEqual(plain(await de.deserialize('auto-topic', bytes)), value);
    const latest = await client.getLatestSchemaMetadata('auto-topic-value');
    assert.equal(latest.id, id);
  });

  test('@confluentinc/schemaregistry: serde with a schema that references another subject', async () => {
    const client = new SchemaRegistryClient({ baseURLs: [url] });
    const money = {
      type: 'record',
      name: 'Money',
      namespace: 'shop',
      fields: [
        { name: 'cents', type: 'long' },
        { name: 'currency', type: 'string' },
      ],
    };
    await client.register('shop.Money', { schemaType: 'AVRO', schema: JSON.stringify(money) });
    const invoice = {
      type: 'record',
      name: 'Invoice',
      namespace: 'shop',
      fields: [
        { name: 'no', type: 'string' },
        { name: 'total', type: 'Money' },
      ],
    };
    await client.register('invoices-value', {
      schemaType: 'AVRO',
      schema: JSON.stringify(invoice),
      references: [{ name: 'shop.Money', subject: 'shop.Money', version: 1 }],
    });
    const ser = new AvroSerializer(client, SerdeType.VALUE, { useLatestVersion: true });
    const de = new AvroDeserializer(client, SerdeType.VALUE, {});
    const value = { no: 'INV-1', total: { cents: 1999, currency: 'EUR' } };
    const bytes = await ser.serialize('invoices', value);
    assert.deepEqual(plain(await de.deserialize('invoices', bytes)), value);
  });

  test('@kafkajs/confluent-schema-registry: register, getRegistryIdBySchema, getLatestSchemaId, encode/decode', async () => {
    const registry = new SchemaRegistry({ host: url, retry: { retries: 0 } });
    const schema = {
      type: 'record',
      name: 'Click',
      namespace: 'web',
      fields: [
        { name: 'url', type: 'string' },
        { name: 'at', type: 'long' },
      ],
    };
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject: 'clicks-value' });
    assert.equal(await registry.getRegistryIdBySchema('clicks-value', { type: SchemaType.AVRO, schema: JSON.stringify(schema) }), id);
    assert.equal(await registry.getLatestSchemaId('clicks-value'), id);
    assert.equal(await registry.getRegistryId('clicks-value', 1), id);
    const payload = { url: 'https://example.com/', at: 1700000000000 };
    const encoded = await registry.encode(id, payload);
    assert.equal(encoded.readInt32BE(1), id);
    // A fresh client (empty cache) fetches the schema by id to decode.
    const fresh = new SchemaRegistry({ host: url, retry: { retries: 0 } });
    assert.deepEqual(plain(await fresh.decode(encoded)), payload);
    // kafkajs checks the subject's level on the second registration (BACKWARD set the first time).
    const evolved = { ...schema, fields: [...schema.fields, { name: 'ref', type: ['null', 'string'], default: null }] };
    const second = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(evolved) }, { subject: 'clicks-value' });
    assert.notEqual(second.id, id);
    assert.equal(await registry.getLatestSchemaId('clicks-value'), second.id);
  });
});
