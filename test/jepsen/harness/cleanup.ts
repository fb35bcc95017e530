/**
 * Last-resort cleanup: everything a run creates (child processes, namespaces, bridges) registers
 * an undo action here. Runs normally tear down in `finally`; these actions also run when the test
 * process exits or is interrupted, so nothing outlives it. Actions must be synchronous and quiet.
 */
const actions = new Map<number, () => void>();
let nextId = 1;
let installed = false;

function runAll(): void {
  for (const [id, action] of [...actions].reverse()) {
    actions.delete(id);
    try {
      action();
    } catch {
      // keep going: every other action still runs
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      runAll();
      process.kill(process.pid, signal);
    });
  }
}

/** Registers an undo action; returns the function that unregisters it (once done normally). */
export function onExitCleanup(action: () => void): () => void {
  install();
  const id = nextId++;
  actions.set(id, action);
  return () => {
    actions.delete(id);
  };
}
