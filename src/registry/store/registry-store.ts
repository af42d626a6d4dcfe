/**
 * The schema registry's rules, kept in SQL (tables created by state/migrations.ts). Each method is
 * one REST operation with Confluent's semantics (KafkaSchemaRegistry / AbstractSchemaRegistry):
 * - one id per distinct schema (type + text + references), shared by every subject registering it;
 *   ids come from a sequence and are never reused;
 * - versions per subject are never reused: the next one is one past the highest ever used,
 *   counting soft- and permanently deleted versions (sluice_registry_subjects.last_version);
 * - writes to a subject run in one transaction holding `pg_advisory_xact_lock` on the subject, so
 *   two registry processes on one PostgreSQL database cannot interleave; the schema insert is
 *   `ON CONFLICT (content_hash)` so concurrent registrations of one schema under different
 *   subjects get one id; serialization/unique conflicts re-run the transaction.
 * Errors are RegistryError with Confluent's error codes.
 */
import { parseAvroSchema, type AvroNode, type NamedNode } from '../avro/schema-model.js';
import { checkCompatibility, checkReaderWriter, COMPATIBILITY_LEVELS, type CompatibilityLevel } from '../compatibility/index.js';
import { isSluiceError } from '../../core/errors.js';
import { withConflictRetry, type SqlExecutor, type SqlStore } from '../../state/index.js';
import { isRegistryError, registryErrors as E, RegistryError } from './registry-errors.js';
import { contentHash, expandedNormalizedText, schemaText } from './schema-text.js';
import {
  DEFAULT_COMPATIBILITY,
  DEFAULT_MODE,
  REGISTRY_MODES,
  type CompatibilityReport,
  type RegistryMode,
  type SchemaReference,
  type SchemaRequest,
  type StoredSchema,
  type SubjectSchema,
  type SubjectVersion,
} from './types.js';

/** Confluent's wording for the (only) context this registry has. */
const CONTEXT = '.';
const LATEST = -1;
/** Confluent truncates the previous schema in compatibility messages beyond this. */
const MAX_SCHEMA_IN_MESSAGE = 10 * 1024;
const MAX_REFERENCE_DEPTH = 64;
const PARSE_CACHE_LIMIT = 10_000;

/** A schema parsed together with the named types its references (transitively) bring. */
interface Parsed {
  root: AvroNode;
  /** Every named type visible to the schema: its own and its references'. */
  named: Map<string, NamedNode>;
  /** Normalized text with referenced types inlined, computed when first needed. */
  expanded?: string;
}

/** A request's schema, parsed and in every form it is compared by. */
interface Candidate {
  parsed: Parsed;
  /** The text to store: canonical, or normalized when asked to normalize. */
  text: string;
  normalized: string;
  /** Normalized text with referenced types inlined (for matching a self-contained schema). */
  expanded: string;
  references: SchemaReference[];
  /** (subject, version) each reference resolved to; `latest` (-1) replaced by the number. */
  resolved: SubjectVersion[];
  hash: string;
}

interface VersionRow {
  version: number;
  schema_id: number;
  deleted: boolean;
}

interface SchemaRow {
  id: number;
  schema_text: string;
  normalized_text: string;
  references_json: string;
  content_hash: string;
}

export interface RegisterResult {
  id: number;
  version: number;
  schema: string;
  references: SchemaReference[];
}

export interface RegisterOptions {
  normalize?: boolean;
}

/**
 * How long a schema fetched by id is served from memory. An id's content never changes, so the only
 * staleness is a permanent delete made by another registry process on the same store: it becomes
 * visible here within this time (a delete made by this process clears the cache at once).
 */
const ID_CACHE_MS = 30_000;
const ID_CACHE_MAX = 10_000;

export class RegistryStore {
  private readonly parsedById = new Map<number, Parsed>();
  private readonly byIdCache = new Map<number, { schema: StoredSchema; until: number }>();

  constructor(private readonly store: SqlStore) {}

  // ---------------------------------------------------------------- schemas by id

  /** The schema with this id, while some subject version (even soft-deleted) still uses it. */
  async getSchemaById(id: number): Promise<StoredSchema> {
    const hit = this.byIdCache.get(id);
    if (hit && hit.until > Date.now()) return hit.schema;
    const schema = await this.loadSchemaById(id);
    if (this.byIdCache.size >= ID_CACHE_MAX) this.byIdCache.clear();
    this.byIdCache.set(id, { schema, until: Date.now() + ID_CACHE_MS });
    return schema;
  }

  private async loadSchemaById(id: number): Promise<StoredSchema> {
    return this.guard(async () => {
      const rows = await this.store.query<SchemaRow>(
        `SELECT s.id, s.schema_text, s.normalized_text, s.references_json, s.content_hash
           FROM sluice_registry_schemas s
          WHERE s.id = $1 AND EXISTS (SELECT 1 FROM sluice_registry_subject_versions v WHERE v.schema_id = s.id)`,
        [id],
      );
      const row = rows[0];
      if (!row) throw E.schemaNotFound(id);
      return { id: row.id, schemaType: 'AVRO', schema: row.schema_text, references: parseReferences(row.references_json) };
    });
  }

