import { fork, type ChildProcess } from 'node:child_process';
import type { Command } from './load-commands.js';

/** A load-client.ts process: commands go over IPC, one at a time. */
export interface LoadClient {
  run<T>(command: Command): Promise<T>;
  stop(): Promise<void>;
}

export async function startLoadClient(): Promise<LoadClient> {
  const child: ChildProcess = fork(new URL('./load-client.ts', import.meta.url).pathname, [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`load client exited with ${code}`)));
  });
  let nextId = 0;
  return {
    run<T>(command: Command) {
      const id = (nextId += 1);
      return new Promise<T>((resolve, reject) => {
        const listener = (message: { id: number; result?: T; error?: string }) => {
          if (message.id !== id) return;
          child.off('message', listener);
          if (message.error !== undefined) reject(new Error(`load client: ${message.error}`));
          else resolve(message.result as T);
        };
        child.on('message', listener);
        child.send({ id, command });
      });
    },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
