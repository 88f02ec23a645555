/**
 * SCIM 2.0 (RFC 7643 resources, RFC 7644 protocol) without I/O: the error shape, filters, paths and PATCH
 * applied to a resource held as a plain JSON document. The service (scim-service.ts) turns users and
 * groups into such documents, patches them here, and stores what changed.
 *
 * What identity providers send, and is accepted:
 * - operations in any case (`Add`, `Replace`, `Remove`: Entra; `add`, `replace`, `remove`: Okta);
 * - booleans as strings (`"False"`: Entra);
 * - a PATCH without path whose value holds attribute paths as keys (`{"name.givenName": "x"}`,
 *   `{"urn:...:enterprise:2.0:User:department": "y"}`), or plain attributes (`{"active": false}`: Okta);
 * - value filters in paths (`emails[type eq "work"].value`, `members[value eq "<id>"]`: Okta's member removal);
 * - `remove` of `members` with a value list (Entra's member removal).
 * Attribute names are case-insensitive (RFC 7643 §2.1).
 */

export const SCIM_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const SCIM_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const SCIM_ENTERPRISE_USER = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const SCIM_LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const SCIM_PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const SCIM_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

/** A refusal the SCIM client gets as `urn:ietf:params:scim:api:messages:2.0:Error` with this status. */
export class ScimError extends Error {
  readonly status: number;
  readonly scimType: ScimType | undefined;
  constructor(status: number, detail: string, scimType?: ScimType) {
    super(detail);
    this.name = 'ScimError';
    this.status = status;
    this.scimType = scimType;
  }
}

export function scimErrorBody(status: number, detail: string, scimType?: ScimType): Record<string, unknown> {
  return { schemas: [SCIM_ERROR], status: String(status), ...(scimType ? { scimType } : {}), detail };
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type ScimDoc = { [k: string]: Json };

// ---------------------------------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------------------------------

/** One `attr eq value` comparison; `valueFilter` for `members[value eq "x"]`. */
export interface FilterTerm {
  /** Lower-cased attribute path, e.g. `username`, `externalid`, `members.value`. */
  attr: string;
  value: string | boolean | null;
}

const TOKEN = /\s*("(?:[^"\\]|\\.)*"|\[|\]|[^\s[\]"]+)/y;

function tokenize(text: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  let m = TOKEN.exec(text);
  while (m) {
    out.push(m[1] as string);
    if (TOKEN.lastIndex >= text.length) break;
    m = TOKEN.exec(text);
  }
  if (out.join('').replace(/\s/g, '').length !== text.replace(/\s/g, '').length)
    throw new ScimError(400, `cannot read the filter "${text.slice(0, 200)}"`, 'invalidFilter');
  return out;
}

function literal(tok: string | undefined, text: string): string | boolean | null {
  if (tok === undefined) throw new ScimError(400, `the filter "${text.slice(0, 200)}" ends early`, 'invalidFilter');
  if (tok.startsWith('"')) {
    try {
      return JSON.parse(tok) as string;
    } catch {
      throw new ScimError(400, `bad string ${tok.slice(0, 100)} in the filter`, 'invalidFilter');
    }
  }
  const l = tok.toLowerCase();
  if (l === 'true') return true;
  if (l === 'false') return false;
  if (l === 'null') return null;
  throw new ScimError(400, `the filter value ${tok.slice(0, 100)} must be a quoted string, true, false or null`, 'invalidFilter');
}

/**
 * Parses `attr eq value [and attr eq value ...]`, with `attr[sub eq value]` as a term (Entra asks
 * `id eq "g" and members[value eq "u"]`). Only `eq` and `and` are supported; anything else is a 400
 * invalidFilter naming what was not understood. `allowed` lists the lower-cased attributes accepted.
 */
