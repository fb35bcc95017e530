import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { DeliveryConfig } from '../../../src/protocols/reliable-delivery/index.js';
import { DeliveryDriver, linkFilter, renderMessage } from './driver.js';

/**
 * Data-driven scripted tests (etcd `testdata/*.txt` style): each block is a command, `----`, and
 * the canonical output it must produce; blocks are separated by a blank line. Run with
 * `REWRITE=1 npx vitest run test/protocols/reliable-delivery/scripted.test.ts` to regenerate the
 * expectations after an intended change (then review the diff).
 */
const testdataDirectory = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const rewrite = process.env.REWRITE === '1';

interface Block {
  readonly command: string;
  readonly expected: string;
}

function parseBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  const lines = text.split('\n');
  let index = 0;
  while (index < lines.length) {
    const line = lines[index]!;
    if (line.trim() === '' || line.startsWith('#')) {
      index += 1;
      continue;
    }
    const separator = lines[index + 1];
    if (separator !== '----') throw new Error(`line ${index + 2}: expected ---- after command "${line}"`);
    index += 2;
    const expected: string[] = [];
    while (index < lines.length && lines[index]!.trim() !== '') expected.push(lines[index++]!);
    blocks.push({ command: line, expected: expected.join('\n') });
  }
  return blocks;
}

class Interpreter {
  private driver: DeliveryDriver | null = null;

  run(command: string): string {
    const [name, ...args] = command.trim().split(/\s+/);
    const driver = name === 'config' ? null : this.requireDriver();
    const before = driver?.transcript.length ?? 0;
    const extra = this.dispatch(name!, args);
    const produced = (this.driver?.transcript ?? []).slice(before);
    const lines = [...produced, ...extra];
    return lines.length === 0 ? '(nothing)' : lines.join('\n');
  }

  private dispatch(name: string, args: string[]): string[] {
    const driver = this.driver;
    switch (name) {
      case 'config':
        return this.configure(args);
      case 'send':
        driver!.send(args[0]!, args[1]!, args[2]!);
        return [];
      case 'deliver':
        return driver!.deliver(linkFilter(args[0]), args[1] === undefined ? Infinity : Number(args[1])) === 0 ? ['(no messages)'] : [];
      case 'settle':
        driver!.settle();
        return [];
      case 'drop':
        return [`dropped ${driver!.drop(linkFilter(args[0]), args[1] === undefined ? Infinity : Number(args[1]))}`];
      case 'dup':
        return [`duplicated ${driver!.duplicate(linkFilter(args[0]))}`];
      case 'reverse':
        driver!.reverse();
        return this.net();
      case 'net':
        return this.net();
      case 'tick':
        driver!.tick(Number(args[0]));
        return [];
      case 'crash':
        driver!.crash(args[0]!, Number(args[1] ?? 0));
        return [];
      case 'restart':
        driver!.restart(args[0]!);
        return [];
      case 'effects':
        return this.effects();
      case 'dedup':
        return [`${args[0]} from ${args[1]}: ${JSON.stringify(driver!.core(args[0]!).dedupState(args[1]!))}`];
      default:
        throw new Error(`unknown command ${name}`);
    }
  }

  private configure(args: string[]): string[] {
    const options: Record<string, string | number> = {};
    let nodes = 3;
    for (const arg of args) {
      const [key, value] = arg.split('=');
      if (key === 'nodes') nodes = Number(value);
      else options[key!] = key === 'mode' ? value! : Number(value);
    }
    this.driver = new DeliveryDriver({ nodes, config: options as Partial<DeliveryConfig> });
    return [`cluster ${[...this.driver.nodes.keys()].join(' ')} mode=${this.driver.config.mode}`];
  }

  private net(): string[] {
    const network = this.requireDriver().network;
    if (network.length === 0) return ['(empty)'];
    return network.map((envelope) => `${envelope.from}→${envelope.to} ${renderMessage(envelope.message)}`);
  }

  private effects(): string[] {
    const effects = [...this.requireDriver().effects()].sort(([a], [b]) => a.localeCompare(b));
    return effects.length === 0 ? ['(none applied)'] : effects.map(([appId, count]) => `${appId} applied ${count}×`);
  }

  private requireDriver(): DeliveryDriver {
    if (this.driver === null) throw new Error('start with a config command');
    return this.driver;
  }
}

describe('reliable-delivery scripted sequences', () => {
  const files = readdirSync(testdataDirectory).filter((file) => file.endsWith('.txt')).sort();
  it('has testdata', () => expect(files.length).toBeGreaterThan(0));

  for (const file of files) {
    it(file, () => {
      const path = join(testdataDirectory, file);
      const text = readFileSync(path, 'utf8');
      const interpreter = new Interpreter();
      const blocks = parseBlocks(text);
      const actual = blocks.map((block) => ({ command: block.command, output: interpreter.run(block.command) }));
      if (rewrite) {
        writeFileSync(path, rewriteFile(text, actual));
        return;
      }
      for (const [index, block] of blocks.entries()) {
        expect(`${block.command}\n${actual[index]!.output}`).toBe(`${block.command}\n${block.expected}`);
      }
    });
  }
});

/** Keeps comments and commands, replaces each expected output. */
function rewriteFile(text: string, actual: { command: string; output: string }[]): string {
  const lines = text.split('\n');
  const result: string[] = [];
  let blockIndex = 0;
  let index = 0;
  while (index < lines.length) {
    const line = lines[index]!;
    if (line.trim() === '' || line.startsWith('#')) {
      result.push(line);
      index += 1;
      continue;
    }
    result.push(line, '----', actual[blockIndex++]!.output);
    index += 2;
    while (index < lines.length && lines[index]!.trim() !== '') index += 1;
  }
  return result.join('\n');
}
