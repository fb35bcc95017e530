import { describe, expect, it } from 'vitest';
import { ConcordError, ErrorCode, isConcordError } from '../../src/core/errors.js';
import { historyToJsonLines, type HistoryEvent } from '../../src/core/history.js';
import { pairEvents, parseEdn, parseEtcdLog, parseHistory, parseJepsenKv, parseJsonLines, EdnKeyword } from '../../src/check/index.js';

function malformed(run: () => unknown): ConcordError {
  try {
    run();
  } catch (error) {
    if (isConcordError(error, ErrorCode.MalformedInput)) return error;
    throw error;
  }
  throw new Error('expected a MALFORMED_INPUT error');
}

describe('etcd log reader', () => {
  it('reads tab-separated lines', () => {
    const text = ['INFO  jepsen.util - 2\t:invoke\t:cas\t[3 0]', 'INFO  jepsen.util - 2\t:ok\t:cas\t[3 0]', 'INFO  jepsen.util - 0\t:invoke\t:read\tnil', 'INFO  jepsen.util - 0\t:ok\t:read\t4', ''].join('\n');
    const { events, lines } = parseEtcdLog(text, 'x.log');
    expect(events).toEqual([
      { process: 2, type: 'invoke', f: 'cas', value: [3, 0], time: 1 },
      { process: 2, type: 'ok', f: 'cas', value: [3, 0], time: 2 },
      { process: 0, type: 'invoke', f: 'read', value: null, time: 3 },
      { process: 0, type: 'ok', f: 'read', value: 4, time: 4 },
    ]);
    expect(lines).toEqual([1, 2, 3, 4]);
  });

  it('reads space-separated lines (etcd_100–102) and keyword results as errors', () => {
    const text = ['INFO  jepsen.util - 17  :invoke :read   nil', 'INFO  jepsen.util - 17  :fail   :read   :timed-out', 'INFO  jepsen.util - 1   :invoke :write  3', 'INFO  jepsen.util - 1   :info   :write  :timed-out'].join('\n');
    const { events } = parseEtcdLog(text);
    expect(events[1]).toEqual({ process: 17, type: 'fail', f: 'read', value: null, time: 2, error: 'timed-out' });
    expect(events[3]).toEqual({ process: 1, type: 'info', f: 'write', value: null, time: 4, error: 'timed-out' });
  });

  it('skips nemesis lines and blank lines, keeping line numbers', () => {
    const text = 'INFO  jepsen.util - :nemesis\t:info\t:start\tnil\n\nINFO  jepsen.util - 3\t:invoke\t:write\t1\n';
    const { events, lines } = parseEtcdLog(text);
    expect(events).toHaveLength(1);
    expect(lines).toEqual([3]);
  });

  it('names the file, the line and what was expected for a malformed line', () => {
    const error = malformed(() => parseEtcdLog('INFO  jepsen.util - 1\t:invoke\t:write\t1\nthis is not a jepsen line\n', 'etcd_x.log'));
    expect(error.message).toMatch(/^etcd_x\.log:2: expected an op line/);
    expect(error.details).toMatchObject({ file: 'etcd_x.log', line: 2 });
  });

  it('rejects an unknown event type, a bad process and a bad value', () => {
    expect(malformed(() => parseEtcdLog('INFO  jepsen.util - 1\t:done\t:read\tnil', 'a.log')).message).toMatch(/a\.log:1: expected an event type/);
    expect(malformed(() => parseEtcdLog('INFO  jepsen.util - p1\t:invoke\t:read\tnil', 'a.log')).message).toMatch(/expected a process number/);
    expect(malformed(() => parseEtcdLog('INFO  jepsen.util - 1\t:invoke\t:write\t{1}', 'a.log')).message).toMatch(/a\.log:1: expected a value/);
    expect(malformed(() => parseEtcdLog('INFO  jepsen.util - 1\t:invoke\t:write\t:timed-out', 'a.log')).message).toMatch(/expected an invocation value/);
  });
});

describe('EDN reader', () => {
  it('parses maps, vectors, keywords, strings with escapes, numbers, nil and booleans', () => {
    const value = parseEdn('{:a [1 -2 3.5], :b "q\\"x\\\\y\\n", :c nil, :d true, :e :kw}') as Map<unknown, unknown>;
    expect(value.get(':a')).toEqual([1, -2, 3.5]);
    expect(value.get(':b')).toBe('q"x\\y\n');
    expect(value.get(':c')).toBeNull();
    expect(value.get(':d')).toBe(true);
    expect(value.get(':e')).toBeInstanceOf(EdnKeyword);
  });

  it('rejects unterminated input and trailing text', () => {
    expect(() => parseEdn('{:a "x}')).toThrow(/closing quote/);
    expect(() => parseEdn('[1 2')).toThrow(/']'/);
    expect(() => parseEdn('{:a 1} x')).toThrow(/end of the line/);
    expect(() => parseEdn('{:a}')).toThrow(/value after the map key/);
  });
});

