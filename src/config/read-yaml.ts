import {
  Composer,
  CST,
  type Document,
  isAlias,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  Lexer,
  Parser,
  YAMLParseError,
} from 'yaml';
import type { ConfigPath } from './config-issue.ts';

/** How deep a configuration may nest mappings and lists; a real one needs about six levels. */
export const MAX_NESTING = 64;

/**
 * How many copies `*alias` references may expand to in all (the yaml library's
 * `maxAliasCount`): a few shared lists are fine, a "billion laughs" is not.
 */
export const MAX_ALIAS_COUNT = 100;

export type YamlRead =
  | {
      readonly ok: true;
      readonly value: unknown;
      /** Where the deepest node along `path` starts in the text; -1 when the path is not there. */
      readonly offsetOf: (path: ConfigPath) => number;
    }
  | { readonly ok: false; readonly issues: readonly string[] };

const TOO_DEEP = `nested more than ${MAX_NESTING} levels deep; a configuration needs a few`;

/**
 * Parses configuration text as one YAML document into plain values. Whatever the text holds,
 * the answer is a value or a list of problems, each `line L, column C: …` where it has a place:
 * syntax errors, duplicate keys, nesting deeper than `MAX_NESTING` (refused before the parser
 * spends time on it), aliases that expand beyond `MAX_ALIAS_COUNT`, and an alias inside its own
 * anchor (a value that would contain itself).
 */
export function readYaml(text: string): YamlRead {
  const where = positionsIn(text);
  const parsed = parseOneDocument(text);
  if (!parsed.ok) return { ok: false, issues: [where(parsed.tooDeepAt) + TOO_DEEP] };
  const { document } = parsed;
  const exhausted = document.errors.find((error) => error.code === 'RESOURCE_EXHAUSTION');
  if (exhausted) return { ok: false, issues: [where(exhausted.pos[0]) + TOO_DEEP] };
  const problems = [
    ...document.errors.map((error) => ({
      offset: error.pos[0],
      message: error.message,
    })),
    ...duplicateKeys(document),
  ];
  if (problems.length > 0) {
    return {
      ok: false,
      issues: problems
        .sort((a, b) => a.offset - b.offset)
        .map((problem) => where(problem.offset) + problem.message),
    };
  }

  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      issues: [
        /alias count/i.test(message)
          ? `too many aliases: the *references in this file would expand to more than ${MAX_ALIAS_COUNT} copies (the limit of the YAML reader, maxAliasCount); write the values out instead`
          : `the file cannot be read as YAML: ${message}`,
      ],
    };
  }

  const offsetOf = nodeOffsets(document);
  const shape = checkShape(value);
  if (shape === undefined) return { ok: true, value, offsetOf };
  if (shape.problem === 'cycle') {
    return {
      ok: false,
      issues: [
        `${positionOf(offsetOf, where, shape.path)}an alias refers to the value it is inside of (*name within &name), so the value would contain itself`,
      ],
    };
  }
  return { ok: false, issues: [`${positionOf(offsetOf, where, shape.path)}${TOO_DEEP}`] };
}

/**
 * What `parseDocument` does, with the lexemes checked on their way to the parser: a flow
 * collection (`[` or `{`) opened deeper than `MAX_NESTING` stops the parse there, before the
 * parser spends its time on it. Duplicate keys are left to `duplicateKeys`: the library's own
 * check compares every key of a mapping with every other.
 */
function parseOneDocument(
  text: string,
):
  | { readonly ok: true; readonly document: Document }
  | { readonly ok: false; readonly tooDeepAt: number } {
  const parser = new Parser();
  const composer = new Composer({ uniqueKeys: false, prettyErrors: false });
  let depth = 0;
  let offset = 0;
  let scalarNext = false;
  let tooDeepAt: number | undefined;
  function* tokens(): Generator<CST.Token> {
    for (const lexeme of new Lexer().lex(text)) {
      if (scalarNext) scalarNext = false;
      else {
        const type = CST.tokenType(lexeme);
        if (type === 'scalar') scalarNext = true;
        else if (type === 'flow-map-start' || type === 'flow-seq-start') depth += 1;
        else if (type === 'flow-map-end' || type === 'flow-seq-end') depth = Math.max(0, depth - 1);
        if (depth > MAX_NESTING) {
          tooDeepAt = offset;
          return;
        }
      }
      offset += lexeme.length;
      yield* parser.next(lexeme);
    }
    yield* parser.end();
  }
  let document: Document | undefined;
  for (const next of composer.compose(tokens(), true, text.length)) {
    if (tooDeepAt !== undefined) break;
    if (!document) document = next;
    else {
      const range = next.range ?? [0, 0];
      document.errors.push(
        new YAMLParseError(
          [range[0], range[1]],
          'MULTIPLE_DOCS',
          'the file holds more than one YAML document (a line "---" starts another); a configuration is one',
        ),
      );
      break;
    }
  }
  if (tooDeepAt !== undefined) return { ok: false, tooDeepAt };
  // compose(…, forceDoc = true) always ends with a document.
  return { ok: true, document: document as Document };
}