export function parseFilter(text: string, allowed: readonly string[]): FilterTerm[] {
  if (text.length > 1000) throw new ScimError(400, 'the filter is too long', 'invalidFilter');
  const toks = tokenize(text.trim());
  const terms: FilterTerm[] = [];
  let i = 0;
  const check = (attr: string) => {
    if (!allowed.includes(attr))
      throw new ScimError(400, `filtering on ${attr} is not supported (use ${allowed.join(', ')})`, 'invalidFilter');
  };
  const eq = (op: string | undefined) => {
    if (op?.toLowerCase() !== 'eq')
      throw new ScimError(400, `the filter operator ${op ?? '(none)'} is not supported; only eq (and "and") are`, 'invalidFilter');
  };
  while (i < toks.length) {
    const attr = stripSchema((toks[i++] as string).toLowerCase());
    if (toks[i] === '[') {
      const sub = (toks[i + 1] ?? '').toLowerCase();
      eq(toks[i + 2]);
      const value = literal(toks[i + 3], text);
      if (toks[i + 4] !== ']') throw new ScimError(400, 'a value filter must end with ]', 'invalidFilter');
      i += 5;
      check(`${attr}.${sub}`);
      terms.push({ attr: `${attr}.${sub}`, value });
    } else {
      eq(toks[i++]);
      const value = literal(toks[i++], text);
      check(attr);
      terms.push({ attr, value });
    }
    if (i < toks.length) {
      if (toks[i]?.toLowerCase() !== 'and')
        throw new ScimError(400, `"${toks[i]?.slice(0, 50)}" is not supported in filters; only eq and "and" are`, 'invalidFilter');
      i++;
      if (i >= toks.length) throw new ScimError(400, 'the filter ends with "and"', 'invalidFilter');
    }
  }
  if (terms.length === 0) throw new ScimError(400, 'the filter is empty', 'invalidFilter');
  return terms;
}

function stripSchema(attr: string): string {
  for (const urn of [SCIM_USER, SCIM_GROUP]) if (attr.startsWith(`${urn.toLowerCase()}:`)) return attr.slice(urn.length + 1);
  return attr;
}

// ---------------------------------------------------------------------------------------------------
// Paths and PATCH
// ---------------------------------------------------------------------------------------------------

interface ParsedPath {
  /** Extension schema URN holding the attribute, when the path names one. */
  extension: string | undefined;
  attr: string;
  filter: FilterTerm | undefined;
  sub: string | undefined;
}

const KNOWN_EXTENSIONS = [SCIM_ENTERPRISE_USER];

export function parsePath(path: string): ParsedPath {
  let rest = path.trim();
  let extension: string | undefined;
  const lower = rest.toLowerCase();
  for (const urn of [SCIM_USER, SCIM_GROUP]) {
    if (lower.startsWith(`${urn.toLowerCase()}:`)) rest = rest.slice(urn.length + 1);
  }
  for (const urn of KNOWN_EXTENSIONS) {
    if (lower === urn.toLowerCase()) return { extension: undefined, attr: urn, filter: undefined, sub: undefined };
    if (lower.startsWith(`${urn.toLowerCase()}:`)) {
      extension = urn;
      rest = rest.slice(urn.length + 1);
    }
  }
  if (lower.startsWith('urn:') && extension === undefined && rest === path.trim())
    throw new ScimError(400, `the schema of path "${path.slice(0, 200)}" is not supported`, 'invalidPath');
  const m = /^([A-Za-z][\w$-]*)(?:\[\s*([A-Za-z][\w$-]*)\s+(\S+)\s+(.+?)\s*\])?(?:\.([A-Za-z][\w$-]*))?$/.exec(rest);
  if (!m) throw new ScimError(400, `cannot read the path "${path.slice(0, 200)}"`, 'invalidPath');
  let filter: FilterTerm | undefined;
  if (m[2] !== undefined) {
    if (m[3]?.toLowerCase() !== 'eq') throw new ScimError(400, 'only eq is supported in path filters', 'invalidFilter');
    filter = { attr: m[2].toLowerCase(), value: literal(m[4], path) };
  }
  return { extension, attr: m[1] as string, filter, sub: m[5] };
}

/** The key of `obj` matching `name` case-insensitively, or `name` itself when absent. */
function keyOf(obj: ScimDoc, name: string): string {
  const l = name.toLowerCase();
  return Object.keys(obj).find((k) => k.toLowerCase() === l) ?? name;
}

