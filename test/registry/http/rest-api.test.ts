/**
 * The REST API's answers, request by request: each Confluent error code from the request that
 * produces it, the happy paths of every endpoint, media types, body limits and authentication.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRegistryServer, type RegistryServer } from '../../../src/registry/server.js';
import type { SqlStore } from '../../../src/state/index.js';
import { tempPglite, type TempPglite } from '../store/test-stores.js';

const V1_JSON = 'application/vnd.schemaregistry.v1+json';

const user = (...extra: Array<Record<string, unknown>>) =>
  JSON.stringify({ type: 'record', name: 'User', namespace: 'com.acme', fields: [{ name: 'id', type: 'long' }, ...extra] });

interface Answer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
  headers: Record<string, unknown>;
}

async function call(
  server: RegistryServer,
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await server.app.inject({
    method: method as 'GET',
    url,
    headers: { 'content-type': V1_JSON, ...headers },
    ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.body);
  } catch {
    parsed = undefined;
  }
  return { status: res.statusCode, body: parsed, text: res.body, headers: res.headers };
}

/** An error answer: the status, Confluent's code, and nothing but {error_code, message}. */
function assertError(a: Answer, status: number, errorCode: number, message?: RegExp): void {
  assert.equal(a.status, status, a.text);
  assert.deepEqual(Object.keys(a.body).sort(), ['error_code', 'message']);
  assert.equal(a.body.error_code, errorCode, a.text);
  assert.doesNotMatch(a.text, /\bat .+\.(ts|js):\d+/); // no stack trace
  if (message) assert.match(a.body.message, message);
}