type ShapeProblem = { readonly problem: 'cycle' | 'depth'; readonly path: ConfigPath };

/**
 * Walks the parsed value without recursion: a value nested deeper than `MAX_NESTING` (block
 * indentation, or aliases stacked on each other) or containing itself (an alias inside its own
 * anchor) is a problem at the path where it shows.
 */
function checkShape(root: unknown): ShapeProblem | undefined {
  type Frame = {
    readonly node: object;
    readonly path: ConfigPath;
    readonly children: Iterator<[string | number, unknown]>;
  };
  if (root === null || typeof root !== 'object') return undefined;
  const onPath = new Set<object>([root]);
  const stack: Frame[] = [{ node: root, path: [], children: entriesOf(root) }];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1] as Frame;
    const next = frame.children.next();
    if (next.done) {
      onPath.delete(frame.node);
      stack.pop();
      continue;
    }
    const [key, child] = next.value;
    if (child === null || typeof child !== 'object') continue;
    const path = [...frame.path, key];
    if (onPath.has(child)) return { problem: 'cycle', path };
    if (stack.length >= MAX_NESTING) return { problem: 'depth', path };
    onPath.add(child);
    stack.push({ node: child, path, children: entriesOf(child) });
  }
  return undefined;
}

function entriesOf(node: object): Iterator<[string | number, unknown]> {
  return Array.isArray(node) ? node.entries() : Object.entries(node)[Symbol.iterator]();
}

/** `line 3, column 5: ` for the deepest node along `path` the document has, or nothing. */
function positionOf(
  offsetOf: (path: ConfigPath) => number,
  where: Where,
  path: ConfigPath,
): string {
  const offset = offsetOf(path);
  return offset < 0 ? '' : where(offset);
}

/**
 * Where the deepest node along a path starts. Each mapping's keys are indexed the first time a
 * path goes through it, so finding many paths costs about one pass over the document, where
 * `Document.getIn` searches a mapping's keys one by one each time.
 */
function nodeOffsets(document: Document): (path: ConfigPath) => number {
  const indexes = new WeakMap<object, Map<string, unknown>>();
  const child = (node: unknown, key: string | number): unknown => {
    if (isSeq(node)) return typeof key === 'number' ? node.items[key] : undefined;
    if (!isMap(node)) return undefined;
    let index = indexes.get(node);
    if (!index) {
      index = new Map();
      for (const pair of node.items) {
        const name = isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (name !== undefined && !index.has(name)) index.set(name, pair.value);
      }
      indexes.set(node, index);
    }
    return index.get(String(key));
  };
  return (path) => {
    let offset = -1;
    let node: unknown = document.contents;
    for (const key of path) {
      node = child(node, key);
      if (!isNode(node) || !node.range) break;
      offset = node.range[0];
    }
    return offset;
  };
}

/**
 * Every key that appears again in the same mapping, at the later one: `duplicate key "x"`.
 * Keys are compared as they become object keys (`1` and `"1"` are the same key).
 */
function duplicateKeys(document: Document): { offset: number; message: string }[] {
  const found: { offset: number; message: string }[] = [];
  const pending: unknown[] = [document.contents];
  while (pending.length > 0) {
    const node = pending.pop();
    if (isSeq(node)) for (const item of node.items) pending.push(item);
    else if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = pair.key;
        if (isScalar(key)) {
          const name = String(key.value);
          if (name === '__proto__') {
            found.push({
              offset: key.range?.[0] ?? 0,
              message:
                'the key "__proto__" cannot be used: it names an object\'s prototype in JavaScript, and reading the file would drop it',
            });
          } else if (seen.has(name)) {
            found.push({
              offset: key.range?.[0] ?? 0,
              message: `duplicate key ${JSON.stringify(name)}; a key may appear only once in a mapping`,
            });
          }
          seen.add(name);
        } else if (!isAlias(key)) pending.push(key);
        pending.push(pair.value);
      }
    }
  }
  return found;
}

type Where = (offset: number) => string;

/** `line L, column C: ` for an offset into `text`; the line starts are found once, when asked. */
function positionsIn(text: string): Where {
  let lineStarts: number[] | undefined;
  return (offset) => {
    if (!lineStarts) {
      lineStarts = [0];
      for (let index = text.indexOf('\n'); index >= 0; index = text.indexOf('\n', index + 1)) {
        lineStarts.push(index + 1);
      }
    }
    let low = 0;
    let high = lineStarts.length - 1;
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if ((lineStarts[middle] ?? 0) <= offset) low = middle;
      else high = middle - 1;
    }
    return `line ${low + 1}, column ${offset - (lineStarts[low] ?? 0) + 1}: `;
  };
}