  /** Subject/version pairs using the schema; 40403 if no version (even soft-deleted) uses it. */
  async versionsForId(id: number, includeDeleted: boolean): Promise<SubjectVersion[]> {
    return this.guard(async () => {
      const rows = await this.store.query<VersionRow & { subject: string }>(
        `SELECT subject, version, schema_id, deleted FROM sluice_registry_subject_versions
          WHERE schema_id = $1 ORDER BY subject COLLATE "C", version`,
        [id],
      );
      if (rows.length === 0) throw E.schemaNotFound();
      return rows.filter((r) => includeDeleted || !r.deleted).map((r) => ({ subject: r.subject, version: r.version }));
    });
  }

  async subjectsForId(id: number, includeDeleted: boolean): Promise<string[]> {
    const versions = await this.versionsForId(id, includeDeleted);
    return [...new Set(versions.map((v) => v.subject))];
  }

  // ---------------------------------------------------------------- subjects and versions

  /** Subjects with at least one version (not soft-deleted unless `includeDeleted`), sorted. */
  async listSubjects(opts: { includeDeleted?: boolean; prefix?: string } = {}): Promise<string[]> {
    return this.guard(async () => {
      const params: unknown[] = [opts.includeDeleted === true];
      let prefixClause = '';
      if (opts.prefix !== undefined && opts.prefix !== '' && opts.prefix !== ':*:') {
        params.push(opts.prefix);
        prefixClause = 'AND left(subject, length($2)) = $2';
      }
      const rows = await this.store.query<{ subject: string }>(
        `SELECT subject FROM sluice_registry_subject_versions
          WHERE ($1 OR NOT deleted) ${prefixClause}
          GROUP BY subject ORDER BY subject COLLATE "C"`,
        params,
      );
      return rows.map((r) => r.subject);
    });
  }

  async listVersions(subject: string, includeDeleted: boolean): Promise<number[]> {
    return this.guard(async () => {
      const rows = await this.versionRows(this.store, subject, includeDeleted);
      if (rows.length === 0) throw E.subjectNotFound(subject);
      return rows.map((r) => r.version).sort((a, b) => a - b);
    });
  }

  /** `version` -1 is the latest version that is not soft-deleted. */
  async getVersion(subject: string, version: number, includeDeleted: boolean): Promise<SubjectSchema> {
    return this.guard(async () => {
      const row = await this.versionRow(this.store, subject, version, includeDeleted);
      if (!row) {
        if (!(await this.hasSubject(this.store, subject, includeDeleted))) throw E.subjectNotFound(subject);
        throw E.versionNotFound(version);
      }
      return this.subjectSchema(this.store, subject, row);
    });
  }

  /** Ids of the schemas referencing this subject version (which must exist, even soft-deleted). */
  async referencedBy(subject: string, version: number, includeDeleted: boolean): Promise<number[]> {
    return this.guard(async () => {
      const target = await this.getVersion(subject, version, true);
      return this.referrers(this.store, subject, target.version, includeDeleted);
    });
  }

  // ---------------------------------------------------------------- lookup and registration

  /** `POST /subjects/{subject}`: the version of the subject holding this schema. */
  async lookup(
    subject: string,
    request: SchemaRequest,
    opts: { normalize?: boolean; includeDeleted?: boolean } = {},
  ): Promise<SubjectSchema> {
    return this.guard(async () => {
      const candidate = await this.prepare(this.store, request, { validateDefaults: false, normalize: opts.normalize === true });
      const found = await this.findUnderSubject(this.store, subject, candidate, opts.includeDeleted === true);
      if (!found) {
        if (!(await this.hasSubject(this.store, subject, opts.includeDeleted === true))) throw E.subjectNotFound(subject);
        throw E.schemaNotFound();
      }
      return this.subjectSchema(this.store, subject, found);
    });
  }

  /** `POST /subjects/{subject}/versions`. An identical schema already under the subject returns its id and version. */
  async register(subject: string, request: SchemaRequest, opts: RegisterOptions = {}): Promise<RegisterResult> {
    return this.guard(async () => {
      checkSubject(subject);
      const normalize = opts.normalize === true;
      const autoVersion = request.version === undefined || request.version === 0 || request.version === LATEST;
      // As Confluent's registerOrForward: an already registered schema is answered without the
      // subject lock, whatever the mode.
      const candidate = await this.prepare(this.store, request, { validateDefaults: false, normalize });
      const existing = await this.findUnderSubject(this.store, subject, candidate, false);
      if (existing && autoVersion && (request.id === undefined || request.id < 0 || request.id === existing.schema_id)) {
        return this.registerResult(this.store, existing);
      }
      const result = await withConflictRetry(this.store, (tx) => this.registerLocked(tx, subject, request, normalize, autoVersion));
      return result;
    });
  }