describe('Jepsen KV (EDN) reader', () => {
  it('reads the Porcupine KV format', () => {
    const text = ['{:process 9, :type :invoke, :f :append, :key "0", :value "x 9 0 y"}', '{:process 9, :type :ok, :f :append, :key "0", :value "x 9 0 y"}', '{:process 4, :type :invoke, :f :get, :key "5", :value nil}', '{:process 4, :type :ok, :f :get, :key "5", :value ""}'].join('\n');
    const { events } = parseJepsenKv(text);
    expect(events[0]).toEqual({ process: 9, type: 'invoke', f: 'append', key: '0', value: 'x 9 0 y', time: 1 });
    expect(events[3]).toEqual({ process: 4, type: 'ok', f: 'get', key: '5', value: '', time: 4 });
  });

  it('turns a keyword completion value into an error and skips the nemesis', () => {
    const text = '{:process :nemesis, :type :info, :f :start, :value nil}\n{:process 1, :type :invoke, :f :put, :key "a", :value "v"}\n{:process 1, :type :info, :f :put, :key "a", :value :timed-out}';
    const { events, lines } = parseJepsenKv(text);
    expect(lines).toEqual([2, 3]);
    expect(events[1]).toEqual({ process: 1, type: 'info', f: 'put', key: 'a', value: null, time: 3, error: 'timed-out' });
  });

  it('reports malformed lines with file, line and expectation', () => {
    expect(malformed(() => parseJepsenKv('{:process 1, :type :invoke, :f :get, :key "0", :value nil}\n{:process 1, :type :ok, :f :get, :key "0", :value "x}', 'c.txt')).message).toMatch(
      /^c\.txt:2: expected an EDN map .*closing quote/,
    );
    expect(malformed(() => parseJepsenKv('[1 2 3]', 'c.txt')).message).toMatch(/^c\.txt:1: expected an EDN map/);
    expect(malformed(() => parseJepsenKv('{:process "one", :type :invoke, :f :get}', 'c.txt')).message).toMatch(/:process with an integer/);
    expect(malformed(() => parseJepsenKv('{:process 1, :type :begin, :f :get}', 'c.txt')).message).toMatch(/:type with :invoke/);
    expect(malformed(() => parseJepsenKv('{:process 1, :type :invoke, :f "get"}', 'c.txt')).message).toMatch(/:f with a keyword/);
  });
});

describe('JSON-lines reader', () => {
  const events: HistoryEvent[] = [
    { process: 0, type: 'invoke', f: 'put', key: 'k', value: 'v', time: 10 },
    { process: 0, type: 'ok', f: 'put', key: 'k', value: null, time: 20 },
    { process: 1, type: 'invoke', f: 'get', key: 'k', value: null, time: 15 },
    { process: 1, type: 'info', f: 'get', key: 'k', value: null, time: 30, error: 'TIMEOUT' },
  ];

  it('round-trips historyToJsonLines', () => {
    expect(parseJsonLines(historyToJsonLines(events)).events).toEqual(events);
    expect(parseHistory(historyToJsonLines(events), 'jsonl').events).toEqual(events);
  });

  it('reports malformed lines', () => {
    const good = JSON.stringify(events[0]);
    expect(malformed(() => parseJsonLines(`${good}\n{"process": 1,`, 'h.jsonl')).message).toMatch(/^h\.jsonl:2: expected a JSON history event/);
    expect(malformed(() => parseJsonLines('{"process": 1.5, "type": "invoke", "f": "get", "value": null, "time": 1}', 'h.jsonl')).message).toMatch(/"process" with an integer/);
    expect(malformed(() => parseJsonLines('{"process": 1, "type": "begin", "f": "get", "value": null, "time": 1}', 'h.jsonl')).message).toMatch(/"type" with/);
    expect(malformed(() => parseJsonLines('{"process": 1, "type": "invoke", "f": "get", "value": null}', 'h.jsonl')).message).toMatch(/"time" with a finite number/);
    expect(malformed(() => parseJsonLines('{"process": 1, "type": "invoke", "f": "get", "time": 1}', 'h.jsonl')).message).toMatch(/"value"/);
    expect(malformed(() => parseJsonLines('[1]', 'h.jsonl')).message).toMatch(/h\.jsonl:1/);
  });
});

describe('pairing invocations with completions', () => {
  it('keeps info and never-completed operations open to the end', () => {
    const operations = pairEvents([
      { process: 0, type: 'invoke', f: 'write', value: 1, time: 1 },
      { process: 1, type: 'invoke', f: 'write', value: 2, time: 2 },
      { process: 0, type: 'info', f: 'write', value: null, time: 3, error: 'timed-out' },
      { process: 2, type: 'invoke', f: 'read', value: null, time: 4 },
      { process: 2, type: 'ok', f: 'read', value: 1, time: 5 },
    ]);
    expect(operations.map((operation) => [operation.process, operation.completion, operation.return])).toEqual([
      [0, 'info', Infinity],
      [1, 'open', Infinity],
      [2, 'ok', 5],
    ]);
    expect(operations[2]!.result).toBe(1);
  });

  it('rejects a completion without invocation, a double invocation and a mismatched f, naming the line', () => {
    const lines = [7, 8];
    expect(malformed(() => pairEvents([{ process: 0, type: 'ok', f: 'read', value: 1, time: 1 }], { file: 'h', lines })).message).toMatch(/^h:7: expected an invocation by process 0/);
    expect(
      malformed(() =>
        pairEvents(
          [
            { process: 0, type: 'invoke', f: 'read', value: null, time: 1 },
            { process: 0, type: 'invoke', f: 'read', value: null, time: 2 },
          ],
          { file: 'h', lines },
        ),
      ).message,
    ).toMatch(/^h:8: expected a completion of process 0's open read/);
    expect(
      malformed(() =>
        pairEvents([
          { process: 0, type: 'invoke', f: 'read', value: null, time: 1 },
          { process: 0, type: 'ok', f: 'write', value: 1, time: 2 },
        ]),
      ).message,
    ).toMatch(/event 1: expected a completion of read/);
  });
});