function isObject(v: Json | undefined): v is ScimDoc {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function matches(el: Json, f: FilterTerm): boolean {
  if (!isObject(el)) return false;
  const v = el[keyOf(el, f.attr)];
  if (typeof v === 'string' && typeof f.value === 'string') return v.toLowerCase() === f.value.toLowerCase();
  return v === f.value || (v === undefined && f.value === null);
}

function sameElement(a: Json, b: Json): boolean {
  if (isObject(a) && isObject(b) && 'value' in a && 'value' in b) return a.value === b.value;
  return JSON.stringify(a) === JSON.stringify(b);
}

export interface PatchOperation {
  op: string;
  path?: string | undefined;
  value?: Json | undefined;
}

/** Reads a PatchOp request body; 400 invalidSyntax when it is not one. */
export function readPatch(body: unknown): PatchOperation[] {
  const ops = (body as { Operations?: unknown } | null)?.Operations;
  if (!Array.isArray(ops) || ops.length === 0) throw new ScimError(400, 'a PATCH needs an Operations array', 'invalidSyntax');
  if (ops.length > 1000) throw new ScimError(400, 'too many operations in one PATCH', 'tooMany');
  return ops.map((o: unknown) => {
    if (!isObject(o as Json)) throw new ScimError(400, 'each operation must be an object', 'invalidSyntax');
    const op = (o as ScimDoc).op;
    const path = (o as ScimDoc).path;
    if (typeof op !== 'string') throw new ScimError(400, 'each operation needs an op', 'invalidSyntax');
    if (path !== undefined && path !== null && typeof path !== 'string') throw new ScimError(400, 'path must be a string', 'invalidPath');
    return { op, path: typeof path === 'string' && path.trim() !== '' ? path : undefined, value: (o as ScimDoc).value };
  });
}

/** Applies the operations to a copy of `doc` (RFC 7644 §3.5.2) and returns it. */
export function applyPatch(doc: ScimDoc, ops: PatchOperation[]): ScimDoc {
  const out = structuredClone(doc);
  for (const o of ops) {
    const op = o.op.toLowerCase();
    if (op !== 'add' && op !== 'replace' && op !== 'remove')
      throw new ScimError(400, `unknown PATCH op "${o.op.slice(0, 20)}" (add, replace or remove)`, 'invalidSyntax');
    if (o.path === undefined) {
      if (op === 'remove') throw new ScimError(400, 'remove needs a path', 'noTarget');
      if (!isObject(o.value ?? null)) throw new ScimError(400, `${o.op} without a path needs an object value`, 'invalidValue');
      for (const [k, v] of Object.entries(o.value as ScimDoc)) {
        if (['id', 'schemas', 'meta'].includes(k.toLowerCase())) continue;
        // An extension object as a key: its attributes, one by one.
        if (KNOWN_EXTENSIONS.some((u) => u.toLowerCase() === k.toLowerCase()) && isObject(v)) {
          for (const [ek, ev] of Object.entries(v)) applyOne(out, op, `${k}:${ek}`, ev);
        } else applyOne(out, op, k, v);
      }
    } else applyOne(out, op, o.path, o.value);
  }
  return out;
}

function applyOne(doc: ScimDoc, op: 'add' | 'replace' | 'remove', path: string, value: Json | undefined): void {
  const p = parsePath(path);
  let container = doc;
  if (p.extension !== undefined) {
    const k = keyOf(doc, p.extension);
    if (!isObject(doc[k])) {
      if (op === 'remove') return;
      doc[k] = {};
    }
    container = doc[k] as ScimDoc;
  }
  const key = keyOf(container, p.attr);
  if (['id', 'meta', 'schemas'].includes(key.toLowerCase())) return;
  const current = container[key];

  if (p.filter) {
    const list = Array.isArray(current) ? current : [];
    const hits = list.filter((el) => matches(el, p.filter as FilterTerm));
    if (op === 'remove') {
      if (p.sub === undefined) container[key] = list.filter((el) => !hits.includes(el));
      else for (const el of hits) delete (el as ScimDoc)[keyOf(el as ScimDoc, p.sub)];
      return;
    }
    if (value === undefined) throw new ScimError(400, `${op} of ${path.slice(0, 100)} needs a value`, 'invalidValue');
    if (hits.length === 0) {
      // Entra adds `emails[type eq "work"].value` when no work address exists yet: create the element.
      const el: ScimDoc = { [p.filter.attr]: p.filter.value };
      if (p.sub === undefined) {
        if (!isObject(value)) throw new ScimError(400, `the value of ${path.slice(0, 100)} must be an object`, 'invalidValue');
        Object.assign(el, value);
      } else el[p.sub] = value;
      container[key] = [...list, el];
      return;
    }
    for (const el of hits as ScimDoc[]) {
      if (p.sub === undefined) {
        if (!isObject(value)) throw new ScimError(400, `the value of ${path.slice(0, 100)} must be an object`, 'invalidValue');
        Object.assign(el, value);
      } else el[keyOf(el, p.sub)] = value;
    }
    return;
  }

  if (p.sub !== undefined) {
    if (!isObject(current)) {
      if (op === 'remove') return;
      container[key] = {};
    }
    const obj = container[key] as ScimDoc;
    if (op === 'remove') delete obj[keyOf(obj, p.sub)];
    else {
      if (value === undefined) throw new ScimError(400, `${op} of ${path.slice(0, 100)} needs a value`, 'invalidValue');
      obj[keyOf(obj, p.sub)] = value;
    }
    return;
  }

  if (op === 'remove') {
    // Entra removes members by sending them as the value: remove those elements only.
    if (Array.isArray(current) && value !== undefined && value !== null) {
      const gone = Array.isArray(value) ? value : [value];
      container[key] = current.filter((el) => !gone.some((g) => sameElement(el, g)));
    } else delete container[key];
    return;
  }
  if (value === undefined) throw new ScimError(400, `${op} of ${path.slice(0, 100)} needs a value`, 'invalidValue');
  if (op === 'add' && (Array.isArray(current) || Array.isArray(value))) {
    const list = Array.isArray(current) ? [...current] : current === undefined || current === null ? [] : [current];
    for (const v of Array.isArray(value) ? value : [value]) if (!list.some((el) => sameElement(el, v))) list.push(v);
    container[key] = list;
  } else if (op === 'add' && isObject(current) && isObject(value)) {
    Object.assign(current, value);
  } else {
    container[key] = value;
  }
}

// ---------------------------------------------------------------------------------------------------
// Reading resources
// ---------------------------------------------------------------------------------------------------

/** `true`/`false`, or Entra's `"True"`/`"False"`; anything else is a 400 invalidValue. */
export function readBoolean(v: Json | undefined, what: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  throw new ScimError(400, `${what} must be true or false`, 'invalidValue');
}

function readString(v: Json | undefined, what: string, max = 256): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ScimError(400, `${what} must be a string`, 'invalidValue');
  if (v.length > max) throw new ScimError(400, `${what} must be at most ${max} characters`, 'invalidValue');
  return v;
}