  private async registerLocked(
    tx: SqlExecutor,
    subject: string,
    request: SchemaRequest,
    normalize: boolean,
    autoVersion: boolean,
  ): Promise<RegisterResult> {
    await lockSubject(tx, subject);
    const mode = await this.modeInScope(tx, subject);
    const explicitId = request.id !== undefined && request.id >= 0 ? request.id : undefined;
    if (mode === 'READONLY') throw E.operationNotPermitted(`Subject ${subject} in context ${CONTEXT} is in read-only mode`);
    if (explicitId !== undefined && mode !== 'IMPORT')
      throw E.operationNotPermitted(`Subject ${subject} in context ${CONTEXT} is not in import mode`);
    if (explicitId === undefined && mode !== 'READWRITE')
      throw E.operationNotPermitted(`Subject ${subject} in context ${CONTEXT} is not in read-write mode`);
    const importing = mode === 'IMPORT';

    const all = await this.versionRows(tx, subject, true); // newest first
    const undeleted = all.filter((r) => !r.deleted);
    const counter = await tx.query<{ last_version: number }>('SELECT last_version FROM sluice_registry_subjects WHERE subject = $1', [
      subject,
    ]);
    const nextVersion = Math.max(counter[0]?.last_version ?? 0, all[0]?.version ?? 0) + 1;

    // New schemas are validated (defaults included); imported ones are stored as given.
    const candidate = await this.prepare(tx, request, { validateDefaults: !importing, normalize });
    const sameContent = (
      await tx.query<{ id: number }>('SELECT id FROM sluice_registry_schemas WHERE content_hash = $1', [candidate.hash])
    )[0];

    // As Confluent: the same content anywhere lends its id; under this subject (live) it is the answer.
    let schemaId = explicitId;
    if (sameContent && (explicitId === undefined || explicitId === sameContent.id)) {
      const under = undeleted.find((r) => r.schema_id === sameContent.id);
      if (autoVersion && under) return this.registerResult(tx, under);
      schemaId = sameContent.id;
    }
    if (autoVersion) {
      const equivalent = await this.findEquivalent(tx, subject, candidate, false, schemaId);
      if (equivalent) return this.registerResult(tx, equivalent);
    }

    if (!importing) {
      const level = await this.compatibilityInScope(tx, subject);
      const report = await this.checkAgainst(tx, level, candidate.parsed.root, undeleted);
      if (!report.compatible) throw E.incompatible(subject, report.messages);
    }

    const version = autoVersion ? nextVersion : request.version!;
    if (!importing && version !== nextVersion) throw E.invalidSchema('Version is not one more than previous version');
    if (!Number.isInteger(version) || version < 1) throw E.invalidSchema(`Invalid version ${version}`);

    if (explicitId !== undefined) {
      const holder = (
        await tx.query<{ content_hash: string }>('SELECT content_hash FROM sluice_registry_schemas WHERE id = $1', [explicitId])
      )[0];
      if (holder && holder.content_hash !== candidate.hash) {
        throw E.operationNotPermitted(`Overwrite new schema with id ${explicitId} in context ${CONTEXT} is not permitted.`);
      }
      if (!holder) {
        if (sameContent) {
          throw E.operationNotPermitted(
            `The same schema is already registered with id ${sameContent.id}; importing it again with id ${explicitId} is not supported.`,
          );
        }
        await this.insertSchema(tx, candidate, explicitId);
      }
      this.parsedById.clear(); // imports may rewrite versions that references resolve through
    } else if (schemaId === undefined) {
      schemaId = await this.insertSchema(tx, candidate, undefined);
    }
    const id = schemaId ?? explicitId!;

    await tx.query(
      `INSERT INTO sluice_registry_subjects (subject, last_version) VALUES ($1, $2)
       ON CONFLICT (subject) DO UPDATE SET last_version = GREATEST(sluice_registry_subjects.last_version, EXCLUDED.last_version)`,
      [subject, version],
    );
    await tx.query(
      `INSERT INTO sluice_registry_subject_versions (subject, version, schema_id, deleted) VALUES ($1, $2, $3, false)
       ${importing ? 'ON CONFLICT (subject, version) DO UPDATE SET schema_id = EXCLUDED.schema_id, deleted = false' : ''}`,
      [subject, version, id],
    );
    // Confluent drops older soft-deleted versions of the same schema in the subject when it is
    // registered again, unless something references them.
    await tx.query(
      `DELETE FROM sluice_registry_subject_versions v
        WHERE v.subject = $1 AND v.schema_id = $2 AND v.deleted AND v.version < $3
          AND NOT EXISTS (SELECT 1 FROM sluice_registry_schema_references r WHERE r.subject = v.subject AND r.version = v.version)`,
      [subject, id, version],
    );
    const row = (
      await tx.query<SchemaRow>(
        'SELECT id, schema_text, normalized_text, references_json, content_hash FROM sluice_registry_schemas WHERE id = $1',
        [id],
      )
    )[0]!;
    return { id, version, schema: row.schema_text, references: parseReferences(row.references_json) };
  }

