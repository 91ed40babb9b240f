import { createRequire } from 'node:module';
import path from 'node:path';
import Metronome from '@metronome/sdk';
import { VERSION } from '@metronome/sdk/version';
import ts from 'typescript';

/**
 * The surface of `@metronome/sdk` as the package itself describes it: every method of every
 * resource of a constructed client, with the HTTP verb and path its compiled code requests, and
 * the request fields of a method's params interface as its type declarations name them.
 */

export interface SdkMethod {
  /** The call as a user writes it, `v1.contracts.create`. */
  name: string;
  /** `GET`, `POST`, `DELETE`…, or `null` for a method that makes no request (`webhooks.unwrap`). */
  verb: string | null;
  /** The path with its parameters in braces, `/v1/customers/{customer_id}/invoices`, or `null`. */
  path: string | null;
}

/** Every method of every resource reachable from a client, sorted by name. */
export function sdkMethods(): SdkMethod[] {
  const client = new Metronome({ bearerToken: 'unused', baseURL: 'http://127.0.0.1:1' });
  const methods: SdkMethod[] = [];
  const visit = (resource: object, prefix: string) => {
    for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(resource))) {
      if (name === 'constructor' || name.startsWith('_')) continue;
      const member = (resource as Record<string, unknown>)[name];
      if (typeof member !== 'function') continue;
      methods.push({ name: `${prefix}.${name}`, ...requestOf(member.toString()) });
    }
    for (const [name, value] of Object.entries(resource)) {
      if (name.startsWith('_') || !isResource(value)) continue;
      visit(value, `${prefix}.${name}`);
    }
  };
  for (const [name, value] of Object.entries(client)) {
    if (isResource(value)) visit(value, name);
  }
  // Webhook helpers that only serve `unwrap` are not a user's calls.
  const helpers = new Set(['webhooks.validateSecret', 'webhooks.signPayload', 'webhooks.assert', 'webhooks.timingSafeEqual']);
  return methods.filter((method) => !helpers.has(method.name)).sort((a, b) => a.name.localeCompare(b.name));
}

function isResource(value: unknown): value is object {
  return typeof value === 'object' && value !== null && '_client' in value;
}

/** Reads `this._client.post(path\`/v1/…/${id}\`, …)` out of a compiled method's source. */
function requestOf(source: string): Pick<SdkMethod, 'verb' | 'path'> {
  const call = /this\._client\.(get|post|put|patch|delete|getAPIList)\(\s*(?:\(0, path_1\.path\)\s*|path\s*)?[`'](.*?)[`']/s.exec(source);
  if (!call) return { verb: null, path: null };
  const [, how, template] = call as unknown as [string, string, string];
  const verb = how === 'getAPIList' ? (/method:\s*'(\w+)'/.exec(source)?.[1] ?? 'get') : how;
  return { verb: verb.toUpperCase(), path: template.replace(/\$\{(\w+)\}/g, '{$1}') };
}

/**
 * The request fields of a params type exported by the SDK, `V1.ContractCreateParams`, as dotted
 * paths: `commits[].access_schedule.schedule_items[].amount`. Nested objects are entered down to
 * `depth` levels (1: top-level fields only); union members contribute every field any of them has.
 */
export function sdkRequestFields(typeName: string, depth: number): string[] {
  const checker = paramsProgram().checker;
  const type = paramsProgram().typeOf(typeName);
  const fields = new Set<string>();
  const visit = (current: ts.Type, prefix: string, level: number) => {
    for (const property of propertiesOf(checker, current)) {
      const fieldName = `${prefix}${property.name}`;
      fields.add(fieldName);
      if (level >= depth) continue;
      const propertyType = checker.getNonNullableType(checker.getTypeOfSymbol(property));
      const element = arrayElement(checker, propertyType);
      const inner = element ?? propertyType;
      if (isObjectLike(checker, inner)) visit(inner, `${fieldName}${element ? '[]' : ''}.`, level + 1);
    }
  };
  visit(type, '', 1);
  return [...fields].sort();
}

function propertiesOf(checker: ts.TypeChecker, type: ts.Type): ts.Symbol[] {
  const members = type.isUnion() ? type.types : [type];
  const byName = new Map<string, ts.Symbol>();
  for (const member of members) {
    for (const property of checker.getPropertiesOfType(member)) {
      if (!byName.has(property.name)) byName.set(property.name, property);
    }
  }
  return [...byName.values()];
}

function arrayElement(checker: ts.TypeChecker, type: ts.Type): ts.Type | undefined {
  if (!checker.isArrayType(type)) return undefined;
  return checker.getTypeArguments(type as ts.TypeReference)[0];
}

function isObjectLike(checker: ts.TypeChecker, type: ts.Type): boolean {
  const members = type.isUnion() ? type.types : [type];
  return members.some(
    (member) =>
      (member.flags & ts.TypeFlags.Object) !== 0 &&
      !checker.isArrayType(member) &&
      checker.getPropertiesOfType(member).length > 0 &&
      // A map type (`{ [key: string]: string }`) has no fixed fields to list.
      checker.getIndexInfosOfType(member).length === 0,
  );
}

let program: { checker: ts.TypeChecker; typeOf(name: string): ts.Type } | undefined;

/** One compiler program over a file that names each params type through the SDK's own exports. */
function paramsProgram() {
  if (program) return program;
  const require = createRequire(import.meta.url);
  const sdkIndex = require.resolve('@metronome/sdk');
  const probe = path.join(path.dirname(sdkIndex), '__allot_compat_probe__.ts');
  const source = `import Metronome from '@metronome/sdk';
import { VERSION } from '@metronome/sdk/version';\nexport type Probe<T extends string> = T;\n`;
  const options: ts.CompilerOptions = { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true, noEmit: true, skipLibCheck: true };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (file) => (file === probe ? source : readFile(file));
  host.fileExists = (file) => file === probe || fileExists(file);
  host.getSourceFile = (file, language) => (file === probe ? ts.createSourceFile(file, source, language) : getSourceFile(file, language));
  const compiled = ts.createProgram([probe], options, host);
  const checker = compiled.getTypeChecker();
  const probeFile = compiled.getSourceFile(probe)!;
  const metronome = checker.getSymbolAtLocation((probeFile.statements[0] as ts.ImportDeclaration).importClause!.name!)!;
  const namespace = checker.getAliasedSymbol(metronome);
  program = {
    checker,
    typeOf(name: string) {
      // `V1.ContractCreateParams` → Metronome.V1.ContractCreateParams, one namespace at a time.
      let symbol: ts.Symbol | undefined = namespace;
      for (const part of name.split('.')) {
        const exports: ts.Symbol[] = checker.getExportsOfModule(symbol!);
        symbol = exports.find((candidate) => candidate.name === part);
        if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
        if (!symbol) throw new Error(`@metronome/sdk exports no ${name}`);
      }
      return checker.getDeclaredTypeOfSymbol(symbol!);
    },
  };
  return program;
}

/**
 * The fields of a core call that need an entry of their own: every request field of its params
 * type, less those under a field Allot refuses whole (`overrides` refused, `overrides[].tiers`
 * needs no entry).
 */
export function fieldsNeedingEntries(typeName: string, refusedFields: Iterable<string>): string[] {
  const refusedSet = [...refusedFields];
  return sdkRequestFields(typeName, Infinity).filter(
    (field) => !refusedSet.some((refusedField) => field.startsWith(`${refusedField}.`) || field.startsWith(`${refusedField}[].`)),
  );
}

/** The installed version of `@metronome/sdk`. */
export function sdkVersion(): string {
  return VERSION;
}