/** Attributes Winroll keeps itself rather than in the stored attribute bag. */
const USER_OWN = ['id', 'meta', 'schemas', 'username', 'displayname', 'active', 'externalid', 'password', 'groups'];
const GROUP_OWN = ['id', 'meta', 'schemas', 'displayname', 'externalid', 'members'];

export interface ScimUserInput {
  userName: string;
  displayName: string | null;
  active: boolean;
  externalId: string | null;
  /** Everything else the client sent (name, emails, the enterprise extension, ...), handed back on reads. */
  attributes: ScimDoc;
}

function asDoc(body: unknown, what: string): ScimDoc {
  if (!isObject(body as Json)) throw new ScimError(400, `the ${what} must be a JSON object`, 'invalidSyntax');
  return body as ScimDoc;
}

/**
 * A User resource from a POST/PUT body or a patched document. The password is dropped: synced users sign
 * in through their identity provider, and a sync never sets a Winroll password.
 */
export function readUser(body: unknown): ScimUserInput {
  const doc = asDoc(body, 'User');
  const userName = readString(doc[keyOf(doc, 'userName')], 'userName')?.trim();
  if (!userName) throw new ScimError(400, 'userName is required', 'invalidValue');
  const displayName = readString(doc[keyOf(doc, 'displayName')], 'displayName')?.trim() || formattedName(doc[keyOf(doc, 'name')]) || null;
  const attributes: ScimDoc = {};
  for (const [k, v] of Object.entries(doc)) if (!USER_OWN.includes(k.toLowerCase())) attributes[k] = v;
  return {
    userName,
    displayName,
    active: readBoolean(doc[keyOf(doc, 'active')], 'active') ?? true,
    externalId: readString(doc[keyOf(doc, 'externalId')], 'externalId')?.trim() || null,
    attributes,
  };
}