describe('Schema Registry REST API', () => {
  let db: TempPglite;
  let server: RegistryServer;
  const req = (method: string, url: string, body?: unknown, headers?: Record<string, string>) => call(server, method, url, body, headers);

  before(async () => {
    db = await tempPglite();
    server = createRegistryServer({ store: db.store, logger: false });
  });
  after(async () => {
    await server.close();
    await db.cleanup();
  });

  describe('endpoints', () => {
    test('GET / answers {} and GET /schemas/types lists AVRO', async () => {
      assert.deepEqual((await req('GET', '/')).body, {});
      assert.deepEqual((await req('GET', '/schemas/types')).body, ['AVRO']);
      assert.equal((await req('GET', '/v1/metadata/id')).status, 200);
    });

    test('register, read back by id, by version and through every schema view', async () => {
      const r = await req('POST', '/subjects/ep-users/versions', { schema: user() });
      assert.equal(r.status, 200);
      const { id } = r.body;
      assert.deepEqual(r.body, { id, version: 1, schema: user() });
      assert.deepEqual((await req('GET', `/schemas/ids/${id}`)).body, { schema: user() });
      assert.deepEqual((await req('GET', `/schemas/ids/${id}?subject=ep-users`)).body, { schema: user() });
      assert.equal((await req('GET', `/schemas/ids/${id}/schema`)).text, user());
      assert.deepEqual((await req('GET', `/schemas/ids/${id}/subjects`)).body, ['ep-users']);
      assert.deepEqual((await req('GET', `/schemas/ids/${id}/versions`)).body, [{ subject: 'ep-users', version: 1 }]);
      assert.deepEqual((await req('GET', '/subjects/ep-users/versions/1')).body, { subject: 'ep-users', version: 1, id, schema: user() });
      for (const v of ['latest', '-1']) assert.equal((await req('GET', `/subjects/ep-users/versions/${v}`)).body.version, 1);
      assert.equal((await req('GET', '/subjects/ep-users/versions/latest/schema')).text, user());
      assert.deepEqual((await req('GET', '/subjects/ep-users/versions')).body, [1]);
      assert.deepEqual((await req('GET', '/subjects/ep-users/versions/1/referencedby')).body, []);
    });

    test('an already registered schema keeps its id and version; lookup finds it', async () => {
      const first = await req('POST', '/subjects/ep-again/versions', { schema: user() });
      const second = await req('POST', '/subjects/ep-again/versions', { schema: user(), schemaType: 'AVRO' });
      assert.deepEqual(second.body, first.body);
      const found = await req('POST', '/subjects/ep-again', { schema: user() });
      assert.deepEqual(found.body, { subject: 'ep-again', version: 1, id: first.body.id, schema: user() });
      assert.deepEqual((await req('GET', '/subjects/ep-again/versions')).body, [1]);
    });

    test('soft-deleted versions and subjects are hidden unless deleted=true', async () => {
      await req('POST', '/subjects/ep-soft/versions', { schema: user() });
      const v2 = await req('POST', '/subjects/ep-soft/versions', { schema: user({ name: 'n', type: 'string', default: '' }) });
      assert.equal((await req('DELETE', '/subjects/ep-soft/versions/2')).body, 2);
      assert.deepEqual((await req('GET', '/subjects/ep-soft/versions')).body, [1]);
      assert.deepEqual((await req('GET', '/subjects/ep-soft/versions?deleted=true')).body, [1, 2]);
      assert.equal((await req('GET', '/subjects/ep-soft/versions/2?deleted=true')).body.id, v2.body.id);
      assertError(await req('POST', '/subjects/ep-soft', { schema: user({ name: 'n', type: 'string', default: '' }) }), 404, 40403);
      assert.equal(
        (await req('POST', '/subjects/ep-soft?deleted=true', { schema: user({ name: 'n', type: 'string', default: '' }) })).body.version,
        2,
      );
      assert.deepEqual((await req('DELETE', '/subjects/ep-soft')).body, [1]);
      assert.ok(!(await req('GET', '/subjects')).body.includes('ep-soft'));
      assert.ok((await req('GET', '/subjects?deleted=true')).body.includes('ep-soft'));
      assert.deepEqual((await req('DELETE', '/subjects/ep-soft?permanent=true')).body, [1, 2]);
      assert.ok(!(await req('GET', '/subjects?deleted=true')).body.includes('ep-soft'));
    });

    test('GET /subjects filters by subjectPrefix', async () => {
      await req('POST', '/subjects/pfx-one/versions', { schema: user() });
      await req('POST', '/subjects/pfx-two/versions', { schema: user() });
      assert.deepEqual((await req('GET', '/subjects?subjectPrefix=pfx-')).body, ['pfx-one', 'pfx-two']);
    });

    test('subjects with slashes and long names are path parameters like any other', async () => {
      const subject = `ns/${'x'.repeat(300)}-value`;
      const r = await req('POST', `/subjects/${encodeURIComponent(subject)}/versions`, { schema: user() });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual((await req('GET', `/subjects/${encodeURIComponent(subject)}/versions`)).body, [1]);
    });

    test('references: registered, resolved, listed by referencedby', async () => {
      const color = JSON.stringify({ type: 'enum', name: 'Color', namespace: 'com.acme', symbols: ['RED', 'BLUE'] });
      await req('POST', '/subjects/ep-color/versions', { schema: color });
      const car = JSON.stringify({ type: 'record', name: 'Car', namespace: 'com.acme', fields: [{ name: 'paint', type: 'Color' }] });
      const references = [{ name: 'com.acme.Color', subject: 'ep-color', version: 1 }];
      const r = await req('POST', '/subjects/ep-car/versions', { schema: car, references });
      assert.deepEqual(r.body.references, references);
      assert.deepEqual((await req('GET', `/schemas/ids/${r.body.id}`)).body, { schema: car, references });
      assert.deepEqual((await req('GET', '/subjects/ep-color/versions/1/referencedby')).body, [r.body.id]);
    });

    test('config: global and per subject, defaultToGlobal, delete', async () => {
      assert.deepEqual((await req('GET', '/config')).body, { compatibilityLevel: 'BACKWARD' });
      assert.deepEqual((await req('PUT', '/config', { compatibility: 'FULL' })).body, { compatibility: 'FULL' });
      assert.deepEqual((await req('GET', '/config/ep-cfg?defaultToGlobal=true')).body, { compatibilityLevel: 'FULL' });
      assert.deepEqual((await req('PUT', '/config/ep-cfg', { compatibility: 'forward_transitive' })).body, {
        compatibility: 'FORWARD_TRANSITIVE',
      });
      assert.deepEqual((await req('GET', '/config/ep-cfg')).body, { compatibilityLevel: 'FORWARD_TRANSITIVE' });
      assert.deepEqual((await req('DELETE', '/config/ep-cfg')).body, { compatibilityLevel: 'FORWARD_TRANSITIVE' });
      assert.deepEqual((await req('DELETE', '/config')).body, { compatibilityLevel: 'FULL' });
      assert.deepEqual((await req('GET', '/config')).body, { compatibilityLevel: 'BACKWARD' });
    });

    test('mode: global and per subject, defaultToGlobal, delete', async () => {
      assert.deepEqual((await req('GET', '/mode')).body, { mode: 'READWRITE' });
      assert.deepEqual((await req('PUT', '/mode/ep-mode', { mode: 'READONLY' })).body, { mode: 'READONLY' });
      assert.deepEqual((await req('GET', '/mode/ep-mode')).body, { mode: 'READONLY' });
      assert.deepEqual((await req('GET', '/mode/ep-other?defaultToGlobal=true')).body, { mode: 'READWRITE' });
      assert.deepEqual((await req('DELETE', '/mode/ep-mode')).body, { mode: 'READONLY' });
      assertError(await req('GET', '/mode/ep-mode'), 404, 40409);
    });

    test('IMPORT mode: explicit id and version accepted (with force while subjects exist)', async () => {
      assertError(await req('PUT', '/mode', { mode: 'IMPORT' }), 422, 42205, /existing subjects/);
      assert.deepEqual((await req('PUT', '/mode/ep-import?force=true', { mode: 'IMPORT' })).body, { mode: 'IMPORT' });
      const r = await req('POST', '/subjects/ep-import/versions', { schema: user({ name: 'imp', type: 'int' }), id: 9000, version: 4 });
      assert.deepEqual([r.status, r.body.id, r.body.version], [200, 9000, 4]);
      assert.deepEqual((await req('GET', '/schemas/ids/9000/versions')).body, [{ subject: 'ep-import', version: 4 }]);
      await req('DELETE', '/mode/ep-import');
    });

    test('compatibility checks: latest, a version, all versions, verbose', async () => {
      await req('POST', '/subjects/ep-compat/versions', { schema: user() });
      const ok = user({ name: 'email', type: ['null', 'string'], default: null });
      const bad = user({ name: 'age', type: 'int' });
      assert.deepEqual((await req('POST', '/compatibility/subjects/ep-compat/versions/latest', { schema: ok })).body, {
        is_compatible: true,
      });
      assert.deepEqual((await req('POST', '/compatibility/subjects/ep-compat/versions/1', { schema: bad })).body, { is_compatible: false });
      const verbose = await req('POST', '/compatibility/subjects/ep-compat/versions?verbose=true', { schema: bad });
      assert.equal(verbose.body.is_compatible, false);
      assert.ok(
        verbose.body.messages.some((m: string) => m.includes("'age'")),
        verbose.text,
      );
      assert.deepEqual((await req('POST', '/compatibility/subjects/ep-new/versions/latest', { schema: bad })).body, {
        is_compatible: true,
      });
      const invalid = await req('POST', '/compatibility/subjects/ep-compat/versions?verbose=true', { schema: '{"type":"record"}' });
      assert.equal(invalid.body.is_compatible, false);
    });
  });

  describe('compatibility over HTTP', () => {
    test('a BACKWARD-incompatible schema is refused with 409 naming the field; allowed once the subject is NONE', async () => {
      await req('POST', '/subjects/compat-http/versions', { schema: user() });
      const bad = user({ name: 'nickname', type: 'string' });
      const refused = await req('POST', '/subjects/compat-http/versions', { schema: bad });
      assertError(refused, 409, 409, /nickname/);
      assert.match(refused.body.message, /incompatible with an earlier schema for subject "compat-http"/);
      assert.deepEqual((await req('PUT', '/config/compat-http', { compatibility: 'NONE' })).body, { compatibility: 'NONE' });
      const allowed = await req('POST', '/subjects/compat-http/versions', { schema: bad });
      assert.equal(allowed.status, 200, allowed.text);
      assert.equal(allowed.body.version, 2);
    });
  });

  describe('error codes', () => {
    before(async () => {
      await req('POST', '/subjects/err-s/versions', { schema: user() });
      await req('POST', '/subjects/err-s/versions', { schema: user({ name: 'e', type: ['null', 'string'], default: null }) });
    });

    test('40401 subject not found', async () => {
      assertError(await req('GET', '/subjects/err-missing/versions'), 404, 40401, /Subject 'err-missing' not found/);
      assertError(await req('GET', '/subjects/err-missing/versions/1'), 404, 40401);
      assertError(await req('POST', '/subjects/err-missing', { schema: user() }), 404, 40401);
    });

    test('40402 version not found', async () => {
      assertError(await req('GET', '/subjects/err-s/versions/99'), 404, 40402, /Version 99 not found/);
    });

    test('40403 schema not found', async () => {
      assertError(await req('GET', '/schemas/ids/123456'), 404, 40403, /Schema 123456 not found/);
      assertError(await req('POST', '/subjects/err-s', { schema: user({ name: 'zzz', type: 'int' }) }), 404, 40403);
    });

    test('40404 subject soft-deleted (deleted again without permanent)', async () => {
      await req('POST', '/subjects/err-404/versions', { schema: user() });
      await req('DELETE', '/subjects/err-404');
      assertError(await req('DELETE', '/subjects/err-404'), 404, 40404, /was soft deleted/);
    });

    test('40405 subject not soft-deleted before a permanent delete', async () => {
      await req('POST', '/subjects/err-405/versions', { schema: user() });
      assertError(await req('DELETE', '/subjects/err-405?permanent=true'), 404, 40405, /was not deleted first/);
    });

    test('40406 schema version soft-deleted (deleted again without permanent)', async () => {
      await req('POST', '/subjects/err-406/versions', { schema: user() });
      await req('DELETE', '/subjects/err-406/versions/1');
      assertError(await req('DELETE', '/subjects/err-406/versions/1'), 404, 40406);
    });

    test('40407 schema version not soft-deleted before a permanent delete', async () => {
      await req('POST', '/subjects/err-407/versions', { schema: user() });
      assertError(await req('DELETE', '/subjects/err-407/versions/1?permanent=true'), 404, 40407);
    });

    test('40408 subject compatibility not configured', async () => {
      assertError(await req('GET', '/config/err-s'), 404, 40408);
    });

    test('40409 subject mode not configured', async () => {
      assertError(await req('GET', '/mode/err-s'), 404, 40409);
    });

    test('42201 invalid Avro, naming the problem', async () => {
      const a = await req('POST', '/subjects/err-s/versions', {
        schema: '{"type":"record","name":"X","fields":[{"name":"a","type":"strin"}]}',
      });
      assertError(a, 422, 42201, /strin/);
      assertError(
        await req('POST', '/subjects/err-s/versions', {
          schema: '{"type":"record","name":"X","fields":[{"name":"a","type":"int","default":"one"}]}',
        }),
        422,
        42201,
        /default/i,
      );
    });

    test('42201 malformed JSON body', async () => {
      assertError(await req('POST', '/subjects/err-s/versions', '{"schema": '), 422, 42201, /JSON/);
      assertError(await req('POST', '/subjects/err-s/versions', { notSchema: 1 }), 422, 42201, /schema/);
    });

    test('42201 unsupported schema type', async () => {
      assertError(
        await req('POST', '/subjects/err-s/versions', { schema: 'syntax = "proto3";', schemaType: 'PROTOBUF' }),
        422,
        42201,
        /unsupported schema type/i,
      );
    });

    test('42202 invalid version', async () => {
      assertError(await req('GET', '/subjects/err-s/versions/abc'), 422, 42202, /'abc' is not a valid version/);
      assertError(await req('GET', '/subjects/err-s/versions/0'), 422, 42202);
      assertError(await req('DELETE', '/subjects/err-s/versions/-2'), 422, 42202);
    });

    test('42203 invalid compatibility level', async () => {
      assertError(await req('PUT', '/config/err-s', { compatibility: 'SIDEWAYS' }), 422, 42203);
    });

    test('42204 invalid mode', async () => {
      assertError(await req('PUT', '/mode/err-s', { mode: 'WRITEONLY' }), 422, 42204);
    });

    test('42205 operation not permitted: writes in READONLY, explicit id outside IMPORT', async () => {
      await req('PUT', '/mode/err-ro', { mode: 'READONLY' });
      assertError(await req('POST', '/subjects/err-ro/versions', { schema: user() }), 422, 42205, /read-only/);
      assertError(
        await req('POST', '/subjects/err-s/versions', { schema: user({ name: 'x', type: 'int', default: 0 }), id: 777 }),
        422,
        42205,
        /import mode/,
      );
    });

    test('42206 reference exists', async () => {
      await req('POST', '/subjects/err-ref-base/versions', {
        schema: JSON.stringify({ type: 'fixed', name: 'Hash', namespace: 'h', size: 16 }),
      });
      await req('POST', '/subjects/err-ref-user/versions', {
        schema: JSON.stringify({ type: 'record', name: 'Doc', namespace: 'h', fields: [{ name: 'h', type: 'Hash' }] }),
        references: [{ name: 'h.Hash', subject: 'err-ref-base', version: 1 }],
      });
      assertError(await req('DELETE', '/subjects/err-ref-base/versions/1'), 422, 42206);
    });

    test('409 incompatible schema', async () => {
      assertError(await req('POST', '/subjects/err-s/versions', { schema: user({ name: 'must', type: 'int' }) }), 409, 409, /must/);
    });

    test('50001 store error, with nothing of the driver error in the answer', async () => {
      const broken: SqlStore = {
        dialect: 'postgres',
        query: async () => {
          throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:5432 secret-host'), { code: 'ECONNREFUSED' });
        },
        transaction: async () => {
          throw new Error('connect ECONNREFUSED');
        },
        close: async () => {},
      };
      const down = createRegistryServer({ store: broken, logger: false });
      try {
        const a = await call(down, 'GET', '/subjects');
        assertError(a, 500, 50001);
        assert.doesNotMatch(a.text, /ECONNREFUSED|secret-host/);
      } finally {
        await down.close();
      }
    });

    test('404 unknown route, as JSON', async () => {
      assertError(await req('GET', '/no/such/route'), 404, 404);
      assertError(await req('GET', '/schemas/ids/not-a-number'), 404, 404);
    });
  });

  describe('media types and limits', () => {
    test('accepts every Schema Registry media type and answers in the one asked for', async () => {
      for (const type of [
        'application/vnd.schemaregistry.v1+json',
        'application/vnd.schemaregistry+json',
        'application/json',
        'application/octet-stream',
      ]) {
        const a = await req('POST', '/subjects/media/versions', { schema: user() }, { 'content-type': type });
        assert.equal(a.status, 200, `${type}: ${a.text}`);
      }
      assert.match(String((await req('GET', '/subjects')).headers['content-type']), /^application\/vnd\.schemaregistry\.v1\+json/);
      assert.match(
        String((await req('GET', '/subjects', undefined, { accept: 'application/json' })).headers['content-type']),
        /^application\/json/,
      );
      assert.match(
        String((await req('GET', '/subjects', undefined, { accept: 'application/vnd.schemaregistry+json' })).headers['content-type']),
        /^application\/vnd\.schemaregistry\+json/,
      );
    });

    test('a body over the limit is refused with 413 as JSON', async () => {
      const small = createRegistryServer({ store: db.store, logger: false, bodyLimit: 1024 });
      try {
        const a = await call(small, 'POST', '/subjects/big/versions', {
          schema: user({ name: 'pad', type: 'string', doc: 'x'.repeat(4096) }),
        });
        assertError(a, 413, 413);
      } finally {
        await small.close();
      }
    });

    test('an unsupported media type is refused with 415 as JSON', async () => {
      assertError(
        await req('POST', '/subjects/media/versions', 'schema=x', { 'content-type': 'application/x-www-form-urlencoded' }),
        415,
        415,
      );
    });
  });

  describe('authentication', () => {
    let secured: RegistryServer;
    before(() => {
      secured = createRegistryServer({
        store: db.store,
        logger: false,
        auth: { basic: [{ username: 'alice', password: 's3cret' }], bearerTokens: ['tok-123'] },
      });
    });
    after(async () => secured.close());

    const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

    test('401 with WWW-Authenticate when credentials are missing or wrong', async () => {
      for (const authorization of [undefined, basic('alice', 'wrong'), basic('bob', 's3cret'), 'Bearer nope', 'Digest x']) {
        const a = await call(secured, 'GET', '/subjects', undefined, authorization ? { authorization } : {});
        assertError(a, 401, 401);
        const challenge = [a.headers['www-authenticate']].flat().join(', ');
        assert.match(challenge, /Basic realm=/);
        assert.match(challenge, /Bearer realm=/);
      }
    });

    test('valid basic credentials or bearer token pass', async () => {
      assert.equal((await call(secured, 'GET', '/subjects', undefined, { authorization: basic('alice', 's3cret') })).status, 200);
      assert.equal((await call(secured, 'GET', '/subjects', undefined, { authorization: 'Bearer tok-123' })).status, 200);
    });
  });
});
