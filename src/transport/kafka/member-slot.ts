/**
 * The group.instance.id of a consumer using static membership (KIP-345). It must come back when
 * the process is restarted, so the restarted member takes its partitions over at once instead of
 * waiting for the dead member's session to time out; and no two live members may share it, since
 * a duplicate fences the older member out of the group for good (a fatal error).
 *
 * So the id is the host name and the lowest slot free on this host for this group, a slot being
 * held by listening on a Unix socket named after the group and the slot number. The kernel
 * releases it when the process ends, even by kill -9, and the restarted process claims the same
 * slot again; a second process of the same group on the same host gets the next slot.
 */
import { createHash } from 'node:crypto';
import { connect, createServer, type Server } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { unlinkSync } from 'node:fs';

export interface MemberSlot {
  readonly instanceId: string;
  release(): Promise<void>;
}

const MAX_SLOTS = 64;

/** Claims the lowest free slot for `groupId` on this host; undefined if every slot is taken. */
export async function claimMemberSlot(groupId: string, host = hostname()): Promise<MemberSlot | undefined> {
  const tag = createHash('sha256').update(groupId).digest('hex').slice(0, 16);
  for (let n = 0; n < MAX_SLOTS; n++) {
    const server = await holdSocket(socketPath(tag, n));
    if (server) {
      return {
        instanceId: `sluice-${host}-${n}`,
        release: () => new Promise<void>((resolve) => server.close(() => resolve())),
      };
    }
  }
  return undefined;
}

// Linux's abstract socket namespace leaves nothing on disk, hence nothing stale after a crash.
// Elsewhere a socket file is used, and a file nobody listens on any more is taken over.
function socketPath(tag: string, n: number): string {
  return process.platform === 'linux' ? `\0sluice-member-${tag}-${n}` : join(tmpdir(), `sluice-member-${tag}-${n}.sock`);
}

async function holdSocket(path: string): Promise<Server | undefined> {
  const server = await listen(path);
  if (server || path.startsWith('\0')) return server;
  if (await answers(path)) return undefined;
  try {
    unlinkSync(path);
  } catch {
    return undefined;
  }
  return listen(path);
}

function listen(path: string): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', () => resolve(undefined));
    server.listen({ path, exclusive: true }, () => {
      server.unref();
      resolve(server);
    });
  });
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ path });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
