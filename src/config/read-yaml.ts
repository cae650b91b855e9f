import { CST, type Document, isNode, Lexer, parseDocument, type YAMLError } from 'yaml';
import type { ConfigPath } from './config-issue.ts';

/** How deep a configuration may nest mappings and lists; a real one needs about six levels. */
export const MAX_NESTING = 64;

/**
 * How many copies `*alias` references may expand to in all (the yaml library's
 * `maxAliasCount`): a few shared lists are fine, a "billion laughs" is not.
 */
export const MAX_ALIAS_COUNT = 100;

export type YamlRead =
  | { readonly ok: true; readonly document: Document; readonly value: unknown }
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
  const deepFlow = deepFlowOffset(text);
  if (deepFlow !== undefined) return { ok: false, issues: [at(text, deepFlow, TOO_DEEP)] };

  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const exhausted = document.errors.find((error) => error.code === 'RESOURCE_EXHAUSTION');
  if (exhausted) return { ok: false, issues: [at(text, exhausted.pos[0], TOO_DEEP)] };
  if (document.errors.length > 0) {
    return { ok: false, issues: document.errors.map((error) => yamlIssue(error, text)) };
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

  const shape = checkShape(value);
  if (shape === undefined) return { ok: true, document, value };
  if (shape.problem === 'cycle') {
    return {
      ok: false,
      issues: [
        `${positionOf(document, text, shape.path)}an alias refers to the value it is inside of (*name within &name), so the value would contain itself`,
      ],
    };
  }
  return { ok: false, issues: [`${positionOf(document, text, shape.path)}${TOO_DEEP}`] };
}

/**
 * The offset of the first `[` or `{` that opens a flow collection deeper than `MAX_NESTING`, by
 * the YAML lexer (so brackets inside quoted or block text do not count).
 */
function deepFlowOffset(text: string): number | undefined {
  let depth = 0;
  let offset = 0;
  let scalarNext = false;
  for (const lexeme of new Lexer().lex(text)) {
    if (scalarNext) {
      scalarNext = false;
    } else {
      const type = CST.tokenType(lexeme);
      if (type === 'scalar') scalarNext = true;
      else if (type === 'flow-map-start' || type === 'flow-seq-start') {
        depth += 1;
        if (depth > MAX_NESTING) return offset;
      } else if (type === 'flow-map-end' || type === 'flow-seq-end') depth = Math.max(0, depth - 1);
    }
    offset += lexeme.length;
  }
  return undefined;
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
function positionOf(document: Document, text: string, path: ConfigPath): string {
  for (let length = path.length; length > 0; length -= 1) {
    const node = document.getIn(path.slice(0, length), true);
    if (isNode(node) && node.range) return at(text, node.range[0], '');
  }
  return '';
}

/** `line L, column C: message` for an offset into `text`. */
function at(text: string, offset: number, message: string): string {
  let line = 1;
  let lineStart = 0;
  for (
    let index = text.indexOf('\n');
    index >= 0 && index < offset;
    index = text.indexOf('\n', index + 1)
  ) {
    line += 1;
    lineStart = index + 1;
  }
  return `line ${line}, column ${offset - lineStart + 1}: ${message}`;
}

/**
 * `line 3, column 5: <what yaml says>`. For a duplicate key the key is named, which the YAML
 * parser does not do.
 */
function yamlIssue(error: YAMLError, text: string): string {
  const position = error.linePos?.[0];
  const where = position ? `line ${position.line}, column ${position.col}: ` : '';
  const what = error.message.split(/ at line \d+, column \d+/)[0] ?? error.message;
  if (error.code === 'DUPLICATE_KEY' && position) {
    const line = text.split(/\r?\n/)[position.line - 1] ?? '';
    const key = /^\s*("[^"]*"|'[^']*'|[^:,{}[\]]+?)\s*:/.exec(line.slice(position.col - 1))?.[1];
    if (key)
      return `${where}duplicate key ${key.startsWith('"') ? key : JSON.stringify(key.replace(/^'|'$/g, ''))}; a key may appear only once in a mapping`;
  }
  return where + what;
}
