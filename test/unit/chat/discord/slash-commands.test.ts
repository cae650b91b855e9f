import { describe, expect, it } from 'vitest';
import { commands } from '../../../../commands/index.ts';
import {
  commandText,
  quoteWord,
  slashCommands,
} from '../../../../src/chat/discord/slash-commands.ts';
import type {
  CommandSpec,
  FlagSpec,
  PositionalSpec,
} from '../../../../src/core/command-grammar.ts';
import { parseCommand } from '../../../../src/core/parse-command.ts';
import { tokenize } from '../../../../src/core/tokenize.ts';
import { interactionData } from '../../../support/fake-discord.ts';

/** A value the positional or flag accepts, as a person would pick it. */
function sample(arg: PositionalSpec | FlagSpec): string {
  const name = 'key' in arg ? arg.key : arg.name;
  const samples: Record<string, string> = {
    backup: 'bk_20261122T020000Z_full_7q3k',
    id: 'bk_20261122T020000Z_full_7q3k',
    request: 'apr_20261122T120000Z_7q3k9x',
    run: 'run_abc',
    item: '2',
    params: 'backup=latest reason=drill',
    reason: "it's the wrong backup",
    command: 'backup create',
    note: 'before "the" deploy\\now',
    components: 'app-db,cache',
    into: 'app-db=staging-db',
    'break-glass': 'prod is down',
    limit: '5',
    level: '2',
    step: '3',
  };
  return samples[name] ?? 'full';
}

describe('Discord slash commands from the grammar', () => {
  const registered = slashCommands(commands);

  it('keeps names, descriptions and option counts within Discord’s limits', () => {
    const check = (o: { name: string; description: string; options?: readonly unknown[] }) => {
      expect(o.name).toMatch(/^[-_a-z0-9]{1,32}$/);
      expect(o.description.length).toBeGreaterThanOrEqual(1);
      expect(o.description.length).toBeLessThanOrEqual(100);
      expect(o.options?.length ?? 0).toBeLessThanOrEqual(25);
      for (const child of (o.options ?? []) as (typeof o)[]) check(child);
    };
    for (const command of registered) check(command);
    expect(registered.length).toBeLessThanOrEqual(100);
  });

  it('puts required options before optional ones', () => {
    const leaves = registered.flatMap((c) =>
      c.options.some((o) => o.type === 1) ? c.options.map((o) => o.options ?? []) : [c.options],
    );
    for (const options of leaves) {
      const firstOptional = options.findIndex((o) => !o.required);
      if (firstOptional >= 0)
        expect(options.slice(firstOptional).some((o) => o.required)).toBe(false);
    }
  });

  it('asks for autocomplete on profiles, targets, drills, backup ids, requests and runbooks', () => {
    const option = (path: string[], name: string) => {
      const top = registered.find((c) => c.name === path[0]);
      const leaf = path[1] ? top?.options.find((o) => o.name === path[1])?.options : top?.options;
      return leaf?.find((o) => o.name === name);
    };
    expect(option(['backup', 'create'], 'profile')?.autocomplete).toBe(true);
    expect(option(['backup', 'show'], 'id')?.autocomplete).toBe(true);
    expect(option(['restore'], 'backup')?.autocomplete).toBe(true);
    expect(option(['restore'], 'profile')?.autocomplete).toBe(true);
    expect(option(['approve'], 'request')?.autocomplete).toBe(true);
    expect(option(['drill', 'run'], 'drill')?.autocomplete).toBe(true);
    expect(option(['runbook', 'start'], 'runbook')?.autocomplete).toBe(true);
    expect(option(['backup', 'list'], 'limit')).toMatchObject({ type: 4 });
    expect(option(['backup', 'prune'], 'dry-run')).toMatchObject({ type: 5 });
  });

  it.each(commands.map((c) => [c.path.join(' '), c] as const))(
    'maps a full option set of /%s back to text the parser accepts with the same arguments',
    (_, spec: CommandSpec) => {
      const words = [`/${spec.path.join(' ')}`];
      for (const p of spec.positionals) {
        const value = sample(p);
        words.push(...(p.arity === 'many' ? value.split(' ') : [value]).map(quoteWord));
      }
      for (const f of spec.flags) {
        words.push(`--${f.name}`);
        if (f.kind !== 'boolean') words.push(quoteWord(sample(f)));
      }
      const typed = words.join(' ');
      const expected = parseCommand(typed, commands);
      expect(expected.ok, JSON.stringify(expected)).toBe(true);

      const text = commandText(interactionData(typed, commands), commands);
      const parsed = parseCommand(text, commands);

      expect(parsed.ok, `${text}: ${JSON.stringify(parsed)}`).toBe(true);
      if (parsed.ok && expected.ok) {
        expect(parsed.command.path).toEqual(spec.path);
        expect(parsed.args).toEqual(expected.args);
      }
    },
  );

  it('maps a command with only its required options, and booleans left false', () => {
    const text = commandText(
      {
        name: 'backup',
        options: [
          { name: 'prune', type: 1, options: [{ name: 'dry-run', type: 5, value: false }] },
        ],
      },
      commands,
    );
    expect(text).toBe('/backup prune');
  });

  it('quotes words so the tokenizer reads them back unchanged', () => {
    for (const word of [
      'plain',
      'two words',
      '--looks-like-a-flag',
      'say "hi"',
      'back\\slash',
      "it's",
      '',
      '“curly”',
    ]) {
      const tokens = tokenize(quoteWord(word));
      expect(tokens.ok && tokens.tokens.map((t) => t.text)).toEqual([word]);
    }
  });
});