function formattedName(name: Json | undefined): string | undefined {
  if (!isObject(name)) return undefined;
  const f = name[keyOf(name, 'formatted')];
  if (typeof f === 'string' && f.trim()) return f.trim().slice(0, 256);
  const parts = [name[keyOf(name, 'givenName')], name[keyOf(name, 'familyName')]].filter(
    (x): x is string => typeof x === 'string' && x.trim() !== '',
  );
  return parts.length ? parts.join(' ').slice(0, 256) : undefined;
}

export interface ScimMember {
  value: string;
  /** 'User' or 'Group' when the client says; resolved by id otherwise. */
  type: string | undefined;
}

export interface ScimGroupInput {
  displayName: string;
  externalId: string | null;
  /** Undefined when the body does not mention members (keep them). */
  members: ScimMember[] | undefined;
  attributes: ScimDoc;
}

export function readGroup(body: unknown): ScimGroupInput {
  const doc = asDoc(body, 'Group');
  const displayName = readString(doc[keyOf(doc, 'displayName')], 'displayName')?.trim();
  if (!displayName) throw new ScimError(400, 'displayName is required', 'invalidValue');
  const raw = doc[keyOf(doc, 'members')];
  let members: ScimMember[] | undefined;
  if (raw !== undefined && raw !== null) {
    if (!Array.isArray(raw)) throw new ScimError(400, 'members must be an array', 'invalidValue');
    members = raw.map((m) => {
      const value = isObject(m) ? m[keyOf(m, 'value')] : undefined;
      if (typeof value !== 'string' || value === '') throw new ScimError(400, 'each member needs a value (the member id)', 'invalidValue');
      const type = isObject(m) ? m[keyOf(m, 'type')] : undefined;
      return { value, type: typeof type === 'string' ? type : undefined };
    });
  }
  const attributes: ScimDoc = {};
  for (const [k, v] of Object.entries(doc)) if (!GROUP_OWN.includes(k.toLowerCase())) attributes[k] = v;
  return {
    displayName,
    externalId: readString(doc[keyOf(doc, 'externalId')], 'externalId')?.trim() || null,
    members,
    attributes,
  };
}

// ---------------------------------------------------------------------------------------------------
// Writing resources
// ---------------------------------------------------------------------------------------------------

export interface ScimMeta {
  resourceType: 'User' | 'Group';
  created: Date;
  lastModified: Date;
  location: string;
}

function meta(m: ScimMeta): ScimDoc {
  return {
    resourceType: m.resourceType,
    created: m.created.toISOString(),
    lastModified: m.lastModified.toISOString(),
    location: m.location,
    version: `W/"${m.lastModified.getTime().toString(36)}"`,
  };
}

export function userResource(u: {
  id: string;
  userName: string;
  displayName: string | null;
  active: boolean;
  externalId: string | null;
  attributes: ScimDoc;
  meta: ScimMeta;
}): ScimDoc {
  const schemas: Json[] = [SCIM_USER];
  if (Object.keys(u.attributes).some((k) => k.toLowerCase() === SCIM_ENTERPRISE_USER.toLowerCase())) schemas.push(SCIM_ENTERPRISE_USER);
  return {
    ...u.attributes,
    schemas,
    id: u.id,
    ...(u.externalId === null ? {} : { externalId: u.externalId }),
    userName: u.userName,
    ...(u.displayName === null ? {} : { displayName: u.displayName }),
    active: u.active,
    meta: meta(u.meta),
  };
}

