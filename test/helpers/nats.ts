import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { waitFor } from './wait.js';

const NATS_SERVER = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';

export interface NatsCluster {
  /** Each node's client URL, in start order. */
  urls: string[];
  /** Every node, comma-separated: what ALLOT_NATS_URL takes. */
  url: string;
  /** `kill -9` of one node (its store stays; it is not restarted). */
  kill(node: number): void;
  stop(): Promise<void>;
}

/** A free TCP port on the loopback interface (the system picks it; released before the caller binds it). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen({ port: 0, host: '127.0.0.1' }, () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts `size` nats-server processes with JetStream on loopback ports, each with a store in a
 * temporary directory, routed to each other as one cluster, and resolves once JetStream answers
 * through every node (the cluster has elected its meta leader). `stop()` ends them and removes
 * their stores.
 */
export async function startNatsCluster(size: number): Promise<NatsCluster> {
  const clientPorts = await Promise.all(Array.from({ length: size }, freePort));
  const clusterPorts = await Promise.all(Array.from({ length: size }, freePort));
  const dirs = await Promise.all(Array.from({ length: size }, () => mkdtemp(join(tmpdir(), 'allot-nats-'))));
  const routes = clusterPorts.map((port) => `nats://127.0.0.1:${port}`).join(',');
  const children: ChildProcess[] = [];
  const logs: string[] = Array.from({ length: size }, () => '');
  for (let node = 0; node < size; node++) {
    const args = ['-js', '-sd', dirs[node]!, '-a', '127.0.0.1', '-p', String(clientPorts[node]), '-n', `allot-test-${node}`];
    if (size > 1) args.push('--cluster_name', 'allot-test', '--cluster', `nats://127.0.0.1:${clusterPorts[node]}`, '--routes', routes);
    const child = spawn(NATS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk) => (logs[node] += chunk));
    child.stderr!.on('data', (chunk) => (logs[node] += chunk));
    children.push(child);
  }
  const urls = clientPorts.map((port) => `nats://127.0.0.1:${port}`);
  const stop = async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  };
  try {
    for (const url of urls) {
      await waitFor(
        async () => {
          const nc = await connect({ servers: url, reconnect: false, timeout: 1_000 }).catch(() => undefined);
          if (!nc) return false;
          try {
            await (await jetstreamManager(nc, { timeout: 1_000 })).getAccountInfo();
            return true;
          } catch {
            return false;
          } finally {
            await nc.close();
          }
        },
        { timeoutMs: 30_000, what: `JetStream on ${url}:\n${logs.join('\n')}` },
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    urls,
    url: urls.join(','),
    kill(node) {
      children[node]!.kill('SIGKILL');
    },
    stop,
  };
}
