import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';

/** A server program a suite runs beside the app (coturn, Janus), in a temporary directory of its own. */
export interface Daemon {
  readonly running: boolean;
  /** The last 20,000 characters it printed, for the error when it does not come up. */
  output(): string;
  /** Sends `signal` (SIGKILL after 3 s) and resolves once it has exited; nothing if it is gone already. */
  end(signal: NodeJS.Signals): Promise<void>;
  /** SIGSTOPs it: it keeps its sockets open and answers nothing (a hung server) until end() wakes it. */
  freeze(): void;
}

/**
 * Spawns `binary`; should the test process exit without ending it (an uncaught error), it is killed and
 * `dir` removed, so nothing is left running or behind on the machine.
 */
export function spawnDaemon(binary: string, args: string[], dir: string, options: { cwd?: string } = {}): Daemon {
  const child = spawn(binary, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const killOnExit = () => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  let running = true;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (error) => {
      collect(Buffer.from(String(error)));
      resolve();
    });
  });
  void exited.then(() => {
    running = false;
    process.off('exit', killOnExit);
  });
  return {
    get running() {
      return running;
    },
    output: () => output,
    async end(signal) {
      if (!running) return;
      child.kill(signal);
      child.kill('SIGCONT'); // a frozen process handles the signal only once it runs again
      const killer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(killer);
    },
    freeze: () => child.kill('SIGSTOP'),
  };
}

/**
 * Waits until `answers()` holds, trying again every 20 ms; SIGKILLs the daemon and throws with its output
 * when it exits first or `timeoutMs` passes.
 */
export async function untilAnswering(daemon: Daemon, what: string, answers: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await answers())) {
    if (!daemon.running || Date.now() > deadline) {
      await daemon.end('SIGKILL');
      throw new Error(`${what} did not come up. Its output:\n${daemon.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
