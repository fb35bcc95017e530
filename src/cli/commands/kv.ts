import type { Command } from 'commander';
import { runClient, withClientOptions, type ClientFlags } from '../kv-options.js';

const print = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`);
};

/** `concord kv get|put|del|cas|list|watch` against a running cluster. */
export function registerKv(program: Command): void {
  const kv = program.command('kv').description('read and write keys of a running cluster');
  withClientOptions(kv.command('get <key>').description('read a key (linearizable unless --serializable)'))
    .option('--serializable', 'serve from the contacted replica (may be stale)')
    .action((key: string, flags: ClientFlags & { serializable?: boolean }) => runClient(flags, async (client) => {
      const entry = await client.get(key, { serializable: flags.serializable === true });
      if (entry === null) {
        process.stderr.write(`not found: ${key}\n`);
        process.exitCode = 1;
        return;
      }
      print(entry);
    }));
  withClientOptions(kv.command('put <key> <value>').description('write a key'))
    .action((key: string, value: string, flags: ClientFlags) => runClient(flags, async (client) => print(await client.put(key, value))));
  withClientOptions(kv.command('del <key>').alias('delete').description('delete a key'))
    .action((key: string, flags: ClientFlags) => runClient(flags, async (client) => print(await client.delete(key))));
  withClientOptions(kv.command('cas <key> <value>').description('compare-and-set: write only if the key holds --expected (or is absent with --absent)'))
    .option('--expected <value>', 'the value the key must hold')
    .option('--absent', 'the key must not exist')
    .action((key: string, value: string, flags: ClientFlags & { expected?: string; absent?: boolean }) => runClient(flags, async (client) => {
      if ((flags.expected === undefined) === (flags.absent !== true)) throw new Error('give exactly one of --expected <value> and --absent');
      const result = await client.cas(key, flags.absent === true ? null : flags.expected!, value);
      print(result);
      if (!result.succeeded) process.exitCode = 2;
    }));
  withClientOptions(kv.command('list [prefix]').description('list keys under a prefix'))
    .option('--limit <n>', 'at most n keys', '100')
    .option('--serializable', 'serve from the contacted replica')
    .action((prefix: string | undefined, flags: ClientFlags & { limit: string; serializable?: boolean }) => runClient(flags, async (client) => {
      print(await client.list(prefix ?? '', { limit: Number(flags.limit), serializable: flags.serializable === true }));
    }));
  withClientOptions(kv.command('watch [prefix]').description('print changes under a prefix until Ctrl-C'))
    .option('--revision <n>', 'start from this revision (default: from now on)', '0')
    .action((prefix: string | undefined, flags: ClientFlags & { revision: string }) => runClient(flags, async (client) => {
      const abort = new AbortController();
      process.once('SIGINT', () => abort.abort());
      await client.watch(prefix ?? '', Number(flags.revision), print, abort.signal);
    }));
}