  /** Inserts the schema (with the given id, or the next one) unless a concurrent writer did; returns its id. */
  private async insertSchema(tx: SqlExecutor, c: Candidate, explicitId: number | undefined): Promise<number> {
    if (explicitId !== undefined) {
      // Serialise sequence moves so two imports cannot set it backwards.
      await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', ['sluice_registry:schema_ids']);
    }
    const params: unknown[] = [c.text, c.normalized, JSON.stringify(c.references), c.hash];
    if (explicitId !== undefined) params.push(explicitId);
    const inserted = await tx.query<{ id: number }>(
      `INSERT INTO sluice_registry_schemas (id, schema_type, schema_text, normalized_text, references_json, content_hash)
       VALUES (${explicitId === undefined ? `nextval('sluice_registry_schema_ids')::int` : '$5::int'}, 'AVRO', $1, $2, $3, $4)
       ON CONFLICT (content_hash) DO NOTHING
       RETURNING id`,
      params,
    );
    const id = inserted[0]?.id;
    if (id === undefined) {
      // A concurrent transaction committed the same schema first: use its id.
      const other = (await tx.query<{ id: number }>('SELECT id FROM sluice_registry_schemas WHERE content_hash = $1', [c.hash]))[0];
      if (!other) throw E.store('Schema disappeared while registering it');
      return other.id;
    }
    for (const [position, ref] of c.references.entries()) {
      const resolved = c.resolved[position]!;
      await tx.query(
        'INSERT INTO sluice_registry_schema_references (schema_id, position, name, subject, version) VALUES ($1, $2, $3, $4, $5)',
        [id, position, ref.name, resolved.subject, resolved.version],
      );
    }
    if (explicitId !== undefined) {
      await tx.query(
        `SELECT setval('sluice_registry_schema_ids', GREATEST($1::int, (SELECT last_value FROM sluice_registry_schema_ids)::int))`,
        [explicitId],
      );
    }
    return id;
  }

  // ---------------------------------------------------------------- deletes

  /** Soft delete (or permanent, after a soft delete) of one version; `version` -1 is the latest. */
  async deleteVersion(subject: string, version: number, permanent: boolean): Promise<number> {
    return this.guard(() =>
      withConflictRetry(this.store, async (tx) => {
        await lockSubject(tx, subject);
        const row = await this.versionRow(tx, subject, version, true);
        if (row && row.deleted && !permanent) throw E.versionSoftDeleted(subject, row.version);
        if (!row) {
          if (!(await this.hasSubject(tx, subject, true))) throw E.subjectNotFound(subject);
          throw E.versionNotFound(version);
        }
        await this.refuseWhenReadOnly(tx, subject);
        if ((await this.referrers(tx, subject, row.version, permanent)).length > 0) throw E.referenceExists(subject, row.version);
        if (permanent && !row.deleted) throw E.versionNotSoftDeleted(subject, row.version);
        if (!permanent) {
          await tx.query('UPDATE sluice_registry_subject_versions SET deleted = true WHERE subject = $1 AND version = $2', [
            subject,
            row.version,
          ]);
        } else {
          await tx.query('DELETE FROM sluice_registry_subject_versions WHERE subject = $1 AND version = $2', [subject, row.version]);
          this.byIdCache.clear();
          if (!(await this.hasSubject(tx, subject, true))) await this.dropSubjectSettings(tx, subject);
        }
        return row.version;
      }),
    );
  }

  /** Soft-deletes every version, or (`permanent`, after a soft delete) removes them. */
  async deleteSubject(subject: string, permanent: boolean): Promise<number[]> {
    return this.guard(() =>
      withConflictRetry(this.store, async (tx) => {
        await lockSubject(tx, subject);
        if (!(await this.hasSubject(tx, subject, true))) throw E.subjectNotFound(subject);
        if (!permanent && !(await this.hasSubject(tx, subject, false))) throw E.subjectSoftDeleted(subject);
        await this.refuseWhenReadOnly(tx, subject);
        const rows = (await this.versionRows(tx, subject, permanent)).reverse(); // oldest first
        for (const row of rows) {
          const referrers = await tx.query<{ subject: string }>(
            `SELECT DISTINCT v.subject FROM sluice_registry_schema_references r
               JOIN sluice_registry_subject_versions v ON v.schema_id = r.schema_id
              WHERE r.subject = $1 AND r.version = $2 AND v.subject <> $1 AND ($3 OR NOT v.deleted)`,
            [subject, row.version, permanent],
          );
          if (referrers.length > 0) throw E.referenceExists(subject, row.version);
          if (permanent && !row.deleted) throw E.subjectNotSoftDeleted(subject);
        }
        if (!permanent) {
          await tx.query('UPDATE sluice_registry_subject_versions SET deleted = true WHERE subject = $1', [subject]);
        } else {
          await tx.query('DELETE FROM sluice_registry_subject_versions WHERE subject = $1', [subject]);
          this.byIdCache.clear();
          await this.dropSubjectSettings(tx, subject);
        }
        return rows.map((r) => r.version);
      }),
    );
  }

  // ---------------------------------------------------------------- compatibility