export function groupResource(g: {
  id: string;
  displayName: string;
  externalId: string | null;
  members: Array<{ value: string; type: 'User' | 'Group'; display: string | null; ref: string }> | undefined;
  attributes: ScimDoc;
  meta: ScimMeta;
}): ScimDoc {
  return {
    ...g.attributes,
    schemas: [SCIM_GROUP],
    id: g.id,
    ...(g.externalId === null ? {} : { externalId: g.externalId }),
    displayName: g.displayName,
    ...(g.members === undefined
      ? {}
      : {
          members: g.members.map((m) => ({
            value: m.value,
            type: m.type,
            $ref: m.ref,
            ...(m.display === null ? {} : { display: m.display }),
          })),
        }),
    meta: meta(g.meta),
  };
}

export function listResponse(resources: ScimDoc[], total: number, startIndex: number): ScimDoc {
  return { schemas: [SCIM_LIST], totalResults: total, startIndex, itemsPerPage: resources.length, Resources: resources };
}

/** startIndex (1-based, default 1) and count (default 100, at most 200; 0 asks for the total only). */
export function readPaging(q: { startIndex?: string | undefined; count?: string | undefined }): { startIndex: number; count: number } {
  const num = (v: string | undefined, what: string, dflt: number): number => {
    if (v === undefined || v === '') return dflt;
    if (!/^-?\d{1,9}$/.test(v)) throw new ScimError(400, `${what} must be an integer`, 'invalidValue');
    return Number(v);
  };
  const startIndex = Math.max(1, num(q.startIndex, 'startIndex', 1));
  const count = Math.min(MAX_PAGE, Math.max(0, num(q.count, 'count', DEFAULT_PAGE)));
  return { startIndex, count };
}

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 200;

// ---------------------------------------------------------------------------------------------------
// Discovery documents (RFC 7644 §4)
// ---------------------------------------------------------------------------------------------------

export function serviceProviderConfig(base: string): ScimDoc {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
    documentationUri: 'https://datatracker.ietf.org/doc/html/rfc7644',
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_PAGE },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'Bearer token',
        description: 'A token created with `winroll scim token create`, sent as Authorization: Bearer.',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
  };
}

export function resourceTypes(base: string): ScimDoc[] {
  return [
    {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'Directory users (their enabled state and groups decide who may enroll)',
      schema: SCIM_USER,
      schemaExtensions: [{ schema: SCIM_ENTERPRISE_USER, required: false }],
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/User` },
    },
    {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'Groups of users and of groups (nested membership counts)',
      schema: SCIM_GROUP,
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/Group` },
    },
  ];
}

const attr = (name: string, type: string, o: Record<string, Json> = {}): ScimDoc => ({
  name,
  type,
  multiValued: false,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
  ...o,
});

export function schemas(base: string): ScimDoc[] {
  const sub = (n: string) => attr(n, 'string');
  return [
    {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
      id: SCIM_USER,
      name: 'User',
      description: 'User account',
      attributes: [
        attr('userName', 'string', { required: true, uniqueness: 'server' }),
        attr('name', 'complex', { subAttributes: ['formatted', 'familyName', 'givenName'].map(sub) }),
        attr('displayName', 'string'),
        attr('active', 'boolean'),
        attr('emails', 'complex', { multiValued: true, subAttributes: ['value', 'type', 'display'].map(sub) }),
        attr('password', 'string', { mutability: 'writeOnly', returned: 'never' }),
      ],
      meta: { resourceType: 'Schema', location: `${base}/Schemas/${SCIM_USER}` },
    },
    {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
      id: SCIM_GROUP,
      name: 'Group',
      description: 'Group',
      attributes: [
        attr('displayName', 'string', { required: true }),
        attr('members', 'complex', {
          multiValued: true,
          subAttributes: [
            attr('value', 'string', { mutability: 'immutable' }),
            attr('type', 'string', { canonicalValues: ['User', 'Group'] }),
          ],
        }),
      ],
      meta: { resourceType: 'Schema', location: `${base}/Schemas/${SCIM_GROUP}` },
    },
    {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
      id: SCIM_ENTERPRISE_USER,
      name: 'EnterpriseUser',
      description: 'Enterprise user (kept and returned as sent)',
      attributes: ['employeeNumber', 'department', 'costCenter', 'organization', 'division'].map(sub),
      meta: { resourceType: 'Schema', location: `${base}/Schemas/${SCIM_ENTERPRISE_USER}` },
    },
  ];
}