  /**
   * `POST /compatibility/subjects/{subject}/versions[/{version}]`: `version` undefined checks
   * against every version not soft-deleted (as the level requires), a number against that one
   * version (-1: the latest; none registered is compatible).
   */
  async testCompatibility(
    subject: string,
    version: number | undefined,
    request: SchemaRequest,
    opts: { normalize?: boolean; verbose?: boolean } = {},
  ): Promise<CompatibilityReport> {
    return this.guard(async () => {
      let against: VersionRow[];
      if (version === undefined) {
        against = await this.versionRows(this.store, subject, false);
      } else {
        const row = await this.versionRow(this.store, subject, version, false);
        if (!row && version !== LATEST) throw E.versionNotFound(version);
        against = row ? [row] : [];
      }
      let candidate: Candidate;
      try {
        candidate = await this.prepare(this.store, request, { validateDefaults: true, normalize: opts.normalize === true });
      } catch (err) {
        if (opts.verbose && isRegistryError(err) && err.errorCode === 42201) return { compatible: false, messages: [err.message] };
        throw err;
      }
      const level = await this.compatibilityInScope(this.store, subject);
      return this.checkAgainst(this.store, level, candidate.parsed.root, against);
    });
  }

  /** Confluent's checker over `previous` (newest first), with its trailing context messages. */
  private async checkAgainst(
    ex: SqlExecutor,
    level: CompatibilityLevel,
    candidate: AvroNode,
    previous: VersionRow[],
  ): Promise<CompatibilityReport> {
    if (level === 'NONE' || previous.length === 0) return { compatible: true, messages: [] };
    const roots: AvroNode[] = [];
    for (const row of previous) roots.push((await this.parsedSchema(ex, row.schema_id)).root);
    const result = checkCompatibility(level, candidate, roots);
    if (result.compatible) return { compatible: true, messages: [] };
    const messages = [...result.messages];
    const index = result.previousIndex ?? 0;
    const old = previous[index]!;
    // Confluent appends the old schema's version and text after the BACKWARD (new reads old)
    // messages only; a FULL failure that is only FORWARD gets none.
    const appendOld = !level.startsWith('FULL') || checkReaderWriter(candidate, roots[index]!).length > 0;
    if (appendOld) {
      const text = (await this.schemaRow(ex, old.schema_id)).schema_text;
      messages.push(`{oldSchemaVersion: ${old.version}}`);
      messages.push(
        text.length <= MAX_SCHEMA_IN_MESSAGE
          ? `{oldSchema: '${text}'}`
          : `{oldSchema: <truncated> '${text.slice(0, MAX_SCHEMA_IN_MESSAGE)}...'}`,
      );
    }
    messages.push(`{validateFields: 'false', compatibility: '${level}'}`);
    return { compatible: false, messages };
  }

  // ---------------------------------------------------------------- config

  /** The subject's own level; with `defaultToGlobal`, the one in force for it. `null`: the global level. */
  async getCompatibility(subject: string | null, defaultToGlobal: boolean): Promise<CompatibilityLevel> {
    return this.guard(async () => {
      if (subject === null) return (await this.setting(this.store, 'config', null)) ?? DEFAULT_COMPATIBILITY;
      if (defaultToGlobal) return this.compatibilityInScope(this.store, subject);
      const own = await this.setting(this.store, 'config', subject);
      if (own === undefined) throw E.compatibilityNotConfigured(subject);
      return own;
    });
  }

  async setCompatibility(subject: string | null, level: string): Promise<CompatibilityLevel> {
    const upper = level.toUpperCase();
    if (!(COMPATIBILITY_LEVELS as readonly string[]).includes(upper)) throw E.invalidCompatibility();
    if (subject !== null) checkSubject(subject);
    return this.guard(() =>
      withConflictRetry(this.store, async (tx) => {
        await this.refuseWhenReadOnly(tx, subject);
        await upsertSetting(tx, 'config', subject, upper);
        return upper as CompatibilityLevel;
      }),
    );
  }

  /** Removes the subject's (or the global) level; returns what it was. */
  async deleteCompatibility(subject: string | null): Promise<CompatibilityLevel> {
    return this.guard(() =>
      withConflictRetry(this.store, async (tx) => {
        const own = await this.setting(tx, 'config', subject);
        if (subject !== null && own === undefined) throw E.subjectNotFound(subject);
        await this.refuseWhenReadOnly(tx, subject);
        await tx.query('DELETE FROM sluice_registry_config WHERE scope = $1', [scopeOf(subject)]);
        return own ?? DEFAULT_COMPATIBILITY;
      }),
    );
  }

  // ---------------------------------------------------------------- mode

  async getMode(subject: string | null, defaultToGlobal: boolean): Promise<RegistryMode> {
    return this.guard(async () => {
      if (subject === null) return (await this.setting(this.store, 'mode', null)) ?? DEFAULT_MODE;
      if (defaultToGlobal) return this.modeInScope(this.store, subject);
      const own = await this.setting(this.store, 'mode', subject);
      if (own === undefined) throw E.modeNotConfigured(subject);
      return own;
    });
  }

  /**
   * Entering IMPORT needs no live subject in scope (unless `force`); the soft-deleted versions
   * there are then removed for good, as Confluent does, so imported versions cannot collide.
   */
  async setMode(subject: string | null, mode: string, force: boolean): Promise<RegistryMode> {
    const upper = mode.toUpperCase();
    if (!(REGISTRY_MODES as readonly string[]).includes(upper)) throw E.invalidMode();
    if (subject !== null) checkSubject(subject);
    const next = upper as RegistryMode;
    return this.guard(() =>
      withConflictRetry(this.store, async (tx) => {
        await lockSubject(tx, subject ?? '');
        if (next === 'IMPORT' && !force && (await this.modeInScope(tx, subject)) !== 'IMPORT') {
          const live = await tx.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM sluice_registry_subject_versions WHERE NOT deleted AND ($1::text IS NULL OR subject = $1)`,
            [subject],
          );
          if ((live[0]?.n ?? 0) > 0) throw E.operationNotPermitted('Cannot import since found existing subjects');
          const dead = await tx.query<{ subject: string; version: number }>(
            `SELECT subject, version FROM sluice_registry_subject_versions WHERE ($1::text IS NULL OR subject = $1)`,
            [subject],
          );
          for (const d of dead) {
            if ((await this.referrers(tx, d.subject, d.version, true)).length > 0) throw E.referenceExists(d.subject, d.version);
          }
          await tx.query(`DELETE FROM sluice_registry_subject_versions WHERE ($1::text IS NULL OR subject = $1)`, [subject]);
        }
        await upsertSetting(tx, 'mode', subject, next);
        return next;
      }),
    );
  }

  /** Removes the subject's (or the global) mode; returns what it was. */
  async deleteMode(subject: string | null): Promise<RegistryMode> {
    return this.guard(() =>
      withConflictRetry(this.store, async (tx) => {
        const own = await this.setting(tx, 'mode', subject);
        if (own === undefined) throw E.subjectNotFound(subject ?? 'null');
        await tx.query('DELETE FROM sluice_registry_mode WHERE scope = $1', [scopeOf(subject)]);
        return own;
      }),
    );
  }

  // ---------------------------------------------------------------- internals

  /** Turns anything that is not already a registry error into 42201 (bad schema) or 50001. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof RegistryError) throw err;
      if (isSluiceError(err, 'SLUICE_ERR_SCHEMA_INVALID')) throw E.invalidSchema(err.message, err);
      throw E.store('Error in the backend data store', err);
    }
  }

  private async versionRows(ex: SqlExecutor, subject: string, includeDeleted: boolean): Promise<VersionRow[]> {
    return ex.query<VersionRow>(
      `SELECT version, schema_id, deleted FROM sluice_registry_subject_versions
        WHERE subject = $1 AND ($2 OR NOT deleted) ORDER BY version DESC`,
      [subject, includeDeleted],
    );
  }

  /** -1: the latest version not soft-deleted (whatever `includeDeleted` says, as Confluent). */
  private async versionRow(ex: SqlExecutor, subject: string, version: number, includeDeleted: boolean): Promise<VersionRow | undefined> {
    if (version === LATEST) return (await this.versionRows(ex, subject, false))[0];
    const rows = await ex.query<VersionRow>(
      'SELECT version, schema_id, deleted FROM sluice_registry_subject_versions WHERE subject = $1 AND version = $2',
      [subject, version],
    );
    const row = rows[0];
    return row && (includeDeleted || !row.deleted) ? row : undefined;
  }

  private async hasSubject(ex: SqlExecutor, subject: string, includeDeleted: boolean): Promise<boolean> {
    const rows = await ex.query('SELECT 1 FROM sluice_registry_subject_versions WHERE subject = $1 AND ($2 OR NOT deleted) LIMIT 1', [
      subject,
      includeDeleted,
    ]);
    return rows.length > 0;
  }

  private async schemaRow(ex: SqlExecutor, id: number): Promise<SchemaRow> {
    const row = (
      await ex.query<SchemaRow>(
        'SELECT id, schema_text, normalized_text, references_json, content_hash FROM sluice_registry_schemas WHERE id = $1',
        [id],
      )
    )[0];
    if (!row) throw E.store(`Schema ${id} is missing from the store`);
    return row;
  }

  private async subjectSchema(ex: SqlExecutor, subject: string, row: VersionRow): Promise<SubjectSchema> {
    const s = await this.schemaRow(ex, row.schema_id);
    return {
      subject,
      version: row.version,
      id: s.id,
      schemaType: 'AVRO',
      schema: s.schema_text,
      references: parseReferences(s.references_json),
      deleted: row.deleted,
    };
  }

  private async registerResult(ex: SqlExecutor, row: VersionRow): Promise<RegisterResult> {
    const s = await this.schemaRow(ex, row.schema_id);
    return { id: s.id, version: row.version, schema: s.schema_text, references: parseReferences(s.references_json) };
  }

  /** Schemas referencing subject@version that some version (not soft-deleted unless asked) still uses. */
  private async referrers(ex: SqlExecutor, subject: string, version: number, includeDeleted: boolean): Promise<number[]> {
    const rows = await ex.query<{ schema_id: number }>(
      `SELECT DISTINCT r.schema_id FROM sluice_registry_schema_references r
        WHERE r.subject = $1 AND r.version = $2
          AND EXISTS (SELECT 1 FROM sluice_registry_subject_versions v WHERE v.schema_id = r.schema_id AND ($3 OR NOT v.deleted))
        ORDER BY r.schema_id`,
      [subject, version, includeDeleted],
    );
    return rows.map((r) => r.schema_id);
  }

  /** The version of the subject holding this schema (newest first): same content, else an equivalent one. */
  private async findUnderSubject(ex: SqlExecutor, subject: string, c: Candidate, includeDeleted: boolean): Promise<VersionRow | undefined> {
    const exact = await ex.query<VersionRow>(
      `SELECT v.version, v.schema_id, v.deleted
         FROM sluice_registry_subject_versions v JOIN sluice_registry_schemas s ON s.id = v.schema_id
        WHERE v.subject = $1 AND ($2 OR NOT v.deleted) AND s.content_hash = $3 ORDER BY v.version DESC LIMIT 1`,
      [subject, includeDeleted, c.hash],
    );
    return exact[0] ?? this.findEquivalent(ex, subject, c, includeDeleted, undefined);
  }

  /**
   * The newest version of the subject whose schema Confluent's `ParsedSchema.canLookup` would
   * match: the same schema up to how names are spelled and attributes ordered, with the same
   * references; or, when the candidate has no references and the stored schema has some, the same
   * once the referenced types are inlined. `onlyId` restricts the search to one schema id.
   */
  private async findEquivalent(
    ex: SqlExecutor,
    subject: string,
    c: Candidate,
    includeDeleted: boolean,
    onlyId: number | undefined,
  ): Promise<VersionRow | undefined> {
    const rows = await ex.query<VersionRow & { normalized_text: string; references_json: string }>(
      `SELECT v.version, v.schema_id, v.deleted, s.normalized_text, s.references_json
         FROM sluice_registry_subject_versions v JOIN sluice_registry_schemas s ON s.id = v.schema_id
        WHERE v.subject = $1 AND ($2 OR NOT v.deleted) AND ($3::int IS NULL OR v.schema_id = $3)
        ORDER BY v.version DESC`,
      [subject, includeDeleted, onlyId ?? null],
    );
    for (const row of rows) {
      const refs = parseReferences(row.references_json);
      if (c.references.length === 0 && refs.length > 0) {
        const stored = await this.parsedSchema(ex, row.schema_id);
        stored.expanded ??= expandedNormalizedText(stored.root);
        if (stored.expanded === c.expanded) return row;
      }
      if (row.normalized_text !== c.normalized || refs.length !== c.references.length) continue;
      const resolved = refs.some((r) => r.version === LATEST) ? await this.resolveAll(ex, refs) : refs;
      if (sameReferences(c.references, c.resolved, refs, resolved)) return row;
    }
    return undefined;
  }

  /** Parses a request's schema with its references resolved. */
  private async prepare(
    ex: SqlExecutor,
    request: SchemaRequest,
    opts: { validateDefaults: boolean; normalize: boolean },
  ): Promise<Candidate> {
    const type = request.schemaType ?? 'AVRO';
    if (type !== 'AVRO') throw E.invalidSchema(`Unsupported schema type ${type}: this registry stores AVRO schemas only`);
    if (typeof request.schema !== 'string' || request.schema.trim() === '') throw E.invalidSchema('Empty schema');
    const references = request.references ?? [];
    const { named, resolved } = await this.resolveReferences(ex, references, 0);
    let parsed;
    try {
      parsed = parseAvroSchema(request.schema, { namedTypes: named, validateDefaults: opts.validateDefaults });
    } catch (err) {
      if (isSluiceError(err, 'SLUICE_ERR_SCHEMA_INVALID'))
        throw E.invalidSchema(`Invalid schema of type AVRO, details: ${err.message}`, err);
      throw err;
    }
    const all = new Map(named);
    for (const [k, v] of parsed.defined) all.set(k, v);
    const external = new Set(named.keys());
    const normalized = schemaText(parsed.root, external, true);
    const text = opts.normalize ? normalized : schemaText(parsed.root, external, false);
    return {
      parsed: { root: parsed.root, named: all },
      text,
      normalized,
      expanded: expandedNormalizedText(parsed.root),
      references,
      resolved,
      hash: contentHash('AVRO', text, references),
    };
  }

  /** The named types brought by `references` (each resolved to a registered version) and where each resolved to. */
  private async resolveReferences(
    ex: SqlExecutor,
    references: readonly SchemaReference[],
    depth: number,
  ): Promise<{ named: Map<string, NamedNode>; resolved: SubjectVersion[] }> {
    if (depth > MAX_REFERENCE_DEPTH) throw E.invalidSchema('Invalid schema of type AVRO, details: references nest too deeply');
    const named = new Map<string, NamedNode>();
    const resolved: SubjectVersion[] = [];
    for (const ref of references) {
      const row = await this.referencedRow(ex, ref);
      resolved.push({ subject: ref.subject, version: row.version });
      const parsed = await this.parsedSchema(ex, row.schema_id, depth + 1);
      for (const [k, v] of parsed.named) named.set(k, v);
    }
    return { named, resolved };
  }

  private async resolveAll(ex: SqlExecutor, references: readonly SchemaReference[]): Promise<SubjectVersion[]> {
    const out: SubjectVersion[] = [];
    for (const ref of references) {
      try {
        out.push({ subject: ref.subject, version: (await this.referencedRow(ex, ref)).version });
      } catch {
        out.push({ subject: ref.subject, version: ref.version });
      }
    }
    return out;
  }

  private async referencedRow(ex: SqlExecutor, ref: SchemaReference): Promise<VersionRow> {
    if (typeof ref?.subject !== 'string' || typeof ref.name !== 'string' || !Number.isInteger(ref.version)) {
      throw E.invalidSchema('Invalid schema of type AVRO, details: a reference needs "name", "subject" and an integer "version"');
    }
    const row = await this.versionRow(ex, ref.subject, ref.version, true);
    if (!row)
      throw E.invalidSchema(
        `Invalid schema of type AVRO, details: No schema reference found for subject "${ref.subject}" and version ${ref.version}`,
      );
    return row;
  }

  /** A stored schema parsed (without re-validating defaults), cached by id: ids never change content. */
  private async parsedSchema(ex: SqlExecutor, id: number, depth = 0): Promise<Parsed> {
    const cached = this.parsedById.get(id);
    if (cached) return cached;
    const row = await this.schemaRow(ex, id);
    const { named } = await this.resolveReferences(ex, parseReferences(row.references_json), depth);
    let parsed;
    try {
      parsed = parseAvroSchema(row.schema_text, { namedTypes: named });
    } catch (err) {
      throw E.store(`Stored schema ${id} no longer parses: ${(err as Error).message}`, err);
    }
    const all = new Map(named);
    for (const [k, v] of parsed.defined) all.set(k, v);
    const entry: Parsed = { root: parsed.root, named: all };
    if (this.parsedById.size >= PARSE_CACHE_LIMIT) this.parsedById.delete(this.parsedById.keys().next().value!);
    this.parsedById.set(id, entry);
    return entry;
  }

  private async compatibilityInScope(ex: SqlExecutor, subject: string): Promise<CompatibilityLevel> {
    return (await this.setting(ex, 'config', subject)) ?? (await this.setting(ex, 'config', null)) ?? DEFAULT_COMPATIBILITY;
  }

  private async modeInScope(ex: SqlExecutor, subject: string | null): Promise<RegistryMode> {
    return (
      (subject === null ? undefined : await this.setting(ex, 'mode', subject)) ?? (await this.setting(ex, 'mode', null)) ?? DEFAULT_MODE
    );
  }

  private async refuseWhenReadOnly(ex: SqlExecutor, subject: string | null): Promise<void> {
    if ((await this.modeInScope(ex, subject)) === 'READONLY') {
      throw E.operationNotPermitted(`Subject ${subject ?? 'null'} in context ${CONTEXT} is in read-only mode`);
    }
  }

  private async setting(ex: SqlExecutor, table: 'config', subject: string | null): Promise<CompatibilityLevel | undefined>;
  private async setting(ex: SqlExecutor, table: 'mode', subject: string | null): Promise<RegistryMode | undefined>;
  private async setting(ex: SqlExecutor, table: 'config' | 'mode', subject: string | null): Promise<string | undefined> {
    const sql =
      table === 'config'
        ? 'SELECT compatibility AS value FROM sluice_registry_config WHERE scope = $1'
        : 'SELECT mode AS value FROM sluice_registry_mode WHERE scope = $1';
    return (await ex.query<{ value: string }>(sql, [scopeOf(subject)]))[0]?.value;
  }

  private async dropSubjectSettings(tx: SqlExecutor, subject: string): Promise<void> {
    await tx.query('DELETE FROM sluice_registry_config WHERE scope = $1', [scopeOf(subject)]);
    await tx.query('DELETE FROM sluice_registry_mode WHERE scope = $1', [scopeOf(subject)]);
  }
}

function scopeOf(subject: string | null): string {
  return subject === null ? 'global' : `subject:${subject}`;
}

async function upsertSetting(tx: SqlExecutor, table: 'config' | 'mode', subject: string | null, value: string): Promise<void> {
  const sql =
    table === 'config'
      ? 'INSERT INTO sluice_registry_config (scope, compatibility) VALUES ($1, $2) ON CONFLICT (scope) DO UPDATE SET compatibility = EXCLUDED.compatibility'
      : 'INSERT INTO sluice_registry_mode (scope, mode) VALUES ($1, $2) ON CONFLICT (scope) DO UPDATE SET mode = EXCLUDED.mode';
  await tx.query(sql, [scopeOf(subject), value]);
}

/** Serialises writers of one subject across processes sharing the database, until the transaction ends. */
async function lockSubject(tx: SqlExecutor, subject: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`sluice_registry:subject:${subject}`]);
}

/** As Confluent's QualifiedSubject.isValidSubject: no control characters, not a reserved name. */
function checkSubject(subject: string): void {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(subject) || subject === '__GLOBAL' || subject === '__EMPTY') throw E.invalidSubject(subject);
}

function parseReferences(json: string): SchemaReference[] {
  return JSON.parse(json) as SchemaReference[];
}

function sameReferences(
  a: readonly SchemaReference[],
  aResolved: readonly SubjectVersion[],
  b: readonly SchemaReference[],
  bResolved: readonly SubjectVersion[],
): boolean {
  if (a.length !== b.length) return false;
  return a.every((r, i) => r.name === b[i]!.name && r.subject === b[i]!.subject && aResolved[i]!.version === bResolved[i]!.version);
}
